"""The NetMessenger token never leaves the form body: not in the path, the query, any repr, or
any exception text -- even when the gateway echoes it back."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.exceptions import SmsError, SmsPartialFailure
from airflow_provider_sms.gateways.http import HttpRequest, HttpResponse
from airflow_provider_sms.gateways.netmessenger import ERROR_CODES, ChildUser, NetMessengerApi, ReportType

TOKEN = "Zq9-UNIQUE-nm-token-4471-xYw"
FRAGMENT = TOKEN[:8]  # not even a cut-off prefix may show
MESSAGE = OutgoingMessage(text="Hi", numbers=["447777777771", "447777777772"], sender="API")
GROUP = OutgoingMessage(text="Hi", groups=["list:Staff"], sender="API")


@pytest.fixture
def api() -> NetMessengerApi:
    return NetMessengerApi(TOKEN)


def _assert_clean(*texts: object) -> None:
    for text in texts:
        assert TOKEN not in str(text)
        assert FRAGMENT not in str(text)


def test_api_repr_hides_the_token(api: NetMessengerApi) -> None:
    _assert_clean(repr(api), str(api))


BUILDERS: list[Callable[[NetMessengerApi], HttpRequest]] = [
    lambda a: a.credits_request(),
    lambda a: a.status_request("1"),
    lambda a: a.send_request(MESSAGE),
    lambda a: a.send_request(GROUP),
    lambda a: a.cancel_request("1"),
    lambda a: a.report_request(ReportType.OUTBOX),
    lambda a: a.create_user_request(ChildUser("c", "p", "A", "B", "a@b.c", 1)),
    lambda a: a.update_credits_request("c", 1),
    lambda a: a.import_contacts_request("A,447777777771,"),
    lambda a: a.contacts_request(),
    lambda a: a.groups_request(),
    lambda a: a.delete_all_contacts_request(),
    lambda a: a.delete_all_groups_request(),
    lambda a: a.empty_group_request("g"),
    lambda a: a.delete_group_request("g"),
    lambda a: a.background_messages_request("1"),
]


@pytest.mark.parametrize("build", BUILDERS)
def test_token_is_only_a_form_field(api: NetMessengerApi, build: Callable[[NetMessengerApi], HttpRequest]) -> None:
    request = build(api)
    _assert_clean(request.path, request.query, request.headers, repr(request), request.recipients)
    assert request.form is not None
    assert [v for k, v in request.form if TOKEN in v] == [TOKEN]
    assert ("Token", TOKEN) in list(request.form)


def _echo(code: int) -> bytes:
    return f"{code}\nToken {TOKEN} rejected for Token={TOKEN}\n".encode()


# Every way a parse can fail, each with an answer that echoes the token.
FAILURES: list[tuple[str, Callable[[NetMessengerApi], object]]] = [
    *[(f"code{code}", (lambda c: lambda a: a.parse_credits(HttpResponse(200, _echo(c))))(code))
      for code in sorted(ERROR_CODES)],
    ("unknown-code", lambda a: a.parse_credits(HttpResponse(200, _echo(-999)))),
    ("send-numbers", lambda a: a.parse_send(HttpResponse(200, _echo(-501)), MESSAGE)),
    ("send-group-partial", lambda a: a.parse_send(HttpResponse(200, _echo(-400)), GROUP)),
    ("send-unreadable", lambda a: a.parse_send(HttpResponse(200, f"<p>{TOKEN}</p>".encode()), MESSAGE)),
    ("send-http-500", lambda a: a.parse_send(HttpResponse(500, TOKEN.encode()), MESSAGE)),
    ("send-http-429", lambda a: a.parse_send(HttpResponse(429, TOKEN.encode()), MESSAGE)),
    ("credits-unreadable", lambda a: a.parse_credits(HttpResponse(200, TOKEN.encode()))),
    ("status", lambda a: a.parse_status(HttpResponse(200, _echo(-503)), "1")),
    ("cancel", lambda a: a.parse_cancel(HttpResponse(200, _echo(-502)))),
    ("ok-unreadable", lambda a: a.parse_ok(HttpResponse(200, TOKEN.encode()), "DeleteGroup")),
    ("update-unreadable", lambda a: a.parse_update_credits(HttpResponse(200, TOKEN.encode()))),
    ("import", lambda a: a.parse_import(HttpResponse(200, _echo(-501)))),
    ("import-unreadable", lambda a: a.parse_import(HttpResponse(200, TOKEN.encode()))),
    ("report", lambda a: a.open_report(_echo(-601).decode().splitlines())),
    ("report-http", lambda a: a.check_response(HttpResponse(401, TOKEN.encode()))),
    ("bg-json-error", lambda a: a.parse_background_messages(
        HttpResponse(200, json.dumps({"error": "-521", "message": f"bad {TOKEN}"}).encode()), "1")),
    ("bg-unreadable", lambda a: a.parse_background_messages(HttpResponse(200, TOKEN.encode()), "1")),
    ("long-text-cut-at-the-token",
     lambda a: a.parse_credits(HttpResponse(200, ("-999\n" + "x" * 190 + TOKEN).encode()))),
    ("validation", lambda a: a.send_request(OutgoingMessage(text="", numbers=["x"], sender=None))),
    ("constructor", lambda a: NetMessengerApi(TOKEN, time_zone="Nowhere/City")),
]


@pytest.mark.parametrize("fail", [f for _, f in FAILURES], ids=[name for name, _ in FAILURES])
def test_no_exception_carries_the_token(api: NetMessengerApi, fail: Callable[[NetMessengerApi], object]) -> None:
    with pytest.raises(SmsError) as exc:
        fail(api)
    error = exc.value
    _assert_clean(str(error), repr(error), error.args, error.message, vars(error))
    if isinstance(error, SmsPartialFailure):
        _assert_clean(json.dumps(error.result))


def test_gateway_text_is_kept_but_scrubbed(api: NetMessengerApi) -> None:
    with pytest.raises(SmsError) as exc:
        api.parse_credits(HttpResponse(200, _echo(-999)))
    assert "Token *** rejected for Token=***" in str(exc.value)


def test_import_reasons_are_scrubbed(api: NetMessengerApi) -> None:
    body = f"1 : Failed\n\n1 : Invalid number ({TOKEN})\n{TOKEN}\n".encode()
    result = api.parse_import(HttpResponse(200, body))
    _assert_clean(result.to_dict(), result.lines, result.notes)
    assert result.lines[0].reasons == ("Invalid number (***)",)


def test_child_password_is_scrubbed_too(api: NetMessengerApi) -> None:
    user = ChildUser("child", "Child-Pa55-word", "A", "B", "a@b.c", 1)
    with pytest.raises(SmsError) as exc:
        api.parse_create_user(HttpResponse(200, f"-508\n{TOKEN} could not create Child-Pa55-word".encode()), user)
    _assert_clean(str(exc.value))
    assert "Child-Pa55-word" not in str(exc.value)
    assert "Child-Pa55-word" not in repr(user)
