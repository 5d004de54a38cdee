"""Fixtures of the send-journal tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.journal.postgres import PostgresServer


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A migrated Airflow metadata DB (``dag.test()`` needs one)."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True,
                   env=os.environ.copy(), timeout=300)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole session (about 2 s to start)."""
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()
