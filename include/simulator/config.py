"""Configuration objects of the simulator: accounts, faults and behaviour switches.

Why: every place where public sources disagree (docs/vonage-reports-api.md, Where sources disagree) is a
switch here, defaulting to the stricter reading, so the pipeline is tested against the hardest plausible
Vonage and can be relaxed per test. Secrets are excluded from reprs so a printed config never leaks them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from include.simulator.clock import SimClock
from include.simulator.file_faults import SHORT_FILE_KINDS

DEFAULT_API_KEY = "abcd1234"
DEFAULT_API_SECRET = "sandbox-secret-0123"  # noqa: S105 - documented sandbox default, not a real secret
DEFAULT_SUBACCOUNTS = ("subacct1", "subacct2")


@dataclass(frozen=True)
class Account:
    """A primary account (API key + secret) and the keys of its subaccounts.

    Subaccounts have no credentials of their own here: the documented flows always authenticate with
    the primary key and name the subaccount in `account_id`.
    """

    api_key: str
    api_secret: str = field(repr=False)
    subaccounts: tuple[str, ...] = ()

    def owns(self, account_id: str) -> bool:
        return account_id == self.api_key or account_id in self.subaccounts


@dataclass(frozen=True)
class FaultConfig:
    """Injected failures. Probabilities are drawn from a RNG seeded with `seed` (deterministic per run).

    `paths` limits request-level faults (5xx, slow, timeout, reset) to request paths starting with one of
    the prefixes (empty = every path). Download and file faults apply to `GET /v3/media/...` only. Every
    injected fault is counted by kind (`Simulator.fault_counts()`).
    """

    seed: int = 0
    # documented rate limits (docs/vonage-reports-api.md, Rate limits): per authenticated account, per second
    rate_limit: bool = True
    rate_limit_async_rps: int = 5
    rate_limit_sync_rps: int = 10
    rate_limit_status: int = 429  # 403 = the Airbyte reading (docs/vonage-reports-api.md, open question 5)
    retry_after_seconds: int = 1
    # request-level faults
    paths: tuple[str, ...] = ()
    error_rate: float = 0.0
    error_status: int = 503
    slow_rate: float = 0.0
    slow_seconds: float = 2.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0  # the server hangs this long, then closes without answering
    reset_rate: float = 0.0
    # download faults
    truncated_download_rate: float = 0.0
    corrupt_download_rate: float = 0.0
    html_download_rate: float = 0.0
    # file faults: the copy of a report file served for ONE download differs from what the report promises.
    # Each is rolled per download attempt from `seed`, the report's request and the attempt number, so a
    # download again may give a good copy (as behind a flaky storage layer); the stored file stays intact.
    short_file_rate: float = 0.0  # fewer rows than items_count: kinds below (see file_faults.py)
    short_file_kinds: tuple[str, ...] = SHORT_FILE_KINDS
    missing_column_rate: float = 0.0  # one column dropped from the header and from every row
    renamed_column_rate: float = 0.0  # one header name changed, e.g. total_price -> totalPrice
    column_fault_columns: tuple[str, ...] = ()  # columns those two may pick (empty: any column of the file)
    undecodable_row_rate: float = 0.0  # one row carries bytes that are not UTF-8
    malformed_row_rate: float = 0.0  # one row has a field too few (its last value is missing)
    # 429 bursts on top of the documented limits: a request starts one with this probability, and the
    # account's next `rate_limit_burst_requests - 1` requests are answered 429 too
    rate_limit_burst_rate: float = 0.0
    rate_limit_burst_requests: int = 5
    # a sync page requested with a cursor is refused as expired with this probability (beside the TTL)
    expired_cursor_rate: float = 0.0
    # report faults
    failed_report_rate: float = 0.0
    # sync cursors expire this many simulated seconds after being issued (None = never)
    cursor_ttl_seconds: float | None = None
    # -- an implementation without the optional parts (include/simulator/README.md, "Faults") ---------
    # GET /v2/reports answers this status with a problem body (e.g. 404: no list endpoint); None = works
    list_reports_status: int | None = None
    # sync id-mode lookups (`id=`) answer this status (e.g. 422: ids not supported); None = work
    id_lookup_status: int | None = None
    # the next N POST /v2/reports create their report, then the connection is closed without an answer
    drop_create_answers: int = 0


Pace = Literal["fast", "vonage"]


@dataclass
class SimulatorConfig:
    """Everything that shapes one simulator instance. See include/simulator/README.md for each switch."""

    seed: int = 42
    accounts: list[Account] = field(
        default_factory=lambda: [Account(DEFAULT_API_KEY, DEFAULT_API_SECRET, DEFAULT_SUBACCOUNTS)]
    )
    records_per_day: int | dict[str, int] = 200
    pace: Pace = "fast"
    clock: SimClock = field(default_factory=SimClock)
    faults: FaultConfig = field(default_factory=FaultConfig)
    # docs/vonage-reports-api.md, open question 1: sync window limited to `sync_window_hours` (strict) or not
    strict_sync_window: bool = True
    sync_window_hours: float = 24.0
    # docs/vonage-reports-api.md, open question 2: both sync dates required together (2021 rule) or defaulted
    sync_dates_required: bool = True
    # docs/vonage-reports-api.md, open question 6: at most this many ids per sync id-mode request
    max_ids: int = 20
    # docs/vonage-reports-api.md, open question 3: accept MEETINGS and CONVERSATIONS
    legacy_products: bool = False
    # docs/vonage-reports-api.md, open question 11: one CSV per account ("per_account") or one CSV ("single")
    subaccount_files: Literal["per_account", "single"] = "per_account"
    # docs/vonage-reports-api.md, open question 15: async TRUNCATED above this many records
    async_max_records: int = 7_000_000
    # docs/vonage-reports-api.md, List reports: `status` required on GET /v2/reports (spec); False = optional
    list_status_required: bool = True
    # docs/vonage-reports-api.md, Retention: metadata 4 days, files 72 h, records 13 months (VIDEO-API 90 d)
    report_retention_hours: float = 96.0
    file_retention_hours: float = 72.0
    # where report ZIPs are written (None = a temporary directory removed at shutdown)
    data_dir: str | None = None
    # pace overrides (simulated seconds); None = derived from `pace`
    pending_seconds: float | None = None
    seconds_per_million: float | None = None
    log_requests: bool = False

    @property
    def primary(self) -> Account:
        return self.accounts[0]

    def count_for(self, product: str) -> int:
        if isinstance(self.records_per_day, int):
            return self.records_per_day
        return self.records_per_day.get(product, self.records_per_day.get("*", 200))
