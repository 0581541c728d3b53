"""Which UTC days and which partitions a daily run loads, decided explicitly.

Airflow 3 changed schedule semantics (``@daily`` is a trigger timetable; runs may have no logical
date at all; the UI's Trigger form fills the logical date with *now*), so the day a run loads is
never left implicit in a template. The one rule, :data:`DAY_RULE`, is shown verbatim as the ``day``
param's description and in the daily DAG's docs:

    A run loads one UTC day: the `day` param (YYYY-MM-DD) if set; else the UTC day of the run's
    logical date if that day had ended when the run was created (scheduled and backfill runs: the day
    they cover; a trigger for 2026-11-14 loads 2026-11-14); else, for a run without a logical date or
    with one inside a day not yet over (the Trigger form's default of now), the last settled day: the
    newest day whose end plus the settlement delay had passed. A day that has not ended is never
    loaded: a `day` param naming one fails the run.

"When the run was created" is the run's ``run_after``, fixed at creation, so clearing or retrying a
run the next day loads the same day again. After the day is chosen the run waits, deferred, until
the day's end plus the settlement delay (at most that long after midnight).

Scheduled runs also re-load earlier days at the configured lags (default: none besides the day
itself). Each re-load is billed again per CDR, which is why the default is one read per CDR.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta

from include.vonage_cdr.products import Product, get_product

log = logging.getLogger(__name__)


class RetentionExceeded(ValueError):
    """A requested day is older than Vonage keeps records for that product."""


class DayNotEnded(ValueError):
    """An explicitly requested day has not ended yet: its reports would be incomplete."""


#: The rule of :func:`resolve_days`, word for word as the ``day`` param and the DAG docs state it.
DAY_RULE = (
    "A run loads one UTC day: the `day` param (YYYY-MM-DD) if set; else the UTC day of the run's "
    "logical date if that day had ended when the run was created (scheduled and backfill runs: the "
    "day they cover; a trigger for 2026-11-14 loads 2026-11-14); else, for a run without a logical "
    "date or with one inside a day not yet over (the Trigger form's default of now), the last settled "
    "day: the newest day whose end plus the settlement delay had passed. A day that has not ended is "
    "never loaded: a `day` param naming one fails the run."
)


@dataclass(frozen=True)
class Partition:
    """One unit of work: a product (and direction) for one account and one UTC day."""

    product: str
    account_id: str
    direction: str | None
    day: date
    include_subaccounts: bool = False
    include_message: bool = False
    show_concatenated: bool = False

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
            # only when asked for, so a default plan's kwargs (and report reuse) stay as they were
            **({"include_message": True} if self.include_message else {}),
            **({"filters": {"show_concatenated": "true"}} if self.show_concatenated else {}),
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
    now: datetime | None = None,
) -> list[date]:
    """Return the UTC days this run loads, newest first, by :data:`DAY_RULE`.

    ``run_after`` is when the run was created (fixed, so a retry loads the same day); ``now`` (default:
    the current time) only decides whether an explicit ``day`` has ended. Raises :class:`DayNotEnded`.
    """
    if explicit_day:
        base = explicit_day if isinstance(explicit_day, date) else date.fromisoformat(str(explicit_day))
        current = (now or datetime.now(UTC)).astimezone(UTC)
        if day_end(base) > current:
            raise DayNotEnded(
                f"day {base.isoformat()} has not ended yet (UTC): its reports would be incomplete. "
                f"It can be loaded from {settlement_target(base, settlement_delay).isoformat()} on."
            )
        log.info("loading %s: the run's `day` param", base)
        return [base]
    created = run_after.astimezone(UTC)
    if logical_date is not None and day_end(logical_date.astimezone(UTC).date()) <= created:
        base = logical_date.astimezone(UTC).date()
        log.info("loading %s: the UTC day of the run's logical date", base)
    else:
        base = last_settled_day(created, settlement_delay)
        why = (
            "the run has no logical date"
            if logical_date is None
            else f"its logical date {logical_date.isoformat()} is in a day not over at {created.isoformat()}"
        )
        log.info("loading %s, the last settled day: %s", base, why)
    if not is_scheduled:
        return [base]
    # A run for day D executes on D+1: lag L re-loads the day that is L days old then, D-(L-1).
    return sorted({base - timedelta(days=lag - 1) for lag in reload_lags_days or (1,)}, reverse=True)


def day_end(day: date) -> datetime:
    """The instant a UTC day ends (the next midnight, UTC)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def last_settled_day(at: datetime, settlement_delay: timedelta) -> date:
    """The newest UTC day whose end plus the settlement delay is not after ``at``."""
    return (at.astimezone(UTC) - settlement_delay).date() - timedelta(days=1)


def settlement_target(day: date, settlement_delay: timedelta) -> datetime:
    """The instant after which ``day`` may be requested: its end plus the settlement delay."""
    return day_end(day) + settlement_delay


def directions_for(product: Product) -> tuple[str | None, ...]:
    """The directions to request separately: each one where required, otherwise one request without.

    A product that forbids or merely allows a direction gets a single request with none, so that
    every record is read exactly once (and billed once).
    """
    return product.directions if product.direction == "required" else (None,)


def message_options(
    product: Product, direction: str | None, *, include_message: bool, show_concatenated: bool
) -> tuple[bool, bool]:
    """Which of ``include_message`` / ``show_concatenated`` a request for this product may carry.

    Vonage takes ``include_message`` for the products that have a message body (SMS, MESSAGES) and
    ``show_concatenated`` for outbound SMS only (the products whose records have a ``concatenated`` column);
    anywhere else the parameter is refused (422), so it is left out.
    """
    body = include_message and product.has_column("message_body")
    concatenated = show_concatenated and product.has_column("concatenated") and direction == "outbound"
    return body, concatenated


def plan_partitions(
    days: Iterable[date],
    products: Sequence[str],
    accounts: Sequence[str],
    *,
    include_subaccounts: bool = False,
    include_message: bool = False,
    show_concatenated: bool = False,
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
                    body, concat = message_options(
                        product,
                        direction,
                        include_message=include_message,
                        show_concatenated=show_concatenated,
                    )
                    part = Partition(product.name, account, direction, day, include_subaccounts, body, concat)
                    partitions.append(part)
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
