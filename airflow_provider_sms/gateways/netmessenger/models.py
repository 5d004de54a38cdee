"""Small, JSON-friendly shapes for what NetMessenger answers beyond the shared model.

Sends and statuses use :mod:`airflow_provider_sms.core.results`; this module holds the rest: the
report types, a child user to create, per-destination send items (with every part id), contact
import results and the messages of a background send.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal

from airflow_provider_sms.core.contacts import ImportLine, ImportResult
from airflow_provider_sms.core.results import BackgroundMessage, BackgroundSend

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


# Shared with other gateways: the model lives in core.results.
BackgroundSendMessages = BackgroundSend
