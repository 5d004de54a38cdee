"""Delivery receipts and replies as every gateway reports them, in one shape.

A gateway tells the provider about a message after the send: a status callback, a postback, a
queue item, an inbound reply. The receiver and the pollers turn each one into a
:class:`StatusEvent` or a :class:`ReplyEvent`; the receipts store keeps them, once each, keyed on
``(gateway, conn_id, event_id)`` -- ``event_id`` is the gateway's own idempotency key (Bulletin
``statusId``, BulkSMS message id + status, Skycore tracking id + code, NetMessenger inbound id ...),
so a callback delivered twice is one event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from airflow_provider_sms.core.results import DeliveryStatus
from airflow_provider_sms.exceptions import Problem, SmsValidationError

__all__ = ["MAX_DETAIL_LENGTH", "MAX_EVENT_ID_LENGTH", "MAX_REPLY_TEXT_LENGTH", "ReplyEvent", "StatusEvent"]

MAX_EVENT_ID_LENGTH = 200
MAX_FIELD_LENGTH = 200
MAX_DETAIL_LENGTH = 1000
MAX_REPLY_TEXT_LENGTH = 10_000
"""A reply of many concatenated parts stays far below this; more is not a text message."""


def _check_text(problems: list[Problem], name: str, value: str | None, limit: int, *, required: bool) -> None:
    if value is None or value == "":
        if required:
            problems.append(Problem(name, "must not be empty"))
        return
    if len(value) > limit:
        problems.append(Problem(name, f"is {len(value)} characters long (the limit is {limit})"))


def _check_time(problems: list[Problem], name: str, value: dt.datetime) -> None:
    if value.tzinfo is None:
        problems.append(Problem(name, "must carry a time zone (UTC)"))


def _raise(problems: list[Problem], gateway: str) -> None:
    if problems:
        raise SmsValidationError(problems, gateway=gateway or None)


@dataclass(frozen=True)
class StatusEvent:
    """One status report about one message.

    :param gateway: the gateway's name (``bulletin``, ``bulksms``, ``netmessenger``, ``skycore``).
    :param conn_id: the Airflow connection of the account the message was sent through.
    :param event_id: the gateway's idempotency key for this report (see the module docstring).
    :param message_id: the gateway's id of the message, as the send returned it.
    :param recipient: the handset number, when the report names it.
    :param state: the status in the provider's shared vocabulary.
    :param gateway_code: the gateway's own status code, as text.
    :param detail: the gateway's description, when it gives one.
    :param occurred_at: when the gateway says it happened (else when it was received), UTC.
    """

    gateway: str
    conn_id: str
    event_id: str
    message_id: str
    recipient: str | None
    state: DeliveryStatus
    gateway_code: str | None
    detail: str | None
    occurred_at: dt.datetime

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        _check_text(problems, "gateway", self.gateway, 50, required=True)
        _check_text(problems, "conn_id", self.conn_id, 250, required=True)
        _check_text(problems, "event_id", self.event_id, MAX_EVENT_ID_LENGTH, required=True)
        _check_text(problems, "message_id", self.message_id, MAX_FIELD_LENGTH, required=True)
        _check_text(problems, "recipient", self.recipient, MAX_FIELD_LENGTH, required=False)
        _check_text(problems, "gateway_code", self.gateway_code, MAX_FIELD_LENGTH, required=False)
        _check_text(problems, "detail", self.detail, MAX_DETAIL_LENGTH, required=False)
        _check_time(problems, "occurred_at", self.occurred_at)
        if not isinstance(self.state, DeliveryStatus):
            problems.append(Problem("state", f"{self.state!r} is not a DeliveryStatus"))
        _raise(problems, self.gateway)


@dataclass(frozen=True)
class ReplyEvent:
    """One inbound message (a reply, or a message to a short code or virtual number).

    :param gateway: the gateway's name.
    :param conn_id: the Airflow connection of the account that received it.
    :param event_id: the gateway's idempotency key for this message.
    :param sender: the handset number that sent it.
    :param recipient: the number or short code it was sent to, when known.
    :param text: the message text.
    :param received_at: when the gateway received it (else when the provider did), UTC.
    :param in_reply_to: the id of the message it answers, when the gateway links it.
    """

    gateway: str
    conn_id: str
    event_id: str
    sender: str
    recipient: str | None
    text: str
    received_at: dt.datetime
    in_reply_to: str | None = None

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        _check_text(problems, "gateway", self.gateway, 50, required=True)
        _check_text(problems, "conn_id", self.conn_id, 250, required=True)
        _check_text(problems, "event_id", self.event_id, MAX_EVENT_ID_LENGTH, required=True)
        _check_text(problems, "sender", self.sender, MAX_FIELD_LENGTH, required=True)
        _check_text(problems, "recipient", self.recipient, MAX_FIELD_LENGTH, required=False)
        _check_text(problems, "text", self.text, MAX_REPLY_TEXT_LENGTH, required=False)
        _check_text(problems, "in_reply_to", self.in_reply_to, MAX_FIELD_LENGTH, required=False)
        _check_time(problems, "received_at", self.received_at)
        _raise(problems, self.gateway)
