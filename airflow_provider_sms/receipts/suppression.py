"""Opt-outs: the suppression list of numbers that replied with a stop word, kept in the receipt store's database.

A reply whose whole text (trimmed, case-insensitive) is a stop word -- by default ``STOP``,
``STOPALL``, ``UNSUBSCRIBE``, ``CANCEL``, ``END``, ``QUIT``; set ``[sms] stop_words`` in the Airflow
configuration (``AIRFLOW__SMS__STOP_WORDS="STOP,UNSUBSCRIBE,ARRET"``) for another list -- puts the
sender's number on the list (:func:`apply_opt_out`, called by the callback receiver and the pollers
for every stored reply, and the send operators catch up on every reply stored since they last
looked, :meth:`SuppressionList.catch_up`). The send operators skip listed numbers unless
``honour_opt_outs=False`` and report them as ``suppressed``.

The list is one per database, not per connection: a person who texted STOP to any of the
account's numbers is not texted again through any gateway. Numbers are kept as international
digits (``447700900123``), the form the send operators normalise to.

The table (``sms_suppressions``) is written idempotently on the number: the same STOP delivered
three times (gateway retries, a callback and a poller) is one row, and the first stays.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Column, DateTime, MetaData, String, Table, delete, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from airflow_provider_sms.core.recipient_set import CanonicalRecipients
from airflow_provider_sms.core.recipients import NumberProblem, normalise_number
from airflow_provider_sms.journal.database import (
    DEFAULT_JOURNAL_CONN_ID,
    Database,
    ensure_schema_once,
    open_database,
    unavailable,
)

__all__ = [
    "DEFAULT_STOP_WORDS",
    "Suppression",
    "SuppressionList",
    "apply_opt_out",
    "configured_stop_words",
    "is_stop_word",
    "mask_number",
]

log = logging.getLogger(__name__)

COMPONENT = "suppression"
SCHEMA_VERSION = 1
DEFAULT_STOP_WORDS: tuple[str, ...] = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT")
#: Longest reply text compared with the stop words (a longer one is never a stop word; saves casefolding essays).
_MAX_WORD = 64
#: Numbers per ``IN (...)`` query: under SQLite's oldest variable limit (999).
_QUERY_CHUNK = 900
_CATCH_UP_OWNER = "suppression"
_CATCH_UP_PAGE = 1000

metadata = MetaData()
suppressions = Table(
    "sms_suppressions",
    metadata,
    Column("number", String(32), primary_key=True),
    Column("source", String(20), nullable=False),  # "reply" (a stop word) or "manual"
    Column("word", String(_MAX_WORD), nullable=True),
    Column("gateway", String(40), nullable=True),
    Column("conn_id", String(250), nullable=True),
    Column("event_id", String(250), nullable=True),  # the reply's event id in the receipt store
    Column("created_at", DateTime(timezone=True), nullable=False),
)


class ReplyLike(Protocol):
    """What :func:`apply_opt_out` reads of a reply (``core.receipts.ReplyEvent`` has it)."""

    @property
    def sender(self) -> str: ...

    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class Suppression:
    """One number on the list, and where its opt-out came from."""

    number: str
    source: str
    created_at: dt.datetime
    word: str | None = None
    gateway: str | None = None
    conn_id: str | None = None
    event_id: str | None = None


def mask_number(number: str) -> str:
    """``4477****0123``: enough to tell numbers apart in a log line, not enough to text them."""
    if len(number) <= 8:
        return number[:2] + "*" * max(len(number) - 2, 0)
    return f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}"


def configured_stop_words() -> frozenset[str]:
    """The stop words: ``[sms] stop_words`` (comma-separated) when set, else :data:`DEFAULT_STOP_WORDS`."""
    raw: str | None = None
    try:
        from airflow.providers.common.compat.sdk import conf

        raw = conf.get("sms", "stop_words", fallback=None)
    except Exception:  # configuration not readable (outside Airflow): the defaults
        raw = None
    return stop_word_set(raw.split(",") if raw else DEFAULT_STOP_WORDS)


def stop_word_set(words: Iterable[str]) -> frozenset[str]:
    """``words`` as they are compared: trimmed and case-folded, empty ones dropped."""
    return frozenset(w.strip().casefold() for w in words if w and w.strip())


def is_stop_word(text: str | None, words: Iterable[str] | None = None) -> bool:
    """True when the whole of ``text``, trimmed, is one of ``words`` (case-insensitive).

    "STOP" and " stop\\n" are; "stop it", "STOP." and "Please stop" are not (a reply that merely
    contains the word is a conversation, not an opt-out).
    """
    if not text:
        return False
    trimmed = text.strip()
    if not trimmed or len(trimmed) > _MAX_WORD:
        return False
    wanted = configured_stop_words() if words is None else stop_word_set(words)
    return trimmed.casefold() in wanted


def canonical_number(raw: str) -> str | None:
    """``raw`` as international digits, or None when it is not a phone number (a short code, a name)."""
    try:
        return normalise_number(raw, None, "possible")
    except NumberProblem:
        return None


class SuppressionList:
    """The suppression list in ``database`` (its table is created on first use).

    :param database: the receipt store's / send journal's database.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        ensure_schema_once(database, COMPONENT, metadata, SCHEMA_VERSION)

    @classmethod
    def open(cls, conn_id: str = DEFAULT_JOURNAL_CONN_ID) -> SuppressionList:
        """The list in the database named by the journal connection ``conn_id``."""
        return cls(open_database(conn_id))

    def add(self, number: str, *, source: str = "manual", word: str | None = None, gateway: str | None = None,
            conn_id: str | None = None, event_id: str | None = None, at: dt.datetime | None = None) -> bool:
        """Put ``number`` on the list; True when it was not there yet (the first opt-out is kept).

        :raises ValueError: ``number`` is not a phone number.
        """
        canonical = canonical_number(number)
        if canonical is None:
            raise ValueError("number: not a phone number in international form")
        values = {"number": canonical, "source": source, "word": (word or None) and word[:_MAX_WORD],
                  "gateway": gateway, "conn_id": conn_id, "event_id": event_id and event_id[:250],
                  "created_at": at or dt.datetime.now(dt.UTC)}
        try:
            try:
                with self.database.engine.begin() as conn:
                    conn.execute(suppressions.insert().values(**values))
                return True
            except IntegrityError:
                return False  # listed already
        except SQLAlchemyError as error:
            raise unavailable(self.database, error) from None

    def remove(self, number: str) -> bool:
        """Take ``number`` off the list (the person opted in again); True when it was listed."""
        canonical = canonical_number(number) or number
        try:
            with self.database.engine.begin() as conn:
                return bool(conn.execute(delete(suppressions).where(suppressions.c.number == canonical)).rowcount)
        except SQLAlchemyError as error:
            raise unavailable(self.database, error) from None

    def get(self, number: str) -> Suppression | None:
        """The entry for ``number``, or None when it is not listed."""
        canonical = canonical_number(number) or number
        try:
            with self.database.engine.connect() as conn:
                row = conn.execute(select(suppressions).where(suppressions.c.number == canonical)).mappings().first()
        except SQLAlchemyError as error:
            raise unavailable(self.database, error) from None
        return None if row is None else _entry(row)

    def count(self) -> int:
        try:
            with self.database.engine.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(suppressions)).scalar_one())
        except SQLAlchemyError as error:
            raise unavailable(self.database, error) from None

    def suppressed(self, numbers: Sequence[str]) -> set[str]:
        """Which of ``numbers`` (international digits, as the send operators normalise them) are listed.

        Reads the whole list when it is smaller than ``numbers`` (one query), else asks in chunks.
        A :class:`~airflow_provider_sms.core.recipient_set.CanonicalRecipients` is searched as it
        is (no set of a million strings is built; none at all when the list is empty).
        """
        if not numbers:
            return set()
        try:
            with self.database.engine.connect() as conn:
                size = int(conn.execute(select(func.count()).select_from(suppressions)).scalar_one())
                if size == 0:
                    return set()
                wanted: Collection[str] = numbers if isinstance(numbers, CanonicalRecipients) else set(numbers)
                if size <= len(wanted):
                    return {n for (n,) in conn.execute(select(suppressions.c.number)) if n in wanted}
                found: set[str] = set()
                ordered = wanted if isinstance(wanted, CanonicalRecipients) else sorted(wanted)
                for start in range(0, len(ordered), _QUERY_CHUNK):
                    part = ordered[start:start + _QUERY_CHUNK]
                    found.update(n for (n,) in conn.execute(select(suppressions.c.number)
                                                            .where(suppressions.c.number.in_(part))))
                return found
        except SQLAlchemyError as error:
            raise unavailable(self.database, error) from None

    def catch_up(self, stop_words: Iterable[str] | None = None) -> int:
        """Apply :func:`apply_opt_out` to every reply stored since the last catch-up; the number added.

        The send operators call it before reading the list, so a stop word counts however the reply
        reached the store (receiver, poller, anything else) and even if that writer did not apply it.
        The position is kept in ``sms_poll_cursors`` (owner ``suppression``); two senders catching up
        at once add nothing twice (the list is keyed on the number).
        """
        from airflow_provider_sms.receipts.cursors import PollCursors
        from airflow_provider_sms.receipts.store import ReceiptStore

        store = ReceiptStore(self.database)
        store.ensure_schema()
        cursors = PollCursors(self.database)
        position, newest = self._catch_up_position()
        cursor = int(position or 0)
        if newest is None or newest <= cursor:
            return 0  # the usual case, nothing stored since: one query
        added = 0
        while True:
            page = store.replies_after(cursor, _CATCH_UP_PAGE)
            for row_id, reply in page:
                added += apply_opt_out(self, reply, stop_words)
                cursor = row_id
            if page:
                cursors.set(_CATCH_UP_OWNER, "replies", str(cursor))
            if len(page) < _CATCH_UP_PAGE:
                return added

    def _catch_up_position(self) -> tuple[str | None, int | None]:
        """The catch-up's cursor and the id of the newest reply stored, in one query."""
        from airflow_provider_sms.receipts.cursors import poll_cursors
        from airflow_provider_sms.receipts.schema import reply_events

        cursors = poll_cursors.c
        query = select(select(cursors.cursor)
                       .where((cursors.owner == _CATCH_UP_OWNER) & (cursors.source == "replies"))
                       .scalar_subquery(),
                       select(func.max(reply_events.c.id)).scalar_subquery())
        try:
            with self.database.engine.connect() as conn:
                position, newest = conn.execute(query).one()
        except SQLAlchemyError as error:
            raise unavailable(self.database, error) from None
        return position, newest

    def entries(self, limit: int = 1000) -> list[Suppression]:
        """The newest ``limit`` entries, newest first."""
        query = select(suppressions).order_by(suppressions.c.created_at.desc()).limit(limit)
        try:
            with self.database.engine.connect() as conn:
                return [_entry(row) for row in conn.execute(query).mappings()]
        except SQLAlchemyError as error:
            raise unavailable(self.database, error) from None


