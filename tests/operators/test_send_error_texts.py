"""Send failures say what happened: how many were sent, and who was refused."""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_sms.operators.send import SmsSendOperator
from airflow_provider_sms.simulator import BulkSmsAccount, SimulatorConfig, SimulatorServer
from tests.conftest import PASSWORD, bulksms_connection
from tests.operators.helpers import FakeTaskInstance, context

NUMBERS = [f"4477001000{i:02d}" for i in range(1, 8)]


def test_a_send_nobody_received_does_not_claim_the_others_were_sent(
        sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch, api: str) -> None:
    sms_simulator.reset(SimulatorConfig(bulksms_accounts=[BulkSmsAccount("demo", PASSWORD, credits=0.0)]))
    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT",
                       bulksms_connection(sms_simulator, api, max_recipients_per_request=3))
    op = SmsSendOperator(task_id="send", sms_conn_id="bulksms_default", to=NUMBERS, message="Hi")
    with pytest.raises(AirflowFailException) as failure:
        op.execute(context(FakeTaskInstance()))
    text = str(failure.value)
    assert text.startswith("all 7 recipients were rejected, nothing was sent: 447700100001 (")
    assert "others" not in text and "allow_partial_failure" not in text
    assert sms_simulator.bulksms.received() == []
