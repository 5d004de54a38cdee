"""Skycore postbacks: XML POSTed to the account's postback URL, one by one, on the virtual clock.

As the vendor describes it (seed 003): the receiver must answer HTTP 200 within 10 seconds;
on a timeout or any other status the notification is tried again about five minutes later, at
most 5 times. Here "five minutes" are virtual: ``clock.advance(300)`` brings the retry due, and
the simulator's tick delivers it. The stdlib ``urllib`` is used so tests that mock ``requests``
or ``httpx`` cannot swallow the simulator's own postbacks.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree

log = logging.getLogger(__name__)

__all__ = ["PostbackJob", "PostbackQueue", "postback_xml"]


def postback_xml(origin: str, code: str, fields: Mapping[str, str], *, generation: str, notification_id: int,
                 created: str) -> bytes:
    """One notification in the current flat ``<POSTBACK>`` form or the older ``<NOTIFICATION><BODY>`` one."""
    if generation == "notification":
        root = etree.Element("NOTIFICATION", ID=str(notification_id), CREATED=created)
        etree.SubElement(root, "ORIGIN").text = origin
        etree.SubElement(root, "CODE").text = code
        body = etree.SubElement(root, "BODY")
        for name, value in fields.items():
            if name == "STATUS":  # the old form carries status as attributes
                etree.SubElement(body, "STATUS", PROTOCOL="4", STATUS="0", TEXT=value)
            else:
                etree.SubElement(body, name).text = value
    else:
        root = etree.Element("POSTBACK")
        etree.SubElement(root, "ORIGIN").text = origin
        etree.SubElement(root, "CODE").text = code
        for name, value in fields.items():
            etree.SubElement(root, name).text = value
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


@dataclass
class PostbackJob:
    """One notification to deliver; ``attempts`` counts tries made so far."""

    url: str
    body: bytes
    due: float
    code: str
    attempts: int = 0
    delivered: bool = False
    history: list[str] = field(default_factory=list)


class PostbackQueue:
    """Pending and finished notifications; :meth:`deliver_due` sends what the clock made due."""

    def __init__(self, timeout: float = 10.0, retry_after: float = 300.0, max_retries: int = 5) -> None:
        self.timeout = timeout
        self.retry_after = retry_after
        self.max_retries = max_retries
        self._lock = threading.Lock()
        self._sending = threading.Lock()
        self.jobs: list[PostbackJob] = []

    def add(self, url: str, body: bytes, due: float, code: str) -> None:
        with self._lock:
            self.jobs.append(PostbackJob(url, body, due, code))

    def clear(self) -> None:
        with self._lock:
            self.jobs.clear()

    def pending(self) -> list[PostbackJob]:
        with self._lock:
            return [j for j in self.jobs if not j.delivered and j.attempts <= self.max_retries]

    def deliver_due(self, now: float, *, wait: bool) -> None:
        """Try every due notification once, in order; failures come due again ``retry_after`` later."""
        if not self._sending.acquire(blocking=wait):
            return
        try:
            with self._lock:
                due = [j for j in self.jobs if not j.delivered and j.attempts <= self.max_retries and j.due <= now]
            for job in sorted(due, key=lambda j: j.due):
                ok, outcome = self._post(job)
                with self._lock:
                    job.attempts += 1
                    job.history.append(outcome)
                    job.delivered = ok
                    if not ok:
                        job.due = now + self.retry_after
        finally:
            self._sending.release()

    def _post(self, job: PostbackJob) -> tuple[bool, str]:
        # The URL is the simulator user's own configuration (loopback in tests).
        request = urllib.request.Request(job.url, data=job.body, method="POST",  # noqa: S310
                                         headers={"Content-Type": "text/xml; charset=utf-8"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return answer.status == 200, f"HTTP {answer.status}"
        except urllib.error.HTTPError as exc:
            outcome = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            outcome = type(exc).__name__
        log.warning("skycore postback %s to %s failed (%s)", job.code, urllib.parse.urlsplit(job.url).path or "/",
                    outcome)
        return False, outcome
