"""Reading and writing the send journal: intent before a request, outcome after it.

Every call is one short transaction, so chunks may be recorded from several threads (or workers)
at once. :meth:`SendJournal.begin` is also the claim on a chunk: of two tries that reach the same
chunk at the same time, one records its intent and the other is told the chunk is taken.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import repeat
from json.encoder import encode_basestring_ascii
from operator import eq, is_, itemgetter
from typing import Any

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from airflow_provider_sms.core.digits import all_ascii_digits
from airflow_provider_sms.core.results import DeliveryStatus, RecipientResult, SameOutcomeRows, SendResult
from airflow_provider_sms.journal.database import (
    DEFAULT_JOURNAL_CONN_ID,
    Database,
    JournalUnavailableError,
    ensure_schema,
    open_database,
    unavailable,
)
from airflow_provider_sms.journal.keys import TaskKey
from airflow_provider_sms.journal.schema import COMPONENT, SCHEMA_VERSION, ChunkState, metadata, send_chunks

__all__ = ["ChunkRecord", "SendJournal"]

log = logging.getLogger(__name__)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands datetimes back without a zone; everything is stored in UTC.
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


@dataclass(frozen=True)
class ChunkRecord:
    """One chunk as the journal knows it."""

    id: int
    chunk_key: str
    gateway: str
    recipients: tuple[str, ...]
    content: str
    dedupe_key: int | None
    send_at: dt.datetime | None
    state: ChunkState
    try_number: int
    intent_at: dt.datetime
    outcome_at: dt.datetime | None
    outcome: dict[str, Any] | None

    def result(self) -> SendResult:
        """The gateway's answer to this chunk, as recorded (ANSWERED chunks)."""
        data = self.outcome or {}
        shared = data.get("every_recipient")
        if isinstance(shared, list):  # one outcome for every recipient of the intent, in its order
            accepted, code, text, message_id, batch_id, status = shared
            accepted, status = bool(accepted), DeliveryStatus(status)
            ids = data.get("message_ids")
            if isinstance(ids, list):  # the message id is each recipient's own
                rows = [RecipientResult(r, accepted, code, text, i, batch_id, status)
                        for r, i in zip(self.recipients, ids, strict=True)]
            else:
                rows = [RecipientResult(r, accepted, code, text, message_id, batch_id, status)
                        for r in self.recipients]
        else:
            rows = [RecipientResult(r[0], bool(r[1]), r[2], r[3], r[4], r[5], DeliveryStatus(r[6]))
                    for r in data.get("rows", [])]
        return SendResult(self.gateway, rows, list(data.get("batch_ids", [])),
                          list(data.get("background_send_ids", [])))

    @property
    def reason(self) -> str:
        """The recorded error text (REFUSED and IN_DOUBT chunks)."""
        return str((self.outcome or {}).get("error", ""))


def _encode(result: SendResult, recipients: Sequence[str] | None = None) -> str:
    # Lists, not dicts: a chunk may carry thousands of recipients and this runs once per chunk.
    tail = (f'"batch_ids":{json.dumps(result.batch_ids, separators=(",", ":"))},'
            f'"background_send_ids":{json.dumps(result.background_send_ids, separators=(",", ":"))}}}')
    shared = _shared_outcome(result.results, recipients) if recipients is not None else None
    if shared is not None:
        # The usual answer (a whole request accepted under one batch id) without a row per recipient:
        # the intent already holds the recipients, and ~50 bytes each were most of the journal's writes.
        return f'{{{shared},{tail}'
    rows = _same_outcome_rows(result.results)
    if rows is None and all(map(isinstance, map(_STATUS, result.results), repeat(DeliveryStatus))):
        # The rows as they are: a named tuple is a JSON array, a status (a str enum) its value.
        rows = json.dumps(result.results, separators=(",", ":"))
    if rows is None:
        rows = json.dumps([[r.recipient, r.accepted, r.code, r.text, r.message_id, r.batch_id, str(r.status)]
                           for r in result.results], separators=(",", ":"))
    return f'{{"rows":{rows},{tail}'


