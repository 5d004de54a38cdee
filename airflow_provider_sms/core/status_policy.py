"""When is waiting for delivery over, and did it succeed? Shared by the poke sensor and the trigger."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from airflow_provider_sms.core.results import MessageStatus

__all__ = ["OnFailedDelivery", "SuccessWhen", "Verdict", "judge"]

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
