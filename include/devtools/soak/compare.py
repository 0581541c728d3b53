"""Compare the warehouse with the simulator's ground truth: missing, duplicated, stale and unexpected records.

Why written apart from the pipeline: the expected typed values are derived from the simulator's records
(strings, as Vonage sends them) by a conversion that shares no code with the normalizer, so a normalizer
bug cannot hide itself. Definitions, per product and account over the soaked days:

* missing: a record of the ground truth with no row in the warehouse;
* duplicated: rows beyond the first for one record id (anywhere in the table, as one id stored under two
  event times would be);
* stale: a record present whose value of any registry column, or of a field kept in its extras, differs
  from the final ground truth (a NULL where Vonage has a value counts: an absent value is unknown, not NULL);
* leftover extras keys: extras keys the ground truth does not have. Extras keep every unknown field ever
  seen for a record (a key a later file lacks is unknown, so it stays), so a renamed column's values stay
  there under the new name after clean reloads. Counted and shown apart from stale, since no registry
  column and no field Vonage sends is wrong;
* unexpected: a row inside the soaked days whose id the ground truth does not have.

``checkpoint`` is the stricter check run right after each daily load of a day: the partition must equal the
ground truth as of its report's creation, except where the load itself said why not: rows it quarantined,
and for a column the file lacked (listed in the ledger) the value stored before the load, kept, or NULL
(unknown) for a record new in that load; a renamed column's values kept in extras under the new name.
Any other difference is *silent*: the load reported success with wrong billing data (e.g. a stored price
overwritten with NULL, or a short file loaded as a complete day).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

from include.simulator import Simulator
from include.vonage_cdr.planning import directions_for
from include.vonage_cdr.products import Product, get_product

EXAMPLES = 8


@dataclass
class Comparison:
    records: int = 0
    values: int = 0
    missing: int = 0
    duplicated: int = 0
    stale: int = 0
    unexpected: int = 0
    leftover_extras: int = 0
    by_product: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return not (self.missing or self.duplicated or self.stale or self.unexpected)

    def note(self, text: str) -> None:
        if len(self.examples) < EXAMPLES:
            self.examples.append(text)


def _timestamp(raw: str) -> datetime:
    text = raw.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    return datetime.fromisoformat(text).astimezone(UTC)


def expected_value(raw: str | None, column_type: str) -> Any:
    """A wire value as the warehouse must hold it ("" and absent: NULL)."""
    if raw is None or raw == "":
        return None
    if column_type == "timestamptz":
        return _timestamp(raw)
    if column_type == "numeric":
        return Decimal(raw)
    if column_type in ("integer", "bigint"):
        return int(raw)
    if column_type == "boolean":
        return {"true": True, "false": False}[raw.lower()]
    return raw


def expected_rows(product: Product, truth: Iterable[dict[str, str]]) -> dict[str, dict[str, Any]]:
    known = {c.source for c in product.columns}
    rows: dict[str, dict[str, Any]] = {}
    for rec in truth:
        row = {c.name: expected_value(rec.get(c.source), c.type) for c in product.columns}
        row["extras"] = {k: v for k, v in rec.items() if k not in known and v not in ("", None)}
        rows[rec[product.record_id]] = row
    return rows


def truth_rows(
    sim: Simulator, product: Product, account: str, day: date, as_of: datetime
) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for direction in directions_for(product):
        truth = sim.ground_truth(account, product.name, day, direction=direction, as_of=as_of)
        rows.update(expected_rows(product, truth))
    return rows


def _warehouse_rows(
    conn: psycopg.Connection, product: Product, account: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    cols = [c.name for c in product.columns]
    query = sql.SQL(
        "SELECT {}, extras FROM {} WHERE account_id = %s AND event_time >= %s AND event_time < %s"
    ).format(sql.SQL(", ").join(sql.Identifier(c) for c in cols), sql.Identifier("cdr", product.table))
    out = []
    for values in conn.execute(query, (account, start, end)).fetchall():
        row = dict(zip([*cols, "extras"], values, strict=True))
        row["extras"] = {k: v for k, v in (row["extras"] or {}).items() if v not in ("", None)}
        out.append(row)
    return out


def _duplicates(conn: psycopg.Connection, product: Product, account: str) -> list[tuple[str, int]]:
    query = sql.SQL(
        "SELECT {id}, count(*) FROM {t} WHERE account_id = %s GROUP BY {id} HAVING count(*) > 1"
    ).format(id=sql.Identifier(product.record_id_column.name), t=sql.Identifier("cdr", product.table))
    return [(str(i), int(n)) for i, n in conn.execute(query, (account,)).fetchall()]


def compare(
    sim: Simulator,
    dsn: str,
    products: Sequence[str],
    account: str,
    days: Sequence[date],
    as_of: datetime,
) -> Comparison:
    """Compare every record of `products` x `days` (UTC) with the ground truth as of `as_of`."""
    result = Comparison()
    with psycopg.connect(dsn) as conn:
        for name in products:
            product = get_product(name)
            id_col = product.record_id_column.name
            for record_id, count in _duplicates(conn, product, account):
                result.duplicated += count - 1
                result.note(f"{name} {record_id}: {count} rows")
            for day in days:
                start = datetime.combine(day, time(0), tzinfo=UTC)
                expected = truth_rows(sim, product, account, day, as_of)
                actual = {
                    r[id_col]: r for r in _warehouse_rows(conn, product, account, start, start + timedelta(1))
                }
                result.records += len(expected)
                result.by_product[name] = result.by_product.get(name, 0) + len(expected)
                for record_id, want in expected.items():
                    have = actual.get(record_id)
                    result.values += len(want)
                    if have is None:
                        result.missing += 1
                        result.note(f"{name} {day} {record_id}: missing")
                        continue
                    diff = sorted(k for k in want if k != "extras" and want[k] != have.get(k))
                    extras = have.get("extras") or {}
                    if any(extras.get(k) != v for k, v in want["extras"].items()):
                        diff.append("extras")
                    leftover = sorted(set(extras) - set(want["extras"]))
                    if leftover:
                        result.leftover_extras += 1
                        result.note(f"{name} {day} {record_id}: leftover extras keys {leftover}")
                    if diff:
                        result.stale += 1
                        k = diff[0]
                        example = f"e.g. {k}: {have.get(k)!r}, truth {want[k]!r}"
                        result.note(f"{name} {day} {record_id}: {', '.join(diff)} ({example})")
                for record_id in actual.keys() - expected.keys():
                    result.unexpected += 1
                    result.note(f"{name} {day} {record_id}: not in the ground truth")
    return result


def late_updates(
    sim: Simulator,
    products: Sequence[str],
    account: str,
    days: Sequence[date],
    first_read: datetime | None,
    final: datetime,
) -> int:
    """Records whose values changed between the first daily read of their day and `final`.

    `first_read` None: one hour after each day's end (when the soak's daily run for the day starts).
    """
    changed = 0
    for name in products:
        product = get_product(name)
        for day in days:
            early_at = first_read or datetime.combine(day + timedelta(days=1), time(1), tzinfo=UTC)
            early = truth_rows(sim, product, account, day, early_at)
            late = truth_rows(sim, product, account, day, final)
            changed += sum(1 for k, row in late.items() if k in early and early[k] != row)
    return changed


@dataclass
class Checkpoint:
    partitions: int = 0
    records: int = 0
    silent_missing: int = 0
    silent_stale: int = 0
    flagged: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, other: Checkpoint) -> None:
        self.partitions += other.partitions
        self.records += other.records
        self.silent_missing += other.silent_missing
        self.silent_stale += other.silent_stale
        self.flagged += other.flagged
        self.examples += other.examples[: max(0, EXAMPLES - len(self.examples))]

    @property
    def silent(self) -> int:
        return self.silent_missing + self.silent_stale


Snapshot = dict[str, dict[str, dict[str, Any]]]  # product -> record id -> column -> value


def snapshot(dsn: str, products: Sequence[str], account: str, day: date) -> Snapshot:
    """The stored rows of `day` before a load, to tell a kept value from an overwritten one."""
    start = datetime.combine(day, time(0), tzinfo=UTC)
    out: Snapshot = {}
    with psycopg.connect(dsn) as conn:
        for name in products:
            product = get_product(name)
            rows = _warehouse_rows(conn, product, account, start, start + timedelta(days=1))
            out[product.name] = {r[product.record_id_column.name]: r for r in rows}
    return out


def _latest_loads(conn: psycopg.Connection, product: str, account: str, day: date) -> dict[str, tuple]:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    rows = conn.execute(
        "SELECT DISTINCT ON (direction) direction, load_id, report_request_id, rows_quarantined, "
        "missing_columns FROM cdr.load_ledger WHERE product = %s AND account_id = %s "
        "AND mode = 'async' AND window_start = %s ORDER BY direction, load_id DESC",
        (product, account, start),
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def checkpoint(
    sim: Simulator,
    dsn: str,
    products: Sequence[str],
    account: str,
    day: date,
    expected_columns: Callable[[str, str | None], set[str]],
    before: Snapshot,
) -> Checkpoint:
    """Check each partition of `day` against the ground truth as of its latest daily load's report.

    `expected_columns(product, direction)`: the columns Vonage's file carries for that partition (a missing
    one is a fault the load must have noticed). `before`: the day's rows before the run (`snapshot`).
    """
    from include.vonage_cdr.client.timestamps import parse_vonage_timestamp

    received = {r["request_id"]: parse_vonage_timestamp(r["receive_time"]) for r in sim.reports_created}
    result = Checkpoint()
    start = datetime.combine(day, time(0), tzinfo=UTC)
    with psycopg.connect(dsn) as conn:
        for name in products:
            product = get_product(name)
            loads = _latest_loads(conn, product.name, account, day)
            for direction in directions_for(product):
                load = loads.get(direction or "")
                if load is None or load[1] not in received:
                    continue
                _, request_id, quarantined, missing = load
                truth = sim.ground_truth(account, name, day, direction=direction, as_of=received[request_id])
                lacking = {c for c in missing or () if c in expected_columns(name, direction)}
                part = _check_partition(
                    conn, product, account, start, direction, expected_rows(product, truth),
                    before.get(product.name, {}), int(quarantined), lacking,
                )  # fmt: skip
                result.add(part)
    return result


def _check_partition(
    conn: psycopg.Connection,
    product: Product,
    account: str,
    start: datetime,
    direction: str | None,
    expected: dict[str, dict[str, Any]],
    before: dict[str, dict[str, Any]],
    quarantined: int,
    lacking: set[str],
) -> Checkpoint:
    cols = [c.name for c in product.columns]
    by_name = {c.name: c for c in product.columns}
    filters = [sql.SQL("account_id = %s"), sql.SQL("event_time >= %s"), sql.SQL("event_time < %s")]
    params: list[Any] = [account, start, start + timedelta(days=1)]
    if direction and product.has_column("direction"):
        filters.append(sql.SQL("{} = %s").format(sql.Identifier(product.column("direction").name)))
        params.append(direction)
    query = sql.SQL("SELECT {}, extras FROM {} WHERE {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in cols),
        sql.Identifier("cdr", product.table),
        sql.SQL(" AND ").join(filters),
    )
    id_col = product.record_id_column.name
    actual = {}
    for values in conn.execute(query, params).fetchall():
        row = dict(zip([*cols, "extras"], values, strict=True))
        row["extras"] = {k: v for k, v in (row["extras"] or {}).items() if v not in ("", None)}
        actual[row[id_col]] = row
    out = Checkpoint(partitions=1, records=len(expected))
    where = f"{product.name} {start.date()} {direction or 'all'}"
    missing = [k for k in expected if k not in actual]
    allowed_missing = min(len(missing), quarantined)
    out.flagged += allowed_missing
    out.silent_missing += len(missing) - allowed_missing
    if len(missing) > allowed_missing:
        out.examples.append(f"{where}: {len(missing)} records missing, {quarantined} quarantined")
    for record_id, want in expected.items():
        have = actual.get(record_id)
        if have is None:
            continue
        stored = before.get(record_id, {})  # empty: the record is new in this load
        silent, flagged = [], []
        for key in (k for k in want if want[k] != have.get(k)):
            if key == "extras" and all(have["extras"].get(k) == v for k, v in want["extras"].items()):
                flagged.append(
                    key
                )  # only extra keys: unknown columns kept (a renamed one under its new name)
            elif key != "extras" and by_name[key].source in lacking and have[key] == stored.get(key):
                flagged.append(key)  # absent in the file: the stored value kept (NULL, unknown, if new)
            else:
                silent.append(key)
        if silent:
            out.silent_stale += 1
            if len(out.examples) < EXAMPLES:
                k = silent[0]
                example = f"e.g. {k}: {have.get(k)!r}, truth {want[k]!r}"
                lacked = f"file lacked {sorted(lacking) or 'nothing'}"
                out.examples.append(f"{where} {record_id}: {', '.join(silent)} ({example}; {lacked})")
        elif flagged:
            out.flagged += 1
    return out
