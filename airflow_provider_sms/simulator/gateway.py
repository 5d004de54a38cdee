"""How a simulated gateway plugs into the shared simulator.

A gateway module (``bulksms.py`` today; NetMessenger, Skycore and Bulletin Messenger later)
provides a factory ``(config, clock) -> SimulatedGateway``. The simulator builds one instance per
factory, mounts its routes on the shared app, applies the shared fault switches to requests under
its path prefixes and ticks it on the shared clock. Add a new gateway by writing its module and
listing its factory in :func:`builtin_gateway_factories`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from starlette.responses import Response
from starlette.routing import BaseRoute

if TYPE_CHECKING:
    from airflow_provider_sms.simulator.clock import VirtualClock
    from airflow_provider_sms.simulator.config import SimulatorConfig


class SimulatedGateway(Protocol):
    """What the shared simulator needs from one gateway."""

    #: Short name; control routes live under ``/_sim/<name>/``.
    name: str
    #: URL path prefixes that belong to this gateway (faults and request logs apply to them).
    prefixes: tuple[str, ...]

    def routes(self) -> Sequence[BaseRoute]:
        """The vendor API routes (absolute paths under :attr:`prefixes`)."""
        ...

    def control_routes(self) -> Sequence[BaseRoute]:
        """Inspection/control routes, mounted under ``/_sim/<name>``."""
        ...

    def throttled_response(self, path: str) -> Response:
        """The vendor's own "too many requests / try later" answer for ``path``."""
        ...

    def note_request(self, method: str, path: str) -> None:
        """Record that a request arrived (before faults are applied)."""
        ...

    def tick(self, *, wait: bool) -> None:
        """Fire whatever became due on the clock; with ``wait``, return only once it is done."""
        ...

    def reset(self, config: SimulatorConfig) -> None:
        """Forget everything and start again from ``config``."""
        ...

    def describe(self) -> dict[str, Any]:
        """Secret-free summary for ``GET /_sim/health``."""
        ...

    def close(self) -> None:
        """Release threads and other resources."""
        ...


GatewayFactory = Callable[["SimulatorConfig", "VirtualClock"], SimulatedGateway]


def builtin_gateway_factories() -> list[GatewayFactory]:
    """Factories of every gateway the simulator ships with."""
    # Imported here so importing this module stays cheap and free of cycles.
    from airflow_provider_sms.simulator.bulksms.gateway import BulkSmsGateway
    from airflow_provider_sms.simulator.bulletin.gateway import BulletinGateway
    from airflow_provider_sms.simulator.netmessenger.gateway import NetMessengerGateway
    from airflow_provider_sms.simulator.skycore.gateway import SkycoreGateway

    return [BulkSmsGateway, NetMessengerGateway, BulletinGateway, SkycoreGateway]
