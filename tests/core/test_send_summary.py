"""SendSummary: the XCom summary of a big send, without an object per accepted recipient."""

from __future__ import annotations

import random

import pytest

from airflow_provider_sms.core.results import RecipientResult, SendResult, SendSummary


def _chunks(seed: int, batched: bool) -> list[SendResult]:
    rng = random.Random(seed)
    chunks = []
    for c in range(30):
        rows = [RecipientResult(f"4477{c:03d}{i:04d}", accepted=rng.random() > 0.1, code=None if rng.random() > 0.1
                                else "E1", message_id=f"m{c}-{i}" if rng.random() > 0.2 else None)
                for i in range(rng.randint(1, 9))]
        chunk = SendResult("gw", rows, batch_ids=[f"b{c}"] if batched and c >= 3 else [],
                           in_doubt=[f"d{c}"] if rng.random() > 0.9 else [])
        chunks.append(chunk)
    return chunks


@pytest.mark.parametrize("keep", [0, 5, 60, 10_000])
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("seed", [1, 2])
def test_the_summary_is_exactly_the_full_results_summary(keep: int, batched: bool, seed: int) -> None:
    full, summary = SendResult("gw"), SendSummary("gw", keep=keep)
    for chunk in _chunks(seed, batched):
        full.extend(chunk)
        summary.extend(chunk)
    assert summary.to_dict(per_recipient=False) == full.to_dict(per_recipient=False)
    assert (summary.recipient_count, summary.accepted_count, summary.rejected_count) == (
        full.recipient_count, full.accepted_count, full.rejected_count)
    if full.recipient_count <= keep:
        assert summary.to_dict() == full.to_dict() and not summary.folded
    else:
        assert summary.folded and all(not r.accepted for r in summary.results)  # no accepted objects kept
        with pytest.raises(ValueError, match="summarised"):
            summary.to_dict(per_recipient=True)
