"""Several requests of one send in flight: the same results, XCom, journal and dedupe keys as a serial
send; one chunk's failure loses nobody else's result; a fatal error starts no new chunk; throttled
chunks go out again until they clear. Real loopback sockets (the simulator); handsets are counted."""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_sms.connection_forms import CONNECTION_FORMS
from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.results import SendResult
from airflow_provider_sms.exceptions import SmsValidationError
from airflow_provider_sms.hooks.base import hook_class_for
from airflow_provider_sms.journal import SendJournal, TaskKey
from airflow_provider_sms.operators.send import SmsSendOperator
from airflow_provider_sms.simulator import SimulatorConfig, SimulatorServer, SkycoreAccount
from tests.conftest import bulksms_connection, netmessenger_connection, skycore_connection
from tests.operators.helpers import FakeTaskInstance, context

NUMBERS = [f"4477001{i:05d}" for i in range(40)]
REFUSED = NUMBERS[17]  # blacklisted where the gateway has a blacklist: a per-recipient rejection

#: gateway -> (connection builder, connection id, chunk size)
GATEWAYS: dict[str, tuple[Callable[..., str], str, int]] = {
    "bulksms-json": (lambda s, **e: bulksms_connection(s, "json", **e), "bulksms_default", 3),
    "bulksms-eapi": (lambda s, **e: bulksms_connection(s, "eapi", **e), "bulksms_default", 3),
    "netmessenger": (netmessenger_connection, "netmessenger_default", 3),
    "skycore": (skycore_connection, "skycore_default", 1),
}


def _connect(monkeypatch: pytest.MonkeyPatch, server: SimulatorServer, gateway: str, **extra: Any) -> str:
    build, conn_id, chunk = GATEWAYS[gateway]
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", build(server, max_recipients_per_request=chunk, **extra))
    return conn_id


def _received(server: SimulatorServer, gateway: str, number: str) -> int:
    if gateway.startswith("bulksms"):
        return server.bulksms.received_count(number)
    if gateway == "netmessenger":
        return server.netmessenger.received_count(number)
    return server.skycore.received_count(number)


def _reset(server: SimulatorServer, gateway: str) -> None:
    server.reset(SimulatorConfig(skycore_accounts=[SkycoreAccount(blacklist=(REFUSED,))]))
    if gateway == "netmessenger":
        server.netmessenger.blacklist(REFUSED)


def _without_ids(result: dict[str, Any]) -> dict[str, Any]:
    """A send's XCom with the gateway's own ids (which differ from send to send) counted, not compared."""
    data = {k: v for k, v in result.items() if k != "sent_at"}
    for name in ("message_ids", "batch_ids"):
        data[name] = len(data[name])
    data["results"] = [{**r, "message_id": bool(r["message_id"]), "batch_id": bool(r["batch_id"])}
                       for r in data.get("results", [])]
    return data


def _journal_rows(records: list[Any]) -> list[tuple[Any, ...]]:
    return [(r.chunk_key, r.recipients, r.dedupe_key, r.state.value, r.try_number, r.content,
             [(row.recipient, row.accepted, row.code, row.status) for row in r.result().results])
            for r in records]


