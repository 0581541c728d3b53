"""The PostgreSQL warehouse: versioned migrations, the product tables, analyst views and the data dictionary.

Submodules: ``migrate`` (apply_migrations and the ``python -m`` command), ``product_ddl`` (renders the product
tables' migration from the registry), ``dictionary`` (renders docs/data-dictionary.md). The loader lives in
``load`` and relies on the DDL contract these migrations implement.
"""
