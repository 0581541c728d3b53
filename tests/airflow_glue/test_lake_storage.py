"""The lake of the tasks: CDR_LAKE_ROOT on an S3-compatible server, credentials from an `aws` connection."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from include.vonage_cdr.settings import Settings
from tests.fixtures.object_store import S3_ACCESS_KEY, S3_SECRET_KEY
from vonage_reports.lake_storage import lake_for, s3_options


def test_an_aws_connection_gives_the_lake_its_endpoint_and_keys(
    monkeypatch: Any, s3_server: Any, s3_bucket: str
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CDR_LAKE", s3_server.connection_json())
    settings = Settings.from_env({"CDR_LAKE_ROOT": f"s3://{s3_bucket}/lake", "CDR_LAKE_CONN_ID": "cdr_lake"})

    lake = lake_for(settings)
    target = lake.day_dir("SMS", date(2026, 11, 20)) / "probe.txt"
    lake.write_atomic(target, lambda out: out.write(b"reached"))

    assert target.url == f"s3://{s3_bucket}/lake/product=SMS/date=2026-11-20/probe.txt"
    assert target.read_bytes() == b"reached"
    options = s3_options("cdr_lake")
    assert (options.access_key, options.endpoint_url) == (S3_ACCESS_KEY, s3_server.endpoint_url)
    for shown in (repr(options), repr(lake), repr(target), target.url):
        assert S3_SECRET_KEY not in shown


def test_the_endpoint_may_sit_in_the_amazon_providers_service_config(monkeypatch: Any) -> None:
    conn = {
        "conn_type": "aws",
        "login": "key-id",
        "password": "secret-value",
        "extra": {
            "service_config": {"s3": {"endpoint_url": "https://minio.internal:9000"}},
            "verify": "/ca.pem",
        },
    }
    monkeypatch.setenv("AIRFLOW_CONN_MINIO", json.dumps(conn))
    options = s3_options("minio")
    assert (options.endpoint_url, options.ca_file, options.region) == (
        "https://minio.internal:9000",
        "/ca.pem",
        None,
    )
    assert "secret-value" not in repr(options)
