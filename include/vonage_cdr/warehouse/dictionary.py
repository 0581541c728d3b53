"""Generate docs/data-dictionary.md: what every table, view and column means, where it comes from, how fresh.

Why generated: a hand-written dictionary drifts from the schema within weeks. This one is rendered from the
product registry (product tables: type, wire field, meaning) and from the ``COMMENT ON`` statements of the
migrations (operations tables and analyst views), so it says exactly what the database says.
``tests/warehouse/test_dictionary.py`` fails when the committed file is stale.

    python -m include.vonage_cdr.warehouse.dictionary            # rewrite docs/data-dictionary.md
    python -m include.vonage_cdr.warehouse.dictionary --check    # exit 1 when it is out of date
    python -m include.vonage_cdr.warehouse.dictionary --dsn URL  # take comments and types from a migrated DB
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from include.vonage_cdr.products import PRODUCTS, Product
from include.vonage_cdr.warehouse.migrate import MIGRATIONS_DIR, discover, libpq_dsn
from include.vonage_cdr.warehouse.product_ddl import (
    table_comment,
    technical_column_comments,
)

ROOT = Path(__file__).resolve().parents[3]
DICTIONARY_FILE = ROOT / "docs" / "data-dictionary.md"

_COMMENT = re.compile(
    r"COMMENT ON (?P<kind>TABLE|VIEW|COLUMN) (?P<target>[a-z_][a-z0-9_.]*)\s+IS\s+"
    r"(?P<text>(?:'(?:[^']|'')*'\s*)+);",
)
_CREATE_TABLE = re.compile(
    r"CREATE TABLE (?:IF NOT EXISTS )?(?P<name>cdr\.[a-z_]+) \((?P<body>.*?)\n\)", re.S
)
_ADD_COLUMN = re.compile(
    r"ALTER TABLE (?P<table>cdr\.[a-z_]+) ADD COLUMN (?:IF NOT EXISTS )?(?P<name>[a-z_][a-z0-9_]*) "
    r"(?P<type>bigserial|double precision|[a-z]+(?:\[\])?)"
)
_CREATE_VIEW = re.compile(r"CREATE (?:OR REPLACE )?VIEW (?P<name>analytics\.[a-z_]+) AS")
_DROP_VIEW = re.compile(
    r"DROP VIEW (?:IF EXISTS )?(?P<names>analytics\.[a-z_]+(?:\s*,\s*analytics\.[a-z_]+)*)"
)
_COLUMN_LINE = re.compile(
    r"^\s+(?P<name>[a-z_][a-z0-9_]*) (?P<type>bigserial|double precision|[a-z]+(?:\[\])?)", re.M
)


@dataclass
class Relation:
    """A table or view with its comment and its columns (name -> [type, comment]) in order."""

    name: str
    kind: str  # "table" or "view"
    comment: str = ""
    columns: dict[str, list[str]] = field(default_factory=dict)


def _unquote(literals: str) -> str:
    parts = re.findall(r"'((?:[^']|'')*)'", literals)
    return "".join(p.replace("''", "'") for p in parts)


def catalog_from_migrations(directory: Path = MIGRATIONS_DIR) -> dict[str, Relation]:
    """Tables and views of schemas cdr/analytics with comments, parsed from the migration files.

    Statements are applied in file order, so a later migration that drops and re-creates a view (its
    columns changed) replaces the earlier definition and comments instead of adding to them.
    """
    relations: dict[str, Relation] = {}
    for migration in discover(directory):
        text = migration.text
        statements = sorted(
            [(m.start(), "table", m) for m in _CREATE_TABLE.finditer(text)]
            + [(m.start(), "add_column", m) for m in _ADD_COLUMN.finditer(text)]
            + [(m.start(), "view", m) for m in _CREATE_VIEW.finditer(text)]
            + [(m.start(), "drop", m) for m in _DROP_VIEW.finditer(text)]
            + [(m.start(), "comment", m) for m in _COMMENT.finditer(text)],
            key=lambda item: item[0],
        )
        for _, kind, match in statements:
            if kind == "table":
                relation = relations.setdefault(match["name"], Relation(match["name"], "table"))
                for column in _COLUMN_LINE.finditer(match["body"]):
                    if column["name"] in {"constraint", "primary"}:
                        continue
                    relation.columns.setdefault(column["name"], [column["type"], ""])
                continue
            if kind == "add_column":
                relation = relations.setdefault(match["table"], Relation(match["table"], "table"))
                relation.columns.setdefault(match["name"], [match["type"], ""])
                continue
            if kind == "view":
                relations.setdefault(match["name"], Relation(match["name"], "view"))
                continue
            if kind == "drop":
                for name in re.split(r"\s*,\s*", match["names"]):
                    relations.pop(name, None)
                continue
            target, comment = match["target"], _unquote(match["text"])
            if match["kind"] in {"TABLE", "VIEW"}:
                relations.setdefault(target, Relation(target, match["kind"].lower())).comment = comment
            else:
                schema, table, column = target.split(".")
                relation = relations.setdefault(f"{schema}.{table}", Relation(f"{schema}.{table}", "view"))
                relation.columns.setdefault(column, ["", ""])[1] = comment
    return relations


def catalog_from_database(dsn: str) -> dict[str, Relation]:
    """The same catalogue read from a migrated database (types included for views too)."""
    import psycopg

    query = """
        SELECT n.nspname || '.' || c.relname, CASE WHEN c.relkind = 'v' THEN 'view' ELSE 'table' END,
               coalesce(obj_description(c.oid, 'pg_class'), ''), a.attname,
               format_type(a.atttypid, a.atttypmod), coalesce(col_description(c.oid, a.attnum), '')
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE n.nspname IN ('cdr', 'analytics') AND c.relkind IN ('r', 'p', 'v') AND NOT c.relispartition
        ORDER BY 1, a.attnum
    """
    relations: dict[str, Relation] = {}
    with psycopg.connect(libpq_dsn(dsn)) as conn:
        for name, kind, comment, column, type_, column_comment_ in conn.execute(query):
            relation = relations.setdefault(name, Relation(name, kind, comment))
            relation.columns[column] = [type_, column_comment_]
    return relations


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


_RESTRICTED_INSERT = re.compile(r"INSERT INTO cdr\.restricted_column \([^)]*\) VALUES(?P<rows>.*?);", re.S)
_RESTRICTED_ROW = re.compile(r"\(\s*'(?P<table>[a-z_]+)',\s*'(?P<column>[a-z_]+)'")
RESTRICTED_NOTE = " **Restricted**: only the PII analyst role can read it (`cdr.restricted_column`)."


def restricted_columns_from_migrations(directory: Path = MIGRATIONS_DIR) -> set[tuple[str, str]]:
    """(table, column) pairs of schema cdr that analysts cannot read, as the migrations insert them."""
    found: set[tuple[str, str]] = set()
    for migration in discover(directory):
        for block in _RESTRICTED_INSERT.finditer(migration.text):
            found.update((m["table"], m["column"]) for m in _RESTRICTED_ROW.finditer(block["rows"]))
    return found


_VIDEO_FEATURE_INSERT = re.compile(r"INSERT INTO cdr\.video_feature \([^)]*\) VALUES(?P<rows>.*?);\n", re.S)
_VIDEO_FEATURE_ROW = re.compile(
    r"\(\s*'(?P<key>[^']*)',\s*'(?P<feature>[^']*)',\s*'(?P<measure>[^']*)',\s*(?P<text>(?:'(?:[^']|'')*'\s*)+)\)"
)


def video_features_from_migrations(directory: Path = MIGRATIONS_DIR) -> list[tuple[str, str, str, str]]:
    """(feature_key, feature, measure, meaning) rows of cdr.video_feature, as the migrations insert them."""
    found: list[tuple[str, str, str, str]] = []
    for migration in discover(directory):
        for block in _VIDEO_FEATURE_INSERT.finditer(migration.text):
            for m in _VIDEO_FEATURE_ROW.finditer(block["rows"]):
                found.append((m["key"], m["feature"], m["measure"], _unquote(m["text"])))
    return found


def _video_section(features: list[tuple[str, str, str, str]]) -> list[str]:
    lines = [
        "## Video API: what the events mean",
        "",
        "Each `cdr.video_api` row is one event; `analytics.video_usage_events` gives it a feature by its "
        "`feature_name` (case-insensitive, `_` read as a space) and the video views sum it as follows "
        "(`cdr.video_feature`). An event counts once, on the UTC day it started.",
        "",
        "| feature_name | Feature in the views | Measured as | Meaning |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {key} | `{feature}` | {measure} | {_cell(text)} |" for key, feature, measure, text in features
    ]
    return [*lines, ""]


def _relation_section(relation: Relation, restricted: set[tuple[str, str]] = frozenset()) -> list[str]:
    lines = [f"### `{relation.name}` ({relation.kind})", "", relation.comment or "(no comment)", ""]
    table = relation.name.removeprefix("cdr.")

    def meaning(column: str, text: str) -> str:
        return _cell(text) + (RESTRICTED_NOTE if (table, column) in restricted else "")

    if any(t for t, _ in relation.columns.values()):
        lines += ["| Column | Type | Meaning |", "|---|---|---|"]
        lines += [f"| `{c}` | {t} | {meaning(c, m)} |" for c, (t, m) in relation.columns.items()]
    else:  # views parsed from the migrations: their types are only known to a database (--dsn)
        lines += ["| Column | Meaning |", "|---|---|"]
        lines += [f"| `{c}` | {meaning(c, m)} |" for c, (_, m) in relation.columns.items()]
    return [*lines, ""]


def _freshness(product: Product) -> str:
    settle = (
        f"status and price can still change for {product.settles_within_hours} hours, so recent rows are "
        "re-read and updated"
        if product.settles_within_hours
        else "rows do not change after they appear"
    )
    return (
        f"Loaded daily from async reports after a settlement delay and every 5 minutes from sync records; "
        f"{settle}. Vonage keeps {_retention(product)}. Live lag: `analytics.freshness`."
    )


def _retention(product: Product) -> str:
    if product.retention_months is not None:
        return f"{product.retention_months} calendar months"
    return f"{product.retention_days} days"


def _columns_rule(product: Product) -> str:
    required = ", ".join(f"`{s}`" for s in product.required_sources)
    optional = ", ".join(f"`{s}`" for s in product.source_names if s in product.optional_sources)
    text = f"a file without {required} is refused (identity and billing need them)"
    if optional:
        text += f"; {optional} may be absent by design (their absence is not reported)"
    if product.inbound_sources is not None:
        text += "; inbound files carry fewer columns than outbound ones"
    return (
        text
        + ". Any other column a file lacks is listed in `cdr.load_ledger.missing_columns`; a column a file "
        "lacks keeps the value already stored"
    )


def _product_section(
    product: Product, relation: Relation | None = None, restricted: set[tuple[str, str]] = frozenset()
) -> list[str]:
    direction = {
        "required": "required (inbound and outbound are separate reports)",
        "optional": "optional",
        "forbidden": "not applicable",
    }[product.direction]
    lines = [
        f"### `cdr.{product.table}` (product {product.name})",
        "",
        table_comment(product),
        "",
        f"- Key: one row per `{product.record_id_column.name}` (a record whose event time changes is moved, "
        f"not duplicated); primary key `{product.record_id_column.name}` + `event_time` (the partition key); "
        f"event time = wire field `{product.event_time}` (the API's date filter); direction: {direction}.",
        f"- Columns: {_columns_rule(product)}.",
        f"- Freshness: {_freshness(product)}",
        "",
        "| Column | Type | Wire field | Meaning |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| `{c.name}` | {c.type} | `{c.source}` | {_cell(c.description)}"
        f"{RESTRICTED_NOTE if (product.table, c.name) in restricted else ''} |"
        for c in product.columns
    ]
    technical = technical_column_comments(product)
    lines += [f"| `{n}` | (load) | - | {_cell(t)} |" for n, t in technical.items()]
    if relation is not None:  # load columns added by later migrations, with their comments from there
        known = {*product.column_names, *technical}
        lines += [
            f"| `{n}` | (load) | - | {_cell(comment)} |"
            for n, (_type, comment) in relation.columns.items()
            if n not in known
        ]
    return [*lines, ""]


_PREAMBLE = """\
# Data dictionary: Vonage CDR warehouse

