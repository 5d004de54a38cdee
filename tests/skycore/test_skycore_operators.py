"""The generic operators with Skycore, end to end against the simulator; handsets are counted."""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import re
from pathlib import Path

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_sms.operators.accounts import SmsCreateSubAccountOperator
from airflow_provider_sms.operators.contacts import SmsContactImportOperator
from airflow_provider_sms.operators.mms import MmsSendOperator
from airflow_provider_sms.operators.reports import SmsReportOperator
from airflow_provider_sms.operators.send import SmsGroupSendOperator, SmsSendOperator
from airflow_provider_sms.simulator import SimulatorConfig, SimulatorServer, SkycoreAccount
from tests.conftest import SKY_KEY, bulksms_connection, skycore_connection
from tests.operators.helpers import FakeTaskInstance, context

A, B, C = "447700100001", "447700100002", "447700100003"
NUMBERS = [A, B, C]
SLIDES = [
    {"image": "https://example.com/flowers.jpg", "text": "Spring is here"},
    {"text": "20% off <everything> & more 🌷", "duration": 8},
    {"image": "https://example.com/map.png", "text": "Find us"},
]


def _counts(server: SimulatorServer, kind: str | None = None) -> list[int]:
    return [server.skycore.received_count(n, kind) for n in NUMBERS]


