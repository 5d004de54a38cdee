"""Remember, inside one process, which alerts were already handled, so a callback that fires twice texts once.

Across processes (a worker and a DAG processor both running a failure callback) the gateways'
own dedupe ids and sent-message lookups do that job (see :mod:`.delivery`); this guard also covers
gateways that have neither, as long as both firings happen in the same process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

__all__ = ["RepeatGuard"]


class RepeatGuard:
    """A bounded, thread-safe set of alert keys; the oldest are forgotten first."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._seen: OrderedDict[Hashable, None] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, key: Hashable) -> bool:
        """True the first time ``key`` is seen (and remembers it), False after that."""
        with self._lock:
            if key in self._seen:
                return False
            self._seen[key] = None
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)
            return True

    def forget(self, key: Hashable) -> None:
        """Let ``key`` through again (an alert that could not be sent may be tried by a later firing)."""
        with self._lock:
            self._seen.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()
