"""Finding an earlier send in NetMessenger's reports, so a chunk in doubt can be settled.

NetMessenger has no duplicate suppression: when a Send's answer is lost, the only way to learn
whether it went out is to read what the account sent. The vendor page documents the report types
Outbox (messages not sent yet -- scheduled ones included; From/To ignored), Messages, Usage,
InboundMessages and FailedMessages; the defaults read Messages (sent) and Outbox (pending), whose
columns (the official .NET SDK) are MessageID, Username, Destination, [Source,] Status,
ScheduleDate, SentDate, DeliveryDate -- no message body. So a row matches by destination, and by
sender and schedule time where the report has them; a ``Body``/``Message`` column (the SDK-only
``MessagesWithBodies``) is compared too when present. Comparisons are tolerant: numbers by their
digits (``+44``/``0044``/``44``), text after Unicode NFC with line endings and trailing blanks
evened out, senders without case or a leading ``+``, dates in any of the usual layouts.

Pure: rows in, matched numbers out.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

__all__ = ["DEFAULT_LOOKUP_REPORTS", "SentMatcher", "same_text"]

DEFAULT_LOOKUP_REPORTS = ("Messages", "Outbox")
"""Documented report types read by the look-up: sent messages, then those not sent yet."""

_DATE_LAYOUTS = ("%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S", "%d/%m/%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M")
_NOT_DIGIT = re.compile(r"\D")
# A schedule time is written to the second in the account's zone; allow a little either side.
_SCHEDULE_SLACK = dt.timedelta(seconds=90)


def _digits(number: str) -> str:
    digits = _NOT_DIGIT.sub("", number)
    return digits[2:] if digits.startswith("00") else digits


def _even_text(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def _ascii(text: str) -> str:
    return "".join(c for c in text if c.isascii())


def same_text(ours: str, reported: str) -> bool:
    """Equal after NFC normalisation, with CRLF/CR/LF and trailing blanks evened out.

    A report in another encoding is tolerated: UTF-8 read as Latin-1 (``Ã©`` for ``é``) is read
    again, and where the report's bytes could not be decoded (U+FFFD) only the ASCII characters of
    both sides are compared.
    """
    mine, theirs = _even_text(ours), _even_text(reported)
    if mine == theirs:
        return True
    try:
        if _even_text(reported.encode("latin-1").decode("utf-8")) == mine:
            return True
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return "\ufffd" in theirs and _ascii(mine) == _ascii(theirs)


def _sender(value: str) -> str:
    return value.strip().lstrip("+").casefold()


def _parse_date(value: str, zone: ZoneInfo) -> dt.datetime | None:
    text = value.strip()
    for layout in _DATE_LAYOUTS:
        try:
            return dt.datetime.strptime(text, layout).replace(tzinfo=zone)
        except ValueError:
            continue
    return None


def _column(names: Sequence[str], *wanted: str) -> int | None:
    return next((names.index(n) for n in wanted if n in names), None)


@dataclass(frozen=True)
class SentMatcher:
    """What one earlier chunk looked like; :meth:`matches` picks its rows out of a report.

    :param numbers: the chunk's numbers (international digits).
    :param text: its text (compared only where a report has a body column).
    :param sender: its sender (compared where a report has a ``Source`` column), or None.
    :param send_at: its schedule time for a scheduled send (compared with ``ScheduleDate``), or None.
    :param since: rows sent before this are another send's (compared with ``SentDate`` where set).
    :param time_zone: the account's zone, in which report dates are written.
    """

    numbers: Sequence[str]
    text: str
    sender: str | None
    send_at: dt.datetime | None
    since: dt.datetime
    time_zone: str

    def matches(self, header: Sequence[str], rows: Iterable[Sequence[str]]) -> set[str]:
        """The chunk's numbers found in ``rows`` (a report with ``header``).

        :raises ValueError: the report has no Destination/Number column (it cannot say who was texted).
        """
        names = [h.strip().lower() for h in header]
        to_at = _column(names, "destination", "number")
        if to_at is None:
            raise ValueError("the report has no Destination or Number column")
        body_at = _column(names, "body", "message")
        source_at = _column(names, "source", "sourceaddress")
        schedule_at = _column(names, "scheduledate")
        sent_at = _column(names, "sentdate")
        wanted = {_digits(n): n for n in self.numbers}
        zone = ZoneInfo(self.time_zone)
        found: set[str] = set()
        for row in rows:
            if len(row) <= to_at:
                continue
            number = wanted.get(_digits(row[to_at]))
            if number is None or number in found:
                continue
            if body_at is not None and len(row) > body_at and not same_text(self.text, row[body_at]):
                continue
            if (source_at is not None and self.sender and len(row) > source_at and row[source_at].strip()
                    and _sender(row[source_at]) != _sender(self.sender)):
                continue
            if not self._time_fits(row, schedule_at, sent_at, zone):
                continue
            found.add(number)
        return found

    def _time_fits(self, row: Sequence[str], schedule_at: int | None, sent_at: int | None, zone: ZoneInfo) -> bool:
        if self.send_at is not None and schedule_at is not None and len(row) > schedule_at:
            scheduled = _parse_date(row[schedule_at], zone)
            if scheduled is None or abs(scheduled - self.send_at) > _SCHEDULE_SLACK:
                return False
        if sent_at is not None and len(row) > sent_at and self.send_at is None:
            sent = _parse_date(row[sent_at], zone)
            if sent is not None and sent < self.since:
                return False
        return True
