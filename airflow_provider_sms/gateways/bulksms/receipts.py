"""BulkSMS pushes as receipts: EAPI status reports and inbound messages (HTTP GET with query
parameters, set in the account Profile) and JSON API webhooks (POST of a JSON array of messages).

* EAPI status push: ``msisdn``, ``batch_id``, ``status`` (per-message code), ``completed_time``,
  ``source_id``, ``msg_id`` (some clients). An EAPI send names its messages by batch id, so the
  event's ``message_id`` is the ``batch_id`` and ``recipient`` the number (read them with
  ``ReceiptStore.recipient_statuses``). Dedupe key: ``msg_id`` (else batch id + number) + status.
  BulkSMS retries a failed push after 1 h, 3 h and 12 h.
* EAPI inbound push: ``sender``, ``msisdn`` (the account's number), ``message`` (hex for ``dca``
  8bit/16bit), ``msg_id`` (dedupe key), ``referring_batch_id`` / ``referring_msg_id``. Only an
  HTTP 500 answer is retried.
* JSON webhook [UNCERTAIN: the payload is taken to be the API's ``Message`` objects, as ``GET
  /messages`` returns them]: ``type`` SENT gives a status event keyed by message ``id`` + ``status.id``,
  RECEIVED an inbound message keyed by ``id``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_sms.core.receipts import ReplyEvent, StatusEvent
from airflow_provider_sms.gateways.answers import decode_body, load_json
from airflow_provider_sms.gateways.bulksms.codes import eapi_message_status, json_delivery_status
from airflow_provider_sms.gateways.bulksms.common import GATEWAY
from airflow_provider_sms.gateways.callbacks import (
    CallbackEndpoint,
    CallbackRequest,
    Event,
    callback_error,
    guarded,
    parse_time,
    required,
)

__all__ = ["CALLBACKS", "eapi_inbound_events", "eapi_status_events", "webhook_events"]

CONN_TYPES = ("bulksms",)
MAX_WEBHOOK_MESSAGES = 1000
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def _zone(request: CallbackRequest) -> str | None:
    zone = request.options.get("time_zone")
    return str(zone) if zone else None


def eapi_status_events(request: CallbackRequest) -> Sequence[Event]:
    """One EAPI status report push."""
    params = request.params
    number, batch_id = required(GATEWAY, params, "msisdn"), required(GATEWAY, params, "batch_id")
    code = required(GATEWAY, params, "status")
    status = eapi_message_status(code)
    key = params.get("msg_id") or f"{batch_id}:{number}"
    return [StatusEvent(gateway=GATEWAY, conn_id=request.conn_id, event_id=f"{key}:{code}", message_id=batch_id,
                        recipient=number, state=status.status, gateway_code=code, detail=status.meaning,
                        occurred_at=parse_time(params.get("completed_time"), request.received_at, _zone(request)))]


def _body(message: str, dca: str) -> str:
    if dca.lower() in ("8bit", "16bit") and message and len(message) % 2 == 0 and set(message) <= _HEX_DIGITS:
        raw = bytes.fromhex(message)
        if dca.lower() == "16bit" and len(raw) % 2 == 0:
            return raw.decode("utf-16-be", errors="replace")
        return raw.decode("iso-8859-1")
    return message


def eapi_inbound_events(request: CallbackRequest) -> Sequence[Event]:
    """One EAPI inbound message push."""
    params = request.params
    referring = next((v for v in (params.get("referring_batch_id"), params.get("referring_msg_id"))
                      if v and v.strip() not in ("", "0")), None)
    return [ReplyEvent(gateway=GATEWAY, conn_id=request.conn_id, event_id=required(GATEWAY, params, "msg_id"),
                       sender=required(GATEWAY, params, "sender"), recipient=params.get("msisdn") or None,
                       text=_body(params.get("message", ""), params.get("dca", "7bit")),
                       received_at=request.received_at, in_reply_to=referring)]


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value)


def _when(item: Mapping[str, Any], *names: str) -> str | None:
    """The first of ``names`` present, else the submission's date."""
    submission = item.get("submission")
    dated = [item.get(n) for n in names] + [submission.get("date") if isinstance(submission, Mapping) else None]
    return next((text for text in map(_text, dated) if text), None)


def _webhook_event(item: Any, request: CallbackRequest) -> Event:
    if not isinstance(item, Mapping):
        raise callback_error(GATEWAY, "a webhook item that is not an object")
    message_id, kind = _text(item.get("id")), str(item.get("type") or "").upper()
    if not message_id:
        raise callback_error(GATEWAY, "a webhook message without id")
    found = item.get("status")
    status: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    if kind == "RECEIVED":
        sender = _text(item.get("from"))
        if not sender:
            raise callback_error(GATEWAY, "a received message without 'from'")
        return ReplyEvent(gateway=GATEWAY, conn_id=request.conn_id, event_id=message_id, sender=sender,
                          recipient=_text(item.get("to")), text=_text(item.get("body")) or "",
                          received_at=parse_time(_when(item, "receivedAt"), request.received_at),
                          in_reply_to=_text(item.get("relatedSentMessageId")))
    if kind != "SENT":
        raise callback_error(GATEWAY, "a webhook message whose type is neither SENT nor RECEIVED")
    status_type, subtype = _text(status.get("type")), _text(status.get("subtype"))
    if not status_type:
        raise callback_error(GATEWAY, "a sent message without status.type")
    status_id = _text(status.get("id")) or f"{status_type}.{subtype or 'null'}"
    state = json_delivery_status(status_type, subtype)
    return StatusEvent(gateway=GATEWAY, conn_id=request.conn_id, event_id=f"{message_id}:{status_id}",
                       message_id=message_id, recipient=_text(item.get("to")), state=state,
                       gateway_code=status_id[:200], detail=None,
                       occurred_at=parse_time(_when(item, "completedAt", "statusDate"), request.received_at))


def webhook_events(request: CallbackRequest) -> Sequence[Event]:
    """One JSON API webhook call: a JSON array of messages (a single object is read as one)."""
    try:
        data = load_json(decode_body(request.body))
    except ValueError:
        raise callback_error(GATEWAY, "a webhook body that is not JSON") from None
    items = data if isinstance(data, list) else [data]
    if len(items) > MAX_WEBHOOK_MESSAGES:
        raise callback_error(GATEWAY, f"a webhook of {len(items)} messages (the limit is {MAX_WEBHOOK_MESSAGES})")
    return [_webhook_event(item, request) for item in items]


CALLBACKS = (
    CallbackEndpoint(GATEWAY, "status", CONN_TYPES, ("GET",), guarded(GATEWAY, eapi_status_events),
                     "BulkSMS Profile > HTTP push of status reports (EAPI)"),
    CallbackEndpoint(GATEWAY, "inbound", CONN_TYPES, ("GET",), guarded(GATEWAY, eapi_inbound_events),
                     "BulkSMS Profile > HTTP push of incoming messages (EAPI)"),
    CallbackEndpoint(GATEWAY, "webhook", CONN_TYPES, ("POST",), guarded(GATEWAY, webhook_events),
                     "BulkSMS > Settings > Webhooks (JSON API; one webhook for SENT and one for RECEIVED messages)",
                     body_limit=1_000_000),
)
