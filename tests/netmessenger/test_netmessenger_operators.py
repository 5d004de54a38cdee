"""Generic operators and sensors on a NetMessenger connection, against the simulator."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, TaskDeferred

from airflow_provider_sms.operators.accounts import SmsCreateSubAccountOperator, SmsTransferCreditsOperator
from airflow_provider_sms.operators.address_book import SmsAddressBookCleanupOperator
from airflow_provider_sms.operators.contacts import SmsContactImportOperator
from airflow_provider_sms.operators.reports import SmsReportOperator
from airflow_provider_sms.operators.send import SmsGroupSendOperator, SmsSendOperator
from airflow_provider_sms.sensors.background_send import SmsBackgroundSendSensor
from airflow_provider_sms.sensors.message_status import SmsMessageStatusSensor
from airflow_provider_sms.simulator import SimulatorServer
from tests.conftest import netmessenger_connection
from tests.operators.helpers import FakeTaskInstance, context, first_event_once_logged

NUMBERS = [f"4477001000{i:02d}" for i in range(1, 8)]


def _write_contacts(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ["Full name", "Mobile", "Email"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def _people(count: int, start: int = 100000) -> list[dict[str, str]]:
    return [{"Full name": f"Person {i}", "Mobile": f"07700 {start + i}", "Email": ""} for i in range(count)]


def test_send_operator_and_status_sensor(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    sent = SmsSendOperator(task_id="s", sms_conn_id=nm_conn, to=NUMBERS, message="Hi", sender="Airflow").execute(
        context())
    assert sent["accepted_count"] == 7 and len(sent["message_ids"]) == 7 and sent["sent_at"]
    sms_simulator.clock.advance(600)
    before = len(sms_simulator.netmessenger.requests)
    sensor = SmsMessageStatusSensor(task_id="w", sms_conn_id=nm_conn, messages=sent, poke_interval=0.01)
    value = sensor.poke(context()).xcom_value
    assert value["delivered"] == 7
    assert len(sms_simulator.netmessenger.requests) - before == 7  # few messages: one check each


def test_retry_without_a_journal_looks_up_the_whole_list(nm_conn: str, sms_simulator: SimulatorServer,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback with ``journal_conn_id=None``: a retry reads the reports from the run's start."""
    from tests.conftest import netmessenger_connection

    monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT",
                       netmessenger_connection(sms_simulator, max_recipients_per_request=3, max_in_flight=1))
    sms_simulator.faults.drop_after_accept(count=1, only="/api")  # the first chunk's answer is lost
    ti = FakeTaskInstance()
    op = SmsSendOperator(task_id="s", sms_conn_id=nm_conn, to=NUMBERS, message="Exactly once", sender="Airflow",
                         journal_conn_id=None)
    with pytest.raises(AirflowException, match="3 recipients may or may not have been texted") as failure:
        op.execute(context(ti))
    assert not isinstance(failure.value, AirflowFailException)  # a retry can look them up
    assert ti.xcom["send_result"]["in_doubt_count"] == 3 and ti.xcom["send_result"]["accepted_count"] == 4
    assert [sms_simulator.netmessenger.received_count(n) for n in NUMBERS] == [1] * 7
    ti.try_number = 2
    # Clearing a task resets dag_run.start_date; the look-up goes by run_after, which stays put.
    dag_run = type("DagRun", (), {"start_date": dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5),
                                  "run_after": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)})()
    result = op.execute({**context(ti), "dag_run": dag_run})
    assert result["accepted_count"] == 7
    assert [sms_simulator.netmessenger.received_count(n) for n in NUMBERS] == [1] * 7
    assert sum(r["code"] == "already_sent" for r in result["results"]) == 7


