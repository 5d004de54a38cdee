"""NetMessenger CSV: streamed report parsing (never whole in memory) and contact upload building."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_sms.core.results import DeliveryStatus
from airflow_provider_sms.exceptions import (
    SmsAuthenticationError,
    SmsConfigurationError,
    SmsGatewayError,
    SmsTransientError,
    SmsValidationError,
)
from airflow_provider_sms.gateways.http import HttpResponse
from airflow_provider_sms.gateways.netmessenger import NetMessengerApi, build_contacts_csv, iter_report_rows

TOKEN = "nm-TOKEN-7f3a-91bd-SECRET"

MESSAGES_HEADER = ["MessageID", "Username", "Destination", "Source", "Status", "ScheduleDate", "SentDate",
                   "DeliveryDate"]
MESSAGES_REPORT = (
    '"MessageID","Username","Destination","Source","Status","ScheduleDate","SentDate","DeliveryDate"\r\n'
    '"3509592","acme","447777777777","API","Delivered","","2025-01-15 09:30:00","2025-01-15 09:30:05"\r\n'
    '"3509593","acme","447777777778","API","Undeliverable","","2025-01-15 09:30:00",""\r\n'
    '"3509594","acme","447777777779","API","Pending","","",""\r\n'
)
# The usage report of the official PHP SDK's example (header names confirmed: Status, Messages).
USAGE_REPORT = '"Status","Messages"\n"Delivered","5"\n"Undeliverable","3"\n'


@pytest.fixture
def api() -> NetMessengerApi:
    return NetMessengerApi(TOKEN)


def test_messages_report_with_header(api: NetMessengerApi) -> None:
    header, rows = api.open_report(MESSAGES_REPORT.splitlines(keepends=True))
    assert header == MESSAGES_HEADER
    data = list(rows)
    assert [r[0] for r in data] == ["3509592", "3509593", "3509594"]
    assert data[0] == ["3509592", "acme", "447777777777", "API", "Delivered", "", "2025-01-15 09:30:00",
                       "2025-01-15 09:30:05"]


def test_usage_report(api: NetMessengerApi) -> None:
    header, rows = api.parse_report(HttpResponse(200, USAGE_REPORT.encode()))
    assert header == ["Status", "Messages"]
    assert rows == [["Delivered", "5"], ["Undeliverable", "3"]]


@pytest.mark.parametrize("keepends", [True, False], ids=["file-lines", "streamed-lines"])
def test_quoted_values_survive_with_or_without_line_ends(keepends: bool) -> None:
    text = '\ufeff"MessageID","Message"\n\n"1","Hello, ""World""\nsecond line"\n"2","plain"\n\n'
    rows = list(iter_report_rows(text.splitlines(keepends=keepends)))
    assert rows == [["MessageID", "Message"], ["1", 'Hello, "World"\nsecond line'], ["2", "plain"]]


def test_report_is_streamed_not_held_whole(api: NetMessengerApi) -> None:
    consumed = 0

    def source(total: int) -> Iterator[str]:
        nonlocal consumed
        yield '"MessageID","Status"'
        consumed += 1
        for i in range(total):
            consumed += 1
            yield f'"{i}","Delivered"'

    header, rows = api.open_report(source(1_000_000))
    assert header == ["MessageID", "Status"]
    first = [next(rows) for _ in range(10)]
    assert first[-1] == ["9", "Delivered"]
    assert consumed <= 12  # a million-row answer, but only what was asked for was read
    assert sum(1 for _ in rows) == 1_000_000 - 10


@pytest.mark.parametrize(
    ("lines", "error", "code"),
    [
        (["-601", "Unknown Report Type"], SmsGatewayError, -601),
        (["", "-504", "Invalid From Timestamp"], SmsGatewayError, -504),
        (["-505"], SmsGatewayError, -505),
        (["\ufeff-501", "Unknown Username/Password"], SmsAuthenticationError, -501),
        (["-511", "The system is down for maintenance"], SmsTransientError, -511),
    ],
)
def test_report_error_answers(api: NetMessengerApi, lines: list[str], error: type[Exception], code: int) -> None:
    with pytest.raises(error) as exc:
        api.open_report(iter(lines))
    assert getattr(exc.value, "code", None) == code


def test_empty_report(api: NetMessengerApi) -> None:
    header, rows = api.open_report(["", "  "])
    assert header == []
    assert list(rows) == []


def test_contacts_and_groups_answers_are_csv(api: NetMessengerApi) -> None:
    header, rows = api.parse_report(HttpResponse(200, b'"Name","Number"\n"Ann","447777777771"\n'), "GetAllContacts")
    assert (header, rows) == (["Name", "Number"], [["Ann", "447777777771"]])
    with pytest.raises(SmsConfigurationError, match="does not know Action='GetAllGroups'"):
        api.parse_report(HttpResponse(200, b"-502\nUnknown Action"), "GetAllGroups")


def test_report_http_errors(api: NetMessengerApi) -> None:
    with pytest.raises(SmsTransientError):
        api.check_response(HttpResponse(502, b""))
    api.check_response(HttpResponse(200, b""))


def test_report_statuses(api: NetMessengerApi) -> None:
    header, rows = api.open_report(MESSAGES_REPORT.splitlines())
    statuses = list(api.report_statuses(header, rows))
    assert [(s.message_id, s.recipient, s.status, s.code) for s in statuses] == [
        ("3509592", "447777777777", DeliveryStatus.DELIVERED, "Delivered"),
        ("3509593", "447777777778", DeliveryStatus.FAILED, "Undeliverable"),
        ("3509594", "447777777779", DeliveryStatus.PENDING, "Pending"),
    ]
    with pytest.raises(SmsGatewayError, match="its columns: 'Status', 'Messages'"):
        api.report_statuses(["Status", "Messages"], [])


@pytest.mark.parametrize(
    "header",
    [
        ["Message ID", "Username", "Number", "Message Status"],
        ["message_id", "username", "To", "Delivery Status"],
        ["\ufeffMsgID", "Username", "Recipient", "STATUS"],
        ["ID", "Username", "Destination Address", "Status"],
    ],
)
def test_report_statuses_tolerate_column_name_variants(api: NetMessengerApi, header: list[str]) -> None:
    # The vendor page does not name the Messages report's columns: variants are read alike.
    rows = [["3509592", "demo", "447777777777", "Delivered"], ["3509593", "demo", "447777777778", "Rejected"]]
    statuses = list(api.report_statuses(header, rows))
    assert [(s.message_id, s.recipient, s.status) for s in statuses] == [
        ("3509592", "447777777777", DeliveryStatus.DELIVERED), ("3509593", "447777777778", DeliveryStatus.REJECTED)]


def test_report_statuses_without_an_id_column_fail_naming_the_columns(api: NetMessengerApi) -> None:
    with pytest.raises(SmsGatewayError, match=r"no message id and status columns.*'Reference', 'State'"):
        api.report_statuses(["Reference", "State"], [["1", "Delivered"]])


# --------------------------------------------------------------------------- contact uploads

# The first three lines of the vendor's ImportContactsCSV example, as rows.
VENDOR_ROWS: list[dict[str, Any]] = [
    {"name": "Contact 1", "number": "447777777771", "group1": "group1"},
    {"name": "Contact 2", "number": "447777777772"},
    {"name": "Contact 3", "number": "447777777773", "group1": "group1", "group2": "group2", "group3": "group3"},
]


def test_contacts_csv_vendor_example() -> None:
    assert build_contacts_csv(VENDOR_ROWS) == (
        "Contact 1,447777777771,,group1\n"
        "Contact 2,447777777772,\n"
        "Contact 3,447777777773,,group1,group2,group3"
    )


def test_contacts_csv_vendor_bad_line_is_refused_before_upload() -> None:
    # "Contact 5,mynumber,,group3" -- the gateway answers "Invalid number (mynumber)"; we refuse first.
    rows = [*VENDOR_ROWS, {"name": "Contact 5", "number": "mynumber", "group1": "group3"}]
    with pytest.raises(SmsValidationError) as exc:
        build_contacts_csv(rows)
    assert [(p.field, p.index, p.value) for p in exc.value.problems] == [("rows", 3, "mynumber")]


def test_contacts_csv_column_mapping_and_target_group() -> None:
    rows = [{"Full name": "Ann Lee", "Mobile": "+447777777771", "Mail": "ann@example.com", "Team": "Sales"},
            {"Full name": "Bo", "Mobile": 447777777772, "Mail": None}]
    csv_text = build_contacts_csv(rows, {"name": "Full name", "number": "Mobile", "email": "Mail", "group1": "Team"},
                                  group="Newsletter")
    assert csv_text == "Ann Lee,447777777771,ann@example.com,Sales,Newsletter\nBo,447777777772,,Newsletter"


def test_contacts_csv_quotes_commas_and_quotes() -> None:
    csv_text = build_contacts_csv([{"name": 'Smith, "Jo"', "number": "447777777771"}])
    assert csv_text == '"Smith, ""Jo""",447777777771,'


