"""VonageReportsHook: connection fields -> client settings, defaults, and no secret in reprs."""

from __future__ import annotations

import asyncio
import json

import pytest

from include.vonage_cdr.client import DEFAULT_BASE_URL
from vonage_reports.hooks import VonageReportsHook

SECRET = "hook-secret-4711-xyz"


def set_conn(monkeypatch, conn_id: str, **fields) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "http", **fields}))


def test_defaults_base_url_and_account(monkeypatch) -> None:
    set_conn(monkeypatch, "vonage_default", login="abcd1234", password=SECRET)
    params = VonageReportsHook().get_conn_params()
    assert params.base_url == DEFAULT_BASE_URL
    assert params.account_id == "abcd1234"
    assert params.settings.rate_limit_403 == "body"
    assert SECRET not in repr(params) and SECRET not in repr(VonageReportsHook())


def test_extras_set_account_and_client_options(monkeypatch) -> None:
    extra = {
        "account_id": "subacct1",
        "read_timeout": "7",
        "rate_limit_403": "always",
        "sync_requests_per_second": 3,
    }
    fields = {"host": "127.0.0.1", "port": 8089, "schema": "http", "login": "abcd1234", "password": SECRET}
    set_conn(monkeypatch, "vonage_x", extra=extra, **fields)
    hook = VonageReportsHook(vonage_conn_id="vonage_x")
    params = hook.get_conn_params()
    assert params.base_url == "http://127.0.0.1:8089"
    assert params.account_id == "subacct1"
    assert params.settings.read_timeout == 7.0
    assert params.settings.rate_limit_403 == "always"
    assert params.settings.sync_requests_per_second == 3.0
    client = hook.get_client()
    assert client.base_url == "http://127.0.0.1:8089" and SECRET not in repr(client)
    client.close()


def test_async_path_reads_the_same_connection(monkeypatch) -> None:
    set_conn(
        monkeypatch, "vonage_default", host="https://api.example.test", login="abcd1234", password=SECRET
    )
    params = asyncio.run(VonageReportsHook().aget_conn_params())
    assert params.base_url == "https://api.example.test"
    client = asyncio.run(VonageReportsHook().aget_async_client())
    assert SECRET not in repr(client)


def test_bad_option_is_rejected_with_its_name(monkeypatch) -> None:
    set_conn(
        monkeypatch, "vonage_default", login="abcd1234", password=SECRET, extra={"rate_limit_403": "maybe"}
    )
    with pytest.raises(ValueError, match="rate_limit_403"):
        VonageReportsHook().get_conn_params()


def test_missing_secret_is_reported_without_guessing(monkeypatch) -> None:
    set_conn(monkeypatch, "vonage_default", login="abcd1234")
    with pytest.raises(ValueError, match="password"):
        VonageReportsHook().get_client()
