"""NetMessenger CSV answers: ``Report`` (every type), ``GetAllContacts``, ``GetAllGroups``.

Every CSV has a header row; every value is double-quoted (quotes doubled inside); lines end with
``\\n``; dates are ``YYYY-MM-DD HH:MM:SS`` in the account's time zone, blank when not reached.
``From``/``To`` (``YYYYMMDDHHMMSS``, account time zone) are optional here (missing = unbounded)
and both inclusive to the second; they filter on the send time (received time for inbound
messages, creation time for background sends). ``Outbox`` ignores them, as documented.

Columns (``Messages``, ``Outbox``, ``Usage`` and ``InboundMessages`` as the official .NET SDK
parses them; the rest are this simulator's choices):

* ``Messages``: MessageID, Username, Destination, Source, Status, ScheduleDate, SentDate,
  DeliveryDate - messages sent and not yet archived. ``MessagesWithBodies``: the same + Body.
* ``FailedMessages``: the ``Messages`` columns - sent messages whose final status is a failure
  (anything but Delivered).
* ``Outbox``: MessageID, Username, Destination, Status, ScheduleDate, SentDate, DeliveryDate -
  messages not sent yet (scheduled, or waiting for their background send), status ``Pending``.
* ``Usage``: Status, Messages - sent messages counted per current status word.
* ``InboundMessages``: MessageID, From, Number, Message, ReceivedDate, Status (``Received``).
* ``ArchivedMessages`` / ``ArchivedMessagesWithBodies``: as ``Messages`` / ``MessagesWithBodies``,
  for messages sent longer ago than ``netmessenger_archive_after``.
* ``ArchivedMessagingSummary``: Date, Messages, Credits - archived messages per local day.
* ``BackgroundSends``: BGSendID, Username, Type (List/Group), Name, Messages, Status
  (Running/Finished), CreatedDate, FinishedDate.
* ``KeywordMessageList``: Keyword, MessageID, From, Number, Message, ReceivedDate - inbound
  messages by their first word (upper-cased).
* ``SendsByDistributionList``: Type, Name, Sends, Messages, Credits - list/group sends per list.
* ``GetAllContacts``: Name, Number, Email, Group1, Group2, Group3 (the import layout, so an
  export can be imported again). ``GetAllGroups``: GroupID, Name, Members.

Cancelled messages appear in no report. Message rows are generated per send: the messages of a
send share everything but id, number and - only where an outcome was configured or a message
cancelled - status, so most rows come from one ``%``-template: a million rows stream in well
under a second.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from airflow_provider_sms.simulator.netmessenger.codes import BAD_FROM, BAD_TO, UNKNOWN_REPORT, NetMessengerError
from airflow_provider_sms.simulator.netmessenger.contacts import MAX_GROUPS_PER_CONTACT
from airflow_provider_sms.simulator.netmessenger.messages import (
    CANCELLED,
    DELIVERED,
    PENDING,
    SENT,
    SendRecord,
)
from airflow_provider_sms.simulator.netmessenger.state import AccountState, NetMessengerState
from airflow_provider_sms.simulator.netmessenger.text import csv_line, format_date, parse_stamp, quote

#: Message rows per yielded chunk (bounded memory whatever the report size).
CHUNK_ROWS = 5000

MESSAGE_COLUMNS = (
    "MessageID",
    "Username",
    "Destination",
    "Source",
    "Status",
    "ScheduleDate",
    "SentDate",
    "DeliveryDate",
)
OUTBOX_COLUMNS = ("MessageID", "Username", "Destination", "Status", "ScheduleDate", "SentDate", "DeliveryDate")
INBOUND_COLUMNS = ("MessageID", "From", "Number", "Message", "ReceivedDate", "Status")
CONTACT_COLUMNS = ("Name", "Number", "Email", *(f"Group{i}" for i in range(1, MAX_GROUPS_PER_CONTACT + 1)))
GROUP_COLUMNS = ("GroupID", "Name", "Members")

REPORT_TYPES = (
    "Outbox",
    "Messages",
    "MessagesWithBodies",
    "Usage",
    "InboundMessages",
    "FailedMessages",
    "ArchivedMessages",
    "ArchivedMessagesWithBodies",
    "ArchivedMessagingSummary",
    "BackgroundSends",
    "KeywordMessageList",
    "SendsByDistributionList",
)
_BY_LOWER = {name.lower(): name for name in REPORT_TYPES}
_NOT_FAILED = frozenset({PENDING, SENT, DELIVERED, CANCELLED})
# The only cells that differ between the messages of one send (when their statuses agree).
_VARYING = frozenset({"MessageID", "Destination"})


@dataclass(frozen=True)
class Window:
    """The ``From``/``To`` filter: ``start <= t < end`` (``To`` inclusive to the second)."""

    start: float = -math.inf
    end: float = math.inf

    def __contains__(self, moment: float) -> bool:
        return self.start <= moment < self.end


DOCUMENTED_REPORT_TYPES = ("Outbox", "Messages", "Usage", "InboundMessages", "FailedMessages")
"""The types the vendor page lists (the others come from the official PHP SDK)."""


def report_type(raw: str, allowed: tuple[str, ...] | None = None) -> str:
    """The canonical ``ReportType`` (case-insensitive); -601 when unknown (or not in ``allowed``)."""
    name = _BY_LOWER.get(raw.strip().lower())
    if name is None or (allowed is not None and name not in allowed):
        raise NetMessengerError(UNKNOWN_REPORT)
    return name


def window(start: str, end: str, tz_name: str) -> Window:
    """The filter for ``From``/``To``; -504/-505 when one is missing or malformed.

    Both are mandatory (the page: "all parameters are mandatory unless otherwise stated"); only
    Outbox, whose dates "are ignored", does without them (its caller uses ``Window()``).
    """
    try:
        lower = parse_stamp(start, tz_name)
    except ValueError:
        raise NetMessengerError(BAD_FROM) from None
    try:
        upper = parse_stamp(end, tz_name) + 1.0
    except ValueError:
        raise NetMessengerError(BAD_TO) from None
    return Window(lower, upper)


def report(state: NetMessengerState, account: AccountState, kind: str, period: Window) -> Iterator[str]:
    """Chunks of the CSV of report ``kind`` (header first), computed at the clock's current time."""
    now = state.clock.now()
    sends = state.messages.sends(account.username)
    archive_age = state.config.netmessenger_archive_after

    def archived(record: SendRecord) -> bool:
        return now - record.send_at >= archive_age

    def sent_in(record: SendRecord) -> bool:
        return record.is_sent(now) and record.send_at in period

    if kind == "Outbox":
        chosen = [r for r in sends if not r.is_sent(now)]
        return _message_report(chosen, now, OUTBOX_COLUMNS, outbox=True)
    if kind in ("Messages", "MessagesWithBodies"):
        chosen = [r for r in sends if sent_in(r) and not archived(r)]
        return _message_report(chosen, now, MESSAGE_COLUMNS, body=kind.endswith("Bodies"))
    if kind in ("ArchivedMessages", "ArchivedMessagesWithBodies"):
        chosen = [r for r in sends if sent_in(r) and archived(r)]
        return _message_report(chosen, now, MESSAGE_COLUMNS, body=kind.endswith("Bodies"))
    if kind == "FailedMessages":
        chosen = [r for r in sends if sent_in(r) and r.final_at <= now and (r.outcomes or r.expires)]
        return _message_report(chosen, now, MESSAGE_COLUMNS, only_failed=True)
    if kind == "Usage":
        return _usage([r for r in sends if sent_in(r)], now)
    if kind == "ArchivedMessagingSummary":
        return _summary([r for r in sends if sent_in(r) and archived(r)], now)
    if kind in ("InboundMessages", "KeywordMessageList"):
        return _inbound(account, period, keyword=kind == "KeywordMessageList")
    return _distribution(state, account, period, now, by_list=kind == "SendsByDistributionList")


