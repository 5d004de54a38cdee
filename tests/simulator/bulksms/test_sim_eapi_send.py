"""EAPI send_sms / quote_sms / get_credits: every documented answer code."""

from __future__ import annotations

import calendar
import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_sms.simulator import BulkSmsAccount, SimulatorConfig
from airflow_provider_sms.simulator.server import SimulatorServer
from tests.simulator.sim_helpers import GET_CREDITS, QUOTE_SMS, SEND_SMS, EapiClient

NUMBER = "447700900001"
OTHER = "447700900002"


def test_success_answers_in_progress_with_increasing_batch_ids(eapi: EapiClient) -> None:
    first = eapi.send(msisdn=NUMBER)
    second = eapi.send(msisdn=OTHER)
    assert first.startswith("0|IN_PROGRESS|")
    assert int(second.split("|")[2]) > int(first.split("|")[2]) > 0


def test_answer_is_plain_text(eapi: EapiClient) -> None:
    answer = eapi.post(SEND_SMS, message="Hi", msisdn=NUMBER)
    assert answer.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    ("username", "password"),
    [("demo", "wrong-password"), ("nobody", "demo-secret-pass"), ("", "")],
)
def test_bad_credentials_answer_23_without_echoing_the_password(
    eapi: EapiClient, sms_simulator: SimulatorServer, username: str, password: str
) -> None:
    answer = eapi.call(SEND_SMS, auth=False, username=username, password=password, message="x", msisdn=NUMBER)
    assert answer == "23|invalid credentials|"
    if password:
        assert password not in answer
    assert sms_simulator.bulksms.received() == []


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"message": "", "msisdn": NUMBER}, "no message"),
        ({"message": "hi"}, "msisdn or dest_group_id"),
        ({"message": "hi", "msisdn": "12345"}, "invalid msisdn"),
        ({"message": "hi", "msisdn": "1234567890123456"}, "invalid msisdn"),
        ({"message": "hi", "msisdn": "44770090000a"}, "invalid msisdn"),
        ({"message": "hi", "msisdn": f"{NUMBER},{NUMBER}"}, "duplicate"),
        ({"message": "hi", "msisdn": NUMBER, "sender": "TwelveChars!"}, "sender"),
        ({"message": "hi", "msisdn": NUMBER, "sender": "Shop", "repliable": "1"}, "repliable"),
        ({"message": "x" * 161, "msisdn": NUMBER}, "160"),
        ({"message": "x" * 307, "msisdn": NUMBER, "allow_concat_text_sms": 1}, "parts"),
        (
            {"message": "x" * 460, "msisdn": NUMBER, "allow_concat_text_sms": 1, "concat_text_sms_max_parts": 3},
            "parts",
        ),
        ({"message": "x", "msisdn": NUMBER, "concat_text_sms_max_parts": 128}, "out of range"),
        ({"message": "{}" * 81, "msisdn": NUMBER}, "160"),  # extension characters count twice
        ({"message": "zz", "msisdn": NUMBER, "dca": "8bit"}, "hex"),
        ({"message": "0041004", "msisdn": NUMBER, "dca": "16bit"}, "hex"),
        ({"message": "00" * 141, "msisdn": NUMBER, "dca": "8bit"}, "140 octets"),
        ({"message": "hi", "msisdn": NUMBER, "dca": "9bit"}, "dca"),
        ({"message": "hi", "dest_group_id": "99"}, "dest_group_id"),
        ({"message": "hi", "msisdn": NUMBER, "send_time": "tomorrow"}, "send_time"),
        ({"message": "hi", "msisdn": NUMBER, "stop_dup_id": "0"}, "stop_dup_id"),
        ({"message": "hi", "msisdn": NUMBER, "stop_dup_id": "2147483648"}, "stop_dup_id"),
        ({"message": "hi", "msisdn": NUMBER, "source_id": "x" * 21}, "source_id"),
        ({"message": "hi", "msisdn": NUMBER, "want_report": "2"}, "want_report"),
    ],
)
def test_validation_failures_answer_24(
    eapi: EapiClient, sms_simulator: SimulatorServer, params: dict[str, str], reason: str
) -> None:
    answer = eapi.send(**params)
    code, description, batch = answer.split("|")
    assert (code, batch) == ("24", "")
    assert reason in description
    assert sms_simulator.bulksms.received() == []
    assert sms_simulator.bulksms.credits("demo") == 1000.0


