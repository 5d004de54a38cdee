"""Fault switches: make the next gateway requests slow, fail, throttle or lose their answer.

Each switch applies to the next ``count`` gateway requests whose path starts with ``only``
(every gateway path when ``only`` is ``None``). Control routes under ``/_sim/`` are never
affected. The switches are plain thread-safe state; :mod:`.middleware` applies them.

Kinds:

* ``latency``: sleep before answering (the request is then processed normally).
* ``http_error``: answer with an HTTP error status; nothing is processed.
* ``throttle``: answer the gateway's own "slow down" reply (BulkSMS EAPI ``40|...``, JSON 429);
  nothing is processed.
* ``drop_after_accept``: process the request fully, then close the connection in the middle of
  the answer, so the client cannot know whether it was accepted.
* ``error_after_accept``: process the request fully, then answer an HTTP error status instead of
  the gateway's answer (a proxy or a failing back end after the message went out).

Faults that need to know what a request asks for (one action of an API that has a single path,
or the rows of a report) are kept by the gateway itself in a :class:`CountedSwitch`: e.g. the
NetMessenger simulator's "text, then answer -511" and "cut the report short" switches
(``simulator/netmessenger/faults.py``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Literal

FaultKind = Literal["latency", "http_error", "throttle", "drop_after_accept", "error_after_accept"]
FAULT_KINDS: tuple[FaultKind, ...] = ("latency", "http_error", "throttle", "drop_after_accept", "error_after_accept")


@dataclass
class Fault:
    """One armed fault. ``remaining`` is ``None`` for "until cleared"."""

    kind: FaultKind
    remaining: int | None
    only: str | None = None
    seconds: float = 0.0
    status: int = 503

    def matches(self, path: str) -> bool:
        """Whether this fault applies to a request for ``path``."""
        return self.only is None or path.startswith(self.only)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly description (for ``GET /_sim/faults``)."""
        return {
            "fault": self.kind,
            "count": self.remaining,
            "only": self.only,
            "seconds": self.seconds,
            "status": self.status,
        }


@dataclass(frozen=True)
class FaultDecision:
    """What to do with one request, decided when it arrives."""

    latency: float = 0.0
    http_error: int | None = None
    throttle: bool = False
    drop_after_accept: bool = False
    #: Process the request, then answer this HTTP status instead (None: answer normally).
    error_after_accept: int | None = None


