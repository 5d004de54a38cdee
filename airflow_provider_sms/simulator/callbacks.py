"""Callbacks the simulated gateways make (status pushes, replies, postbacks), with each vendor's retry rule.

Every gateway queues its callbacks here with a :class:`RetryRule`; the simulator's tick (on
``clock.advance`` and in the background) posts those that came due, one after the other, as a
gateway sends them over one connection. A failed try comes due again after the rule's next
delay *on the virtual clock*: ``clock.advance(300)`` brings Skycore's five-minute retry, no test
sleeps. The stdlib ``urllib`` is used so tests that mock ``requests`` or ``httpx`` cannot swallow
the simulator's own callbacks. Logs name the target's path only: its query may hold the
receiver's secret.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["CallbackJob", "CallbackQueue", "RetryRule", "capped", "with_query"]


def _is_200(status: int, body: bytes) -> bool:
    return status == 200


@dataclass(frozen=True)
class RetryRule:
    """How one kind of callback is judged and retried.

    :param delays: virtual seconds before each retry, in order (their number is the most retries).
    :param ok: whether an answer ``(status, body)`` acknowledges the callback.
    :param retry_on: whether a refused answer's status is retried (``None``: no answer at all:
        refused connection, reset, timeout); default: every failure.
    :param timeout: real seconds the receiver has to answer.
    """

    delays: tuple[float, ...] = ()
    ok: Callable[[int, bytes], bool] = _is_200
    retry_on: Callable[[int | None], bool] = field(default=lambda status: True)
    timeout: float = 10.0

    @classmethod
    def every(cls, interval: float, within: float, **kwargs: Any) -> RetryRule:
        """Retries every ``interval`` seconds for ``within`` seconds."""
        count = int(within // interval) if interval > 0 else 0
        return cls(delays=(interval,) * count, **kwargs)


@dataclass
class CallbackJob:
    """One callback to make; ``attempts`` counts tries so far, ``history`` their outcomes."""

    url: str
    method: str
    body: bytes | None
    content_type: str
    due: float
    label: str
    rule: RetryRule
    attempts: int = 0
    delivered: bool = False
    history: list[str] = field(default_factory=list)

    @property
    def given_up(self) -> bool:
        return not self.delivered and self.attempts > 0 and self.due == float("inf")

    def describe(self) -> dict[str, Any]:
        return {"label": self.label, "path": urllib.parse.urlsplit(self.url).path, "attempts": self.attempts,
                "delivered": self.delivered, "given_up": self.given_up, "history": list(self.history),
                "due": None if self.due == float("inf") else self.due}


def capped(rule: RetryRule, max_attempts: int | None) -> RetryRule:
    """``rule`` with at most ``max_attempts`` tries in all (``None``: unchanged)."""
    if max_attempts is None:
        return rule
    return replace(rule, delays=rule.delays[:max(0, max_attempts - 1)])


def with_query(url: str, params: Sequence[tuple[str, str]]) -> str:
    """``url`` with ``params`` appended (keeping the query it already has: the receiver's secret)."""
    if not params:
        return url
    separator = "&" if urllib.parse.urlsplit(url).query else "?"
    return url + separator + urllib.parse.urlencode(list(params))


class CallbackQueue:
    """Pending and finished callbacks of one gateway; :meth:`deliver_due` makes the due ones."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._sending = threading.Lock()
        self.jobs: list[CallbackJob] = []

    def add(self, url: str, *, due: float, label: str, rule: RetryRule, body: bytes | None = None,
            method: str | None = None, content_type: str = "application/x-www-form-urlencoded") -> None:
        """Queue one callback (a GET of ``url`` unless a ``body`` is given or ``method`` says otherwise)."""
        job = CallbackJob(url, method or ("POST" if body is not None else "GET"), body, content_type, due, label, rule)
        with self._lock:
            self.jobs.append(job)

    def clear(self) -> None:
        with self._lock:
            self.jobs.clear()

    def pending(self) -> list[CallbackJob]:
        """Callbacks not yet acknowledged that will be tried again."""
        with self._lock:
            return [j for j in self.jobs if not j.delivered and j.due != float("inf")]

    def counts(self) -> dict[str, int]:
        """``delivered`` (acknowledged), ``failed`` (given up), ``pending``."""
        with self._lock:
            delivered = sum(1 for j in self.jobs if j.delivered)
            failed = sum(1 for j in self.jobs if j.given_up)
            return {"delivered": delivered, "failed": failed, "pending": len(self.jobs) - delivered - failed}

    def log(self) -> list[dict[str, Any]]:
        with self._lock:
            return [j.describe() for j in self.jobs]

    def deliver_due(self, now: float, *, wait: bool) -> None:
        """Try every due callback once, oldest first; a failure comes due again after the rule's next delay."""
        if not self._sending.acquire(blocking=wait):
            return
        try:
            with self._lock:
                due = sorted((j for j in self.jobs if not j.delivered and j.due <= now), key=lambda j: j.due)
            for job in due:
                ok, status, outcome = self._send(job)
                with self._lock:
                    job.attempts += 1
                    job.history.append(outcome)
                    job.delivered = ok
                    if ok:
                        continue
                    retry = job.attempts - 1
                    if retry < len(job.rule.delays) and job.rule.retry_on(status):
                        job.due = now + job.rule.delays[retry]
                    else:
                        job.due = float("inf")
                log.warning("%s callback %s to %s failed (%s), try %d", self.name, job.label,
                            urllib.parse.urlsplit(job.url).path or "/", outcome, job.attempts)
        finally:
            self._sending.release()

    @staticmethod
    def _send(job: CallbackJob) -> tuple[bool, int | None, str]:
        # The URL is the simulator user's own configuration (loopback in tests).
        request = urllib.request.Request(job.url, data=job.body, method=job.method)  # noqa: S310
        if job.body is not None:
            request.add_header("Content-Type", job.content_type)
        try:
            with urllib.request.urlopen(request, timeout=job.rule.timeout) as answer:  # noqa: S310
                body = answer.read(65536)
                return job.rule.ok(answer.status, body), answer.status, f"HTTP {answer.status}"
        except urllib.error.HTTPError as error:
            return False, error.code, f"HTTP {error.code}"
        except (urllib.error.URLError, OSError) as error:
            return False, None, type(error).__name__
