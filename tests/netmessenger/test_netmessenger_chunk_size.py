"""NetMessenger's numbers per Send: 200 by default, raised by the connection's extra, validated."""

from __future__ import annotations

import pytest

from airflow_provider_sms.exceptions import SmsConfigurationError
from airflow_provider_sms.gateways.netmessenger import NetMessengerApi
from airflow_provider_sms.hooks.base import get_sms_hook
from airflow_provider_sms.operators.send import SmsSendOperator
from airflow_provider_sms.simulator import NetMessengerAccount, SimulatorConfig, SimulatorServer
from tests.conftest import NM_TOKEN, netmessenger_connection
from tests.operators.helpers import context


def _hook(monkeypatch: pytest.MonkeyPatch, server: SimulatorServer, **extra: object) -> object:
    monkeypatch.setenv("AIRFLOW_CONN_NM_CHUNK", netmessenger_connection(server, **extra))
    return get_sms_hook("nm_chunk")


def test_default_stays_200(monkeypatch: pytest.MonkeyPatch, sms_simulator: SimulatorServer) -> None:
    hook = _hook(monkeypatch, sms_simulator)
    assert hook.max_recipients_per_request == 200  # type: ignore[attr-defined]
    assert hook.api.max_recipients_per_request == 200  # type: ignore[attr-defined]


def test_the_extra_raises_it_and_a_send_goes_in_fewer_requests(monkeypatch: pytest.MonkeyPatch,
                                                                sms_simulator: SimulatorServer) -> None:
    sms_simulator.reset(SimulatorConfig(netmessenger_accounts=[NetMessengerAccount(token=NM_TOKEN, credits=10_000)]))
    hook = _hook(monkeypatch, sms_simulator, max_recipients_per_request=1000)
    assert hook.max_recipients_per_request == 1000  # type: ignore[attr-defined]
    numbers = [str(447700000000 + i) for i in range(2500)]
    op = SmsSendOperator(task_id="wide", sms_conn_id="nm_chunk", to=numbers, message="Wide chunks", sender="Ops")
    result = op.execute(context())
    assert result["accepted_count"] == 2500
    assert [sms_simulator.netmessenger.received_count(n) for n in numbers] == [1] * 2500
    assert [action for _, _, action in sms_simulator.netmessenger.requests].count("Send") == 3


@pytest.mark.parametrize("value", [10_001, 1_000_000])
def test_above_the_ceiling_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch, sms_simulator: SimulatorServer,
                                                   value: int) -> None:
    hook = _hook(monkeypatch, sms_simulator, max_recipients_per_request=value)
    with pytest.raises(SmsConfigurationError, match="max_recipients_per_request must be at most 10000"):
        _ = hook.max_recipients_per_request  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", [0, -5, 10_001, 2.5, True, "200"])
def test_the_protocol_validates_its_size(value: object) -> None:
    with pytest.raises(SmsConfigurationError, match="from 1 to 10000"):
        NetMessengerApi("token-123456", max_recipients_per_request=value)  # type: ignore[arg-type]
