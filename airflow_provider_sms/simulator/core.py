"""The simulator itself: one clock, one set of fault switches, the registered gateways."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from airflow_provider_sms.simulator.clock import VirtualClock
from airflow_provider_sms.simulator.config import SimulatorConfig
from airflow_provider_sms.simulator.faults import FaultSwitches
from airflow_provider_sms.simulator.gateway import GatewayFactory, SimulatedGateway, builtin_gateway_factories

log = logging.getLogger(__name__)


class Simulator:
    """State shared by all simulated gateways, independent of any HTTP server.

    ``clock.advance()`` ticks every gateway synchronously (so due pushes are sent before it
    returns); :meth:`tick` is also called by the app's background task every 0.2 s.
    """

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        gateway_factories: Sequence[GatewayFactory] | None = None,
    ) -> None:
        self.initial_config = config if config is not None else SimulatorConfig()
        self.config = self.initial_config
        self.clock = VirtualClock()
        self.faults = FaultSwitches()
        #: (method, path, names of the URL query parameters) of every gateway request: names only,
        #: so tests can assert no credential travels in a URL without the log holding one.
        self.url_params: list[tuple[str, str, tuple[str, ...]]] = []
        factories = builtin_gateway_factories() if gateway_factories is None else gateway_factories
        self.gateways: dict[str, SimulatedGateway] = {}
        for factory in factories:
            gateway = factory(self.config, self.clock)
            if gateway.name in self.gateways:
                raise ValueError(f"two simulated gateways are named {gateway.name!r}")
            self._check_prefixes(gateway)
            self.gateways[gateway.name] = gateway
        self.clock.add_listener(lambda: self.tick(wait=True))

    def gateway_for_path(self, path: str) -> SimulatedGateway | None:
        """The gateway that owns ``path``, if any (the longest matching prefix wins: ``/api/3`` over ``/api``)."""
        best: tuple[int, SimulatedGateway] | None = None
        for gateway in self.gateways.values():
            for prefix in gateway.prefixes:
                if (path == prefix or path.startswith(prefix + "/")) and (best is None or len(prefix) > best[0]):
                    best = (len(prefix), gateway)
        return best[1] if best is not None else None

    def tick(self, *, wait: bool) -> None:
        """Let every gateway fire what is due; a failing gateway must not stop the others."""
        for gateway in self.gateways.values():
            try:
                gateway.tick(wait=wait)
            except Exception:
                log.exception("simulated gateway %s failed to tick", gateway.name)

    def reset(self, config: SimulatorConfig | None = None) -> None:
        """Back to a fresh state: ``config`` if given, else the configuration it started with."""
        self.config = config if config is not None else self.initial_config
        self.url_params.clear()
        self.faults.clear()
        self.clock.reset()
        for gateway in self.gateways.values():
            gateway.reset(self.config)

    def describe(self) -> dict[str, Any]:
        """Secret-free summary (health endpoint, console)."""
        return {
            "status": "ok",
            "virtual_time": self.clock.now(),
            "clock_offset": self.clock.offset,
            "delivery_delay": self.config.delivery_delay,
            "gateways": {name: gateway.describe() for name, gateway in self.gateways.items()},
            "faults": self.faults.active(),
        }

    def close(self) -> None:
        """Release every gateway's resources."""
        for gateway in self.gateways.values():
            gateway.close()

    def _check_prefixes(self, new: SimulatedGateway) -> None:
        for prefix in new.prefixes:
            if prefix.startswith("/_sim"):
                raise ValueError("/_sim is reserved for control routes")
            for other in self.gateways.values():
                if prefix in other.prefixes:
                    raise ValueError(f"{new.name} and {other.name} both claim {prefix}")
