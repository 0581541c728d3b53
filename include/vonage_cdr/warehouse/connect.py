"""Bounded warehouse sessions: every connection the pipeline opens gives up instead of hanging.

Why: a load blocked behind another session's lock, a statement that never ends, a session left idle in an
open transaction or a peer that vanished would otherwise hold an Airflow pool slot (and the locks it
already has) without end. Each bound is a libpq/server setting carried in the conninfo itself, so every
``psycopg.connect(dsn)`` made with that conninfo, in this process or in a library function, is bounded:

* ``connect_timeout``: the server must answer the connection attempt within it;
* ``statement_timeout``: no single statement runs longer (a multi-statement migration: per statement);
* ``lock_timeout``: no lock is waited for longer (a second session holding a table lock -> a clear error);
* ``idle_in_transaction_session_timeout``: the server ends our session if we sit in an open transaction;
* TCP keepalives (``keepalives_idle``/``_interval``/``_count``): a dead peer or a cut network is noticed.

A value already present in the conninfo wins (an operator's connection extra overrides the default), and
``0`` disables a server-side timeout as PostgreSQL defines it. Defaults and the ``CDR_DB_*`` settings that
change them: :class:`include.vonage_cdr.settings.Settings`. This module imports psycopg lazily: DAG files
import the settings, which import it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class SessionBounds:
    """Time bounds of one warehouse session, in seconds (0 = no server-side limit)."""

    connect_timeout: float = 10.0
    statement_timeout: float = 1800.0
    lock_timeout: float = 60.0
    idle_in_transaction_session_timeout: float = 300.0
    keepalives_idle: float = 30.0
    keepalives_interval: float = 10.0
    keepalives_count: int = 3

    def server_options(self) -> str:
        """The ``options`` conninfo value: ``-c name=<ms>`` for each server-side timeout."""
        settings = {
            "statement_timeout": self.statement_timeout,
            "lock_timeout": self.lock_timeout,
            "idle_in_transaction_session_timeout": self.idle_in_transaction_session_timeout,
        }
        return " ".join(f"-c {name}={_ms(seconds)}" for name, seconds in settings.items())

    def conninfo_params(self) -> dict[str, str]:
        return {
            # libpq takes whole seconds (and treats 1 as 2); round up so a bound is never shortened
            "connect_timeout": str(max(1, math.ceil(self.connect_timeout))),
            "keepalives": "1",
            "keepalives_idle": str(max(1, math.ceil(self.keepalives_idle))),
            "keepalives_interval": str(max(1, math.ceil(self.keepalives_interval))),
            "keepalives_count": str(max(1, self.keepalives_count)),
            "options": self.server_options(),
        }


def _ms(seconds: float) -> int:
    if seconds < 0:
        raise ValueError(f"a timeout cannot be negative: {seconds}")
    return round(seconds * 1000)


def bounded_conninfo(dsn: str, bounds: SessionBounds | None = None) -> str:
    """``dsn`` (conninfo or postgresql:// URL) with the session bounds added; the dsn's own values win.

    An ``options`` value already in the dsn is appended after ours, so its ``-c`` settings take precedence.
    """
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params: dict[str, Any] = dict(conninfo_to_dict(dsn))
    ours = (bounds or SessionBounds()).conninfo_params()
    given_options = params.pop("options", None)
    params["options"] = f"{ours.pop('options')} {given_options}" if given_options else ours.pop("options")
    for key, value in ours.items():
        params.setdefault(key, value)
    return make_conninfo(**params)


def connect(dsn: str, bounds: SessionBounds | None = None, **kwargs: Any) -> psycopg.Connection:
    """``psycopg.connect`` on :func:`bounded_conninfo`."""
    import psycopg

    return psycopg.connect(bounded_conninfo(dsn, bounds), **kwargs)


class WarehouseTimeout(RuntimeError):
    """A warehouse bound was hit; the message says which one, which setting changes it, where to look."""


def explain(exc: BaseException, bounds: SessionBounds | None = None) -> str | None:
    """A message for a psycopg error caused by one of the bounds, or None for any other error."""
    import psycopg

    b = bounds or SessionBounds()
    said = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, psycopg.errors.LockNotAvailable) or "lock timeout" in said:
        return (
            f"the warehouse did not grant a lock within {b.lock_timeout:g}s (CDR_DB_LOCK_TIMEOUT_SECONDS): "
            "another session holds it, see pg_locks/pg_stat_activity for the blocker "
            f"(PostgreSQL: {said})"
        )
    if isinstance(exc, psycopg.errors.QueryCanceled) and "statement timeout" in said:
        return (
            f"a warehouse statement ran longer than {b.statement_timeout:g}s "
            f"(CDR_DB_STATEMENT_TIMEOUT_SECONDS) and was cancelled (PostgreSQL: {said})"
        )
    if isinstance(exc, psycopg.errors.IdleInTransactionSessionTimeout) or "idle-in-transaction" in said:
        return (
            f"the warehouse ended the session after {b.idle_in_transaction_session_timeout:g}s idle inside a "
            f"transaction (CDR_DB_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS) (PostgreSQL: {said})"
        )
    if isinstance(exc, psycopg.OperationalError) and "timeout expired" in said:
        return (
            f"the warehouse did not answer the connection attempt within {b.connect_timeout:g}s "
            f"(CDR_DB_CONNECT_TIMEOUT_SECONDS) (libpq: {said})"
        )
    return None


@contextmanager
def explained_timeouts(bounds: SessionBounds | None = None) -> Iterator[None]:
    """Re-raise an error caused by a session bound as :class:`WarehouseTimeout` with a clear message."""
    import psycopg

    try:
        yield
    except psycopg.Error as exc:
        message = explain(exc, bounds)
        if message is None:
            raise
        raise WarehouseTimeout(message) from exc
