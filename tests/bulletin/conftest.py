"""Fixtures for the Bulletin Messenger hook and operator tests (against the simulator)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_sms.simulator import SimulatorServer
from airflow_provider_sms.simulator.config import DEFAULT_BULLETIN_PASSWORD, DEFAULT_BULLETIN_USER_ID

BM_CONN = "bulletin_messenger_default"


def bulletin_connection(server: SimulatorServer, **extra: Any) -> str:
    """An ``AIRFLOW_CONN_*`` value for the simulator's Bulletin Messenger demo account."""
    return json.dumps({
        "conn_type": "bulletin_messenger",
        "host": server.url,
        "login": DEFAULT_BULLETIN_USER_ID,
        "password": DEFAULT_BULLETIN_PASSWORD,
        "extra": {"default_region": "NZ", "retry_backoff": 0, **extra},
    })


@pytest.fixture
def bm_conn(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """``bulletin_messenger_default`` pointing at the running simulator."""
    monkeypatch.setenv("AIRFLOW_CONN_BULLETIN_MESSENGER_DEFAULT", bulletin_connection(sms_simulator))
    return BM_CONN
