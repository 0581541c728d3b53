"""airflow-init's preflight check, run on the environment Compose renders for it from a user's `.env`.

The network is the rendered project: a host is reachable when its service runs in the chosen profiles
(a service of a disabled profile has no DNS name in the compose network).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from include.deploy import preflight
from tests.deploy.test_compose import ENV_EXAMPLE, render, with_values

FILLED = {
    "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
    "AIRFLOW__API_AUTH__JWT_SECRET": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "AIRFLOW__API__SECRET_KEY": "a5b4c3d2e1f00f1e2d3c4b5a69788796",
    "_AIRFLOW_WWW_USER_PASSWORD": "adminpw0123456789",
    "AIRFLOW_DB_PASSWORD": "dbpw0123456789",
    "REDIS_PASSWORD": "redispw0123456789",
    "WAREHOUSE_ADMIN_PASSWORD": "whadmin0123456789",
    "WAREHOUSE_PIPELINE_PASSWORD": "whpipe0123456789",
}
LIVE = {
    "conn_type": "http",
    "login": "a1b2c3d4",
    "password": "s3cr3tValue",
    "host": "https://api.nexmo.com",
    "extra": {"account_id": "a1b2c3d4"},
}
LIVE_CONN = f"'{json.dumps(LIVE)}'"  # single quotes: .env takes it literally


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    path = tmp_path / "deploy.env"
    shutil.copyfile(ENV_EXAMPLE, path)
    return path


def init_check(env_file: Path, tmp_path: Path) -> list[str]:
    """Render the project as `docker compose up` would and run the init job's check in it."""
    model = render(env_file, tmp_path)
    services: dict[str, Any] = model["services"]
    env = {k: str(v) for k, v in services["airflow-init"]["environment"].items() if v is not None}
    return preflight.problems(env, reachable=lambda host, port: host in services)


def test_the_committed_template_is_refused_naming_each_placeholder(env_file: Path, tmp_path: Path) -> None:
    found = "\n".join(init_check(env_file, tmp_path))
    for name in FILLED:
        if name != "REDIS_PASSWORD":  # only checked with the Celery executor
            assert name in found, name
    assert "AIRFLOW_CONN_VONAGE_DEFAULT still has a placeholder login" in found
    assert "AIRFLOW_CONN_VONAGE_DEFAULT still has a placeholder password" in found
    assert "CDR_VONAGE_CONN_ID=vonage_sandbox" in found, "the refusal points at the sandbox"


def test_filled_secrets_and_real_credentials_pass(env_file: Path, tmp_path: Path) -> None:
    env_file = with_values(env_file, **FILLED, AIRFLOW_CONN_VONAGE_DEFAULT=LIVE_CONN)
    assert init_check(env_file, tmp_path) == []


def test_placeholder_vonage_credentials_alone_still_fail(env_file: Path, tmp_path: Path) -> None:
    found = init_check(with_values(env_file, **FILLED), tmp_path)
    assert found and all("AIRFLOW_CONN_VONAGE_DEFAULT" in problem for problem in found), found


def test_the_sandbox_needs_only_the_profile_and_the_connection_id(env_file: Path, tmp_path: Path) -> None:
    sandbox = with_values(env_file, **FILLED, COMPOSE_PROFILES="sandbox", CDR_VONAGE_CONN_ID="vonage_sandbox")
    assert init_check(sandbox, tmp_path) == []
    # the connection chosen without the profile: there is no simulator to talk to
    without_profile = with_values(
        env_file, **FILLED, CDR_VONAGE_CONN_ID="vonage_sandbox", COMPOSE_PROFILES=""
    )
    (problem,) = init_check(without_profile, tmp_path)
    assert "add sandbox to COMPOSE_PROFILES" in problem


def test_the_executor_and_the_celery_profile_must_agree(env_file: Path, tmp_path: Path) -> None:
    base = {**FILLED, "AIRFLOW_CONN_VONAGE_DEFAULT": LIVE_CONN}
    celery = "CeleryExecutor"
    both = with_values(env_file, **base, COMPOSE_PROFILES="celery", AIRFLOW__CORE__EXECUTOR=celery)
    assert init_check(both, tmp_path) == []
    only_executor = with_values(env_file, **base, COMPOSE_PROFILES="", AIRFLOW__CORE__EXECUTOR=celery)
    (problem,) = init_check(only_executor, tmp_path)
    assert "add celery to COMPOSE_PROFILES" in problem
    local = "LocalExecutor"
    only_profile = with_values(env_file, **base, COMPOSE_PROFILES="celery", AIRFLOW__CORE__EXECUTOR=local)
    (problem,) = init_check(only_profile, tmp_path)
    assert "AIRFLOW__CORE__EXECUTOR=CeleryExecutor" in problem


def test_an_invalid_fernet_key_is_refused(env_file: Path, tmp_path: Path) -> None:
    bad_key = {**FILLED, "AIRFLOW__CORE__FERNET_KEY": "not-a-key"}
    env_file = with_values(env_file, **bad_key, AIRFLOW_CONN_VONAGE_DEFAULT=LIVE_CONN)
    (problem,) = init_check(env_file, tmp_path)
    assert problem.startswith("AIRFLOW__CORE__FERNET_KEY is not a valid Fernet key")
