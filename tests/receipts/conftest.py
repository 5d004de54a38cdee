"""Fixtures of the receipts tests: a store on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_sms.journal.database import database_for_url
from airflow_provider_sms.receipts.store import ReceiptStore
from tests.journal.conftest import postgres  # noqa: F401  (the session's PostgreSQL server)
from tests.journal.postgres import PostgresServer


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReceiptStore]:
    """An empty store, once per database kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'receipts.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        url = server.create_database(f"receipts_{uuid.uuid4().hex[:12]}")
    receipts = ReceiptStore(database_for_url(url, shared=True))
    receipts.ensure_schema()
    yield receipts
    receipts.database.close()
