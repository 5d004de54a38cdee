"""What a wait for delivery knows between polls, kept small enough for XCom and trigger events.

A wait over 100,000 messages must not ask the gateway about messages that are already final,
nor carry every status through the triggerer: :class:`StatusTally` counts final outcomes, keeps the
messages that did not succeed (and every status while the wait is small), and lists what is still
pending, which is all the next poll asks about.

Statuses travel as compact rows (``[status, recipient, message_id, batch_id, code, text]``) and
the pending list as :func:`pack` text (zlib-compressed JSON), so a trigger's kwargs and event stay
well under a megabyte at 100,000 messages.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_sms.core.results import BackgroundSend, DeliveryStatus, MessageStatus
from airflow_provider_sms.core.status_policy import (
    OnFailedDelivery,
    SuccessWhen,
    Verdict,
    failure_summary_line,
    progress_line,
)

__all__ = ["KEEP_ALL_LIMIT", "PendingRef", "StatusTally", "background_summary", "pack", "unpack"]

#: Up to this many messages a result lists every status (as before issue 13); above it, only the
#: messages that did not succeed (the send operator's ``xcom_results="auto"`` does the same).
KEEP_ALL_LIMIT = 10_000
#: At most this many not-delivered messages travel in an event or XCom; the counts stay exact.
MAX_LISTED_FAILURES = 10_000

PendingRef = tuple[str | None, str | None, str | None]
"""``(batch_id, message_id, recipient)``: a message (or, with only a batch id, a whole batch) to ask about."""


def _row(status: MessageStatus) -> list[str | None]:
    return [status.status.value, status.recipient, status.message_id, status.batch_id, status.code, status.text]


def _ask_row(status: MessageStatus) -> list[str | None]:
    """What asking about ``status`` again needs: its ids (the recipient only when it has no message id)."""
    return [status.status.value, None if status.message_id else status.recipient, status.message_id,
            status.batch_id, None, None]


def _from_row(row: Sequence[Any]) -> MessageStatus:
    value, recipient, message_id, batch_id, code, text = (list(row) + [None] * 6)[:6]
    return MessageStatus(DeliveryStatus(value), recipient=recipient, message_id=message_id, batch_id=batch_id,
                         code=code, text=text)


def pack(data: Any) -> str:
    """JSON-able ``data`` as short ASCII text (zlib, base64): message ids compress several-fold."""
    raw = json.dumps(data, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(zlib.compress(raw, 6)).decode("ascii")


def unpack(text: str, limit: int = 256 * 1024 * 1024) -> Any:
    """The data :func:`pack` packed. ``limit`` caps the unpacked size (ValueError past it)."""
    inflater = zlib.decompressobj()
    raw = inflater.decompress(base64.b64decode(text.encode("ascii"), validate=True), limit)
    if inflater.unconsumed_tail:
        raise ValueError(f"packed data unpacks to more than {limit} bytes")
    return json.loads(raw)


@dataclass
class StatusTally:
    """Final outcomes so far, the messages still pending, and what the next poll must ask.

    :param keep_all: list every status in the result while the wait holds at most
        :data:`KEEP_ALL_LIMIT` messages (``xcom_results="auto"``); False lists only the failures.
    """

    keep_all: bool = True
    counts: Counter[str] = field(default_factory=Counter)
    """Final statuses by value (``delivered``, ``failed``...)."""
    failures: list[MessageStatus] = field(default_factory=list)
    """Final and not delivered, at most :data:`MAX_LISTED_FAILURES`."""
    kept: list[MessageStatus] = field(default_factory=list)
    """Every final status while ``keep_all`` holds."""
    pending: list[MessageStatus] = field(default_factory=list)
    """The latest status of each message not final yet."""
    waiting_batches: list[str] = field(default_factory=list)
    """Batches asked about as a whole that listed no message yet (e.g. scheduled, not sent)."""

    @property
    def final(self) -> int:
        return sum(self.counts.values())

    @property
    def total(self) -> int:
        return self.final + len(self.pending)

    @property
    def delivered(self) -> int:
        return self.counts.get(DeliveryStatus.DELIVERED.value, 0)

    @property
    def failed(self) -> int:
        return self.final - self.delivered

    @property
    def complete(self) -> bool:
        """Does :meth:`statuses` list every message?"""
        return self.keep_all and self.total <= KEEP_ALL_LIMIT

    @property
    def started(self) -> bool:
        """Has any status come back (an empty answer proves nothing is final yet)?"""
        return self.total > 0

    def record(self, asked: Iterable[PendingRef], statuses: Iterable[MessageStatus]) -> None:
        """Take one poll's answer to ``asked``: finals are counted once, pending ones asked again.

        A whole batch asked for (a ref with only a batch id) that came back without any message
        stays a batch to ask about; once it lists messages, only its pending ones are asked again.
        """
        self.pending = []
        answered: set[str] = set()
        for status in statuses:
            if status.batch_id:
                answered.add(status.batch_id)
            if status.status.is_final:
                self.counts[status.status.value] += 1
                if status.status.is_failure and len(self.failures) < MAX_LISTED_FAILURES:
                    self.failures.append(status)
                if self.keep_all:
                    self.kept.append(status)
                    if len(self.kept) > KEEP_ALL_LIMIT:
                        self.keep_all, self.kept = False, []
            else:
                self.pending.append(status)
        self.waiting_batches = [b for b, m, r in asked if b and m is None and r is None and b not in answered]

    def to_ask(self) -> list[PendingRef]:
        """What the next poll asks about: each pending message (by every id it has), and waiting batches."""
        refs: list[PendingRef] = [(s.batch_id, s.message_id, s.recipient) for s in self.pending]
        return refs + [(b, None, None) for b in self.waiting_batches]

    def statuses(self) -> list[MessageStatus]:
        """Every status when :attr:`complete`; else only the messages that did not succeed."""
        return [*self.kept, *self.pending] if self.complete else list(self.failures)

    def counts_by_status(self) -> dict[str, int]:
        """How many messages are in each status now (final and not)."""
        return dict(self.counts + Counter(s.status.value for s in self.pending))

    def judge(self, success_when: SuccessWhen, on_failed: OnFailedDelivery) -> Verdict:
        """:func:`~.status_policy.judge` from the tally: ``all_delivered`` with ``fail``/``skip``
        stops at the first failure; otherwise done when nothing is pending (batches not listed yet
        count as pending)."""
        fail_fast = success_when == "all_delivered" and on_failed != "continue" and self.failed > 0
        waiting = len(self.pending) + len(self.waiting_batches)
        done = (waiting == 0 and self.started) or fail_fast
        relevant = tuple(self.failures) if success_when == "all_delivered" else ()
        return Verdict(done=done, failed=relevant, pending=waiting)

    def progress(self) -> str:
        """The one-line progress report of :func:`~.status_policy.progress`."""
        return progress_line(self.total, len(self.pending), self.delivered, self.failed, self.failures)

    def failure_summary(self, limit: int = 100) -> str | None:
        """Every failed recipient (up to ``limit``) as :func:`~.status_policy.failure_summary` says it."""
        return failure_summary_line(self.total, self.failed, self.failures, limit)

    # -- travelling through trigger kwargs and events ---------------------------------------------

    def pack(self) -> str:
        """Everything known, as :func:`pack` text (for trigger kwargs and events)."""
        return pack({
            "keep_all": self.keep_all,
            "counts": dict(self.counts),
            "failures": [_row(s) for s in self.failures],
            "kept": [_row(s) for s in self.kept] if self.complete else [],
            # Above the listing limit a pending message is only asked about again: its ids will do.
            "pending": [_row(s) if self.complete else _ask_row(s) for s in self.pending],
            "waiting_batches": list(self.waiting_batches),
        })

    @classmethod
    def unpack(cls, text: str) -> StatusTally:
        data = unpack(text)
        if not isinstance(data, dict):
            raise ValueError("not a packed status tally")
        tally = cls(
            keep_all=bool(data.get("keep_all", True)),
            counts=Counter({str(k): int(v) for k, v in dict(data.get("counts") or {}).items()}),
            failures=[_from_row(r) for r in data.get("failures") or []],
            kept=[_from_row(r) for r in data.get("kept") or []],
            pending=[_from_row(r) for r in data.get("pending") or []],
            waiting_batches=[str(b) for b in data.get("waiting_batches") or []],
        )
        if not tally.complete:
            tally.keep_all, tally.kept = False, []
        return tally

    def summary(self) -> dict[str, Any]:
        """The result users read: counts, and the statuses (every one up to :data:`KEEP_ALL_LIMIT`
        messages, else only those that did not succeed, ``statuses_complete`` telling which)."""
        return {
            "total": self.total,
            "delivered": self.delivered,
            "failed": self.failed,
            "pending": len(self.pending),
            "counts": self.counts_by_status(),
            "statuses": [s.to_dict() for s in self.statuses()],
            "statuses_complete": self.complete,
        }


def background_summary(answer: BackgroundSend) -> dict[str, Any]:
    """A finished background send as its sensor returns it: every message up to
    :data:`KEEP_ALL_LIMIT`, else the counts and the messages that failed (``messages_complete``)."""
    messages = answer.messages
    complete = len(messages) <= KEEP_ALL_LIMIT
    listed = messages if complete else [m for m in messages if m.status.is_failure][:MAX_LISTED_FAILURES]
    return {
        "background_send_id": answer.background_send_id,
        "total": len(messages),
        "counts": dict(Counter(m.status.value for m in messages)),
        "messages": [m.to_dict() for m in listed],
        "messages_complete": complete,
    }
