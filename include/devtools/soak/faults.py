"""The fault profile of the soak: which failures the simulator injects, and how often.

Why these rates: a soak compresses days of traffic into minutes, so each failure Vonage (or the network in
between) can produce must show up several times in a few thousand requests and a few dozen downloads,
while a retry still succeeds most of the time, as in production. ``scale`` multiplies every rate (0 turns
the injected faults off; the documented rate limits stay on). The 5xx status rotates per phase so 500, 502,
503 and 504 all occur.
"""

from __future__ import annotations

from include.simulator import FaultConfig

#: per request (request faults) or per download attempt (download and file faults) or per report
BASE_RATES: dict[str, float] = {
    "error_rate": 0.02,
    "slow_rate": 0.01,
    "timeout_rate": 0.003,
    "reset_rate": 0.005,
    "rate_limit_burst_rate": 0.008,
    "truncated_download_rate": 0.04,
    "corrupt_download_rate": 0.03,
    "html_download_rate": 0.02,
    "short_file_rate": 0.1,
    "missing_column_rate": 0.03,
    "renamed_column_rate": 0.03,
    "undecodable_row_rate": 0.05,
    "malformed_row_rate": 0.04,
    "expired_cursor_rate": 0.2,
    "failed_report_rate": 0.08,
}
ERROR_STATUSES = (503, 500, 502, 504)
#: the simulator hangs this long on an injected timeout; the soak's client gives up after TIMEOUT_CLIENT
TIMEOUT_SERVER_SECONDS = 4.0
TIMEOUT_CLIENT_SECONDS = 2.0


def soak_faults(
    seed: int, scale: float, phase: int = 0, overrides: dict[str, float] | None = None
) -> FaultConfig:
    """The FaultConfig of one phase of the soak (seeded by the soak's seed and the phase number).

    ``overrides`` set single rates (before scaling), e.g. ``{"short_file_rate": 0.5}``.
    """
    unknown = set(overrides or {}) - set(BASE_RATES)
    if unknown:
        raise ValueError(f"unknown fault rates {sorted(unknown)}; known: {', '.join(BASE_RATES)}")
    base = {**BASE_RATES, **(overrides or {})}
    rates = {name: min(1.0, rate * scale) for name, rate in base.items()}
    return FaultConfig(
        seed=seed * 1000 + phase,
        rate_limit=True,
        error_status=ERROR_STATUSES[phase % len(ERROR_STATUSES)],
        slow_seconds=0.3,
        timeout_seconds=TIMEOUT_SERVER_SECONDS,
        rate_limit_burst_requests=4,
        **rates,  # type: ignore[arg-type]
    )
