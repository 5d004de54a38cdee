"""The receiver inside Airflow's own API-server app, loaded through the ``airflow.plugins`` entry point."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from airflow_provider_sms.receipts.store import ReceiptStore
from tests.receipts.conftest import SECRET, gateway_connections
from tests.receipts.test_receiver import SKYCORE_MO, XML


def test_the_api_server_mounts_the_receiver_without_its_own_auth(airflow_db: None,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.api_fastapi.app import create_app

    gateway_connections(monkeypatch)
    with TestClient(create_app()) as client:
        path = "/sms-callbacks/skycore/skycore_default/postback"
        assert client.post(f"{path}?secret={SECRET}", content=SKYCORE_MO, headers=XML).status_code == 200
        assert client.post(f"{path}?secret=nope", content=SKYCORE_MO, headers=XML).status_code == 401
        assert client.get("/sms-callbacks/docs").status_code == 404  # no API docs of the receiver
    assert ReceiptStore.from_conn_id(None).counts()["replies"] == 1
