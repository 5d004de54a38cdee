"""StatusTally: the same verdicts as ``judge`` on the full list, small packed forms at 100,000 messages."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_sms.core.results import BackgroundMessage, BackgroundSend, DeliveryStatus, MessageStatus
from airflow_provider_sms.core.status_policy import failure_summary, judge, progress
from airflow_provider_sms.core.status_wait import (
    KEEP_ALL_LIMIT,
    StatusTally,
    background_summary,
    pack,
    unpack,
)


def _statuses(count: int, failed_every: int = 100, pending_every: int = 0) -> list[MessageStatus]:
    out = []
    for i in range(count):
        status = DeliveryStatus.DELIVERED
        if failed_every and i % failed_every == 0:
            status = DeliveryStatus.FAILED
        elif pending_every and i % pending_every == 1:
            status = DeliveryStatus.SENT
        out.append(MessageStatus(status, recipient=str(447700000000 + i), message_id=str(900000000 + i),
                                 batch_id=f"1-{i // 4000:020d}", code="11" if status.is_success else "51"))
    return out


@settings(max_examples=300, deadline=None, database=None)
@given(
    values=st.lists(st.sampled_from(list(DeliveryStatus)), max_size=30),
    success_when=st.sampled_from(["all_delivered", "all_final"]),
    on_failed=st.sampled_from(["fail", "skip", "continue"]),
)
def test_one_poll_judges_as_the_full_list_does(values: list[DeliveryStatus], success_when: str,
                                               on_failed: str) -> None:
    statuses = [MessageStatus(v, recipient=str(i), message_id=str(i), batch_id="b") for i, v in enumerate(values)]
    tally = StatusTally()
    tally.record([], statuses)
    old = judge(statuses, success_when, on_failed)  # type: ignore[arg-type]
    new = tally.judge(success_when, on_failed)  # type: ignore[arg-type]
    assert (new.done, new.pending, list(new.failed)) == (old.done, old.pending, list(old.failed))
    assert tally.progress() == progress(statuses)
    assert tally.failure_summary() == failure_summary(statuses)


def test_finals_are_counted_once_and_only_pending_ones_are_asked_again() -> None:
    first = _statuses(10, failed_every=5, pending_every=3)
    tally = StatusTally()
    tally.record([(first[0].batch_id, None, None)], first)
    pending = [s for s in first if not s.status.is_final]
    assert tally.to_ask() == [(s.batch_id, s.message_id, s.recipient) for s in pending]
    later = [MessageStatus(DeliveryStatus.DELIVERED, s.recipient, s.message_id, s.batch_id) for s in pending]
    tally.record(tally.to_ask(), later)
    assert tally.to_ask() == [] and tally.total == 10 and tally.failed == 2 and tally.delivered == 8
    assert tally.judge("all_final", "continue").done
    assert sorted(s.message_id or "" for s in tally.statuses()) == sorted(s.message_id or "" for s in first)


def test_a_batch_that_lists_nothing_yet_stays_pending() -> None:
    tally = StatusTally()
    listed = _statuses(3, failed_every=0)
    tally.record([("1-00000000000000000000", None, None), ("scheduled", None, None)], listed)
    assert tally.to_ask() == [("scheduled", None, None)]
    assert not tally.judge("all_delivered", "fail").done  # the old verdict said done here


def test_at_100000_messages_the_packed_tally_is_small_and_lists_only_failures() -> None:
    statuses = _statuses(100_000)
    tally = StatusTally()
    tally.record([], statuses)
    packed = tally.pack()
    assert len(packed) < 1_000_000
    summary = tally.summary()
    assert len(json.dumps(summary)) < 1_000_000
    assert summary["total"] == 100_000 and summary["failed"] == 1_000 and summary["delivered"] == 99_000
    assert summary["statuses_complete"] is False and len(summary["statuses"]) == 1_000
    assert {s["status"] for s in summary["statuses"]} == {"failed"}
    again = StatusTally.unpack(packed)
    assert again.summary() == summary


def test_every_status_is_listed_up_to_the_limit() -> None:
    tally = StatusTally()
    tally.record([], _statuses(KEEP_ALL_LIMIT))
    assert tally.summary()["statuses_complete"] is True and len(tally.statuses()) == KEEP_ALL_LIMIT
    tally.record([], _statuses(1))
    assert tally.summary()["statuses_complete"] is False


def test_pending_messages_of_a_big_wait_travel_packed_under_a_megabyte() -> None:
    tally = StatusTally()
    sent = [MessageStatus(DeliveryStatus.SENT, s.recipient, s.message_id, s.batch_id, "10")
            for s in _statuses(100_000, failed_every=0)]
    tally.record([], sent)  # everything still pending
    assert len(tally.to_ask()) == 100_000
    packed = tally.pack()
    assert len(packed) < 1_000_000
    # Asked about again by their ids: the recipient travels only for a message without an id.
    assert StatusTally.unpack(packed).to_ask() == [(b, m, None) for b, m, _ in tally.to_ask()]


def test_unpack_refuses_a_bomb() -> None:
    with pytest.raises(ValueError, match="more than"):
        unpack(pack(["x" * 1000] * 1000), limit=10_000)


def test_background_summary_above_the_limit_keeps_counts_and_failures() -> None:
    messages = tuple(BackgroundMessage(str(i), str(447700000000 + i), "Delivered" if i % 50 else "Undeliverable",
                                       DeliveryStatus.DELIVERED if i % 50 else DeliveryStatus.FAILED)
                     for i in range(100_000))
    result = background_summary(BackgroundSend("bg1", True, messages))
    assert result["total"] == 100_000 and result["counts"] == {"delivered": 98_000, "failed": 2_000}
    assert result["messages_complete"] is False and len(result["messages"]) == 2_000
    assert len(pack(result)) < 1_000_000
    small = background_summary(BackgroundSend("bg2", True, messages[:10]))
    assert small["messages_complete"] is True and len(small["messages"]) == 10
