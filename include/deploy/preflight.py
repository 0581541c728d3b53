"""``python -m include.deploy.preflight``: refuse to start a deployment whose ``.env`` cannot work.

Run by the ``airflow-init`` job of docker-compose.yaml before it migrates anything, with the Airflow
components' environment. Each problem is one line naming the variable and the fix; any problem exits 1,
so no component starts (they all wait for the init job to succeed). It checks:

* secrets still holding a ``CHANGE_ME`` placeholder, and a Fernet key that is not one;
* the Vonage connection the DAGs use (``CDR_VONAGE_CONN_ID``): it exists, parses, and has no
  placeholder credentials; the sandbox connection needs the ``sandbox`` profile's simulator running;
* the executor and the ``celery`` profile agree: CeleryExecutor needs the broker the profile starts,
  and a running broker with another executor means workers that would never get a task.

Standard library only (plus ``cryptography`` for the Fernet key, which Airflow installs).
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Callable, Mapping
from urllib.parse import unquote, urlsplit

PLACEHOLDER = "CHANGE_ME"
SECRETS = (
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW_DB_PASSWORD",
    "WAREHOUSE_ADMIN_PASSWORD",
    "WAREHOUSE_PIPELINE_PASSWORD",
    "_AIRFLOW_WWW_USER_PASSWORD",
)
SANDBOX_CONN_ID = "vonage_sandbox"
SANDBOX_HINT = "COMPOSE_PROFILES=sandbox and CDR_VONAGE_CONN_ID=vonage_sandbox in .env"

Reachable = Callable[[str, int], bool]


def tcp_reachable(host: str, port: int, timeout: float = 5.0) -> bool:
    """Whether ``host:port`` accepts a TCP connection (a service of a disabled profile has no DNS name)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _connection(raw: str) -> dict[str, object]:
    """An ``AIRFLOW_CONN_*`` value (JSON or URI) as conn_type/host/port/login/password."""
    text = raw.strip()
    if text.startswith("{"):
        return dict(json.loads(text))
    parts = urlsplit(text)
    return {
        "conn_type": parts.scheme,
        "host": parts.hostname,
        "port": parts.port,
        "login": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
    }


def _host_port(conn: Mapping[str, object]) -> tuple[str, int]:
    host = str(conn.get("host") or "")
    if "://" in host:
        parts = urlsplit(host)
        return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    return host, int(conn.get("port") or 443)  # type: ignore[call-overload]


def check_secrets(env: Mapping[str, str]) -> list[str]:
    names = list(SECRETS)
    if "Celery" in env.get("AIRFLOW__CORE__EXECUTOR", ""):
        names.append("REDIS_PASSWORD")
    problems = [
        f"{name} still has its placeholder value: generate one as docs/deployment.md shows"
        for name in names
        if env.get(name, "").startswith(PLACEHOLDER)
    ]
    key = env.get("AIRFLOW__CORE__FERNET_KEY", "")
    if key and not key.startswith(PLACEHOLDER):
        try:
            from cryptography.fernet import Fernet

            Fernet(key.encode())
        except (ValueError, TypeError):
            problems.append("AIRFLOW__CORE__FERNET_KEY is not a valid Fernet key (32 url-safe base64 bytes)")
    return problems


def check_vonage_connection(env: Mapping[str, str], reachable: Reachable = tcp_reachable) -> list[str]:
    conn_id = env.get("CDR_VONAGE_CONN_ID") or "vonage_default"
    variable = f"AIRFLOW_CONN_{conn_id.upper()}"
    raw = env.get(variable, "")
    if not raw.strip():
        return [f"CDR_VONAGE_CONN_ID is {conn_id}, but {variable} is not set"]
    try:
        conn = _connection(raw)
    except ValueError as exc:
        return [f"{variable} is neither JSON nor a connection URI: {exc}"]
    problems = []
    for part, meaning in (("login", "the Vonage API key"), ("password", "the Vonage API secret")):
        value = str(conn.get(part) or "")
        if not value:
            problems.append(f"{variable} has no {part} ({meaning})")
        elif PLACEHOLDER in value:
            problems.append(
                f"{variable} still has a placeholder {part} ({meaning}): fill in your credentials, "
                f"or try the simulator with {SANDBOX_HINT}"
            )
    extra = conn.get("extra") or {}
    if isinstance(extra, str):
        extra = json.loads(extra or "{}")
    if PLACEHOLDER in str(extra.get("account_id", "")):  # type: ignore[union-attr]
        problems.append(f"{variable} still has a placeholder extra.account_id")
    host, port = _host_port(conn)
    if conn_id == SANDBOX_CONN_ID and not reachable(host, port):
        problems.append(
            f"CDR_VONAGE_CONN_ID is {SANDBOX_CONN_ID} but the simulator ({host}:{port}) is not running: "
            "add sandbox to COMPOSE_PROFILES"
        )
    return problems


def check_executor_and_broker(env: Mapping[str, str], reachable: Reachable = tcp_reachable) -> list[str]:
    executor = env.get("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    broker = urlsplit(env.get("AIRFLOW__CELERY__BROKER_URL", ""))
    host, port = broker.hostname or "redis", broker.port or 6379
    up = reachable(host, port)
    if "Celery" in executor and not up:
        return [
            f"AIRFLOW__CORE__EXECUTOR is {executor} but the Celery broker {host}:{port} is not reachable: "
            "add celery to COMPOSE_PROFILES (it starts redis and the workers)"
        ]
    if "Celery" not in executor and up and host == "redis":
        return [
            f"the celery profile is on (redis runs) but AIRFLOW__CORE__EXECUTOR is {executor}: the workers "
            "would never get a task. Set AIRFLOW__CORE__EXECUTOR=CeleryExecutor, or drop celery from "
            "COMPOSE_PROFILES"
        ]
    return []


def problems(env: Mapping[str, str], reachable: Reachable = tcp_reachable) -> list[str]:
    return [
        *check_secrets(env),
        *check_vonage_connection(env, reachable),
        *check_executor_and_broker(env, reachable),
    ]


def main(env: Mapping[str, str] | None = None, reachable: Reachable = tcp_reachable) -> int:
    found = problems(os.environ if env is None else env, reachable)
    for problem in found:
        print(f"airflow-init: {problem}", file=sys.stderr)
    if found:
        print("airflow-init: fix .env, then run `docker compose up -d` again", file=sys.stderr)
        return 1
    print("airflow-init: preflight checks passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
