"""The NetMessenger HTTP API: ``/api``, form fields in, plain text out.

Every call carries ``Token`` (-501 when it matches no account) and ``Action`` (case-insensitive,
-502 when unknown); ``ShowErrorMessage`` with any value adds the error text on the line after
the code. GET is accepted like the vendor does, but the request log keeps the method so tests
can insist on POST. Fields are UTF-8, URL-encoded (query string and/or body) or multipart;
answers are ``text/plain; charset=utf-8`` with HTTP 200, whatever the outcome.

Actions (see the sibling modules for the details of the bigger ones):

* ``CheckCredits`` - the balance, a whole number.
* ``CheckMessageStatus`` (``MessageID``, any part's id) - the status word; -503 unknown/foreign.
* ``Send`` - :mod:`.send`.
* cancel (``netmessenger_cancel_actions``, default ``CancelMessage`` and ``Cancel``;
  ``MessageID``) - ``1`` and the credits back; -503 when unknown, foreign, sent or cancelled.
* ``Report`` (``ReportType``, ``From``, ``To``; all three mandatory, -601/-504/-505 when missing,
  except the dates of Outbox, which the page says are ignored), ``GetAllContacts``,
  ``GetAllGroups`` - streamed CSV, :mod:`.reports`.
* ``CreateUser`` - ``1``; -507 (missing or invalid details: a detail line per problem, always
  shown as the page says for this action), -508 (username taken), -100 (``Credits`` above the
  parent's balance). The low-credit threshold is read from ``Credit Reminder``, as the page
  spells it; ``CreditReminder`` (the .NET SDK's spelling) is an unknown parameter, ignored.
* ``UpdateCredits`` (``ChildUsername``, ``Quantity``) - ``1``; -509 unknown child, -702 not a
  non-zero whole number, -510 the child would go below 0, -100 the parent has too few credits.
* ``ImportContactsCSV`` (``ContactsCSV``, ``IgnoreDupes``, ``OverwriteDupes``) - per-line
  results, :mod:`.contacts`; -507 when ``ContactsCSV`` is blank or unreadable.
* ``DeleteAllContacts``, ``DeleteAllGroups`` - ``1``; ``EmptyGroup``, ``DeleteGroup`` (``Group``)
  - ``1``, -414 blank name, -520 unknown group.
* ``GetBGMessages`` (``BGSendID``) - ``[{"MessageID":"..","Destination":"..","Status":".."},...]``
  (cancelled messages left out) or ``{"error":"-521","message":"..."}`` (-521 unknown, -522 not
  finished, -523 nothing left or everything archived).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Mapping
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from airflow_provider_sms.simulator.netmessenger.codes import (
    BAD_TOKEN,
    BG_NOT_FINISHED,
    CREATE_USER_FAILED,
    CREDITS_BELOW_ZERO,
    ERROR_TEXTS,
    INVALID_AMOUNT,
    INVALID_DETAILS,
    INVALID_GROUP,
    MAINTENANCE,
    NO_MESSAGES,
    NOT_ENOUGH_CREDITS,
    UNKNOWN_ACTION,
    UNKNOWN_BG_SEND,
    UNKNOWN_GROUP,
    UNKNOWN_MESSAGE,
    UNKNOWN_USER,
    NetMessengerError,
    bg_error_json,
    error_answer,
)
from airflow_provider_sms.simulator.netmessenger.faults import truncated
from airflow_provider_sms.simulator.netmessenger.reports import (
    Window,
    contacts_csv,
    groups_csv,
    report,
    report_type,
    window,
)
from airflow_provider_sms.simulator.netmessenger.send import send
from airflow_provider_sms.simulator.netmessenger.state import AccountState, ChildUser, NetMessengerState

API_PATH = "/api"
#: What a throttled request gets (the fault switch): the table's "try later" code, with its text
#: because the request was never read (so ``ShowErrorMessage`` is unknown).
THROTTLED_ANSWER = error_answer(MAINTENANCE, True)
_CREATE_USER_REQUIRED = ("ChildUsername", "ChildPassword", "AccessLevel", "FirstName", "LastName", "Email", "Credits")
_ACCESS_LEVELS = {"normal": "Normal", "admin": "Admin"}

Params = Mapping[str, str]
Answer = str | Response
Handler = Callable[[AccountState, Params], Answer]


def text_response(body: str) -> Response:
    """A plain-text answer page."""
    return Response(body.encode("utf-8"), media_type="text/plain; charset=utf-8")


def csv_response(chunks: Iterator[str]) -> Response:
    """A streamed CSV page (Starlette pulls each chunk in a worker thread)."""
    return StreamingResponse((chunk.encode("utf-8") for chunk in chunks), media_type="text/plain; charset=utf-8")


class NetMessengerApi:
    """The ``/api`` endpoint over a :class:`NetMessengerState`."""

    def __init__(self, state: NetMessengerState) -> None:
        self.state = state
        self._handlers: dict[str, Handler] = {
            "checkcredits": self.check_credits,
            "checkmessagestatus": self.check_message_status,
            "send": self.send,
            "report": self.report,
            "createuser": self.create_user,
            "updatecredits": self.update_credits,
            "importcontactscsv": self.import_contacts,
            "getallcontacts": self.get_all_contacts,
            "getallgroups": self.get_all_groups,
            "deleteallcontacts": self.delete_all_contacts,
            "deleteallgroups": self.delete_all_groups,
            "emptygroup": self.empty_group,
            "deletegroup": self.delete_group,
            "getbgmessages": self.get_bg_messages,
        }

    def routes(self) -> list[Route]:
        """The single vendor route."""
        return [Route(API_PATH, self.endpoint, methods=["GET", "POST"])]

    async def endpoint(self, request: Request) -> Response:
        """Parse, authenticate, dispatch; errors become their code (and text) on the page."""
        params = await read_params(request)
        raw_action = params.get("Action")
        action = "" if raw_action is None else raw_action.strip()
        self.state.note_action(request.method, request.url.path, None if raw_action is None else action)
        show = "ShowErrorMessage" in params
        account = self.state.authenticate(params.get("Token", ""))
        handler = self._handler(action)
        try:
            if account is None:
                raise NetMessengerError(BAD_TOKEN)
            if handler is None:
                raise NetMessengerError(UNKNOWN_ACTION)
            # In a worker thread: an import of 10,000 lines must not stall other requests.
            answer = await run_in_threadpool(handler, account, params)
        except NetMessengerError as exc:
            return text_response(exc.answer(show))
        return text_response(answer) if isinstance(answer, str) else answer

    def _handler(self, action: str) -> Handler | None:
        name = action.lower()
        if name in {a.lower() for a in self.state.config.netmessenger_cancel_actions}:
            return self.cancel
        return self._handlers.get(name)

    # -- messages ---------------------------------------------------------------------------------

    def check_credits(self, account: AccountState, params: Params) -> Answer:
        """``CheckCredits``."""
        return str(account.balance)

    def check_message_status(self, account: AccountState, params: Params) -> Answer:
        """``CheckMessageStatus``."""
        found = self.state.messages.find(_message_id(params), account.username)
        if found is None:
            raise NetMessengerError(UNKNOWN_MESSAGE)
        record, index = found
        return record.status(index, self.state.clock.now())

    def send(self, account: AccountState, params: Params) -> Answer:
        """``Send``: ids/codes, with the texts of the codes on the next lines when asked."""
        answer = send(self.state, account, params)
        code = self.state.faults.take_error_after_send()
        if code is not None:  # the fault: texted, then failed to say so
            raise NetMessengerError(code)
        if "ShowErrorMessage" in params and answer.codes:
            # One text line per distinct code, in the order the codes first appear.
            return "\n".join([answer.line, *(ERROR_TEXTS[code] for code in answer.codes)])
        return answer.line

    def cancel(self, account: AccountState, params: Params) -> Answer:
        """Cancel a scheduled (or still queued) message; its credits come back."""
        message_id = _message_id(params)
        with self.state.lock:
            if not self.state.messages.cancel(message_id, account.username, self.state.clock.now()):
                raise NetMessengerError(UNKNOWN_MESSAGE)
            found = self.state.messages.find(message_id, account.username)
            assert found is not None  # just cancelled it
            account.balance += found[0].parts
        return "1"

    def get_bg_messages(self, account: AccountState, params: Params) -> Answer:
        """``GetBGMessages``: the JSON array of a finished background send."""
        try:
            bg_send = self.state.bg_send(int(params.get("BGSendID", "").strip()), account.username)
        except ValueError:
            bg_send = None
        if bg_send is None:
            return bg_error_json(UNKNOWN_BG_SEND)
        now = self.state.clock.now()
        if not bg_send.finished(now):
            return bg_error_json(BG_NOT_FINISHED)
        record = bg_send.record
        if now - record.send_at >= self.state.config.netmessenger_archive_after:
            return bg_error_json(NO_MESSAGES)  # archived messages are out of reach, as documented
        items = [
            f'{{"MessageID":"{record.message_id(i)}","Destination":"{record.numbers[i]}",'
            f'"Status":"{record.status(i, now)}"}}'
            for i in range(record.count)
            if i not in record.cancelled
        ]
        return "[" + ",".join(items) + "]" if items else bg_error_json(NO_MESSAGES)

    # -- reports ----------------------------------------------------------------------------------

    def report(self, account: AccountState, params: Params) -> Answer:
        """``Report``: validated here, generated while streaming."""
        kind = report_type(params.get("ReportType", ""), self.state.config.netmessenger_report_types)
        if kind == "Outbox":
            period = Window()  # documented: From and To are ignored
        else:
            period = window(params.get("From", ""), params.get("To", ""), account.time_zone)
        chunks = report(self.state, account, kind, period)
        rows = self.state.faults.take_report_rows()
        return csv_response(chunks if rows is None else truncated(chunks, rows))

    def get_all_contacts(self, account: AccountState, params: Params) -> Answer:
        """``GetAllContacts``."""
        return csv_response(contacts_csv(self.state, account))

    def get_all_groups(self, account: AccountState, params: Params) -> Answer:
        """``GetAllGroups``."""
        return csv_response(groups_csv(self.state, account))

    # -- child users ------------------------------------------------------------------------------

    def create_user(self, account: AccountState, params: Params) -> Answer:
        """``CreateUser``: a child account funded from the parent's credits."""
        values = {name: params.get(name, "").strip() for name in _CREATE_USER_REQUIRED}
        problems = [f"Missing {name}" for name, value in values.items() if not value]
        level = _ACCESS_LEVELS.get(values["AccessLevel"].lower())
        if values["AccessLevel"] and level is None:
            problems.append("AccessLevel must be Normal or Admin")
        if values["Email"] and "@" not in values["Email"]:
            problems.append("Invalid Email")
        credits = _whole(values["Credits"]) if values["Credits"] else 0
        if credits is None or credits < 0:
            problems.append("Credits must be a whole number of at least 0")
        reminder_raw = params.get("Credit Reminder", "").strip()
        alert_raw = params.get("Alert", "").strip()
        reminder, alert = _whole(reminder_raw), _whole(alert_raw)
        if (reminder_raw and (reminder is None or reminder < 0)) or (alert_raw and (alert is None or alert < 0)):
            problems.append("CreditReminder and Alert must be whole numbers")
        if problems or level is None or credits is None:
            raise NetMessengerError(INVALID_DETAILS, *problems)
        username = values["ChildUsername"]
        with self.state.lock:
            if username in account.children or username in self.state.usernames():
                raise NetMessengerError(CREATE_USER_FAILED, f"Username {username} already exists")
            if credits > account.balance:
                raise NetMessengerError(NOT_ENOUGH_CREDITS)
            account.balance -= credits
            account.children[username] = ChildUser(
                username=username,
                access_level=level,
                first_name=values["FirstName"],
                last_name=values["LastName"],
                email=values["Email"],
                credits=credits,
                telephone=params.get("Telephone", "").strip(),
                credit_reminder=reminder,
                alert=alert,
                created_at=self.state.clock.now(),
            )
        return "1"

    def update_credits(self, account: AccountState, params: Params) -> Answer:
        """``UpdateCredits``: move credits to (positive) or from (negative) a child."""
        with self.state.lock:
            child = account.children.get(params.get("ChildUsername", "").strip())
            if child is None:
                raise NetMessengerError(UNKNOWN_USER)
            quantity = _whole(params.get("Quantity", "").strip())
            if not quantity:  # None (not a whole number) or 0 (moves nothing)
                raise NetMessengerError(INVALID_AMOUNT)
            if child.credits + quantity < 0:
                raise NetMessengerError(CREDITS_BELOW_ZERO)
            if quantity > account.balance:
                raise NetMessengerError(NOT_ENOUGH_CREDITS)
            child.credits += quantity
            account.balance -= quantity
        return "1"

    # -- address book -----------------------------------------------------------------------------

    def import_contacts(self, account: AccountState, params: Params) -> Answer:
        """``ImportContactsCSV``."""
        text = params.get("ContactsCSV", "")
        if not text.strip():
            raise NetMessengerError(INVALID_DETAILS)
        overwrite = params.get("OverwriteDupes", "").strip() == "1"
        ignore = params.get("IgnoreDupes", "").strip() == "1" and not overwrite
        with self.state.lock:
            try:
                return account.book.import_csv(text, ignore_dupes=ignore, overwrite_dupes=overwrite)
            except csv.Error:
                raise NetMessengerError(INVALID_DETAILS) from None

    def delete_all_contacts(self, account: AccountState, params: Params) -> Answer:
        """``DeleteAllContacts``."""
        with self.state.lock:
            account.book.delete_all_contacts()
        return "1"

    def delete_all_groups(self, account: AccountState, params: Params) -> Answer:
        """``DeleteAllGroups``."""
        with self.state.lock:
            account.book.delete_all_groups()
        return "1"

    def empty_group(self, account: AccountState, params: Params) -> Answer:
        """``EmptyGroup``."""
        with self.state.lock:
            return _done(account.book.empty_group(_group_name(params)))

    def delete_group(self, account: AccountState, params: Params) -> Answer:
        """``DeleteGroup``."""
        with self.state.lock:
            return _done(account.book.delete_group(_group_name(params)))


# -- request parsing ------------------------------------------------------------------------------


async def read_params(request: Request) -> dict[str, str]:
    """Query and body fields as UTF-8 text (later values win)."""
    params = dict(parse_qsl(request.url.query, keep_blank_values=True))
    if request.method != "POST":
        return params
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        async with request.form(max_part_size=64 * 1024 * 1024) as form:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    params[key] = (await value.read()).decode("utf-8", "replace")
                else:
                    params[key] = value
        return params
    body = (await request.body()).decode("utf-8", "replace")
    params.update(parse_qsl(body, keep_blank_values=True))
    return params


def _message_id(params: Params) -> int:
    try:
        return int(params.get("MessageID", "").strip())
    except ValueError:
        raise NetMessengerError(UNKNOWN_MESSAGE) from None


def _group_name(params: Params) -> str:
    name = params.get("Group", "").strip()
    if not name:
        raise NetMessengerError(INVALID_GROUP)
    return name


def _done(found: bool) -> str:
    if not found:
        raise NetMessengerError(UNKNOWN_GROUP)
    return "1"


def _whole(raw: str) -> int | None:
    """A whole number (``+``/``-`` allowed), or None."""
    try:
        return int(raw)
    except ValueError:
        return None
