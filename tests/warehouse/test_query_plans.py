"""A typical analyst query (one account, one week) reads one monthly partition through an index."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from tests.fixtures.warehouse import MigratedWarehouse

ROWS = 150_000
ACCOUNTS = 200


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def test_one_account_one_week_on_sms_prunes_partitions_and_uses_an_index(
    migrated_warehouse: MigratedWarehouse,
) -> None:
    # Three full past months of outbound SMS spread evenly over 200 accounts, then real statistics
    # (ANALYZE), so the planner chooses honestly: no enable_seqscan tricks.
    # Fixed months (whatever today is): their partitions are created explicitly.
    start = datetime(2026, 8, 1, tzinfo=UTC)
    end = datetime(2026, 11, 1, tzinfo=UTC)
    with psycopg.connect(migrated_warehouse.dsn, autocommit=True) as conn:
        conn.execute("SELECT cdr.ensure_partitions(%s, %s)", (start, end))
        conn.execute(
            """INSERT INTO cdr.sms (id, message_id, account_id, direction, country, status, total_price,
                   currency, date_received, event_time, _source, _load_id)
               SELECT 'm' || g, 'm' || g, 'acct' || lpad((g %% %(accounts)s)::text, 4, '0'), 'outbound',
                      (ARRAY['GB', 'US', 'DE', 'FR'])[1 + g %% 4], 'delivered', 0.0333, 'EUR',
                      t, t, 'async', 1
               FROM generate_series(1, %(rows)s) AS g
               CROSS JOIN LATERAL (SELECT %(start)s::timestamptz
                                   + (%(end)s::timestamptz - %(start)s::timestamptz) * (g::float8 / %(rows)s)
                                   - interval '1 second' AS t) AS ts""",
            {"rows": ROWS, "accounts": ACCOUNTS, "start": start, "end": end},
        )
        conn.execute("ANALYZE cdr.sms")
        week_start = start + timedelta(days=10)  # a week inside the first month
        month_partition = f"sms_p{week_start:%Y%m}"
        query = """SELECT date_trunc('day', event_time) AS day, count(*), sum(total_price)
                   FROM cdr.sms
                   WHERE account_id = %s AND event_time >= %s AND event_time < %s
                   GROUP BY 1 ORDER BY 1"""
        params = ("acct0042", week_start, week_start + timedelta(days=7))
        [(explained,)] = conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) ") + sql.SQL(query), params).fetchall()
        plan = (explained if isinstance(explained, list) else json.loads(explained))[0]["Plan"]
        nodes = list(plan_nodes(plan))

        scanned = {node["Relation Name"] for node in nodes if "Relation Name" in node}
        assert scanned == {month_partition}, f"partition pruning failed: {scanned}"
        index_scans = [
            node
            for node in nodes
            if node["Node Type"] in {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}
        ]
        assert index_scans, f"no index used: {[n['Node Type'] for n in nodes]}"
        assert all(node["Index Name"].startswith(month_partition) for node in index_scans)
        assert any("account_id" in node["Index Name"] for node in index_scans)
        # And the answer is the right one: 7 days x (rows per day / accounts).
        result = conn.execute(query, params).fetchall()
        assert 5 <= len(result) <= 8
        assert sum(count for _, count, _ in result) > 0
