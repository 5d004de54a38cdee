"""Virtual clock shared by every simulated gateway.

Virtual time is real time plus a manual offset. Tests never sleep: they call
:meth:`VirtualClock.advance`, which moves every status on at once and then runs the listeners
(the simulator uses one to fire due delivery-report pushes before ``advance`` returns).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

AdvanceListener = Callable[[], None]


class VirtualClock:
    """Real time plus an offset that only ever grows (until :meth:`reset`).

    ``now()`` is in epoch seconds so it can be formatted as a wall-clock date; it is derived from
    ``time.monotonic`` after construction so a system clock jump cannot move it backwards.
    """

    def __init__(
        self,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._monotonic = monotonic
        self._wall_origin = wall()
        self._mono_origin = monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()
        self._listeners: list[AdvanceListener] = []

    @property
    def offset(self) -> float:
        """Seconds added to real time by :meth:`advance` so far."""
        return self._offset

    def now(self) -> float:
        """Current virtual time, epoch seconds."""
        return self._wall_origin + (self._monotonic() - self._mono_origin) + self._offset

    def advance(self, seconds: float) -> float:
        """Move virtual time forward by ``seconds`` and run the listeners synchronously.

        Returns the new virtual time.
        """
        if seconds < 0:
            raise ValueError("the virtual clock only moves forward")
        with self._lock:
            self._offset += seconds
            listeners = list(self._listeners)
        # Listeners run outside the lock: they may do network I/O (pushes) and read the clock.
        for listener in listeners:
            listener()
        return self.now()

    def add_listener(self, listener: AdvanceListener) -> None:
        """Call ``listener()`` after every :meth:`advance`."""
        with self._lock:
            self._listeners.append(listener)

    def reset(self) -> None:
        """Drop the manual offset (virtual time becomes real time again)."""
        with self._lock:
            self._offset = 0.0
