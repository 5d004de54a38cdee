"""A gateway that texts and then answers HTTP 5xx: no gateway's send is repeated blind inside the call.

Issue 6: "any gateway's 5xx without a dedupe id makes the chunk in doubt, exactly as a lost answer
does". The simulator processes the send, then answers the error (``error_after_accept``); the
handsets are counted.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_sms.operators.send import SmsSendOperator
from airflow_provider_sms.simulator import SimulatorServer
from tests.bulletin.conftest import bulletin_connection
from tests.conftest import bulksms_connection, netmessenger_connection, skycore_connection
from tests.operators.helpers import FakeTaskInstance, context

NUMBERS = {"bulksms": ["447700100001", "447700100002"], "netmessenger": ["447700100001", "447700100002"],
           "bulletin_messenger": ["64211111111", "64211111112"], "skycore": ["447700100001", "447700100002"]}
CONNECTIONS: dict[str, tuple[Callable[[SimulatorServer], str], str]] = {
    "bulksms": (bulksms_connection, "/v1/messages"),
    "netmessenger": (netmessenger_connection, "/api"),
    "bulletin_messenger": (bulletin_connection, "/api/3/sms/out"),
    "skycore": (skycore_connection, "/API/"),
}


def _handsets(server: SimulatorServer, gateway: str, numbers: list[str]) -> list[int]:
    owner = {"bulksms": server.bulksms, "netmessenger": server.netmessenger, "bulletin_messenger": server.bulletin,
             "skycore": server.skycore}[gateway]
    return [owner.received_count(n) for n in numbers]


@pytest.mark.parametrize("status", [500, 503])
@pytest.mark.parametrize("gateway", sorted(CONNECTIONS))
def test_a_5xx_after_the_gateway_texted_is_never_repeated_blind(gateway: str, status: int,
                                                                sms_simulator: SimulatorServer,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    make_connection, path = CONNECTIONS[gateway]
    monkeypatch.setenv(f"AIRFLOW_CONN_{gateway.upper()}_DEFAULT", make_connection(sms_simulator))
    numbers = NUMBERS[gateway]
    sms_simulator.faults.error_after_accept(status=status, count=1, only=path)
    ti = FakeTaskInstance()
    op = SmsSendOperator(task_id="send", sms_conn_id=f"{gateway}_default", to=numbers, message="Once only",
                         sender="Ops")
    if gateway == "bulksms":
        # A gateway that drops repeats of a dedupe id may take the request again: the same answer.
        assert op.execute(context(ti))["accepted_count"] == len(numbers)
    else:
        with pytest.raises(AirflowException) as failure:
            op.execute(context(ti))
        # In doubt: named, never re-sent, never reported as sent.
        pushed = ti.xcom["send_result"]
        assert pushed["in_doubt"] and set(pushed["in_doubt"]) <= set(numbers)
        assert all(n in str(failure.value) for n in pushed["in_doubt"])
        assert not {r["recipient"] for r in pushed["results"] if r["accepted"]} & set(pushed["in_doubt"])
    assert _handsets(sms_simulator, gateway, numbers) == [1] * len(numbers)
