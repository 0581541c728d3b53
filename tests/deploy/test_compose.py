"""The deployment's promises, checked with the real Compose v2 (no Docker engine needed).

Each test renders docker-compose.yaml with a copy of .env.example, as a user's `.env` would, and asserts
what an operator relies on: the file is valid in every profile combination, every Airflow component gets
the same secrets from `.env`, the executor switches from `.env`, the warehouse and the simulator are where
the docs say, the lake sits on a shared volume, and no variable is left undocumented.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.deploy import compose
from tests.deploy.compose import COMPOSE_FILE, ENV_EXAMPLE, ROOT

AIRFLOW_COMPONENTS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
}
SHARED_SECRETS = (
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW_CONN_VONAGE_DEFAULT",
    "AIRFLOW_CONN_CDR_WAREHOUSE",
)
ALL_PROFILES = ("celery", "sandbox", "flower", "debug")


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    """A user's `.env`: a verbatim copy of the committed template."""
    path = tmp_path / "deploy.env"
    shutil.copyfile(ENV_EXAMPLE, path)
    return path


def with_values(env_file: Path, **values: str) -> Path:
    """Edit the copied `.env` like a user would: replace (or add) NAME=value lines."""
    text = env_file.read_text(encoding="utf-8")
    for name, value in values.items():
        line = f"{name}={value}"
        text, count = re.subn(rf"(?m)^{re.escape(name)}=.*$", lambda _m, line=line: line, text)
        if count == 0:
            text += f"\n{line}\n"
    env_file.write_text(text, encoding="utf-8")
    return env_file


def without(env_file: Path, name: str) -> Path:
    text = env_file.read_text(encoding="utf-8")
    env_file.write_text(re.sub(rf"(?m)^{re.escape(name)}=.*\n", "", text), encoding="utf-8")
    return env_file


def render(env_file: Path, tmp_path: Path, *profiles: str) -> dict[str, Any]:
    return compose.rendered(env_file=env_file, profiles=profiles, home=tmp_path)


