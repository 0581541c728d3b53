"""Load one simulated day into a migrated warehouse through the real pipeline parts, and keep its truth.

The records travel as they do in production: the API client over HTTP against the simulator, the
normalizer, the loader (ledger, freshness). The simulator's clock is frozen, so the ground truth read
afterwards is exactly what was served. Tests compute their expectations from that truth on their own,
never from the warehouse.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from include.simulator import Simulator
from include.vonage_cdr.client import ClientSettings, ReportsClient
from include.vonage_cdr.incremental import SyncPartition, record_freshness
from include.vonage_cdr.normalize import normalize_records
from include.vonage_cdr.planning import directions_for, message_options
from include.vonage_cdr.products import get_product
from include.vonage_cdr.warehouse.load import LoadRequest, load_normalized


@dataclass
class SimulatedDay:
    """What was loaded: the day, the account and the simulator's records per (product, direction)."""

    day: date
    account_id: str
    truth: dict[tuple[str, str | None], list[dict[str, str]]] = field(default_factory=dict)
    cdrs_billed: int = 0

    def records(self, product: str) -> list[dict[str, str]]:
        return [r for (p, _), recs in self.truth.items() if p == product for r in recs]


def load_simulated_day(
    sim: Simulator,
    dsn: str,
    products: Iterable[str],
    day: date,
    work_dir: Path,
    *,
    include_message: bool = False,
    show_concatenated: bool = False,
) -> SimulatedDay:
    """Read ``day`` of each product (each direction it requires) through the sync API and load it."""
    start = datetime.combine(day, time(0), tzinfo=UTC)
    end = start + timedelta(days=1)
    loaded = SimulatedDay(day, sim.api_key)
    work_dir.mkdir(parents=True, exist_ok=True)
    client = ReportsClient(
        sim.base_url, sim.api_key, sim.api_secret, ClientSettings(backoff_initial=0.05), clock=sim.clock.now
    )
    try:
        for name in products:
            product = get_product(name)
            for direction in directions_for(product):
                body, concatenated = message_options(
                    product, direction, include_message=include_message, show_concatenated=show_concatenated
                )
                options: dict[str, object] = {"direction": direction} if direction else {}
                options.update({"include_message": True} if body else {})
                options.update({"show_concatenated": "true"} if concatenated else {})
                before = client.cdrs_retrieved
                result = normalize_records(
                    client.iter_records(product.name, sim.api_key, start, end, **options),
                    product,
                    work_dir / f"{product.table}-{direction or 'all'}.parquet",
                    source_name=f"sync:{product.name}",
                )
                billed = client.cdrs_retrieved - before
                part = SyncPartition(product.name, sim.api_key, direction)
                load_normalized(
                    dsn,
                    LoadRequest(
                        product=product,
                        account_id=sim.api_key,
                        direction=direction,
                        mode="sync",
                        window_start=start,
                        window_end=end,
                        report_request_id=None,
                        source_file=f"sync:{product.name}",
                        cdrs_billed=billed,
                        started_at=datetime.now(UTC),
                    ),
                    result,
                    extra_sql_in_txn=lambda conn, load_id, part=part, product=product: record_freshness(
                        conn, part, product, sim.clock.now(), load_id, mode="sync", window_end=end
                    ),
                )
                loaded.cdrs_billed += billed
                loaded.truth[(product.name, direction)] = sim.ground_truth(
                    sim.api_key, product.name, day, direction=direction, include_message=body
                )
    finally:
        client.close()
    return loaded
