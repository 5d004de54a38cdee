"""Where each poller and reply watcher got to, kept in the receipt store's database.

One row per ``(owner, source)``: a poller's owner is the SMS connection id and its sources the
gateway's (``inbox``, ``inbound_report``, ...); a reply watcher's owner is ``watcher:<name>``. A
cursor is written only after what it covers is stored (or handed to Airflow), so a crash repeats
work -- which the store's event ids make harmless -- and never skips it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, DateTime, MetaData, String, Table, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from airflow_provider_sms.journal.database import Database, ensure_schema_once, unavailable

__all__ = ["PollCursors"]

COMPONENT = "poll_cursors"
SCHEMA_VERSION = 1
MAX_CURSOR_LENGTH = 200

metadata = MetaData()
poll_cursors = Table(
    "sms_poll_cursors",
    metadata,
    Column("owner", String(250), primary_key=True),
    Column("source", String(100), primary_key=True),
    Column("cursor", String(MAX_CURSOR_LENGTH), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

class PollCursors:
    """The cursors in ``database`` (table created on first use)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        ensure_schema_once(database, COMPONENT, metadata, SCHEMA_VERSION)

    def get_all(self, owner: str) -> dict[str, str]:
        """Every source's cursor of ``owner``."""
        query = select(poll_cursors.c.source, poll_cursors.c.cursor).where(poll_cursors.c.owner == owner)
        try:
            with self.database.engine.connect() as conn:
                return {source: cursor for source, cursor in conn.execute(query)}
        except SQLAlchemyError as error:
            raise unavailable(self.database, error) from None

    def get(self, owner: str, source: str) -> str | None:
        return self.get_all(owner).get(source)

    def set(self, owner: str, source: str, cursor: str) -> None:
        """Save ``cursor`` (after what it covers is stored)."""
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError(f"cursor: longer than {MAX_CURSOR_LENGTH} characters")
        now = dt.datetime.now(dt.UTC)
        key = (poll_cursors.c.owner == owner) & (poll_cursors.c.source == source)
        try:
            with self.database.engine.begin() as conn:
                if conn.execute(update(poll_cursors).where(key).values(cursor=cursor, updated_at=now)).rowcount:
                    return
            try:
                with self.database.engine.begin() as conn:
                    conn.execute(poll_cursors.insert().values(owner=owner, source=source, cursor=cursor,
                                                              updated_at=now))
            except IntegrityError:  # another writer made the row meanwhile: ours is as recent
                with self.database.engine.begin() as conn:
                    conn.execute(update(poll_cursors).where(key).values(cursor=cursor, updated_at=now))
        except SQLAlchemyError as error:
            raise unavailable(self.database, error) from None
