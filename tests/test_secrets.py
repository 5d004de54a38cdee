"""Credentials never reach URLs, logs, exception text, XCom or trigger events.

Each check first makes sure there is something to look at (logs were written, requests were
seen), so an absent secret means it was kept out, not that nothing was captured.
"""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_sms.hooks.base import get_sms_hook
from airflow_provider_sms.operators.send import SmsSendOperator
from airflow_provider_sms.sensors.message_status import SmsMessageStatusSensor
from airflow_provider_sms.simulator import BulkSmsAccount, NetMessengerAccount, SimulatorConfig, SimulatorServer
from airflow_provider_sms.triggers.message_status import SmsMessageStatusTrigger
from tests.conftest import NM_TOKEN, PASSWORD, USERNAME, bulksms_connection, netmessenger_connection
from tests.operators.helpers import FakeTaskInstance, context

SECRET = "Zq9-very-distinctive-secret-4711"


@pytest.fixture
def secret_accounts(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch, api: str) -> SimulatorServer:
    sms_simulator.reset(SimulatorConfig(bulksms_accounts=[BulkSmsAccount(USERNAME, SECRET, credits=100)],
                                        netmessenger_accounts=[NetMessengerAccount(token=SECRET)]))
    bulksms = bulksms_connection(sms_simulator, api).replace(PASSWORD, SECRET)
    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT", bulksms)
    netmessenger = netmessenger_connection(sms_simulator).replace(NM_TOKEN, SECRET)
    monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT", netmessenger)
    return sms_simulator


@pytest.mark.parametrize("conn_id", ["bulksms_default", "netmessenger_default"])
def test_secret_absent_everywhere(secret_accounts: SimulatorServer, conn_id: str, caplog: pytest.LogCaptureFixture,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    ti = FakeTaskInstance()
    # One retry, logged (a 503 to a NetMessenger Send is in doubt, never repeated: 429 is retried).
    secret_accounts.faults.http_error(status=503 if conn_id.startswith("bulksms") else 429, count=1)
    op = SmsSendOperator(task_id="s", sms_conn_id=conn_id, to=["+447700100001", "+447700100002"], message="Hi",
                         sender="Airflow")
    result = op.execute(context(ti))
    sensor = SmsMessageStatusSensor(task_id="w", sms_conn_id=conn_id, messages=result, deferrable=True)
    refs = [r.to_dict() for r in sensor._refs(lambda: get_sms_hook(conn_id))]
    trigger = SmsMessageStatusTrigger(sms_conn_id=conn_id, refs=refs, poll_interval=0)
    secret_accounts.clock.advance(600)
    event = asyncio.run(trigger.run().__anext__())
    # A failing call too: the gateway refuses the next request with its own error text.
    secret_accounts.faults.http_error(status=500, count=10)
    with pytest.raises(AirflowException) as failure:
        SmsSendOperator(task_id="s", sms_conn_id=conn_id, to=["+447700100003"], message="Hi", sender="Airflow",
                        ).execute(context(FakeTaskInstance(run_id="another")))

    logs = caplog.text + "".join(capsys.readouterr())
    assert "retrying" in logs  # something was logged
    gateway = "bulksms" if conn_id.startswith("bulksms") else "netmessenger"
    seen = getattr(secret_accounts, gateway).requests
    assert seen  # requests were recorded
    exposed = {
        "logs": logs,
        "xcom": json.dumps(result) + json.dumps(ti.xcom, default=str),
        "trigger kwargs": json.dumps(trigger.serialize()),
        "trigger event": json.dumps(event.payload),
        "exception": str(failure.value) + repr(failure.value) + str(failure.value.__cause__),
        "request paths": json.dumps([list(r) for r in seen]),
    }
    url_params = {name.lower() for _, _, names in secret_accounts.url_params for name in names}
    assert secret_accounts.url_params  # requests were seen
    assert not url_params & {"password", "username", "token", "apikey"}, url_params
    for where, text in exposed.items():
        assert SECRET not in text, f"the secret leaked into {where}"


def test_airflow_masks_the_connection_password(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from uuid import uuid4

    from airflow.sdk.log import redact

    from airflow_provider_sms.hooks.base import get_sms_hook

    fresh = f"Zq9-{uuid4().hex}"  # never seen by the masker before this test
    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT", bulksms_connection(sms_simulator).replace(PASSWORD, fresh))
    assert fresh in str(redact(f"token is {fresh}"))
    hook = get_sms_hook("bulksms_default")
    assert hook.settings.password == fresh  # fetched through the SDK, which registers it with the masker
    assert fresh not in str(redact(f"token is {fresh}"))