@pytest.fixture
def peak_in_flight(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts the requests of every gateway hook in flight at once (the peak)."""
    seen = {"now": 0, "peak": 0}
    lock = threading.Lock()
    for name in ("bulksms", "netmessenger", "skycore"):
        hook_class = hook_class_for(name)
        real = hook_class.send

        def counting(self: Any, message: OutgoingMessage, _real: Any = real) -> SendResult:
            with lock:
                seen["now"] += 1
                seen["peak"] = max(seen["peak"], seen["now"])
            try:
                result: SendResult = _real(self, message)
                return result
            finally:
                with lock:
                    seen["now"] -= 1

        monkeypatch.setattr(hook_class, "send", counting)
    return seen


@pytest.mark.parametrize("gateway", list(GATEWAYS))
def test_a_concurrent_send_is_exactly_a_serial_send(gateway: str, sms_simulator: SimulatorServer,
                                                    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                    peak_in_flight: dict[str, int]) -> None:
    conn_id = _connect(monkeypatch, sms_simulator, gateway)
    to = [f"+{n}" for n in NUMBERS]
    random.Random(7).shuffle(to)
    sent = []
    for in_flight in (1, 8):
        _reset(sms_simulator, gateway)
        sms_simulator.faults.latency(0.01)  # tiny: enough for requests to overlap
        monkeypatch.setenv("AIRFLOW_CONN_SMS_JOURNAL_DEFAULT",
                           json.dumps({"conn_type": "sqlite", "host": str(tmp_path / f"journal-{in_flight}.db")}))
        peak_in_flight.update(now=0, peak=0)
        ti = FakeTaskInstance()  # the same run both times: the same dedupe keys are expected
        op = SmsSendOperator(task_id="send", sms_conn_id=conn_id, to=to, message="Hello & bye", sender="Ops",
                             allow_partial_failure=True, max_in_flight=in_flight)
        result = op.execute(context(ti))
        records = SendJournal.open().records(TaskKey(op.dag_id or "", "send", ti.run_id, -1))
        sent.append((_without_ids(result), _journal_rows(records)))
        assert peak_in_flight["peak"] == 1 if in_flight == 1 else peak_in_flight["peak"] > 1
        expected = [0 if n == REFUSED and gateway in ("netmessenger", "skycore") else 1 for n in NUMBERS]
        assert [_received(sms_simulator, gateway, n) for n in NUMBERS] == expected
        assert result["accepted_count"] == sum(expected)
    assert sent[0] == sent[1]
    assert sent[0][1] and all(row[2] is not None for row in sent[0][1])  # dedupe keys were compared


def test_one_chunk_lost_loses_no_other_chunks_result(sms_simulator: SimulatorServer,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id = _connect(monkeypatch, sms_simulator, "netmessenger", max_in_flight=8)
    sms_simulator.faults.drop_after_accept(count=1, only="/api")
    ti = FakeTaskInstance()
    op = SmsSendOperator(task_id="send", sms_conn_id=conn_id, to=NUMBERS, message="Hi", sender="Ops")
    with pytest.raises(AirflowException, match="3 recipients may or may not have been texted"):
        op.execute(context(ti))
    pushed = ti.xcom["send_result"]
    assert pushed["accepted_count"] == 37 and pushed["in_doubt_count"] == 3
    assert [_received(sms_simulator, "netmessenger", n) for n in NUMBERS] == [1] * 40
    states = [r.state.value for r in SendJournal.open().records(TaskKey(op.dag_id or "", "send", ti.run_id, -1))]
    assert sorted(states) == ["answered"] * 13 + ["in_doubt"]
    ti.try_number = 2  # the retry settles the lost chunk by a look-up and texts nobody twice
    assert SmsSendOperator(task_id="send", sms_conn_id=conn_id, to=NUMBERS, message="Hi", sender="Ops").execute(
        context(ti))["accepted_count"] == 40
    assert [_received(sms_simulator, "netmessenger", n) for n in NUMBERS] == [1] * 40


def test_a_fatal_error_starts_no_new_chunk_and_records_those_in_flight(sms_simulator: SimulatorServer,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id = _connect(monkeypatch, sms_simulator, "bulksms-json", max_in_flight=4)
    sms_simulator.faults.latency(0.02)  # the four first requests are in flight together
    sms_simulator.faults.http_error(status=401, count=1)
    ti = FakeTaskInstance()
    op = SmsSendOperator(task_id="send", sms_conn_id=conn_id, to=NUMBERS, message="Hi", sender="Ops")
    with pytest.raises(AirflowFailException, match="recipients were texted before it"):
        op.execute(context(ti))
    texted = sum(_received(sms_simulator, "bulksms-json", n) for n in NUMBERS)
    assert 0 < texted < len(NUMBERS)  # the others in flight went; no new chunk started
    assert ti.xcom["send_result"]["accepted_count"] == texted  # everyone texted is on record
    records = SendJournal.open().records(TaskKey(op.dag_id or "", "send", ti.run_id, -1))
    states = [r.state.value for r in records]
    # The refused ones: the chunk refused with 401, and one whose intent was recorded but that was not sent.
    assert states.count("answered") == texted // 3 and 1 <= states.count("refused") <= 2
    assert set(states) == {"answered", "refused"}  # nothing left "sending": every chunk's fate is recorded


def test_every_chunk_is_recorded_before_its_request(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch,
                                                    ) -> None:
    conn_id = _connect(monkeypatch, sms_simulator, "netmessenger", max_in_flight=8)
    hook_class = hook_class_for("netmessenger")
    real = hook_class.send
    seen: list[tuple[tuple[str, ...], set[str]]] = []
    op = SmsSendOperator(task_id="send", sms_conn_id=conn_id, to=NUMBERS, message="Hi", sender="Ops")
    ti = FakeTaskInstance()

    def checking(self: Any, message: OutgoingMessage) -> SendResult:
        records = SendJournal.open().records(TaskKey(op.dag_id or "", "send", ti.run_id, -1))
        mine = tuple(message.numbers)
        seen.append((mine, {r.state.value for r in records if r.recipients == mine}))
        result: SendResult = real(self, message)
        return result

    monkeypatch.setattr(hook_class, "send", checking)
    assert op.execute(context(ti))["accepted_count"] == 40
    assert len(seen) == 14 and all(states == {"sending"} for _, states in seen)


def test_skycore_throttling_clears_without_a_single_e113_surfacing(sms_simulator: SimulatorServer,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id = _connect(monkeypatch, sms_simulator, "skycore", retries=1)
    numbers = NUMBERS[:8]
    sms_simulator.faults.throttle(count=12)  # more E113s than the per-call retry budget (2 attempts)
    before = len(sms_simulator.url_params)
    result = SmsSendOperator(task_id="send", sms_conn_id=conn_id, to=numbers, message="Hi").execute(context())
    assert result["accepted_count"] == 8 and result["rejected_count"] == 0
    assert [_received(sms_simulator, "skycore", n) for n in numbers] == [1] * 8
    calls = [path for _, path, _ in sms_simulator.url_params[before:] if path.startswith("/API/")]
    assert len(calls) == 8 + 12  # exactly the refused calls again, nothing else


def test_throttling_past_the_task_time_limit_refuses_the_chunk_retryably(sms_simulator: SimulatorServer,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id = _connect(monkeypatch, sms_simulator, "skycore", retries=0)
    sms_simulator.faults.throttle(count=1000)
    ti = FakeTaskInstance()
    op = SmsSendOperator(task_id="send", sms_conn_id=conn_id, to=NUMBERS[:3], message="Hi",
                         execution_timeout=dt.timedelta(seconds=1))  # no time to wait for the throttle to clear
    with pytest.raises(AirflowException, match="all 3 recipients were rejected") as failure:
        op.execute(context(ti))
    assert not isinstance(failure.value, AirflowFailException)  # a task retry sends them (nothing was sent)
    assert {r["code"] for r in ti.xcom["send_result"]["results"]} == {"E113"}
    assert sum(_received(sms_simulator, "skycore", n) for n in NUMBERS[:3]) == 0


def test_summary_mode_keeps_no_per_recipient_objects(sms_simulator: SimulatorServer,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id = _connect(monkeypatch, sms_simulator, "netmessenger", max_in_flight=4)
    sms_simulator.netmessenger.blacklist(REFUSED)
    ti = FakeTaskInstance()
    op = SmsSendOperator(task_id="send", sms_conn_id=conn_id, to=NUMBERS, message="Hi", sender="Ops",
                         xcom_results="summary",
                         allow_partial_failure=True)
    result = op.execute(context(ti))
    assert result["accepted_count"] == 39 and [r["recipient"] for r in result["rejected"]] == [REFUSED]
    assert len(result["message_ids"]) == 39 and "results" not in result


@pytest.mark.parametrize("value", [0, 65, 2.5, True, "4"])
def test_a_bad_max_in_flight_is_refused_before_sending(value: Any, sms_simulator: SimulatorServer,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id = _connect(monkeypatch, sms_simulator, "netmessenger")
    with pytest.raises(AirflowFailException, match="max_in_flight") as failure:
        SmsSendOperator(task_id="s", sms_conn_id=conn_id, to=NUMBERS, message="Hi", sender="Ops",
                        max_in_flight=value).execute(context())
    assert isinstance(failure.value.__cause__, SmsValidationError)
    assert sms_simulator.netmessenger.received() == []


def test_a_bad_connection_max_in_flight_names_the_extra(sms_simulator: SimulatorServer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id = _connect(monkeypatch, sms_simulator, "netmessenger", max_in_flight=100)
    with pytest.raises(AirflowFailException, match="max_in_flight"):
        SmsSendOperator(task_id="s", sms_conn_id=conn_id, to=NUMBERS, message="Hi", sender="Ops").execute(context())
    assert sms_simulator.netmessenger.received() == []


@pytest.mark.parametrize("conn_type", sorted(CONNECTION_FORMS))
def test_each_form_shows_the_gateways_default(conn_type: str) -> None:
    [field] = [f for f in CONNECTION_FORMS[conn_type].fields if f.name == "max_in_flight"]
    assert field.default == hook_class_for(conn_type).default_max_in_flight
    assert any(f.name == "messages_per_second" for f in CONNECTION_FORMS[conn_type].fields)
