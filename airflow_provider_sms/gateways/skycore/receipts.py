"""Skycore postbacks as receipts: delivery receipts (SMS_MT, MMS_MT) and inbound messages (SMS_MO, MMS_MO).

One URL (the account's Postback URL, set at onboarding or in the account settings) receives
every notification; Skycore wants HTTP 200 within 10 seconds and otherwise retries about five
minutes later, at most five times. Dedupe keys: a receipt's tracking id + code; an inbound
SMS's ``TRANSACTIONID`` (older postbacks have none: a digest of sender, time and text), an
inbound MMS's tracking id. Other postbacks (subscriptions, MMS encoding) are acknowledged and
not stored.
"""

from __future__ import annotations

from collections.abc import Sequence

from airflow_provider_sms.core.receipts import ReplyEvent, StatusEvent
from airflow_provider_sms.gateways.callbacks import (
    CallbackEndpoint,
    CallbackRequest,
    Event,
    callback_error,
    digest_id,
    guarded,
    parse_time,
)
from airflow_provider_sms.gateways.skycore.postbacks import MAX_POSTBACK_BYTES, Postback, parse_postback

__all__ = ["CALLBACKS", "postback_events"]

GATEWAY = "skycore"
ANSWER_WITHIN = 8.0
"""Seconds the receiver allows itself: Skycore gives up on an answer after 10."""
_INBOUND_ORIGINS = ("SMS_MO", "MMS_MO")


def _time(postback: Postback, *names: str) -> str | None:
    return next((value for value in (postback.get(n) for n in names) if value), postback.created)


def postback_events(request: CallbackRequest) -> Sequence[Event]:
    """One postback: a :class:`StatusEvent`, a :class:`ReplyEvent`, or nothing (other notifications)."""
    postback = parse_postback(request.body)
    state = postback.delivery_status
    if state is not None:
        tracking = postback.tracking_id or postback.get("MMSID")
        if not tracking:
            raise callback_error(GATEWAY, f"a {postback.code} receipt without TRACKINGID")
        return [StatusEvent(gateway=GATEWAY, conn_id=request.conn_id, event_id=f"{tracking}:{postback.code}",
                            message_id=tracking, recipient=postback.to, state=state, gateway_code=postback.code,
                            detail=(postback.get("STATUSDETAILS") or postback.status_text or postback.meaning)[:1000],
                            occurred_at=parse_time(_time(postback, "TIMESTAMP"), request.received_at))]
    if postback.origin.upper() in _INBOUND_ORIGINS:
        sender = postback.get("FROM") or postback.get("MOBILE")
        if not sender:
            raise callback_error(GATEWAY, f"an inbound {postback.origin} postback without FROM")
        text = postback.get("TEXT") or postback.get("KEYWORD") or ""
        when = _time(postback, "RECEIVED", "TIMESTAMP")
        event_id = postback.get("TRANSACTIONID") or postback.tracking_id or digest_id(sender, when, text)
        return [ReplyEvent(gateway=GATEWAY, conn_id=request.conn_id, event_id=event_id, sender=sender,
                           recipient=postback.get("TO"), text=text,
                           received_at=parse_time(when, request.received_at))]
    return []


CALLBACKS = (
    CallbackEndpoint(GATEWAY, "postback", ("skycore",), ("POST",), guarded(GATEWAY, postback_events),
                     "Skycore account > API settings > Postback URL (and the MO/MMS postback URL, if separate)",
                     answer_within=ANSWER_WITHIN, body_limit=MAX_POSTBACK_BYTES),
)
