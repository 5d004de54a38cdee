"""Each test starts with the notifier's per-process repeat memory empty (tests reuse alert identities)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from airflow_provider_sms.notifications import sms


@pytest.fixture(autouse=True)
def fresh_repeat_memory() -> Iterator[None]:
    sms._REPEATS.clear()
    yield
    sms._REPEATS.clear()
    # A delivery the notifier stopped waiting for (bounded time) finishes here, not in the next test.
    for thread in threading.enumerate():
        if thread.name == "sms-alert":
            thread.join(timeout=10)
