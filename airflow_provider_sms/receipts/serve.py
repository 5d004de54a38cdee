"""Run the callback receiver on its own, without Airflow's API server.

For a callback host separate from the API server (exposed to the gateways, while the API server
stays private), for tests and for the benchmark:
``python -m airflow_provider_sms.receipts.serve --host 0.0.0.0 --port 8793``. The URLs are the
same as in the API server (``/sms-callbacks/...``); give ``sms-callback-url --base-url`` this
host's public address. Connections are read as every Airflow process reads them (secrets
backends, environment variables, or the metadata database where the process may reach it).
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from airflow_provider_sms.receipts.urls import PREFIX

__all__ = ["ReceiverServer", "main", "mounted_app"]


def mounted_app(app: FastAPI | None = None) -> FastAPI:
    """The receiver mounted at ``/sms-callbacks``, as the API-server plugin mounts it."""
    from airflow_provider_sms.receipts.receiver import create_app

    root = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    root.mount(PREFIX, app if app is not None else create_app())
    return root


class ReceiverServer:
    """An ASGI app served by uvicorn in a background thread (``start``/``stop``, or ``with``).

    :param app: default: :func:`mounted_app`.
    :param access_log: log every request line (``uvicorn.access``), as a real deployment does.
    """

    def __init__(self, app: FastAPI | None = None, host: str = "127.0.0.1", port: int = 0, *,
                 access_log: bool = False, sock: socket.socket | None = None) -> None:
        self.app = app if app is not None else mounted_app()
        self.host = host
        self._port = port
        self.access_log = access_log
        self._socket = sock
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the receiver is not started")
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        """The base URL (give it to ``callback_urls(base=...)``)."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> ReceiverServer:
        if self._socket is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._port))
            self._socket = sock
        self._socket.listen(1024)
        config = uvicorn.Config(self.app, log_level="info" if self.access_log else "warning",
                                access_log=self.access_log, log_config=None, lifespan="off", timeout_keep_alive=30)
        server = self._server = uvicorn.Server(config)
        sockets = [self._socket]
        self._thread = threading.Thread(target=lambda: server.run(sockets=sockets), name="sms-receiver", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:  # start-up wait on a real server, not a test sleep
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the receiver did not start")
            time.sleep(0.005)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> ReceiverServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m airflow_provider_sms.receipts.serve [--host H] [--port P]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8793)
    args = parser.parse_args(argv)
    # A server process, like Airflow's API server: connections come from the metadata database too.
    os.environ.setdefault("_AIRFLOW_PROCESS_CONTEXT", "server")
    logging.basicConfig(level=logging.INFO)
    uvicorn.run(mounted_app(), host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
