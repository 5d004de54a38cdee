"""A stand-in task instance for calling ``execute`` directly (the HTTP side is real: the simulator)."""

from __future__ import annotations

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
