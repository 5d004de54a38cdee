"""What a gateway's receipt poller hands over: events to store, and where the poll got to.

Pure model (no I/O): hooks build :class:`ReceiptBatch` objects, the poll operator stores them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from airflow_provider_sms.core.receipts import ReplyEvent, StatusEvent

__all__ = ["ReceiptBatch"]


@dataclass(frozen=True)
class ReceiptBatch:
    """Events taken from one of a gateway's sources (a queue, an inbox, a report window).

    :param source: the source's name (``status_queue``, ``reply_queue``, ``inbox``, ...), the key of its cursor.
    :param events: what to store, in the gateway's order.
    :param cursor: where the next poll of ``source`` starts, to be saved only once ``events`` are stored;
        None when the gateway keeps the position itself (a queue that hands each item out once).
    """

    source: str
    events: Sequence[StatusEvent | ReplyEvent]
    cursor: str | None = None
