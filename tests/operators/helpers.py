"""A stand-in task instance for calling ``execute`` directly (the HTTP side is real: the simulator)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FakeTaskInstance:
    run_id: str = "scheduled__2026-11-22T08:00:00+00:00"
    map_index: int = -1
    try_number: int = 1
    xcom: dict[str, Any] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def context(ti: FakeTaskInstance | None = None) -> dict[str, Any]:
    ti = ti or FakeTaskInstance()
    return {"ti": ti, "run_id": ti.run_id}


def first_event_once_logged(trigger: Any, logged: Callable[[], str], marker: str, then: Callable[[], None]) -> Any:
    """Run ``trigger`` as the triggerer does until ``logged()`` shows ``marker`` (its own poll said
    so), then call ``then`` (e.g. move the simulator's clock on) and return the trigger's first event."""

    async def scenario() -> Any:
        first = asyncio.ensure_future(trigger.run().__anext__())
        while marker not in logged():
            await asyncio.sleep(0.01)
        then()
        return await asyncio.wait_for(first, timeout=30)

    return asyncio.run(asyncio.wait_for(scenario(), timeout=60))
