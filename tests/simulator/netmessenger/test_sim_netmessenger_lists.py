"""NetMessenger: sends to distribution lists and contact groups, background sends and ``GetBGMessages``."""

from __future__ import annotations

import json

import pytest

from airflow_provider_sms.simulator import SimulatorConfig
from airflow_provider_sms.simulator.server import SimulatorServer
from tests.simulator.netmessenger.test_sim_netmessenger_units import NmClient, stamp

MEMBERS = [f"4477009{i:05d}" for i in range(3)]


@pytest.fixture
def nm(sms_simulator: SimulatorServer) -> NmClient:
    return NmClient(sms_simulator)


def group_csv(name: str, count: int) -> str:
    return "\n".join(f"Member {i},4478{i:08d},,{name}" for i in range(count))


def test_list_send_answers_1_and_sends_to_every_member(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.netmessenger.add_list("staff", [*MEMBERS, MEMBERS[0]])
    assert nm.send("List", ListName="staff", Body="Meeting") == "1"
    assert [r["number"] for r in sms_simulator.netmessenger.received()] == MEMBERS
    assert nm.call("CheckCredits") == "997"
    assert sms_simulator.netmessenger.received()[0]["bg_send_id"] is not None


def test_small_list_send_finishes_at_once_with_its_background_id(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.netmessenger.add_list("staff", MEMBERS)
    bg_send_id = nm.send("list", ListName="staff", GetBGSendID="1")
    assert bg_send_id.isdigit()
    messages = json.loads(nm.call("GetBGMessages", BGSendID=bg_send_id))
    assert [m["Destination"] for m in messages] == MEMBERS
    assert {m["Status"] for m in messages} == {"Pending"}
    assert all(isinstance(m["MessageID"], str) for m in messages)


def test_list_errors(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.netmessenger.add_list("empty", [])
    assert nm.send("List") == "-410"
    assert nm.send("List", ListName="nobody", ShowErrorMessage="1") == "-516\nUnknown List"
    assert nm.send("List", ListName="empty") == "-408"
    assert nm.call("CheckCredits") == "1000"


def test_group_errors(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.netmessenger.add_contacts([{"name": "Ann", "number": MEMBERS[0], "groups": ["team"]}])
    assert nm.call("EmptyGroup", Group="team") == "1"
    assert nm.send("Group") == "-414"
    assert nm.send("Group", GroupName="nope", ShowErrorMessage="1") == "-520\nUnknown Group"
    assert nm.send("Group", GroupName="team") == "-409"


def test_group_send_reaches_the_group_members(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.netmessenger.add_contacts(
        [
            {"name": "Ann", "number": MEMBERS[0], "groups": ["team"]},
            {"name": "Bob", "number": MEMBERS[1]},
            {"name": "Cy", "number": MEMBERS[2], "groups": ["team", "other"]},
        ]
    )
    sms_simulator.netmessenger.blacklist(MEMBERS[2])
    assert nm.send("Group", GroupName="team") == "1"
    assert [r["number"] for r in sms_simulator.netmessenger.received()] == [MEMBERS[0]]
    assert nm.send("Group", GroupName="other") == "-412"


def test_list_send_needs_enough_credits(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.netmessenger.add_list("big", [f"4477{i:08d}" for i in range(1001)])
    assert nm.send("List", ListName="big") == "-100"
    assert sms_simulator.netmessenger.bg_sends() == []


def test_background_send_of_a_1000_member_group(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(netmessenger_background_delay=60))
    answer = nm.call("ImportContactsCSV", ContactsCSV=group_csv("everyone", 1000))
    assert answer.count("Success") == 1000
    bg_send_id = nm.send("Group", GroupName="everyone", GetBGSendID="1", Body="Big news")
    assert nm.call("CheckCredits") == "0"
    not_yet = {"error": "-522", "message": "Background Send Not Finished"}
    assert json.loads(nm.call("GetBGMessages", BGSendID=bg_send_id)) == not_yet
    assert nm.call("GetBGMessages", BGSendID=bg_send_id) == '{"error":"-522","message":"Background Send Not Finished"}'
    assert sms_simulator.netmessenger.received() == []
    sms_simulator.clock.advance(59)
    assert json.loads(nm.call("GetBGMessages", BGSendID=bg_send_id)) == not_yet
    sms_simulator.clock.advance(1)
    messages = json.loads(nm.call("GetBGMessages", BGSendID=bg_send_id))
    assert len(messages) == 1000
    assert messages[0] == {"MessageID": messages[0]["MessageID"], "Destination": "447800000000", "Status": "Pending"}
    assert len({m["MessageID"] for m in messages}) == 1000
    sms_simulator.clock.advance(5)
    assert {m["Status"] for m in json.loads(nm.call("GetBGMessages", BGSendID=bg_send_id))} == {"Delivered"}
    assert sms_simulator.netmessenger.received_count("447800000999") == 1
    (listed,) = sms_simulator.netmessenger.bg_sends()
    assert (listed.kind, listed.name, listed.record.count) == ("Group", "everyone", 1000)


def test_background_messages_can_be_cancelled_until_they_leave(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.netmessenger.add_list("many", [f"4477{i:08d}" for i in range(201)])
    bg_send_id = nm.send("List", ListName="many", GetBGSendID="1")
    first = sms_simulator.netmessenger.received(include_scheduled=True)[0]["message_id"]
    assert nm.call("CancelMessage", MessageID=first) == "1"
    sms_simulator.clock.advance(sms_simulator.config.netmessenger_background_delay)
    assert nm.call("CancelMessage", MessageID=first + 1) == "-503"
    assert len(json.loads(nm.call("GetBGMessages", BGSendID=bg_send_id))) == 200
    assert nm.call("CheckCredits") == "800"


def test_get_bg_messages_unknown_ids(nm: NmClient) -> None:
    unknown = '{"error":"-521","message":"Unknown Background SendID"}'
    assert nm.call("GetBGMessages", BGSendID="12345") == unknown
    assert nm.call("GetBGMessages", BGSendID="x") == unknown
    assert nm.call("GetBGMessages") == unknown


def test_get_bg_messages_when_nothing_is_left(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.netmessenger.add_list("one", ["447700900001"])
    bg_send_id = nm.send("List", ListName="one", GetBGSendID="1", ScheduleDate=stamp(sms_simulator.clock.now() + 60))
    message_id = sms_simulator.netmessenger.received(include_scheduled=True)[0]["message_id"]
    assert nm.call("CancelMessage", MessageID=message_id) == "1"
    assert nm.call("GetBGMessages", BGSendID=bg_send_id) == '{"error":"-523","message":"No messages were found"}'


def test_archived_background_messages_are_out_of_reach(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    sms_simulator.netmessenger.add_list("one", ["447700900001"])
    bg_send_id = nm.send("List", ListName="one", GetBGSendID="1")
    sms_simulator.clock.advance(sms_simulator.config.netmessenger_archive_after)
    assert json.loads(nm.call("GetBGMessages", BGSendID=bg_send_id))["error"] == "-523"


def test_answer_layout_switches_for_list_sends(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    members = [f"44770090{i:04d}" for i in range(3)]
    sms_simulator.reset(SimulatorConfig(netmessenger_foreground_bg_id=False))
    sms_simulator.netmessenger.add_list("Small", members)
    assert nm.send("List", ListName="Small", GetBGSendID="1") == "1"  # ran in the foreground: no id
    sms_simulator.reset(SimulatorConfig(netmessenger_bg_id_on_next_line=True))
    sms_simulator.netmessenger.add_list("Small", members)
    flag, bg_id = nm.send("List", ListName="Small", GetBGSendID="1").split("\n")
    assert flag == "1" and bg_id == str(sms_simulator.netmessenger.bg_sends()[0].bg_send_id)
    assert [sms_simulator.netmessenger.received_count(n) for n in members] == [1, 1, 1]
