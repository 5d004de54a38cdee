"""What names a task's sends in the journal: (dag, task, run, map index)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["TaskKey"]


@dataclass(frozen=True)
class TaskKey:
    """One task instance, across all its tries (a retry, a clear and a re-run of the run share it)."""

    dag_id: str
    task_id: str
    run_id: str
    map_index: int = -1

    @classmethod
    def from_context(cls, context: Mapping[str, Any], dag_id: str | None, task_id: str) -> TaskKey | None:
        """The key of the running task, or None when the context names no run (``execute`` called bare)."""
        ti = context.get("ti")
        run_id = context.get("run_id") or getattr(ti, "run_id", None)
        if not run_id:
            return None
        map_index = getattr(ti, "map_index", -1) if ti is not None else -1
        return cls(dag_id or "", task_id, str(run_id), int(map_index if map_index is not None else -1))

    def __str__(self) -> str:
        index = "" if self.map_index < 0 else f"[{self.map_index}]"
        return f"{self.dag_id}.{self.task_id}{index} in run {self.run_id}"