# -- message rows -----------------------------------------------------------------------------------


def _message_report(
    sends: Sequence[SendRecord],
    now: float,
    columns: tuple[str, ...],
    *,
    body: bool = False,
    outbox: bool = False,
    only_failed: bool = False,
) -> Iterator[str]:
    header = (*columns, "Body") if body else columns
    yield csv_line(header)
    for record in sends:
        yield from _send_rows(record, now, columns, body=body, outbox=outbox, only_failed=only_failed)


def _send_rows(
    record: SendRecord,
    now: float,
    columns: tuple[str, ...],
    *,
    body: bool,
    outbox: bool,
    only_failed: bool,
) -> Iterator[str]:
    tz = record.time_zone
    names = (*columns, "Body") if body else columns
    fixed = {
        "Username": record.username,
        "Source": record.source,
        "ScheduleDate": format_date(record.send_at, tz) if record.scheduled else "",
        "SentDate": "" if outbox else format_date(record.send_at, tz),
        "Body": record.body,
    }
    delivered_at = format_date(record.final_at, tz)

    def values(status: str) -> dict[str, str]:
        return {**fixed, "Status": status, "DeliveryDate": delivered_at if status == DELIVERED else ""}

    shared = PENDING if outbox else record.shared_status(now)
    if not record.cancelled and (shared is not None or not record.outcomes) and not only_failed:
        # One template for the whole send: only the id and the number change from row to row.
        same = values(shared if shared is not None else record.final_word(0))
        template = ",".join('"%d"' if n in _VARYING else quote(same[n]).replace("%", "%%") for n in names) + "\n"
        for start in range(0, record.count, CHUNK_ROWS):
            stop = min(start + CHUNK_ROWS, record.count)
            ids = range(record.message_id(start), record.message_id(stop), record.parts)
            yield "".join(map(template.__mod__, zip(ids, record.numbers[start:stop], strict=True)))
        return
    lines: list[str] = []
    for index in range(record.count):
        if index in record.cancelled:
            continue
        status = PENDING if outbox else record.status(index, now)
        if only_failed and status in _NOT_FAILED:
            continue
        row = {**values(status), "MessageID": str(record.message_id(index)), "Destination": str(record.numbers[index])}
        lines.append(csv_line([row[n] for n in names]))
        if len(lines) >= CHUNK_ROWS:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


