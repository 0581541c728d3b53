"""Apply the warehouse's versioned SQL migrations: ordered, recorded, checksummed, safe to re-run and to race.

Why a tiny runner instead of Alembic: the warehouse is plain SQL an analyst can read, and the pipelines must
apply it before every load without extra dependencies. Rules:

* files are ``NNNN_name.sql`` in ``migrations/``, applied in version order, each in its own transaction
  together with its row in ``cdr.schema_migrations`` (version, name, SHA-256 of the file);
* already-applied versions are skipped; an applied file whose checksum changed is an error (write a new
  migration instead of editing a released one);
* a session-level advisory lock serialises concurrent runners (two DAG runs starting at once): the second
  waits, then finds nothing left to apply;
* ``{{owner_role}}``/``{{loader_role}}``/``{{analyst_role}}`` are replaced by the role names quoted as
  identifiers (and ``{{..._literal}}`` as string literals) with psycopg's quoting; role names must also be
  plain identifiers;
* who runs a migration: one marked ``-- migrate:run-as-connecting-user`` (0001 roles and schemas, 0006 least
  privilege) runs as the connecting user, who must be an administrator; the released 0002-0005 run under
  ``SET LOCAL ROLE <loader>`` (the loader owned everything until 0006 handed it to the owner); every
  migration from 0006 on runs under ``SET LOCAL ROLE <owner>``, so the owner role owns every object and the
  runtime loader owns nothing. Before applying anything the runner checks that the connecting user may run
  every pending migration, and refuses with a message saying who can (a runtime login with nothing
  pending only reads ``cdr.schema_migrations``);
* the session is bounded (:mod:`include.vonage_cdr.warehouse.connect`): lock_timeout makes DDL give up
  instead of queueing behind an analyst's long query (and blocking everyone behind itself); waiting for
  another runner's advisory lock is bounded by statement_timeout instead.

Command: ``python -m include.vonage_cdr.warehouse.migrate [--dsn DSN]`` (default: $CDR_WAREHOUSE_URL), or
``make migrate``.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from include.vonage_cdr.warehouse.connect import (
    SessionBounds,
    WarehouseTimeout,
    bounded_conninfo,
    explained_timeouts,
)

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
WAREHOUSE_URL_ENV = "CDR_WAREHOUSE_URL"
OWNER_ROLE_ENV = "CDR_OWNER_ROLE"
LOADER_ROLE_ENV = "CDR_LOADER_ROLE"
ANALYST_ROLE_ENV = "CDR_ANALYST_ROLE"
DEFAULT_OWNER_ROLE = "cdr_owner"
DEFAULT_LOADER_ROLE = "cdr_loader"
DEFAULT_ANALYST_ROLE = "cdr_analyst"
#: the first version that runs as the owner role; the released ones before it ran as the loader
OWNER_ROLE_SINCE = "0006"

#: key of the session advisory lock held while migrating (any constant bigint unique to this application).
ADVISORY_LOCK_KEY = 0x0CD2_2A11_0001
RUN_AS_CONNECTING_USER = "-- migrate:run-as-connecting-user"

_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")
_ROLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


class MigrationError(RuntimeError):
    """The migrations cannot be applied as they stand (bad file set, changed applied file, bad role)."""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def runs_as_connecting_user(self) -> bool:
        return self.text.lstrip().startswith(RUN_AS_CONNECTING_USER)


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in version order; a stray or duplicate-version .sql file is an error."""
    migrations: dict[str, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files must be named NNNN_name.sql")
        version = match["version"]
        if version in migrations:
            raise MigrationError(
                f"two migrations with version {version}: {migrations[version].path.name}, {path.name}"
            )
        migrations[version] = Migration(version, match["name"], path, path.read_text(encoding="utf-8"))
    return [migrations[v] for v in sorted(migrations)]


def _check_role_name(role: str) -> str:
    if not _ROLE_NAME.match(role):
        raise MigrationError(f"role name {role!r} must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*)")
    return role


def render(
    migration: Migration,
    conn: psycopg.Connection,
    *,
    loader_role: str,
    analyst_role: str,
    owner_role: str = DEFAULT_OWNER_ROLE,
) -> str:
    """The migration's SQL with role placeholders replaced by properly quoted identifiers/literals."""
    values = {}
    for key, role in (
        ("owner_role", owner_role),
        ("loader_role", loader_role),
        ("analyst_role", analyst_role),
    ):
        values[key] = sql.Identifier(role).as_string(conn)
        values[f"{key}_literal"] = sql.Literal(role).as_string(conn)
    # {{analyst_pii_role}}: analysts who may also read message bodies (migration 0008). $CDR_ANALYST_PII_ROLE,
    # else the analyst role's name + "_pii", so every analyst role name gets its own PII role.
    pii_role = _check_role_name(os.environ.get("CDR_ANALYST_PII_ROLE") or f"{analyst_role}_pii")
    values["analyst_pii_role"] = sql.Identifier(pii_role).as_string(conn)
    values["analyst_pii_role_literal"] = sql.Literal(pii_role).as_string(conn)

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise MigrationError(f"{migration.path.name}: unknown placeholder {{{{{key}}}}}")
        return values[key]

    return _PLACEHOLDER.sub(substitute, migration.text)


@dataclass(frozen=True)
class Roles:
    owner: str
    loader: str
    analyst: str

    def runs_as(self, migration: Migration) -> str | None:
        """The role a migration runs as (SET LOCAL ROLE), or None for the connecting user."""
        if migration.runs_as_connecting_user:
            return None
        return self.loader if migration.version < OWNER_ROLE_SINCE else self.owner


def _applied_checksums(conn: psycopg.Connection) -> dict[str, str]:
    exists = conn.execute("SELECT to_regclass('cdr.schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return {}
    rows = conn.execute("SELECT version, checksum FROM cdr.schema_migrations").fetchall()
    return {version: checksum for version, checksum in rows}


def _become(conn: psycopg.Connection, role: str) -> None:
    """SET LOCAL ROLE so ``role`` owns what the migration creates (no-op when already that role)."""
    row = conn.execute("SELECT current_user = %s", (role,)).fetchone()
    if row and row[0]:
        return
    conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))


