"""BulkSMS JSON API v1 against the simulator."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests

from airflow_provider_sms.simulator import BulkSmsAccount, SimulatorConfig
from airflow_provider_sms.simulator.server import SimulatorServer
from tests.simulator.sim_helpers import EapiClient

AUTH = ("demo", "demo-secret-pass")
NUMBER = "447700900001"
OTHER = "447700900002"


def post(
    server: SimulatorServer, body: Any, *, auth: tuple[str, str] = AUTH, query: dict[str, Any] | None = None
) -> requests.Response:
    return requests.post(server.url + "/v1/messages", json=body, auth=auth, params=query, timeout=10)


def get(server: SimulatorServer, path: str, **query: Any) -> requests.Response:
    return requests.get(server.url + path, auth=AUTH, params=query, timeout=10)


def test_submission_answers_201_with_message_objects(sms_simulator: SimulatorServer) -> None:
    answer = post(sms_simulator, {"to": [NUMBER, "+" + OTHER], "from": "Shop", "body": "Hi", "userSuppliedId": "u-1"})
    assert answer.status_code == 201
    messages = answer.json()
    assert [m["to"] for m in messages] == [NUMBER, OTHER]
    first = messages[0]
    assert first["type"] == "SENT"
    assert first["from"] == "Shop"
    assert first["body"] == "Hi"
    assert first["encoding"] == "TEXT"
    # The vendor: numberOfParts and creditCost "do not have a value in the submission response".
    assert (first["numberOfParts"], first["creditCost"]) == (None, None)
    assert first["userSuppliedId"] == "u-1"
    assert first["status"] == {"id": "ACCEPTED.null", "type": "ACCEPTED", "subtype": None}
    assert first["submission"]["id"] == messages[1]["submission"]["id"]
    assert first["submission"]["date"].endswith("Z")
    assert int(messages[1]["id"]) == int(first["id"]) + 1
    later = get(sms_simulator, f"/v1/messages/{first['id']}").json()
    assert (later["numberOfParts"], later["creditCost"]) == (1, 1.0)
    got = sms_simulator.bulksms.received(NUMBER)[0]
    assert (got["api"], got["message"], got["user_supplied_id"]) == ("json", "Hi", "u-1")
    assert sms_simulator.bulksms.credits("demo") == 998.0


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ("Shop", "Shop"),
        ("+447700900009", "+447700900009"),
        ({"type": "SHORTCODE", "address": "12345"}, "12345"),
        ({"type": "REPLIABLE"}, None),
    ],
)
def test_from_variants(sms_simulator: SimulatorServer, sender: Any, expected: str | None) -> None:
    answer = post(sms_simulator, {"to": NUMBER, "body": "x", "from": sender})
    assert answer.status_code == 201, answer.text
    assert answer.json()[0]["from"] == expected


def test_list_of_entries_and_group_recipients(sms_simulator: SimulatorServer) -> None:
    sms_simulator.bulksms.add_group(3, "team", ["447700900003", "447700900004"])
    body = [
        {"to": NUMBER, "body": "one"},
        {"to": [{"type": "GROUP", "name": "team"}], "body": "two"},
        {"to": {"type": "INTERNATIONAL", "address": OTHER}, "body": "three", "encoding": "UNICODE"},
        {"to": [{"type": "GROUP", "id": "3"}], "body": "four"},
    ]
    messages = post(sms_simulator, body).json()
    assert [(m["to"], m["body"]) for m in messages] == [
        (NUMBER, "one"),
        ("447700900003", "two"),
        ("447700900004", "two"),
        (OTHER, "three"),
        ("447700900003", "four"),
        ("447700900004", "four"),
    ]
    assert messages[3]["encoding"] == "UNICODE"
    assert len({m["submission"]["id"] for m in messages}) == 1
    assert post(sms_simulator, {"to": [{"type": "GROUP", "id": 99}], "body": "x"}).status_code == 400


def test_auto_unicode_and_long_messages(sms_simulator: SimulatorServer) -> None:
    messages = post(sms_simulator, {"to": NUMBER, "body": "Ω ok ☺"}, query={"auto-unicode": "true"}).json()
    assert messages[0]["encoding"] == "UNICODE"
    messages = post(sms_simulator, {"to": NUMBER, "body": "a" * 400}).json()
    assert get(sms_simulator, f"/v1/messages/{messages[0]['id']}").json()["numberOfParts"] == 3
    messages = post(sms_simulator, {"to": NUMBER, "body": "Ω ok ☺"}).json()
    assert (messages[0]["encoding"], messages[0]["body"]) == ("TEXT", "Ω ok ?")  # non-GSM becomes ?
    assert post(sms_simulator, {"to": NUMBER, "body": "a" * 460}).status_code == 400
    assert post(sms_simulator, {"to": NUMBER, "body": "a" * 460, "longMessageMaxParts": 4}).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"to": "12345", "body": "bad number"},
        {"to": NUMBER, "body": ""},
        {"body": "no recipient"},
        {"to": NUMBER, "body": "x", "from": "TwelveLetters"},
        {"to": NUMBER, "body": "x", "from": "+123456"},
        {"to": NUMBER, "body": "x", "from": {"type": "SHORTCODE", "address": "1234567"}},
        {"to": NUMBER, "body": "x", "from": {"type": "CARRIER_PIGEON", "address": "x"}},
        {"to": NUMBER, "body": "x", "from": {"type": "ALPHANUMERIC"}},
        {"to": NUMBER, "body": "x", "userSuppliedId": "u" * 21},
        {"to": NUMBER, "body": "x", "encoding": "KLINGON"},
        {"to": NUMBER, "body": "x", "routingGroup": "GOLD"},
        {"to": NUMBER, "body": "zz", "encoding": "BINARY"},
        [],
        "not an object",
    ],
)
def test_validation_errors_are_400_problems(sms_simulator: SimulatorServer, body: Any) -> None:
    answer = post(sms_simulator, body)
    assert answer.status_code == 400
    problem = answer.json()
    assert set(problem) == {"type", "title", "status", "detail"}
    assert problem["status"] == 400
    assert sms_simulator.bulksms.received() == []


def test_invalid_json_body_is_400(sms_simulator: SimulatorServer) -> None:
    answer = requests.post(sms_simulator.url + "/v1/messages", data=b"{nope", auth=AUTH, timeout=10)
    assert answer.status_code == 400


def test_too_many_messages_is_400(sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(max_batch_size=2))
    assert post(sms_simulator, {"to": [NUMBER, OTHER, "447700900003"], "body": "x"}).status_code == 400


def test_bad_credentials_are_401(sms_simulator: SimulatorServer) -> None:
    answer = post(sms_simulator, {"to": NUMBER, "body": "x"}, auth=("demo", "wrong"))
    assert answer.status_code == 401
    assert answer.json()["status"] == 401
    assert "wrong" not in answer.text
    assert requests.get(sms_simulator.url + "/v1/profile", timeout=10).status_code == 401
    garbage = requests.get(sms_simulator.url + "/v1/profile", headers={"Authorization": "Basic ###"}, timeout=10)
    assert garbage.status_code == 401


def test_insufficient_credits_is_403(sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(bulksms_accounts=[BulkSmsAccount(credits=1)]))
    answer = post(sms_simulator, {"to": [NUMBER, OTHER], "body": "x"})
    assert answer.status_code == 403
    assert answer.json()["status"] == 403
    assert sms_simulator.bulksms.received() == []


def test_deduplication_id_returns_the_original_answer(sms_simulator: SimulatorServer) -> None:
    first = post(sms_simulator, {"to": NUMBER, "body": "x"}, query={"deduplication-id": 12345})
    again = post(sms_simulator, {"to": NUMBER, "body": "x"}, query={"deduplication-id": 12345})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert sms_simulator.bulksms.received_count(NUMBER) == 1
    sms_simulator.clock.advance(12 * 3600 + 1)
    assert post(sms_simulator, {"to": NUMBER, "body": "x"}, query={"deduplication-id": 12345}).json() != first.json()
    assert post(sms_simulator, {"to": NUMBER, "body": "x"}, query={"deduplication-id": 2**31}).status_code == 400


def test_schedule_date(sms_simulator: SimulatorServer) -> None:
    when = dt.datetime.fromtimestamp(sms_simulator.clock.now() + 600, dt.timezone(dt.timedelta(hours=2)))
    messages = post(sms_simulator, {"to": NUMBER, "body": "later"}, query={"schedule-date": when.isoformat()}).json()
    assert messages[0]["status"]["type"] == "SCHEDULED"
    assert sms_simulator.bulksms.received_count(NUMBER) == 0
    # SCHEDULED is for the submission answer only: before it is sent, later reads do not list it.
    assert get(sms_simulator, "/v1/messages").json() == []
    assert get(sms_simulator, f"/v1/messages/{messages[0]['id']}").status_code == 404
    sms_simulator.clock.advance(601)
    assert get(sms_simulator, f"/v1/messages/{messages[0]['id']}").json()["status"]["type"] == "SENT"
    assert sms_simulator.bulksms.received_count(NUMBER) == 1
    far = dt.datetime.now(dt.UTC) + dt.timedelta(days=3 * 365)
    assert post(sms_simulator, {"to": NUMBER, "body": "x"}, query={"schedule-date": far.isoformat()}).status_code == 400
    naive = "2030-01-01T00:00:00"
    assert post(sms_simulator, {"to": NUMBER, "body": "x"}, query={"schedule-date": naive}).status_code == 400


def test_statuses_by_submission_filter(sms_simulator: SimulatorServer) -> None:
    for number, code in [("447700900051", 51), ("447700900053", 53), ("447700900032", 32), ("447700900029", 29)]:
        sms_simulator.bulksms.set_outcome(number, code)
    numbers = [NUMBER, "447700900051", "447700900053", "447700900032", "447700900029"]
    submission = post(sms_simulator, {"to": numbers, "body": "x"}).json()[0]["submission"]["id"]
    post(sms_simulator, {"to": OTHER, "body": "other submission"})

    def statuses() -> dict[str, str]:
        listed = get(sms_simulator, "/v1/messages", filter=f"submission.id={submission}", limit=1000).json()
        return {m["to"]: m["status"]["id"] for m in listed}

    # ACCEPTED is "only returned for initial message submissions": a later read says SENT.
    assert set(statuses().values()) == {"SENT.null"}
    sms_simulator.clock.advance(2.5)
    assert set(statuses().values()) == {"SENT.null"}
    sms_simulator.clock.advance(2.5)
    assert statuses() == {
        NUMBER: "DELIVERED.null",
        "447700900051": "FAILED.HANDSET_ERROR",
        "447700900053": "FAILED.EXPIRED",
        "447700900032": "FAILED.BLOCKED",
        "447700900029": "FAILED.NOT_SENT",
    }
    failed = get(sms_simulator, "/v1/messages", filter=f"submission.id={submission}&status.type=FAILED").json()
    assert len(failed) == 4


def test_paging_with_id_filter(sms_simulator: SimulatorServer) -> None:
    numbers = [f"4477009000{i:02d}" for i in range(5)]
    submission = post(sms_simulator, {"to": numbers, "body": "x"}).json()[0]["submission"]["id"]
    assert submission.startswith("1-")  # shaped like the vendor's ids, not a bare number
    page = get(sms_simulator, "/v1/messages", filter=f"submission.id={submission}", limit=2).json()
    seen = [m["to"] for m in page]
    while page:
        smallest = min(int(m["id"]) for m in page)
        page = get(sms_simulator, "/v1/messages", filter=f"submission.id={submission}&id<{smallest}", limit=2).json()
        seen += [m["to"] for m in page]
    assert seen == list(reversed(numbers))  # newest first
    oldest_first = get(sms_simulator, "/v1/messages", filter=f"submission.id={submission}", sortOrder="ASCENDING")
    assert [m["to"] for m in oldest_first.json()] == numbers
    first_id = int(oldest_first.json()[0]["id"])
    newer = get(sms_simulator, "/v1/messages", filter=f"id>{first_id}", sortOrder="ASCENDING").json()
    assert [m["to"] for m in newer] == numbers[1:]
    assert len(get(sms_simulator, "/v1/messages", limit=5000).json()) == 5  # limit is capped, not refused


def test_filter_fields(sms_simulator: SimulatorServer) -> None:
    sms_simulator.bulksms.set_outcome(OTHER, 53)
    post(sms_simulator, [{"to": NUMBER, "body": "a", "userSuppliedId": "run-1"}, {"to": OTHER, "body": "b"}])
    sms_simulator.clock.advance(5)

    def listed(text: str) -> list[str]:
        answer = get(sms_simulator, "/v1/messages", filter=text)
        assert answer.status_code == 200, answer.text
        return [m["to"] for m in answer.json()]

    assert listed("userSuppliedId=run-1") == [NUMBER]
    assert listed("status.id=FAILED.EXPIRED") == [OTHER]
    assert listed("type=SENT&status.type=DELIVERED") == [NUMBER]
    assert listed("type=RECEIVED") == []
    assert listed("submission.date>=2000-01-01T00:00:00Z&submission.date<2000-01-02T00:00:00+01:00") == []
    assert len(listed("submission.date>=2000-01-01T00:00:00Z")) == 2
    assert len(listed("status.type=")) == 2  # an empty value does not filter


@pytest.mark.parametrize(
    "text",
    ["submission.id==5", "status.type=FAILED;id<9", "body=x", "id<=5", "status.type<X", "id<abc", "type=MO"],
)
def test_invalid_filters_are_400(sms_simulator: SimulatorServer, text: str) -> None:
    answer = get(sms_simulator, "/v1/messages", filter=text)
    assert answer.status_code == 400
    assert answer.json()["status"] == 400


def test_single_message_and_profile(sms_simulator: SimulatorServer, eapi: EapiClient) -> None:
    message = post(sms_simulator, {"to": NUMBER, "body": "x"}).json()[0]
    assert get(sms_simulator, f"/v1/messages/{message['id']}").json()["to"] == NUMBER
    assert get(sms_simulator, "/v1/messages/1").status_code == 404
    profile = get(sms_simulator, "/v1/profile").json()
    assert profile["username"] == "demo"
    assert profile["credits"] == {"balance": 999.0, "isTransferAllowed": False}
    assert set(profile) >= {"id", "username", "created", "credits", "quota"}
    # EAPI and JSON API share one account and one message store.
    batch = eapi.send_ok(msisdn=OTHER)
    assert get(sms_simulator, "/v1/profile").json()["credits"]["balance"] == 998.0
    listed = get(sms_simulator, "/v1/messages", filter=f"submission.id={batch}").json()
    assert [m["to"] for m in listed] == [OTHER]


# -- what the vendor's API description accepts beyond the provider's own requests ---------------


def test_form_encoded_post_sends_one_message(sms_simulator: SimulatorServer) -> None:
    # "You can also use the same parameters to POST form encoded fields to /messages."
    answer = requests.post(sms_simulator.url + "/v1/messages", data={"to": "+" + NUMBER, "body": "Hello World"},
                           auth=AUTH, timeout=10)
    assert answer.status_code == 201
    (message,) = answer.json()
    assert (message["to"], message["body"], message["status"]["type"]) == (NUMBER, "Hello World", "ACCEPTED")
    form = {"to": NUMBER, "body": "x", "deduplication-id": "7"}
    again = requests.post(sms_simulator.url + "/v1/messages", data=form, auth=AUTH, timeout=10)
    repeat = requests.post(sms_simulator.url + "/v1/messages", data=form, auth=AUTH, timeout=10)
    assert again.json() == repeat.json()
    assert sms_simulator.bulksms.received_count(NUMBER) == 2
    missing = requests.post(sms_simulator.url + "/v1/messages", data={"to": NUMBER}, auth=AUTH, timeout=10)
    assert missing.status_code == 400


def test_simple_get_send(sms_simulator: SimulatorServer) -> None:
    answer = get(sms_simulator, "/v1/messages/send", to="+" + NUMBER, body="Dobrá práce")
    assert answer.status_code == 201
    assert answer.json()[0]["to"] == NUMBER
    assert [m["message"] for m in sms_simulator.bulksms.received(NUMBER)] == ["Dobr? pr?ce"]  # TEXT, no auto-unicode
    assert get(sms_simulator, "/v1/messages/send", body="no recipient").status_code == 400
    unauthorised = requests.get(sms_simulator.url + "/v1/messages/send", params={"to": NUMBER, "body": "x"}, timeout=10)
    assert unauthorised.status_code == 401
    assert sms_simulator.bulksms.received_count(NUMBER) == 1


def test_long_message_max_parts_in_the_query_is_the_default(sms_simulator: SimulatorServer) -> None:
    # The vendor's PHP sample posts to /messages?auto-unicode=true&longMessageMaxParts=30.
    long_text = "a" * 700  # 5 parts of 153
    assert post(sms_simulator, {"to": NUMBER, "body": long_text}).status_code == 400  # default 3
    assert post(sms_simulator, {"to": NUMBER, "body": long_text}, query={"longMessageMaxParts": 30}).status_code == 201
    entry_wins = {"to": NUMBER, "body": long_text, "longMessageMaxParts": 2}
    assert post(sms_simulator, entry_wins, query={"longMessageMaxParts": 30}).status_code == 400
    assert post(sms_simulator, {"to": NUMBER, "body": "x"}, query={"longMessageMaxParts": "many"}).status_code == 400


@pytest.mark.parametrize(
    ("entry", "klass", "pid"),
    [
        ({}, 2, 0),
        ({"messageClass": "FLASH_SMS", "protocolId": "REPLACE_MESSAGE_1"}, 0, 65),
        ({"messageClass": 1, "protocolId": 127}, 1, 127),
    ],
)
def test_message_class_and_protocol_id(sms_simulator: SimulatorServer, entry: dict[str, Any], klass: int,
                                       pid: int) -> None:
    (message,) = post(sms_simulator, {"to": NUMBER, "body": "x", **entry}).json()
    assert (message["messageClass"], message["protocolId"]) == (klass, pid)
    assert get(sms_simulator, f"/v1/messages/{message['id']}").json()["messageClass"] == klass


@pytest.mark.parametrize("entry", [{"messageClass": 4}, {"messageClass": "LOUD"}, {"protocolId": 256},
                                   {"protocolId": "REPLACE_MESSAGE_9"}, {"messageClass": True}])
def test_bad_message_class_or_protocol_id_is_400(sms_simulator: SimulatorServer, entry: dict[str, Any]) -> None:
    assert post(sms_simulator, {"to": NUMBER, "body": "x", **entry}).status_code == 400
    assert sms_simulator.bulksms.received_count(NUMBER) == 0


def test_body_templates_are_filled_per_recipient(sms_simulator: SimulatorServer) -> None:
    # The vendor's example: {F0######} is at most 10 characters (braces, name and hashes count).
    body = "Good morning {F0######}, your balance is {F1######}"
    to = [{"address": NUMBER, "fields": ["Harry", "$1345.23"]},
          {"address": OTHER, "fields": ["Bartholomew-Smith", "$2345.58"]},
          {"address": "447700900003"}]
    messages = post(sms_simulator, {"body": body, "to": to}).json()
    assert [m["body"] for m in messages] == [
        "Good morning Harry, your balance is $1345.23",
        "Good morning Bartholome, your balance is $2345.58",
        "Good morning , your balance is ",
    ]
    assert [m["message"] for m in sms_simulator.bulksms.received()] == [m["body"] for m in messages]
    phonebook = post(sms_simulator, {"body": "Hi {fn######} {sn######}!", "to": NUMBER}).json()
    assert phonebook[0]["body"] == "Hi  !"  # the simulated phonebook keeps no names
    assert post(sms_simulator, {"body": body, "to": [{"address": NUMBER, "fields": [1]}]}).status_code == 400