# -- aggregates -------------------------------------------------------------------------------------


def _usage(sends: Sequence[SendRecord], now: float) -> Iterator[str]:
    counts: Counter[str] = Counter()
    for record in sends:
        shared = record.shared_status(now)
        if not record.cancelled and (shared is not None or not record.outcomes):
            counts[shared if shared is not None else record.final_word(0)] += record.count
        else:
            counts.update(record.status(i, now) for i in range(record.count) if i not in record.cancelled)
    yield csv_line(("Status", "Messages"))
    order = {PENDING: 0, SENT: 1, DELIVERED: 2}
    for word in sorted(counts, key=lambda w: (order.get(w, 3), w)):
        yield csv_line((word, counts[word]))


def _summary(sends: Sequence[SendRecord], now: float) -> Iterator[str]:
    messages: Counter[str] = Counter()
    credits: Counter[str] = Counter()
    for record in sends:
        day = format_date(record.send_at, record.time_zone)[:10]
        sent = record.count - len(record.cancelled)
        messages[day] += sent
        credits[day] += sent * record.parts
    yield csv_line(("Date", "Messages", "Credits"))
    for day in sorted(messages):
        yield csv_line((day, messages[day], credits[day]))


def _inbound(account: AccountState, period: Window, *, keyword: bool) -> Iterator[str]:
    tz = account.time_zone
    if keyword:
        yield csv_line(("Keyword", "MessageID", "From", "Number", "Message", "ReceivedDate"))
    else:
        yield csv_line(INBOUND_COLUMNS)
    for message in list(account.inbound):
        if message.received_at not in period:
            continue
        received = format_date(message.received_at, tz)
        if keyword:
            word = (message.text.split() or [""])[0].upper()
            yield csv_line((word, message.message_id, message.sender, message.number, message.text, received))
        else:
            yield csv_line((message.message_id, message.sender, message.number, message.text, received, "Received"))


def _distribution(
    state: NetMessengerState, account: AccountState, period: Window, now: float, *, by_list: bool
) -> Iterator[str]:
    sends = [s for s in state.bg_sends(account.username) if s.created_at in period]
    tz = account.time_zone
    if by_list:
        totals: dict[tuple[str, str], list[int]] = {}
        for send in sends:
            sent = send.record.count - len(send.record.cancelled)
            total = totals.setdefault((send.kind, send.name), [0, 0, 0])
            total[0] += 1
            total[1] += sent
            total[2] += sent * send.record.parts
        yield csv_line(("Type", "Name", "Sends", "Messages", "Credits"))
        for (kind, name), (count, messages, credits) in totals.items():
            yield csv_line((kind, name, count, messages, credits))
        return
    yield csv_line(("BGSendID", "Username", "Type", "Name", "Messages", "Status", "CreatedDate", "FinishedDate"))
    for send in sends:
        done = send.finished(now)
        yield csv_line(
            (
                send.bg_send_id,
                send.username,
                send.kind,
                send.name,
                send.record.count,
                "Finished" if done else "Running",
                format_date(send.created_at, tz),
                format_date(send.ready_at, tz) if done else "",
            )
        )


# -- address book -----------------------------------------------------------------------------------


def contacts_csv(state: NetMessengerState, account: AccountState) -> Iterator[str]:
    """``GetAllContacts``: chunks of the contacts CSV, from a snapshot taken now."""
    with state.lock:
        columns = account.book.columns()
    yield csv_line(CONTACT_COLUMNS)
    for start in range(0, columns.count, CHUNK_ROWS):
        yield "".join(
            csv_line((name, number, email, *groups, *("",) * (MAX_GROUPS_PER_CONTACT - len(groups))))
            for name, number, email, groups in columns.rows(start, start + CHUNK_ROWS)
        )


def groups_csv(state: NetMessengerState, account: AccountState) -> Iterator[str]:
    """``GetAllGroups``: the groups CSV."""
    with state.lock:
        groups = account.book.groups()
    yield csv_line(GROUP_COLUMNS)
    for group_id, name, members in groups:
        yield csv_line((group_id, name, members))
