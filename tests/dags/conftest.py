"""Markers of the DAG tests (registered here, next to the tests that use them)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "real_airflow: runs the real Airflow components (scheduler, triggerer, DAG processor, API server) "
        "and a headless Chromium; several minutes, so also marked slow (`make test-airflow` runs them)",
    )
