"""The warehouse tables as Airflow Assets, shared by both DAGs so their events land on the same Asset.

An event's ``extra`` (built by ``pipeline_tasks.summarize_product``) tells a downstream DAG what changed:
``mode`` ("daily": a whole settled day was loaded; "sync": the incremental DAG's newest records),
``product``, ``day``/``days`` (daily), ``synced_until`` (sync), the row counts and the ``load_ids`` of the
``cdr.load_ledger`` rows.
"""

from __future__ import annotations

from airflow.sdk import Asset

from include.vonage_cdr.products import get_product


def product_asset(product: str) -> Asset:
    """The warehouse table of a product, as an Asset downstream DAGs can be scheduled on."""
    table = get_product(product).table
    return Asset(name=f"cdr.{table}", uri=f"postgres-warehouse://cdr/{table}", group="vonage_cdr")
