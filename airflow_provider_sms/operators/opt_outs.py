"""Dropping opted-out numbers from a send before it is chunked and journaled (``honour_opt_outs``).

The send operators call :func:`drop_opted_out` on their normalised numbers; the numbers on the
suppression list (:mod:`airflow_provider_sms.receipts.suppression`) are not sent to and come back as
``suppressed`` results. A list that cannot be read fails the task before anything is sent: sending
to people who said STOP is worse than not sending.

A number an earlier try of the same task already texted (the send journal says so) is not
reported as suppressed even when it opted out since: the journal's record of that text stands.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from airflow_provider_sms.core.dedupe import canonical_order
from airflow_provider_sms.core.recipient_set import CanonicalRecipients
from airflow_provider_sms.core.results import RecipientResult, suppressed_result

if TYPE_CHECKING:
    from airflow_provider_sms.journal import SendJournal, TaskKey

__all__ = ["drop_opted_out", "journal_texted"]

log = logging.getLogger(__name__)


def drop_opted_out(numbers: Sequence[str], *, conn_id: str, gateway: str,
                   texted_before: Callable[[], set[str]] | None = None
                   ) -> tuple[Sequence[str], list[RecipientResult]]:
    """Split ``numbers`` into those to send to and the ``suppressed`` results of those opted out.

    :param numbers: international digits, as normalised by the operators (order is kept; a
        :class:`~airflow_provider_sms.core.recipient_set.CanonicalRecipients` stays one, uncopied).
    :param conn_id: the connection of the database holding the list (the send journal's).
    :param gateway: for the log line.
    :param texted_before: numbers earlier tries of this task already texted (asked only when some
        number is listed); they stay in the send, which reports them from the journal.
    :raises AirflowException: the list's database cannot be reached (a retry may find it back).
    """
    from airflow.providers.common.compat.sdk import AirflowException

    from airflow_provider_sms.journal import JournalUnavailableError
    from airflow_provider_sms.receipts.suppression import SuppressionList

    if not numbers:
        return [], []
    try:
        listing = SuppressionList.open(conn_id)
        listing.catch_up()  # stop words among replies stored since the last send looked
        listed = listing.suppressed(numbers)
    except JournalUnavailableError as error:
        # A retry may find the database back; sending meanwhile could text people who said STOP.
        raise AirflowException(f"{error}; the opt-out list cannot be read, so nothing was sent") from error
    if listed and texted_before is not None:
        listed -= texted_before()
    if not listed:
        return numbers, []
    log.info("%s: %d of %d recipients opted out (replied with a stop word) and are not sent to "
             "(honour_opt_outs=False sends to them, e.g. for transactional messages)", gateway, len(listed),
             len(numbers))
    if isinstance(numbers, CanonicalRecipients):  # the listed ones, in its order, without reading every number
        return numbers.without(listed), [suppressed_result(n) for n in canonical_order(listed) if n in numbers]
    keep = [n for n in numbers if n not in listed]
    return keep, [suppressed_result(n) for n in numbers if n in listed]


def journal_texted(journal: SendJournal | None, task: TaskKey | None) -> set[str]:
    """Recipients earlier tries of ``task`` texted, or may have (accepted, or in a chunk not yet settled)."""
    from airflow_provider_sms.journal import ChunkState

    if journal is None or task is None:
        return set()
    texted: set[str] = set()
    for record in journal.records(task):
        if record.state is ChunkState.ANSWERED:
            texted.update(r.recipient for r in record.result().results if r.accepted)
        elif record.state is not ChunkState.REFUSED:
            texted.update(record.recipients)  # settled by the send itself, never suppressed half-way
    return texted
