"""Replies as asset events: the event trigger over the store, its saved position, the asset helper."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from airflow_provider_sms.assets import sms_reply_asset
from airflow_provider_sms.core.receipts import ReplyEvent
from airflow_provider_sms.receipts.store import ReceiptStore
from airflow_provider_sms.triggers.replies import SmsReplyTrigger

_ids = itertools.count(1)
WHEN = dt.datetime(2026, 11, 29, 6, 0, tzinfo=dt.UTC)


def _reply(text: str, conn_id: str = "bulksms_default", sender: str = "447700100001") -> ReplyEvent:
    return ReplyEvent(gateway="bulksms", conn_id=conn_id, event_id=f"in-{next(_ids)}", sender=sender,
                      recipient="447700900000", text=text, received_at=WHEN, in_reply_to="m-1")


def _store(*replies: ReplyEvent) -> None:
    store = ReceiptStore.from_conn_id()
    for reply in replies:
        assert store.record_reply(reply)


async def _take(events: AsyncIterator[TriggerEvent], count: int, quiet: float = 0.3) -> list[dict[str, Any]]:
    """``count`` events, then make sure no other comes within ``quiet`` seconds."""
    taken = [(await asyncio.wait_for(events.__anext__(), timeout=10)).payload for _ in range(count)]
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(events.__anext__(), timeout=quiet)
    return taken


def _trigger(**kwargs: Any) -> SmsReplyTrigger:
    return SmsReplyTrigger(**{"name": "sms_replies_bulksms_default", "sms_conn_id": "bulksms_default",
                              "poll_interval": 0.01, **kwargs})


def test_each_stored_reply_becomes_one_event_in_order() -> None:
    _store(_reply("Yes please"), _reply("other account", conn_id="netmessenger_default"), _reply(" stop "))
    payloads = asyncio.run(_take(_trigger().run(), 2))
    assert [p["text"] for p in payloads] == ["Yes please", " stop "]
    assert [p["opt_out"] for p in payloads] == [False, True]
    first = payloads[0]
    assert (first["gateway"], first["conn_id"], first["sender"], first["recipient"], first["in_reply_to"]) == (
        "bulksms", "bulksms_default", "447700100001", "447700900000", "m-1")
    assert first["received_at"] == WHEN.isoformat() and first["event_id"].startswith("in-")


def test_a_restarted_watcher_goes_on_after_the_last_reply_it_handed_over() -> None:
    _store(_reply("one"), _reply("two"))

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        first = _trigger().run()
        taken = await _take(first, 2)  # the triggerer took both and asked for more: the position is saved
        await first.aclose()  # the triggerer restarts
        _store(_reply("three"))
        return taken, await _take(_trigger().run(), 1)

    before, after = asyncio.run(scenario())
    assert [p["text"] for p in before] == ["one", "two"]
    assert [p["text"] for p in after] == ["three"]  # none repeated, none lost


def test_killed_as_it_hands_a_reply_over_the_reply_comes_again() -> None:
    _store(_reply("one"), _reply("two"))

    async def scenario() -> list[dict[str, Any]]:
        first = _trigger().run()
        await first.__anext__()  # handed over, and the triggerer dies before asking for the next
        await first.aclose()
        return await _take(_trigger().run(), 2)

    assert [p["text"] for p in asyncio.run(scenario())] == ["one", "two"]  # at least once: "one" again


def test_every_connection_and_start_at_the_end() -> None:
    _store(_reply("old", conn_id="a"))
    assert [p["text"] for p in asyncio.run(_take(_trigger(name="all", sms_conn_id=None).run(), 1))] == ["old"]

    async def scenario() -> list[dict[str, Any]]:
        events = _trigger(name="late", sms_conn_id=None, start="end").run()
        waiting = asyncio.ensure_future(events.__anext__())
        await asyncio.sleep(0.2)  # the watcher has taken its position: the end
        _store(_reply("new", conn_id="b"))
        return [(await asyncio.wait_for(waiting, timeout=10)).payload]

    assert [p["text"] for p in asyncio.run(scenario())] == ["new"]


def test_the_watcher_waits_for_a_store_that_is_down(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("AIRFLOW_CONN_SMS_JOURNAL_DEFAULT", f'{{"conn_type": "sqlite", "host": "{blocker}/db"}}')

    async def scenario() -> bool:
        waiting = asyncio.ensure_future(_trigger().run().__anext__())
        await asyncio.sleep(0.2)
        alive = not waiting.done()  # retrying, not crashed
        waiting.cancel()
        return alive

    assert asyncio.run(scenario())


def test_serialized_arguments_are_stable_and_the_asset_is_named_after_the_connection() -> None:
    classpath, kwargs = _trigger().serialize()
    assert classpath == "airflow_provider_sms.triggers.replies.SmsReplyTrigger"
    assert SmsReplyTrigger(**kwargs).serialize() == (classpath, kwargs)
    assert BaseEventTrigger.hash(classpath, kwargs) == BaseEventTrigger.hash(*_trigger().serialize())
    asset = sms_reply_asset("bulksms_default", poll_interval=0.01)
    assert (asset.name, asset.uri) == ("sms_replies_bulksms_default", "sms://replies/bulksms_default")
    (watcher,) = asset.watchers
    assert isinstance(watcher.trigger, SmsReplyTrigger)
    assert watcher.trigger.serialize() == _trigger().serialize()
    with pytest.raises(ValueError, match="start must be"):
        SmsReplyTrigger(name="x", start="middle")
