"""The shared rate limit and throttling back-off, on a virtual clock (nothing sleeps)."""

from __future__ import annotations

import pytest

from airflow_provider_sms.pacing import CEILING, FLOOR, SLOW_DOWN, Pacer


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
    assert pacer.ceiling == pytest.approx(10 * CEILING)  # it recovers to just below where it was refused
    for _ in range(20):
        pacer.throttled(0.0)  # refused together (no time passes): the ceiling drops once only
    assert pacer.rate == pytest.approx(10 * FLOOR)  # never below a quarter of the configured rate
    assert pacer.ceiling == pytest.approx(10 * SLOW_DOWN * CEILING)
    for _ in range(200):
        pacer.answered()
    assert pacer.ceiling is not None and 10 * SLOW_DOWN * CEILING < pacer.ceiling < 10
    assert pacer.rate == pytest.approx(pacer.ceiling)  # recovered quickly, up to the ceiling ...
    for _ in range(5000):
        pacer.answered()
    assert pacer.rate == pacer.ceiling == 10  # ... which itself creeps back to the configured rate
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


def test_with_a_rate_an_unhinted_refusal_lowers_the_rate_without_a_pause() -> None:
    pacer, clock = _pacer(10)
    pacer.acquire()
    pacer.throttled(0.5, hinted=False)  # e.g. Skycore E113: no Retry-After
    pacer.acquire()
    assert clock.now == pytest.approx(0.1)  # the next turn as planned, no pause ...
    pacer.acquire()
    assert clock.now == pytest.approx(0.1 + 1 / (10 * SLOW_DOWN))  # ... but at the lower rate
    unlimited, unlimited_clock = _pacer(None)
    unlimited.throttled(0.5, hinted=False)
    unlimited.acquire()
    assert unlimited_clock.now == pytest.approx(0.5)  # without a rate, the back-off is a pause
