"""The journal's store, schema set-up, connections and retry plan, on SQLite files."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from airflow_provider_sms.core.dedupe import canonical_order, chunk_key
from airflow_provider_sms.core.results import DeliveryStatus, RecipientResult, SendResult, same_outcome
from airflow_provider_sms.exceptions import SmsConfigurationError
from airflow_provider_sms.journal import ChunkState, JournalUnavailableError, SendJournal, TaskKey
from airflow_provider_sms.journal.database import (
    database_for_url,
    default_sqlite_path,
    ensure_schema,
    open_database,
    schema_versions,
    url_from_connection,
)
from airflow_provider_sms.journal.plan import plan_retry
from airflow_provider_sms.journal.schema import COMPONENT, SCHEMA_VERSION, metadata, send_chunks

TASK = TaskKey("dag", "send", "manual__1", -1)


@pytest.fixture(params=["sqlite", "postgres"])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SendJournal]:
    """A fresh journal on a SQLite file, and on the session's real PostgreSQL server."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'j.db'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"journal_{uuid.uuid4().hex[:12]}")
    journal = SendJournal(database_for_url(url, shared=True))
    ensure_schema(journal.database, COMPONENT, metadata, SCHEMA_VERSION)
    yield journal
    journal.database.engine.dispose()  # the session's server takes 50 clients: a pool per test would use them up


def _begin(journal: SendJournal, recipients: list[str], task: TaskKey = TASK, content: str = "c1") -> int | None:
    return journal.begin(task, chunk_key=chunk_key(recipients, content), gateway="gw", recipients=recipients,
                         content=content, dedupe_key=7, send_at=None, try_number=1)


def test_schema_set_up_is_idempotent_and_versioned(journal: SendJournal) -> None:
    ensure_schema(journal.database, COMPONENT, metadata, SCHEMA_VERSION)
    with journal.database.engine.connect() as conn:
        assert conn.execute(select(schema_versions)).all() == [(COMPONENT, SCHEMA_VERSION)]
    with pytest.raises(JournalUnavailableError, match=f"schema version {SCHEMA_VERSION} is newer than this provider's"):
        ensure_schema(journal.database, COMPONENT, metadata, 0)


def test_opening_a_journal_at_this_version_is_one_query(journal: SendJournal) -> None:
    from sqlalchemy import event

    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(journal.database.engine, "before_cursor_execute", seen)
    try:
        ensure_schema(journal.database, COMPONENT, metadata, SCHEMA_VERSION)
    finally:
        event.remove(journal.database.engine, "before_cursor_execute", seen)
    assert len(statements) == 1 and "sms_schema_versions" in statements[0]


def test_a_journal_from_version_1_is_brought_forward_and_version_1_providers_are_then_shut_out(
        journal: SendJournal) -> None:
    # What a version 1 provider left: its version row and a chunk with a row per recipient.
    with journal.database.engine.begin() as conn:
        conn.execute(schema_versions.update().values(version=1))
    record_id = _begin(journal, ["447700100001", "447700100002"])
    assert record_id is not None
    with journal.database.engine.begin() as conn:
        conn.execute(send_chunks.update().where(send_chunks.c.id == record_id).values(
            state="answered", outcome='{"rows":[["447700100001",true,null,null,"m1","b",'
                                      '"pending"],["447700100002",false,"-412","blocked",null,"b","failed"]],'
                                      '"batch_ids":["b"],"background_send_ids":[]}'))
    ensure_schema(journal.database, COMPONENT, metadata, SCHEMA_VERSION)  # this provider opens it
    with journal.database.engine.connect() as conn:
        assert conn.execute(select(schema_versions)).all() == [(COMPONENT, SCHEMA_VERSION)]
    [old] = journal.records(TASK)
    assert [(r.recipient, r.accepted, r.message_id) for r in old.result().results] == [
        ("447700100001", True, "m1"), ("447700100002", False, None)]
    # A version 1 provider still running somewhere would read the compact rows as "answered for
    # nobody" and send again: it is refused instead, naming what to do.
    with pytest.raises(JournalUnavailableError, match="upgrade the provider on every worker"):
        ensure_schema(journal.database, COMPONENT, metadata, 1)


