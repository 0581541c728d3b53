"""The floors a load is measured against: PostgreSQL's own COPY of the same decompressed CSV.

(a) one COPY into a table with the product table's columns and primary key only: what PostgreSQL needs to
    take the rows in, whatever loader is in front of it;
(b) the same into a copy of the real product table: its partitions and secondary indexes, read from the
    catalog of the migrated warehouse (so a changed index changes floor b too).

The CSV has no ``event_time`` column (the loader derives it from the product's event-time field), so both
floor tables key and partition on that field itself (``date_received`` for SMS); ``event_time`` stays NULL.
The statement is what ``psql \\copy ... (FORMAT csv, HEADER, FORCE_NULL ...)`` sends, streamed from the file.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
from psycopg import sql

from include.vonage_cdr.products import Product

__all__ = ["copy_csv", "create_floor_a", "create_floor_b", "drop_floors"]

SCHEMA = "bench"


def _base(conn: psycopg.Connection, name: str, product: Product, partitioned: bool) -> sql.Identifier:
    table = sql.Identifier(SCHEMA, name)
    event = product.event_time_column.name
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
    conn.execute(
        sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS) {}").format(
            table,
            sql.Identifier("cdr", product.table),
            sql.SQL("PARTITION BY RANGE ({})").format(sql.Identifier(event)) if partitioned else sql.SQL(""),
        )
    )
    conn.execute(
        sql.SQL(
            "ALTER TABLE {} ALTER COLUMN event_time DROP NOT NULL, ALTER COLUMN {} SET NOT NULL, "
            "ALTER COLUMN _source SET DEFAULT 'async', ALTER COLUMN _load_id SET DEFAULT 0"
        ).format(table, sql.Identifier(event))
    )
    return table


def create_floor_a(conn: psycopg.Connection, product: Product) -> sql.Identifier:
    table = _base(conn, "floor_a", product, partitioned=False)
    conn.execute(
        sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({}, {})").format(
            table,
            sql.Identifier(product.record_id_column.name),
            sql.Identifier(product.event_time_column.name),
        )
    )
    return table


def create_floor_b(conn: psycopg.Connection, product: Product) -> sql.Identifier:
    """A copy of ``cdr.<table>``: same month partitions, primary key and secondary indexes."""
    table = _base(conn, "floor_b", product, partitioned=True)
    event = product.event_time_column.name
    target = f"cdr.{product.table}"
    partitions = conn.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass ORDER BY 1",
        (target,),
    ).fetchall()
    for name, bound in partitions:
        conn.execute(
            sql.SQL("CREATE TABLE {} PARTITION OF {} {}").format(
                sql.Identifier(SCHEMA, f"floor_b_{name}"), table, sql.SQL(bound)
            )
        )
    indexes = conn.execute(
        "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass", (target,)
    ).fetchall()
    for (definition,) in indexes:
        body = re.sub(
            r"^CREATE (UNIQUE )?INDEX \S+ ON ONLY \S+", r"CREATE \1INDEX ON bench.floor_b", definition
        )
        conn.execute(body.replace("event_time", event))  # catalog text, not user input
    return table


def drop_floors(conn: psycopg.Connection) -> None:
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))


def copy_csv(conn: psycopg.Connection, table: sql.Identifier, product: Product, csv_path: Path) -> None:
    """Stream the CSV file into ``table`` with one COPY, like ``psql \\copy`` does."""
    columns = sql.SQL(", ").join(sql.Identifier(c.name) for c in product.columns)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, HEADER true, FORCE_NULL ({}))").format(
        table, columns, columns
    )
    with conn.cursor() as cur, cur.copy(statement) as copy, csv_path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            copy.write(chunk)
