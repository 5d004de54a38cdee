"""The receipts store's tables: status events and inbound replies, one row per gateway event.

Both are unique on ``(gateway, conn_id, event_id)``: a callback delivered twice, or a queue item
drained twice, is one row. The integer ``id`` is the order rows were committed in (writers take
turns, see :mod:`.store`), so readers page through new rows with a cursor.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

from airflow_provider_sms.core.receipts import MAX_DETAIL_LENGTH, MAX_EVENT_ID_LENGTH

__all__ = ["COMPONENT", "SCHEMA_VERSION", "metadata", "reply_events", "status_events"]

COMPONENT = "receipts"
SCHEMA_VERSION = 1

metadata = MetaData()

status_events = Table(
    "sms_status_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("gateway", String(50), nullable=False),
    Column("conn_id", String(250), nullable=False),
    Column("event_id", String(MAX_EVENT_ID_LENGTH), nullable=False),
    Column("message_id", String(200), nullable=False),
    Column("recipient", String(200), nullable=True),
    Column("state", String(20), nullable=False),
    Column("gateway_code", String(200), nullable=True),
    Column("detail", String(MAX_DETAIL_LENGTH), nullable=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("gateway", "conn_id", "event_id", name="uq_sms_status_events_event"),
    Index("ix_sms_status_events_message", "gateway", "conn_id", "message_id"),
)

reply_events = Table(
    "sms_reply_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("gateway", String(50), nullable=False),
    Column("conn_id", String(250), nullable=False),
    Column("event_id", String(MAX_EVENT_ID_LENGTH), nullable=False),
    Column("sender", String(200), nullable=False),
    Column("recipient", String(200), nullable=True),
    Column("text", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("in_reply_to", String(200), nullable=True),
    Column("stored_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("gateway", "conn_id", "event_id", name="uq_sms_reply_events_event"),
)