def check_privileges(conn: psycopg.Connection, todo: Sequence[Migration], roles: Roles) -> None:
    """Refuse, before applying anything, pending migrations the connecting user may not run."""
    row = conn.execute(
        "SELECT current_user, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    assert row is not None
    user, superuser, createrole = row
    if superuser or not todo:
        return
    problems: list[str] = []
    role_created_here = False
    for migration in todo:
        role = roles.runs_as(migration)
        if role is None:
            if not createrole:
                problems.append(f"{migration.path.name} needs an administrator (superuser or CREATEROLE)")
            role_created_here = True  # an admin migration creates (or grants) the roles the next ones use
            continue
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        member = exists and conn.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", (role,)).fetchone()
        if not (member and member[0]) and not role_created_here:
            problems.append(f"{migration.path.name} runs as role {role!r}, of which {user!r} is not a member")
    if problems:
        raise MigrationError(
            f"{len(todo)} pending warehouse migration(s) cannot be applied as {user!r}: "
            + "; ".join(problems)
            + ". Apply them as the warehouse administrator: `make migrate` with CDR_WAREHOUSE_URL, or the "
            "Airflow connection named by CDR_WAREHOUSE_ADMIN_CONN_ID (README, Roles and credentials)"
        )


def pending(applied: dict[str, str], migrations: Sequence[Migration]) -> list[Migration]:
    """Migrations not yet applied; raises when an applied file was changed afterwards."""
    changed = [m.path.name for m in migrations if m.version in applied and applied[m.version] != m.checksum]
    if changed:
        raise MigrationError(
            "applied migration files were changed after being applied (add a new migration instead): "
            + ", ".join(changed)
        )
    unknown = sorted(set(applied) - {m.version for m in migrations})
    if unknown:
        log.warning("database has migrations this code does not know (newer code ran?): %s", unknown)
    return [m for m in migrations if m.version not in applied]


def apply_migrations(
    dsn: str,
    *,
    loader_role: str = DEFAULT_LOADER_ROLE,
    analyst_role: str = DEFAULT_ANALYST_ROLE,
    owner_role: str = DEFAULT_OWNER_ROLE,
    directory: Path = MIGRATIONS_DIR,
    bounds: SessionBounds | None = None,
) -> list[str]:
    """Apply every pending migration to the database at ``dsn``; returns the versions applied by this call.

    Safe to call before every load and from concurrent processes: an advisory lock serialises runners, and
    a run with nothing pending only reads ``cdr.schema_migrations``.
    """
    roles = Roles(_check_role_name(owner_role), _check_role_name(loader_role), _check_role_name(analyst_role))
    if len({roles.owner, roles.loader, roles.analyst}) != 3:
        raise MigrationError(f"owner, loader and analyst roles must be three different roles: {roles}")
    migrations = discover(directory)
    applied_now: list[str] = []
    with psycopg.connect(bounded_conninfo(libpq_dsn(dsn), bounds), autocommit=True) as conn:
        # another runner may be applying migrations: wait for it up to statement_timeout, not lock_timeout
        conn.execute("SET lock_timeout = 0")
        conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        conn.execute("RESET lock_timeout")
        try:
            todo = pending(_applied_checksums(conn), migrations)
            check_privileges(conn, todo, roles)
            for migration in todo:
                text = render(
                    migration,
                    conn,
                    loader_role=roles.loader,
                    analyst_role=roles.analyst,
                    owner_role=roles.owner,
                )
                with conn.transaction():
                    role = roles.runs_as(migration)
                    if role is not None:
                        _become(conn, role)
                    conn.execute(text.encode())  # no parameters: sent as one multi-statement query
                    conn.execute(
                        "INSERT INTO cdr.schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                log.info("applied migration %s_%s", migration.version, migration.name)
                applied_now.append(migration.version)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
    return applied_now


def libpq_dsn(url: str) -> str:
    """Accept SQLAlchemy-style URLs (postgresql+psycopg://...) as well as libpq conninfo strings."""
    return re.sub(r"^postgres(?:ql)?\+\w+://", "postgresql://", url)


def _bounds_from_env() -> SessionBounds:
    """The CDR_DB_* session bounds, so `make migrate` is bounded like the pipelines."""
    from include.vonage_cdr.settings import Settings

    return Settings.from_env().warehouse_session_bounds()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m include.vonage_cdr.warehouse.migrate",
        description="Apply the warehouse migrations (idempotent).",
    )
    parser.add_argument("--dsn", help=f"PostgreSQL URL or conninfo (default: ${WAREHOUSE_URL_ENV})")
    parser.add_argument("--owner-role", default=os.environ.get(OWNER_ROLE_ENV, DEFAULT_OWNER_ROLE))
    parser.add_argument("--loader-role", default=os.environ.get(LOADER_ROLE_ENV, DEFAULT_LOADER_ROLE))
    parser.add_argument("--analyst-role", default=os.environ.get(ANALYST_ROLE_ENV, DEFAULT_ANALYST_ROLE))
    args = parser.parse_args(argv)
    dsn = args.dsn or os.environ.get(WAREHOUSE_URL_ENV)
    if not dsn:
        parser.error(f"give --dsn or set {WAREHOUSE_URL_ENV}")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        bounds = _bounds_from_env()
        with explained_timeouts(bounds):
            applied = apply_migrations(
                libpq_dsn(dsn),
                loader_role=args.loader_role,
                analyst_role=args.analyst_role,
                owner_role=args.owner_role,
                bounds=bounds,
            )
    # ValueError: a CDR_* setting (SettingsError) or a DSN; WarehouseTimeout: a session bound was hit
    except (MigrationError, ValueError, WarehouseTimeout) as exc:
        print(f"migrate: {exc}", file=sys.stderr)
        return 1
    print(f"applied: {', '.join(applied)}" if applied else "warehouse schema is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