class FaultSwitches:
    """Armed faults, consumed by the requests they match."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def latency(self, seconds: float, count: int | None = None, only: str | None = None) -> None:
        """Delay the next ``count`` matching requests by ``seconds`` (all of them if ``count`` is None)."""
        if seconds < 0:
            raise ValueError("latency must be >= 0")
        self._arm(Fault("latency", self._count(count, allow_none=True), only, seconds=seconds))

    def http_error(self, status: int = 503, count: int = 1, only: str | None = None) -> None:
        """Answer the next ``count`` matching requests with HTTP ``status`` without processing them."""
        if not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        self._arm(Fault("http_error", self._count(count), only, status=status))

    def throttle(self, count: int = 1, only: str | None = None) -> None:
        """Answer the next ``count`` matching requests with the gateway's throttling reply."""
        self._arm(Fault("throttle", self._count(count), only))

    def drop_after_accept(self, count: int = 1, only: str | None = None) -> None:
        """Process the next ``count`` matching requests, then cut their answers off mid-way."""
        self._arm(Fault("drop_after_accept", self._count(count), only))

    def error_after_accept(self, status: int = 503, count: int = 1, only: str | None = None) -> None:
        """Process the next ``count`` matching requests, then answer HTTP ``status`` instead."""
        if not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        self._arm(Fault("error_after_accept", self._count(count), only, status=status))

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._faults.clear()

    def active(self) -> list[dict[str, Any]]:
        """Descriptions of the armed faults, oldest first."""
        with self._lock:
            return [fault.as_dict() for fault in self._faults]

    def configure(self, spec: dict[str, Any]) -> None:
        """Arm (or clear) a fault from a JSON object, as posted to ``/_sim/faults``.

        ``{"fault": "latency", "seconds": 0.5, "count": 2, "only": "/eapi"}``,
        ``{"fault": "http_error", "status": 502}``, ``{"fault": "throttle"}``,
        ``{"fault": "drop_after_accept", "only": "/eapi/submission"}``, ``{"fault": "clear"}``.
        """
        kind = spec.get("fault")
        only = spec.get("only")
        if only is not None and not isinstance(only, str):
            raise ValueError("'only' must be a path prefix string")
        if kind == "clear":
            self.clear()
        elif kind == "latency":
            self.latency(float(spec.get("seconds", 0.0)), _opt_int(spec.get("count")), only)
        elif kind == "http_error":
            self.http_error(int(spec.get("status", 503)), int(spec.get("count", 1)), only)
        elif kind == "throttle":
            self.throttle(int(spec.get("count", 1)), only)
        elif kind == "drop_after_accept":
            self.drop_after_accept(int(spec.get("count", 1)), only)
        elif kind == "error_after_accept":
            self.error_after_accept(int(spec.get("status", 503)), int(spec.get("count", 1)), only)
        else:
            raise ValueError(f"unknown fault {kind!r}; expected one of {[*FAULT_KINDS, 'clear']}")

    def decide(self, path: str) -> FaultDecision:
        """Consume the faults that match a request for ``path`` and say what to do with it.

        At most one fault of each role fires per request, so counts mean "requests": one
        latency, then one rejection (HTTP error or throttle, whichever was armed first); a
        fault after processing (drop or error, whichever was armed first) is consumed only by a
        request that is not rejected (it must be processed).
        """
        with self._lock:
            delay = self._take(path, ("latency",))
            rejection = self._take(path, ("http_error", "throttle"))
            after = None if rejection is not None else self._take(path, ("drop_after_accept", "error_after_accept"))
            self._faults = [f for f in self._faults if f.remaining is None or f.remaining > 0]
        return FaultDecision(
            latency=delay.seconds if delay is not None else 0.0,
            http_error=rejection.status if rejection is not None and rejection.kind == "http_error" else None,
            throttle=rejection is not None and rejection.kind == "throttle",
            drop_after_accept=after is not None and after.kind == "drop_after_accept",
            error_after_accept=after.status if after is not None and after.kind == "error_after_accept" else None,
        )

    def _take(self, path: str, kinds: tuple[FaultKind, ...]) -> Fault | None:
        # Caller holds the lock.
        for fault in self._faults:
            if fault.kind in kinds and fault.matches(path) and (fault.remaining is None or fault.remaining > 0):
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
        return None

    def _arm(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    @staticmethod
    def _count(count: int | None, allow_none: bool = False) -> int | None:
        if count is None and allow_none:
            return None
        if count is None or count < 1:
            raise ValueError("count must be a positive integer")
        return count


class CountedSwitch:
    """A gateway-level fault: armed with a value for the next ``count`` uses (or until cleared).

    Thread-safe; :meth:`take` returns the value and uses one count, or None when disarmed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: Any = None
        self._remaining: int | None = 0

    def arm(self, value: Any, count: int | None = 1) -> None:
        """Fire with ``value`` for the next ``count`` uses (every use when ``count`` is None)."""
        if count is not None and count < 1:
            raise ValueError("count must be a positive integer")
        with self._lock:
            self._value, self._remaining = value, count

    def take(self) -> Any:
        """The armed value (using one count), or None when disarmed."""
        with self._lock:
            if self._remaining is not None and self._remaining <= 0:
                return None
            if self._remaining is not None:
                self._remaining -= 1
            return self._value

    def clear(self) -> None:
        with self._lock:
            self._value, self._remaining = None, 0

    @property
    def armed(self) -> bool:
        with self._lock:
            return self._remaining is None or self._remaining > 0


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)
