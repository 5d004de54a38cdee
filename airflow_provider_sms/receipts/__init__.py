"""Delivery receipts and inbound replies: the store every component shares, and the callback receiver.

Modules: :mod:`.schema` (tables), :mod:`.store` (:class:`ReceiptStore`: idempotent writes, latest
status per message, reply cursor). The event types live in :mod:`airflow_provider_sms.core.receipts`.
"""

from airflow_provider_sms.core.receipts import ReplyEvent, StatusEvent
from airflow_provider_sms.receipts.store import ReceiptStore

__all__ = ["ReceiptStore", "ReplyEvent", "StatusEvent"]
