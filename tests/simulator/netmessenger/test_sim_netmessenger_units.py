"""NetMessenger simulator pieces that need no server, and the small client the other NetMessenger tests share."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from airflow_provider_sms.simulator.netmessenger.codes import ERROR_TEXTS, bg_error_json, error_answer
from airflow_provider_sms.simulator.netmessenger.columns import IntIndex, TextColumn
from airflow_provider_sms.simulator.netmessenger.contacts import AddressBook
from airflow_provider_sms.simulator.netmessenger.text import (
    body_parts,
    normalize_number,
    parse_stamp,
    source_error,
)
from airflow_provider_sms.simulator.server import SimulatorServer

TOKEN = "nm-demo-token-0001"
LONDON = ZoneInfo("Europe/London")

# The vendor page's ImportContactsCSV example. Its input shows four lines for five answers: the
# fourth line (a contact without a name) was lost from the page, so it is restored here.
VENDOR_IMPORT = (
    "Contact 1,447777777771,,group1\n"
    "Contact 2,447777777772,\n"
    "Contact 3,447777777773,,group1,group2,group3\n"
    ",447777777774,,group2\n"
    "Contact 5,mynumber,,group3"
)
# "Gives the reponse:" - verbatim from the page (two empty lines before the details, as shown).
VENDOR_IMPORT_ANSWER = (
    "1 : Success\n2 : Success\n3 : Success\n4 : Failed\n5 : Failed\n\n4 : No name\n5 : Invalid number (mynumber)\n"
)


EARLIEST, LATEST = "20000101000000", "20991231235959"


class NmClient:
    """Posts NetMessenger form fields to the simulator's ``/api``."""

    def __init__(self, server: SimulatorServer) -> None:
        self.server = server
        self.session = requests.Session()

    @property
    def url(self) -> str:
        return self.server.url + "/api"

    def post(self, action: str, *, token: str = TOKEN, **fields: Any) -> requests.Response:
        data = {"Token": token, "Action": action, **{k: str(v) for k, v in fields.items()}}
        return self.session.post(self.url, data=data, timeout=30)

    def call(self, action: str, **fields: Any) -> str:
        if action == "Report":  # From and To are mandatory: default to "any time" when a test does not care
            fields = {"From": EARLIEST, "To": LATEST, **fields}
        answer = self.post(action, **fields)
        assert answer.status_code == 200
        return answer.text

    def send(self, to: str = "447700900001", **fields: Any) -> str:
        fields = {"SourceAddress": "Shop", "Body": "Hello", "ValidityPeriod": "86400", **fields}
        return self.call("Send", DestinationAddress=to, **fields)

    def send_one(self, to: str = "447700900001", **fields: Any) -> int:
        answer = self.send(to, **fields)
        assert answer.isdigit(), answer
        return int(answer)

    def rows(self, action: str, **fields: Any) -> list[list[str]]:
        return list(csv.reader(io.StringIO(self.call(action, **fields))))


def stamp(epoch: float) -> str:
    """``YYYYMMDDHHMMSS`` in the account's time zone (Europe/London)."""
    return dt.datetime.fromtimestamp(epoch, LONDON).strftime("%Y%m%d%H%M%S")


# -- value rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("447700900001", 447700900001),
        (" +44 7700 900001 ", 447700900001),
        ("00447700900001", 447700900001),
        ("07700900001", None),
        ("mynumber", None),
        ("", None),
        ("1234567890123456", None),
    ],
)
def test_normalize_number(raw: str, expected: int | None) -> None:
    assert normalize_number(raw) == expected


@pytest.mark.parametrize(
    ("source", "ton", "code"),
    [
        ("Shop", "", None),
        ("ElevenChars", "5", None),
        ("TwelveCharss", "", -402),
        ("447700900001", "1", None),
        ("+447700900001", "", None),
        ("4477009000011234", "", -403),
        ("Shop", "1", -403),
        ("", "", -518),
        ("   ", "", -518),
        ("Shop\u263a", "", -518),
        ("Shop", "7", -518),
    ],
)
def test_source_address_rules(source: str, ton: str, code: int | None) -> None:
    assert source_error(source, ton) == code


