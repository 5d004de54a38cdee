"""NetMessenger protocol: parsing every kind of answer into the shared model and the error tree.

Vendor examples (seed 002, the FastSMS HTTP API page) are kept verbatim, typographic quotes
included: ``IMPORT_ANSWER``, ``BG_MESSAGES`` and ``BG_ERROR``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.results import DeliveryStatus
from airflow_provider_sms.exceptions import (
    SmsAmbiguousError,
    SmsAuthenticationError,
    SmsConfigurationError,
    SmsError,
    SmsGatewayError,
    SmsPartialFailure,
    SmsRateLimitedError,
    SmsTransientError,
)
from airflow_provider_sms.gateways.http import HttpResponse
from airflow_provider_sms.gateways.netmessenger import (
    BackgroundSendMessages,
    ChildUser,
    ImportOutcome,
    NetMessengerApi,
)

TOKEN = "nm-TOKEN-7f3a-91bd-SECRET"

# "Gives the reponse:" -- the vendor's ImportContactsCSV example answer, verbatim (two blank lines
# before the detail block, as on the page).
IMPORT_ANSWER = """\
1 : Success
2 : Success
3 : Success
4 : Failed
5 : Failed


4 : No name
5 : Invalid number (mynumber)
"""

# GetBGMessages, verbatim from the vendor page (its quotes went through a word processor).
BG_MESSAGES = (
    "[{\u201cMessageID\u201d:\u201d3509592\u2033,\u201dDestination\u201d:\u201d447777777777\u2033,"
    "\u201dStatus\u201d:\u201dSent\u201d},{\u201cMessageID\u201d:\u201d3509593\u2033,"
    "\u201dDestination\u201d:\u201d447777777778\u2033,\u201dStatus\u201d:\u201dSent\u201d}]"
)
BG_ERROR = "{\u201cerror\u201d:\u201d-521\u2033,\u201dmessage\u201d:\u201dUnknown Background SendID\u201d}"


def resp(body: str | bytes, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, body.encode() if isinstance(body, str) else body, headers or {})


@pytest.fixture
def api() -> NetMessengerApi:
    return NetMessengerApi(TOKEN)


def numbers_msg(*numbers: str, **kwargs: Any) -> OutgoingMessage:
    return OutgoingMessage(text=kwargs.pop("text", "Hello World"), numbers=list(numbers), sender="API", **kwargs)


def group_msg(group: str, **kwargs: Any) -> OutgoingMessage:
    return OutgoingMessage(text="Hello World", groups=[group], sender="API", **kwargs)


N1, N2, N3 = "447777777771", "447777777772", "447777777773"


# ------------------------------------------------------------------------------ sends to numbers

@pytest.mark.parametrize(
    ("body", "numbers", "expected"),
    [
        # The official PHP SDK's example answer for two numbers.
        ("55379665,55379666", (N1, N2), [(True, "55379665", None), (True, "55379666", None)]),
        ("55379665", (N1,), [(True, "55379665", None)]),
        # Ids mixed with negative codes, one per destination, in order (ShowErrorMessage text after).
        ("55379665,-401,55379667\nInvalid Destination Address\n", (N1, N2, N3),
         [(True, "55379665", None), (False, None, "-401"), (True, "55379667", None)]),
        ("-412,55379666\r\nNumber is blacklisted\r\n", (N1, N2), [(False, None, "-412"), (True, "55379666", None)]),
        (" 55379665 , -406 ,", (N1, N2), [(True, "55379665", None), (False, None, "-406")]),
        # Credits running out part-way: per destination, not a whole-request failure.
        ("55379665,-100,-100", (N1, N2, N3), [(True, "55379665", None), (False, None, "-100"), (False, None, "-100")]),
        ("-401,-412", (N1, N2), [(False, None, "-401"), (False, None, "-412")]),
        ("-401,-401", (N1, N2), [(False, None, "-401"), (False, None, "-401")]),
        # A single number refused for a reason about that number: a rejected recipient.
        ("-401\nInvalid Destination Address", (N1,), [(False, None, "-401")]),
        ("-411", (N1,), [(False, None, "-411")]),
        ("\ufeff55379665\n", (N1,), [(True, "55379665", None)]),
    ],
)
def test_send_to_numbers(api: NetMessengerApi, body: str, numbers: tuple[str, ...],
                         expected: list[tuple[bool, str | None, str | None]]) -> None:
    result = api.parse_send(resp(body), numbers_msg(*numbers))
    assert result.gateway == "netmessenger"
    assert [r.recipient for r in result.results] == list(numbers)
    assert [(r.accepted, r.message_id, r.code) for r in result.results] == expected
    for r in result.results:
        assert r.status is (DeliveryStatus.PENDING if r.accepted else DeliveryStatus.REJECTED)
        assert (r.text is None) is r.accepted
    assert result.background_send_ids == []


def test_rejected_recipient_text_is_the_table_meaning(api: NetMessengerApi) -> None:
    result = api.parse_send(resp("55379665,-412,-401\nNumber is blacklisted\nInvalid Destination Address"),
                            numbers_msg(N1, N2, N3))
    assert [r.text for r in result.rejected] == ["Number is blacklisted", "Invalid Destination Address"]
    data = result.to_dict()
    assert data["accepted_count"] == 1
    assert data["rejected_count"] == 2
    assert data["message_ids"] == ["55379665"]


def test_undocumented_rejection_code_keeps_the_gateway_text(api: NetMessengerApi) -> None:
    result = api.parse_send(resp("55379665,-499\nSomething new"), numbers_msg(N1, N2))
    assert (result.results[1].code, result.results[1].text) == ("-499", "Something new")


def test_scheduled_send_is_scheduled(api: NetMessengerApi) -> None:
    message = numbers_msg(N1, N2, send_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    result = api.parse_send(resp("1001,-401"), message)
    assert [r.status for r in result.results] == [DeliveryStatus.SCHEDULED, DeliveryStatus.REJECTED]


@pytest.mark.parametrize(
    ("body", "numbers", "error", "code"),
    [
        ("-501\nUnknown Username/Password", (N1,), SmsAuthenticationError, -501),
        ("-501\nUnknown Username/Password", (N1, N2), SmsAuthenticationError, -501),
        ("-100\nNot Enough Credits", (N1,), SmsGatewayError, -100),  # one code for the whole request
        ("-100", (N1, N2, N3), SmsGatewayError, -100),
        ("-100,-100", (N1, N2), SmsGatewayError, -100),
        ("-401", (N1, N2), SmsGatewayError, -401),
        # The gateway may have texted before failing: in doubt, like a lost answer (issue 6).
        ("-511\nThe system is down for maintenance", (N1, N2), SmsAmbiguousError, -511),
        ("-511,-511", (N1, N2), SmsAmbiguousError, -511),  # every destination, one request-level code
        ("-300\nGeneral Database Error", (N1,), SmsAmbiguousError, -300),
        ("-404\nBlank Body", (N1,), SmsGatewayError, -404),
        ("-402", (N1,), SmsGatewayError, -402),
    ],
)
def test_send_whole_request_errors(api: NetMessengerApi, body: str, numbers: tuple[str, ...],
                                   error: type[SmsError], code: int) -> None:
    with pytest.raises(error) as exc:
        api.parse_send(resp(body), numbers_msg(*numbers))
    assert type(exc.value) is error
    assert exc.value.code == code
    assert exc.value.gateway == "netmessenger"


@pytest.mark.parametrize(
    ("body", "numbers"),
    [("-400", (N1, N2)), ("-400\nSome numbers in list failed", (N1, N2)), ("-400", (N1,)), ("-400,-400", (N1, N2))],
)
def test_bare_partial_failure_to_numbers_leaves_every_number_in_doubt(api: NetMessengerApi, body: str,
                                                                      numbers: tuple[str, ...]) -> None:
    # Seed 002: -400 "Some numbers in list failed" -- some were texted, the answer says not which.
    with pytest.raises(SmsAmbiguousError) as exc:
        api.parse_send(resp(body), numbers_msg(*numbers))
    assert list(exc.value.recipients_in_doubt) == list(numbers)


@pytest.mark.parametrize(
    "body",
    ["55379665,55379666,55379667", "55379665", "", "<html>Server error</html>", "OK", "55379665,abc", "0,1"],
)
def test_send_answers_that_do_not_line_up_are_ambiguous(api: NetMessengerApi, body: str) -> None:
    with pytest.raises(SmsAmbiguousError) as exc:
        api.parse_send(resp(body), numbers_msg(N1, N2))
    assert exc.value.recipients_in_doubt == [N1, N2]


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, SmsAmbiguousError), (502, SmsAmbiguousError), (504, SmsAmbiguousError), (408, SmsAmbiguousError),
     (503, SmsAmbiguousError), (429, SmsRateLimitedError), (401, SmsAuthenticationError),
     (403, SmsAuthenticationError), (404, SmsGatewayError)],
)
def test_send_http_errors(api: NetMessengerApi, status: int, error: type[SmsError]) -> None:
    with pytest.raises(error) as exc:
        api.parse_send(resp("", status, {"retry-after": "7"}), numbers_msg(N1))
    assert type(exc.value) is error
    if isinstance(exc.value, SmsTransientError | SmsRateLimitedError):
        assert exc.value.retry_after == 7.0
    if isinstance(exc.value, SmsAmbiguousError):
        assert exc.value.recipients_in_doubt == [N1]


@pytest.mark.parametrize(("status", "error"), [(500, SmsTransientError), (408, SmsTransientError),
                                               (429, SmsRateLimitedError)])
def test_read_http_errors_are_retryable(api: NetMessengerApi, status: int, error: type[SmsError]) -> None:
    with pytest.raises(error):
        api.parse_credits(resp("oops", status))


# ------------------------------------------------------------------------- GetAllMessageIDs

LONG = "x" * 200  # two GSM-7 parts


@pytest.mark.parametrize(
    ("body", "numbers", "expected"),
    [
        ("101,102,201,202", (N1, N2), [("101", "102"), ("201", "202")]),
        ("101,102,-401", (N1, N2), [("101", "102"), ()]),
        ("-401,201,202", (N1, N2), [(), ("201", "202")]),
        ("101,102", (N1,), [("101", "102")]),
        ("101,102,103,201,202,203", (N1, N2), [("101", "102", "103"), ("201", "202", "203")]),  # gateway: 3 parts
        ("101,201", (N1, N2), [("101",), ("201",)]),  # one id each: a count that lines up is one per destination
    ],
)
def test_all_message_ids(body: str, numbers: tuple[str, ...], expected: list[tuple[str, ...]]) -> None:
    api = NetMessengerApi(TOKEN, get_all_message_ids=True)
    message = numbers_msg(*numbers, text=LONG)
    items = api.parse_send_items(resp(body), message)
    assert [i.message_ids for i in items] == expected
    result = api.parse_send(resp(body), message)
    assert [r.message_id for r in result.results] == [ids[0] if ids else None for ids in expected]


def test_all_message_ids_that_cannot_line_up_are_ambiguous() -> None:
    api = NetMessengerApi(TOKEN, get_all_message_ids=True)
    with pytest.raises(SmsAmbiguousError):
        api.parse_send(resp("101,102,103,-401,104"), numbers_msg(N1, N2, text=LONG))


# ----------------------------------------------------------------------- sends to groups/lists

@pytest.mark.parametrize(
    ("body", "group", "ids"),
    [
        ("1", "Customers", []),
        ("1\n", "list:Staff", []),
        ("3509001", "list:Staff", ["3509001"]),
        ("3509001,3509002", "list:Staff", ["3509001", "3509002"]),
        ("1,3509001", "group:VIP", ["3509001"]),
        # The success flag and the id(s) on separate lines: every answer line is read.
        ("1\n3509001", "list:Staff", ["3509001"]),
        ("1\r\n3509001,3509002\r\n", "list:Staff", ["3509001", "3509002"]),
    ],
)
def test_group_and_list_sends(api: NetMessengerApi, body: str, group: str, ids: list[str]) -> None:
    result = api.parse_send(resp(body), group_msg(group))
    assert result.background_send_ids == ids
    (only,) = result.results
    assert (only.recipient, only.accepted, only.status) == (group, True, DeliveryStatus.PENDING)
    assert only.batch_id == (ids[0] if ids else None)


def test_group_partial_failure_carries_the_result(api: NetMessengerApi) -> None:
    with pytest.raises(SmsPartialFailure) as exc:
        api.parse_send(resp("-400\nSome numbers in list failed"), group_msg("list:Staff"))
    assert exc.value.code == -400
    assert exc.value.result["results"][0]["recipient"] == "list:Staff"
    assert exc.value.result["results"][0]["code"] == "-400"


@pytest.mark.parametrize(
    ("body", "error", "code"),
    [
        ("-520\nUnknown Group", SmsGatewayError, -520),
        ("-409\nGroup is Empty", SmsGatewayError, -409),
        ("-408", SmsGatewayError, -408),
        ("-516", SmsGatewayError, -516),
        ("-517", SmsAmbiguousError, -517),
        ("-501", SmsAuthenticationError, -501),
    ],
)
def test_group_send_errors(api: NetMessengerApi, body: str, error: type[SmsError], code: int) -> None:
    with pytest.raises(error) as exc:
        api.parse_send(resp(body), group_msg("list:Staff"))
    assert exc.value.code == code


def test_group_send_unreadable_is_ambiguous(api: NetMessengerApi) -> None:
    with pytest.raises(SmsAmbiguousError) as exc:
        api.parse_send(resp("<html>"), group_msg("list:Staff"))
    assert exc.value.recipients_in_doubt == ["list:Staff"]


# --------------------------------------------------------------------- credits, status, cancel

@pytest.mark.parametrize(
    ("body", "credits"),
    [("1234", 1234.0), ("12.5\n", 12.5), ("12,5", 12.5), ("1,234.50", 1234.5), ("0", 0.0), ("-12.5", -12.5)],
)
def test_credits(api: NetMessengerApi, body: str, credits: float) -> None:
    assert api.parse_credits(resp(body)) == credits


def test_credits_errors(api: NetMessengerApi) -> None:
    with pytest.raises(SmsAuthenticationError):
        api.parse_credits(resp("-501\nUnknown Username/Password"))
    with pytest.raises(SmsTransientError):
        api.parse_credits(resp("<html>"))


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("Delivered", DeliveryStatus.DELIVERED),  # .NET SDK live-API expectation
        ("Undeliverable", DeliveryStatus.FAILED),  # .NET SDK live-API expectation
        ("Pending", DeliveryStatus.PENDING),
        ("Sent", DeliveryStatus.SENT),
        ("FAILED", DeliveryStatus.FAILED),
        ("UNKNOWN", DeliveryStatus.UNKNOWN),
        ("EXPIRED", DeliveryStatus.EXPIRED),
        ("COMMAND_REJECTED", DeliveryStatus.REJECTED),
        ("COMMAND_FAILED", DeliveryStatus.FAILED),
        ("Something New", DeliveryStatus.UNKNOWN),
    ],
)
def test_check_message_status(api: NetMessengerApi, word: str, status: DeliveryStatus) -> None:
    result = api.parse_status(resp(word + "\n"), "3509592")
    assert (result.status, result.message_id, result.code) == (status, "3509592", word)


def test_check_message_status_errors(api: NetMessengerApi) -> None:
    with pytest.raises(SmsGatewayError, match="Unknown Message ID") as exc:
        api.parse_status(resp("-503\nUnknown Message ID"), "1")
    assert exc.value.code == -503
    with pytest.raises(SmsTransientError):
        api.parse_status(resp(""), "1")


def test_cancel(api: NetMessengerApi) -> None:
    api.parse_cancel(resp("1"))
    with pytest.raises(SmsGatewayError, match="already sent") as exc:
        api.parse_cancel(resp("-503\nUnknown Message ID"))
    assert exc.value.code == -503


def test_wrong_cancel_action_is_a_configuration_error() -> None:
    api = NetMessengerApi(TOKEN, cancel_action="Cancel")
    with pytest.raises(SmsConfigurationError, match="cancel_action") as exc:
        api.parse_cancel(resp("-502\nUnknown Action"))
    assert exc.value.code == -502


@pytest.mark.parametrize("action", ["DeleteAllContacts", "DeleteAllGroups", "EmptyGroup", "DeleteGroup"])
def test_one_answers(api: NetMessengerApi, action: str) -> None:
    api.parse_ok(resp("1\n"), action)
    with pytest.raises(SmsGatewayError) as exc:
        api.parse_ok(resp("-520\nUnknown Group"), action)
    assert exc.value.code == -520
    with pytest.raises(SmsTransientError):  # deleting again is harmless: safe to retry
        api.parse_ok(resp("0"), action)


def test_update_credits(api: NetMessengerApi) -> None:
    api.parse_update_credits(resp("1"))
    with pytest.raises(SmsGatewayError, match="less than 0") as exc:
        api.parse_update_credits(resp("-510"))
    assert exc.value.code == -510
    with pytest.raises(SmsAmbiguousError):  # credits may have moved: never replayed blindly
        api.parse_update_credits(resp("<html>"))


def test_create_user(api: NetMessengerApi) -> None:
    user = ChildUser("child1", "pw-Very-Secret-1", "Ann", "Lee", "ann@example.com", 5)
    api.parse_create_user(resp("1"), user)
    body = "-507\nInvalid/Missing Details\nPassword pw-Very-Secret-1 is too short\nEmail is invalid"
    with pytest.raises(SmsGatewayError) as exc:
        api.parse_create_user(resp(body), user)
    text = str(exc.value)
    assert exc.value.code == -507
    assert "Email is invalid" in text
    assert "too short" in text
    assert "pw-Very-Secret-1" not in text
    assert "pw-Very-Secret-1" not in repr(exc.value)


# ------------------------------------------------------------------------------ contact import

def test_import_vendor_example(api: NetMessengerApi) -> None:
    result = api.parse_import(resp(IMPORT_ANSWER))
    assert result.counts == {"success": 3, "partial": 0, "failed": 2, "duplicate_name": 0, "duplicate_number": 0,
                             "unknown": 0}
    assert [(line.line, line.outcome, line.result) for line in result.lines] == [
        (1, ImportOutcome.SUCCESS, "Success"),
        (2, ImportOutcome.SUCCESS, "Success"),
        (3, ImportOutcome.SUCCESS, "Success"),
        (4, ImportOutcome.FAILED, "Failed"),
        (5, ImportOutcome.FAILED, "Failed"),
    ]
    assert [(line.line, line.reasons) for line in result.rejects] == [
        (4, ("No name",)),
        (5, ("Invalid number (mynumber)",)),
    ]
    assert result.notes == ()
    assert result.to_dict()["rejects"][1] == {"line": 5, "outcome": "failed", "result": "Failed",
                                              "reasons": ["Invalid number (mynumber)"]}


def test_import_one_blank_line_before_the_details(api: NetMessengerApi) -> None:
    # The page's prose: "there will be a blank line, followed by text with details".
    result = api.parse_import(resp(IMPORT_ANSWER.replace("\n\n\n", "\n\n")))
    assert [(line.line, line.outcome) for line in result.lines] == [
        (1, ImportOutcome.SUCCESS), (2, ImportOutcome.SUCCESS), (3, ImportOutcome.SUCCESS),
        (4, ImportOutcome.FAILED), (5, ImportOutcome.FAILED)]
    assert [(line.line, line.reasons) for line in result.rejects] == [
        (4, ("No name",)), (5, ("Invalid number (mynumber)",))]
    assert result.notes == ()


def test_import_every_outcome(api: NetMessengerApi) -> None:
    body = ("1 : Success\r\n2 : Partial\r\n3 : Duplicate Name\r\n4 : Duplicate Number\r\n5 : Failed\r\n"
            "6 : Mystery\r\n\r\n2 : Unknown group (nope)\r\n5 : No name\r\n5 : Invalid number (x)\r\n"
            "9 : stray detail\r\nfree text\r\n")
    result = api.parse_import(resp(body))
    assert result.counts == {"success": 1, "partial": 1, "failed": 1, "duplicate_name": 1, "duplicate_number": 1,
                             "unknown": 1}
    assert {line.line: line.reasons for line in result.rejects} == {
        2: ("Unknown group (nope)",), 3: (), 4: (), 5: ("No name", "Invalid number (x)"), 6: ()}
    assert result.notes == ("free text", "line 9: stray detail")
    assert [line.outcome.created for line in result.lines] == [True, True, False, False, False, False]


def test_import_all_success_has_no_detail_block(api: NetMessengerApi) -> None:
    result = api.parse_import(resp("1 : Success\n2 : Success"))
    assert result.counts["success"] == 2
    assert result.rejects == []


def test_import_details_without_blank_line(api: NetMessengerApi) -> None:
    result = api.parse_import(resp("1 : Failed\n2 : Success\n1 : No name"))
    assert result.rejects[0].reasons == ("No name",)


def test_import_errors(api: NetMessengerApi) -> None:
    with pytest.raises(SmsAuthenticationError):
        api.parse_import(resp("-501\nUnknown Username/Password"))
    with pytest.raises(SmsAmbiguousError):  # contacts may have been created: never replayed blindly
        api.parse_import(resp("<html>oops</html>"))
    with pytest.raises(SmsAmbiguousError):
        api.parse_import(resp(""))


# ---------------------------------------------------------------------------- background sends

@pytest.mark.parametrize("body", [BG_MESSAGES, BG_MESSAGES.translate({0x201C: '"', 0x201D: '"', 0x2033: '"'})],
                         ids=["vendor-verbatim", "ascii-quotes"])
def test_background_messages_vendor_example(api: NetMessengerApi, body: str) -> None:
    result = api.parse_background_messages(resp(body), "777")
    assert result.finished is True
    assert [(m.message_id, m.destination, m.status_word, m.status) for m in result.messages] == [
        ("3509592", "447777777777", "Sent", DeliveryStatus.SENT),
        ("3509593", "447777777778", "Sent", DeliveryStatus.SENT),
    ]
    statuses = result.statuses()
    assert [(s.message_id, s.recipient, s.batch_id) for s in statuses] == [
        ("3509592", "447777777777", "777"), ("3509593", "447777777778", "777")]
    assert BackgroundSendMessages.from_dict(result.to_dict()) == result


@pytest.mark.parametrize("body", [BG_ERROR, '{"error":"-521","message":"Unknown Background SendID"}', "-521"],
                         ids=["vendor-verbatim", "ascii-quotes", "plain-text"])
def test_background_messages_vendor_error_object(api: NetMessengerApi, body: str) -> None:
    with pytest.raises(SmsGatewayError, match="Unknown Background Send") as exc:
        api.parse_background_messages(resp(body), "777")
    assert exc.value.code == -521


@pytest.mark.parametrize(
    "body",
    ['{"error":"-522","message":"Background Send Not Finished"}', '{"error":-522}', "-522",
     "-522\nBackground Send Not Finished"],
)
def test_background_send_not_finished_is_a_flag(api: NetMessengerApi, body: str) -> None:
    result = api.parse_background_messages(resp(body), "777")
    assert (result.finished, result.messages) == (False, ())


def test_background_messages_other_answers(api: NetMessengerApi) -> None:
    with pytest.raises(SmsGatewayError, match="No messages were found"):
        api.parse_background_messages(resp('{"error":"-523","message":"No messages were found"}'), "7")
    with pytest.raises(SmsAuthenticationError):
        api.parse_background_messages(resp("-501\nUnknown Username/Password"), "7")
    assert api.parse_background_messages(resp("[]"), "7") == BackgroundSendMessages("7", True, ())
    lower = api.parse_background_messages(resp('[{"messageid":5,"number":"44","status":"Delivered"}]'), "7")
    assert lower.messages[0].status is DeliveryStatus.DELIVERED
    for bad in ("<html>", '{"foo":1}', '[{"MessageID":"1"}]', "[1]", '{"error":"x"}'):
        with pytest.raises(SmsTransientError):
            api.parse_background_messages(resp(bad), "7")
