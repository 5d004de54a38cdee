"""NetMessenger: ``ImportContactsCSV`` (the vendor example verbatim), contacts, groups and their deletion."""

from __future__ import annotations

import time

import pytest

from airflow_provider_sms.simulator.server import SimulatorServer
from tests.simulator.netmessenger.test_sim_netmessenger_units import VENDOR_IMPORT, VENDOR_IMPORT_ANSWER, NmClient

CONTACT_HEADER = ["Name", "Number", "Email", "Group1", "Group2", "Group3"]


@pytest.fixture
def nm(sms_simulator: SimulatorServer) -> NmClient:
    return NmClient(sms_simulator)


def test_vendor_import_example_byte_for_byte(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    answer = nm.post("ImportContactsCSV", ContactsCSV=VENDOR_IMPORT)
    assert answer.content == VENDOR_IMPORT_ANSWER.encode()
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert sms_simulator.netmessenger.groups() == {
        "group1": ["447777777771", "447777777773"],
        "group2": ["447777777773"],
        "group3": ["447777777773"],
    }


def test_duplicates_by_default(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    nm.call("ImportContactsCSV", ContactsCSV="Ann,447700900001,ann@example.com,a")
    answer = nm.call("ImportContactsCSV", ContactsCSV="Annie,447700900001\nAnn,447700900002\nBob,447700900003")
    assert answer == "1 : Duplicate Number\n2 : Duplicate Name\n3 : Success\n"
    assert [c["name"] for c in sms_simulator.netmessenger.contacts()] == ["Ann", "Bob"]


def test_ignore_dupes_creates_the_duplicates(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    nm.call("ImportContactsCSV", ContactsCSV="Ann,447700900001,,a")
    answer = nm.call("ImportContactsCSV", ContactsCSV="Annie,447700900001,,a\nAnn,447700900002", IgnoreDupes="1")
    assert answer == "1 : Success\n2 : Success\n"
    assert [(c["name"], c["number"]) for c in sms_simulator.netmessenger.contacts()] == [
        ("Ann", "447700900001"),
        ("Annie", "447700900001"),
        ("Ann", "447700900002"),
    ]
    # A group sends to each number once.
    assert sms_simulator.netmessenger.groups()["a"] == ["447700900001"]


def test_overwrite_dupes_replaces_by_number_and_wins_over_ignore(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    nm.call("ImportContactsCSV", ContactsCSV="Ann,447700900001,old@example.com,a")
    answer = nm.call(
        "ImportContactsCSV",
        ContactsCSV="Annie,447700900001,new@example.com,b\nAnnie,447700900002",
        OverwriteDupes="1",
        IgnoreDupes="1",
    )
    assert answer == "1 : Success\n2 : Success\n"
    contacts = sms_simulator.netmessenger.contacts()
    assert [(c["name"], c["number"], c["email"], c["groups"]) for c in contacts] == [
        ("Annie", "447700900001", "new@example.com", ("b",)),
        ("Annie", "447700900002", "", ()),
    ]
    assert sms_simulator.netmessenger.groups() == {"a": [], "b": ["447700900001"]}


def test_partial_when_a_group_name_is_too_long(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    long_name = "g" * 51
    answer = nm.call("ImportContactsCSV", ContactsCSV=f"Ann,447700900001,,ok,{long_name}\nBob,447700900002,,{'h' * 50}")
    assert answer == f"1 : Partial\n2 : Success\n\n1 : Group name too long ({long_name})\n"
    assert sms_simulator.netmessenger.contacts()[0]["groups"] == ("ok",)


def test_csv_quoting_and_crlf(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    text = '"Smith, Ann",+447700900001,"a@b.c","Team ""A"""\r\n"Bob",447700900002\r\n'
    assert nm.call("ImportContactsCSV", ContactsCSV=text) == "1 : Success\n2 : Success\n"
    assert nm.rows("GetAllContacts") == [
        CONTACT_HEADER,
        ["Smith, Ann", "447700900001", "a@b.c", 'Team "A"', "", ""],
        ["Bob", "447700900002", "", "", "", ""],
    ]
    assert nm.call("GetAllContacts").splitlines()[1] == '"Smith, Ann","447700900001","a@b.c","Team ""A""","",""'


def test_blank_contacts_csv_is_507(nm: NmClient) -> None:
    assert nm.call("ImportContactsCSV", ContactsCSV=" \n", ShowErrorMessage="1") == "-507\nInvalid/Missing Details"
    assert nm.call("ImportContactsCSV") == "-507"


def test_get_all_groups_and_contacts(nm: NmClient) -> None:
    assert nm.rows("GetAllContacts") == [CONTACT_HEADER]
    assert nm.rows("GetAllGroups") == [["GroupID", "Name", "Members"]]
    nm.call("ImportContactsCSV", ContactsCSV=VENDOR_IMPORT)
    assert nm.rows("GetAllGroups")[1:] == [["1", "group1", "2"], ["2", "group2", "1"], ["3", "group3", "1"]]
    assert nm.rows("GetAllContacts")[3] == ["Contact 3", "447777777773", "", "group1", "group2", "group3"]


def test_empty_and_delete_group(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    nm.call("ImportContactsCSV", ContactsCSV=VENDOR_IMPORT)
    assert nm.call("EmptyGroup", Group="group1") == "1"
    assert sms_simulator.netmessenger.groups()["group1"] == []
    assert sms_simulator.netmessenger.contacts()[2]["groups"] == ("group2", "group3")
    assert nm.call("DeleteGroup", Group="group2") == "1"
    assert set(sms_simulator.netmessenger.groups()) == {"group1", "group3"}
    assert sms_simulator.netmessenger.contacts()[2]["groups"] == ("group3",)
    assert len(sms_simulator.netmessenger.contacts()) == 3
    assert nm.call("EmptyGroup", Group="group2", ShowErrorMessage="1") == "-520\nUnknown Group"
    assert nm.call("DeleteGroup", Group="nope") == "-520"
    assert nm.call("DeleteGroup") == "-414"


def test_delete_all_contacts_and_groups(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    nm.call("ImportContactsCSV", ContactsCSV=VENDOR_IMPORT)
    assert nm.call("DeleteAllContacts") == "1"
    assert sms_simulator.netmessenger.contacts() == []
    assert sms_simulator.netmessenger.groups() == {"group1": [], "group2": [], "group3": []}
    nm.call("ImportContactsCSV", ContactsCSV=VENDOR_IMPORT)
    assert nm.call("DeleteAllGroups") == "1"
    assert sms_simulator.netmessenger.groups() == {}
    assert {c["groups"] for c in sms_simulator.netmessenger.contacts()} == {()}
    # Groups named again are created afresh.
    nm.call("ImportContactsCSV", ContactsCSV="Zed,447700900009,,group1")
    assert sms_simulator.netmessenger.groups() == {"group1": ["447700900009"]}


def test_ten_thousand_lines_in_one_request(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    text = "\n".join(f"Contact {i},4477{i:08d},c{i}@example.com,grp{i % 3}" for i in range(10_000))
    started = time.monotonic()
    answer = nm.call("ImportContactsCSV", ContactsCSV=text)
    elapsed = time.monotonic() - started
    assert answer.count(" : Success") == 10_000
    assert answer.splitlines()[-1] == "10000 : Success"
    assert len(sms_simulator.netmessenger.account().book) == 10_000
    assert elapsed < 5  # generous: about 0.1 s on a laptop
    again = nm.call("ImportContactsCSV", ContactsCSV=text)
    assert again.count(" : Duplicate Number") == 10_000


def test_multipart_upload_is_read_too(nm: NmClient, sms_simulator: SimulatorServer) -> None:
    answer = nm.session.post(
        nm.url,
        data={"Token": "nm-demo-token-0001", "Action": "ImportContactsCSV"},
        files={"ContactsCSV": ("contacts.csv", b"Ann,447700900001\n")},
        timeout=10,
    )
    assert answer.text == "1 : Success\n"


def test_control_contacts_validation(sms_simulator: SimulatorServer) -> None:
    with pytest.raises(ValueError, match="name and an international number"):
        sms_simulator.netmessenger.add_contacts([{"name": "", "number": "447700900001"}])
    with pytest.raises(ValueError, match="at most 3 groups"):
        sms_simulator.netmessenger.add_contacts([{"name": "A", "number": "447700900001", "groups": list("abcd")}])
