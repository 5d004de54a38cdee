"""The ``Send`` action: validation, charging and storing, as read from the vendor page.

Check order: ``DestinationAddress`` present (-401) -> ``SourceAddress``/``SourceTON`` (-518, -402,
-403) -> ``Body`` (-404 blank, -507 over 459 characters) -> ``ValidityPeriod`` (-405 unless a
whole number 1..86400; missing is -405 too: the page does not mark it optional, and "all
parameters are mandatory unless otherwise stated") -> ``ScheduleDate`` (-407 unless
``YYYYMMDDHHMMSS`` in the account's time zone; a past date sends at once) -> recipients ->
credits (-100: nothing is sent).

* Numbers: one answer item per comma-separated destination, in order - the message id (every
  part's id with ``GetAllMessageIDs=1``, comma separated), or -401 for something that is no
  international number (blank items included), -412 for a blacklisted number. Repeated numbers
  get one message each. When no destination is valid nothing is charged.
* ``List`` + ``ListName`` (-410 blank, -516 unknown, -408 empty) or ``Group`` + ``GroupName``
  (-414 blank, -520 unknown, -409 empty): each number once, blacklisted members skipped (-412
  when nobody is left). Answers ``1``, or with ``GetBGSendID=1`` the background-send id. More
  than ``netmessenger_background_threshold`` members run in the background: the messages leave
  ``netmessenger_background_delay`` virtual seconds later (``GetBGMessages`` answers -522 until
  then); smaller ones leave at once but still get a background-send id (unless
  ``netmessenger_foreground_bg_id`` is off: then they answer ``1``); with
  ``netmessenger_bg_id_on_next_line`` the id follows ``1`` on the next line.
* ``netmessenger_bare_partial_failure``: a numbers send with failed destinations answers a bare
  -400 instead of an item per destination (the good numbers are still sent).
* Credits: one per part per message, charged at acceptance.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from dataclasses import dataclass

from airflow_provider_sms.simulator.netmessenger.codes import (
    BLACKLISTED,
    BLANK_BODY,
    BODY_TOO_LONG,
    GROUP_EMPTY,
    INVALID_DESTINATION,
    INVALID_GROUP,
    INVALID_LIST,
    INVALID_SCHEDULE,
    INVALID_VALIDITY,
    LIST_EMPTY,
    NOT_ENOUGH_CREDITS,
    PARTIAL_FAILURE,
    UNKNOWN_GROUP,
    UNKNOWN_LIST,
    NetMessengerError,
)
from airflow_provider_sms.simulator.netmessenger.messages import SendRecord
from airflow_provider_sms.simulator.netmessenger.state import AccountState, BackgroundSend, ListKind, NetMessengerState
from airflow_provider_sms.simulator.netmessenger.text import (
    MAX_BODY_CHARS,
    body_parts,
    normalize_number,
    parse_stamp,
    source_error,
)

MAX_VALIDITY = 86400

Params = Mapping[str, str]


@dataclass(frozen=True)
class SendAnswer:
    """The first answer line and the negative codes it contains (their texts may follow)."""

    line: str
    codes: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Message:
    """What every message of one send shares."""

    body: str
    source: str
    parts: int
    send_at: float
    scheduled: bool
    expires: bool


def send(state: NetMessengerState, account: AccountState, params: Params) -> SendAnswer:
    """Handle ``Action=Send``; raises :class:`NetMessengerError` for a request-level error."""
    destination = params.get("DestinationAddress", "").strip()
    if not destination:
        raise NetMessengerError(INVALID_DESTINATION)
    message = _message(state, account, params)
    kind = destination.lower()
    if kind in ("list", "group"):
        return _send_to_list(state, account, params, message, "List" if kind == "list" else "Group")
    return _send_to_numbers(state, account, params, message, destination.split(","))


def _message(state: NetMessengerState, account: AccountState, params: Params) -> _Message:
    source = params.get("SourceAddress", "")
    code = source_error(source, params.get("SourceTON", "").strip())
    if code is not None:
        raise NetMessengerError(code)
    body = params.get("Body", "")
    if not body.strip():
        raise NetMessengerError(BLANK_BODY)
    if len(body) > MAX_BODY_CHARS:
        raise NetMessengerError(BODY_TOO_LONG)
    validity = _validity(params.get("ValidityPeriod", "").strip())
    now = state.clock.now()
    send_at, scheduled = now, False
    schedule = params.get("ScheduleDate", "").strip()
    if schedule:
        try:
            when = parse_stamp(schedule, account.time_zone)
        except ValueError:
            raise NetMessengerError(INVALID_SCHEDULE) from None
        send_at, scheduled = max(when, now), when > now
    delay = state.config.delivery_delay
    return _Message(body, source.strip(), body_parts(body), send_at, scheduled, validity < delay)


def _validity(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise NetMessengerError(INVALID_VALIDITY) from None
    if not 1 <= value <= MAX_VALIDITY:
        raise NetMessengerError(INVALID_VALIDITY)
    return value


def _send_to_numbers(
    state: NetMessengerState, account: AccountState, params: Params, message: _Message, items: list[str]
) -> SendAnswer:
    answers: list[int | None] = []  # None: a valid number, answered with its id(s)
    valid: array[int] = array("q")
    for item in items:
        number = normalize_number(item)
        if number is None:
            answers.append(INVALID_DESTINATION)
        elif number in account.blacklist:
            answers.append(BLACKLISTED)
        else:
            answers.append(None)
            valid.append(number)
    codes = tuple(dict.fromkeys(a for a in answers if a is not None))
    if not valid:
        return SendAnswer(",".join(str(a) for a in answers), codes)
    record = _store(state, account, message, valid, bg_send_id=None)
    if codes and state.config.netmessenger_bare_partial_failure:
        return SendAnswer(str(PARTIAL_FAILURE), (PARTIAL_FAILURE,))
    all_parts = params.get("GetAllMessageIDs", "").strip() == "1"
    out: list[str] = []
    position = 0
    for answer in answers:
        if answer is not None:
            out.append(str(answer))
            continue
        ids = record.part_ids(position) if all_parts else (record.message_id(position),)
        out.append(",".join(map(str, ids)))
        position += 1
    return SendAnswer(",".join(out), codes)


def _send_to_list(
    state: NetMessengerState, account: AccountState, params: Params, message: _Message, kind: ListKind
) -> SendAnswer:
    name = params.get(f"{kind}Name", "").strip()
    with state.lock:
        if kind == "List":
            if not name:
                raise NetMessengerError(INVALID_LIST)
            members = account.lists.get(name)
            if members is None:
                raise NetMessengerError(UNKNOWN_LIST)
            numbers = list(members)
            empty = LIST_EMPTY
        else:
            if not name:
                raise NetMessengerError(INVALID_GROUP)
            found = account.book.group_numbers(name)
            if found is None:
                raise NetMessengerError(UNKNOWN_GROUP)
            numbers = found
            empty = GROUP_EMPTY
    if not numbers:
        raise NetMessengerError(empty)
    allowed = array("q", (n for n in numbers if n not in account.blacklist))
    if not allowed:
        raise NetMessengerError(BLACKLISTED)
    now = state.clock.now()
    background = len(allowed) > state.config.netmessenger_background_threshold
    ready_at = now + state.config.netmessenger_background_delay if background else now
    bg_send_id = state.new_bg_send_id()
    timed = _Message(
        message.body,
        message.source,
        message.parts,
        max(message.send_at, ready_at),
        message.scheduled,
        message.expires,
    )
    record = _store(state, account, timed, allowed, bg_send_id=bg_send_id)
    state.add_bg_send(BackgroundSend(bg_send_id, account.username, kind, name, now, ready_at, record))
    wants_id = params.get("GetBGSendID", "").strip() == "1"
    if not background and not state.config.netmessenger_foreground_bg_id:
        wants_id = False
    if wants_id and state.config.netmessenger_bg_id_on_next_line:
        return SendAnswer(f"1\n{bg_send_id}")
    return SendAnswer(str(bg_send_id) if wants_id else "1")


def _store(
    state: NetMessengerState, account: AccountState, message: _Message, numbers: array[int], bg_send_id: int | None
) -> SendRecord:
    cost = message.parts * len(numbers)
    with state.lock:
        if cost > account.balance:
            raise NetMessengerError(NOT_ENOUGH_CREDITS)
        account.balance -= cost
        return state.messages.add(
            username=account.username,
            numbers=numbers,
            body=message.body,
            source=message.source,
            parts=message.parts,
            created_at=state.clock.now(),
            send_at=message.send_at,
            scheduled=message.scheduled,
            delivery_delay=state.config.delivery_delay,
            time_zone=account.time_zone,
            bg_send_id=bg_send_id,
            expires=message.expires,
            outcomes=state.outcomes(),
        )
