"""Fixtures of the receipts tests: a store on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_sms.journal.database import database_for_url
from airflow_provider_sms.receipts.serve import ReceiverServer
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


SECRET = "cb-Secret-7f3a9e21d4c8b6"  # a callback secret; tests check it never leaks
CONNECTIONS = {
    "bulletin_default": "bulletin_messenger",
    "bulksms_default": "bulksms",
    "netmessenger_default": "netmessenger",
    "skycore_default": "skycore",
}


def gateway_connections(monkeypatch: pytest.MonkeyPatch, sim_url: str = "http://127.0.0.1:9", **extra: object) -> None:
    """Every gateway's default connection, with the callback secret (and ``extra``)."""
    import json

    for conn_id, conn_type in CONNECTIONS.items():
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({
            "conn_type": conn_type, "host": sim_url, "login": "demo", "password": "gateway-pass",
            "extra": {"callback_secret": SECRET, "retry_backoff": 0, **extra}}))


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[ReceiverServer]:
    """The receiver (mounted at /sms-callbacks) on a loopback port, access log on; connections set."""
    gateway_connections(monkeypatch)
    with ReceiverServer(access_log=True) as server:
        yield server
