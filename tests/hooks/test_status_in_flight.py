"""Status look-ups over many batches (or single messages) go ``max_in_flight`` at once, sync and async,
and give exactly the one-after-another answer. Real loopback sockets (the simulator)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.hooks.base import MessageRef, SmsHook, get_sms_hook
from airflow_provider_sms.hooks.bulksms import BulkSmsHook
from airflow_provider_sms.hooks.netmessenger import NetMessengerHook
from airflow_provider_sms.simulator import SimulatorServer
from tests.conftest import bulksms_connection, netmessenger_connection

NUMBERS = [f"4477001{i:05d}" for i in range(12)]


class Peak:
    """Counts calls in flight at once, sync (threads) and async (tasks)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.peak = 0

    def enter(self) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def leave(self) -> None:
        with self.lock:
            self.now -= 1


def _count(monkeypatch: pytest.MonkeyPatch, cls: type[SmsHook], name: str, peak: Peak) -> None:
    real = getattr(cls, name)
    if asyncio.iscoroutinefunction(real):
        async def counted_async(self: Any, *args: Any, **kwargs: Any) -> Any:
            peak.enter()
            try:
                return await real(self, *args, **kwargs)
            finally:
                peak.leave()

        monkeypatch.setattr(cls, name, counted_async)
        return

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        peak.enter()
        try:
            return real(self, *args, **kwargs)
        finally:
            peak.leave()

    monkeypatch.setattr(cls, name, counted)


def _statuses(connect: Callable[[int], str], look: Callable[[SmsHook], Any]) -> list[list[Any]]:
    answers = []
    for in_flight in (1, 4):
        hook = get_sms_hook(connect(in_flight))
        answers.append([(s.message_id, s.recipient, s.status, s.code) for s in look(hook)])
    return answers


@pytest.mark.parametrize("api", ["json", "eapi"])
def test_many_bulksms_batches_are_read_several_at_a_time(api: str, sms_simulator: SimulatorServer,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def connect(in_flight: int) -> str:
        monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT", bulksms_connection(sms_simulator, api,
                                                                              max_in_flight=in_flight))
        return "bulksms_default"

    hook = get_sms_hook(connect(1))
    sms_simulator.bulksms.set_outcome(NUMBERS[3], 51)
    batches = [hook.send(OutgoingMessage("Hi", numbers=NUMBERS[i:i + 2])).batch_ids[0] for i in range(0, 12, 2)]
    sms_simulator.clock.advance(60)
    sms_simulator.faults.latency(0.01)  # look-ups overlap
    refs = [MessageRef(batch_id=b) for b in batches]
    peak = Peak()
    _count(monkeypatch, BulkSmsHook, "batch_statuses", peak)
    _count(monkeypatch, BulkSmsHook, "abatch_statuses", peak)
    for look in (lambda h: h.get_statuses(refs), lambda h: asyncio.run(h.aget_statuses(refs))):
        peak.peak = 0
        serial, several = _statuses(connect, look)
        assert serial == several and len(serial) == 12
        assert 1 < peak.peak <= 4  # six batches, up to four at once (one at a time for the serial read)


def test_many_netmessenger_messages_are_read_several_at_a_time(sms_simulator: SimulatorServer,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def connect(in_flight: int) -> str:
        monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT",
                           netmessenger_connection(sms_simulator, max_in_flight=in_flight))
        return "netmessenger_default"

    hook = get_sms_hook(connect(1))
    result = hook.send(OutgoingMessage("Hi", numbers=NUMBERS[:8], sender="Airflow"))
    sms_simulator.clock.advance(600)
    sms_simulator.faults.latency(0.01)
    refs = [MessageRef(message_id=r.message_id) for r in result.results]
    peak = Peak()
    _count(monkeypatch, NetMessengerHook, "message_status", peak)
    serial, several = _statuses(connect, lambda h: h.get_statuses(refs))
    assert serial == several and [s[0] for s in serial] == [r.message_id for r in result.results]
    assert 1 < peak.peak <= 4
    asynchronous = asyncio.run(get_sms_hook(connect(4)).aget_statuses(refs))
    assert [(s.message_id, s.recipient, s.status, s.code) for s in asynchronous] == serial
