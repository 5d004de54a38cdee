"""Small, JSON-friendly shapes for what NetMessenger answers beyond the shared model.

Sends and statuses use :mod:`airflow_provider_sms.core.results`; this module holds the rest: the
report types, a child user to create, per-destination send items (with every part id), contact
import results and the messages of a background send.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_provider_sms.core.results import DeliveryStatus, MessageStatus
from airflow_provider_sms.gateways.netmessenger.codes import ImportOutcome

__all__ = [
    "BackgroundMessage",
    "BackgroundSendMessages",
    "ChildUser",
    "ImportLine",
    "ImportResult",
    "ReportType",
    "SendItem",
]


class ReportType(enum.StrEnum):
    """``ReportType`` values of ``Action=Report`` (reference 3.7).

    The vendor page lists Outbox, Messages, Usage, InboundMessages and FailedMessages; the official
    PHP SDK adds the archived, with-bodies, background-send, keyword and distribution-list reports.
    """

    OUTBOX = "Outbox"  # From/To are ignored by the gateway
    MESSAGES = "Messages"
    MESSAGES_WITH_BODIES = "MessagesWithBodies"
    FAILED_MESSAGES = "FailedMessages"
    USAGE = "Usage"
    INBOUND_MESSAGES = "InboundMessages"
    ARCHIVED_MESSAGES = "ArchivedMessages"
    ARCHIVED_MESSAGES_WITH_BODIES = "ArchivedMessagesWithBodies"
    ARCHIVED_MESSAGING_SUMMARY = "ArchivedMessagingSummary"
    BACKGROUND_SENDS = "BackgroundSends"
    KEYWORD_MESSAGE_LIST = "KeywordMessageList"
    SENDS_BY_DISTRIBUTION_LIST = "SendsByDistributionList"

    @property
    def uses_dates(self) -> bool:
        """False for Outbox, whose From/To the gateway ignores."""
        return self is not ReportType.OUTBOX

    @classmethod
    def parse(cls, value: str | ReportType) -> ReportType | None:
        """The member for ``value`` (any casing), or ``None`` when it is not a known type."""
        if isinstance(value, ReportType):
            return value
        wanted = value.strip().lower()
        return next((member for member in cls if member.value.lower() == wanted), None)


@dataclass(frozen=True)
class ChildUser:
    """A child account for ``Action=CreateUser`` (admin accounts only). ``repr`` hides the password.

    :param credits: taken from the parent account.
    :param credit_reminder: send a low-credit email when this many credits are left.
    :param alert: send an inactivity email after this many days without activity.
    """

    username: str
    password: str = field(repr=False)
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    credits: int = 0
    access_level: Literal["Normal", "Admin"] = "Normal"
    telephone: str | None = None
    credit_reminder: int | None = None
    alert: int | None = None


@dataclass(frozen=True)
class SendItem:
    """One destination of a send to numbers, as the answer reported it.

    :param message_ids: the id of each part when ``GetAllMessageIDs=1`` (else one id); empty when
        rejected.
    :param code: the negative error code when rejected.
    """

    destination: str
    message_ids: tuple[str, ...] = ()
    code: int | None = None
    text: str | None = None

    @property
    def accepted(self) -> bool:
        return self.code is None


@dataclass(frozen=True)
class ImportLine:
    """The result of one line of an ``ImportContactsCSV`` upload.

    :param line: 1-based line number within that upload (not within a whole chunked file).
    :param result: the gateway's word as written, e.g. ``Duplicate Name``.
    :param reasons: the detail lines for this line (e.g. ``No name``), scrubbed and shortened.
    """

    line: int
    outcome: ImportOutcome
    result: str
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "outcome": self.outcome.value, "result": self.result, "reasons": list(self.reasons)}


@dataclass(frozen=True)
class ImportResult:
    """Everything one ``ImportContactsCSV`` answer said.

    :param notes: detail text that names no line (kept rather than dropped).
    """

    lines: tuple[ImportLine, ...]
    notes: tuple[str, ...] = ()

    def count(self, outcome: ImportOutcome) -> int:
        return sum(1 for line in self.lines if line.outcome is outcome)

    @property
    def counts(self) -> dict[str, int]:
        """Lines per outcome: ``success``, ``partial``, ``failed``, ``duplicate_name``, ``duplicate_number``,
        ``unknown`` (every key always present)."""
        return {outcome.value: self.count(outcome) for outcome in ImportOutcome}

    @property
    def rejects(self) -> list[ImportLine]:
        """Every line that did not end as Success (Partial included: its group is missing)."""
        return [line for line in self.lines if line.outcome is not ImportOutcome.SUCCESS]

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts,
            "rejects": [line.to_dict() for line in self.rejects],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class BackgroundMessage:
    """One message of a background send (``GetBGMessages``)."""

    message_id: str
    destination: str
    status_word: str
    status: DeliveryStatus

    def to_message_status(self, background_send_id: str | None = None) -> MessageStatus:
        return MessageStatus(
            status=self.status,
            recipient=self.destination,
            message_id=self.message_id,
            batch_id=background_send_id,
            code=self.status_word,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "destination": self.destination,
            "status_word": self.status_word,
            "status": self.status.value,
            "final": self.status.is_final,
        }


@dataclass(frozen=True)
class BackgroundSendMessages:
    """The answer of ``GetBGMessages``: the messages, or ``finished=False`` while -522 says "not yet"."""

    background_send_id: str
    finished: bool
    messages: tuple[BackgroundMessage, ...] = ()

    def statuses(self) -> list[MessageStatus]:
        return [m.to_message_status(self.background_send_id) for m in self.messages]

    def to_dict(self) -> dict[str, Any]:
        return {
            "background_send_id": self.background_send_id,
            "finished": self.finished,
            "messages": [m.to_dict() for m in self.messages],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BackgroundSendMessages:
        return cls(
            background_send_id=str(data["background_send_id"]),
            finished=bool(data["finished"]),
            messages=tuple(
                BackgroundMessage(
                    message_id=str(m["message_id"]),
                    destination=str(m["destination"]),
                    status_word=str(m["status_word"]),
                    status=DeliveryStatus(m["status"]),
                )
                for m in data.get("messages", ())
            ),
        )
