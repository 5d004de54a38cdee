"""Inbound replies as Airflow asset events: an event trigger for asset watchers (Airflow 3).

The triggerer runs :class:`SmsReplyTrigger` for as long as a DAG is scheduled on an asset watched
by it (build the asset with :func:`airflow_provider_sms.assets.sms_reply_asset`). It reads the
replies the callback receiver and the pollers stored (``ReceiptStore.replies_after``), oldest
first, and yields one :class:`TriggerEvent` per reply; Airflow turns each into an asset event
whose ``extra["payload"]`` is the reply (:func:`reply_payload`), and DAGs scheduled on the asset run.

Where it got to is kept in the store's database (``sms_poll_cursors``, owner ``watcher:<name>``),
saved for each reply when the triggerer asks for the next one (which it does as soon as it has
queued the event), so a restarted triggerer goes on after the last reply it took. A triggerer
killed between taking a reply and asking for the next hands that reply over again after the
restart (``store_id`` and ``event_id`` in the payload let a DAG notice); one killed in the moment
after that but before writing the queued event to Airflow's database loses that asset event
(Airflow 3.1 gives event triggers no acknowledgement) -- the reply itself stays in the store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

if TYPE_CHECKING:
    from airflow_provider_sms.core.receipts import ReplyEvent
    from airflow_provider_sms.receipts.cursors import PollCursors
    from airflow_provider_sms.receipts.store import ReceiptStore

__all__ = ["SmsReplyTrigger", "reply_payload"]

log = logging.getLogger(__name__)

CURSOR_SOURCE = "replies"
MAX_BATCH = 1000


def reply_payload(store_id: int, reply: ReplyEvent) -> dict[str, Any]:
    """The asset event's payload for one stored reply (JSON; ``opt_out`` says it was a stop word)."""
    from airflow_provider_sms.receipts.suppression import is_stop_word

    return {"store_id": store_id, "gateway": reply.gateway, "conn_id": reply.conn_id, "event_id": reply.event_id,
            "sender": reply.sender, "recipient": reply.recipient, "text": reply.text,
            "received_at": reply.received_at.isoformat(), "in_reply_to": reply.in_reply_to,
            "opt_out": is_stop_word(reply.text)}


class SmsReplyTrigger(BaseEventTrigger):
    """Yield one event per reply stored in the receipt store, forever (an asset watcher's trigger).

    Its arguments must not change between DAG parses (Airflow identifies a watcher by them).

    :param name: the watcher's name; its position in the store is kept under it.
    :param sms_conn_id: only replies to this SMS connection; None for every connection's.
    :param receipts_conn_id: the receipt store's connection (default ``sms_journal_default``).
    :param poll_interval: seconds between looks at the store when nothing new has arrived.
    :param start: where a watcher that has no position yet begins: ``beginning`` (every reply
        stored so far, then the new ones; default) or ``end`` (only replies stored from now on).
    """

    def __init__(self, *, name: str, sms_conn_id: str | None = None, receipts_conn_id: str | None = None,
                 poll_interval: float = 5.0, start: str = "beginning") -> None:
        super().__init__()
        if start not in ("beginning", "end"):
            raise ValueError(f"start must be 'beginning' or 'end', got {start!r}")
        if not name:
            raise ValueError("name must not be empty")
        self.name = name
        self.sms_conn_id = sms_conn_id
        self.receipts_conn_id = receipts_conn_id
        self.poll_interval = poll_interval
        self.start = start

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}",
                {"name": self.name, "sms_conn_id": self.sms_conn_id, "receipts_conn_id": self.receipts_conn_id,
                 "poll_interval": self.poll_interval, "start": self.start})

    @property
    def owner(self) -> str:
        return f"watcher:{self.name}"

    def _open(self) -> tuple[ReceiptStore, PollCursors, int]:
        from airflow_provider_sms.receipts.cursors import PollCursors
        from airflow_provider_sms.receipts.store import ReceiptStore

        store = ReceiptStore.from_conn_id(self.receipts_conn_id)
        cursors = PollCursors(store.database)
        saved = cursors.get(self.owner, CURSOR_SOURCE)
        if saved is not None:
            return store, cursors, int(saved)
        cursor = store.last_cursor("replies") if self.start == "end" else 0
        cursors.set(self.owner, CURSOR_SOURCE, str(cursor))
        return store, cursors, cursor

    async def run(self) -> AsyncIterator[TriggerEvent]:
        # Sync database calls go through asgiref (see triggers.base: the triggerer's supervisor
        # calls must come from asgiref threads on Airflow < 3.3.2).
        from asgiref.sync import sync_to_async

        from airflow_provider_sms.exceptions import SmsError

        opened: tuple[ReceiptStore, PollCursors, int] | None = None
        while opened is None:
            try:
                opened = await sync_to_async(self._open)()
            except SmsError as error:  # the store is down: wait for it, a watcher must not end
                log.warning("reply watcher %s: %s; trying again in %gs", self.name, error, self.poll_interval)
                await asyncio.sleep(self.poll_interval)
        store, cursors, cursor = opened
        save = sync_to_async(cursors.set)
        read = sync_to_async(store.replies_after)
        log.info("reply watcher %s: replies after #%d of %s", self.name, cursor, store.description)
        while True:
            try:
                page = await read(cursor, MAX_BATCH)
            except SmsError as error:
                log.warning("reply watcher %s: %s; trying again in %gs", self.name, error, self.poll_interval)
                await asyncio.sleep(self.poll_interval)
                continue
            for store_id, reply in page:
                if self.sms_conn_id is None or reply.conn_id == self.sms_conn_id:
                    yield TriggerEvent(reply_payload(store_id, reply))
                cursor = store_id
                await self._save(save, cursor)
            if len(page) < MAX_BATCH:
                await asyncio.sleep(self.poll_interval)

    async def _save(self, save: Any, cursor: int) -> None:
        from airflow_provider_sms.exceptions import SmsError

        while True:
            try:
                await save(self.owner, CURSOR_SOURCE, str(cursor))
                return
            except SmsError as error:  # not saved: a restart would repeat the reply; keep trying
                log.warning("reply watcher %s: cannot save its position (%s); trying again", self.name, error)
                await asyncio.sleep(self.poll_interval)
