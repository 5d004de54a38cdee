"""NetMessenger: token, actions, ``Send`` to numbers, statuses over virtual time, scheduling and cancelling."""

from __future__ import annotations

import pytest

from airflow_provider_sms.simulator import SimulatorConfig
from airflow_provider_sms.simulator.config import NetMessengerAccount
from airflow_provider_sms.simulator.server import SimulatorServer
from tests.simulator.netmessenger.test_sim_netmessenger_units import NmClient, stamp

NUMBER = "447700900001"
OTHER = "447700900002"


@pytest.fixture
def nm(sms_simulator: SimulatorServer) -> NmClient:
    return NmClient(sms_simulator)


def test_check_credits(nm: NmClient) -> None:
    assert nm.call("CheckCredits") == "1000"


def test_wrong_token_is_501_and_unknown_action_502(nm: NmClient) -> None:
    assert nm.post("CheckCredits", token="nope").text == "-501"
    assert nm.post("CheckCredits", token="").text == "-501"
    assert nm.post("CheckCredits", token="nope", ShowErrorMessage="").text == "-501\nUnknown Username/Password"
    assert nm.call("Dance") == "-502"
    assert nm.call("", ShowErrorMessage="1") == "-502\nUnknown Action"


def test_actions_are_case_insensitive(nm: NmClient) -> None:
    assert nm.call("checkcredits") == nm.call("CHECKCREDITS") == "1000"


def test_show_error_message_with_any_value_adds_the_text(nm: NmClient) -> None:
    assert nm.send("12") == "-401"
    assert nm.send("12", ShowErrorMessage="0") == "-401\nInvalid Destination Address"


def test_send_answers_one_item_per_destination_in_order(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.netmessenger.blacklist("447700900009")
    answer = nm.send(f"{NUMBER},mynumber,{OTHER},447700900009,", Body="Hi there")
    first, bad, second, blocked, blank = answer.split(",")
    assert (bad, blocked, blank) == ("-401", "-412", "-401")
    assert int(second) == int(first) + 1
    assert nm.call("CheckCredits") == "998"
    received = sms_simulator.netmessenger.received()
    assert [(r["number"], r["message_id"], r["body"], r["source"]) for r in received] == [
        (NUMBER, int(first), "Hi there", "Shop"),
        (OTHER, int(second), "Hi there", "Shop"),
    ]
    with_texts = nm.send(f"{NUMBER},x,447700900009,y", ShowErrorMessage="1").split("\n")
    assert with_texts[1:] == ["Invalid Destination Address", "Number is blacklisted"]


def test_blacklist_from_the_account_configuration(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(netmessenger_accounts=[NetMessengerAccount(blacklist=("+44 7700 900001",))]))
    assert nm.send(NUMBER) == "-412"
    assert nm.call("CheckCredits") == "1000"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"DestinationAddress": ""}, "-401"),
        ({"SourceAddress": ""}, "-518"),
        ({"SourceAddress": "TwelveCharss"}, "-402"),
        ({"SourceAddress": "4477009000011234"}, "-403"),
        ({"SourceAddress": "Shop", "SourceTON": "1"}, "-403"),
        ({"SourceAddress": "07911123456", "SourceTON": "1"}, "-403"),  # national form is no international number
        ({"Body": "   "}, "-404"),
        ({"Body": "x" * 460}, "-507"),
        ({"ValidityPeriod": "86401"}, "-405"),
        ({"ValidityPeriod": "0"}, "-405"),
        ({"ValidityPeriod": "a day"}, "-405"),
        ({"ValidityPeriod": ""}, "-405"),
        ({"ScheduleDate": "2024-01-01 10:00"}, "-407"),
        ({"ScheduleDate": "20241340000000"}, "-407"),
    ],
)
def test_send_errors(nm: NmClient, sms_simulator: SimulatorServer, fields: dict[str, str], code: str) -> None:
    base = {"DestinationAddress": NUMBER, "SourceAddress": "Shop", "Body": "Hello", "ValidityPeriod": "86400"}
    assert nm.call("Send", **{**base, **fields}) == code
    assert sms_simulator.netmessenger.received() == []
    assert sms_simulator.netmessenger.credits() == 1000


def test_missing_body_field_is_blank(nm: NmClient) -> None:
    assert nm.call("Send", DestinationAddress=NUMBER, SourceAddress="Shop", ShowErrorMessage="1") == "-404\nBlank Body"