def test_a_schema_a_newer_provider_brought_forward_is_refused_at_the_next_open(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Within one process too: the suppression list and reply store check their schema once per
    process, the journal at every open (it is what a send writes before each request)."""
    import json

    from airflow_provider_sms.receipts.suppression import SuppressionList

    monkeypatch.setenv("AIRFLOW_CONN_SMS_JOURNAL_DEFAULT",
                       json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "journal.db")}))
    journal = SendJournal.open()
    SuppressionList.open()
    with journal.database.engine.begin() as conn:  # a newer provider on another worker
        conn.execute(schema_versions.update().where(schema_versions.c.component == COMPONENT)
                     .values(version=SCHEMA_VERSION + 1))
    with pytest.raises(JournalUnavailableError, match="upgrade the provider on every worker"):
        SendJournal.open()


def test_intent_then_outcome_round_trip(journal: SendJournal) -> None:
    record_id = _begin(journal, ["447700100002", "447700100001"])
    assert record_id is not None
    [sending] = journal.records(TASK)
    assert sending.state is ChunkState.SENDING and sending.intent_at.tzinfo is not None
    answer = SendResult("gw", [RecipientResult("447700100002", True, message_id="m2", batch_id="b"),
                               RecipientResult("447700100001", False, code="-412", text="blacklisted")], ["b"])
    journal.answered(record_id, answer)
    [answered] = journal.records(TASK)
    assert answered.state is ChunkState.ANSWERED and answered.dedupe_key == 7
    assert answered.result().to_dict() == answer.to_dict()
    assert journal.records(TaskKey("dag", "send", "manual__2", -1)) == []  # another run knows nothing of it


@pytest.mark.parametrize("status", [DeliveryStatus.PENDING, DeliveryStatus.DELIVERED])
def test_one_outcome_for_every_recipient_is_kept_once_and_reads_back_the_same(journal: SendJournal,
                                                                             status: DeliveryStatus) -> None:
    recipients = [f"4477001{i:05d}" for i in range(3000)]
    record_id = _begin(journal, recipients)
    assert record_id is not None
    answer = SendResult("gw", [RecipientResult(r, True, None, "ok", None, "b1", status) for r in recipients], ["b1"])
    journal.answered(record_id, answer, recipients)
    [answered] = journal.records(TASK)
    assert answered.result().to_dict() == answer.to_dict()
    assert len(json.dumps(answered.outcome)) < 200  # not a row per recipient


def test_one_outcome_with_a_message_id_each_keeps_the_ids_alone(journal: SendJournal) -> None:
    recipients = [f"4477001{i:05d}" for i in range(3000)]
    record_id = _begin(journal, recipients)
    assert record_id is not None
    answer = SendResult("gw", [RecipientResult(r, True, message_id=f"id-{i}") for i, r in enumerate(recipients)])
    journal.answered(record_id, answer, recipients)
    [answered] = journal.records(TASK)
    assert answered.result().to_dict() == answer.to_dict()
    assert answered.outcome is not None and answered.outcome["message_ids"][:2] == ["id-0", "id-1"]
    assert len(json.dumps(answered.outcome)) < 3000 * 12 + 200  # the ids, not a row per recipient


def test_rows_built_with_one_outcome_are_kept_once_and_read_back_the_same(journal: SendJournal) -> None:
    recipients = [f"4477001{i:05d}" for i in range(3000)]
    record_id = _begin(journal, recipients)
    assert record_id is not None
    answer = SendResult("gw", same_outcome(list(recipients), True, "0", "IN_PROGRESS", batch_id="b1"), ["b1"])
    journal.answered(record_id, answer, recipients)
    [answered] = journal.records(TASK)
    assert answered.result().to_dict() == answer.to_dict()
    assert len(json.dumps(answered.outcome)) < 200


@pytest.mark.parametrize("built", ["row by row", "with same_outcome"])
@pytest.mark.parametrize("change", ["order", "one rejected", "one code", "accepted as 1", "fewer", "none given",
                                    "an id not text", "answer for other recipients"])
def test_anything_but_one_outcome_for_the_intent_in_its_order_keeps_every_row(journal: SendJournal,
                                                                             change: str, built: str) -> None:
    recipients = [f"4477001{i:05d}" for i in range(5)]
    record_id = _begin(journal, recipients)
    assert record_id is not None
    rows = [RecipientResult(r, True, batch_id="b1") for r in recipients] if built == "row by row" \
        else same_outcome(recipients, True, batch_id="b1")
    given: list[str] | None = recipients
    if change == "answer for other recipients":
        given = [*recipients[:4], "447700199999"]
    elif change == "order":
        rows.reverse()
    elif change == "one rejected":
        rows[2] = rows[2]._replace(accepted=False, code="-412")
    elif change == "one code":
        rows[4] = rows[4]._replace(code="7")
    elif change == "an id not text":
        rows[4] = rows[4]._replace(message_id=4)  # type: ignore[arg-type]
    elif change == "accepted as 1":
        rows = [r._replace(accepted=1) for r in rows]  # type: ignore[arg-type]
    elif change == "fewer":
        rows.pop()
    else:
        given = None
    answer = SendResult("gw", rows, ["b1"])
    journal.answered(record_id, answer, given)
    [answered] = journal.records(TASK)
    assert answered.outcome is not None and "every_recipient" not in answered.outcome
    assert answered.result().to_dict() == answer.to_dict()


def test_a_chunk_is_taken_unless_it_was_refused(journal: SendJournal) -> None:
    first = _begin(journal, ["447700100001"])
    assert first is not None
    assert _begin(journal, ["447700100001"]) is None  # being sent by another try
    journal.in_doubt(first, "lost answer")
    assert _begin(journal, ["447700100001"]) is None  # in doubt: settled, never re-sent blind
    journal.refused(first, "HTTP 429")
    assert _begin(journal, ["447700100001"]) == first  # refused: nobody was texted, send again
    assert journal.record(first).state is ChunkState.SENDING


@contextmanager
def _commits(journal: SendJournal) -> Iterator[list[int]]:
    """How many transactions the block commits (an event per COMMIT the engine sends)."""
    from sqlalchemy import event

    seen: list[int] = []

    def committed(_conn: object) -> None:
        seen.append(1)

    event.listen(journal.database.engine, "commit", committed)
    try:
        yield seen
    finally:
        event.remove(journal.database.engine, "commit", committed)


def test_outcomes_recorded_together_are_one_transaction_at_the_end(journal: SendJournal) -> None:
    first, second, third = (_begin(journal, [n]) for n in ("447700100001", "447700100002", "447700100003"))
    assert first is not None and second is not None and third is not None
    with _commits(journal) as commits, journal.outcomes_together():
        journal.answered(first, SendResult("gw", [RecipientResult("447700100001", True, batch_id="b")]))
        with journal.outcomes_together():  # joins the outer block
            journal.refused(second, "HTTP 503")
        journal.in_doubt(third, "answer lost")
        assert commits == []
        assert {r.state for r in journal.records(TASK)} == {ChunkState.SENDING}  # nothing written yet
    assert len(commits) == 1
    assert [r.state for r in sorted(journal.records(TASK), key=lambda r: r.id)] == [
        ChunkState.ANSWERED, ChunkState.REFUSED, ChunkState.IN_DOUBT]


def test_outcomes_held_back_are_written_when_the_block_ends_in_an_error(journal: SendJournal) -> None:
    record_id = _begin(journal, ["447700100001"])
    assert record_id is not None

    def answered_then_failed() -> None:
        with journal.outcomes_together():
            journal.answered(record_id, SendResult("gw", [RecipientResult("447700100001", True, batch_id="b")]))
            raise RuntimeError("later chunk")

    with pytest.raises(RuntimeError, match="later chunk"):
        answered_then_failed()
    assert journal.record(record_id).state is ChunkState.ANSWERED
    journal.answered(record_id, SendResult("gw", [RecipientResult("447700100001", False, code="1")]))
    assert journal.record(record_id).result().rejected_count == 1  # outside a block: written at once


def test_only_one_of_many_threads_claims_a_refused_chunk(journal: SendJournal) -> None:
    record_id = _begin(journal, ["447700100001"])
    assert record_id is not None
    journal.refused(record_id, "busy")
    won: list[int | None] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        won.append(_begin(journal, ["447700100001"]))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won, key=lambda v: v is None) == [record_id] + [None] * 7


def test_chunks_recorded_from_many_threads(journal: SendJournal) -> None:
    errors: list[BaseException] = []

    def record(i: int) -> None:
        try:
            rid = _begin(journal, [f"4477001{i:05d}"])
            assert rid is not None
            journal.answered(rid, SendResult("gw", [RecipientResult(f"4477001{i:05d}", True)]))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=record, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len([r for r in journal.records(TASK) if r.state is ChunkState.ANSWERED]) == 40


def test_prune(journal: SendJournal) -> None:
    _begin(journal, ["447700100001"])
    assert journal.prune(dt.timedelta(days=1)) == 0
    assert journal.prune(dt.timedelta(seconds=-1)) == 1
    assert journal.records(TASK) == []


# -- retry plan ---------------------------------------------------------------------------------------


def _answered(journal: SendJournal, recipients: list[str], accepted: set[str], content: str = "c1") -> None:
    rid = _begin(journal, recipients, content=content)
    assert rid is not None
    journal.answered(rid, SendResult("gw", [RecipientResult(r, r in accepted, message_id=f"id-{r}")
                                            for r in recipients], [f"batch-{recipients[0]}"]))


def test_plan_reports_accepted_settles_doubt_and_sends_the_rest(journal: SendJournal) -> None:
    numbers = [f"44770010000{i}" for i in range(1, 8)]
    _answered(journal, numbers[:2], accepted={numbers[0]})  # numbers[1] was rejected: not texted
    doubt = _begin(journal, numbers[2:4])
    assert doubt is not None
    journal.in_doubt(doubt, "lost")
    refused = _begin(journal, numbers[4:6])
    assert refused is not None
    journal.refused(refused, "HTTP 429")
    plan = plan_retry("gw", canonical_order(reversed(numbers)), journal.records(TASK), "c1")
    assert [r.recipient for r in plan.done.results] == [numbers[0]]
    assert plan.done.batch_ids == [f"batch-{numbers[0]}"]
    assert [r.id for r in plan.unsettled] == [doubt]
    assert plan.to_send == [numbers[1], numbers[4], numbers[5], numbers[6]]
    assert plan.changed_content == []


def test_plan_reports_rejections_the_gateway_calls_final_instead_of_resending(journal: SendJournal) -> None:
    numbers = [f"44770010000{i}" for i in range(1, 4)]
    _answered(journal, numbers, accepted={numbers[0]})  # numbers[1] and [2] rejected inside the answer

    def final(row: RecipientResult) -> bool:
        return row.recipient == numbers[1]

    plan = plan_retry("gw", numbers, journal.records(TASK), "c1", final_rejection=final)
    assert [(r.recipient, r.accepted) for r in plan.done.results] == [(numbers[0], True), (numbers[1], False)]
    assert plan.to_send == [numbers[2]]
    # Other content: a final rejection of another message says nothing about this one.
    assert plan_retry("gw", numbers, journal.records(TASK), "c2", final_rejection=final).to_send == numbers[1:]


def test_plan_never_re_texts_a_recipient_whose_message_changed(journal: SendJournal) -> None:
    _answered(journal, ["447700100001"], accepted={"447700100001"}, content="old text")
    plan = plan_retry("gw", ["447700100001", "447700100002"], journal.records(TASK), "new text")
    assert [r.recipient for r in plan.done.results] == ["447700100001"]
    assert plan.changed_content == ["447700100001"]
    assert plan.to_send == ["447700100002"]


def test_canonical_order_and_chunk_keys_ignore_input_order() -> None:
    numbers = [f"4477001000{i:02d}" for i in range(20)] + ["list:B", "list:A"]
    assert canonical_order(reversed(numbers)) == canonical_order(numbers + numbers[:3])
    assert chunk_key(numbers, "c") == chunk_key(list(reversed(numbers)), "c")
    assert chunk_key(numbers, "c") != chunk_key(numbers, "d")
    assert chunk_key(numbers[:2], "c") != chunk_key(numbers[:3], "c")


# -- connections --------------------------------------------------------------------------------------


def test_url_from_each_connection_form() -> None:
    pg = url_from_connection("postgres", "db.example", 5433, "sms", "s3cr3t-Pass", "journal", {"sslmode": "require"},
                             "c")
    assert pg.render_as_string(hide_password=False) == \
        "postgresql+psycopg://sms:s3cr3t-Pass@db.example:5433/journal?sslmode=require"
    assert "s3cr3t-Pass" not in str(pg) and "s3cr3t-Pass" not in repr(pg)
    assert url_from_connection("sqlite", "/data/j.db", None, None, None, None, {}, "c").database == "/data/j.db"
    raw = url_from_connection("generic", None, None, None, "pw-Override1", None,
                              {"sqlalchemy_url": "postgresql+psycopg://u:old@h/d"}, "c")
    assert raw.password == "pw-Override1"
    with pytest.raises(SmsConfigurationError, match="type 'http' cannot hold the SMS journal"):
        url_from_connection("http", "h", None, None, None, None, {}, "c")
    with pytest.raises(SmsConfigurationError, match="file path in host"):
        url_from_connection("sqlite", None, None, None, None, None, {}, "c")


def test_default_journal_is_a_sqlite_file_in_airflow_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_SMS_JOURNAL_DEFAULT")
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    assert default_sqlite_path() == tmp_path / "sms_journal.db"
    journal = SendJournal.open()
    assert journal.shared  # every task runs on this machine
    assert (tmp_path / "sms_journal.db").exists()
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    assert not open_database("sms_journal_default").shared  # a retry may run elsewhere
    with pytest.raises(SmsConfigurationError, match="journal connection 'nope' does not exist"):
        open_database("nope")


def test_an_unreachable_journal_names_no_password(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "Pg-Secret-7731"
    monkeypatch.setenv("AIRFLOW_CONN_SMS_JOURNAL_DEFAULT", json.dumps({
        "conn_type": "postgres", "host": "127.0.0.1", "port": 1, "login": "sms", "password": secret,
        "schema": "journal", "extra": {"connect_timeout": "2"}}))
    with pytest.raises(JournalUnavailableError) as failure:
        SendJournal.open()
    assert secret not in str(failure.value) and secret not in repr(failure.value)
    assert "***" in str(failure.value)

