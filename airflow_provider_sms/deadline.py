"""An overall deadline for blocking (``requests``) calls, which only know per-read timeouts.

A gateway that sends one byte every few seconds never trips a read timeout. :class:`Watchdog`
arms a timer for the call; the sockets the call uses register with it (through the connection
classes :class:`DeadlineAdapter` installs), and when the timer fires it shuts them down, which
wakes any read blocked on them. The transport then sees a failed read with
:attr:`Watchdog.expired` set and raises its typed "deadline passed" error.

The async transport needs none of this: ``asyncio.timeout`` cancels a whole exchange.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
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
log = logging.getLogger(__name__)


class _Alarm:
    """One thread that fires each armed :class:`Watchdog` at its deadline.

    A timer thread per call cost a thread start and stop for every request (500 per NetMessenger
    send of 100,000), on the path the send's own threads need the interpreter for.
    """

    def __init__(self) -> None:
        self._wake = threading.Condition(threading.Lock())
        self._due: list[tuple[float, int, Watchdog]] = []
        self._order = itertools.count()  # ties: never compare two watchdogs
        self._disarmed = 0
        self._thread: threading.Thread | None = None

    def arm(self, watchdog: Watchdog) -> None:
        with self._wake:
            heapq.heappush(self._due, (watchdog.ends, next(self._order), watchdog))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="sms-deadline", daemon=True)
                self._thread.start()
            elif self._due[0][2] is watchdog:
                self._wake.notify()  # earlier than what the thread sleeps towards

    def disarm(self, watchdog: Watchdog) -> None:
        """``watchdog``'s call ended (it set its ``disarmed`` flag first): forget it."""
        with self._wake:
            self._disarmed += 1
            # Disarmed entries leave the heap lazily; many calls with long deadlines must not pile up.
            if self._disarmed > 64 and self._disarmed * 2 > len(self._due):
                self._due = [entry for entry in self._due if not entry[2].disarmed]
                heapq.heapify(self._due)
                self._disarmed = 0

    def _run(self) -> None:
        while True:
            fire: list[Watchdog] = []
            with self._wake:
                now = time.monotonic()
                while self._due and (self._due[0][2].disarmed or self._due[0][0] <= now):
                    _, _, watchdog = heapq.heappop(self._due)
                    if watchdog.disarmed:
                        self._disarmed -= 1
                    else:
                        fire.append(watchdog)
                if not fire:
                    # Capped: a wait past TIMEOUT_MAX raises, and the thread must outlive any deadline.
                    self._wake.wait(min(self._due[0][0] - now, threading.TIMEOUT_MAX) if self._due else None)
            for watchdog in fire:
                try:
                    watchdog.fire()
                except Exception:  # the thread must live on for every other call's deadline
                    log.exception("shutting down the sockets of a call past its deadline failed")


_alarm = _Alarm()


def _after_fork() -> None:
    # The child has none of the parent's threads, and the lock may have been held at the fork.
    global _alarm
    _alarm = _Alarm()


os.register_at_fork(after_in_child=_after_fork)


class Watchdog:
    """Shuts down the sockets of one call once ``seconds`` have passed (a context manager: the timer runs inside it)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = max(0.0, seconds)
        self.expired = False
        self.disarmed = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.ends = time.monotonic() + self.seconds

    def remaining(self) -> float:
        return max(0.0, self.ends - time.monotonic())

    def watch(self, sock: Any) -> None:
        """Shut ``sock`` down at the deadline (at once if it has passed)."""
        if not isinstance(sock, socket.socket):
            return  # e.g. TLS through a TLS proxy: per-read timeouts still apply
        with self._lock:
            if self.expired:
                _shut(sock)
            elif all(s is not sock for s in self._sockets):
                self._sockets.append(sock)

    def unwatch(self, sock: Any) -> None:
        """Leave ``sock`` alone from now on: its connection went back to the pool, for other calls."""
        with self._lock:
            self._sockets = [s for s in self._sockets if s is not sock]

    def fire(self) -> None:
        """The deadline has passed: shut down every socket of the call (the alarm thread calls this).

        Nothing happens once the call has ended, nor to a socket whose connection went back to the
        pool before that (the last read of a body hands it back): it may already serve another call."""
        with self._lock:
            if self.disarmed:
                return
            self.expired = True
            for sock in self._sockets:
                _shut(sock)

    def __enter__(self) -> Watchdog:
        _alarm.arm(self)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        with self._lock:
            self.disarmed = True
            self._sockets = []  # kept in the heap until pruned: hold no sockets meanwhile
        _alarm.disarm(self)

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


def _watch(conn: Any) -> None:
    watchdog: Watchdog | None = getattr(_current, "watchdog", None)
    if watchdog is not None and conn.sock is not None:
        watchdog.watch(conn.sock)
        conn.sms_watchdog = watchdog  # told to let go when the connection goes back to the pool


def _release(conn: Any) -> None:
    watchdog: Watchdog | None = getattr(conn, "sms_watchdog", None)
    if watchdog is not None:
        conn.sms_watchdog = None
        watchdog.unwatch(conn.sock)


class _Watched:
    """Mixed into urllib3's connections: their sockets are watched by the calling thread's :class:`Watchdog`."""

    sock: Any

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _watch(self)

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _watch(self)  # a kept-alive connection did not connect in this call
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _Releasing:
    """Mixed into urllib3's pools: a connection handed back is no longer watched."""

    def _put_conn(self, conn: Any) -> None:
        # Before another call can take it: a deadline passing now must not shut that call's socket.
        if conn is not None:
            _release(conn)
        super()._put_conn(conn)  # type: ignore[misc]


class _WatchedPool(_Releasing, HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(_Releasing, HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """A ``requests`` adapter whose connections register their sockets with the thread's :class:`Watchdog`."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedPool, "https": _WatchedHTTPSPool}