<!-- GENERATED by `python -m include.vonage_cdr.warehouse.dictionary` (or `make docs`) from
include/vonage_cdr/products.py and include/vonage_cdr/warehouse/migrations/*.sql. Do not edit by hand. -->

Call detail records (CDRs) of the Vonage Reports API, one typed table per product, and views for analysts.

## Where the data comes from and how fresh it is

- **Daily load** (mode `async`): for each product, account and direction an asynchronous Reports API report
  (CSV in a ZIP) covers a whole day once the day has settled (SMS, Messages and Verify statuses and prices
  can change for up to 72 hours, so recent days are re-read and rows updated in place).
- **Incremental load** (mode `sync`): every 5 minutes the synchronous records endpoint fills in the last
  minutes, so today's data is minutes old.
- Each row records how it was last loaded (`_source`), by which load (`_load_id` -> `cdr.load_ledger`) and
  when it first arrived / last changed. `analytics.freshness` shows, per stream, the newest event loaded and
  its lag behind now. Records the loader could not type are in `cdr.quarantine`, never silently dropped;
  fields Vonage adds later land in each table's `extras` JSON column until the registry knows them.
- Times are `timestamptz` (shown in your session time zone; stored exactly). Days, hours and months in the
  views are UTC. Prices are exact decimals in the record's `currency`.

## Access

- Schema `analytics`: views for analysts (start here). Schema `cdr`: the product tables and the load
  bookkeeping. The analyst role (`cdr_analyst` by default) can SELECT both schemas (except the restricted
  columns below) and nothing else; the loader role (`cdr_loader`) owns and writes them. Both are NOLOGIN
  roles created by the first migration.
- An administrator gives a person or service a login through membership, e.g.
  `CREATE ROLE alice LOGIN PASSWORD '...' IN ROLE cdr_analyst;` (analyst) or
  `CREATE ROLE airflow_etl LOGIN PASSWORD '...' IN ROLE cdr_loader;` (pipelines). Revoke with `DROP ROLE`.
- Filter on `event_time` (and `account_id`) when you can: product tables are partitioned by UTC month of
  `event_time`, indexed on account and event time (btree) and on event time (BRIN), so such queries read
  only the months, and within them the blocks, they need.
- **Private by default.** Message bodies and quarantined raw lines (the columns listed in
  `cdr.restricted_column`) are readable only by the PII analyst role (`cdr_analyst_pii` by default:
  `CDR_ANALYST_PII_ROLE`, else the analyst role's name + `_pii`), a member of the analyst role created by
  migration 0008; grant it with `GRANT cdr_analyst_pii TO alice;`. Analysts read product tables through the
  table, never through a monthly partition (`cdr.sms_p202611` is denied; `cdr.sms` with an `event_time`
  filter reads the same partition), and name their columns: `SELECT *` on `cdr.sms`, `cdr.messages` or
  `cdr.quarantine` is denied to them. No view in `analytics` exposes a restricted column. The pipeline asks
  Vonage for message bodies only when `CDR_INCLUDE_MESSAGE=true` (off by default).

## Rolling up without arithmetic traps

- **Ratios** (`delivery_rate`, `failure_rate`, `final_delivery_rate`) sit next to the counts they come
  from. To roll up, sum the numerator and the denominator, then divide: `sum(delivered_count) /
  sum(message_count)`. Never average a rate: hours or countries with few messages would weigh as much as
  busy ones.
- **Money** in the analytics views is rounded to its currency's minor unit (ISO 4217: EUR and USD 2
  decimals, JPY 0, KWD 3; `cdr.currency_minor_units`, 2 for any other code); each rounded column has an
  unrounded `*_exact` twin. To roll up, sum the `*_exact` column and round once at the end with
  `analytics.round_money(amount, currency)`. Per-record prices (`analytics.cdr.price`, the product tables)
  keep Vonage's full precision: rounding each CDR to cents would change totals.
- **Currency**: records whose `currency` is empty (e.g. NUMBER-INSIGHT, inbound SMS) are priced in the
  account's billing currency, the `billing_currency` row of `cdr.settings` (EUR by default); the billing
  views count them in `assumed_currency_cdr_count` instead of showing a NULL-currency row. Never add
  amounts of different currencies.
- **Video minutes** are `usage_seconds / 60`: sum `usage_seconds`, then divide; `usage_minutes` is rounded
  for reading. The video project is the Vonage application (`application_id`) whose session produced the
  event; a Video Session event marks the start of a meeting and has no duration, so meetings are counted,
  and minutes come from the timed features (`cdr.video_feature`).
- Distinct counts do not add up across rows; counts, seconds and `*_exact` amounts do.
"""


def render(relations: dict[str, Relation], restricted: set[tuple[str, str]] | None = None) -> str:
    restricted = restricted_columns_from_migrations() if restricted is None else restricted
    views = sorted((r for r in relations.values() if r.name.startswith("analytics.")), key=lambda r: r.name)
    product_tables = {f"cdr.{p.table}" for p in PRODUCTS.values()}
    operations = sorted(
        (r for r in relations.values() if r.name.startswith("cdr.") and r.name not in product_tables),
        key=lambda r: r.name,
    )
    lines = [_PREAMBLE]
    features = video_features_from_migrations()
    if features:
        lines += _video_section(features)
    lines += ["## Analyst views (schema `analytics`)", ""]
    for view in views:
        lines += _relation_section(view)
    lines += ["## Product tables (schema `cdr`)", ""]
    lines += [
        "One table per Reports API product, partitioned by UTC month of `event_time` (partitions named "
        "`<table>_pYYYYMM`, created up to 2 months ahead by the migrations and by each load for its own "
        "table through `cdr.ensure_product_partitions`).",
        "",
        "| Table | Product | Event time | Kept by Vonage |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| `cdr.{p.table}` | {p.name} | `{p.event_time}` | {_retention(p)} |" for p in PRODUCTS.values()
    ]
    lines.append("")
    for product in PRODUCTS.values():
        lines += _product_section(product, relations.get(f"cdr.{product.table}"), restricted)
    lines += ["## Load bookkeeping and settings (schema `cdr`)", ""]
    for relation in operations:
        lines += _relation_section(relation, restricted)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.vonage_cdr.warehouse.dictionary")
    parser.add_argument("--dsn", help="read comments and types from this migrated database instead")
    parser.add_argument("--output", type=Path, default=DICTIONARY_FILE)
    parser.add_argument("--check", action="store_true", help="exit 1 if the output file is out of date")
    args = parser.parse_args(argv)
    relations = catalog_from_database(args.dsn) if args.dsn else catalog_from_migrations()
    text = render(relations)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run `make docs`", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
