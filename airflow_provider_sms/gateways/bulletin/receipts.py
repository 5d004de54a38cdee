"""Bulletin Messenger's reply and status callbacks (XMLv3 or FORMv1) as receipts.

Both URLs are set on Messenger's API Settings page ("Default Callback URL for Replies" /
"... for Statuses"); Messenger retries an answer of HTTP 400 or above for up to 48 hours.
Dedupe keys: a status's ``statusId`` (FORMv1: its ``messageId``); a FORMv1 reply's
``messageId``. An XMLv3 reply carries no id of its own, so its key is a digest of sender,
receive time, text and the message answered (a retry carries the same fields).
"""

from __future__ import annotations

from collections.abc import Sequence

from airflow_provider_sms.core.receipts import ReplyEvent, StatusEvent
from airflow_provider_sms.gateways.bulletin.api import GATEWAY
from airflow_provider_sms.gateways.bulletin.callbacks import (
    CALLBACK_BODY_LIMIT,
    detect_format,
    parse_reply_callback,
    parse_status_callback,
)
from airflow_provider_sms.gateways.bulletin.codes import delivery_status
from airflow_provider_sms.gateways.callbacks import (
    CallbackEndpoint,
    CallbackRequest,
    Event,
    callback_error,
    digest_id,
    guarded,
    parse_time,
)

__all__ = ["CALLBACKS", "reply_events", "status_events"]

CONN_TYPES = ("bulletin_messenger",)


def status_events(request: CallbackRequest) -> Sequence[Event]:
    """A status callback: one :class:`StatusEvent`."""
    update = parse_status_callback(request.body, detect_format(request.body, request.content_type))
    if not update.message_id:
        raise callback_error(GATEWAY, "a status update without the message's id")
    event_id = update.status_id or digest_id(update.message_id, update.handset, update.status_code,
                                              update.status_date)
    return [StatusEvent(gateway=GATEWAY, conn_id=request.conn_id, event_id=event_id, message_id=update.message_id,
                        recipient=update.handset or None, state=update.status, gateway_code=update.status_code,
                        detail=update.error or delivery_status(update.status_code).meaning,
                        occurred_at=parse_time(update.status_date, request.received_at))]


def reply_events(request: CallbackRequest) -> Sequence[Event]:
    """A reply callback: one :class:`ReplyEvent`."""
    reply = parse_reply_callback(request.body, detect_format(request.body, request.content_type))
    event_id = reply.reply_id or digest_id(reply.handset, reply.received_date, reply.body, reply.in_reply_to)
    return [ReplyEvent(gateway=GATEWAY, conn_id=request.conn_id, event_id=event_id, sender=reply.handset,
                       recipient=reply.to or None, text=reply.body,
                       received_at=parse_time(reply.received_date, request.received_at),
                       in_reply_to=reply.in_reply_to or None)]


CALLBACKS = (
    CallbackEndpoint(GATEWAY, "status", CONN_TYPES, ("POST",), guarded(GATEWAY, status_events),
                     "Messenger > API Settings > Default Callback URL for Statuses (XML or FORM format)",
                     body_limit=CALLBACK_BODY_LIMIT),
    CallbackEndpoint(GATEWAY, "reply", CONN_TYPES, ("POST",), guarded(GATEWAY, reply_events),
                     "Messenger > API Settings > Default Callback URL for Replies (XML or FORM format)",
                     body_limit=CALLBACK_BODY_LIMIT),
)
