"""The shared rate limit and throttling back-off, on a virtual clock (nothing sleeps)."""

from __future__ import annotations

import pytest

from airflow_provider_sms.pacing import FLOOR, SLOW_DOWN, Pacer


class VirtualClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def _pacer(rate: float | None) -> tuple[Pacer, VirtualClock]:
    clock = VirtualClock()
    return Pacer(rate, clock=clock, sleep=clock.sleep), clock


def test_turns_are_spaced_by_cost_over_rate_without_a_burst() -> None:
    pacer, clock = _pacer(10)
    starts = []
    for cost in (1, 1, 5, 1):
        pacer.acquire(cost)
        starts.append(clock.now)
    assert starts == pytest.approx([0.0, 0.1, 0.2, 0.7])


def test_no_rate_means_no_wait() -> None:
    pacer, clock = _pacer(None)
    for _ in range(100):
        assert pacer.acquire(50) == 0
    assert clock.waits == []


def test_a_throttling_answer_holds_everybody_and_lowers_the_rate() -> None:
    pacer, _ = _pacer(10)
    pacer.acquire()
    pacer.throttled(2.0)
    assert pacer.acquire() == pytest.approx(2.0)  # the next caller waits out the pause, whoever was refused
    assert pacer.rate == pytest.approx(10 * SLOW_DOWN)
    for _ in range(20):
        pacer.throttled(0.0)
    assert pacer.rate == pytest.approx(10 * FLOOR)  # never below a quarter of the configured rate
    for _ in range(200):
        pacer.answered()
    assert pacer.rate == 10  # answered requests give the rate back, up to the configured one
    assert pacer.throttles == 21


def test_a_pause_that_starts_while_a_turn_waits_holds_that_turn_too() -> None:
    clock = VirtualClock()
    pacer: Pacer

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if len(clock.waits) == 1:
            pacer.throttled(3.0)  # another request is refused meanwhile

    pacer = Pacer(1, clock=clock, sleep=sleep)
    pacer.acquire()
    pacer.acquire()  # waits 1 s for its turn, then the 3 s pause that began during that wait
    assert clock.now == pytest.approx(4.0)
