"""What an alert is about, read from whatever callback context Airflow hands over, and its default text.

Airflow 3 callback contexts vary: a task callback has ``ti`` and ``dag_run``; a DAG-level callback
has no ``ti``; a run triggered through the API or UI has no logical date (nor data interval); a
deadline alert run in the triggerer gets only ``{"dag_run": {...plain dict...}, "deadline": {...}}``.
:func:`alert_facts` copes with all of them, and :func:`default_message` never needs a key that
might be missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

__all__ = ["AlertFacts", "alert_facts", "default_message", "task_url"]

# The exception line is cut so that the whole default alert usually fits in two SMS parts.
_EXCEPTION_CHARS = 120


@dataclass(frozen=True)
class AlertFacts:
    """The parts of a callback context an alert needs; every field may be unknown (``None``)."""

    dag_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None
    map_index: int | None = None
    try_number: int | None = None
    max_tries: int | None = None
    state: str | None = None
    exception: str | None = None
    reason: str | None = None
    deadline: str | None = None
    dag_level: bool = False  # a DAG callback (its context has a ``reason``), not a task's

    @property
    def tries_total(self) -> int | None:
        """How many tries the task gets in all: its retries plus the first try."""
        return None if self.max_tries is None else self.max_tries + 1

    @property
    def retries_remain(self) -> bool:
        """Whether Airflow will run the task again after this failure.

        The task runner sets ``ti.state`` before it calls callbacks, so ``up_for_retry`` is decisive;
        ``failed`` is final even when tries are left (``AirflowFailException``). Without a state,
        fall back to the try counter.
        """
        if self.state is not None:
            return self.state == "up_for_retry"
        if self.try_number is None or self.max_tries is None:
            return False
        return self.try_number <= self.max_tries


def _get(obj: Any, name: str) -> Any:
    """An attribute or a mapping key: deadline contexts carry plain dicts where tasks carry objects."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _opt_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(getattr(value, "value", value))  # enum states -> their plain value


def _opt_int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _first_line(error: Any) -> str | None:
    if error is None or error == "":
        return None
    if isinstance(error, BaseException):
        text = str(error).strip()
        lines = text.splitlines()
        first = lines[0] if lines else ""
        line = f"{type(error).__name__}: {first}" if first else type(error).__name__
    else:
        stripped = str(error).strip().splitlines()
        line = stripped[0] if stripped else ""
    return line if len(line) <= _EXCEPTION_CHARS else line[: _EXCEPTION_CHARS - 3].rstrip() + "..."


def alert_facts(context: Mapping[str, Any] | None) -> AlertFacts:
    """Read an :class:`AlertFacts` from a task, DAG or deadline-alert callback context."""
    context = context or {}
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    dag = context.get("dag")
    deadline = context.get("deadline")
    return AlertFacts(
        dag_id=_opt_str(_get(ti, "dag_id") or _get(dag_run, "dag_id") or _get(dag, "dag_id") or context.get("dag_id")),
        task_id=_opt_str(_get(ti, "task_id")),
        run_id=_opt_str(context.get("run_id") or _get(ti, "run_id") or _get(dag_run, "run_id")),
        map_index=_opt_int(_get(ti, "map_index")),
        try_number=_opt_int(_get(ti, "try_number")),
        max_tries=_opt_int(_get(ti, "max_tries")),
        state=_opt_str(_get(ti, "state")) if ti is not None else _opt_str(_get(dag_run, "state")),
        exception=_first_line(context.get("exception")),
        reason=_opt_str(context.get("reason")),
        deadline=_opt_str(_get(deadline, "deadline_time")),
        dag_level="reason" in context,
    )


def task_url(facts: AlertFacts, base_url: str | None) -> str | None:
    """The task's (or the run's) page in the Airflow UI, when the UI's base URL is known."""
    if not base_url or not facts.dag_id:
        return None
    url = f"{base_url.rstrip('/')}/dags/{quote(facts.dag_id, safe='')}"
    if facts.run_id:
        url += f"/runs/{quote(facts.run_id, safe='')}"
        if facts.task_id:
            url += f"/tasks/{quote(facts.task_id, safe='')}"
            if facts.map_index is not None and facts.map_index >= 0:
                url += f"/mapped/{facts.map_index}"
    return url


_STATE_WORDS = {"up_for_retry": "failed, will retry", "failed": "failed", "success": "succeeded",
                "skipped": "was skipped", "running": "is running", "queued": "is queued"}


def _dag_message(facts: AlertFacts, base_url: str | None) -> str:
    """A DAG callback's alert: the run's outcome, why, and the task that decided it (if known)."""
    what = "succeeded" if facts.reason == "success" else "failed"
    text = f"Airflow: DAG {facts.dag_id or '?'} {what}"
    if facts.run_id:
        text += f", run {facts.run_id}"
    detail = [facts.reason] if facts.reason and facts.reason != "success" else []
    if facts.task_id:
        detail.append(f"task {facts.task_id}")
    text += f" ({', '.join(detail)})." if detail else "."
    url = task_url(replace(facts, task_id=None), base_url)
    return f"{text} {url}" if url else text


def default_message(facts: AlertFacts, base_url: str | None = None) -> str:
    """The alert text used when the notifier is given none.

    ``Airflow: task load in DAG nightly failed (try 3 of 3), run manual__2026-...: ValueError: bad row.
    https://airflow.example.com/dags/nightly/runs/.../tasks/load``
    """
    if facts.dag_level:
        return _dag_message(facts, base_url)
    if facts.task_id:
        subject = f"task {facts.task_id}"
        if facts.map_index is not None and facts.map_index >= 0:
            subject += f"[{facts.map_index}]"
        subject += f" in DAG {facts.dag_id or '?'}"
    else:
        subject = f"DAG {facts.dag_id or '?'}"
    if facts.deadline:
        what = f"missed its deadline ({facts.deadline})"
    else:
        what = _STATE_WORDS.get(facts.state or "", facts.state or "failed")
    text = f"Airflow: {subject} {what}"
    if facts.try_number is not None and facts.try_number > 0:
        total = facts.tries_total
        text += f" (try {facts.try_number} of {total})" if total else f" (try {facts.try_number})"
    if facts.run_id:
        text += f", run {facts.run_id}"
    detail = facts.exception or facts.reason
    text += f": {detail}" if detail else "."
    url = task_url(facts, base_url)
    if url:
        text += f" {url}"
    return text
