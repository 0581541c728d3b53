"""Which UTC days and which partitions a daily run loads, decided explicitly.

Airflow 3 changed schedule semantics (``@daily`` is a trigger timetable; runs may have no logical
date at all), so the day a run loads is never left implicit in a template. The rules:

1. an explicit ``day`` in the run's params/conf wins (manual re-loads and repairs);
2. otherwise the UTC date of the run's logical date: the daily DAG uses ``CronDataIntervalTimetable``,
   so a scheduled or backfill run's logical date is the start of the day it covers (a backfill of A..B
   loads exactly the days A..B), and a manual run "for 2026-11-14" loads that day. (A manual run's
   data interval is the interval *before* its logical date, so it is not used.) A day that has not
   ended yet is waited for by the DAG's deferrable settlement wait, never loaded half-done;
3. a run without a logical date (CLI/REST trigger with ``logical_date: null``, asset-triggered)
   loads the last UTC day that has settled: ``(run_after - settlement_delay)``'s date minus one day.

Scheduled runs also re-load earlier days at the configured lags (default: none besides the day
itself). Each re-load is billed again per CDR, which is why the default is one read per CDR.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta

from include.vonage_cdr.products import Product, get_product


class RetentionExceeded(ValueError):
    """A requested day is older than Vonage keeps records for that product."""


@dataclass(frozen=True)
class Partition:
    """One unit of work: a product (and direction) for one account and one UTC day."""

    product: str
    account_id: str
    direction: str | None
    day: date
    include_subaccounts: bool = False

    @property
    def window_start(self) -> datetime:
        return datetime.combine(self.day, time(0), tzinfo=UTC)

    @property
    def window_end(self) -> datetime:
        return self.window_start + timedelta(days=1)

    def to_report_kwargs(self) -> dict[str, object]:
        """Keyword arguments of the report operator (JSON-serialisable, for ``expand_kwargs``)."""
        return {
            "product": self.product,
            "account_id": self.account_id,
            "direction": self.direction,
            "date_start": self.window_start.isoformat(),
            "date_end": self.window_end.isoformat(),
            "include_subaccounts": self.include_subaccounts,
        }

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["day"] = self.day.isoformat()
        return data


def resolve_days(
    *,
    explicit_day: str | date | None,
    logical_date: datetime | None,
    run_after: datetime,
    is_scheduled: bool,
    settlement_delay: timedelta,
    reload_lags_days: Sequence[int] = (1,),
) -> list[date]:
    """Return the UTC days this run loads, newest first (see the module docstring for the rules)."""
    if explicit_day:
        base = explicit_day if isinstance(explicit_day, date) else date.fromisoformat(str(explicit_day))
        return [base]
    if logical_date is not None:
        base = logical_date.astimezone(UTC).date()
    else:
        base = (run_after.astimezone(UTC) - settlement_delay).date() - timedelta(days=1)
    if not is_scheduled:
        return [base]
    # A run for day D executes on D+1: lag L re-loads the day that is L days old then, D-(L-1).
    return sorted({base - timedelta(days=lag - 1) for lag in reload_lags_days or (1,)}, reverse=True)


def settlement_target(day: date, settlement_delay: timedelta) -> datetime:
    """The instant after which ``day`` may be requested: its end plus the settlement delay."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC) + settlement_delay


def directions_for(product: Product) -> tuple[str | None, ...]:
    """The directions to request separately: each one where required, otherwise one request without.

    A product that forbids or merely allows a direction gets a single request with none, so that
    every record is read exactly once (and billed once).
    """
    return product.directions if product.direction == "required" else (None,)


def plan_partitions(
    days: Iterable[date],
    products: Sequence[str],
    accounts: Sequence[str],
    *,
    include_subaccounts: bool = False,
) -> list[Partition]:
    """Expand days x products x directions x accounts into partitions.

    A product that requires a direction gets one partition per direction (Vonage rejects the
    request without one); a product that forbids or merely allows it gets a single partition with no
    direction, so that every record is read exactly once.
    """
    partitions: list[Partition] = []
    for day in days:
        for name in products:
            product = get_product(name)
            for account in accounts:
                for direction in directions_for(product):
                    partitions.append(Partition(product.name, account, direction, day, include_subaccounts))
    return partitions


def oldest_loadable_day(product: Product, today: date) -> date:
    """The oldest UTC day whose records Vonage still keeps on ``today``, counted as Vonage counts.

    13 calendar months back to the same day of the month, or the month's last day when it has no such day
    (on 2026-03-31 the oldest day is 2025-02-28; on 2025-03-29 it is 2024-02-29); VIDEO-API: 90 days.
    """
    if product.retention_months is None:
        return today - timedelta(days=product.retention_days)
    months = today.year * 12 + (today.month - 1) - product.retention_months
    year, month = divmod(months, 12)
    month += 1
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def check_retention(partitions: Iterable[Partition], today: date) -> None:
    """Refuse days Vonage no longer keeps, instead of loading an empty report as if it were complete."""
    refused: list[str] = []
    for part in partitions:
        product = get_product(part.product)
        oldest = oldest_loadable_day(product, today)
        if part.day < oldest:
            kept = (
                f"{product.retention_months} calendar months"
                if product.retention_months is not None
                else f"{product.retention_days} days"
            )
            refused.append(
                f"{part.product} {part.day.isoformat()} (retention {kept}: "
                f"the oldest loadable day is {oldest.isoformat()})"
            )
    if refused:
        raise RetentionExceeded(
            "Refusing to load days beyond Vonage's retention; their reports would be empty, not complete: "
            + "; ".join(sorted(set(refused)))
        )
