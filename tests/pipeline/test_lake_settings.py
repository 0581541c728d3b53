"""CDR_LAKE_ROOT and CDR_LAKE_CONN_ID: what a lake root may be, and what is refused before any task runs."""

from __future__ import annotations

import pytest

from include.vonage_cdr.lake_url import parse_lake_root
from include.vonage_cdr.settings import PROJECT_ROOT, Settings, SettingsError


def test_the_default_lake_is_local_and_needs_no_connection() -> None:
    settings = Settings.from_env({})
    assert settings.lake_root == str(PROJECT_ROOT / ".state" / "lake")
    assert settings.lake_conn_id is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("s3://cdr-lake/prod/", "s3://cdr-lake/prod"),
        ("s3://cdr-lake", "s3://cdr-lake"),
        ("S3://cdr-lake//a//b", "s3://cdr-lake/a/b"),
        ("file:///var/lib/cdr/lake", "file:///var/lib/cdr/lake"),
    ],
)
def test_an_object_store_or_file_url_is_accepted(raw: str, expected: str) -> None:
    assert Settings.from_env({"CDR_LAKE_ROOT": raw}).lake_root == expected


def test_a_plain_path_stays_a_path() -> None:
    assert Settings.from_env({"CDR_LAKE_ROOT": "/data/lake"}).lake_root == "/data/lake"
    assert parse_lake_root("/data/lake/") == ("file", "/data/lake")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("s3://AKIAXXXX:very-secret-key@cdr-lake/prod", "must not carry credentials"),
        ("gs://cdr-lake/prod", "unsupported lake root scheme 'gs'"),
        ("s3://Not_A_Bucket/prod", "not a valid S3 bucket name"),
        ("s3://cdr-lake/a/../b", "'.' or '..'"),
        ("file://otherhost/lake", "must be local"),
    ],
)
def test_a_lake_root_that_cannot_work_is_refused_with_the_reason(raw: str, message: str) -> None:
    with pytest.raises(SettingsError, match="CDR_LAKE_ROOT") as info:
        Settings.from_env({"CDR_LAKE_ROOT": raw})
    assert message in str(info.value)
    assert "very-secret-key" not in str(info.value)


def test_a_lake_connection_for_a_local_lake_is_a_mistake() -> None:
    with pytest.raises(SettingsError, match="CDR_LAKE_CONN_ID is set but CDR_LAKE_ROOT is a local path"):
        Settings.from_env({"CDR_LAKE_CONN_ID": "cdr_lake"})
    settings = Settings.from_env({"CDR_LAKE_CONN_ID": "cdr_lake", "CDR_LAKE_ROOT": "s3://cdr-lake/x"})
    assert settings.lake_conn_id == "cdr_lake"