def test_send_to_many_one_request_each(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    ti = FakeTaskInstance()
    result = SmsSendOperator(task_id="s", sms_conn_id=sky_conn, to=[f"+{n}" for n in NUMBERS], message="Hi",
                             ).execute(context(ti))
    assert result["accepted_count"] == 3 and _counts(sms_simulator) == [1, 1, 1]
    assert sms_simulator.skycore.requests == ["sendSMS"] * 3
    assert {r["recipient"]: r["message_id"] for r in result["results"]} == {
        m["number"]: m["tracking_id"] for m in sms_simulator.skycore.received()}
    assert SKY_KEY not in json.dumps(result)


def test_invalid_number_rejects_that_recipient_and_the_others_still_go(sky_conn: str,
                                                                       sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(skycore_accounts=[SkycoreAccount(blacklist=(B,))]))
    ti = FakeTaskInstance()
    with pytest.raises(AirflowFailException, match="1 of 3 recipients were rejected"):
        SmsSendOperator(task_id="s", sms_conn_id=sky_conn, to=NUMBERS, message="Hi").execute(context(ti))
    assert _counts(sms_simulator) == [1, 0, 1]
    assert ti.xcom["send_result"]["rejected_count"] == 1
    result = SmsSendOperator(task_id="s", sms_conn_id=sky_conn, to=NUMBERS, message="Hi",
                             allow_partial_failure=True).execute(context(FakeTaskInstance(run_id="r2")))
    assert [(r["recipient"], r["code"]) for r in result["results"] if not r["accepted"]] == [(B, "E114")]


def test_ip_allow_list_fails_the_task_after_one_request(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(skycore_accounts=[SkycoreAccount(allowed_ips=("192.0.2.7",))]))
    with pytest.raises(AirflowFailException, match="allow-list"):
        SmsSendOperator(task_id="s", sms_conn_id=sky_conn, to=NUMBERS, message="Hi").execute(context())
    assert sms_simulator.skycore.requests == ["sendSMS"]


def test_lost_answer_names_who_is_in_doubt_and_nobody_is_texted_twice(sky_conn: str,
                                                                       sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.drop_after_accept(count=1)
    with pytest.raises(AirflowFailException, match=f"may or may not.*{A}"):
        SmsSendOperator(task_id="s", sms_conn_id=sky_conn, to=NUMBERS, message="Hi").execute(context())
    assert _counts(sms_simulator) == [1, 1, 1]


def test_a_retried_task_refuses_to_send_again(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    # Without the send journal's records, Skycore cannot tell what an earlier try sent.
    with pytest.raises(AirflowFailException, match="cannot tell what an earlier try already sent"):
        SmsSendOperator(task_id="s", sms_conn_id=sky_conn, to=NUMBERS, message="Hi", journal_conn_id=None).execute(
            context(FakeTaskInstance(try_number=2)))
    with pytest.raises(AirflowFailException, match="not sending this MMS again"):
        MmsSendOperator(task_id="m", sms_conn_id=sky_conn, to=[A], mms_id="1").execute(
            context(FakeTaskInstance(try_number=2)))
    assert sms_simulator.skycore.received() == [] and sms_simulator.skycore.requests == []


def test_a_retried_task_with_the_journal_texts_nobody_twice(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    op = SmsSendOperator(task_id="s", sms_conn_id=sky_conn, to=NUMBERS, message="Hi")
    first = op.execute(context(FakeTaskInstance(try_number=1)))
    again = op.execute(context(FakeTaskInstance(try_number=2)))  # answered chunks come from the journal
    assert first["accepted_count"] == again["accepted_count"] == len(NUMBERS)
    assert _counts(sms_simulator) == [1, 1, 1]


def test_group_send_by_subscriber_reference(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    for number in (A, B):
        sms_simulator.skycore.add_subscriber("1116", number, ref="vip")
    sms_simulator.skycore.add_subscriber("1116", C, ref="other")
    result = SmsGroupSendOperator(task_id="g", sms_conn_id=sky_conn, group="vip", message="VIP sale",
                                  extras={"campaign_ref": "1116"}).execute(context())
    assert sorted(r["recipient"] for r in result["results"]) == [A, B]
    assert all(r["message_id"] for r in result["results"])
    assert _counts(sms_simulator) == [1, 1, 0]


IN_DOUBT_VIP = r"may or may not have been texted.*: vip; they cannot be settled"


def test_group_send_in_doubt_is_named_and_a_cleared_task_texts_nobody_twice(sky_conn: str,
                                                                            sms_simulator: SimulatorServer) -> None:
    """Group sends get the journal's protection too (issue 6): the lost answer cannot be looked up."""
    for number in (A, B):
        sms_simulator.skycore.add_subscriber("1116", number, ref="vip")
    sms_simulator.faults.drop_after_accept(count=1)
    ti = FakeTaskInstance()
    op = SmsGroupSendOperator(task_id="g", sms_conn_id=sky_conn, group="vip", message="VIP sale",
                              extras={"campaign_ref": "1116"})
    with pytest.raises(AirflowFailException, match=IN_DOUBT_VIP):
        op.execute(context(ti))
    assert ti.xcom["send_result"]["in_doubt"] == ["vip"]
    ti.try_number = 2  # cleared: the journal has the group in doubt, and nothing can settle it
    with pytest.raises(AirflowFailException, match=IN_DOUBT_VIP):
        op.execute(context(ti))
    assert _counts(sms_simulator) == [1, 1, 0]
    assert sms_simulator.skycore.requests.count("sendMessageBySubscriberRef") == 1


def test_mms_with_three_slides_saved_and_sent_to_a_campaign(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    for number in NUMBERS:
        sms_simulator.skycore.add_subscriber("1116", number)
    result = MmsSendOperator(task_id="mms", sms_conn_id=sky_conn, campaign="1116", slides=SLIDES,
                             subject="Spring", fallback_text="Our spring sale: https://example.com").execute(context())
    [saved] = sms_simulator.skycore.saved_mms()
    assert result["mms_id"] == saved["mms_id"] and len(saved["slides"]) == 3
    assert saved["fallback_text"] == "Our spring sale: https://example.com"
    assert _counts(sms_simulator, "mms") == [1, 1, 1]
    for got in sms_simulator.skycore.mms_received():
        assert [s.get("text") for s in got["slides"]] == [s["text"] for s in SLIDES]
        assert got["subject"] == "Spring" and got["mms_id"] == saved["mms_id"]
    assert result["batch_ids"]  # the campaign send's scheduled id
    assert sms_simulator.skycore.requests == ["saveMMS", "sendSavedMMSCampaign"]


def test_mms_to_numbers_returns_tracking_ids(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    result = MmsSendOperator(task_id="mms", sms_conn_id=sky_conn, to=NUMBERS, slides=SLIDES[:1], subject="Hi",
                             custom_texts={"1": "Personal"}, merge_data={"FIRST_NAME": "Ann"}).execute(context())
    tracking = {m["number"]: m["tracking_id"] for m in sms_simulator.skycore.mms_received()}
    assert {r["recipient"]: r["message_id"] for r in result["results"]} == tracking
    assert all(m["slides"][0]["text"] == "Personal" for m in sms_simulator.skycore.mms_received())


def test_mms_checks_everything_before_sending(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    with pytest.raises(AirflowFailException, match="at most 8 slides"):
        MmsSendOperator(task_id="m", sms_conn_id=sky_conn, to=NUMBERS, slides=[{"text": "x"}] * 9,
                        subject="s").execute(context())
    with pytest.raises(AirflowFailException, match="to"):
        MmsSendOperator(task_id="m", sms_conn_id=sky_conn, to=[A, "12"], mms_id="5").execute(context())
    assert sms_simulator.skycore.requests == []


def test_mms_on_a_gateway_without_mms_fails_clearly(sms_simulator: SimulatorServer,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT", bulksms_connection(sms_simulator))
    with pytest.raises(AirflowFailException, match="'bulksms' does not support MMS"):
        MmsSendOperator(task_id="m", sms_conn_id="bulksms_default", to=[A], slides=SLIDES,
                        subject="s").execute(context())


def test_contact_import_subscribes_rows_to_a_campaign(sky_conn: str, sms_simulator: SimulatorServer,
                                                      tmp_path: Path) -> None:
    rows = [{"name": "Ann Lee", "number": "+447700100001"}, {"name": "Bob", "number": "not a number"},
            {"name": "Cy Dee", "number": "07700 100003", "email": "cy@example.com"}]
    rejects = tmp_path / "rejects.csv"
    result = SmsContactImportOperator(task_id="i", sms_conn_id=sky_conn, source=rows, group="1116",
                                      rejects_path=str(rejects)).execute(context())
    assert (result["rows"], result["invalid"], result["success"]) == (3, 1, 2)
    subscribers = {s["number"]: s["data"] for s in sms_simulator.skycore.subscribers("1116")}
    assert subscribers == {A: {"FIRST_NAME": "Ann", "LAST_NAME": "Lee"},
                           C: {"FIRST_NAME": "Cy", "LAST_NAME": "Dee", "EMAIL": "cy@example.com"}}
    with rejects.open(newline="") as handle:
        assert [r["name"] for r in csv.DictReader(handle)] == ["Bob"]
    again = SmsContactImportOperator(task_id="i", sms_conn_id=sky_conn, source=rows, group="9999",
                                     rejects_path=str(rejects)).execute(context())
    assert again["failed"] == 2  # unknown campaign: each row refused, reported per row
    assert sms_simulator.skycore.received() == []  # subscribing texts nobody (NOTIFY=no)


def test_statistics_report_to_csv(sky_conn: str, sms_simulator: SimulatorServer, tmp_path: Path) -> None:
    SmsSendOperator(task_id="s", sms_conn_id=sky_conn, to=NUMBERS, message="Report me").execute(context())
    sms_simulator.clock.advance(10)
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=sms_simulator.clock.offset)
    out = tmp_path / "stats.csv"
    result = SmsReportOperator(task_id="r", sms_conn_id=sky_conn, report="sending_statistics", output_path=str(out),
                               start=now - dt.timedelta(hours=1), end=now + dt.timedelta(hours=1)).execute(context())
    assert result["rows"] == 3
    with out.open(newline="") as handle:
        table = list(csv.DictReader(handle))
    assert {(r["to"], r["status"]) for r in table} == {(n, "DLR") for n in NUMBERS}


def test_create_sub_account_returns_no_key(sky_conn: str, sms_simulator: SimulatorServer,
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    result = SmsCreateSubAccountOperator(task_id="u", sms_conn_id=sky_conn, username="child",
                                         password="child-Pass-4711").execute(context())
    assert result == {"username": "child", "created": True}
    assert sms_simulator.skycore.users() == ["child"]
    assert "child-Pass-4711" not in caplog.text and SKY_KEY not in caplog.text


def test_mms_failure_says_how_many_were_sent(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    """Issue 14: "10000 of 10000 recipients were rejected (the others were sent)" when none were sent."""
    sms_simulator.reset(SimulatorConfig(skycore_accounts=[SkycoreAccount(blacklist=tuple(NUMBERS))]))
    with pytest.raises(AirflowFailException) as nobody:
        MmsSendOperator(task_id="m", sms_conn_id=sky_conn, to=NUMBERS, slides=SLIDES[:1], subject="S").execute(
            context())
    assert str(nobody.value).startswith(f"all 3 recipients were rejected, nothing was sent: {A} (")
    assert "others" not in str(nobody.value)
    sms_simulator.reset(SimulatorConfig(skycore_accounts=[SkycoreAccount(blacklist=(B,))]))
    with pytest.raises(AirflowFailException, match=r"^1 of 3 recipients were rejected \(2 were sent\)"):
        MmsSendOperator(task_id="m", sms_conn_id=sky_conn, to=NUMBERS, slides=SLIDES[:1], subject="S").execute(
            context())
    assert _counts(sms_simulator, "mms") == [1, 0, 1]


def _mms(**kwargs: object) -> MmsSendOperator:
    args: dict[str, object] = {"task_id": "m", "sms_conn_id": "skycore_default", "to": [A], "slides": SLIDES[:1],
                               "subject": "Spring", "fallback_text": "See our spring offer"}
    return MmsSendOperator(**{**args, **kwargs})  # type: ignore[arg-type]


SAVED = {"slides": None, "mms_id": "35674"}


@pytest.mark.parametrize(("kwargs", "named"), [
    ({"to": {A: "Ann"}}, "to: must be a string, a whole number, or a list/tuple of them, got a dict"),
    ({"to": ["1OOOO1"]}, "to[0] '1OOOO1': not a phone number"),
    ({"slides": [{"image": "https://example.com/a.png", "text": "Spring\x7f"}]}, "slides.text[0]: holds a control"),
    ({"slides": [{"text": "Spring\x85sale"}]}, "U+0085"),
    ({"fallback_text": "See\x7f"}, "fallback_text: holds a control"),
    ({"subject": "Spring\x85"}, "subject: holds a control"),
    ({"subject": 42}, "subject '42': must be text, got a int"),
    ({"sender": 60856}, "sender '60856': must be text"),
    ({"allow_partial_failure": "no"}, "allow_partial_failure 'no': must be True or False"),
    ({"honour_opt_outs": "no"}, "honour_opt_outs 'no': must be True or False"),
    ({"slides": "[{'image': 'https://example.com/a.png'"}, "slides"),
    ({**SAVED, "custom_texts": {"first": "Hi"}}, "custom_texts 'first': keys must be slide numbers"),
    ({**SAVED, "custom_texts": {1: "Hi\x7f"}}, "custom_texts: holds a control"),
    ({**SAVED, "custom_texts": "Hi"}, "custom_texts: must be a mapping"),
    ({**SAVED, "merge_data": {"NAME": ["Ann"]}}, "merge_data.NAME: must be text or a number, got a list"),
    ({**SAVED, "merge_data": {"NAME": "Ann\x00"}}, "merge_data.NAME: holds a control"),
    ({"slides": None, "mms_id": ["35674"]}, "must be an id (text or a whole number), got a list"),
    ({"to": None, "campaign": ["1116", "1117"]}, "campaign \"['1116', '1117']\": must be an id"),
    ({"to": None, "group": ["r1"], "campaign_ref": {"id": 1}}, "got a dict"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 30 else None)
def test_bad_mms_input_is_a_typed_error_and_nothing_reaches_the_gateway(
        kwargs: dict[str, object], named: str, sky_conn: str, sms_simulator: SimulatorServer) -> None:
    with pytest.raises(AirflowFailException) as exc:  # not retried by Airflow
        _mms(**kwargs).execute(context(FakeTaskInstance()))
    assert named in str(exc.value)
    assert type(exc.value.__cause__).__name__ == "SmsValidationError"
    assert sms_simulator.skycore.requests == [] and sms_simulator.skycore.saved_mms() == []


def test_rendered_mms_mappings_are_read(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    # Templated fields render to text: slides and merge data written as JSON still work.
    _mms(slides=json.dumps(SLIDES[:1]), merge_data='{"NAME": "Ann"}').execute(context(FakeTaskInstance()))
    assert sms_simulator.skycore.requests == ["saveMMS", "sendSavedMMS"]


@pytest.mark.parametrize("wait", ["long", -1, float("nan"), True])
def test_a_bad_mms_encoding_wait_is_a_configuration_error_before_anything_is_saved(
        wait: object, sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SKYCORE_DEFAULT", skycore_connection(sms_simulator, mms_encoding_wait=wait))
    with pytest.raises(AirflowFailException, match="extra 'mms_encoding_wait' must be a number") as exc:
        _mms().execute(context(FakeTaskInstance()))
    assert type(exc.value.__cause__).__name__ == "SmsConfigurationError"
    assert sms_simulator.skycore.requests == []


@pytest.mark.parametrize(("extra", "named"), [
    ({"operator_id": {"id": 1}}, "extra 'operator_id' must be text (one line) or a whole number"),
    ({"campaign_ref": ["1116"]}, "extra 'campaign_ref'"),
    ({"sender_mask": "Shop\nNow"}, "extra 'sender_mask'"),
    ({"short_code": True}, "extra 'short_code'"),
])
def test_bad_text_extras_are_configuration_errors_before_sending(
        extra: dict[str, object], named: str, sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SKYCORE_DEFAULT", skycore_connection(sms_simulator, **extra))
    with pytest.raises(AirflowFailException, match=re.escape(named)) as exc:
        SmsSendOperator(task_id="s", sms_conn_id="skycore_default", to=[A], message="Hi",
                        sender="60856").execute(context(FakeTaskInstance()))
    assert type(exc.value.__cause__).__name__ == "SmsConfigurationError"
    assert sms_simulator.skycore.requests == []
