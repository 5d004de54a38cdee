"""NetMessenger's inbound message forwarding, as seed 002 describes it.

For an account with a forwarding URL (set per virtual number in the web UI), every inbound
message is sent there by GET (query parameters) or POST (form fields): ``source`` (sender),
``dest`` (the virtual number), ``msg``, ``id``, ``receivedts`` (``YYYY-MM-DD HH:MM:SS`` in the
account's zone) and the ``auth`` pass-through value. What the receiver must answer and whether a
failure is retried are not documented [UNCERTAIN]: HTTP 200 counts as received, and retries
follow ``netmessenger_forward_retry_delays`` (default: none).
"""

from __future__ import annotations

from urllib.parse import urlencode

from airflow_provider_sms.simulator.callbacks import CallbackQueue, RetryRule, capped, with_query
from airflow_provider_sms.simulator.netmessenger.state import NetMessengerState
from airflow_provider_sms.simulator.timeutil import format_local

__all__ = ["queue_forwards"]


def queue_forwards(state: NetMessengerState, queue: CallbackQueue, now: float) -> None:
    """Queue a forward of every inbound message received since the last call."""
    config = state.config
    rule = capped(RetryRule(delays=config.netmessenger_forward_retry_delays), config.push_max_attempts)
    for account, message in state.take_new_inbound():
        if not account.forward_url:
            continue
        fields = [("source", message.sender), ("dest", message.number or account.virtual_number),
                  ("msg", message.text), ("id", str(message.message_id)),
                  ("receivedts", format_local(message.received_at, account.time_zone)), ("auth", account.forward_auth)]
        if account.forward_method.upper() == "POST":
            queue.add(account.forward_url, body=urlencode(fields).encode("utf-8"), due=now, label="inbound",
                      rule=rule)
        else:
            queue.add(with_query(account.forward_url, fields), due=now, label="inbound", rule=rule)
