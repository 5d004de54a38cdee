"""pytest fixtures for the SMS simulator (registered as a ``pytest11`` plugin).

* ``sms_simulator_session`` - one running :class:`SimulatorServer` for the whole session.
* ``sms_simulator`` - the same server, reset to its initial state before each test (fast: no
  new port, no new thread). Call ``sms_simulator.reset(SimulatorConfig(...))`` inside a test for
  another configuration; the next test starts from the default again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_provider_sms.simulator.server import SimulatorServer


@pytest.fixture(scope="session")
def sms_simulator_session() -> Iterator[SimulatorServer]:
    """A simulator running for the whole test session (default configuration)."""
    from airflow_provider_sms.simulator.server import SimulatorServer

    server = SimulatorServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sms_simulator(sms_simulator_session: SimulatorServer) -> Iterator[SimulatorServer]:
    """The session's simulator, freshly reset for this test."""
    sms_simulator_session.reset()
    yield sms_simulator_session
    # Leave no armed fault or odd configuration behind for code running after the test.
    sms_simulator_session.reset()
