"""The `celery` profile with the lake on object storage: the settings the two-worker test runs with.

tests/dags/test_celery_object_store.py proves the pipeline on two Celery workers with a Redis broker, Celery
results in PostgreSQL and an s3:// lake. This checks that docker-compose hands every component those same
settings when `.env` asks for them, and keeps the download scratch out of the shared volume.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.deploy.compose import ENV_EXAMPLE
from tests.deploy.test_compose import airflow_services, render, with_values

LAKE_CONNECTION = json.dumps(
    {
        "conn_type": "aws",
        "login": "lake-key-id",
        "password": "lake-secret",
        "extra": {"region_name": "eu-west-1", "endpoint_url": "https://minio.internal:9000"},
    }
)


@pytest.fixture
def celery_s3_env(tmp_path: Path) -> Path:
    path = tmp_path / "deploy.env"
    shutil.copyfile(ENV_EXAMPLE, path)
    return with_values(
        path,
        AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
        COMPOSE_PROFILES="celery",
        CDR_LAKE_ROOT="s3://cdr-lake/prod",
        CDR_LAKE_CONN_ID="cdr_lake",
        AIRFLOW_CONN_CDR_LAKE=f"'{LAKE_CONNECTION}'",
    )


def test_every_component_gets_the_brokers_results_and_the_object_store_lake(
    tmp_path: Path, celery_s3_env: Path
) -> None:
    model = render(celery_s3_env, tmp_path, "celery")
    services = airflow_services(model)
    assert "airflow-worker" in services and "redis" in model["services"]
    envs = {name: svc["environment"] for name, svc in services.items()}
    for name, env in envs.items():
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://:"), name  # password-protected Redis
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://"), name
        assert env["CDR_LAKE_ROOT"] == "s3://cdr-lake/prod", name
        assert env["CDR_LAKE_CONN_ID"] == "cdr_lake", name
        assert json.loads(env["AIRFLOW_CONN_CDR_LAKE"]) == json.loads(LAKE_CONNECTION), name
        assert env["CDR_WORK_DIR"] == "/opt/airflow/work", name
    for shared in (
        "AIRFLOW__CELERY__BROKER_URL",
        "AIRFLOW__CELERY__RESULT_BACKEND",
        "AIRFLOW__API_AUTH__JWT_SECRET",
    ):
        assert len({env[shared] for env in envs.values()}) == 1, shared


def test_the_default_lake_stays_local_and_defines_no_lake_connection(tmp_path: Path) -> None:
    path = tmp_path / "deploy.env"
    shutil.copyfile(ENV_EXAMPLE, path)
    env = render(path, tmp_path)["services"]["airflow-scheduler"]["environment"]
    assert env["CDR_LAKE_ROOT"] == "/opt/airflow/data/lake"
    assert env.get("CDR_LAKE_CONN_ID", "") == "" and env.get("AIRFLOW_CONN_CDR_LAKE", "") == ""
