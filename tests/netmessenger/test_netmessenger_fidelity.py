"""NetMessenger read against seed 002, end to end: operators and sensors on the simulator.

Each test is a finding of issue 7 ("Fidelity to the vendors"): what a user sees when the provider
leaves out a mandatory parameter, misreads an answer the page allows, or mislabels a status.
"""

from __future__ import annotations

import datetime as dt

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_sms.core.results import DeliveryStatus
from airflow_provider_sms.hooks.base import get_sms_hook
from airflow_provider_sms.operators.accounts import SmsCreateSubAccountOperator
from airflow_provider_sms.operators.send import SmsGroupSendOperator, SmsSendOperator
from airflow_provider_sms.sensors.background_send import SmsBackgroundSendSensor
from airflow_provider_sms.simulator import SimulatorConfig, SimulatorServer
from tests.operators.helpers import FakeTaskInstance, context

NUMBERS = ["447700100001", "447700100002", "447700100003"]


def test_validity_reaches_the_gateway_and_bounds_delivery(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    # The simulator insists on ValidityPeriod (-405 without it); a period shorter than the
    # delivery takes expires the message, so the value sent is the one asked for.
    short = SmsSendOperator(task_id="s", sms_conn_id=nm_conn, to=NUMBERS[:1], message="Gate closes soon",
                            sender="Airflow", validity=dt.timedelta(seconds=2)).execute(context())
    default = SmsSendOperator(task_id="d", sms_conn_id=nm_conn, to=NUMBERS[1:2], message="Hi",
                              sender="Airflow").execute(context())
    assert short["accepted_count"] == default["accepted_count"] == 1
    sms_simulator.clock.advance(600)
    hook = get_sms_hook(nm_conn)
    assert hook.message_status(short["message_ids"][0]).status is DeliveryStatus.EXPIRED
    assert hook.message_status(default["message_ids"][0]).status is DeliveryStatus.DELIVERED


@pytest.mark.parametrize("validity", [0, 86401, dt.timedelta(days=2), dt.timedelta(seconds=1.5), "1h"])
def test_bad_validity_is_refused_before_sending(nm_conn: str, sms_simulator: SimulatorServer, validity: object) -> None:
    op = SmsSendOperator(task_id="s", sms_conn_id=nm_conn, to=NUMBERS, message="Hi", sender="Airflow",
                         validity=validity)
    with pytest.raises(AirflowFailException, match="validity"):
        op.execute(context())
    assert sms_simulator.netmessenger.requests == []


def test_bulksms_refuses_validity_naming_the_gateway(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    op = SmsSendOperator(task_id="s", sms_conn_id=bulksms_conn, to=NUMBERS, message="Hi", validity=3600)
    with pytest.raises(AirflowFailException, match="gateway 'bulksms' does not support a validity period"):
        op.execute(context())
    assert sms_simulator.bulksms.received() == []


def test_bare_partial_failure_leaves_every_number_in_doubt_and_a_retry_texts_nobody_twice(
        nm_conn: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(netmessenger_bare_partial_failure=True))
    sms_simulator.netmessenger.blacklist(NUMBERS[1])
    ti = FakeTaskInstance()
    op = SmsSendOperator(task_id="s", sms_conn_id=nm_conn, to=NUMBERS, message="Exactly once", sender="Airflow")
    # -400 "Some numbers in list failed": not a green task with 0 accepted and 0 rejected.
    with pytest.raises(AirflowException, match="3 recipients may or may not have been texted") as failure:
        op.execute(context(ti))
    assert not isinstance(failure.value, AirflowFailException)  # the retry looks up what was sent
    assert [sms_simulator.netmessenger.received_count(n) for n in NUMBERS] == [1, 0, 1]
    ti.try_number = 2
    dag_run = type("DagRun", (), {"run_after": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)})()
    # The journal's look-up of that chunk finds two numbers texted; the blacklisted one is not in the
    # report, which proves nothing (a report may be incomplete): named, never re-sent blind.
    with pytest.raises(AirflowFailException, match=r"1 recipients may or may not have been texted.*447700100002"):
        op.execute({**context(ti), "dag_run": dag_run})
    assert [sms_simulator.netmessenger.received_count(n) for n in NUMBERS] == [1, 0, 1]


def test_national_numeric_sender_is_not_sent_as_international(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    # SourceTON 1 means international; 07911123456 is national, so it goes as written with TON 5
    # (the simulator answers -403 to TON 1 with a leading 0).
    sent = SmsSendOperator(task_id="s", sms_conn_id=nm_conn, to=NUMBERS[:1], message="Hi",
                           sender="07911123456").execute(context())
    assert sent["accepted_count"] == 1
    assert [r["source"] for r in sms_simulator.netmessenger.received()] == ["07911123456"]


def test_create_user_sends_credit_reminder_as_the_page_spells_it(nm_conn: str,
                                                                 sms_simulator: SimulatorServer) -> None:
    SmsCreateSubAccountOperator(task_id="u", sms_conn_id=nm_conn, username="branch1", password="Br4nch-Pass",
                                details={"first_name": "B", "last_name": "One", "email": "b@example.org",
                                         "credit_reminder": 10}).execute(context())
    (child,) = sms_simulator.netmessenger.child_users()
    assert child["credit_reminder"] == 10


def test_cancelled_and_rejected_statuses_are_not_unknown(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    scheduled = SmsSendOperator(task_id="s", sms_conn_id=nm_conn, to=NUMBERS[:1], message="Tomorrow",
                                sender="Airflow", send_at=later).execute(context())
    sms_simulator.netmessenger.set_outcome(NUMBERS[1], "Rejected")
    now = SmsSendOperator(task_id="n", sms_conn_id=nm_conn, to=NUMBERS[1:2], message="Now",
                          sender="Airflow").execute(context())
    hook = get_sms_hook(nm_conn)
    hook.cancel(scheduled["message_ids"][0])
    sms_simulator.clock.advance(600)
    cancelled = hook.message_status(scheduled["message_ids"][0])
    rejected = hook.message_status(now["message_ids"][0])
    assert (cancelled.code, cancelled.status) == ("Cancelled", DeliveryStatus.CANCELLED)
    assert (rejected.code, rejected.status) == ("Rejected", DeliveryStatus.REJECTED)


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_group_sent_in_the_foreground_does_not_fail_the_background_send_sensor(
        nm_conn: str, sms_simulator: SimulatorServer, deferrable: bool) -> None:
    # A small group runs in the foreground; the gateway may then answer "1" with no id.
    sms_simulator.reset(SimulatorConfig(netmessenger_foreground_bg_id=False))
    sms_simulator.netmessenger.add_list("Team", NUMBERS)
    sent = SmsGroupSendOperator(task_id="g", sms_conn_id=nm_conn, group="list:Team", message="Stand-up moved",
                                sender="Office").execute(context())
    assert sent["accepted_count"] == 1 and sent["background_send_ids"] == []
    sensor = SmsBackgroundSendSensor(task_id="w", sms_conn_id=nm_conn, background_send_id=sent,
                                     deferrable=deferrable, poke_interval=0.01, timeout=1)
    value = sensor.execute(context())
    assert value == {"background_send_id": None, "foreground": True, "groups": ["list:Team"], "total": 0,
                     "messages": []}
    assert [sms_simulator.netmessenger.received_count(n) for n in NUMBERS] == [1, 1, 1]


def test_a_background_send_id_on_the_line_after_the_success_flag_is_kept(nm_conn: str,
                                                                        sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(netmessenger_bg_id_on_next_line=True))
    sms_simulator.netmessenger.add_list("Staff", [f"447700{300000 + i}" for i in range(250)])
    sent = SmsGroupSendOperator(task_id="g", sms_conn_id=nm_conn, group="list:Staff", message="Fire drill at 3",
                                sender="Office").execute(context())
    (bg_send,) = sms_simulator.netmessenger.bg_sends()
    assert sent["background_send_ids"] == [str(bg_send.bg_send_id)]
    sms_simulator.clock.advance(3600)
    done = SmsBackgroundSendSensor(task_id="w", sms_conn_id=nm_conn, background_send_id=sent).poke(context())
    assert done.is_done and done.xcom_value["total"] == 250


def test_a_numbers_send_still_has_no_background_send(nm_conn: str) -> None:
    sent = SmsSendOperator(task_id="s", sms_conn_id=nm_conn, to=NUMBERS[:1], message="Hi",
                           sender="Airflow").execute(context())
    sensor = SmsBackgroundSendSensor(task_id="w", sms_conn_id=nm_conn, background_send_id=sent)
    with pytest.raises(AirflowFailException, match="no background send id"):
        sensor.poke(context())
