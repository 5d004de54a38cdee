from __future__ import annotations

import datetime as dt
import json

import pytest

from airflow_provider_sms.core.dedupe import INT32_MAX, content_digest, dedupe_key
from airflow_provider_sms.core.results import DeliveryStatus, MessageStatus, RecipientResult, SendResult
from airflow_provider_sms.core.schedule import schedule_problems
from airflow_provider_sms.core.status_policy import judge
from airflow_provider_sms.exceptions import (
    Problem,
    SmsAmbiguousError,
    SmsCapabilityError,
    SmsConfigurationError,
    SmsRateLimitedError,
    SmsRetryableError,
    SmsValidationError,
)

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


def test_final_statuses() -> None:
    final = {s for s in DeliveryStatus if s.is_final}
    assert final == {DeliveryStatus.DELIVERED, DeliveryStatus.FAILED, DeliveryStatus.EXPIRED,
                     DeliveryStatus.REJECTED, DeliveryStatus.CANCELLED, DeliveryStatus.UNKNOWN,
                     DeliveryStatus.SUPPRESSED}
    assert not DeliveryStatus.DELIVERED.is_failure
    assert DeliveryStatus.EXPIRED.is_failure
    assert not DeliveryStatus.SENT.is_failure


def test_send_result_round_trips_through_json() -> None:
    result = SendResult("bulksms", [
        RecipientResult("447700100001", True, "0", "IN_PROGRESS", None, "17"),
        RecipientResult("447700100002", False, "25", "no credits"),
    ], batch_ids=["17"])
    data = json.loads(json.dumps(result.to_dict()))
    assert data["accepted_count"] == 1 and data["rejected_count"] == 1
    assert SendResult.from_dict(data) == result
    summary = result.to_dict(per_recipient=False)
    assert "results" not in summary
    assert [r["recipient"] for r in summary["rejected"]] == ["447700100002"]


def test_message_status_round_trip() -> None:
    status = MessageStatus(DeliveryStatus.DELIVERED, "447700100001", None, "9", "11", "Delivered")
    data = json.loads(json.dumps(status.to_dict()))
    assert data["final"] is True
    assert MessageStatus.from_dict(data) == status
    assert status.key == "9:447700100001"


def test_dedupe_key_is_stable_and_in_range() -> None:
    key = dedupe_key("dag", "task", "run", -1, 0, "abc")
    assert key == dedupe_key("dag", "task", "run", -1, 0, "abc")
    assert key != dedupe_key("dag", "task", "run", -1, 1, "abc")
    assert 1 <= key <= INT32_MAX
    keys = {dedupe_key("d", "t", "r", -1, i) for i in range(5000)}
    assert len(keys) == 5000
    assert content_digest(["a", "b"]) != content_digest(["ab"])


@pytest.mark.parametrize(
    ("send_at", "reason"),
    [
        (None, None),
        (NOW + dt.timedelta(hours=1), None),
        (NOW - dt.timedelta(seconds=1), "is in the past"),
        (NOW + dt.timedelta(days=731), "more than 730 days ahead"),
        (dt.datetime(2027, 1, 1, 9, 0), "timezone-aware"),
    ],
)
def test_schedule_problems(send_at: dt.datetime | None, reason: str | None) -> None:
    problems = schedule_problems(send_at, NOW)
    if reason is None:
        assert problems == []
    else:
        assert len(problems) == 1 and reason in problems[0].reason


def _s(status: DeliveryStatus) -> MessageStatus:
    return MessageStatus(status, recipient="4477")


@pytest.mark.parametrize(
    ("statuses", "success_when", "on_failed", "outcome"),
    [
        ([DeliveryStatus.PENDING, DeliveryStatus.DELIVERED], "all_delivered", "fail", "waiting"),
        ([DeliveryStatus.DELIVERED, DeliveryStatus.DELIVERED], "all_delivered", "fail", "success"),
        ([DeliveryStatus.PENDING, DeliveryStatus.FAILED], "all_delivered", "fail", "failed"),  # fail fast
        ([DeliveryStatus.PENDING, DeliveryStatus.FAILED], "all_delivered", "continue", "waiting"),
        ([DeliveryStatus.DELIVERED, DeliveryStatus.FAILED], "all_delivered", "continue", "failed"),
        ([DeliveryStatus.EXPIRED, DeliveryStatus.DELIVERED], "all_final", "fail", "success"),
        ([DeliveryStatus.SENT], "all_final", "fail", "waiting"),
        ([], "all_final", "fail", "waiting"),
    ],
)
def test_judge(statuses: list[DeliveryStatus], success_when: str, on_failed: str, outcome: str) -> None:
    verdict = judge([_s(s) for s in statuses], success_when, on_failed)  # type: ignore[arg-type]
    assert verdict.outcome == outcome


def test_error_tree_semantics() -> None:
    assert issubclass(SmsRateLimitedError, SmsRetryableError)
    assert SmsRateLimitedError("slow down", retry_after=3).retryable
    assert not SmsAmbiguousError("x").retryable
    capability = SmsCapabilityError("skycore", "contact import")
    assert isinstance(capability, SmsConfigurationError)
    assert str(capability) == "[skycore] gateway 'skycore' does not support contact import"
    doubt = SmsAmbiguousError("lost answer", gateway="bulksms", recipients_in_doubt=[str(i) for i in range(12)])
    assert "recipients in doubt: 0, 1, 2" in str(doubt) and "and 2 more" in str(doubt)
    many = SmsValidationError([Problem("to", "bad", str(i), i) for i in range(25)])
    assert "and 5 more" in str(many) and len(many.problems) == 25
