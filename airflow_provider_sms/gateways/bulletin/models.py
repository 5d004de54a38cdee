"""Plain shapes of what Bulletin Messenger hands out: status updates, replies, sent messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_provider_sms.core.results import DeliveryStatus, MessageStatus
from airflow_provider_sms.gateways.bulletin.codes import delivery_status

__all__ = ["InboundReply", "SentItem", "SentMessage", "StatusUpdate"]


@dataclass(frozen=True)
class StatusUpdate:
    """A status change of one outbound message to one handset (callback or ``/api/1/sms/status``).

    ``status_id`` identifies this update (dedupe on it); ``message_id`` is the ``messageId`` of
    the send it belongs to.
    """

    status_id: str
    message_id: str
    handset: str
    status_code: str
    to: str = ""
    status_date: str | None = None
    error: str = ""

    @property
    def status(self) -> DeliveryStatus:
        return delivery_status(self.status_code).status

    def to_message_status(self) -> MessageStatus:
        return MessageStatus(self.status, recipient=self.handset, message_id=self.message_id or None,
                             batch_id=self.message_id or None, code=self.status_code,
                             text=self.error or delivery_status(self.status_code).meaning)

    def to_dict(self) -> dict[str, Any]:
        return {"status_id": self.status_id, "message_id": self.message_id, "handset": self.handset,
                "status_code": self.status_code, "status": self.status.value, "to": self.to,
                "status_date": self.status_date, "error": self.error}


@dataclass(frozen=True)
class InboundReply:
    """A message received from a handset (callback or ``/api/1/sms/in``).

    ``in_reply_to`` is the ``messageId`` of the send it answers (empty when it answers nothing).
    """

    handset: str
    body: str
    in_reply_to: str = ""
    reply_id: str = ""
    to: str = ""
    display_name: str = ""
    received_date: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"handset": self.handset, "body": self.body, "in_reply_to": self.in_reply_to,
                "reply_id": self.reply_id, "to": self.to, "display_name": self.display_name,
                "received_date": self.received_date}


@dataclass(frozen=True)
class SentItem:
    """One recipient of one sent message, as the sent-messages list tells it."""

    message_id: str
    recipient: str
    body: str
    date: str = ""
    status_code: str = ""
    error: str = ""

    @property
    def rejected(self) -> bool:
        return bool(self.error)

    def row(self) -> list[str]:
        return [self.message_id, self.recipient, self.date, self.status_code, self.error, self.body]


@dataclass(frozen=True)
class SentMessage:
    """One message of ``/api/3/sms/out/poll`` (sent since the last poll)."""

    message_id: str
    body: str
    recipient_count: int | None
    recipients: str
    message_date: str
    status_code: str
