"""Reading and writing delivery receipts and replies, in the send journal's database.

The API server (callback receiver), the pollers, workers and the triggerer all reach the same
database (a SQLite file on one machine, PostgreSQL for a real deployment; see
:mod:`airflow_provider_sms.journal.database`). Each write is one short transaction and idempotent
on ``(gateway, conn_id, event_id)``: of two writers with the same event, one stores it and the
other is told it was known.

Cursors: every row has an integer id, and writers of one table take turns (a PostgreSQL advisory
lock held until commit; SQLite has one writer at a time anyway), so ids become visible in
increasing order. A reader that remembers the last id it handled and asks for rows after it never
misses a row and never sees one twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.sql.dml import Insert

from airflow_provider_sms.core.receipts import ReplyEvent, StatusEvent
from airflow_provider_sms.core.results import DeliveryStatus
from airflow_provider_sms.journal.database import (
    DEFAULT_JOURNAL_CONN_ID,
    Database,
    ensure_schema_once,
    open_database,
    unavailable,
)
from airflow_provider_sms.receipts.schema import COMPONENT, SCHEMA_VERSION, metadata, reply_events, status_events

__all__ = ["ReceiptStore"]

log = logging.getLogger(__name__)

# PostgreSQL advisory locks (one per table) that make inserts commit in id order.
_ORDER_LOCKS = {status_events.name: 0x534D5352, reply_events.name: 0x534D5353}  # "SMSR", "SMSS"
_IN_CHUNK = 500  # message ids per IN (...) query: well under every driver's parameter limit
MAX_PAGE = 10_000


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite hands datetimes back without a zone; everything is stored in UTC.
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _status(row: RowMapping) -> StatusEvent:
    return StatusEvent(gateway=row["gateway"], conn_id=row["conn_id"], event_id=row["event_id"],
                       message_id=row["message_id"], recipient=row["recipient"], state=DeliveryStatus(row["state"]),
                       gateway_code=row["gateway_code"], detail=row["detail"], occurred_at=_utc(row["occurred_at"]))


def _reply(row: RowMapping) -> ReplyEvent:
    return ReplyEvent(gateway=row["gateway"], conn_id=row["conn_id"], event_id=row["event_id"], sender=row["sender"],
                      recipient=row["recipient"], text=row["text"], received_at=_utc(row["received_at"]),
                      in_reply_to=row["in_reply_to"])


def _rank(row: RowMapping) -> tuple[bool, dt.datetime, int]:
    # A final status outranks any non-final one (a late "sent" must not undo "delivered"); then the
    # gateway's time, then arrival order.
    return DeliveryStatus(row["state"]).is_final, _utc(row["occurred_at"]), int(row["id"])


class ReceiptStore:
    """Status events and replies over one :class:`~airflow_provider_sms.journal.database.Database`.

    :param database: where the rows live; :meth:`from_conn_id` builds it from an Airflow connection.
    """

    def __init__(self, database: Database) -> None:
        self.database = database

    @classmethod
    def from_conn_id(cls, conn_id: str | None = None) -> ReceiptStore:
        """The store in the database of connection ``conn_id`` (default ``sms_journal_default``, the
        send journal's), its tables created if missing.

        :raises SmsConfigurationError: a named connection is missing or cannot hold the store.
        :raises JournalUnavailableError: the database cannot be reached.
        """
        store = cls(open_database(conn_id or DEFAULT_JOURNAL_CONN_ID))
        store.ensure_schema()
        return store

    def ensure_schema(self) -> None:
        """Create the tables if missing (once per process and database)."""
        ensure_schema_once(self.database, COMPONENT, metadata, SCHEMA_VERSION)

    @property
    def description(self) -> str:
        """Where the store is, for logs (never shows a password)."""
        return self.database.description

    @property
    def shared(self) -> bool:
        """True when every worker reaches this same database."""
        return self.database.shared

    # -- writing ----------------------------------------------------------------------------------

    def record_status(self, event: StatusEvent) -> bool:
        """Store one status event.

        :returns: True when it is new; False when the same ``(gateway, conn_id, event_id)`` is stored.
        :raises JournalUnavailableError: the database cannot be reached (nothing was stored).
        """
        now = dt.datetime.now(dt.UTC)
        return self._insert(status_events, {
            "gateway": event.gateway, "conn_id": event.conn_id, "event_id": event.event_id,
            "message_id": event.message_id, "recipient": event.recipient, "state": str(event.state),
            "gateway_code": event.gateway_code, "detail": event.detail,
            "occurred_at": event.occurred_at.astimezone(dt.UTC), "stored_at": now})

    def record_reply(self, event: ReplyEvent) -> bool:
        """Store one inbound reply.

        :returns: True when it is new; False when the same ``(gateway, conn_id, event_id)`` is stored.
        :raises JournalUnavailableError: the database cannot be reached (nothing was stored).
        """
        now = dt.datetime.now(dt.UTC)
        return self._insert(reply_events, {
            "gateway": event.gateway, "conn_id": event.conn_id, "event_id": event.event_id, "sender": event.sender,
            "recipient": event.recipient, "text": event.text, "received_at": event.received_at.astimezone(dt.UTC),
            "in_reply_to": event.in_reply_to, "stored_at": now})

    def _insert(self, table: Table, values: dict[str, Any]) -> bool:
        try:
            with self.database.engine.begin() as conn:
                return self._insert_in(conn, table, values)
        except IntegrityError:
            return False  # a dialect without ON CONFLICT: the other writer won
        except SQLAlchemyError as error:
            raise unavailable(self.database, error) from None

    @staticmethod
    def _insert_in(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
        dialect = conn.dialect.name
        keys = ["gateway", "conn_id", "event_id"]
        statement: Insert
        if dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ORDER_LOCKS[table.name]})
            statement = pg_insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
        elif dialect == "sqlite":
            statement = sqlite_insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
        else:
            statement = insert(table).values(**values)
        # RETURNING rather than rowcount: psycopg reports -1 for INSERT ... ON CONFLICT DO NOTHING.
        return conn.execute(statement.returning(table.c.id)).first() is not None

    # -- reading ----------------------------------------------------------------------------------

    def statuses(self, gateway: str, conn_id: str, message_ids: Iterable[str]) -> dict[str, StatusEvent]:
        """The latest status of each message that has one (messages without a report are left out).

        Latest: a final status wins over a non-final one, then the later gateway time, then the later
        arrival -- so a late or repeated intermediate report never undoes ``delivered``. A gateway
        whose message id covers several recipients (Bulletin) needs :meth:`recipient_statuses`.
        """
        return {key[0]: event for key, event in self._latest(gateway, conn_id, message_ids, False).items()}

    def recipient_statuses(self, gateway: str, conn_id: str,
                           message_ids: Iterable[str]) -> dict[tuple[str, str | None], StatusEvent]:
        """Like :meth:`statuses`, per ``(message_id, recipient)``: one message id may name a send to
        several handsets (Bulletin's ``messageId``), each with its own status."""
        return self._latest(gateway, conn_id, message_ids, True)

    def _latest(self, gateway: str, conn_id: str, message_ids: Iterable[str],
                per_recipient: bool) -> dict[tuple[str, str | None], StatusEvent]:
        wanted = list(dict.fromkeys(message_ids))
        best: dict[tuple[str, str | None], RowMapping] = {}
        try:
            with self.database.engine.connect() as conn:
                for start in range(0, len(wanted), _IN_CHUNK):
                    query = select(status_events).where(
                        status_events.c.gateway == gateway, status_events.c.conn_id == conn_id,
                        status_events.c.message_id.in_(wanted[start:start + _IN_CHUNK]))
                    for row in conn.execute(query).mappings():
                        key = (row["message_id"], row["recipient"] if per_recipient else None)
                        known = best.get(key)
                        if known is None or _rank(row) > _rank(known):
                            best[key] = row
        except SQLAlchemyError as error:
            raise unavailable(self.database, error) from None
        return {key: _status(row) for key, row in best.items()}

    def statuses_after(self, cursor: int, limit: int = 1000) -> list[tuple[int, StatusEvent]]:
        """Status events stored after ``cursor`` (a row id; 0 for the first), oldest first, with their ids."""
        return [(int(row["id"]), _status(row)) for row in self._after(status_events, cursor, limit)]

    def replies_after(self, cursor: int, limit: int = 1000) -> list[tuple[int, ReplyEvent]]:
        """Replies stored after ``cursor`` (a row id; 0 for the first), oldest first, with their ids.

        Pass the last id handled as the next ``cursor``: rows become visible in id order, so none is
        skipped and none comes twice.
        """
        return [(int(row["id"]), _reply(row)) for row in self._after(reply_events, cursor, limit)]

    def _after(self, table: Table, cursor: int, limit: int) -> list[RowMapping]:
        if limit < 1 or limit > MAX_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE}, not {limit}")
        query = select(table).where(table.c.id > cursor).order_by(table.c.id).limit(limit)
        try:
            with self.database.engine.connect() as conn:
                return list(conn.execute(query).mappings().all())
        except SQLAlchemyError as error:
            raise unavailable(self.database, error) from None

    def last_cursor(self, kind: str = "replies") -> int:
        """The id of the newest row (``kind`` ``replies`` or ``statuses``); 0 when there is none.

        A consumer that should only see what arrives from now on starts from here.
        """
        table = {"replies": reply_events, "statuses": status_events}[kind]
        try:
            with self.database.engine.connect() as conn:
                return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())
        except SQLAlchemyError as error:
            raise unavailable(self.database, error) from None

    def counts(self) -> dict[str, int]:
        """How many status events and replies are stored (``{"statuses": n, "replies": m}``)."""
        try:
            with self.database.engine.connect() as conn:
                return {name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
                        for name, table in (("statuses", status_events), ("replies", reply_events))}
        except SQLAlchemyError as error:
            raise unavailable(self.database, error) from None
