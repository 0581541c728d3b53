"""Render the product tables' migration (0003) and the cross-product view (0004) from the registry.

Why generated: the registry (Python) is the single source of column names, types and meanings, but migrations
must be plain, reviewable, versioned SQL. The output is committed; tests/warehouse/test_migrations.py fails
when the committed file differs from what this module renders, and checks the migrated tables column
for column.
Regenerate with ``python -m include.vonage_cdr.warehouse.product_ddl`` -- but only while 0003 is unapplied
anywhere: once released, registry changes go into a NEW migration (ALTER TABLE ... ADD COLUMN), and the runner
refuses a changed applied file.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

from include.vonage_cdr.products import PRODUCTS, Column, Product

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
PRODUCT_TABLES_FILE = MIGRATIONS_DIR / "0003_product_tables.sql"
CDR_VIEW_FILE = MIGRATIONS_DIR / "0004_analytics_cdr_view.sql"

#: SQL type per registry ColumnType ("numeric" stays unconstrained: exact decimals of any scale).
SQL_TYPES = {
    "text": "text",
    "timestamptz": "timestamptz",
    "integer": "integer",
    "bigint": "bigint",
    "numeric": "numeric",
    "boolean": "boolean",
}

#: the columns of analytics.cdr, with their SQL types, in order.
CDR_VIEW_COLUMNS: tuple[tuple[str, str], ...] = (
    ("product", "text"),
    ("record_id", "text"),
    ("account_id", "text"),
    ("event_time", "timestamptz"),
    ("direction", "text"),
    ("from_address", "text"),
    ("to_address", "text"),
    ("country", "text"),
    ("status", "text"),
    ("price", "numeric"),
    ("currency", "text"),
)

CDR_VIEW_COMMENT = "All CDRs of every product with their shared columns."

_HEADER = (
    "-- GENERATED from include/vonage_cdr/products.py by\n"
    "-- `python -m include.vonage_cdr.warehouse.product_ddl`.\n"
    "-- Do not edit by hand; tests/warehouse/test_migrations.py checks it matches the registry.\n"
)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def column_comment(product: Product, column: Column) -> str:
    """Comment text of a product column: its meaning plus where it comes from."""
    return f"{column.description} Source: {product.name} field `{column.source}`."


def table_comment(product: Product) -> str:
    return (
        f"{product.description} Reports API product {product.name}; one row per record "
        f"(key: id, event_time = `{product.event_time}`), monthly partitions, "
        f"kept {product.retention_days} days by Vonage."
    )


def _index_statements(product: Product) -> Iterable[str]:
    table = product.table
    yield f"CREATE INDEX {table}_event_time_idx ON cdr.{table} (event_time);"
    yield f"CREATE INDEX {table}_account_id_event_time_idx ON cdr.{table} (account_id, event_time);"
    if product.status_column:
        status = product.column(product.status_column).name
        yield f"CREATE INDEX {table}_{status}_event_time_idx ON cdr.{table} ({status}, event_time);"
    if product.country_column:
        country = product.column(product.country_column).name
        yield f"CREATE INDEX {table}_{country}_event_time_idx ON cdr.{table} ({country}, event_time);"


def technical_column_comments(product: Product) -> dict[str, str]:
    """Meaning of the columns every product table has besides the registry's (the load contract's)."""
    return {
        "event_time": f"Event time of the record (copy of `{product.event_time}`); partition key.",
        "extras": "Fields the API sent that the registry does not know, keyed by wire name (JSON).",
        "_source": "How the row was last loaded: async (daily CSV report) or sync (incremental JSON).",
        "_load_id": "Load that last wrote the row (cdr.load_ledger.load_id).",
        "_first_loaded_at": "When the row first reached the warehouse.",
        "_last_changed_at": "When a load last changed the row's values.",
    }


def render_table(product: Product) -> str:
    table = product.table
    lines = [f"    {c.name} {SQL_TYPES[c.type]}" for c in product.columns]
    lines += [
        "    event_time timestamptz NOT NULL",
        "    extras jsonb NOT NULL DEFAULT '{}'",
        "    _source text NOT NULL CHECK (_source IN ('async', 'sync'))",
        "    _load_id bigint NOT NULL",
        "    _first_loaded_at timestamptz NOT NULL DEFAULT now()",
        "    _last_changed_at timestamptz NOT NULL DEFAULT now()",
        f"    CONSTRAINT {table}_pkey PRIMARY KEY ({product.record_id_column.name}, event_time)",
    ]
    parts = [
        f"-- {product.name}",
        f"CREATE TABLE cdr.{table} (\n" + ",\n".join(lines) + "\n) PARTITION BY RANGE (event_time);",
        *_index_statements(product),
        f"COMMENT ON TABLE cdr.{table} IS {_literal(table_comment(product))};",
    ]
    parts += [
        f"COMMENT ON COLUMN cdr.{table}.{c.name} IS {_literal(column_comment(product, c))};"
        for c in product.columns
    ]
    for name, text in technical_column_comments(product).items():
        parts.append(f"COMMENT ON COLUMN cdr.{table}.{name} IS {_literal(text)};")
    return "\n".join(parts) + "\n"


def render_product_tables() -> str:
    body = "\n".join(render_table(p) for p in PRODUCTS.values())
    return (
        _HEADER
        + "-- One typed, monthly-partitioned table per Reports API product (runs as the loader role).\n\n"
        + body
        + "\n-- Partitions from 13 months back (Vonage's retention) to 2 months ahead; the pipelines call\n"
        + "-- cdr.ensure_partitions for the months after that.\n"
        + "SELECT cdr.ensure_partitions(\n"
        + "    date_trunc('month', now(), 'UTC') - interval '13 months',\n"
        + "    date_trunc('month', now(), 'UTC') + interval '2 months'\n"
        + ");\n"
    )


def _view_expression(product: Product, field: str | None, sql_type: str) -> str:
    if field is None:
        return f"NULL::{sql_type}"
    return product.column(field).name


def _status_expression(product: Product) -> str:
    # VERIFY-API sends `verify_status` (2021 spec) or `status` (newer SDKs); whichever arrived is the status.
    if product.has_column("verify_status") and product.has_column("status"):
        return "COALESCE(status, verify_status)"
    return _view_expression(product, product.status_column, "text")


def render_cdr_view() -> str:
    selects = []
    for product in PRODUCTS.values():
        direction = "direction" if product.has_column("direction") else "NULL::text"
        exprs = [
            _literal(product.name),
            product.record_id_column.name,
            "account_id",
            "event_time",
            direction,
            _view_expression(product, product.from_column, "text"),
            _view_expression(product, product.to_column, "text"),
            _view_expression(product, product.country_column, "text"),
            _status_expression(product),
            _view_expression(product, product.price_column, "numeric"),
            f"NULLIF({product.column(product.currency_column).name}, '')"
            if product.currency_column
            else "NULL::text",
        ]
        select = ",\n       ".join(
            f"{e} AS {name}" for e, (name, _) in zip(exprs, CDR_VIEW_COLUMNS, strict=True)
        )
        selects.append(f"SELECT {select}\nFROM cdr.{product.table}")
    comments = {
        "product": "Reports API product, e.g. SMS.",
        "record_id": "Record id (the product table's id).",
        "account_id": "Account or subaccount API key.",
        "event_time": "Event time (UTC) of the record: the product's date-filter column.",
        "direction": "inbound/outbound where the product has a direction, else NULL.",
        "from_address": "Sender where the product has one, else NULL.",
        "to_address": "Recipient where the product has one, else NULL.",
        "country": "Country code where the product has one, else NULL.",
        "status": "Status where the product has one, else NULL.",
        "price": "Total cost of the record in currency (NULL for products without a price).",
        "currency": "Currency of price; NULL when the product or the record gives none.",
    }
    return (
        _HEADER
        + "-- Every product in one view with the columns they share (NULL where a product lacks one).\n"
        + "-- Filters on event_time and account_id reach each product table's partitions and indexes.\n\n"
        + "CREATE VIEW analytics.cdr AS\n"
        + "\nUNION ALL\n".join(selects)
        + ";\n"
        + f"COMMENT ON VIEW analytics.cdr IS {_literal(CDR_VIEW_COMMENT)};\n"
        + "".join(f"COMMENT ON COLUMN analytics.cdr.{n} IS {_literal(t)};\n" for n, t in comments.items())
    )


def rendered_files() -> dict[Path, str]:
    return {PRODUCT_TABLES_FILE: render_product_tables(), CDR_VIEW_FILE: render_cdr_view()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed files are out of date")
    args = parser.parse_args(argv)
    stale = [path for path, text in rendered_files().items() if not path.exists() or path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"out of date: {path}")
        return 1 if stale else 0
    for path, text in rendered_files().items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