def test_contacts_csv_from_a_generator_of_chunk_rows() -> None:
    rows = ({"name": f"C{i}", "number": str(447700000000 + i)} for i in range(1000))
    lines = build_contacts_csv(rows).split("\n")
    assert len(lines) == 1000
    assert lines[-1] == "C999,447700000999,"


@pytest.mark.parametrize(
    ("rows", "columns", "group", "problems"),
    [
        ([{"number": "447777777771"}], None, None, [("rows", "name is missing")]),
        ([{"name": "A"}], None, None, [("rows", "number is missing")]),
        ([{"name": "A\nB", "number": "447777777771"}], None, None, [("rows", "line breaks")]),
        ([{"name": "A", "number": "1", "group1": "a", "group2": "b", "group3": "c"}], None, "d",
         [("rows", "at most 3 groups")]),
        ([{"name": "A", "number": "1"}], {"phone": "x"}, None, [("columns", "unknown field")]),
        ([], None, None, [("rows", "at least one contact")]),
        ([{"name": "A", "number": "1"}], None, " ", [("group", "must not be empty")]),
        ([{"number": "x"}, {"name": "B", "number": "1"}, {"name": "C"}], None, None,
         [("rows", "name is missing"), ("rows", "international digits"), ("rows", "number is missing")]),
    ],
)
def test_contacts_csv_problems(rows: list[dict[str, Any]], columns: dict[str, str] | None, group: str | None,
                               problems: list[tuple[str, str]]) -> None:
    with pytest.raises(SmsValidationError) as exc:
        build_contacts_csv(rows, columns, group=group)
    found = exc.value.problems
    assert len(found) == len(problems)
    for problem, (field, reason) in zip(found, problems, strict=True):
        assert problem.field == field
        assert reason in problem.reason
