"""SmsSendOperator / SmsGroupSendOperator against the simulator."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_sms.operators.send import SmsGroupSendOperator, SmsSendOperator
from airflow_provider_sms.simulator import BulkSmsAccount, SimulatorConfig, SimulatorServer
from tests.conftest import PASSWORD, bulksms_connection
from tests.operators.helpers import FakeTaskInstance, context

NUMBERS = [f"4477001000{i:02d}" for i in range(1, 8)]


def _op(**kwargs: object) -> SmsSendOperator:
    defaults: dict[str, object] = {"task_id": "send", "sms_conn_id": "bulksms_default", "to": NUMBERS,
                                   "message": "Nightly load finished"}
    return SmsSendOperator(**{**defaults, **kwargs})  # type: ignore[arg-type]


@pytest.fixture
def small_chunks(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch, api: str) -> str:
    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT",
                       bulksms_connection(sms_simulator, api, max_recipients_per_request=3))
    return "bulksms_default"


def test_sends_in_chunks_and_returns_per_recipient_results(small_chunks: str, sms_simulator: SimulatorServer) -> None:
    result = _op(to=", ".join(NUMBERS)).execute(context())
    assert result["accepted_count"] == 7 and result["rejected_count"] == 0
    assert len(result["batch_ids"]) == 3  # 3 + 3 + 1
    assert [r["recipient"] for r in result["results"]] == NUMBERS
    assert all(sms_simulator.bulksms.received_count(n) == 1 for n in NUMBERS)
    json.dumps(result)  # XCom-safe
    assert PASSWORD not in json.dumps(result)


def test_normalises_and_drops_duplicates(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    result = _op(to=["07700 100001", "+44 7700 100001", "+447700100002"]).execute(context())
    assert [r["recipient"] for r in result["results"]] == ["447700100001", "447700100002"]
    assert sms_simulator.bulksms.received_count("447700100001") == 1


def test_reads_a_rendered_xcom_list(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    result = _op(to=str(["+447700100001", "+447700100002"])).execute(context())
    assert result["accepted_count"] == 2


def test_summary_results_for_big_sends(bulksms_conn: str) -> None:
    result = _op(xcom_results="summary").execute(context())
    assert "results" not in result and result["rejected"] == [] and result["accepted_count"] == 7


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"to": ["+447700100001", "not-a-number", "+44 12"]}, "to[1] 'not-a-number': not a phone number"),
        ({"to": []}, "no recipients given"),
        ({"message": ""}, "message"),
        ({"message": "x" * 2000}, "parts"),
        ({"message": "Zażółć gęślą jaźń", "unicode": False}, "GSM 03.38"),
        ({"sender": "TwelveChars!"}, "sender"),
        ({"send_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)}, "in the past"),
        ({"send_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=800)).isoformat()}, "days ahead"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(bulksms_conn: str, sms_simulator: SimulatorServer,
                                                       kwargs: dict[str, object], named: str) -> None:
    with pytest.raises(AirflowFailException, match="nothing was sent") as exc:
        _op(**kwargs).execute(context())
    assert named in str(exc.value)
    assert sms_simulator.bulksms.requests == []
    assert sms_simulator.bulksms.received() == []


def test_partial_failure_sends_the_rest_then_fails(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch,
                                                    api: str) -> None:
    sms_simulator.reset(SimulatorConfig(bulksms_accounts=[BulkSmsAccount("demo", PASSWORD, credits=3.0)]))
    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT",
                       bulksms_connection(sms_simulator, api, max_recipients_per_request=3))
    ti = FakeTaskInstance()
    with pytest.raises(AirflowFailException, match="4 of 7 recipients were rejected"):
        _op().execute(context(ti))
    assert [sms_simulator.bulksms.received_count(n) for n in NUMBERS] == [1, 1, 1, 0, 0, 0, 0]
    pushed = ti.xcom["send_result"]
    assert pushed["accepted_count"] == 3 and pushed["rejected_count"] == 4


def test_partial_failure_tolerated_on_request(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch,
                                              api: str) -> None:
    sms_simulator.reset(SimulatorConfig(bulksms_accounts=[BulkSmsAccount("demo", PASSWORD, credits=3.0)]))
    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT",
                       bulksms_connection(sms_simulator, api, max_recipients_per_request=3))
    result = _op(allow_partial_failure=True).execute(context())
    assert result["accepted_count"] == 3
    rejected = [r for r in result["results"] if not r["accepted"]]
    assert len(rejected) == 4 and all(r["code"] in {"25", "403"} for r in rejected)


def test_retried_task_does_not_text_anyone_twice(small_chunks: str, sms_simulator: SimulatorServer) -> None:
    # First try: the first chunk keeps failing (4 attempts), the other two go through.
    sms_simulator.faults.http_error(status=503, count=4)
    ti = FakeTaskInstance()
    with pytest.raises(AirflowException, match="3 of 7 recipients were rejected") as exc:
        _op().execute(context(ti))
    assert not isinstance(exc.value, AirflowFailException)  # Airflow may retry
    assert [sms_simulator.bulksms.received_count(n) for n in NUMBERS] == [0, 0, 0, 1, 1, 1, 1]
    # The retry re-submits every chunk under the same dedupe ids: only the missing ones go out.
    ti.try_number = 2
    result = _op().execute(context(ti))
    assert result["accepted_count"] == 7
    assert [sms_simulator.bulksms.received_count(n) for n in NUMBERS] == [1] * 7


def test_lost_answers_are_resolved_by_dedupe_on_retry(small_chunks: str, sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.drop_after_accept(count=4)  # every attempt of the first chunk loses its answer
    ti = FakeTaskInstance()
    with pytest.raises(AirflowException, match="may or may not have been texted") as exc:
        _op().execute(context(ti))
    assert not isinstance(exc.value, AirflowFailException)
    result = _op().execute(context(ti))
    assert result["accepted_count"] == 7
    assert [sms_simulator.bulksms.received_count(n) for n in NUMBERS] == [1] * 7


def test_another_run_is_a_new_send(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    _op(to=NUMBERS[:1]).execute(context(FakeTaskInstance(run_id="run-1")))
    _op(to=NUMBERS[:1]).execute(context(FakeTaskInstance(run_id="run-2")))
    assert sms_simulator.bulksms.received_count(NUMBERS[0]) == 2


def test_group_send_operator(bulksms_conn: str, sms_simulator: SimulatorServer, api: str) -> None:
    sms_simulator.bulksms.add_group(12, "managers", NUMBERS[:2])
    op = SmsGroupSendOperator(task_id="g", sms_conn_id=bulksms_conn, group=12, message="Team update")
    result = op.execute(context())
    # EAPI answers for the group as a whole; the JSON API lists the message made for each member.
    assert result["accepted_count"] == (1 if api == "eapi" else 2) and result["batch_ids"]
    assert [sms_simulator.bulksms.received_count(n) for n in NUMBERS[:3]] == [1, 1, 0]


@pytest.mark.parametrize("api", ["json"])  # the EAPI has test mode
def test_capability_error_names_the_gateway(bulksms_conn: str, api: str) -> None:
    with pytest.raises(AirflowFailException, match=r"\[bulksms\] gateway 'bulksms' does not support test-mode"):
        _op(test_mode="succeed").execute(context())


def test_operator_init_does_no_io() -> None:
    # No connection exists for this id: building the operator must not look it up.
    op = SmsSendOperator(task_id="t", sms_conn_id="does_not_exist", to="{{ params.to }}", message="m")
    assert op.to == "{{ params.to }}"
