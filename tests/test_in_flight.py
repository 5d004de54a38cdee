"""``in_order``: results in the items' order, at most ``max_in_flight`` calls at once, items drawn
lazily, the first call alone when asked, and an error raised only once every started call ended."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from airflow_provider_sms.in_flight import in_order


class Calls:
    """Calls that wait for other calls to end first (events, no sleeping), counting how many run at once."""

    def __init__(self, after: dict[int, list[int]] | None = None) -> None:
        self.after = after or {}  # item -> items that must end before it ends
        self.lock = threading.Lock()
        self.now = self.peak = 0
        self.started: list[int] = []
        self.ended: list[int] = []
        self.done: dict[int, threading.Event] = {}

    def _event(self, item: int) -> threading.Event:
        with self.lock:
            return self.done.setdefault(item, threading.Event())

    def __call__(self, item: int) -> int:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.started.append(item)
        for other in self.after.get(item, []):
            assert self._event(other).wait(10)
        with self.lock:
            self.now -= 1
            self.ended.append(item)
        self._event(item).set()
        if item < 0:
            raise ValueError(f"item {item}")
        return item * 10


def test_results_come_in_order_whatever_order_the_calls_end() -> None:
    calls = Calls(after={1: [3, 2], 2: [3], 4: [6, 5], 5: [6]})  # later items end first
    drawn: list[int] = []

    def items() -> Iterator[int]:
        for item in range(1, 9):
            drawn.append(item)
            yield item

    assert list(in_order(calls, items(), 3)) == [(i, i * 10) for i in range(1, 9)]
    assert calls.peak == 3
    assert calls.ended[:3] == [3, 2, 1]
    assert drawn == list(range(1, 9))


def test_items_are_drawn_lazily() -> None:
    drawn: list[int] = []

    def items() -> Iterator[int]:
        for item in range(100):
            drawn.append(item)
            yield item

    results = in_order(Calls(), items(), 4)
    assert next(results) == (0, 0)
    assert len(drawn) <= 5  # what is in flight, and the one taken
    results.close()


def test_one_in_flight_runs_in_this_thread() -> None:
    threads: set[str] = set()

    def call(item: int) -> int:
        threads.add(threading.current_thread().name)
        return item

    assert [r for _, r in in_order(call, range(5), 1)] == list(range(5))
    assert threads == {threading.current_thread().name}


def test_the_first_call_goes_alone() -> None:
    calls = Calls(after={2: [3]})  # 2 and 3 overlap once the first has ended
    results = in_order(calls, range(1, 7), 4, first_alone=True)
    assert next(results) == (1, 10)
    assert calls.started == [1]  # nothing else started before the first ended
    assert [item for item, _ in results] == [2, 3, 4, 5, 6]
    assert calls.peak > 1


def test_an_error_is_raised_after_the_calls_in_flight_ended() -> None:
    calls = Calls(after={-2: [3]})  # the failing call ends after the one behind it
    results = in_order(calls, [1, -2, 3, 4, 5, 6], 3)
    assert next(results) == (1, 10)
    with pytest.raises(ValueError, match="item -2"):
        next(results)
    assert sorted(calls.started) == sorted(calls.ended)  # none abandoned mid-call
    assert 5 not in calls.started and 6 not in calls.started  # none started after the error was known
