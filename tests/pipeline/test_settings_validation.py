"""Settings that end up in file paths, SQL identifiers or Airflow names are refused when read, by name."""

from __future__ import annotations

from datetime import timedelta

import pytest

from include.vonage_cdr.settings import Settings, SettingsError


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CDR_ACCOUNTS": "abcd1234,abcd1234/.."}, "CDR_ACCOUNTS"),
        ({"CDR_ACCOUNTS": "../../etc"}, "CDR_ACCOUNTS"),
        ({"CDR_ACCOUNTS": "a b"}, "CDR_ACCOUNTS"),
        ({"CDR_PRODUCTS": "SMS,NOT-A-PRODUCT"}, "CDR_PRODUCTS"),
        ({"CDR_PRODUCTS": "SMS", "CDR_SYNC_PRODUCTS": "../SMS"}, "CDR_SYNC_PRODUCTS"),
        ({"CDR_LOADER_ROLE": 'x"; DROP TABLE cdr.sms; --'}, "CDR_LOADER_ROLE"),
        ({"CDR_OWNER_ROLE": "cdr_loader"}, "CDR_OWNER_ROLE"),  # same as the loader: no separation
        ({"CDR_ANALYST_ROLE": "1abc"}, "CDR_ANALYST_ROLE"),
        ({"CDR_WAREHOUSE_CONN_ID": "cdr/warehouse"}, "CDR_WAREHOUSE_CONN_ID"),
        ({"CDR_VONAGE_CONN_ID": "vonage default"}, "CDR_VONAGE_CONN_ID"),
        ({"CDR_WAREHOUSE_ADMIN_CONN_ID": "cdr_warehouse"}, "CDR_WAREHOUSE_ADMIN_CONN_ID"),
        ({"CDR_API_POOL": "pool;x"}, "CDR_API_POOL"),
        ({"CDR_DB_LOCK_TIMEOUT_SECONDS": "soon"}, "CDR_DB_LOCK_TIMEOUT_SECONDS"),
        ({"CDR_DB_KEEPALIVES_COUNT": "0"}, "CDR_DB_KEEPALIVES_COUNT"),
    ],
)
def test_unusable_values_are_refused_naming_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_settings_built_in_code_are_checked_too() -> None:
    with pytest.raises(SettingsError, match="CDR_ACCOUNTS"):
        Settings(accounts=("ok1", "bad/.."))


def test_valid_values_are_kept() -> None:
    s = Settings.from_env(
        {
            "CDR_ACCOUNTS": "abcd1234, sub_acct-2",
            "CDR_PRODUCTS": "sms,voice-call",
            "CDR_OWNER_ROLE": "warehouse_owner",
            "CDR_WAREHOUSE_ADMIN_CONN_ID": "cdr.warehouse-admin",
            "CDR_DB_LOCK_TIMEOUT_SECONDS": "15",
            "CDR_TASK_TIMEOUT_MINUTES": "90",
            "CDR_SYNC_TASK_TIMEOUT_MINUTES": "10",
        }
    )
    assert s.accounts == ("abcd1234", "sub_acct-2")
    assert s.products == ("SMS", "VOICE-CALL")
    assert s.owner_role == "warehouse_owner" and s.warehouse_admin_conn_id == "cdr.warehouse-admin"
    assert s.warehouse_session_bounds().lock_timeout == 15.0
    assert (s.task_execution_timeout, s.sync_task_execution_timeout) == (
        timedelta(minutes=90),
        timedelta(minutes=10),
    )
