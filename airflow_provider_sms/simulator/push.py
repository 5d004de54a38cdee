"""Outgoing callbacks (delivery-report pushes) sent by a small, bounded pool of threads.

Gateways call :meth:`PushDispatcher.submit` when a status becomes final; :meth:`drain` lets
``clock.advance`` wait until every due push has been attempted, so tests need no sleeping.
The stdlib ``urllib`` is used on purpose: tests that mock ``requests`` or ``httpx`` in the same
process must not swallow the simulator's own callbacks.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushJob:
    """One HTTP GET to make: ``url`` plus query parameters."""

    url: str
    params: Sequence[tuple[str, str]]
    generation: int
    body: bytes | None = None  # POSTed (with ``content_type``) when set; a GET otherwise
    content_type: str = "application/x-www-form-urlencoded"
    success_below: int = 201  # answers from 200 up to this (exclusive) count as delivered

    def full_url(self) -> str:
        """``url`` with the parameters appended (keeping any query the URL already has)."""
        if not self.params:
            return self.url
        separator = "&" if urllib.parse.urlsplit(self.url).query else "?"
        return self.url + separator + urllib.parse.urlencode(list(self.params))


class PushDispatcher:
    """Deliver pushes with ``workers`` threads; at most ``max_pending`` jobs wait in memory.

    A failed push (network error or a non-200 answer) is retried after a short real-time back-off
    up to ``max_attempts`` times, then logged and dropped. (BulkSMS itself retries after 1 h,
    3 h and 12 h; a simulator that waited that long would be no use in a test.)
    """

    def __init__(
        self,
        workers: int = 2,
        max_attempts: int = 3,
        timeout: float = 5.0,
        backoff: float = 0.05,
        max_pending: int = 10000,
    ) -> None:
        self._workers = max(1, workers)
        self.max_attempts = max(1, max_attempts)
        self._timeout = timeout
        self._backoff = backoff
        self._max_pending = max(1, max_pending)
        self._jobs: deque[PushJob] = deque()
        self._unfinished = 0
        self._generation = 0
        self._closed = False
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self.delivered = 0
        self.failed = 0

    def submit(self, url: str, params: Sequence[tuple[str, str]], *, body: bytes | None = None,
               content_type: str = "application/x-www-form-urlencoded", success_below: int = 201) -> None:
        """Queue one push; blocks while ``max_pending`` jobs are already waiting.

        With ``body`` the push is a POST of it; an answer status in ``200 <= status < success_below``
        counts as delivered, anything else is retried.
        """
        with self._cond:
            if self._closed:
                return
            self._start_workers()
            while len(self._jobs) >= self._max_pending and not self._closed:
                self._cond.wait()
            self._jobs.append(PushJob(url, tuple(params), self._generation, body, content_type, success_below))
            self._unfinished += 1
            self._cond.notify_all()

    def drain(self, timeout: float | None = 60.0) -> bool:
        """Wait until every submitted push has been delivered or given up; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._unfinished:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def clear(self) -> None:
        """Forget queued pushes (a push already being sent finishes, but is not retried)."""
        with self._cond:
            self._generation += 1
            self._unfinished -= len(self._jobs)
            self._jobs.clear()
            self.delivered = 0
            self.failed = 0
            self._cond.notify_all()

    def close(self) -> None:
        """Stop the workers after their current push; queued pushes are dropped."""
        self.clear()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=self._timeout + 1.0)

    def _start_workers(self) -> None:
        # Caller holds the lock. Threads start lazily: most simulators never push.
        while len(self._threads) < self._workers:
            thread = threading.Thread(target=self._work, name=f"sms-sim-push-{len(self._threads)}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                job = self._jobs.popleft()
                self._cond.notify_all()  # wake a submitter waiting for room
            ok = self._deliver(job)
            with self._cond:
                # In-flight jobs count as unfinished even across clear(), so drain() stays exact.
                self._unfinished -= 1
                if job.generation == self._generation:
                    if ok:
                        self.delivered += 1
                    else:
                        self.failed += 1
                self._cond.notify_all()

    def _deliver(self, job: PushJob) -> bool:
        url = job.full_url()
        for attempt in range(1, self.max_attempts + 1):
            if job.generation != self._generation or self._closed:
                return False
            try:
                # The URL is configured by the simulator's own user (loopback in tests).
                request = urllib.request.Request(url, data=job.body, method="POST" if job.body is not None else "GET")  # noqa: S310
                if job.body is not None:
                    request.add_header("Content-Type", job.content_type)
                with urllib.request.urlopen(request, timeout=self._timeout) as answer:  # noqa: S310
                    if 200 <= answer.status < job.success_below:
                        return True
                    problem = f"HTTP {answer.status}"
            except (urllib.error.URLError, OSError) as exc:
                problem = type(exc).__name__ + (f" {exc.code}" if isinstance(exc, urllib.error.HTTPError) else "")
            # Log only the push target's path: the query may hold the receiver's own secret.
            log.warning(
                "push to %s failed (%s), attempt %d of %d",
                urllib.parse.urlsplit(job.url).path or "/",
                problem,
                attempt,
                self.max_attempts,
            )
            if attempt < self.max_attempts:
                time.sleep(self._backoff * 2 ** (attempt - 1))
        return False