def airflow_services(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Services that run Airflow itself (everything from the project image except the simulator)."""
    image = model["services"]["airflow-scheduler"]["image"]
    return {
        name: svc
        for name, svc in model["services"].items()
        if svc.get("image") == image and name != "simulator"
    }


# --- the validator itself ------------------------------------------------------------------------


def test_the_validator_is_compose_v2_and_rejects_an_invalid_file(tmp_path: Path, env_file: Path) -> None:
    binary = compose.find_binary()
    assert binary.name == "docker-compose"
    broken = tmp_path / "docker-compose.yaml"
    broken.write_text("services:\n  api:\n    image: x\n    restart_policy: always\n", encoding="utf-8")
    result = compose.run(["config", "-q"], env_file=env_file, compose_file=broken, home=tmp_path)
    assert result.returncode != 0
    assert "restart_policy" in result.stderr


def test_a_missing_secret_stops_compose_with_its_name(tmp_path: Path, env_file: Path) -> None:
    result = compose.run(
        ["config", "-q"], env_file=without(env_file, "AIRFLOW__API_AUTH__JWT_SECRET"), home=tmp_path
    )
    assert result.returncode != 0
    assert "AIRFLOW__API_AUTH__JWT_SECRET" in result.stderr


@pytest.mark.parametrize("profiles", [(), ("celery", "sandbox"), ALL_PROFILES], ids=str)
def test_the_compose_file_is_valid(tmp_path: Path, env_file: Path, profiles: tuple[str, ...]) -> None:
    result = compose.run(["config", "-q"], env_file=env_file, profiles=profiles, home=tmp_path)
    assert result.returncode == 0, result.stderr


# --- what runs where -------------------------------------------------------------------------------


def test_default_profile_runs_airflow3_locally_with_both_databases(tmp_path: Path, env_file: Path) -> None:
    model = render(env_file, tmp_path)
    services = model["services"]
    assert set(services) == {"postgres", "warehouse", "airflow-init", *AIRFLOW_COMPONENTS}
    for name, command in AIRFLOW_COMPONENTS.items():
        svc = services[name]
        assert svc["command"] == [command]
        assert svc["environment"]["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert svc["healthcheck"]["test"], name
        assert svc["restart"] == "unless-stopped"
        assert svc["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
        assert svc["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert int(svc["deploy"]["resources"]["limits"]["memory"]) > 0
    # tasks (LocalExecutor) and triggers talk to the Execution API on the api-server
    for name in ("airflow-scheduler", "airflow-triggerer"):
        assert services[name]["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"


def test_celery_and_sandbox_profiles_add_workers_redis_and_the_simulator(
    tmp_path: Path, env_file: Path
) -> None:
    services = render(env_file, tmp_path, "celery", "sandbox")["services"]
    assert {"redis", "airflow-worker", "simulator"} <= set(services)
    assert services["airflow-worker"]["command"] == ["celery", "worker"]
    assert services["airflow-worker"]["depends_on"]["redis"]["condition"] == "service_healthy"
    broker = services["airflow-worker"]["environment"]["AIRFLOW__CELERY__BROKER_URL"]
    assert broker.startswith("redis://:") and broker.endswith("@redis:6379/0")

    sim = services["simulator"]
    assert sim["image"] == services["airflow-scheduler"]["image"]
    assert sim["command"] == ["python", "-m", "include.simulator"]
    env = sim["environment"]
    assert env["PORT"] == "8765"
    assert env["SIM_HOST"] == "0.0.0.0"  # reachable from the other containers
    assert env["VONAGE_API_KEY"] and env["VONAGE_API_SECRET"]
    assert "/opt/airflow" in env["PYTHONPATH"].split(":")
    assert not any(name.startswith("AIRFLOW__") for name in env), "the simulator gets no Airflow secrets"
    assert [p["target"] for p in sim["ports"]] == [8765]


def test_the_executor_switches_to_celery_from_the_env_file(tmp_path: Path, env_file: Path) -> None:
    env_file = with_values(env_file, AIRFLOW__CORE__EXECUTOR="CeleryExecutor", COMPOSE_PROFILES="celery")
    model = render(env_file, tmp_path)  # no --profile flag: COMPOSE_PROFILES from the file
    assert {"redis", "airflow-worker"} <= set(model["services"])
    for name, svc in airflow_services(model).items():
        assert svc["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name


# --- secrets and settings ------------------------------------------------------------------------


def test_every_airflow_component_gets_the_same_secrets_from_the_env_file(
    tmp_path: Path, env_file: Path
) -> None:
    env_file = with_values(
        env_file,
        AIRFLOW__API_AUTH__JWT_SECRET="jwt-0f1e2d3c4b5a",
        AIRFLOW__CORE__FERNET_KEY="fernet-9a8b7c6d5e4f",
    )
    model = render(env_file, tmp_path, *ALL_PROFILES)
    services = airflow_services(model)
    assert {*AIRFLOW_COMPONENTS, "airflow-worker", "airflow-init", "flower", "airflow-cli"} <= set(services)
    for variable in SHARED_SECRETS:
        values = {name: svc["environment"].get(variable) for name, svc in services.items()}
        assert None not in values.values(), f"{variable} missing in {values}"
        assert len(set(values.values())) == 1, f"{variable} differs between components: {values}"
    scheduler_env = services["airflow-scheduler"]["environment"]
    assert scheduler_env["AIRFLOW__API_AUTH__JWT_SECRET"] == "jwt-0f1e2d3c4b5a"
    assert scheduler_env["AIRFLOW__CORE__FERNET_KEY"] == "fernet-9a8b7c6d5e4f"
    assert (
        scheduler_env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    )


def test_project_code_is_importable_and_the_lake_is_on_the_shared_volume(
    tmp_path: Path, env_file: Path
) -> None:
    model = render(env_file, tmp_path, *ALL_PROFILES)
    for name, svc in airflow_services(model).items():
        env = svc["environment"]
        assert env["PYTHONPATH"].split(":")[:2] == ["/opt/airflow", "/opt/airflow/plugins"], name
        mounts = {m["target"]: m for m in svc["volumes"]}
        assert mounts["/opt/airflow/data"]["type"] == "volume", name
        assert mounts["/opt/airflow/data"]["source"] == "cdr-data", name
        assert mounts["/opt/airflow/logs"]["source"] == "airflow-logs", name
        assert env["CDR_LAKE_ROOT"].startswith("/opt/airflow/data/"), (name, env["CDR_LAKE_ROOT"])
        assert not env["CDR_WORK_DIR"].startswith("/opt/airflow/data/"), name  # scratch stays local
    assert {"cdr-data", "airflow-logs", "warehouse-db-volume", "postgres-db-volume"} <= set(model["volumes"])


def test_the_connections_are_in_the_shape_the_pipeline_reads(tmp_path: Path, env_file: Path) -> None:
    env = render(env_file, tmp_path)["services"]["airflow-scheduler"]["environment"]
    vonage = json.loads(env["AIRFLOW_CONN_VONAGE_DEFAULT"])
    assert vonage["conn_type"] == "http"
    assert {"login", "password", "host"} <= set(vonage)
    assert vonage["extra"]["account_id"]
    warehouse = env["AIRFLOW_CONN_CDR_WAREHOUSE"]
    # .env interpolation: the pipeline login and its password, never the warehouse admin
    assert warehouse == "postgres://cdr_pipeline:CHANGE_ME_warehouse_pipeline_password@warehouse:5432/cdr"


def test_the_sandbox_profile_needs_no_connection_edit(tmp_path: Path, env_file: Path) -> None:
    # Two plain settings, no JSON to uncomment or edit: the profile and the connection id.
    env_file = with_values(env_file, COMPOSE_PROFILES="sandbox", CDR_VONAGE_CONN_ID="vonage_sandbox")
    model = render(env_file, tmp_path)
    services = model["services"]
    assert "simulator" in services
    sim_env = services["simulator"]["environment"]
    for name, svc in airflow_services(model).items():
        env = svc["environment"]
        assert env["CDR_VONAGE_CONN_ID"] == "vonage_sandbox", name
        conn = json.loads(env["AIRFLOW_CONN_VONAGE_SANDBOX"])
        assert conn["host"] == "http://simulator:8765", name
        assert (conn["login"], conn["password"]) == (sim_env["VONAGE_API_KEY"], sim_env["VONAGE_API_SECRET"])
        assert conn["extra"]["account_id"] == sim_env["VONAGE_API_KEY"]
    assert services["airflow-init"]["depends_on"]["simulator"]["condition"] == "service_healthy"


def test_flower_cannot_start_without_its_broker(tmp_path: Path, env_file: Path) -> None:
    alone = compose.run(["config", "-q"], env_file=env_file, profiles=("flower",), home=tmp_path)
    assert alone.returncode != 0 and "redis" in alone.stderr, alone
    services = render(env_file, tmp_path, "celery", "flower")["services"]
    assert services["flower"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["flower"]["depends_on"]["redis"].get("required", True) is True


# --- init job and warehouse ------------------------------------------------------------------------


def test_the_init_job_migrates_both_databases_and_creates_the_pool(tmp_path: Path, env_file: Path) -> None:
    services = render(env_file, tmp_path)["services"]
    init = services["airflow-init"]
    script = init["command"][-1]
    for step in (
        "python -m include.deploy.preflight",
        "airflow db migrate",
        "airflow users create --role Admin",
        'airflow pools set "$${CDR_API_POOL}" "$${CDR_API_POOL_SLOTS}" --include-deferred',
        "python -m include.vonage_cdr.warehouse.migrate",
    ):
        assert step in script, step
    assert script.index("include.deploy.preflight") < script.index("airflow db migrate")
    assert script.index("airflow db migrate") < script.index("airflow pools set")
    env = init["environment"]
    assert env["CDR_API_POOL"] == "vonage_reports_api"
    assert int(env["CDR_API_POOL_SLOTS"]) >= 1
    assert env["CDR_WAREHOUSE_URL"].startswith("postgresql://cdr_admin:")
    assert env["CDR_WAREHOUSE_URL"].endswith("@warehouse:5432/cdr")
    assert init["depends_on"]["warehouse"]["condition"] == "service_healthy"
    assert init["restart"] == "no"
    # the warehouse admin password reaches only the init job
    admin_password = env["WAREHOUSE_ADMIN_PASSWORD"]
    for name, svc in services.items():
        if name not in ("airflow-init", "warehouse"):
            assert admin_password not in str(svc.get("environment", {})), name


def test_the_warehouse_is_its_own_postgres15_with_a_volume(tmp_path: Path, env_file: Path) -> None:
    services = render(env_file, tmp_path)["services"]
    wh = services["warehouse"]
    assert wh["image"].startswith("postgres:15")
    # Airflow's metadata lives elsewhere: its own server and volume
    assert [m["source"] for m in services["postgres"]["volumes"]] == ["postgres-db-volume"]
    assert {m["source"]: m["target"] for m in wh["volumes"]} == {
        "warehouse-db-volume": "/var/lib/postgresql/data"
    }
    assert wh["environment"]["POSTGRES_DB"] == "cdr"
    assert "pg_isready" in " ".join(wh["healthcheck"]["test"])
    assert [(p["host_ip"], p["target"]) for p in wh["ports"]] == [("127.0.0.1", 5432)]


# --- documentation of every variable ---------------------------------------------------------------


def env_example_names() -> set[str]:
    return set(re.findall(r"(?m)^([A-Z_][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(encoding="utf-8")))


def test_every_variable_the_compose_file_reads_is_documented_in_env_example() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)", text))
    missing = sorted(used - env_example_names())
    assert not missing, f"not in .env.example: {missing}"


def test_every_cdr_setting_is_documented_and_passed_to_airflow(tmp_path: Path, env_file: Path) -> None:
    source = (ROOT / "include" / "vonage_cdr" / "settings.py").read_text(encoding="utf-8")
    settings = set(re.findall(r'"(CDR_[A-Z0-9_]+)"', source))
    assert len(settings) > 15  # the regex still finds the settings module's variables
    assert not sorted(settings - env_example_names()), "CDR_* settings missing from .env.example"
    env = render(env_file, tmp_path)["services"]["airflow-scheduler"]["environment"]
    assert not sorted(settings - set(env)), "CDR_* settings not passed to the Airflow components"


# --- image -----------------------------------------------------------------------------------------


def test_the_image_bakes_in_the_project_on_airflow_332() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "apache/airflow:3.3.2-python3.11" in dockerfile
    assert "pip install --no-cache-dir -r requirements.txt -c constraints.txt" in dockerfile
    for folder in ("dags", "plugins", "include"):
        assert re.search(rf"(?m)^COPY .*\b{folder}/ /opt/airflow/{folder}/$", dockerfile), folder
    ignore = [ln.strip() for ln in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()]
    rules = [ln for ln in ignore if ln and not ln.startswith("#")]
    assert rules[0] == "*", "the build context is an allow-list"
    assert not any(r.startswith("!") and ".env" in r for r in rules), "secrets stay out of the image"