def test_send_time_more_than_two_years_ahead_is_24(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    too_late = int(sms_simulator.clock.now()) + 3 * 365 * 86400
    assert eapi.send(msisdn=NUMBER, send_time_unixtime=too_late).startswith("24|")


def test_concatenated_message_costs_one_credit_per_part(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    eapi.send_ok(message="y" * 300, msisdn=f"{NUMBER},{OTHER}", allow_concat_text_sms=1)
    assert sms_simulator.bulksms.credits("demo") == 1000.0 - 2 * 2
    assert {r["parts"] for r in sms_simulator.bulksms.received()} == {2}


def test_strip_dup_recipients_drops_duplicates(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    eapi.send_ok(msisdn=f"{NUMBER},+{NUMBER},{OTHER}", strip_dup_recipients=1)
    assert sms_simulator.bulksms.received_count(NUMBER) == 1
    assert sms_simulator.bulksms.received_count(OTHER) == 1


def test_message_is_decoded_as_iso_8859_1(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    eapi.send_ok(message="Café £5 ¿?", msisdn=NUMBER)
    assert sms_simulator.bulksms.received(NUMBER)[0]["message"] == "Café £5 ¿?"


def test_16bit_message_is_decoded_from_utf16_hex(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    text = "Привет 👋"
    eapi.send_ok(message=text.encode("utf-16-be").hex(), dca="16bit", msisdn=NUMBER)
    got = sms_simulator.bulksms.received(NUMBER)[0]
    assert (got["message"], got["encoding"]) == (text, "16bit")


def test_8bit_message_is_kept_as_hex(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    eapi.send_ok(message="0a0b0c", dca="8bit", msisdn=NUMBER)
    assert sms_simulator.bulksms.received(NUMBER)[0]["message"] == "0A0B0C"


def test_sender_and_source_id_are_recorded(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    eapi.send_ok(msisdn=NUMBER, sender="MyShop", source_id="run-42", repliable=0)
    got = sms_simulator.bulksms.received(NUMBER)[0]
    assert (got["sender"], got["source_id"], got["api"]) == ("MyShop", "run-42", "eapi")


def test_max_batch_size_answers_201(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(max_batch_size=3))
    numbers = ",".join(f"4477009000{i:02d}" for i in range(4))
    assert eapi.send(msisdn=numbers) == "201|Maximum batch size exceeded|"


def test_insufficient_credits_answer_25_and_record_nothing(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(bulksms_accounts=[BulkSmsAccount(credits=1.0)]))
    assert eapi.send(msisdn=f"{NUMBER},{OTHER}").startswith("25|")
    assert sms_simulator.bulksms.received() == []
    assert sms_simulator.bulksms.credits("demo") == 1.0


def test_daily_quota_answers_27(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(bulksms_accounts=[BulkSmsAccount(daily_quota=2)]))
    eapi.send_ok(msisdn=f"{NUMBER},{OTHER}")
    assert eapi.send(msisdn="447700900003").startswith("27|")
    sms_simulator.clock.advance(86400)  # a new (virtual) day
    eapi.send_ok(msisdn="447700900003")


def test_credits_decrease_and_get_credits_has_two_decimals(eapi: EapiClient) -> None:
    assert eapi.call(GET_CREDITS) == "0|1000.00"
    eapi.send_ok(msisdn=f"{NUMBER},{OTHER}")
    assert eapi.call(GET_CREDITS) == "0|998.00"
    assert eapi.call(GET_CREDITS, auth=False, username="demo", password="nope") == "23|invalid credentials|"


def test_quote_sms_prices_without_sending(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    answer = eapi.call(QUOTE_SMS, message="z" * 200, msisdn=f"{NUMBER},{OTHER}", allow_concat_text_sms=1)
    assert answer == "0|Quotation issued|4.0"
    assert eapi.call(QUOTE_SMS, message="", msisdn=NUMBER).startswith("24|")
    assert sms_simulator.bulksms.received() == []
    assert sms_simulator.bulksms.credits("demo") == 1000.0


def test_stop_dup_id_returns_the_original_answer_and_sends_nothing(
    eapi: EapiClient, sms_simulator: SimulatorServer
) -> None:
    original = eapi.send(msisdn=NUMBER, stop_dup_id=77)
    assert eapi.send(msisdn=NUMBER, stop_dup_id=77) == original
    # Even with another text: the id alone decides.
    assert eapi.send(msisdn=OTHER, message="other", stop_dup_id=77) == original
    assert sms_simulator.bulksms.received_count(NUMBER) == 1
    assert sms_simulator.bulksms.received_count(OTHER) == 0
    assert sms_simulator.bulksms.credits("demo") == 999.0


def test_stop_dup_id_expires_after_the_window(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    original = eapi.send(msisdn=NUMBER, stop_dup_id=5)
    sms_simulator.clock.advance(4 * 3600 + 1)
    assert eapi.send(msisdn=NUMBER, stop_dup_id=5) != original
    assert sms_simulator.bulksms.received_count(NUMBER) == 2


def test_stop_dup_id_does_not_cache_failures(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(bulksms_accounts=[BulkSmsAccount(credits=0.0)]))
    assert eapi.send(msisdn=NUMBER, stop_dup_id=9).startswith("25|")
    sms_simulator.reset(SimulatorConfig(bulksms_accounts=[BulkSmsAccount(credits=5.0)]))
    assert eapi.send(msisdn=NUMBER, stop_dup_id=9).startswith("0|IN_PROGRESS|")
    assert eapi.send(msisdn="", stop_dup_id=10).startswith("24|")
    assert eapi.send(msisdn=NUMBER, stop_dup_id=10).startswith("0|")


def test_stop_dup_id_is_per_account(sms_simulator: SimulatorServer, eapi: EapiClient) -> None:
    sms_simulator.reset(
        SimulatorConfig(bulksms_accounts=[BulkSmsAccount(), BulkSmsAccount(username="other", password="pw")])
    )
    first = eapi.send(msisdn=NUMBER, stop_dup_id=1)
    second = eapi.call(SEND_SMS, auth=False, username="other", password="pw", message="x", msisdn=NUMBER, stop_dup_id=1)
    assert first != second
    assert sms_simulator.bulksms.received_count(NUMBER) == 2


def test_test_always_succeed_sends_and_charges_nothing(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    assert eapi.send(msisdn=NUMBER, test_always_succeed=1).startswith("0|IN_PROGRESS|")
    assert eapi.send(msisdn="123", test_always_succeed=1).startswith("24|")  # still validated
    assert sms_simulator.bulksms.received() == []
    assert sms_simulator.bulksms.credits("demo") == 1000.0


def test_test_always_fail_answers_22_after_validation(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    assert eapi.send(msisdn=NUMBER, test_always_fail=1) == "22|Test failure requested|"
    assert eapi.send(msisdn="123", test_always_fail=1).startswith("24|")
    assert sms_simulator.bulksms.received() == []


def test_groups_are_resolved_at_submission(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.bulksms.add_group(7, "staff", [NUMBER, OTHER])
    eapi.send_ok(dest_group_id="7", msisdn=NUMBER)  # overlap with the group is not a duplicate error
    sms_simulator.bulksms.add_group(7, "staff", ["447700900099"])
    assert sms_simulator.bulksms.received_count(NUMBER) == 1
    assert sms_simulator.bulksms.received_count(OTHER) == 1
    assert sms_simulator.bulksms.received_count("447700900099") == 0


def test_future_send_time_is_scheduled_in_the_account_time_zone(
    eapi: EapiClient, sms_simulator: SimulatorServer
) -> None:
    sms_simulator.reset(SimulatorConfig(bulksms_accounts=[BulkSmsAccount(time_zone="Pacific/Auckland")]))
    send_at = sms_simulator.clock.now() + 3600
    local = dt.datetime.fromtimestamp(send_at, ZoneInfo("Pacific/Auckland"))
    answer = eapi.send(msisdn=NUMBER, send_time=local.strftime("%Y-%m-%d %H:%M:%S"))
    assert answer.startswith("1|SCHEDULED|")
    assert sms_simulator.bulksms.received_count(NUMBER) == 0
    assert sms_simulator.bulksms.credits("demo") == 999.0  # charged at once, per the docs
    sms_simulator.clock.advance(3601)
    assert sms_simulator.bulksms.received_count(NUMBER) == 1


def test_past_send_time_sends_now(eapi: EapiClient, sms_simulator: SimulatorServer) -> None:
    past = calendar.timegm(time.gmtime(sms_simulator.clock.now() - 600))
    assert eapi.send(msisdn=NUMBER, send_time_unixtime=past).startswith("0|IN_PROGRESS|")
    assert sms_simulator.bulksms.received_count(NUMBER) == 1


def test_get_is_accepted_but_recorded(sms_simulator: SimulatorServer, eapi: EapiClient) -> None:
    params = {"username": "demo", "password": "demo-secret-pass", "message": "hi", "msisdn": NUMBER}
    answer = eapi.session.get(sms_simulator.url + SEND_SMS, params=params, timeout=10)
    assert answer.text.startswith("0|IN_PROGRESS|")
    eapi.send_ok(msisdn=OTHER)
    assert sms_simulator.bulksms.requests == [("GET", SEND_SMS), ("POST", SEND_SMS)]
