"""One client-side rate limit and one throttling back-off, shared by every request of a hook.

A send with several requests in flight must still look like one polite client to the gateway:
every request takes its turn from the same :class:`Pacer` (a token bucket without burst: turns are
spaced ``cost / rate`` apart, ``cost`` being the recipients of the request), and when the gateway
says "slow down" (HTTP 429, BulkSMS 40, Skycore E113) every request waits (for the gateway's
``Retry-After``, or the retry back-off where no rate is configured), not only the one that was
refused, and the rate drops (by a fifth, to no less than a quarter of the configured rate),
then creeps back up with each answered request -- to a ceiling 3% below the rate that was
throttled (lowered at most once a second, and rising back slowly), so a limit that is a little
lower than configured, or a little jittery, is found rather than hit again and again.

Thread-safe. The clock and the sleep are injectable so that tests never sleep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["Pacer"]

#: On a throttling answer the rate is multiplied by this ...
SLOW_DOWN = 0.8
#: ... but never below this share of the configured rate ...
FLOOR = 0.25
#: ... and each answered request gives back this share of it ...
RECOVERY = 0.02
#: ... up to this share of the rate in force when the gateway throttled (once per ``CEILING_EVERY`` s),
#: a ceiling that itself creeps back to the configured rate by this share per answered request
#: (at 50 messages/s, 1% a second), so a refusal from jitter costs seconds, not the whole send.
CEILING = 0.97
CEILING_EVERY = 1.0
CEILING_RECOVERY = 0.0002


class Pacer:
    """Turns for requests: at most ``rate`` recipients per second (None: no limit), and a shared pause.

    :param rate: recipients (messages) per second over all requests; None for no rate limit.
    :param clock: monotonic seconds.
    :param sleep: waits that many seconds.
    """

    def __init__(self, rate: float | None, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.configured = rate
        self._rate = rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next: float | None = None  # earliest start of the next turn
        self._pause_until = float("-inf")
        self._ceiling = rate
        self._ceiling_at = float("-inf")
        self.throttles = 0  # throttling answers seen (for logs and tests)

    @property
    def rate(self) -> float | None:
        """The rate in force now (lower than configured after throttling answers)."""
        return self._rate

    def acquire(self, cost: int = 1) -> float:
        """Wait for this request's turn; ``cost`` is how many messages it sends. Returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                pause = self._pause_until - now
                if pause <= 0:
                    start = now if self._next is None else max(now, self._next)
                    if self._rate is not None:
                        self._next = start + max(1, cost) / self._rate
                    wait, reserved = start - now, True
                else:
                    wait, reserved = pause, False
            if wait > 0:
                self._sleep(wait)
                waited += wait
            if reserved:
                break
        with self._lock:  # a throttling answer that came while this turn was waiting holds it too
            late = self._pause_until - self._clock()
        if late > 0:
            self._sleep(late)
            waited += late
        return waited

    @property
    def ceiling(self) -> float | None:
        """The most the rate recovers to (the configured rate until the gateway throttles)."""
        return self._ceiling

    def throttled(self, pause: float, *, hinted: bool = True) -> None:
        """The gateway asked to slow down: nobody starts a request for ``pause`` seconds, and the rate drops.

        :param hinted: the gateway said how long to wait (``Retry-After``). Without a hint and with a
            configured rate, the lower rate is the back-off and nobody pauses: a refusal at the
            configured rate is jitter, and a pause would cost a fraction of a second of sending.
        """
        with self._lock:
            now = self._clock()
            self.throttles += 1
            if hinted or self._rate is None:
                self._pause_until = max(self._pause_until, now + max(0.0, pause))
            if self._rate is None or self.configured is None or self._ceiling is None:
                return
            floor = self.configured * FLOOR
            if now - self._ceiling_at >= CEILING_EVERY:  # requests refused together count once
                self._ceiling = max(floor, min(self._ceiling, self._rate * CEILING))
                self._ceiling_at = now
            self._rate = max(floor, self._rate * SLOW_DOWN)

    def answered(self) -> None:
        """A request was answered without throttling: the rate recovers a little."""
        if self._rate is None or self._ceiling is None or self.configured is None or self._rate >= self.configured:
            return
        with self._lock:
            self._ceiling = min(self.configured, self._ceiling + self.configured * CEILING_RECOVERY)
            self._rate = min(self._ceiling, self._rate + self.configured * RECOVERY)
