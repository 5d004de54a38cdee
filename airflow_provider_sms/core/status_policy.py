"""When is waiting for delivery over, and did it succeed? Shared by the poke sensor and the trigger."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from airflow_provider_sms.core.results import MessageStatus

__all__ = ["OnFailedDelivery", "SuccessWhen", "Verdict", "failure_summary", "failure_summary_line", "judge",
           "progress", "progress_line"]

SuccessWhen = Literal["all_delivered", "all_final"]
OnFailedDelivery = Literal["fail", "skip", "continue"]


@dataclass(frozen=True)
class Verdict:
    """``done``: stop waiting. ``failed``: messages whose final status is not delivered."""

    done: bool
    failed: tuple[MessageStatus, ...]
    pending: int

    @property
    def outcome(self) -> Literal["waiting", "success", "failed"]:
        if not self.done:
            return "waiting"
        return "failed" if self.failed else "success"


def judge(statuses: Sequence[MessageStatus], success_when: SuccessWhen, on_failed: OnFailedDelivery) -> Verdict:
    """Decide from the current statuses.

    ``all_delivered`` with ``on_failed`` ``fail`` or ``skip`` stops at the first failed delivery
    (success is then impossible, and waiting longer only delays the alert). ``continue`` (and
    ``all_final``) waits until every message is final.
    """
    failed = tuple(s for s in statuses if s.status.is_failure)
    pending = sum(1 for s in statuses if not s.status.is_final)
    fail_fast = success_when == "all_delivered" and on_failed != "continue" and bool(failed)
    done = (pending == 0 and bool(statuses)) or fail_fast
    relevant_failures = failed if success_when == "all_delivered" else ()
    return Verdict(done=done, failed=relevant_failures, pending=pending)


def _who(status: MessageStatus) -> str:
    who = status.recipient or status.message_id or "?"
    code = f" {status.code}" if status.code else ""
    return f"{who}: {status.status.value}{code}"


def progress(statuses: Sequence[MessageStatus], sample: int = 5) -> str:
    """One log line per poll: ``12 messages: 3 pending, 8 delivered, 1 failed (first: 4477...: failed 51)``."""
    failed = [s for s in statuses if s.status.is_failure]
    pending = sum(1 for s in statuses if not s.status.is_final)
    delivered = sum(1 for s in statuses if s.status.is_success)
    return progress_line(len(statuses), pending, delivered, len(failed), failed, sample)


def progress_line(total: int, pending: int, delivered: int, failed: int, first_failures: Sequence[MessageStatus],
                  sample: int = 5) -> str:
    """:func:`progress` from counts (``first_failures``: the failed messages known, in order)."""
    line = f"{total} messages: {pending} pending, {delivered} delivered, {failed} failed"
    if failed:
        shown = ", ".join(_who(s) for s in first_failures[:sample])
        more = f", and {failed - sample} more" if failed > sample else ""
        line += f" (first: {shown}{more})"
    return line


def failure_summary(statuses: Sequence[MessageStatus], limit: int = 100) -> str | None:
    """Every failed recipient, up to ``limit`` (then how many more); None when nothing failed."""
    failed = [s for s in statuses if s.status.is_failure]
    return failure_summary_line(len(statuses), len(failed), failed, limit)


def failure_summary_line(total: int, failed: int, first_failures: Sequence[MessageStatus],
                         limit: int = 100) -> str | None:
    """:func:`failure_summary` from counts (``first_failures``: the failed messages known, in order)."""
    if not failed:
        return None
    more = f"; and {failed - limit} more" if failed > limit else ""
    return f"{failed} of {total} messages failed: " + ", ".join(_who(s) for s in first_failures[:limit]) + more