def _recipients_json(recipients: Sequence[str]) -> str:
    """``json.dumps(list(recipients))`` (compact), joined directly when every recipient is digits
    (the usual chunk: nothing to escape), which is several times quicker."""
    if all_ascii_digits(recipients):
        return '["' + '","'.join(recipients) + '"]'
    return json.dumps(list(recipients), separators=(",", ":"))


_OUTCOME = itemgetter(1, 2, 3, 4, 5, 6)
_ACCEPTED = itemgetter(1)
_RECIPIENT = itemgetter(0)
_STATUS = itemgetter(6)


def _shared_outcome(results: Sequence[RecipientResult], recipients: Sequence[str]) -> str | None:
    """The JSON members that stand for ``results`` when they are exactly ``recipients``, in order,
    with one outcome (``every_recipient``), their message ids apart (then ``message_ids`` too);
    None otherwise (then a row per recipient is kept)."""
    if len(results) != len(recipients) or not results:
        return None
    if isinstance(results, SameOutcomeRows) and results.recipients is not None:
        if results.recipients != tuple(recipients):
            return None
        return _one_outcome(results[0], [results[0].message_id], one_id=True)
    # Column by column, at C speed: a column holds one value when it counts its first value
    # everywhere (identity first, so the rows of one parsed answer that share objects are quick).
    first = results[0]
    for field in _SHARED_FIELDS:
        column = list(map(field, results))
        if column.count(column[0]) != len(column):
            return None
    if not all(map(is_, map(_ACCEPTED, results), repeat(first.accepted))) \
            or list(map(_RECIPIENT, results)) != list(recipients):
        return None  # 1 == True, but JSON tells them apart
    ids = list(map(_MESSAGE_ID, results))
    return _one_outcome(first, ids, one_id=ids.count(ids[0]) == len(ids))


def _one_outcome(first: RecipientResult, ids: list[Any], *, one_id: bool) -> str | None:
    """The JSON members for rows that all have ``first``'s outcome and the message ids ``ids``
    (one id for all when ``one_id``); None when some value would not read back as it was."""
    if not isinstance(first.accepted, bool) or not isinstance(first.status, DeliveryStatus) \
            or not {type(v) for v in (first.code, first.text, first.batch_id)} <= _JSON_TEXT \
            or not set(map(type, ids)) <= _JSON_TEXT:
        return None  # what would not read back as it was
    outcome = json.dumps([first.accepted, first.code, first.text, ids[0] if one_id else None, first.batch_id,
                          first.status.value], separators=(",", ":"))
    if one_id:
        return f'"every_recipient":{outcome}'
    return f'"every_recipient":{outcome},"message_ids":{json.dumps(ids, separators=(",", ":"))}'


_JSON_TEXT = {str, type(None)}
_SHARED_FIELDS = tuple(map(itemgetter, (1, 2, 3, 5, 6)))  # all but the recipient and message id
_MESSAGE_ID = itemgetter(4)


def _same_outcome_rows(results: Sequence[RecipientResult]) -> str | None:
    """The JSON of ``results``' rows when they differ only in the recipient (a whole request
    accepted under one batch id: the usual answer), built with one ``join``; None otherwise.
    The bytes are those ``json.dumps`` writes for the rows one by one."""
    if len(results) < 2:
        return None
    outcome = _OUTCOME(results[0])
    # Tuple equality tries identity first: the rows of one parsed answer share their field objects.
    if not all(map(eq, map(_OUTCOME, results), repeat(outcome))):
        return None
    if not all(map(is_, map(_ACCEPTED, results), repeat(outcome[0]))):  # 1 == True, but JSON tells them apart
        return None
    accepted, code, text, message_id, batch_id, status = outcome
    tail = json.dumps([accepted, code, text, message_id, batch_id, str(status)], separators=(",", ":"))[1:]
    try:
        quoted = f",{tail},[".join(map(encode_basestring_ascii, map(_RECIPIENT, results)))
    except TypeError:  # a recipient that is not a string: the row-by-row encoding says what it is
        return None
    return f"[[{quoted},{tail}]"


