"""NetMessenger protocol: every action's request (form POST, Token in the form only,
ShowErrorMessage), input validation before sending, and times in the account's zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.exceptions import SmsCapabilityError, SmsConfigurationError, SmsValidationError
from airflow_provider_sms.gateways.http import HttpRequest
from airflow_provider_sms.gateways.netmessenger import ChildUser, NetMessengerApi, ReportType, parse_group

TOKEN = "nm-TOKEN-7f3a-91bd-SECRET"
UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def api() -> NetMessengerApi:
    return NetMessengerApi(TOKEN)


def msg(**kwargs: object) -> OutgoingMessage:
    base: dict[str, object] = {"text": "Hello World", "numbers": ["447777777771"], "sender": "API"}
    base.update(kwargs)
    return OutgoingMessage(**base)  # type: ignore[arg-type]


JAN = dt.datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
JUL = dt.datetime(2025, 7, 1, 12, 0, tzinfo=UTC)

# (id, build, expected Action, expected fields between Action and ShowErrorMessage, not replay-safe)
REQUEST_CASES: list[tuple[str, Callable[[NetMessengerApi], HttpRequest], str, list[tuple[str, str]], bool]] = [
    ("check-credits", lambda a: a.credits_request(), "CheckCredits", [], False),
    ("check-message-status", lambda a: a.status_request("3509592"), "CheckMessageStatus",
     [("MessageID", "3509592")], False),
    ("send-numbers", lambda a: a.send_request(msg(numbers=["447777777771", "447777777772"])), "Send",
     [("DestinationAddress", "447777777771,447777777772"), ("SourceAddress", "API"), ("Body", "Hello World"),
      ("SourceTON", "5"), ("ValidityPeriod", "86400")], True),
    ("send-list", lambda a: a.send_request(msg(numbers=[], groups=["list:Staff"])), "Send",
     [("DestinationAddress", "List"), ("ListName", "Staff"), ("SourceAddress", "API"), ("Body", "Hello World"),
      ("SourceTON", "5"), ("ValidityPeriod", "86400"), ("GetBGSendID", "1")], True),
    ("send-group", lambda a: a.send_request(msg(numbers=[], groups=["Customers"])), "Send",
     [("DestinationAddress", "Group"), ("GroupName", "Customers"), ("SourceAddress", "API"),
      ("Body", "Hello World"), ("SourceTON", "5"), ("ValidityPeriod", "86400"), ("GetBGSendID", "1")], True),
    ("send-group-no-bgid", lambda a: a.send_request(msg(numbers=[], groups=["group:VIP"]), get_bg_send_id=False),
     "Send", [("DestinationAddress", "Group"), ("GroupName", "VIP"), ("SourceAddress", "API"),
              ("Body", "Hello World"), ("SourceTON", "5"), ("ValidityPeriod", "86400")], True),
    ("send-all-options",
     lambda a: a.send_request(msg(sender="+447700900123", send_at=JUL, extras={"Foo": "bar"}),
                              validity_period=3600),
     "Send", [("DestinationAddress", "447777777771"), ("SourceAddress", "447700900123"), ("Body", "Hello World"),
              ("ScheduleDate", "20250701130000"), ("SourceTON", "1"), ("ValidityPeriod", "3600"),
              ("Foo", "bar")], True),
    ("send-short-numeric-sender-ton5", lambda a: a.send_request(msg(sender="12345")), "Send",
     [("DestinationAddress", "447777777771"), ("SourceAddress", "12345"), ("Body", "Hello World"),
      ("SourceTON", "5"), ("ValidityPeriod", "86400")], True),
    ("send-ton-override", lambda a: a.send_request(msg(sender="12345"), source_ton=1), "Send",
     [("DestinationAddress", "447777777771"), ("SourceAddress", "12345"), ("Body", "Hello World"),
      ("SourceTON", "1"), ("ValidityPeriod", "86400")], True),
    # Seed 002 lists ValidityPeriod without "(optional)": sent always, from the message's validity.
    ("send-message-validity", lambda a: a.send_request(msg(validity=600)), "Send",
     [("DestinationAddress", "447777777771"), ("SourceAddress", "API"), ("Body", "Hello World"),
      ("SourceTON", "5"), ("ValidityPeriod", "600")], True),
    # A national number is not an international one (TON 1): it goes as written, TON 5.
    ("send-national-numeric-sender", lambda a: a.send_request(msg(sender="07911123456")), "Send",
     [("DestinationAddress", "447777777771"), ("SourceAddress", "07911123456"), ("Body", "Hello World"),
      ("SourceTON", "5"), ("ValidityPeriod", "86400")], True),
    ("send-international-numeric-sender", lambda a: a.send_request(msg(sender="447911123456")), "Send",
     [("DestinationAddress", "447777777771"), ("SourceAddress", "447911123456"), ("Body", "Hello World"),
      ("SourceTON", "1"), ("ValidityPeriod", "86400")], True),
    ("send-all-message-ids",
     lambda a: NetMessengerApi(TOKEN, get_all_message_ids=True).send_request(msg()), "Send",
     [("DestinationAddress", "447777777771"), ("SourceAddress", "API"), ("Body", "Hello World"),
      ("SourceTON", "5"), ("ValidityPeriod", "86400"), ("GetAllMessageIDs", "1")], True),
    ("cancel-default", lambda a: a.cancel_request("55379665"), "CancelMessage", [("MessageID", "55379665")], False),
    ("cancel-configured", lambda a: NetMessengerApi(TOKEN, cancel_action="Cancel").cancel_request("55379665"),
     "Cancel", [("MessageID", "55379665")], False),
    ("report-outbox", lambda a: a.report_request(ReportType.OUTBOX), "Report", [("ReportType", "Outbox")], False),
    ("report-messages-any-case", lambda a: a.report_request("messages", JAN, JUL), "Report",
     [("ReportType", "Messages"), ("From", "20250115093000"), ("To", "20250701130000")], False),
    ("create-user-minimal",
     lambda a: a.create_user_request(ChildUser("child1", "pw-1", "Ann", "Lee", "ann@example.com", 5)),
     "CreateUser", [("ChildUsername", "child1"), ("ChildPassword", "pw-1"), ("AccessLevel", "Normal"),
                    ("FirstName", "Ann"), ("LastName", "Lee"), ("Email", "ann@example.com"), ("Credits", "5")], True),
    ("create-user-full",
     lambda a: a.create_user_request(ChildUser("child2", "pw-2", "Bo", "Ng", "bo@example.com", 0, "Admin",
                                               telephone="447700900001", credit_reminder=10, alert=30)),
     "CreateUser", [("ChildUsername", "child2"), ("ChildPassword", "pw-2"), ("AccessLevel", "Admin"),
                    ("FirstName", "Bo"), ("LastName", "Ng"), ("Email", "bo@example.com"),
                    ("Telephone", "447700900001"), ("Credits", "0"), ("Credit Reminder", "10"), ("Alert", "30")], True),
    ("update-credits-to-child", lambda a: a.update_credits_request("child1", 5), "UpdateCredits",
     [("ChildUsername", "child1"), ("Quantity", "5")], True),
    ("update-credits-back", lambda a: a.update_credits_request("child1", -3), "UpdateCredits",
     [("ChildUsername", "child1"), ("Quantity", "-3")], True),
    ("import-contacts", lambda a: a.import_contacts_request("Contact 1,447777777771,,group1"), "ImportContactsCSV",
     [("ContactsCSV", "Contact 1,447777777771,,group1")], True),
    ("import-contacts-dupes",
     lambda a: a.import_contacts_request("A,447777777771,", ignore_dupes=True, overwrite_dupes=True),
     "ImportContactsCSV", [("ContactsCSV", "A,447777777771,"), ("IgnoreDupes", "1"), ("OverwriteDupes", "1")], True),
    ("get-all-contacts", lambda a: a.contacts_request(), "GetAllContacts", [], False),
    ("get-all-groups", lambda a: a.groups_request(), "GetAllGroups", [], False),
    ("delete-all-contacts", lambda a: a.delete_all_contacts_request(), "DeleteAllContacts", [], False),
    ("delete-all-groups", lambda a: a.delete_all_groups_request(), "DeleteAllGroups", [], False),
    ("empty-group", lambda a: a.empty_group_request("Staff"), "EmptyGroup", [("Group", "Staff")], False),
    ("delete-group", lambda a: a.delete_group_request(" Staff "), "DeleteGroup", [("Group", "Staff")], False),
    ("get-bg-messages", lambda a: a.background_messages_request("777"), "GetBGMessages", [("BGSendID", "777")],
     False),
]


@pytest.mark.parametrize(("build", "action", "fields", "not_replay_safe"),
                         [c[1:] for c in REQUEST_CASES], ids=[c[0] for c in REQUEST_CASES])
def test_every_action_is_a_form_post_with_token_in_the_form_only(
    api: NetMessengerApi,
    build: Callable[[NetMessengerApi], HttpRequest],
    action: str,
    fields: list[tuple[str, str]],
    not_replay_safe: bool,
) -> None:
    request = build(api)
    assert request.method == "POST"
    assert request.path == "/api"
    assert dict(request.query) == {}
    assert request.json is None
    assert request.auth is None
    assert request.form is not None
    form = list(request.form)
    assert form[0] == ("Token", TOKEN)
    assert form[1] == ("Action", action)
    assert form[-1] == ("ShowErrorMessage", "1")
    assert form[2:-1] == fields
    assert [k for k, _ in form].count("Token") == 1
    assert TOKEN not in request.path
    assert TOKEN not in repr(request)
    assert request.dedupe_key is None  # NetMessenger never deduplicates: nothing may look replay-safe
    assert request.sends_message is not_replay_safe
    assert request.replay_safe is not not_replay_safe


def test_send_request_names_its_recipients(api: NetMessengerApi) -> None:
    numbers = api.send_request(msg(numbers=["447777777771", "447777777772"]))
    group = api.send_request(msg(numbers=[], groups=["list:Staff"]))
    assert list(numbers.recipients) == ["447777777771", "447777777772"]
    assert list(group.recipients) == ["list:Staff"]


def test_dedupe_key_and_options_the_api_lacks_are_not_sent(api: NetMessengerApi) -> None:
    request = api.send_request(msg(dedupe_key=42, client_ref="ref-1", want_report=False))
    assert request.dedupe_key is None
    assert request.form is not None
    assert {k for k, _ in request.form} == {"Token", "Action", "DestinationAddress", "SourceAddress", "Body",
                                            "SourceTON", "ValidityPeriod", "ShowErrorMessage"}


def test_base_path_is_configurable() -> None:
    assert NetMessengerApi(TOKEN, base_path="nm/api/").credits_request().path == "/nm/api"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Staff", ("Group", "Staff")),
        ("group:Staff", ("Group", "Staff")),
        ("GROUP: Staff ", ("Group", "Staff")),
        ("list:Night shift", ("List", "Night shift")),
        ("List:a:b", ("List", "a:b")),
        ("Team:A", ("Group", "Team:A")),
    ],
)
def test_parse_group(value: str, expected: tuple[str, str]) -> None:
    assert parse_group(value) == expected


# ------------------------------------------------------------------------------------ validation

def _fields(exc: pytest.ExceptionInfo[SmsValidationError]) -> list[str]:
    return [p.field for p in exc.value.problems]


@pytest.mark.parametrize(
    ("message", "field", "reason"),
    [
        (msg(numbers=[]), "recipients", "at least one number"),
        (msg(groups=["Staff"]), "recipients", "not both"),
        (msg(numbers=[], groups=["A", "B"]), "groups", "one group or list"),
        (msg(numbers=[], groups=["list:"]), "groups", "list name must not be empty"),
        (msg(numbers=["+447777777771"]), "numbers", "international digits"),
        (msg(numbers=["447777777771", "447777777771"]), "numbers", "duplicate"),
        (msg(numbers=[str(447700000000 + i) for i in range(201)]), "numbers", "at most 200 numbers"),
        (msg(sender=None), "sender", "needs a sender"),
        (msg(sender="  "), "sender", "must not be empty"),
        (msg(sender="ABCDEFGHIJKL"), "sender", "at most 11 characters"),
        (msg(sender="Caf\u00e9\u4e2d"), "sender", "GSM 03.38"),
        (msg(sender="Tab\tName"), "sender", "control characters"),
        (msg(sender="1234567890123456"), "sender", "at most 15 digits"),
        (msg(text=""), "message", "must not be empty"),
        (msg(text="   "), "message", "whitespace"),
        (msg(text="a" * 460), "message", "needs 4 GSM-7 parts"),
        (msg(text="a" * 458 + "\u20ac"), "message", "needs 4 GSM-7 parts"),
        (msg(text="a" * 200, max_parts=1), "message", "at most 1 is allowed"),
        (msg(text="\u4e2d\u6587"), "message", "GSM 03.38"),
        (msg(unicode=True), "unicode", "no documented unicode"),
        (msg(max_parts=4), "max_parts", "between 1 and 3"),
        (msg(send_at=dt.datetime(2030, 1, 1, 9, 0)), "send_at", "timezone-aware"),
        (msg(extras={"Body": "x"}), "extras", "clashes"),
        (msg(extras={"token": "x"}), "extras", "clashes"),
        (msg(extras={"Foo": 1}), "extras", "must be a string"),
        (msg(validity=86401), "validity", "from 1 to 86400"),
        (msg(validity=0), "validity", "from 1 to 86400"),
        (msg(sender="079111234567"), "sender", "national form"),
    ],
)
def test_check_problems(api: NetMessengerApi, message: OutgoingMessage, field: str, reason: str) -> None:
    with pytest.raises(SmsValidationError) as exc:
        api.check(message)
    assert any(p.field == field and reason in p.reason for p in exc.value.problems), exc.value.problems
    with pytest.raises(SmsValidationError):
        api.send_request(message)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"validity_period": 0}, "validity"),
        ({"validity_period": 86401}, "validity"),
        ({"validity_period": True}, "validity"),
        ({"source_ton": 2}, "source_ton"),
        ({"source_ton": 1}, "source_ton"),  # alphanumeric sender "API"
    ],
)
def test_option_problems(api: NetMessengerApi, kwargs: dict[str, int], field: str) -> None:
    with pytest.raises(SmsValidationError) as exc:
        api.send_request(msg(), **kwargs)  # type: ignore[arg-type]
    assert _fields(exc) == [field]


def test_source_ton_1_refuses_a_national_number(api: NetMessengerApi) -> None:
    with pytest.raises(SmsValidationError) as exc:
        api.send_request(msg(sender="07911123456"), source_ton=1)
    assert _fields(exc) == ["source_ton"]


def test_every_problem_is_listed_at_once(api: NetMessengerApi) -> None:
    bad = msg(numbers=["44x", "447777777771", "447777777771"], sender="ABCDEFGHIJKLMNOP", text="",
              send_at=dt.datetime(2030, 1, 1), extras={"Action": "Send"})
    with pytest.raises(SmsValidationError) as exc:
        api.check(bad)
    assert _fields(exc) == ["numbers", "numbers", "sender", "message", "send_at", "extras"]


@pytest.mark.parametrize(
    "message",
    [
        msg(),
        msg(text="a" * 459),  # the documented Body maximum: 3 parts of 153
        msg(text="\u20ac" * 228),  # two septets each, never split across parts: 76 per part
        msg(numbers=[str(447700000000 + i) for i in range(200)]),
        msg(numbers=[], groups=["list:Staff"], sender="447700900123"),
        msg(sender="Caf\u00e9 & Co"),
        msg(max_parts=2, text="a" * 306),
    ],
)
def test_valid_messages_pass(api: NetMessengerApi, message: OutgoingMessage) -> None:
    api.check(message)


def test_unicode_needs_allow_unicode() -> None:
    text = "\u4e2d" * 201  # 3 UCS-2 parts of 67
    NetMessengerApi(TOKEN, allow_unicode=True).check(msg(text=text))
    with pytest.raises(SmsValidationError):
        NetMessengerApi(TOKEN, allow_unicode=True).check(msg(text=text + "\u4e2d"))
    with pytest.raises(SmsValidationError):
        NetMessengerApi(TOKEN).check(msg(text=text))


def test_test_mode_is_a_capability_error(api: NetMessengerApi) -> None:
    with pytest.raises(SmsCapabilityError, match="test_mode"):
        api.check(msg(test_mode="succeed"))


def test_max_recipients_per_request_is_a_class_attribute() -> None:
    assert NetMessengerApi.max_recipients_per_request == 200

    class Wider(NetMessengerApi):
        max_recipients_per_request = 1000

    Wider(TOKEN).check(msg(numbers=[str(447700000000 + i) for i in range(1000)]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"token": ""}, "token is empty"),
        ({"token": "   "}, "token is empty"),
        ({"token": TOKEN, "time_zone": "Mars/Olympus"}, "unknown time zone"),
        ({"token": TOKEN, "cancel_action": "Cancel Message"}, "cancel_action"),
    ],
)
def test_constructor_errors(kwargs: dict[str, str], match: str) -> None:
    with pytest.raises(SmsConfigurationError, match=match):
        NetMessengerApi(**kwargs)


@pytest.mark.parametrize(
    ("build", "fields"),
    [
        (lambda a: a.report_request("Bogus", JAN, JUL), ["report_type"]),
        (lambda a: a.report_request(ReportType.MESSAGES), ["start", "end"]),
        (lambda a: a.report_request(ReportType.USAGE, dt.datetime(2025, 1, 1), JUL), ["start"]),
        (lambda a: a.report_request(ReportType.USAGE, JUL, JAN), ["end"]),
        (lambda a: a.status_request("abc"), ["message_id"]),
        (lambda a: a.status_request("0"), ["message_id"]),
        (lambda a: a.cancel_request(""), ["message_id"]),
        (lambda a: a.background_messages_request("-1"), ["background_send_id"]),
        (lambda a: a.update_credits_request(" ", 0), ["child_username", "quantity"]),
        (lambda a: a.update_credits_request("c", True), ["quantity"]),
        (lambda a: a.import_contacts_request("  "), ["contacts_csv"]),
        (lambda a: a.empty_group_request(""), ["group"]),
        (lambda a: a.delete_group_request("  "), ["group"]),
        (lambda a: a.create_user_request(ChildUser("", "", "", "", "nope", -1, "Root",  # type: ignore[arg-type]
                                                   telephone=" ", credit_reminder=-1, alert=0)),
         ["username", "first_name", "last_name", "password", "email", "access_level", "credits", "credit_reminder",
          "alert", "telephone"]),
    ],
)
def test_builder_problems(api: NetMessengerApi, build: Callable[[NetMessengerApi], HttpRequest],
                          fields: list[str]) -> None:
    with pytest.raises(SmsValidationError) as exc:
        build(api)
    assert _fields(exc) == fields


@pytest.mark.parametrize("report_type", list(ReportType), ids=lambda t: t.value)
def test_every_report_type(api: NetMessengerApi, report_type: ReportType) -> None:
    request = api.report_request(report_type, JAN, JUL)
    assert request.form is not None
    form = dict(request.form)
    assert form["ReportType"] == report_type.value
    assert (form["From"], form["To"]) == ("20250115093000", "20250701130000")


def test_outbox_needs_no_dates(api: NetMessengerApi) -> None:
    request = api.report_request("OUTBOX")
    assert request.form is not None
    assert "From" not in dict(request.form)


# ------------------------------------------------------------------------------------ time zones

@pytest.mark.parametrize(
    ("when", "expected"),
    [
        # winter (GMT = UTC)
        (dt.datetime(2025, 1, 15, 12, 0, tzinfo=UTC), "20250115120000"),
        # spring forward, 2025-03-30 01:00 UTC: 00:59:59 GMT, then 02:00:00 BST
        (dt.datetime(2025, 3, 30, 0, 59, 59, tzinfo=UTC), "20250330005959"),
        (dt.datetime(2025, 3, 30, 1, 0, 0, tzinfo=UTC), "20250330020000"),
        # summer (BST = UTC+1)
        (dt.datetime(2025, 7, 1, 12, 0, tzinfo=UTC), "20250701130000"),
        # fall back, 2025-10-26 01:00 UTC: 01:30 BST and 01:30 GMT share one wall-clock text
        (dt.datetime(2025, 10, 26, 0, 30, tzinfo=UTC), "20251026013000"),
        (dt.datetime(2025, 10, 26, 1, 30, tzinfo=UTC), "20251026013000"),
        (dt.datetime(2025, 10, 26, 2, 0, tzinfo=UTC), "20251026020000"),
        # other zones in, London out
        (dt.datetime(2025, 7, 1, 8, 0, tzinfo=ZoneInfo("America/New_York")), "20250701130000"),
        (dt.datetime(2025, 3, 30, 3, 0, tzinfo=ZoneInfo("Europe/Paris")), "20250330020000"),
        (dt.datetime(2025, 3, 30, 1, 59, tzinfo=ZoneInfo("Europe/Paris")), "20250330005900"),
        (dt.datetime(2025, 12, 31, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5))), "20260101045959"),
    ],
)
def test_schedule_date_is_europe_london_wall_clock(api: NetMessengerApi, when: dt.datetime, expected: str) -> None:
    assert api.schedule_date(when) == expected
    request = api.send_request(msg(send_at=when))
    assert request.form is not None
    assert dict(request.form)["ScheduleDate"] == expected


def test_schedule_across_dst_keeps_the_instant(api: NetMessengerApi) -> None:
    # One hour apart in real time, two hours apart on the London wall clock (the spring gap).
    before = dt.datetime(2025, 3, 30, 0, 30, tzinfo=UTC)
    after = before + dt.timedelta(hours=1)
    assert (api.schedule_date(before), api.schedule_date(after)) == ("20250330003000", "20250330023000")
    assert api.schedule_date(after.astimezone(LONDON)) == "20250330023000"


def test_account_time_zone_is_configurable() -> None:
    paris = NetMessengerApi(TOKEN, time_zone="Europe/Paris")
    assert paris.schedule_date(dt.datetime(2025, 7, 1, 12, 0, tzinfo=UTC)) == "20250701140000"
    request = paris.report_request(ReportType.USAGE, JAN, JUL)
    assert request.form is not None
    assert dict(request.form)["From"] == "20250115103000"


def test_pendulum_datetimes_are_accepted(api: NetMessengerApi) -> None:
    pendulum = pytest.importorskip("pendulum")
    when = pendulum.datetime(2025, 3, 30, 1, 0, 0, tz="UTC")
    assert api.schedule_date(when) == "20250330020000"


def test_naive_datetime_is_refused(api: NetMessengerApi) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        api.schedule_date(dt.datetime(2025, 1, 1))


def test_child_user_repr_hides_password() -> None:
    user = ChildUser("child1", "hunter2-secret", "Ann", "Lee", "ann@example.com", 5)
    assert "hunter2-secret" not in repr(user)
    assert "hunter2-secret" not in repr(replace(user, credits=6))