def test_every_parameter_the_page_does_not_mark_optional_is_insisted_on(nm: NmClient,
                                                                       sms_simulator: SimulatorServer) -> None:
    # Seed 002: "All parameters are mandatory unless otherwise stated"; each missing one answers
    # the table's code for that parameter, and nothing is sent.
    full = {"DestinationAddress": NUMBER, "SourceAddress": "Shop", "Body": "Hello", "ValidityPeriod": "3600"}
    for name, code in (("DestinationAddress", "-401\nInvalid Destination Address"),
                       ("SourceAddress", "-518\nBlank or Invalid Source Address"), ("Body", "-404\nBlank Body"),
                       ("ValidityPeriod", "-405\nInvalid Validity Period")):
        fields = {k: v for k, v in full.items() if k != name}
        assert nm.call("Send", ShowErrorMessage="1", **fields) == code, name
    assert nm.call("Send", ShowErrorMessage="1", **{**full, "DestinationAddress": "List"}) == (
        "-410\nInvalid Distribution List")
    assert nm.call("Send", ShowErrorMessage="1", **{**full, "DestinationAddress": "Group"}) == "-414\nInvalid Group"
    assert nm.call("CheckMessageStatus", ShowErrorMessage="1") == "-503\nUnknown Message ID"
    assert nm.call("CancelMessage", ShowErrorMessage="1") == "-503\nUnknown Message ID"
    assert sms_simulator.netmessenger.received() == []
    assert nm.send(NUMBER, ValidityPeriod="3600").isdigit()


