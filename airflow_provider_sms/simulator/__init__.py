"""A local stand-in for the SMS gateways: a real HTTP server on loopback.

It re-implements the vendors' documented behaviour (independently of the provider's own gateway
code, so tests compare two readings of the documents) with a virtual clock, fault switches and
inspection routes. It speaks BulkSMS (EAPI and JSON API v1) NetMessenger (FastSMS) and Skycore; other gateways plug
into the same app through :mod:`airflow_provider_sms.simulator.gateway`.

>>> from airflow_provider_sms.simulator import SimulatorServer, SimulatorConfig  # doctest: +SKIP
>>> with SimulatorServer(SimulatorConfig(delivery_delay=5.0)) as server:          # doctest: +SKIP
...     ...  # point a BulkSMS connection at server.url + "/eapi"
...     server.clock.advance(5)
...     server.bulksms.received("447700900001")

Heavy imports (Starlette, uvicorn) happen only when a server-side name is first used, so
loading the pytest plugin or the config classes stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_sms.simulator.config import (
    BulkSmsAccount,
    BulletinAccount,
    NetMessengerAccount,
    SimulatorConfig,
    SkycoreAccount,
)

if TYPE_CHECKING:
    from airflow_provider_sms.simulator.app import build_app
    from airflow_provider_sms.simulator.bulksms.state import BulkSmsState
    from airflow_provider_sms.simulator.bulletin.state import BulletinState
    from airflow_provider_sms.simulator.clock import VirtualClock
    from airflow_provider_sms.simulator.core import Simulator
    from airflow_provider_sms.simulator.faults import FaultSwitches
    from airflow_provider_sms.simulator.netmessenger.state import NetMessengerState
    from airflow_provider_sms.simulator.server import SimulatorServer
    from airflow_provider_sms.simulator.skycore.state import SkycoreState

__all__ = [
    "BulkSmsAccount",
    "BulkSmsState",
    "BulletinAccount",
    "BulletinState",
    "FaultSwitches",
    "NetMessengerAccount",
    "NetMessengerState",
    "Simulator",
    "SimulatorConfig",
    "SimulatorServer",
    "SkycoreAccount",
    "SkycoreState",
    "VirtualClock",
    "build_app",
]

_LAZY = {
    "build_app": "airflow_provider_sms.simulator.app",
    "BulkSmsState": "airflow_provider_sms.simulator.bulksms.state",
    "NetMessengerState": "airflow_provider_sms.simulator.netmessenger.state",
    "BulletinState": "airflow_provider_sms.simulator.bulletin.state",
    "VirtualClock": "airflow_provider_sms.simulator.clock",
    "Simulator": "airflow_provider_sms.simulator.core",
    "FaultSwitches": "airflow_provider_sms.simulator.faults",
    "SimulatorServer": "airflow_provider_sms.simulator.server",
    "SkycoreState": "airflow_provider_sms.simulator.skycore.state",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