def _entry(row: Any) -> Suppression:
    created = row["created_at"]
    if created.tzinfo is None:  # SQLite gives naive datetimes back
        created = created.replace(tzinfo=dt.UTC)
    return Suppression(number=row["number"], source=row["source"], created_at=created, word=row["word"],
                       gateway=row["gateway"], conn_id=row["conn_id"], event_id=row["event_id"])


def apply_opt_out(store_or_db: Any, reply: Any, stop_words: Iterable[str] | None = None) -> bool:
    """Suppress the sender of ``reply`` when its text is a stop word; True when the number was added now.

    Call it for every stored reply (the callback receiver and the pollers do): a reply that is not a
    stop word, or comes from something that is not a phone number, changes nothing; a repeated
    opt-out keeps the first entry and returns False.

    :param store_or_db: the ``ReceiptStore`` (anything with a ``database``), a :class:`Database`, or a
        :class:`SuppressionList`.
    :param reply: a ``ReplyEvent`` (reads ``sender``, ``text`` and, when present, ``gateway``,
        ``conn_id``, ``event_id`` and ``received_at``).
    :param stop_words: the words, instead of :func:`configured_stop_words`.
    """
    text = getattr(reply, "text", None)
    if not is_stop_word(text, stop_words):
        return False
    sender = str(getattr(reply, "sender", "") or "")
    number = canonical_number(sender)
    gateway = getattr(reply, "gateway", None)
    if number is None:
        log.warning("a stop-word reply via %s came from %r, which is not a phone number: nothing suppressed",
                    gateway, mask_number(sender))
        return False
    listing = _suppression_list(store_or_db)
    added = listing.add(number, source="reply", word=str(text).strip(), gateway=gateway,
                        conn_id=getattr(reply, "conn_id", None), event_id=_opt(getattr(reply, "event_id", None)),
                        at=_aware(getattr(reply, "received_at", None)))
    if added:
        log.info("opt-out: %s replied %r via %s; it is on the suppression list", mask_number(number),
                 str(text).strip(), gateway)
    return added


def _suppression_list(store_or_db: Any) -> SuppressionList:
    if isinstance(store_or_db, SuppressionList):
        return store_or_db
    database = store_or_db if isinstance(store_or_db, Database) else getattr(store_or_db, "database", None)
    if not isinstance(database, Database):
        raise TypeError(f"apply_opt_out needs a ReceiptStore, Database or SuppressionList, got "
                        f"{type(store_or_db).__name__}")
    return SuppressionList(database)


def _opt(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _aware(value: Any) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
