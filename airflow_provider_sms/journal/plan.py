"""What a later try of a task does with the journal's records: report, settle, or send.

Pure: records in, plan out. Recipients are matched one by one, so a list that changed between
tries (or arrives in another order) still never texts an accepted recipient again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from airflow_provider_sms.core.results import RecipientResult, SendResult
from airflow_provider_sms.journal.schema import ChunkState
from airflow_provider_sms.journal.store import ChunkRecord

__all__ = ["RetryPlan", "plan_retry"]

_UNSETTLED = (ChunkState.SENDING, ChunkState.IN_DOUBT)


@dataclass
class RetryPlan:
    """The three groups a later try splits the recipients into.

    :param done: recipients an earlier try had accepted, with the gateway's answer as recorded, and
        those it had rejected for good (see ``final_rejection`` of :func:`plan_retry`).
    :param unsettled: chunks whose fate is unknown (in doubt, or intent without outcome); they are
        settled with the gateway as recorded -- same recipients, same dedupe key -- before anything else.
    :param to_send: recipients no earlier try texted (never sent, refused, or rejected not for good),
        canonical order.
    :param changed_content: recipients an earlier try texted with other content (text, sender, time).
    """

    done: SendResult
    unsettled: list[ChunkRecord] = field(default_factory=list)
    to_send: list[str] = field(default_factory=list)
    changed_content: list[str] = field(default_factory=list)


def plan_retry(gateway: str, recipients: Sequence[str], records: Sequence[ChunkRecord], content: str,
               final_rejection: Callable[[RecipientResult], bool] | None = None) -> RetryPlan:
    """Split ``recipients`` (canonical order) by what ``records`` say earlier tries did with them.

    :param final_rejection: says which recipients rejected inside an answered chunk the gateway
        would only reject again (the hook's ``rejection_is_final``): those are reported as recorded,
        not sent again, when the content is the same. Without it every rejected recipient is sent again.
    """
    accepted: dict[str, tuple[RecipientResult, ChunkRecord]] = {}
    rejected: dict[str, tuple[RecipientResult, ChunkRecord]] = {}
    answers: dict[int, SendResult] = {}
    for record in records:
        if record.state is ChunkState.ANSWERED:
            answers[record.id] = result = record.result()
            for row in result.results:
                if row.accepted:
                    accepted.setdefault(row.recipient, (row, record))
                elif final_rejection is not None and record.content == content and final_rejection(row):
                    rejected.setdefault(row.recipient, (row, record))
    unsettled = [r for r in records if r.state in _UNSETTLED]
    pending = {recipient for record in unsettled for recipient in record.recipients}
    plan = RetryPlan(SendResult(gateway), unsettled)
    used: dict[int, None] = {}
    for recipient in recipients:
        found = accepted.get(recipient) or (rejected.get(recipient) if recipient not in pending else None)
        if found is not None:
            row, record = found
            plan.done.results.append(row)
            used[record.id] = None
            if row.accepted and record.content != content:
                plan.changed_content.append(recipient)
        elif recipient not in pending:
            plan.to_send.append(recipient)
    for record_id in used:
        plan.done.extend(SendResult(gateway, [], answers[record_id].batch_ids,
                                    answers[record_id].background_send_ids))
    return plan
