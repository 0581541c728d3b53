"""Apply the warehouse's versioned SQL migrations: ordered, recorded, checksummed, safe to re-run and to race.

Why a tiny runner instead of Alembic: the warehouse is plain SQL an analyst can read, and the pipelines must
apply it before every load without extra dependencies. Rules:

* files are ``NNNN_name.sql`` in ``migrations/``, applied in version order, each in its own transaction
  together with its row in ``cdr.schema_migrations`` (version, name, SHA-256 of the file);
* already-applied versions are skipped; an applied file whose checksum changed is an error (write a new
  migration instead of editing a released one);
* a session-level advisory lock serialises concurrent runners (two DAG runs starting at once): the second
  waits, then finds nothing left to apply;
* ``{{loader_role}}``/``{{analyst_role}}`` are replaced by the role names quoted as identifiers (and
  ``{{..._literal}}`` as string literals) with psycopg's quoting; role names must also be plain identifiers;
* every migration except those marked ``-- migrate:run-as-connecting-user`` (only 0001: roles and schemas)
  runs under ``SET LOCAL ROLE <loader>``, so the loader owns every object and later migrations need no
  superuser. The first run needs an administrator; later runs only need a member of the loader role.

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

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
WAREHOUSE_URL_ENV = "CDR_WAREHOUSE_URL"
LOADER_ROLE_ENV = "CDR_LOADER_ROLE"
ANALYST_ROLE_ENV = "CDR_ANALYST_ROLE"
DEFAULT_LOADER_ROLE = "cdr_loader"
DEFAULT_ANALYST_ROLE = "cdr_analyst"

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


def render(migration: Migration, conn: psycopg.Connection, *, loader_role: str, analyst_role: str) -> str:
    """The migration's SQL with role placeholders replaced by properly quoted identifiers/literals."""
    values = {
        "loader_role": sql.Identifier(loader_role).as_string(conn),
        "analyst_role": sql.Identifier(analyst_role).as_string(conn),
        "loader_role_literal": sql.Literal(loader_role).as_string(conn),
        "analyst_role_literal": sql.Literal(analyst_role).as_string(conn),
    }
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


def _applied_checksums(conn: psycopg.Connection) -> dict[str, str]:
    exists = conn.execute("SELECT to_regclass('cdr.schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return {}
    rows = conn.execute("SELECT version, checksum FROM cdr.schema_migrations").fetchall()
    return {version: checksum for version, checksum in rows}


def _become_loader(conn: psycopg.Connection, loader_role: str) -> None:
    """SET LOCAL ROLE to the loader so it owns what the migration creates (no-op when already the loader)."""
    row = conn.execute(
        "SELECT current_user = %s, pg_has_role(current_user, %s, 'MEMBER')", (loader_role, loader_role)
    ).fetchone()
    assert row is not None
    is_loader, is_member = row
    if is_loader:
        return
    if not is_member:
        raise MigrationError(
            f"the connecting user is not a member of role {loader_role!r}; run migrations as a superuser "
            f"or as a member of {loader_role!r} so the loader owns the warehouse objects"
        )
    conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(loader_role)))


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
    directory: Path = MIGRATIONS_DIR,
) -> list[str]:
    """Apply every pending migration to the database at ``dsn``; returns the versions applied by this call.

    Safe to call before every load and from concurrent processes: an advisory lock serialises runners, and
    a run with nothing pending only reads ``cdr.schema_migrations``.
    """
    _check_role_name(loader_role)
    _check_role_name(analyst_role)
    migrations = discover(directory)
    applied_now: list[str] = []
    with psycopg.connect(libpq_dsn(dsn), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        try:
            for migration in pending(_applied_checksums(conn), migrations):
                text = render(migration, conn, loader_role=loader_role, analyst_role=analyst_role)
                with conn.transaction():
                    if not migration.runs_as_connecting_user:
                        _become_loader(conn, loader_role)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m include.vonage_cdr.warehouse.migrate",
        description="Apply the warehouse migrations (idempotent).",
    )
    parser.add_argument("--dsn", help=f"PostgreSQL URL or conninfo (default: ${WAREHOUSE_URL_ENV})")
    parser.add_argument("--loader-role", default=os.environ.get(LOADER_ROLE_ENV, DEFAULT_LOADER_ROLE))
    parser.add_argument("--analyst-role", default=os.environ.get(ANALYST_ROLE_ENV, DEFAULT_ANALYST_ROLE))
    args = parser.parse_args(argv)
    dsn = args.dsn or os.environ.get(WAREHOUSE_URL_ENV)
    if not dsn:
        parser.error(f"give --dsn or set {WAREHOUSE_URL_ENV}")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        applied = apply_migrations(
            libpq_dsn(dsn), loader_role=args.loader_role, analyst_role=args.analyst_role
        )
    except MigrationError as exc:
        print(f"migrate: {exc}", file=sys.stderr)
        return 1
    print(f"applied: {', '.join(applied)}" if applied else "warehouse schema is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
