"""NetMessenger code tables: every error code of the vendor's table, and the status words."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_sms.core.results import DeliveryStatus
from airflow_provider_sms.exceptions import (
    SmsAuthenticationError,
    SmsConfigurationError,
    SmsError,
    SmsGatewayError,
    SmsPartialFailure,
    SmsRetryableError,
    SmsTransientError,
)
from airflow_provider_sms.gateways.http import HttpResponse
from airflow_provider_sms.gateways.netmessenger import (
    ERROR_CODES,
    BackgroundSendNotFinished,
    ImportOutcome,
    NetMessengerApi,
    error_code,
    message_status,
)
from airflow_provider_sms.gateways.netmessenger.codes import import_outcome

TOKEN = "nm-TOKEN-7f3a-91bd-SECRET"

# The "Error Codes" table of the vendor page, verbatim (its en dashes and curly apostrophe as
# escapes), plus the three GetBGMessages errors listed under that action.
VENDOR_TABLE = """\
-100Not Enough Credits
-101Invalid CreditID
-200Invalid Contact
-300General Database Error
-301Unknown Error
-302Return XML Error
-303Received XML Error
-400Some numbers in list failed
-401Invalid Destination Address
-402Invalid Source Address \u2013 Alphanumeric too long
-403Invalid Source Address \u2013 Invalid Number
-404Blank Body
-405Invalid Validity Period
-406No Route Available
-407Invalid Schedule Date
-408Distribution List is Empty
-409Group is Empty
-410Invalid Distribution List
-411You have exceeded the limit of messages you can send in a single day to a single number
-412Number is blacklisted
-414Invalid Group
-501Unknown Username/Password
-502Unknown Action
-503Unknown Message ID
-504Invalid From Timestamp
-505Invalid To Timestamp
-506Source Address Not Allowed (Email2SMS)
-507Invalid/Missing Details
-508Error Creating User
-509Unknown/Invalid User
-510You cannot set a user\u2019s credits to be less than 0
-511The system is down for maintenance
-512User Suspended
-513License in use
-514License expired
-515No License available
-516Unknown List
-517Unable to create List
-518Blank or Invalid Source Address
-519Blank Message Body
-520Unknown Group
-601Unknown Report Type
-701No UserID Specified
-702Invalid Amount Specified
-703Invalid Currency Requested
"""
BG_ERRORS = """\
-521 : Unknown Background Send ID
-522 : Background Send Not Finished
-523 : No messages were found
"""


def _vendor_codes() -> dict[int, str]:
    codes: dict[int, str] = {}
    for line in VENDOR_TABLE.splitlines():
        digits = line[1:4]
        codes[-int(digits)] = line[4:]
    for line in BG_ERRORS.splitlines():
        code, _, meaning = line.partition(" : ")
        codes[int(code)] = meaning
    return codes


VENDOR_CODES = _vendor_codes()

# What the caller should do for each code (the brief and reference 3.8).
EXPECTED: dict[int, type[SmsError]] = {
    **{c: SmsGatewayError for c in VENDOR_CODES},
    -300: SmsTransientError,
    -400: SmsPartialFailure,
    -501: SmsAuthenticationError,
    -502: SmsConfigurationError,
    -511: SmsTransientError,
    -512: SmsAuthenticationError,
    -513: SmsTransientError,
    -514: SmsAuthenticationError,
    -515: SmsTransientError,
    -517: SmsTransientError,
    -522: BackgroundSendNotFinished,
}


def _plain(text: str) -> str:
    return text.replace("\u2013", "-").replace("\u2019", "'")


def test_the_table_is_the_vendor_table() -> None:
    assert len(VENDOR_CODES) == 48
    assert set(ERROR_CODES) == set(VENDOR_CODES)


@pytest.mark.parametrize(("code", "meaning"), sorted(VENDOR_CODES.items(), reverse=True))
def test_every_code(code: int, meaning: str) -> None:
    entry = error_code(code)
    assert entry.code == code
    assert entry.meaning == _plain(meaning)
    assert entry.error is EXPECTED[code]
    assert entry.retryable is issubclass(EXPECTED[code], SmsRetryableError)


@pytest.mark.parametrize(("code", "meaning"), sorted(VENDOR_CODES.items(), reverse=True))
def test_every_code_raises_its_error_with_show_error_message(code: int, meaning: str) -> None:
    api = NetMessengerApi(TOKEN)
    with pytest.raises(SmsError) as exc:
        api.parse_credits(HttpResponse(200, f"{code}\n{meaning}\n".encode()))
    assert type(exc.value) is EXPECTED[code]
    assert exc.value.code == code
    assert exc.value.gateway == "netmessenger"
    assert _plain(meaning) in str(exc.value)
    assert str(exc.value).count(_plain(meaning)) == 1  # the vendor's text is not repeated


@pytest.mark.parametrize(("code", "meaning"), sorted(VENDOR_CODES.items(), reverse=True))
def test_every_code_as_a_json_error_object(code: int, meaning: str) -> None:
    api = NetMessengerApi(TOKEN)
    body = json.dumps({"error": str(code), "message": meaning}).encode()
    if code == -522:
        assert api.parse_background_messages(HttpResponse(200, body), "1").finished is False
        return
    with pytest.raises(SmsError) as exc:
        api.parse_background_messages(HttpResponse(200, body), "1")
    assert type(exc.value) is EXPECTED[code]
    assert exc.value.code == code


@pytest.mark.parametrize(("code", "scope"), [(-401, "recipient"), (-406, "recipient"), (-411, "recipient"),
                                             (-412, "recipient"), (-100, "request"), (-501, "request"),
                                             (-511, "request")])
def test_scopes(code: int, scope: str) -> None:
    assert error_code(code).scope == scope


def test_unknown_code_is_a_gateway_error() -> None:
    entry = error_code(-999)
    assert (entry.error, entry.meaning, entry.retryable) == (SmsGatewayError, "Undocumented error code", False)
    with pytest.raises(SmsGatewayError) as exc:
        NetMessengerApi(TOKEN).parse_credits(HttpResponse(200, b"-999\nBrand new problem"))
    assert exc.value.code == -999
    assert "Brand new problem" in str(exc.value)


def test_background_send_not_finished_is_retryable() -> None:
    assert issubclass(BackgroundSendNotFinished, SmsRetryableError)
    assert BackgroundSendNotFinished("x").retryable


@pytest.mark.parametrize(
    ("word", "status", "final"),
    [
        ("Pending", DeliveryStatus.PENDING, False),
        ("Sent", DeliveryStatus.SENT, False),
        ("Delivered", DeliveryStatus.DELIVERED, True),
        ("Failed", DeliveryStatus.FAILED, True),
        ("Undeliverable", DeliveryStatus.FAILED, True),
        ("UNDELIVERABLE", DeliveryStatus.FAILED, True),
        ("Expired", DeliveryStatus.EXPIRED, True),
        ("COMMAND_REJECTED", DeliveryStatus.REJECTED, True),
        ("Command Rejected", DeliveryStatus.REJECTED, True),
        ("COMMAND_FAILED", DeliveryStatus.FAILED, True),
        ("Unknown", DeliveryStatus.UNKNOWN, True),
        (" delivered ", DeliveryStatus.DELIVERED, True),
        ("Rejected", DeliveryStatus.REJECTED, True),
        ("Cancelled", DeliveryStatus.CANCELLED, True),
        ("CANCELED", DeliveryStatus.CANCELLED, True),
        ("Queued?", DeliveryStatus.UNKNOWN, True),
    ],
)
def test_status_words(word: str, status: DeliveryStatus, final: bool) -> None:
    entry = message_status(word)
    assert entry.status is status
    assert entry.is_final is final


@pytest.mark.parametrize(
    ("word", "outcome"),
    [("Success", ImportOutcome.SUCCESS), ("Partial", ImportOutcome.PARTIAL), ("Failed", ImportOutcome.FAILED),
     ("Duplicate Name", ImportOutcome.DUPLICATE_NAME), ("Duplicate Number", ImportOutcome.DUPLICATE_NUMBER),
     ("duplicate  number", ImportOutcome.DUPLICATE_NUMBER), ("Other", ImportOutcome.UNKNOWN)],
)
def test_import_outcomes(word: str, outcome: ImportOutcome) -> None:
    assert import_outcome(word) is outcome


def _act_once_calls(api: NetMessengerApi) -> dict[str, Any]:
    from airflow_provider_sms.core.message import OutgoingMessage
    from airflow_provider_sms.gateways.netmessenger import ChildUser

    numbers = OutgoingMessage("Hi", numbers=["447700100001", "447700100002"], sender="Airflow")
    group = OutgoingMessage("Hi", groups=["list:Staff"], sender="Airflow")
    user = ChildUser(username="branch", password="Child-Secret-1", first_name="A", last_name="B", email="a@b.c")
    return {
        "Send to numbers": lambda body: api.parse_send(HttpResponse(200, body), numbers),
        "Send to a list": lambda body: api.parse_send(HttpResponse(200, body), group),
        "UpdateCredits": lambda body: api.parse_update_credits(HttpResponse(200, body)),
        "CreateUser": lambda body: api.parse_create_user(HttpResponse(200, body), user),
    }


@pytest.mark.parametrize("action", ["Send to numbers", "Send to a list", "UpdateCredits", "CreateUser"])
@pytest.mark.parametrize(("code", "meaning"), sorted(VENDOR_CODES.items(), reverse=True))
def test_codes_after_which_the_gateway_may_have_acted_are_ambiguous(action: str, code: int, meaning: str) -> None:
    """-300/-511/-513/-515/-517 on an action that must happen once: never repeated blindly (issue 6)."""
    from airflow_provider_sms.exceptions import SmsAmbiguousError
    from airflow_provider_sms.gateways.netmessenger.codes import MAY_HAVE_ACTED_CODES, may_have_acted

    parse = _act_once_calls(NetMessengerApi(TOKEN))[action]
    try:
        parse(f"{code}\n{meaning}\n".encode())
    except SmsError as error:
        raised: SmsError | None = error
    else:
        raised = None
    wanted = code in MAY_HAVE_ACTED_CODES
    assert may_have_acted(code, action.split()[0]) is wanted
    if wanted:
        assert isinstance(raised, SmsAmbiguousError)
        assert raised.code == code
        if action.startswith("Send"):
            assert raised.recipients_in_doubt  # who may have been texted is named
    elif code == -400 and action == "Send to numbers":
        # A bare "some numbers in list failed" says nothing of who was texted (issue 7): in doubt too.
        assert isinstance(raised, SmsAmbiguousError) and raised.recipients_in_doubt
    else:
        assert not isinstance(raised, SmsAmbiguousError)
    # Reads are never ambiguous: the same codes there are plain transient errors.
    with pytest.raises(SmsError) as read:
        NetMessengerApi(TOKEN).parse_credits(HttpResponse(200, f"{code}\n{meaning}\n".encode()))
    assert not isinstance(read.value, SmsAmbiguousError)
