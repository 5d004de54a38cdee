"""The send journal's tables: one row per chunk of a send (one gateway request's worth of recipients).

A row is written *before* the request goes out (``state = sending``) and updated with the outcome
after it. It is keyed by the task (dag, task, run, map index) and the chunk's canonical key, so a
retry, a cleared task or a re-run of the same run finds what earlier tries did.
"""

from __future__ import annotations

import enum

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = ["COMPONENT", "SCHEMA_VERSION", "ChunkState", "metadata", "send_chunks"]

COMPONENT = "send_journal"
#: 2: an answered chunk whose recipients share one outcome keeps it once (``every_recipient``, with
#: ``message_ids`` when each has its own) instead of a row per recipient. The tables are the same;
#: version 1 providers would read such a chunk as answered for nobody and send it again, so the
#: version shuts them out ("upgrade the provider on every worker") once a newer one has opened it.
SCHEMA_VERSION = 2

metadata = MetaData()


class ChunkState(enum.StrEnum):
    """Where one chunk stands."""

    SENDING = "sending"  # intent recorded; no outcome (the worker died, or is still at it)
    ANSWERED = "answered"  # the gateway answered: per-recipient accepted/rejected is known
    REFUSED = "refused"  # the whole request was refused before anyone was texted
    IN_DOUBT = "in_doubt"  # the gateway may or may not have acted (lost answer, -511 after acting, ...)


send_chunks = Table(
    "sms_send_chunks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dag_id", String(250), nullable=False),
    Column("task_id", String(250), nullable=False),
    Column("run_id", String(250), nullable=False),
    Column("map_index", Integer, nullable=False),
    Column("chunk_key", String(64), nullable=False),
    Column("gateway", String(50), nullable=False),
    Column("recipients", Text, nullable=False),  # JSON list, canonical order
    Column("content", String(64), nullable=False),  # digest of text, sender, schedule, options
    Column("dedupe_key", BigInteger, nullable=True),
    Column("send_at", DateTime(timezone=True), nullable=True),
    Column("state", String(12), nullable=False),
    Column("try_number", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("intent_at", DateTime(timezone=True), nullable=False),
    Column("outcome_at", DateTime(timezone=True), nullable=True),
    Column("outcome", Text, nullable=True),  # JSON: the chunk's results, or the error text
    UniqueConstraint("dag_id", "task_id", "run_id", "map_index", "chunk_key", name="uq_sms_send_chunks_chunk"),
    Index("ix_sms_send_chunks_task", "dag_id", "task_id", "run_id", "map_index"),
)
