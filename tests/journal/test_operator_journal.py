"""The send operators and the journal: set-up failures, the journal switched off, a local journal."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_sms.journal import SendJournal, TaskKey
from airflow_provider_sms.journal.database import DEFAULT_JOURNAL_CONN_ID
from airflow_provider_sms.operators import send as send_module
from airflow_provider_sms.operators.send import SmsSendOperator
from airflow_provider_sms.simulator import SimulatorServer
from tests.operators.helpers import FakeTaskInstance, context

NUMBERS = [f"4477001000{i:02d}" for i in range(1, 8)]


def _op(conn: str, **kwargs: object) -> SmsSendOperator:
    return SmsSendOperator(task_id="send", sms_conn_id=conn, to=NUMBERS, message="Hello", sender="Ops",
                           **kwargs)  # type: ignore[arg-type]


def test_the_operator_default_is_the_journal_default() -> None:
    assert send_module.DEFAULT_JOURNAL_CONN_ID == DEFAULT_JOURNAL_CONN_ID


def test_an_unusable_journal_sends_nothing(nm_conn: str, sms_simulator: SimulatorServer,
                                           monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("AIRFLOW_CONN_SMS_JOURNAL_DEFAULT",
                       json.dumps({"conn_type": "sqlite", "host": str(blocker / "journal.db")}))
    with pytest.raises(AirflowException, match="nothing was sent") as failure:
        _op(nm_conn).execute(context())
    assert not isinstance(failure.value, AirflowFailException)  # a retry may find the database back
    assert sms_simulator.netmessenger.received() == []


def test_a_missing_named_journal_connection_fails_before_sending(nm_conn: str,
                                                                 sms_simulator: SimulatorServer) -> None:
    with pytest.raises(AirflowFailException, match="journal connection 'no_such_journal' does not exist"):
        _op(nm_conn, journal_conn_id="no_such_journal").execute(context())
    assert sms_simulator.netmessenger.received() == []


def test_without_a_journal_the_log_says_what_is_lost(nm_conn: str, sms_simulator: SimulatorServer,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="airflow_provider_sms.operators.send"):
        result = _op(nm_conn, journal_conn_id=None).execute(context())
    assert result["accepted_count"] == 7
    assert "no send journal" in caplog.text and "re-sends chunks" in caplog.text


def test_a_journal_on_this_machine_only_says_so(nm_conn: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_SMS_JOURNAL_DEFAULT")
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    with caplog.at_level(logging.WARNING, logger="airflow_provider_sms.operators.send"):
        _op(nm_conn).execute(context())
    assert "on this machine only" in caplog.text and "sms_journal_default" in caplog.text
    assert (tmp_path / "sms_journal.db").exists()


def test_each_chunk_is_recorded_with_its_outcome(nm_conn: str, sms_simulator: SimulatorServer,
                                                 sms_journal: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import netmessenger_connection

    monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT",
                       netmessenger_connection(sms_simulator, max_recipients_per_request=3))
    sms_simulator.netmessenger.blacklist(NUMBERS[6])
    ti = FakeTaskInstance()
    op = _op(nm_conn)
    with pytest.raises(AirflowFailException, match="1 of 7 recipients were rejected"):
        op.execute(context(ti))
    records = SendJournal.open().records(TaskKey(op.dag_id or "", "send", ti.run_id, -1))
    assert [(r.recipients, r.state.value, r.try_number) for r in records] == [
        (tuple(NUMBERS[:3]), "answered", 1), (tuple(NUMBERS[3:6]), "answered", 1), ((NUMBERS[6],), "answered", 1)]
    assert records[2].result().results[0].code == "-412"
    assert ti.xcom["send_result"]["in_doubt_count"] == 0


def test_journal_lost_mid_send_then_retry_settles_the_chunk_it_was_recording(
        nm_conn: str, sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_sms.journal import JournalUnavailableError
    from tests.conftest import netmessenger_connection

    monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT",
                       netmessenger_connection(sms_simulator, max_recipients_per_request=3))
    real = SendJournal.answered
    calls = {"n": 0}

    def flaky(self: SendJournal, record_id: int, result: object, recipients: object = None) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # the database goes away after the second chunk was sent
            raise JournalUnavailableError("the SMS journal at test is unavailable (OperationalError)")
        real(self, record_id, result, recipients)  # type: ignore[arg-type]

    monkeypatch.setattr(SendJournal, "answered", flaky)
    ti = FakeTaskInstance()
    with pytest.raises(AirflowException, match="3 recipients were texted before it") as failure:
        _op(nm_conn).execute(context(ti))
    assert not isinstance(failure.value, AirflowFailException)
    # The third chunk may have been in flight already (two requests at once): sent or not, it is left
    # to the retry, as the second one.
    assert [sms_simulator.netmessenger.received_count(n) for n in NUMBERS[:6]] == [1] * 6
    assert sms_simulator.netmessenger.received_count(NUMBERS[6]) in (0, 1)
    monkeypatch.setattr(SendJournal, "answered", real)
    ti.try_number = 2
    result = _op(nm_conn).execute(context(ti))  # the retry: chunk 2 is settled by a look-up, chunk 3 sent
    assert result["accepted_count"] == 7
    assert [sms_simulator.netmessenger.received_count(n) for n in NUMBERS] == [1] * 7


def test_a_chunk_in_doubt_past_the_dedupe_window_is_named_not_resent(bulksms_conn: str,
                                                                     sms_simulator: SimulatorServer) -> None:
    """BulkSMS forgets dedupe ids after hours: a clear after that must not re-send blind."""
    import datetime as dt

    from sqlalchemy import update

    from airflow_provider_sms.journal.schema import send_chunks

    numbers = NUMBERS[:3]
    sms_simulator.faults.drop_after_accept(count=4)  # every attempt of the only chunk loses its answer
    ti = FakeTaskInstance()
    op = SmsSendOperator(task_id="send", sms_conn_id=bulksms_conn, to=numbers, message="Hello")
    with pytest.raises(AirflowException, match="3 recipients may or may not have been texted"):
        op.execute(context(ti))
    journal = SendJournal.open()
    with journal.database.engine.begin() as conn:  # the task is cleared 11 hours later
        conn.execute(update(send_chunks).values(intent_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=11)))
    ti.try_number = 2
    with pytest.raises(AirflowFailException, match="cannot be settled automatically") as failure:
        op.execute(context(ti))
    assert all(n in str(failure.value) for n in numbers)
    assert [sms_simulator.bulksms.received_count(n) for n in numbers] == [1, 1, 1]