def test_body_parts_make_459_exactly_three() -> None:
    assert [body_parts("a" * n) for n in (1, 160, 161, 306, 307, 459)] == [1, 1, 2, 2, 3, 3]


def test_stamps_are_local_and_strict() -> None:
    assert parse_stamp("20240701120000", "Europe/London") == dt.datetime(2024, 7, 1, 11, tzinfo=dt.UTC).timestamp()
    assert parse_stamp("20240101120000", "Europe/London") == dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC).timestamp()
    for bad in ("2024070112000", "2024-07-01 12:00", "20241301120000", "tomorrow"):
        with pytest.raises(ValueError):
            parse_stamp(bad, "Europe/London")


def test_error_answers() -> None:
    assert error_answer(-401, False) == "-401"
    assert error_answer(-401, True) == "-401\nInvalid Destination Address"
    assert error_answer(-507, True, ("Missing Email",)) == "-507\nInvalid/Missing Details\nMissing Email"
    assert bg_error_json(-521) == '{"error":"-521","message":"Unknown Background SendID"}'
    assert ERROR_TEXTS[-511] == "The system is down for maintenance"


# -- compact columns --------------------------------------------------------------------------------


def test_text_column_appends_and_replaces() -> None:
    column = TextColumn()
    for text in ("Ann", "", "Zoë"):
        column.append(text)
    column.set(0, "Anne-Marie")
    assert [column[i] for i in range(len(column))] == ["Anne-Marie", "", "Zoë"]


def test_int_index_grows_and_checks_collisions() -> None:
    index = IntIndex(capacity=16)
    for value in range(1000):
        index.add(447700000000 + value * 1024, value)
    assert len(index) == 1000
    assert index.find(447700000000 + 999 * 1024) == 999
    assert index.find(1) is None
    index.add(5, 1)
    index.add(5, 2)
    assert index.find(5) == 1
    assert index.find(5, lambda value: value == 2) == 2
    assert index.find(5, lambda value: value == 3) is None
    with pytest.raises(ValueError):
        index.add(6, -1)


# -- address book -----------------------------------------------------------------------------------


def test_vendor_import_example_without_a_server() -> None:
    book = AddressBook()
    assert book.import_csv(VENDOR_IMPORT, ignore_dupes=False, overwrite_dupes=False) == VENDOR_IMPORT_ANSWER
    assert [c.name for c in book.contacts()] == ["Contact 1", "Contact 2", "Contact 3"]
    assert book.groups() == [(1, "group1", 2), (2, "group2", 1), (3, "group3", 1)]


def test_a_blank_fourth_line_reads_the_same() -> None:
    # Whichever way the lost line looked (empty, or without a name), the answer is the vendor's.
    text = VENDOR_IMPORT.replace(",447777777774,,group2", "")
    assert AddressBook().import_csv(text, ignore_dupes=False, overwrite_dupes=False) == VENDOR_IMPORT_ANSWER


def test_overwritten_contacts_leave_their_old_groups() -> None:
    book = AddressBook()
    book.import_csv("Ann,447700900001,,a,b\nBob,447700900002,,a", ignore_dupes=False, overwrite_dupes=False)
    assert book.import_csv("Annie,447700900001,,b", ignore_dupes=False, overwrite_dupes=True) == "1 : Success\n"
    assert book.group_numbers("a") == [447700900002]
    assert book.group_numbers("b") == [447700900001]
    assert book.import_csv("Ann,447700900001,,a", ignore_dupes=False, overwrite_dupes=True) == "1 : Success\n"
    assert book.group_numbers("a") == [447700900002, 447700900001]  # joining order
    assert [c.name for c in book.contacts()] == ["Ann", "Bob"]
