"""What BulkSMS pushes, built from the simulator's state: EAPI status and inbound pushes, JSON webhooks.

* status push (Profile URL): an HTTP GET per recipient when its status is final, with
  ``msisdn``, ``batch_id``, ``status``, ``completed_time`` (``yy-MM-dd HH:mm:ss`` in the account's
  zone), ``msg_id`` and ``source_id``. The receiver must answer HTTP 200 with at least one
  character; otherwise BulkSMS tries again after 60 min, 3 h and 12 h.
* inbound push (Profile MO URL): an HTTP GET per message with ``msisdn`` (our number),
  ``sender``, ``message`` (hex when ``dca`` is 16bit), ``dca``, ``msg_id``,
  ``referring_batch_id`` / ``referring_msg_id``; only an HTTP 500 answer is retried.
* webhook (JSON API): a POST of a JSON array of ``Message`` objects, SENT ones when final and
  RECEIVED ones for inbound messages [UNCERTAIN: retried like status pushes].
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from airflow_provider_sms.simulator.bulksms.json_api import message_json
from airflow_provider_sms.simulator.bulksms.state import DELIVERED, Batch, BulkSmsState, InboundMessage
from airflow_provider_sms.simulator.bulksms.text import is_gsm
from airflow_provider_sms.simulator.callbacks import RetryRule, capped, with_query
from airflow_provider_sms.simulator.config import SimulatorConfig
from airflow_provider_sms.simulator.timeutil import format_local, iso_utc

__all__ = ["Callback", "due_callbacks"]

JSON_TYPE = "application/json"


def _acknowledged(status: int, body: bytes) -> bool:
    return status == 200 and len(body.strip()) >= 1


def status_rule(config: SimulatorConfig) -> RetryRule:
    return capped(RetryRule(delays=config.bulksms_push_retry_delays, ok=_acknowledged), config.push_max_attempts)


def inbound_rule(config: SimulatorConfig) -> RetryRule:
    rule = RetryRule(delays=config.bulksms_push_retry_delays, ok=_acknowledged, retry_on=lambda status: status == 500)
    return capped(rule, config.push_max_attempts)


def webhook_rule(config: SimulatorConfig) -> RetryRule:
    return capped(RetryRule(delays=config.bulksms_push_retry_delays), config.push_max_attempts)


@dataclass(frozen=True)
class Callback:
    """One callback to queue: a GET of ``url`` or a POST of ``body``."""

    label: str
    url: str
    rule: RetryRule
    body: bytes | None = None


def _status_pushes(url: str, batch: Batch, rule: RetryRule) -> Iterator[Callback]:
    completed = format_local(batch.final_at, batch.time_zone, "%y-%m-%d %H:%M:%S")
    for index, msisdn in enumerate(batch.msisdns):
        status = batch.outcomes.get(index, DELIVERED)
        if batch.report_mode == "ERRORS" and status == DELIVERED:
            continue
        params = [("msisdn", msisdn), ("batch_id", str(batch.batch_id)), ("status", str(status)),
                  ("completed_time", completed), ("msg_id", str(batch.message_id(index)))]
        if batch.source_id:
            params.append(("source_id", batch.source_id))
        yield Callback("status", with_query(url, params), rule)


def _sent_webhook(url: str, batch: Batch, rule: RetryRule) -> Callback:
    messages = [message_json(batch, index, batch.final_at) for index in range(len(batch.msisdns))
                if not (batch.report_mode == "ERRORS" and batch.outcomes.get(index, DELIVERED) == DELIVERED)]
    return Callback("webhook", url, rule, json.dumps(messages).encode("utf-8"))


def _referred(state: BulkSmsState, message: InboundMessage) -> str | None:
    batch = state.batch(message.referring_batch_id) if message.referring_batch_id else None
    if batch is None or message.sender not in batch.msisdns:
        return None
    return str(batch.message_id(batch.msisdns.index(message.sender)))


def _inbound(state: BulkSmsState, message: InboundMessage, config: SimulatorConfig) -> Iterator[Callback]:
    related = _referred(state, message)
    for account in state.accounts_seeing(message.username):
        if account.inbound_push_url:
            # Text outside the GSM alphabet arrives as 16bit: UCS-2 in hex, as the vendor documents.
            gsm = is_gsm(message.text)
            body = message.text if gsm else message.text.encode("utf-16-be").hex().upper()
            params = [("msisdn", message.msisdn), ("sender", message.sender), ("message", body),
                      ("dca", "7bit" if gsm else "16bit"), ("msg_id", str(message.msg_id)),
                      ("referring_batch_id", str(message.referring_batch_id or 0))]
            if related:
                params.append(("referring_msg_id", related))
            yield Callback("inbound", with_query(account.inbound_push_url, params), inbound_rule(config))
        if account.webhook_url:
            item = {"id": str(message.msg_id), "type": "RECEIVED", "from": message.sender, "to": message.msisdn,
                    "body": message.text, "encoding": "TEXT", "receivedAt": iso_utc(message.received_at),
                    "status": {"id": "RECEIVED.null", "type": "RECEIVED", "subtype": None},
                    "relatedSentMessageId": related}
            yield Callback("webhook", account.webhook_url, webhook_rule(config), json.dumps([item]).encode("utf-8"))


def due_callbacks(state: BulkSmsState) -> list[Callback]:
    """Every callback that came due: reports of batches now final, and inbound messages since the last call."""
    config = state.config
    found: list[Callback] = []
    for account, batch in state.due_reports():
        if account.push_url:
            found.extend(_status_pushes(account.push_url, batch, status_rule(config)))
        if account.webhook_url:
            found.append(_sent_webhook(account.webhook_url, batch, webhook_rule(config)))
    for message in state.take_new_inbound():
        found.extend(_inbound(state, message, config))
    return found
