"""An overall deadline for blocking (``requests``) calls, which only know per-read timeouts.

A gateway that sends one byte every few seconds never trips a read timeout. :class:`Watchdog`
arms a timer for the call; the sockets the call uses register with it (through the connection
classes :class:`DeadlineAdapter` installs), and when the timer fires it shuts them down, which
wakes any read blocked on them. The transport then sees a failed read with
:attr:`Watchdog.expired` set and raises its typed "deadline passed" error.

The async transport needs none of this: ``asyncio.timeout`` cancels a whole exchange.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["DeadlineAdapter", "Watchdog"]

_current = threading.local()


class Watchdog:
    """Shuts down the sockets of one call once ``seconds`` have passed (a context manager: the timer runs inside it)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = max(0.0, seconds)
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(self.seconds, self._expire)
        self._timer.daemon = True
        self._ends = time.monotonic() + self.seconds

    def remaining(self) -> float:
        return max(0.0, self._ends - time.monotonic())

    def watch(self, sock: Any) -> None:
        """Shut ``sock`` down at the deadline (at once if it has passed)."""
        if not isinstance(sock, socket.socket):
            return  # e.g. TLS through a TLS proxy: per-read timeouts still apply
        with self._lock:
            if self.expired:
                _shut(sock)
            elif all(s is not sock for s in self._sockets):
                self._sockets.append(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._timer.cancel()

    @contextmanager
    def registering(self) -> Iterator[None]:
        """Sockets this thread connects or sends on meanwhile are watched (wrap only the request
        itself: a streamed body may be read while other calls run in the same thread)."""
        previous = getattr(_current, "watchdog", None)
        _current.watchdog = self
        try:
            yield
        finally:
            _current.watchdog = previous


def _shut(sock: socket.socket) -> None:
    # The plain-socket method, also for TLS sockets: it wakes a blocked read without tearing
    # down the TLS object under the reading thread. OSError: already closed.
    with suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _watch(sock: Any) -> None:
    watchdog: Watchdog | None = getattr(_current, "watchdog", None)
    if watchdog is not None and sock is not None:
        watchdog.watch(sock)


class _WatchedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _watch(self.sock)

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _watch(self.sock)  # a kept-alive connection did not connect in this call
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _watch(self.sock)

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _watch(self.sock)
        return super().getresponse(*args, **kwargs)


class _WatchedPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """A ``requests`` adapter whose connections register their sockets with the thread's :class:`Watchdog`."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedPool, "https": _WatchedHTTPSPool}
