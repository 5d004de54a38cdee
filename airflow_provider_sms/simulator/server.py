"""Run the simulator app with uvicorn in a background thread on loopback."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import uvicorn

from airflow_provider_sms.simulator.app import build_app
from airflow_provider_sms.simulator.bulksms.gateway import BulkSmsGateway
from airflow_provider_sms.simulator.bulksms.state import BulkSmsState
from airflow_provider_sms.simulator.bulletin.gateway import BulletinGateway
from airflow_provider_sms.simulator.bulletin.state import BulletinState
from airflow_provider_sms.simulator.clock import VirtualClock
from airflow_provider_sms.simulator.config import SimulatorConfig
from airflow_provider_sms.simulator.core import Simulator
from airflow_provider_sms.simulator.faults import FaultSwitches
from airflow_provider_sms.simulator.gateway import GatewayFactory
from airflow_provider_sms.simulator.middleware import QuietDroppedResponses
from airflow_provider_sms.simulator.netmessenger.gateway import NetMessengerGateway
from airflow_provider_sms.simulator.netmessenger.state import NetMessengerState
from airflow_provider_sms.simulator.skycore.gateway import SkycoreGateway
from airflow_provider_sms.simulator.skycore.state import SkycoreState

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class SimulatorServer:
    """A real HTTP server for the simulated gateways, in a daemon thread.

    >>> with SimulatorServer(SimulatorConfig()) as server:   # doctest: +SKIP
    ...     requests.post(server.url + "/eapi/user/get_credits/1/1.1", data={...})

    ``port=0`` picks a free port; :attr:`url` is known once :meth:`start` returns. Binding
    anything but loopback needs ``allow_remote=True``: the simulator has no real security.
    ``gateways`` replaces the built-in gateway factories (see :mod:`.gateway`).
    """

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        allow_remote: bool = False,
        gateways: Sequence[GatewayFactory] | None = None,
    ) -> None:
        if host not in _LOOPBACK and not allow_remote:
            raise ValueError(f"refusing to bind {host!r}: the simulator only listens on loopback by default")
        self.simulator = Simulator(config, gateways)
        self._stopped = False
        self.host = host
        self._requested_port = port
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> SimulatorServer:
        """Start serving; returns ``self`` once the server accepts connections.

        A stopped server cannot be started again (its worker threads are gone): make a new one.
        """
        if self._stopped:
            raise RuntimeError("this SimulatorServer was stopped; create a new one")
        if self._thread is not None:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Bound here (not by uvicorn) so the real port is known before the thread starts.
        sock.bind((self.host, self._requested_port))
        sock.listen(128)
        self._socket = sock
        _quiet_uvicorn()
        config = uvicorn.Config(
            build_app(self.simulator),
            log_level="warning",
            access_log=False,
            # Leave the host process's logging configuration alone (tests, Airflow).
            log_config=None,
            lifespan="on",
            # One worker, as BulkSMS asks of its clients; keep-alive long enough for pooled clients.
            workers=1,
            timeout_keep_alive=30,
        )
        self._server = uvicorn.Server(config)
        server = self._server
        self._thread = threading.Thread(target=lambda: server.run(sockets=[sock]), name="sms-simulator", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the SMS simulator did not start")
            time.sleep(0.005)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and release the port and worker threads."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self.simulator.close()
        self._stopped = True
        self._server = None
        self._thread = None
        self._socket = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- access --------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port actually listened on (after :meth:`start`)."""
        if self._socket is None:
            raise RuntimeError("the simulator is not started")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:8080`` (EAPI lives under ``/eapi``, JSON under ``/v1``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def config(self) -> SimulatorConfig:
        """The configuration currently in force."""
        return self.simulator.config

    @property
    def clock(self) -> VirtualClock:
        """The virtual clock; ``clock.advance(seconds)`` moves statuses on and fires due pushes."""
        return self.simulator.clock

    @property
    def faults(self) -> FaultSwitches:
        """Fault switches for the next gateway requests."""
        return self.simulator.faults

    @property
    def url_params(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """Every gateway request as (method, path, names of its URL query parameters)."""
        return self.simulator.url_params

    @property
    def bulksms(self) -> BulkSmsState:
        """The BulkSMS accounts, messages and request log, for inspection in tests."""
        gateway = self.simulator.gateways["bulksms"]
        assert isinstance(gateway, BulkSmsGateway)
        return gateway.state

    @property
    def netmessenger(self) -> NetMessengerState:
        """The NetMessenger accounts, messages, address books and request log, for inspection in tests."""
        gateway = self.simulator.gateways["netmessenger"]
        assert isinstance(gateway, NetMessengerGateway)
        return gateway.state

    @property
    def skycore(self) -> SkycoreState:
        """The Skycore accounts, messages, saved MMS, campaigns and postbacks, for inspection in tests."""
        gateway = self.simulator.gateways["skycore"]
        assert isinstance(gateway, SkycoreGateway)
        return gateway.state

    @property
    def bulletin(self) -> BulletinState:
        """The Bulletin Messenger accounts, address books, messages and queues, for inspection in tests."""
        gateway = self.simulator.gateways["bulletin"]
        assert isinstance(gateway, BulletinGateway)
        return gateway.state

    def reset(self, config: SimulatorConfig | None = None) -> None:
        """Forget everything (messages, faults, clock offset); optionally switch configuration."""
        self.simulator.reset(config)

    def describe(self) -> dict[str, Any]:
        """Health summary (what ``GET /_sim/health`` answers)."""
        return self.simulator.describe()

    def __repr__(self) -> str:
        where = self.url if self._socket is not None else "not started"
        return f"SimulatorServer({where})"


def _quiet_uvicorn() -> None:
    error_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, QuietDroppedResponses) for f in error_log.filters):
        error_log.addFilter(QuietDroppedResponses())
