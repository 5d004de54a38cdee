"""Sends skip opted-out numbers (``honour_opt_outs``), against the simulator; handsets are counted."""

from __future__ import annotations

import json
import re

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_sms.operators.mms import MmsSendOperator
from airflow_provider_sms.operators.send import SmsGroupSendOperator, SmsSendOperator
from airflow_provider_sms.receipts.suppression import SuppressionList
from airflow_provider_sms.simulator import SimulatorServer
from tests.operators.helpers import FakeTaskInstance, context

A, B, C, D = "447700100001", "447700100002", "447700100003", "447700100004"


def _listing() -> SuppressionList:
    return SuppressionList.open()  # the per-test journal database (tests/conftest.py)


def _send(conn: str, **kwargs: object) -> SmsSendOperator:
    defaults: dict[str, object] = {"task_id": "send", "sms_conn_id": conn, "to": [A, B, C, D], "message": "Sale on"}
    return SmsSendOperator(**{**defaults, **kwargs})  # type: ignore[arg-type]


def test_opted_out_numbers_are_skipped_and_reported(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    _listing().add(B, source="reply", word="STOP")
    _listing().add("+44 7700 100004", source="reply", word="END")
    result = _send(bulksms_conn, to=["07700 100004", A, B, C]).execute(context())
    assert [sms_simulator.bulksms.received_count(n) for n in (A, B, C, D)] == [1, 0, 1, 0]
    assert (result["accepted_count"], result["rejected_count"], result["suppressed_count"]) == (2, 0, 2)
    suppressed = {r["recipient"]: r for r in result["results"] if r["status"] == "suppressed"}
    assert set(suppressed) == {B, D}
    assert all(not r["accepted"] and r["code"] == "suppressed" and r["message_id"] is None
               for r in suppressed.values())
    json.dumps(result)


def test_summary_results_list_the_suppressed(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    _listing().add(C)
    result = _send(bulksms_conn, xcom_results="summary").execute(context())
    assert result["suppressed"] == [C] and result["suppressed_count"] == 1 and result["rejected"] == []
    assert result["accepted_count"] == 3


def test_transactional_sends_ignore_the_list(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    _listing().add(A)
    result = _send(bulksms_conn, honour_opt_outs=False).execute(context())
    assert result["accepted_count"] == 4 and result["suppressed_count"] == 0
    assert sms_simulator.bulksms.received_count(A) == 1


def test_everyone_opted_out_sends_nothing_and_succeeds(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    for number in (A, B):
        _listing().add(number)
    result = _send(nm_conn, to=[A, B], sender="Shop").execute(context())
    assert (result["accepted_count"], result["suppressed_count"], result["batch_ids"]) == (0, 2, [])
    assert sms_simulator.netmessenger.received_count(A) == 0 and sms_simulator.netmessenger.received_count(B) == 0


def test_rejections_are_counted_apart_from_the_suppressed(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    from airflow_provider_sms.simulator import SimulatorConfig, SkycoreAccount

    sms_simulator.reset(SimulatorConfig(skycore_accounts=[SkycoreAccount(blacklist=(C,))]))
    _listing().add(B)
    ti = FakeTaskInstance()
    with pytest.raises(AirflowFailException, match=r"1 of 3 recipients were rejected \(2 were sent\)"):
        _send(sky_conn).execute(context(ti))
    assert ti.xcom["send_result"]["suppressed_count"] == 1 and ti.xcom["send_result"]["rejected_count"] == 1


def test_a_number_texted_by_an_earlier_try_is_reported_from_the_journal(
        bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    # Try 1's answer is lost after the gateway texted A and B (every retry of the call too); A replies
    # STOP before try 2.
    sms_simulator.faults.drop_after_accept(count=4)
    first = FakeTaskInstance()
    with pytest.raises(AirflowException):
        _send(bulksms_conn, to=[A, B]).execute(context(first))
    _listing().add(A)
    retry = FakeTaskInstance(try_number=2)
    result = _send(bulksms_conn, to=[A, B]).execute(context(retry))
    # The journal settles the chunk (dedupe id): nobody texted twice, A is reported as texted, not suppressed.
    assert [sms_simulator.bulksms.received_count(n) for n in (A, B)] == [1, 1]
    assert result["accepted_count"] == 2 and result["suppressed_count"] == 0


def test_the_list_unreadable_fails_before_anything_is_sent(bulksms_conn: str, sms_simulator: SimulatorServer,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SMS_JOURNAL_DEFAULT", json.dumps({"conn_type": "http", "host": "x"}))
    with pytest.raises(AirflowException, match="cannot hold the SMS journal"):
        _send(bulksms_conn).execute(context())
    assert sms_simulator.bulksms.received_count(A) == 0


def test_group_sends_are_not_filtered(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    assert not hasattr(SmsGroupSendOperator(task_id="g", sms_conn_id=bulksms_conn, group="1", message="x"),
                       "honour_opt_outs")  # gateway-side groups: the numbers are not ours to filter


def test_mms_to_numbers_skips_opted_out(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    _listing().add(B)
    op = MmsSendOperator(task_id="mms", sms_conn_id=sky_conn, to=[A, B], slides=[{"text": "Hello"}], subject="Hi")
    result = op.execute(context())
    assert [sms_simulator.skycore.received_count(n, "mms") for n in (A, B)] == [1, 0]
    assert result["suppressed_count"] == 1 and result["accepted_count"] == 1
    result = MmsSendOperator(task_id="mms", sms_conn_id=sky_conn, to=[B], mms_id=result["mms_id"],
                             honour_opt_outs=False).execute(context(FakeTaskInstance(run_id="r2")))
    assert result["accepted_count"] == 1 and sms_simulator.skycore.received_count(B, "mms") == 1


def test_a_stop_reply_stored_by_anyone_suppresses_the_next_send(bulksms_conn: str,
                                                               sms_simulator: SimulatorServer) -> None:
    import datetime as dt

    from airflow_provider_sms.core.receipts import ReplyEvent
    from airflow_provider_sms.receipts.store import ReceiptStore

    store = ReceiptStore.from_conn_id()
    for n, (sender, text) in enumerate([(C, "Stop"), (A, "stop please"), (D, "QUIT")]):
        store.record_reply(ReplyEvent(gateway="bulksms", conn_id=bulksms_conn, event_id=f"in-{n}", sender=sender,
                                      recipient=None, text=text, received_at=dt.datetime.now(dt.UTC)))
    result = _send(bulksms_conn).execute(context())  # nobody called apply_opt_out: the send catches up
    assert {r["recipient"] for r in result["results"] if r["status"] == "suppressed"} == {C, D}
    assert [sms_simulator.bulksms.received_count(n) for n in (A, B, C, D)] == [1, 1, 0, 0]
    assert _listing().catch_up() == 0  # already read


def test_a_send_in_a_new_process_reads_the_schema_versions_once_before_sending(
        bulksms_conn: str, sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import event

    from airflow_provider_sms.journal import SendJournal, database

    SendJournal.open()  # every table exists, as after an earlier send
    _listing().add(D, source="manual")
    _listing().catch_up()
    engine = _listing().database.engine
    # What a new task process has read so far: nothing.
    monkeypatch.setattr(database, "_schemas_ready", set())
    monkeypatch.setattr(database, "_versions_read", {})
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        table = re.search(r"sms_[a-z_]+", statement)
        statements.append(f"{statement.split()[0]} {table.group() if table else '?'}")

    event.listen(engine, "before_cursor_execute", seen)
    try:
        result = _send(bulksms_conn).execute(context())
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert (result["accepted_count"], result["suppressed_count"]) == (3, 1)
    assert [sms_simulator.bulksms.received_count(n) for n in (A, B, C, D)] == [1, 1, 1, 0]
    first_write = next(i for i, s in enumerate(statements) if s.startswith("INSERT"))
    assert statements[:first_write] == [
        "SELECT sms_schema_versions",  # the journal's check at its open, every store's version at once
        "SELECT sms_poll_cursors",  # the opt-out catch-up: its cursor and the newest reply's id
        "SELECT sms_suppressions",  # the opt-out list's size
        "SELECT sms_suppressions",  # the listed ones among the recipients
        "SELECT sms_send_chunks",  # did an earlier try text the listed one? (asked only when one is listed)
        "SELECT sms_send_chunks",  # what earlier tries of this task recorded
    ], statements