_INSERT = send_chunks.insert()
_FINISH = (update(send_chunks).where(send_chunks.c.id == bindparam("record_id"))
           .values(state=bindparam("state"), outcome=bindparam("outcome"), outcome_at=bindparam("outcome_at")))


class SendJournal:
    """The send journal over one :class:`~airflow_provider_sms.journal.database.Database`.

    :param database: where the rows live; :meth:`open` builds it from an Airflow connection.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self._local = threading.local()  # outcomes held back by outcomes_together, per thread

    @classmethod
    def open(cls, conn_id: str = DEFAULT_JOURNAL_CONN_ID) -> SendJournal:
        """The journal named by connection ``conn_id``, its tables created if missing."""
        journal = cls(open_database(conn_id))
        # At every open, not once per process: a newer provider on another worker may have brought
        # the schema forward since, and this one must then refuse to write (see ensure_schema).
        ensure_schema(journal.database, COMPONENT, metadata, SCHEMA_VERSION)
        return journal

    @property
    def shared(self) -> bool:
        """True when every worker writes to this same journal (see :class:`Database`)."""
        return self.database.shared

    @property
    def description(self) -> str:
        return self.database.description

    # -- reading ----------------------------------------------------------------------------------

    def records(self, task: TaskKey) -> list[ChunkRecord]:
        """Every chunk this task recorded, oldest intent first."""
        query = select(send_chunks).where(self._task(task)).order_by(send_chunks.c.intent_at, send_chunks.c.id)
        try:
            with self.database.engine.connect() as conn:
                rows = conn.execute(query).mappings().all()
        except SQLAlchemyError as error:
            raise unavailable(self.database, error) from None
        return [self._record(row) for row in rows]

    def record(self, record_id: int) -> ChunkRecord:
        """One chunk by its row id."""
        try:
            with self.database.engine.connect() as conn:
                row = conn.execute(select(send_chunks).where(send_chunks.c.id == record_id)).mappings().one()
        except SQLAlchemyError as error:
            raise unavailable(self.database, error) from None
        return self._record(row)

    # -- writing ----------------------------------------------------------------------------------

    def begin(self, task: TaskKey, *, chunk_key: str, gateway: str, recipients: Sequence[str], content: str,
              dedupe_key: int | None, send_at: dt.datetime | None, try_number: int) -> int | None:
        """Record the intent to send one chunk, before the request goes out.

        :returns: the row id, or None when the chunk is taken: another try recorded it and it is not
            REFUSED (it is being sent, was answered, or is in doubt) -- the caller must not send it.
        """
        now = dt.datetime.now(dt.UTC)
        values = {"dag_id": task.dag_id, "task_id": task.task_id, "run_id": task.run_id,
                  "map_index": task.map_index, "chunk_key": chunk_key, "gateway": gateway,
                  "recipients": _recipients_json(recipients), "content": content,
                  "dedupe_key": dedupe_key, "send_at": send_at, "state": ChunkState.SENDING.value,
                  "try_number": try_number, "attempts": 1, "intent_at": now, "outcome_at": None, "outcome": None}
        try:
            try:
                with self.database.engine.begin() as conn:
                    # Values as parameters of one cached statement: built per call, it costs more than the insert.
                    inserted = conn.execute(_INSERT, values).inserted_primary_key
                    assert inserted is not None
                    return int(inserted[0])
            except IntegrityError:
                pass  # recorded before: only a refused chunk may be sent again, and only by one try
            with self.database.engine.begin() as conn:
                row = conn.execute(select(send_chunks.c.id, send_chunks.c.attempts)
                                   .where(and_(self._task(task), send_chunks.c.chunk_key == chunk_key))).one()
                claimed = conn.execute(
                    update(send_chunks)
                    .where(and_(send_chunks.c.id == row.id, send_chunks.c.state == ChunkState.REFUSED.value))
                    .values(state=ChunkState.SENDING.value, try_number=try_number, attempts=row.attempts + 1,
                            intent_at=now, outcome_at=None, outcome=None, recipients=values["recipients"],
                            content=content, dedupe_key=dedupe_key, send_at=send_at))
                return int(row.id) if claimed.rowcount == 1 else None
        except SQLAlchemyError as error:
            raise unavailable(self.database, error) from None

    def answered(self, record_id: int, result: SendResult, recipients: Sequence[str] | None = None) -> None:
        """The gateway answered: who was accepted and who rejected (kept to report on later tries).

        :param recipients: the chunk's recipients as its intent recorded them; when the answer is one
            outcome for each of them, in that order, it is kept once instead of once per recipient.
        """
        self._finish(record_id, ChunkState.ANSWERED, _encode(result, recipients))

    def refused(self, record_id: int, reason: str) -> None:
        """The whole request was refused before anyone was texted; a later try may send it again."""
        self._finish(record_id, ChunkState.REFUSED, json.dumps({"error": reason}))

    def in_doubt(self, record_id: int, reason: str) -> None:
        """The gateway may or may not have acted; a later try must settle it before anything else."""
        self._finish(record_id, ChunkState.IN_DOUBT, json.dumps({"error": reason}))

    @contextmanager
    def outcomes_together(self) -> Iterator[None]:
        """Within this block, outcomes recorded by this thread (:meth:`answered`, :meth:`refused`,
        :meth:`in_doubt`) are written in one transaction when it ends, also when it ends in an error.
        Nested blocks join the outermost one."""
        if getattr(self._local, "pending", None) is not None:
            yield
            return
        pending: list[dict[str, Any]] = []
        self._local.pending = pending
        try:
            yield
        except BaseException:
            self._local.pending = None
            try:
                self._write_outcomes(pending)
            except JournalUnavailableError as error:
                # The error already on its way says more; a later try settles these chunks.
                log.error("%d outcomes could not be recorded: %s", len(pending), error)
            raise
        else:
            self._local.pending = None
            self._write_outcomes(pending)

    def _finish(self, record_id: int, state: ChunkState, outcome: str) -> None:
        values = {"record_id": record_id, "state": state.value, "outcome": outcome,
                  "outcome_at": dt.datetime.now(dt.UTC)}
        pending: list[dict[str, Any]] | None = getattr(self._local, "pending", None)
        if pending is not None:
            pending.append(values)
        else:
            self._write_outcomes([values])

    def _write_outcomes(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        try:
            with self.database.engine.begin() as conn:
                conn.execute(_FINISH, rows)
        except SQLAlchemyError as error:
            raise unavailable(self.database, error) from None

    def prune(self, older_than: dt.timedelta) -> int:
        """Delete chunks whose intent is older than ``older_than``; returns how many.

        After that a clear or re-run of those tasks no longer knows what they sent.
        """
        cutoff = dt.datetime.now(dt.UTC) - older_than
        try:
            with self.database.engine.begin() as conn:
                return int(conn.execute(send_chunks.delete().where(send_chunks.c.intent_at < cutoff)).rowcount)
        except SQLAlchemyError as error:
            raise unavailable(self.database, error) from None

    # -- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _task(task: TaskKey) -> Any:
        c = send_chunks.c
        return and_(c.dag_id == task.dag_id, c.task_id == task.task_id, c.run_id == task.run_id,
                    c.map_index == task.map_index)

    @staticmethod
    def _record(row: Any) -> ChunkRecord:
        intent = _utc(row["intent_at"])
        assert intent is not None
        return ChunkRecord(
            id=int(row["id"]), chunk_key=row["chunk_key"], gateway=row["gateway"],
            recipients=tuple(json.loads(row["recipients"])), content=row["content"], dedupe_key=row["dedupe_key"],
            send_at=_utc(row["send_at"]), state=ChunkState(row["state"]), try_number=int(row["try_number"]),
            intent_at=intent, outcome_at=_utc(row["outcome_at"]),
            outcome=json.loads(row["outcome"]) if row["outcome"] else None)
