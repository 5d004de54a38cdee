"""Calls over a stream of work items, a bounded number in flight, their results taken in order.

The contact import's uploads and the status look-ups of many batches go through this, with the
hook's ``max_in_flight`` (the same bound, per connection, as a send's requests; see
``operators/journaled_send.py``) and the hook's one transport, whose :class:`~airflow_provider_sms.pacing.Pacer`
gives every request its turn under one rate limit and one throttling back-off. Results come back
in the items' order, so whatever is built from them (counts, a rejects file, a status listing)
is exactly what one call after another would build.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar, cast

__all__ = ["agather_in_order", "in_order"]

T = TypeVar("T")
R = TypeVar("R")


def in_order(call: Callable[[T], R], items: Iterable[T], max_in_flight: int, *,
             first_alone: bool = False) -> Iterator[tuple[T, R]]:
    """Yield ``(item, call(item))`` for each item, in the items' order, up to ``max_in_flight`` calls at once.

    Items are drawn lazily: the next one is made (a chunk read from a file, say) while the calls
    before it are in flight, and at most ``max_in_flight`` are started and not yet taken. With 1,
    the calls run one after another in this thread.

    :param first_alone: the first call runs alone, the others only after it succeeded (a gateway
        whose bad credentials should fail after one request: ``SmsHook.first_request_alone``).
    :raises: the first error of a call, in the items' order, once every call already started has
        ended (none is abandoned mid-request); no call is started after it is known.
    """
    width = max(1, max_in_flight)
    if width == 1:
        for item in items:
            yield item, call(item)
        return
    pending: deque[tuple[T, Future[R]]] = deque()
    with ThreadPoolExecutor(width, thread_name_prefix="sms-in-flight") as pool:
        alone = first_alone
        for item in items:
            pending.append((item, pool.submit(call, item)))
            while pending and (alone or len(pending) >= width or pending[0][1].done()):
                alone = False
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()


async def agather_in_order(calls: Iterable[Callable[[], Awaitable[R]]], max_in_flight: int) -> list[R]:
    """Await every call, up to ``max_in_flight`` at once, and return their results in the calls' order.

    With 1, one after another. Otherwise every call runs to its end (each within its own deadline),
    then the first error in the calls' order is raised, as it is (never an exception group).
    """
    width = max(1, max_in_flight)
    if width == 1:
        return [await call() for call in calls]
    gate = asyncio.Semaphore(width)

    async def one(call: Callable[[], Awaitable[R]]) -> R:
        async with gate:
            return await call()

    outcomes = await asyncio.gather(*(one(call) for call in calls), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return cast("list[R]", outcomes)