def test_numeric_source_and_ton(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    nm.send_one(SourceAddress="447700900100", SourceTON="1")
    nm.send_one(SourceAddress="Eleven Char", SourceTON="5")
    assert [r["source"] for r in sms_simulator.netmessenger.received()] == ["447700900100", "Eleven Char"]


def test_long_messages_cost_one_credit_per_part_and_get_all_ids(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    first = nm.send_one(Body="x" * 459)
    assert nm.call("CheckCredits") == "997"
    answer = nm.send(f"{NUMBER},bad,{OTHER}", Body="y" * 200, GetAllMessageIDs="1")
    ids = answer.split(",")
    assert ids[2] == "-401"
    assert [int(i) for i in ids[:2] + ids[3:]] == list(range(first + 3, first + 7))
    assert nm.call("CheckCredits") == "993"
    # Any part's id finds the message.
    assert nm.call("CheckMessageStatus", MessageID=first + 2) == "Pending"
    assert sms_simulator.netmessenger.received(OTHER)[0]["parts"] == 2


def test_not_enough_credits_sends_nothing(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(netmessenger_accounts=[NetMessengerAccount(credits=2)]))
    assert nm.send(f"{NUMBER},{OTHER},447700900003", ShowErrorMessage="1") == "-100\nNot Enough Credits"
    assert sms_simulator.netmessenger.received() == []
    assert nm.send(f"{NUMBER},{OTHER}").count(",") == 1
    assert nm.call("CheckCredits") == "0"


def test_status_moves_pending_sent_delivered(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    message_id = nm.send_one()
    assert nm.call("CheckMessageStatus", MessageID=message_id) == "Pending"
    sms_simulator.clock.advance(2.5)
    assert nm.call("CheckMessageStatus", MessageID=message_id) == "Sent"
    sms_simulator.clock.advance(2.5)
    assert nm.call("CheckMessageStatus", MessageID=message_id) == "Delivered"
    assert sms_simulator.netmessenger.received(NUMBER)[0]["status"] == "Delivered"


@pytest.mark.parametrize("word", ["Undeliverable", "Expired", "Failed"])
def test_configured_failure_is_the_final_status(nm: NmClient, sms_simulator: SimulatorServer, word: str) -> None:
    sms_simulator.netmessenger.set_outcome(OTHER, word.upper())
    first, second = (int(i) for i in nm.send(f"{NUMBER},{OTHER}").split(","))
    sms_simulator.clock.advance(2.5)
    assert nm.call("CheckMessageStatus", MessageID=second) == "Sent"
    sms_simulator.clock.advance(5)
    assert nm.call("CheckMessageStatus", MessageID=first) == "Delivered"
    assert nm.call("CheckMessageStatus", MessageID=second) == word
    with pytest.raises(ValueError, match="status must be one of"):
        sms_simulator.netmessenger.set_outcome(OTHER, "Lost")


def test_validity_shorter_than_the_delivery_delay_expires(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    message_id = nm.send_one(ValidityPeriod="2")
    long_lived = nm.send_one(ValidityPeriod="86400")
    sms_simulator.clock.advance(5)
    assert nm.call("CheckMessageStatus", MessageID=message_id) == "Expired"
    assert nm.call("CheckMessageStatus", MessageID=long_lived) == "Delivered"


def test_check_message_status_unknown_ids(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    message_id = nm.send_one()
    assert nm.call("CheckMessageStatus", MessageID=message_id + 1) == "-503"
    assert nm.call("CheckMessageStatus", MessageID=1) == "-503"
    assert nm.call("CheckMessageStatus", MessageID="abc", ShowErrorMessage="1") == "-503\nUnknown Message ID"
    assert nm.call("CheckMessageStatus") == "-503"


def test_other_accounts_cannot_see_or_cancel_messages(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    accounts = [NetMessengerAccount(), NetMessengerAccount(token="nm-second", username="second")]
    sms_simulator.reset(SimulatorConfig(netmessenger_accounts=accounts))
    message_id = nm.send_one(ScheduleDate=stamp(sms_simulator.clock.now() + 3600))
    assert nm.post("CheckMessageStatus", token="nm-second", MessageID=message_id).text == "-503"
    assert nm.post("CancelMessage", token="nm-second", MessageID=message_id).text == "-503"
    assert sms_simulator.netmessenger.credits("nm-second") == 1000
    assert sms_simulator.netmessenger.credits(username="demo") == 999


def test_scheduled_message_waits_then_sends(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    message_id = nm.send_one(ScheduleDate=stamp(sms_simulator.clock.now() + 120))
    assert sms_simulator.netmessenger.received() == []
    (pending,) = sms_simulator.netmessenger.received(include_scheduled=True)
    assert pending["status"] == "Pending"
    assert pending["sent_at"] > sms_simulator.clock.now() + 100
    sms_simulator.clock.advance(121)
    assert sms_simulator.netmessenger.received_count(NUMBER) == 1
    sms_simulator.clock.advance(5)
    assert nm.call("CheckMessageStatus", MessageID=message_id) == "Delivered"


def test_a_past_schedule_date_sends_at_once(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    nm.send_one(ScheduleDate=stamp(sms_simulator.clock.now() - 3600))
    assert sms_simulator.netmessenger.received_count(NUMBER) == 1


@pytest.mark.parametrize("action", ["CancelMessage", "Cancel", "cancelmessage"])
def test_cancel_before_sending(nm: NmClient, sms_simulator: SimulatorServer, action: str) -> None:
    message_id = nm.send_one(ScheduleDate=stamp(sms_simulator.clock.now() + 600), Body="z" * 170)
    assert nm.call("CheckCredits") == "998"
    assert nm.call(action, MessageID=message_id) == "1"
    assert nm.call("CheckCredits") == "1000"
    assert nm.call("CheckMessageStatus", MessageID=message_id) == "Cancelled"
    assert nm.call(action, MessageID=message_id) == "-503"
    sms_simulator.clock.advance(700)
    assert sms_simulator.netmessenger.received(include_scheduled=True) == []
    assert sms_simulator.netmessenger.received_count(NUMBER) == 0


def test_cancel_after_sending_or_unknown_is_503(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    scheduled = nm.send_one(ScheduleDate=stamp(sms_simulator.clock.now() + 60))
    immediate = nm.send_one()
    assert nm.call("CancelMessage", MessageID=immediate, ShowErrorMessage="1") == "-503\nUnknown Message ID"
    sms_simulator.clock.advance(61)
    assert nm.call("CancelMessage", MessageID=scheduled) == "-503"
    assert nm.call("CancelMessage", MessageID=999) == "-503"
    assert nm.call("CheckCredits") == "998"


def test_the_cancel_action_name_is_configurable(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(netmessenger_cancel_actions=("CancelScheduled",)))
    message_id = nm.send_one(ScheduleDate=stamp(sms_simulator.clock.now() + 60))
    assert nm.call("CancelMessage", MessageID=message_id) == "-502"
    assert nm.call("CancelScheduled", MessageID=message_id) == "1"


def test_bare_partial_failure_switch(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(netmessenger_bare_partial_failure=True))
    sms_simulator.netmessenger.blacklist(OTHER)
    # Seed 002's -400 "Some numbers in list failed": the good number is still texted.
    assert nm.send(f"{NUMBER},{OTHER}", ShowErrorMessage="1") == "-400\nSome numbers in list failed"
    assert [r["number"] for r in sms_simulator.netmessenger.received()] == [NUMBER]
    assert nm.send(NUMBER).isdigit()  # nothing failed: ids as usual
