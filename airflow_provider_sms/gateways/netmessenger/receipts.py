"""NetMessenger (FastSMS) inbound message forwarding as receipts.

Set per Virtual Mobile Number in the web UI (inbox > manage): the target URL, GET or POST, and
an ``auth`` value passed through on every call -- the receiver takes the connection's callback
secret from that ``auth`` parameter. Fields: ``source`` (sender), ``dest`` (the VMN), ``msg``,
``id`` (dedupe key), ``receivedts`` (``YYYY-MM-DD HH:MM:SS``, read in the connection's
``time_zone``, default Europe/London [UNCERTAIN: the zone is not documented]). The HTTP API has
no delivery-report push (statuses are polled).
"""

from __future__ import annotations

from collections.abc import Sequence

from airflow_provider_sms.core.receipts import ReplyEvent
from airflow_provider_sms.gateways.callbacks import (
    CallbackEndpoint,
    CallbackRequest,
    Event,
    guarded,
    parse_time,
    required,
)
from airflow_provider_sms.gateways.netmessenger.api import DEFAULT_TIME_ZONE, GATEWAY

__all__ = ["CALLBACKS", "inbound_events"]


def inbound_events(request: CallbackRequest) -> Sequence[Event]:
    """One forwarded inbound message (query parameters, or form fields of a POST)."""
    params = request.params
    zone = str(request.options.get("time_zone") or DEFAULT_TIME_ZONE)
    return [ReplyEvent(gateway=GATEWAY, conn_id=request.conn_id, event_id=required(GATEWAY, params, "id"),
                       sender=required(GATEWAY, params, "source"), recipient=params.get("dest") or None,
                       text=params.get("msg", ""),
                       received_at=parse_time(params.get("receivedts"), request.received_at, zone))]


CALLBACKS = (
    CallbackEndpoint(GATEWAY, "inbound", ("netmessenger",), ("GET", "POST"), guarded(GATEWAY, inbound_events),
                     "NetMessenger > Inbox > manage (per virtual number): forwarding URL, method GET or POST, "
                     "and the callback secret as 'auth'", auth_param="auth"),
)
