"""The soak's checks can fail: they catch a price overwritten with NULL and a lost record, not a kept value.

A soak that cannot see a wrong warehouse proves nothing, so its comparison and its after-load checkpoint are
tested here on a day loaded by the real daily load, then damaged by hand the way the bugs it hunts would.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

from include.devtools.soak.compare import checkpoint, compare, snapshot
from include.simulator import Simulator
from include.vonage_cdr.client import ReportRequest, ReportsClient
from include.vonage_cdr.daily_load import load_report_partition
from include.vonage_cdr.lake import Lake

DAY = date(2026, 11, 15)
PRODUCTS = ("VOICE-CALL",)


def _file_columns(product: str, direction: str | None) -> set[str]:
    from include.simulator.products import PRODUCTS as SIM

    return set(SIM[product].view_columns(direction, False, False))


def test_checks_catch_a_nulled_price_and_a_lost_record_and_accept_a_kept_value(
    simulator: Simulator, migrated_warehouse, tmp_path: Path
) -> None:
    dsn = migrated_warehouse.dsn
    start = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC)
    with ReportsClient(simulator.base_url, simulator.api_key, simulator.api_secret) as client:
        req = ReportRequest("VOICE-CALL", simulator.api_key, start, start + timedelta(days=1))
        report = client.wait_for_report(client.create_report(req).request_id, poll_interval=0.2, timeout=60)
        load_report_partition(
            client, dsn, report.summary(), lake=Lake(tmp_path / "lake"), work_dir=tmp_path / "work"
        )
    account, final = simulator.api_key, simulator.clock.now()

    clean = checkpoint(simulator, dsn, PRODUCTS, account, DAY, _file_columns, {})
    assert clean.partitions == 1 and clean.records > 100 and clean.silent == 0
    assert compare(simulator, dsn, PRODUCTS, account, [DAY], final).exact

    before = snapshot(dsn, PRODUCTS, account, DAY)
    with psycopg.connect(dsn) as conn:
        nulled, lost = (r[0] for r in conn.execute("SELECT id FROM cdr.voice_call ORDER BY id LIMIT 2"))
        conn.execute("UPDATE cdr.voice_call SET total_price = NULL WHERE id = %s", (nulled,))
        conn.execute("DELETE FROM cdr.voice_call WHERE id = %s", (lost,))
    damaged = checkpoint(simulator, dsn, PRODUCTS, account, DAY, _file_columns, before)
    assert (damaged.silent_missing, damaged.silent_stale) == (1, 1), damaged.examples
    after = compare(simulator, dsn, PRODUCTS, account, [DAY], final)
    assert (after.missing, after.stale, after.duplicated) == (1, 1, 0)
    assert any(nulled in e and "total_price" in e for e in after.examples)

    # The load said it lacked `network`: a value kept from before that differs from the file is flagged,
    # not silent (absent means unknown, and the stored value stays).
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE cdr.load_ledger SET missing_columns = '{network}'")
        conn.execute("UPDATE cdr.voice_call SET network = 'kept-from-before' WHERE id = %s", (nulled,))
    kept = snapshot(dsn, PRODUCTS, account, DAY)
    flagged = checkpoint(simulator, dsn, PRODUCTS, account, DAY, _file_columns, kept)
    assert flagged.silent_stale == 1 and flagged.flagged == 0  # the nulled price is still silent
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "UPDATE cdr.voice_call SET total_price = %s WHERE id = %s",
            (before["VOICE-CALL"][nulled]["total_price"], nulled),
        )
    fixed = checkpoint(simulator, dsn, PRODUCTS, account, DAY, _file_columns, kept)
    assert fixed.silent_stale == 0 and fixed.flagged == 1
