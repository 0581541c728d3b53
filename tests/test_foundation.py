"""The foundation's promises: isolated Airflow, a real PostgreSQL that tests own and clean up."""

from __future__ import annotations

import os
from collections.abc import Callable

import psycopg


def test_airflow_home_is_private_to_the_test_session() -> None:
    home = os.environ["AIRFLOW_HOME"]
    assert "cdr-test-airflow-" in home
    assert os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith(f"sqlite:///{home}")
    assert os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"


def test_each_test_database_is_created_empty_and_dropped(
    pg_admin_dsn: str, make_database: Callable[[], str]
) -> None:
    dsn = make_database()
    name = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    with psycopg.connect(dsn) as conn:
        tables = conn.execute(
            "select count(*) from information_schema.tables where table_schema not in "
            "('pg_catalog', 'information_schema')"
        ).fetchone()
        assert tables == (0,)
    with psycopg.connect(pg_admin_dsn) as admin:
        exists = admin.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        assert exists == (1,)
