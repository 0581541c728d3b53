"""Markers for the few tests that cannot run under ``faketime`` (README, "Test scopes, order and dates").

Runs on other dates fake the clock with libfaketime, preloaded into every process the tests start,
PostgreSQL included (it must share our clock: the ledger compares its now() with ours). Two things then
stop being real, and the tests that depend on them are skipped there; every run on the real clock runs them.
"""

from __future__ import annotations

import os

import pytest

UNDER_FAKETIME = "faketime" in os.environ.get("LD_PRELOAD", "")

#: PostgreSQL's own timers (statement_timeout, lock_timeout, idle_in_transaction_session_timeout) never fire.
server_timers = pytest.mark.skipif(
    UNDER_FAKETIME, reason="PostgreSQL's timeout timers do not fire under libfaketime (run without faketime)"
)

#: File ages: stat() reports shifted times but os.utime() stores unshifted ones, and the S3 stand-in's
#: object times follow another clock, so "written an hour ago" cannot be staged.
FILE_AGES_REASON = "file modification times cannot be staged under libfaketime (run without faketime)"
file_ages = pytest.mark.skipif(UNDER_FAKETIME, reason=FILE_AGES_REASON)
