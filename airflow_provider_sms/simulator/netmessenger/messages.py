"""NetMessenger messages, stored compactly so reports over a million rows stay cheap.

One :class:`SendRecord` per accepted ``Send`` (or seeded batch): the numbers as an ``array('q')``,
everything else shared (body, source, times), plus sparse dicts for the few messages that differ
(a configured failure outcome, a cancellation). Message ids are contiguous across the whole store,
``parts`` ids per message (``GetAllMessageIDs`` returns every part's id; a message is known by its
first part's id), so an id is found with one bisect.

Statuses are never stored. They follow from the virtual clock: ``Pending`` until the send time
and for the first half of the delivery delay, then ``Sent``, then the final word once the delay
is over - ``Delivered`` unless :meth:`MessageStore.add` was given another outcome for the number,
or ``Expired`` when the message's ``ValidityPeriod`` is shorter than the delivery delay. A
cancelled message reads ``Cancelled`` (a simulator word: the vendor documents none for it).
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field

PENDING = "Pending"
SENT = "Sent"
DELIVERED = "Delivered"
EXPIRED = "Expired"
CANCELLED = "Cancelled"
#: Final words :meth:`NetMessengerState.set_outcome` accepts (title case, like the .NET SDK tests
#: show for ``Delivered`` / ``Undeliverable``).
FINAL_WORDS = (DELIVERED, "Undeliverable", EXPIRED, "Failed", "Unknown", "Rejected")


@dataclass(slots=True, eq=False)
class SendRecord:
    """The messages of one accepted send: same body, source and send time, one per number."""

    first_id: int
    username: str
    numbers: array[int]
    body: str
    source: str
    parts: int
    created_at: float
    #: When the messages leave (schedule date, end of a background send, or acceptance).
    send_at: float
    #: Whether a ``ScheduleDate`` in the future was given (report ``ScheduleDate`` column).
    scheduled: bool
    delivery_delay: float
    time_zone: str
    bg_send_id: int | None = None
    #: ``ValidityPeriod`` shorter than the delivery delay: the message expires instead.
    expires: bool = False
    #: Final word per message index, only where it is not the default.
    outcomes: dict[int, str] = field(default_factory=dict)
    cancelled: set[int] = field(default_factory=set)

    @property
    def count(self) -> int:
        """Number of messages (recipients)."""
        return len(self.numbers)

    @property
    def id_span(self) -> int:
        """How many ids the send uses (every part of every message)."""
        return len(self.numbers) * self.parts

    @property
    def final_at(self) -> float:
        """Virtual time at which every message has its final status."""
        return self.send_at + self.delivery_delay

    def message_id(self, index: int) -> int:
        """Id of message ``index`` (its first part)."""
        return self.first_id + index * self.parts

    def part_ids(self, index: int) -> range:
        """Ids of every part of message ``index``."""
        first = self.message_id(index)
        return range(first, first + self.parts)

    def final_word(self, index: int) -> str:
        """The status message ``index`` ends with."""
        return self.outcomes.get(index, EXPIRED if self.expires else DELIVERED)

    def shared_status(self, now: float) -> str | None:
        """Status every non-cancelled message without an own outcome has at ``now``."""
        if now < self.send_at + self.delivery_delay / 2:
            return PENDING
        if now < self.final_at:
            return SENT
        return None  # final: depends on the message

    def status(self, index: int, now: float) -> str:
        """Status word of message ``index`` at ``now``."""
        if index in self.cancelled:
            return CANCELLED
        shared = self.shared_status(now)
        return self.final_word(index) if shared is None else shared

    def is_sent(self, now: float) -> bool:
        """Whether the messages have left (not scheduled or queued any more)."""
        return now >= self.send_at


class MessageStore:
    """Every message of every account, in id order. Thread-safe."""

    def __init__(self, first_id: int) -> None:
        self._lock = threading.Lock()
        self._next_id = first_id
        self._sends: list[SendRecord] = []
        self._first_ids: list[int] = []

    def add(
        self,
        *,
        username: str,
        numbers: array[int],
        body: str,
        source: str,
        parts: int,
        created_at: float,
        send_at: float,
        scheduled: bool,
        delivery_delay: float,
        time_zone: str,
        bg_send_id: int | None = None,
        expires: bool = False,
        outcomes: Mapping[int, str] | None = None,
    ) -> SendRecord:
        """Store a send; ``outcomes`` maps numbers to their final word (copied per message)."""
        per_message: dict[int, str] = {}
        if outcomes:
            # Only when outcomes are configured: a scan of a million numbers is not free.
            per_message = {i: outcomes[n] for i, n in enumerate(numbers) if n in outcomes}
        with self._lock:
            record = SendRecord(
                first_id=self._next_id,
                username=username,
                numbers=numbers,
                body=body,
                source=source,
                parts=parts,
                created_at=created_at,
                send_at=send_at,
                scheduled=scheduled,
                delivery_delay=delivery_delay,
                time_zone=time_zone,
                bg_send_id=bg_send_id,
                expires=expires,
                outcomes=per_message,
            )
            self._next_id += max(1, record.id_span)
            self._sends.append(record)
            self._first_ids.append(record.first_id)
            return record

    def find(self, message_id: int, username: str | None = None) -> tuple[SendRecord, int] | None:
        """The send and message index of ``message_id`` (any of its parts), if it exists."""
        with self._lock:
            position = bisect_right(self._first_ids, message_id) - 1
            if position < 0:
                return None
            record = self._sends[position]
        offset = message_id - record.first_id
        if offset >= record.id_span or (username is not None and record.username != username):
            return None
        return record, offset // record.parts

    def cancel(self, message_id: int, username: str, now: float) -> bool:
        """Cancel a message that has not left yet; False when unknown, foreign, sent or cancelled."""
        found = self.find(message_id, username)
        if found is None:
            return False
        record, index = found
        with self._lock:
            if record.is_sent(now) or index in record.cancelled:
                return False
            record.cancelled.add(index)
            return True

    def sends(self, username: str | None = None) -> list[SendRecord]:
        """A snapshot of the sends, oldest first (of one account when ``username`` is given)."""
        with self._lock:
            snapshot = list(self._sends)
        return snapshot if username is None else [s for s in snapshot if s.username == username]

    def __len__(self) -> int:
        """Total number of messages."""
        with self._lock:
            return sum(record.count for record in self._sends)
