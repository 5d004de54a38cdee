"""Progress lines and failure summaries that the sensors and triggers log."""

from __future__ import annotations

from airflow_provider_sms.core.results import DeliveryStatus, MessageStatus
from airflow_provider_sms.core.status_policy import failure_summary, progress


def _statuses(delivered: int, pending: int, failed: int) -> list[MessageStatus]:
    out = [MessageStatus(DeliveryStatus.DELIVERED, recipient=f"44770010{i:04d}") for i in range(delivered)]
    out += [MessageStatus(DeliveryStatus.SENT, recipient=f"44770020{i:04d}") for i in range(pending)]
    out += [MessageStatus(DeliveryStatus.FAILED, recipient=f"44770030{i:04d}", code="51") for i in range(failed)]
    return out


def test_progress_counts_and_names_the_first_failures() -> None:
    assert progress(_statuses(8, 3, 0)) == "11 messages: 3 pending, 8 delivered, 0 failed"
    line = progress(_statuses(2, 1, 7), sample=3)
    assert line == ("10 messages: 1 pending, 2 delivered, 7 failed (first: 447700300000: failed 51, "
                    "447700300001: failed 51, 447700300002: failed 51, and 4 more)")


def test_failure_summary_names_every_failed_recipient_up_to_the_limit() -> None:
    assert failure_summary(_statuses(5, 0, 0)) is None
    every = failure_summary(_statuses(1, 0, 4))
    assert every is not None and every.startswith("4 of 5 messages failed: ")
    assert all(f"44770030{i:04d}: failed 51" in every for i in range(4))
    capped = failure_summary(_statuses(0, 0, 150), limit=100)
    assert capped is not None and capped.endswith("; and 50 more") and capped.count(": failed 51") == 100
