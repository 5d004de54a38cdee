"""Fixtures for the simulator tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sim_helpers import EapiClient, PushReceiver

# The plugin is also meant to be registered through a pytest11 entry point; importing the
# fixtures here makes these tests independent of that registration.
from airflow_provider_sms.simulator.pytest_plugin import sms_simulator, sms_simulator_session  # noqa: F401
from airflow_provider_sms.simulator.server import SimulatorServer


@pytest.fixture
def eapi(sms_simulator: SimulatorServer) -> EapiClient:  # noqa: F811
    return EapiClient(sms_simulator)


@pytest.fixture
def push_receiver() -> Iterator[PushReceiver]:
    receiver = PushReceiver()
    yield receiver
    receiver.close()