def test_group_retry_without_a_journal_refuses(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.netmessenger.add_list("Staff", NUMBERS[:2])
    op = SmsGroupSendOperator(task_id="g", sms_conn_id=nm_conn, group="list:Staff", message="Hi", sender="Office",
                              journal_conn_id=None)
    with pytest.raises(AirflowFailException, match="cannot tell whether an earlier try already texted list:Staff"):
        op.execute(context(FakeTaskInstance(try_number=2)))
    assert sms_simulator.netmessenger.received() == []


def test_contact_import_from_csv(nm_conn: str, sms_simulator: SimulatorServer, tmp_path: Path) -> None:
    rows = _people(25)
    rows.insert(3, {"Full name": "", "Mobile": "07700 199999", "Email": ""})
    rows.insert(7, {"Full name": "Bad", "Mobile": "12345", "Email": ""})
    source = _write_contacts(tmp_path / "people.csv", rows)
    rejects = tmp_path / "rejects.csv"
    op = SmsContactImportOperator(task_id="i", sms_conn_id=nm_conn, source=str(source), chunk_size=10,
                                  columns={"name": "Full name", "number": "Mobile", "email": "Email"},
                                  group="People", rejects_path=str(rejects))
    result = op.execute(context())
    assert result["rows"] == 27 and result["invalid"] == 2 and result["success"] == 25
    assert len(sms_simulator.netmessenger.contacts()) == 25
    assert len(sms_simulator.netmessenger.groups()["People"]) == 25
    with rejects.open() as handle:
        reasons = {r["row"]: r["reason"] for r in csv.DictReader(handle)}
    assert reasons == {"4": "no name", "8": "invalid number: local number only, needs an area code"}
    # A retry (or a re-run) imports nothing twice: the rows come back as duplicates.
    again = op.execute(context(FakeTaskInstance(try_number=2)))
    assert again["success"] == 0 and again["duplicate_number"] + again["duplicate_name"] == 25
    assert len(sms_simulator.netmessenger.contacts()) == 25


def test_contact_import_from_rows_with_overwrite(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    rows = [{"name": "Ann", "number": "+447700100001"}, {"name": "Bob", "number": "+447700100002"}]
    SmsContactImportOperator(task_id="i", sms_conn_id=nm_conn, source=rows).execute(context())
    changed = [{"name": "Ann Smith", "number": "+447700100001"}]
    result = SmsContactImportOperator(task_id="i", sms_conn_id=nm_conn, source=changed,
                                      duplicates="overwrite").execute(context())
    assert result["success"] == 1
    names = sorted(c["name"] for c in sms_simulator.netmessenger.contacts())
    assert names == ["Ann Smith", "Bob"]


def test_duplicates_error_policy_fails_after_import(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    rows = [{"name": "Ann", "number": "+447700100001"}]
    SmsContactImportOperator(task_id="i", sms_conn_id=nm_conn, source=rows).execute(context())
    with pytest.raises(AirflowFailException, match="already in the address book"):
        SmsContactImportOperator(task_id="i", sms_conn_id=nm_conn, source=rows, duplicates="error").execute(context())


def test_allow_duplicates_refuses_to_run_on_a_retry(nm_conn: str) -> None:
    op = SmsContactImportOperator(task_id="i", sms_conn_id=nm_conn, source=[{"name": "A", "number": "+447700100001"}],
                                  duplicates="allow")
    with pytest.raises(AirflowFailException, match="not retry-safe"):
        op.execute(context(FakeTaskInstance(try_number=2)))


def test_group_send_to_1000_members_completes_deferred(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    members = [{"name": f"M{i}", "number": f"447700{200000 + i}", "groups": ["Members"]} for i in range(1000)]
    sms_simulator.netmessenger.add_contacts(members)
    sent = SmsGroupSendOperator(task_id="g", sms_conn_id=nm_conn, group="group:Members", message="Meeting at 6",
                                sender="Club").execute(context())
    assert len(sent["background_send_ids"]) == 1
    sensor = SmsBackgroundSendSensor(task_id="w", sms_conn_id=nm_conn, background_send_id=sent, deferrable=True,
                                     poke_interval=0.01, timeout=60)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context())
    trigger = deferred.value.trigger
    rebuilt = type(trigger)(**trigger.serialize()[1])

    async def scenario() -> Any:
        pending = asyncio.ensure_future(rebuilt.run().__anext__())
        await asyncio.sleep(0.05)
        assert not pending.done()  # -522: still running
        sms_simulator.clock.advance(3600)
        return await asyncio.wait_for(pending, timeout=30)

    event = asyncio.run(scenario())
    value = sensor.execute_complete(context(), event=event.payload)
    assert value["total"] == 1000
    assert {m["destination"] for m in value["messages"]} == {m["number"] for m in members}


@pytest.mark.parametrize("deferrable", [True, False], ids=["trigger", "poke"])
def test_background_send_progress_is_logged_while_running_and_the_end_names_failures(
        nm_conn: str, sms_simulator: SimulatorServer, deferrable: bool, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    """Issue 14: the background-send trigger logged nothing between start and finish."""
    import logging

    members = [f"447700{500000 + i}" for i in range(300)]
    sms_simulator.netmessenger.add_list("Members", members)
    for number in members[:2]:
        sms_simulator.netmessenger.set_outcome(number, "Undeliverable")
    sent = SmsGroupSendOperator(task_id="g", sms_conn_id=nm_conn, group="list:Members", message="Meeting at 6",
                                sender="Club").execute(context())
    sensor = SmsBackgroundSendSensor(task_id="w", sms_conn_id=nm_conn, background_send_id=sent,
                                     deferrable=deferrable, poke_interval=0.01, timeout=60)
    caplog.set_level(logging.INFO)
    if deferrable:
        with pytest.raises(TaskDeferred) as deferred:
            sensor.execute(context())
        trigger = type(deferred.value.trigger)(**deferred.value.trigger.serialize()[1])
        event = first_event_once_logged(trigger, lambda: caplog.text, "still running",
                                        lambda: sms_simulator.clock.advance(3600))
        assert "finished: 300 messages: 0 pending, 298 delivered, 2 failed" in caplog.text  # the trigger's
        capsys.readouterr()
        caplog.clear()
        value = sensor.execute_complete(context(), event=event.payload)  # the sensor resumes
    else:
        assert not sensor.poke(context()).is_done
        assert "still running" in capsys.readouterr().out + caplog.text
        sms_simulator.clock.advance(3600)
        value = sensor.poke(context()).xcom_value
    logged = capsys.readouterr().out + caplog.text
    assert value["total"] == 300
    assert "finished: 300 messages: 0 pending, 298 delivered, 2 failed (first: 447700500000: " in logged
    assert "2 of 300 messages failed: 447700500000: failed" in logged and "447700500001: failed" in logged


def test_report_window_defaults_to_the_data_interval(nm_conn: str, sms_simulator: SimulatorServer,
                                                     tmp_path: Path) -> None:
    SmsSendOperator(task_id="s", sms_conn_id=nm_conn, to=NUMBERS[:2], message="Hi", sender="Airflow").execute(
        context())
    sms_simulator.clock.advance(600)
    now = dt.datetime.now(dt.UTC)
    hour = dt.timedelta(hours=1)
    ctx = {**context(), "data_interval_start": now - hour, "data_interval_end": now + hour}
    out = tmp_path / "messages.csv"
    result = SmsReportOperator(task_id="r", sms_conn_id=nm_conn, report="Messages", output_path=str(out)).execute(ctx)
    assert result["rows"] == 2
    day = dt.timedelta(days=1)
    old = {**context(), "data_interval_start": now - 3 * day, "data_interval_end": now - 2 * day}
    assert SmsReportOperator(task_id="r", sms_conn_id=nm_conn, report="Messages",
                             output_path=str(tmp_path / "old.csv")).execute(old)["rows"] == 0


def test_address_book_cleanup_needs_confirmation_and_reports_removals(nm_conn: str,
                                                                     sms_simulator: SimulatorServer) -> None:
    sms_simulator.netmessenger.add_contacts([{"name": f"P{i}", "number": f"4477001000{i:02d}", "groups": ["G"]}
                                             for i in range(1, 6)])
    unconfirmed = SmsAddressBookCleanupOperator(task_id="c", sms_conn_id=nm_conn, action="delete_all_contacts")
    with pytest.raises(AirflowFailException, match="confirm='delete_all_contacts'"):
        unconfirmed.execute(context())
    assert len(sms_simulator.netmessenger.contacts()) == 5
    emptied = SmsAddressBookCleanupOperator(task_id="c", sms_conn_id=nm_conn, action="empty_group", group="G",
                                            confirm="empty_group").execute(context())
    assert emptied["removed"] == {"contacts": 5}
    deleted = SmsAddressBookCleanupOperator(task_id="c", sms_conn_id=nm_conn, action="delete_all_contacts",
                                            confirm="delete_all_contacts").execute(context())
    assert deleted["removed"] == {"contacts": 5}
    assert sms_simulator.netmessenger.contacts() == []


def test_account_operators(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    created = SmsCreateSubAccountOperator(task_id="u", sms_conn_id=nm_conn, username="branch1",
                                          password="Br4nch-Secret-Pass",
                                          details={"first_name": "B", "last_name": "One", "email": "b@example.org"},
                                          ).execute(context())
    assert created == {"username": "branch1", "created": True}
    moved = SmsTransferCreditsOperator(task_id="t", sms_conn_id=nm_conn, child_username="branch1",
                                       quantity="25").execute(context())
    assert moved == {"child_username": "branch1", "quantity": 25}
    assert [u["username"] for u in sms_simulator.netmessenger.child_users()] == ["branch1"]


def test_bulksms_has_no_contact_import(bulksms_conn: str) -> None:
    rows = [{"name": "A", "number": "+447700100001"}]
    op = SmsContactImportOperator(task_id="i", sms_conn_id=bulksms_conn, source=rows)
    with pytest.raises(AirflowFailException, match=r"\[bulksms\] gateway 'bulksms' does not support contact import"):
        op.execute(context())


def test_background_send_sensor_in_poke_mode(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.netmessenger.add_list("Staff", [f"447700{300000 + i}" for i in range(250)])
    sent = SmsGroupSendOperator(task_id="g", sms_conn_id=nm_conn, group="list:Staff", message="Fire drill at 3",
                                sender="Office").execute(context())
    sensor = SmsBackgroundSendSensor(task_id="w", sms_conn_id=nm_conn,
                                     background_send_id=str(sent["background_send_ids"][0]))
    assert not sensor.poke(context()).is_done
    sms_simulator.clock.advance(3600)
    done = sensor.poke(context())
    assert done.is_done and done.xcom_value["total"] == 250


def test_report_to_object_storage(nm_conn: str, sms_simulator: SimulatorServer, tmp_path: Path) -> None:
    SmsSendOperator(task_id="s", sms_conn_id=nm_conn, to=NUMBERS[:3], message="Hi", sender="Airflow").execute(
        context())
    target = f"file://{tmp_path}/store/messages.csv"
    now = dt.datetime.now(dt.UTC)
    op = SmsReportOperator(task_id="r", sms_conn_id=nm_conn, report="Messages", output_path=target,
                           start=(now - dt.timedelta(hours=1)).isoformat(), end=now + dt.timedelta(hours=1))
    result = op.execute(context())
    assert result == {"path": target, "rows": 3, "report": "Messages", "gateway": "netmessenger",
                      "window_start": (now - dt.timedelta(hours=1)).isoformat(),
                      "window_end": (now + dt.timedelta(hours=1)).isoformat()}
    assert len((tmp_path / "store" / "messages.csv").read_text().splitlines()) == 4


def test_import_retried_after_failing_mid_way_imports_nothing_twice(nm_conn: str, sms_simulator: SimulatorServer,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{"name": f"Member {i}", "number": f"+447700{100000 + i}"} for i in range(25)]
    # One upload at a time: the fault below is aimed at the uploads after the first (with two in
    # flight, the next chunk is read, and the fault set, while the first is still on its way).
    monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT", netmessenger_connection(sms_simulator, max_in_flight=1))

    def source_that_breaks_the_gateway() -> Any:
        for index, row in enumerate(rows):
            if index == 10:  # the first chunk of 10 is in; every later upload gets HTTP 500
                sms_simulator.faults.http_error(status=500, count=100, only="/api")
            yield row

    first = SmsContactImportOperator(task_id="i", sms_conn_id=nm_conn, source=source_that_breaks_the_gateway(),
                                     chunk_size=10)
    with pytest.raises(AirflowException, match="HTTP 500"):
        first.execute(context())
    assert len(sms_simulator.netmessenger.contacts()) == 10
    sms_simulator.faults.clear()
    retry = SmsContactImportOperator(task_id="i", sms_conn_id=nm_conn, source=rows, chunk_size=10)
    result = retry.execute(context(FakeTaskInstance(try_number=2)))
    assert result["success"] == 15 and result["duplicate_number"] + result["duplicate_name"] == 10
    numbers = [c["number"] for c in sms_simulator.netmessenger.contacts()]
    assert len(numbers) == 25 and len(set(numbers)) == 25


def test_import_from_object_storage_and_rendered_xcom(nm_conn: str, sms_simulator: SimulatorServer,
                                                      tmp_path: Path) -> None:
    source = _write_contacts(tmp_path / "people.csv", _people(3))
    columns = {"name": "Full name", "number": "Mobile"}
    stored = SmsContactImportOperator(task_id="i", sms_conn_id=nm_conn, source=f"file://{source}", columns=columns)
    assert stored.execute(context())["success"] == 3
    rendered = str([{"name": "Zoe", "number": "+447700100050"}])  # what "{{ ti.xcom_pull(...) }}" renders
    assert SmsContactImportOperator(task_id="i", sms_conn_id=nm_conn, source=rendered).execute(context())[
        "success"] == 1


def test_group_send_to_several_groups_makes_one_request_each(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.netmessenger.add_contacts([{"name": "A", "number": "447700100001", "groups": ["Red"]},
                                             {"name": "B", "number": "447700100002", "groups": ["Blue"]}])
    sms_simulator.netmessenger.add_list("Night shift", ["447700100003"])
    sent = SmsGroupSendOperator(task_id="g", sms_conn_id=nm_conn, group=["group:Red", "group:Blue", "list:Night shift"],
                                message="Rota changed", sender="Office").execute(context())
    assert sent["accepted_count"] == 3 and len(sent["background_send_ids"]) == 3
    assert [sms_simulator.netmessenger.received_count(f"4477001000{i:02d}") for i in (1, 2, 3)] == [1, 1, 1]
