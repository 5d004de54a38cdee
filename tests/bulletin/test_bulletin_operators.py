"""Generic operators on a Bulletin Messenger connection, against the simulator."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_sms.exceptions import SmsValidationError
from airflow_provider_sms.hooks.base import get_sms_hook
from airflow_provider_sms.operators.reports import SmsReportOperator
from airflow_provider_sms.operators.send import SmsGroupSendOperator, SmsSendOperator
from airflow_provider_sms.simulator import SimulatorServer
from tests.operators.helpers import FakeTaskInstance, context

NUMBERS = ["64211111111", "64211111112", "64211111113"]
BLOCKED = "64222222221"
TEAM = ["64210000001", "64210000002"]


@pytest.fixture
def address_book(sms_simulator: SimulatorServer) -> None:
    bulletin = sms_simulator.bulletin
    bulletin.block(BLOCKED)
    bulletin.add_contact("Ann", TEAM[0])
    bulletin.add_contact("Bob", TEAM[1])
    bulletin.add_group("salesteam", ["Ann", "Bob"])


def _retry_context(ti: FakeTaskInstance) -> dict[str, object]:
    dag_run = type("DagRun", (), {"run_after": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)})()
    return {**context(ti), "dag_run": dag_run}


def test_numbers_blocked_number_and_group_each_get_an_outcome(bm_conn: str, sms_simulator: SimulatorServer,
                                                               address_book: None) -> None:
    op = SmsSendOperator(task_id="s", sms_conn_id=bm_conn, to=[*NUMBERS, BLOCKED, "group:salesteam"],
                         message="Stand-up at 10", sender="Airflow", allow_partial_failure=True)
    result = op.execute(context())
    outcomes = {r["recipient"]: (r["accepted"], r["code"], r["text"]) for r in result["results"]}
    assert outcomes[BLOCKED] == (False, "403", f"Cannot deliver to {BLOCKED} (Number in Blocked List)")
    assert all(outcomes[n][0] for n in NUMBERS) and outcomes["group:salesteam"][0]
    assert result["accepted_count"] == 4 and result["rejected_count"] == 1
    counts = [sms_simulator.bulletin.received_count(n) for n in [*NUMBERS, BLOCKED, *TEAM]]
    assert counts == [1, 1, 1, 0, 1, 1]
    [message] = sms_simulator.bulletin.messages()
    # The group went on the wire without its prefix; messageId is derived from the chunk's dedupe key.
    assert [r["to"] for r in message["recipients"]] == [*NUMBERS, BLOCKED, "salesteam"]
    assert message["message_id"].startswith("airflow-") and len(message["message_id"]) <= 36
    assert {r["sender"] for r in sms_simulator.bulletin.received()} == {"Airflow"}  # `from` is the operator's sender


def test_a_rejected_recipient_fails_the_task_after_the_others_were_sent(bm_conn: str, sms_simulator: SimulatorServer,
                                                                        address_book: None) -> None:
    ti = FakeTaskInstance()
    op = SmsSendOperator(task_id="s", sms_conn_id=bm_conn, to=[NUMBERS[0], "contact:salestem"], message="Hi")
    with pytest.raises(AirflowFailException, match=r"1 of 2 recipients were rejected.*salestem \(Cannot deliver"):
        op.execute(context(ti))
    assert sms_simulator.bulletin.received_count(NUMBERS[0]) == 1
    rejected = [r for r in ti.xcom["send_result"]["results"] if not r["accepted"]]
    assert rejected[0]["recipient"] == "contact:salestem"


def test_recipients_rejected_in_a_200_are_not_sent_again_by_a_retry(bm_conn: str, sms_simulator: SimulatorServer,
                                                                    address_book: None) -> None:
    # The first try's answer arrives: one number texted, a blocked number and an unknown contact
    # rejected inside the 200, so the task fails. A retry (or a clear) reports them from the
    # journal as they were answered and sends nothing: the gateway would only refuse them again.
    ti = FakeTaskInstance()
    op = SmsSendOperator(task_id="s", sms_conn_id=bm_conn, to=[NUMBERS[0], BLOCKED, "contact:salestem"],
                         message="Rejected once")
    with pytest.raises(AirflowFailException, match="2 of 3 recipients were rejected"):
        op.execute(context(ti))
    ti.try_number = 2
    with pytest.raises(AirflowFailException, match="2 of 3 recipients were rejected"):
        op.execute(_retry_context(ti))
    assert len(sms_simulator.bulletin.messages()) == 1  # the retry sent no request at all
    assert sms_simulator.bulletin.received_count(NUMBERS[0]) == 1
    results = {r["recipient"]: (r["accepted"], r["code"]) for r in ti.xcom["send_result"]["results"]}
    assert results == {NUMBERS[0]: (True, None), BLOCKED: (False, "403"), "contact:salestem": (False, "403")}


def test_retry_after_a_lost_answer_texts_nobody_twice(bm_conn: str, sms_simulator: SimulatorServer,
                                                      address_book: None) -> None:
    sms_simulator.faults.drop_after_accept(count=1, only="/api/3/sms/out")
    ti = FakeTaskInstance()
    op = SmsSendOperator(task_id="s", sms_conn_id=bm_conn, to=[*NUMBERS, BLOCKED, "group:salesteam"],
                         message="Exactly once", allow_partial_failure=True)
    with pytest.raises(AirflowException, match="may or may not have been texted") as first:
        op.execute(context(ti))
    assert not isinstance(first.value, AirflowFailException)  # the retry can look up what was sent
    handsets = [*NUMBERS, BLOCKED, *TEAM]
    assert [sms_simulator.bulletin.received_count(n) for n in handsets] == [1, 1, 1, 0, 1, 1]

    ti.try_number = 2
    result = op.execute(_retry_context(ti))

    assert [sms_simulator.bulletin.received_count(n) for n in handsets] == [1, 1, 1, 0, 1, 1]
    assert len(sms_simulator.bulletin.messages()) == 1  # the retry sent nothing at all
    codes = {r["recipient"]: r["code"] for r in result["results"]}
    assert codes == {**dict.fromkeys(NUMBERS, "already_sent"), BLOCKED: "rejected_earlier",
                     "group:salesteam": "already_sent"}
    assert result["rejected_count"] == 1


def test_retry_sends_what_the_first_try_never_got_through(bm_conn: str, sms_simulator: SimulatorServer,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.bulletin.conftest import bulletin_connection

    monkeypatch.setenv("AIRFLOW_CONN_BULLETIN_MESSENGER_DEFAULT",
                       bulletin_connection(sms_simulator, max_recipients_per_request=2, max_in_flight=1))
    numbers = [*NUMBERS, "64211111114"]  # one request at a time: the faults below hit chunks in order
    # The first chunk is refused (HTTP 400, nothing sent); the second is sent but its answer is lost.
    sms_simulator.faults.http_error(status=400, count=1, only="/api/3/sms/out")
    sms_simulator.faults.drop_after_accept(count=1, only="/api/3/sms/out")
    ti = FakeTaskInstance()
    op = SmsSendOperator(task_id="s", sms_conn_id=bm_conn, to=numbers, message="Twice? Never.")
    with pytest.raises(AirflowException):
        op.execute(context(ti))
    assert [sms_simulator.bulletin.received_count(n) for n in numbers] == [0, 0, 1, 1]
    ti.try_number = 2
    result = op.execute(_retry_context(ti))
    assert [sms_simulator.bulletin.received_count(n) for n in numbers] == [1, 1, 1, 1]
    assert [(r["recipient"], r["code"]) for r in result["results"]] == [
        (numbers[2], "already_sent"), (numbers[3], "already_sent"), (numbers[0], None), (numbers[1], None)]


def test_utf16_text_selects_the_alphabet_only(bm_conn: str, sms_simulator: SimulatorServer) -> None:
    SmsSendOperator(task_id="s", sms_conn_id=bm_conn, to=NUMBERS[:1], message="Kia ora, Māori 😀").execute(context())
    SmsSendOperator(task_id="t", sms_conn_id=bm_conn, to=NUMBERS[1:2], message="Plain GSM").execute(context())
    first, second = sms_simulator.bulletin.received()
    assert first["body"] == "Kia ora, Māori 😀" and first["utf16"] is True
    assert second["utf16"] is False


def test_other_gateways_refuse_address_book_entries(sms_simulator: SimulatorServer,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import netmessenger_connection

    monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT", netmessenger_connection(sms_simulator))
    op = SmsSendOperator(task_id="s", sms_conn_id="netmessenger_default", to=["447700100001", "group:Staff"],
                         message="Hi", sender="Airflow")
    with pytest.raises(AirflowFailException, match=r"does not support address-book names.*group:Staff"):
        op.execute(context())
    assert sms_simulator.netmessenger.received() == []


def test_a_name_without_its_prefix_is_a_bad_number_not_a_name(bm_conn: str, sms_simulator: SimulatorServer) -> None:
    op = SmsSendOperator(task_id="s", sms_conn_id=bm_conn, to=["64211111111", "salesteam"], message="Hi")
    with pytest.raises(AirflowFailException, match=r"salesteam.*not a phone number"):
        op.execute(context())
    assert sms_simulator.bulletin.messages() == []


def test_group_send_operator(bm_conn: str, sms_simulator: SimulatorServer, address_book: None) -> None:
    result = SmsGroupSendOperator(task_id="g", sms_conn_id=bm_conn, group=["salesteam"], message="Hi team"
                                  ).execute(context())
    assert result["accepted_count"] == 1
    assert [sms_simulator.bulletin.received_count(n) for n in TEAM] == [1, 1]


def test_report_operator_streams_the_sent_list(bm_conn: str, sms_simulator: SimulatorServer, address_book: None,
                                               tmp_path: Path) -> None:
    SmsSendOperator(task_id="s", sms_conn_id=bm_conn, to=[*NUMBERS, BLOCKED], message="Report me",
                    allow_partial_failure=True).execute(context())
    target = tmp_path / "sent.csv"
    # The sent list is the account's recent messages: it takes no window.
    out = SmsReportOperator(task_id="r", sms_conn_id=bm_conn, report="sent", output_path=str(target),
                            allow_empty_window=True).execute(context())
    assert out["rows"] == 4
    with target.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["recipient"]: r["error"] for r in rows}[BLOCKED].endswith("(Number in Blocked List)")
    assert {r["body"] for r in rows} == {"Report me"}


def test_report_window_keeps_the_messages_it_covers(bm_conn: str, sms_simulator: SimulatorServer,
                                                   tmp_path: Path) -> None:
    # The sent list is the account's recent messages; a report for a window (a scheduled run's
    # "yesterday") lists only the messages dated in it.
    SmsSendOperator(task_id="a", sms_conn_id=bm_conn, to=NUMBERS[:1], message="Day one").execute(context())
    sms_simulator.clock.advance(86_400)
    day_two = dt.datetime.fromtimestamp(sms_simulator.clock.now(), dt.UTC)
    SmsSendOperator(task_id="b", sms_conn_id=bm_conn, to=NUMBERS[1:3], message="Day two").execute(context())
    sms_simulator.clock.advance(86_400)
    SmsSendOperator(task_id="c", sms_conn_id=bm_conn, to=NUMBERS[:1], message="Day three").execute(context())
    target = tmp_path / "day-two.csv"
    out = SmsReportOperator(task_id="r", sms_conn_id=bm_conn, report="sent", output_path=str(target),
                            start=day_two - dt.timedelta(minutes=1), end=day_two + dt.timedelta(hours=23)
                            ).execute(context())
    with target.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert out["rows"] == 2 and {(r["recipient"], r["body"]) for r in rows} == {(n, "Day two") for n in NUMBERS[1:3]}
    with pytest.raises(SmsValidationError, match="timezone-aware"):
        get_sms_hook(bm_conn).iter_report("sent", start=day_two.replace(tzinfo=None))


def test_retried_group_send_texts_the_group_once(bm_conn: str, sms_simulator: SimulatorServer,
                                                 address_book: None) -> None:
    sms_simulator.faults.drop_after_accept(count=1, only="/api/3/sms/out")
    ti = FakeTaskInstance()
    op = SmsGroupSendOperator(task_id="g", sms_conn_id=bm_conn, group=["group:salesteam", "nosuchgroup"],
                              message="Once only", allow_partial_failure=True)
    with pytest.raises(AirflowException, match="may or may not have been texted"):
        op.execute(context(ti))
    ti.try_number = 2
    result = op.execute(_retry_context(ti))
    assert [sms_simulator.bulletin.received_count(n) for n in TEAM] == [1, 1]
    assert len(sms_simulator.bulletin.messages()) == 1
    assert {r["recipient"]: r["code"] for r in result["results"]} == {"group:salesteam": "already_sent",
                                                                      "nosuchgroup": "rejected_earlier"}


def test_long_polls_get_a_longer_read_timeout(bm_conn: str) -> None:
    from airflow_provider_sms.hooks.base import get_sms_hook

    assert get_sms_hook(bm_conn).settings.timeout == 45.0


@pytest.mark.parametrize(("build", "shown"), [
    (lambda c: SmsSendOperator(task_id="s", sms_conn_id=c, to=["64211111111", "group:Sales\x00"], message="Hi"),
     r"group name holds control characters: U\+0000"),
    (lambda c: SmsSendOperator(task_id="s", sms_conn_id=c, to=["contact:Ann\x7f"], message="Hi"), r"U\+007F"),
    (lambda c: SmsGroupSendOperator(task_id="g", sms_conn_id=c, group="Sal\x85es", message="Hi"), r"U\+0085"),
    (lambda c: SmsGroupSendOperator(task_id="g", sms_conn_id=c, group=["Sales", "Sales\tTeam"], message="Hi"),
     r"U\+0009"),
    (lambda c: SmsSendOperator(task_id="s", sms_conn_id=c, to=["64211111111"], message="Hi", client_ref="run\x00"),
     r"client_ref .*U\+0000"),
])
def test_names_with_control_characters_are_refused_before_sending(
        build: object, shown: str, bm_conn: str, sms_simulator: SimulatorServer) -> None:
    # A NUL in a group name went out and came back unreadable: the task was retried as "in doubt".
    with pytest.raises(AirflowFailException, match=shown) as exc:
        build(bm_conn).execute(context(FakeTaskInstance()))  # type: ignore[operator]
    assert type(exc.value.__cause__).__name__ == "SmsValidationError"
    assert sms_simulator.bulletin.requests == [] and sms_simulator.bulletin.messages() == []


def test_an_in_order_e164_list_with_an_opted_out_number_and_a_group(bm_conn: str, sms_simulator: SimulatorServer,
                                                                     address_book: None,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The numbers, in E.164 and in order, are read in place (E164Digits); the opted-out one is
    skipped and the group goes with the rest, as for the same numbers in any other order."""
    from airflow_provider_sms.operators import send
    from airflow_provider_sms.receipts.suppression import SuppressionList

    forms = []
    drop_opted_out = send.SmsSendOperator._drop_opted_out
    monkeypatch.setattr(send.SmsSendOperator, "_drop_opted_out",
                        lambda op, hook, numbers, ctx, journal: forms.append(numbers)
                        or drop_opted_out(op, hook, numbers, ctx, journal))

    SuppressionList.open().add(NUMBERS[1], source="reply", word="STOP")
    written = [f"+{n}" for n in NUMBERS]
    results = []
    for to in ([*written, "group:salesteam"], ["group:salesteam", *written[::-1]]):
        sms_simulator.reset()
        address_book_again(sms_simulator)
        result = SmsSendOperator(task_id="s", sms_conn_id=bm_conn, to=to, message="Hi", sender="Airflow").execute(
            context(FakeTaskInstance(run_id=f"manual__{len(results)}")))
        counts = [sms_simulator.bulletin.received_count(n) for n in [*NUMBERS, *TEAM]]
        assert counts == [1, 0, 1, 1, 1]
        results.append(sorted((r["recipient"], r["status"]) for r in result["results"]))
    assert results[0] == results[1]
    assert ("64211111112", "suppressed") in results[0] and ("group:salesteam", "pending") in results[0]
    assert [type(f).__name__ for f in forms] == ["E164Digits", "CanonicalList"]


def address_book_again(server: SimulatorServer) -> None:
    server.bulletin.add_contact("Ann", TEAM[0])
    server.bulletin.add_contact("Bob", TEAM[1])
    server.bulletin.add_group("salesteam", ["Ann", "Bob"])
