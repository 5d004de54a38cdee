"""Fixtures for the simulator tests (``sms_simulator`` comes from the package's pytest11 plugin)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_sms.simulator.server import SimulatorServer
from tests.simulator.sim_helpers import EapiClient, PushReceiver


@pytest.fixture
def eapi(sms_simulator: SimulatorServer) -> EapiClient:
    return EapiClient(sms_simulator)


@pytest.fixture
def push_receiver() -> Iterator[PushReceiver]:
    receiver = PushReceiver()
    yield receiver
    receiver.close()
