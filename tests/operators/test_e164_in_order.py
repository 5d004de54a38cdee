"""A list in E.164 and in canonical order (numbers from an ordered query) is checked where it
stands and its digits are made a chunk at a time (E164Digits): the chunks, keys, journal rows and
results are those of the same numbers in any other order or form, a bad number is named as before
with nothing sent, and a retry texts nobody twice. Real loopback sockets (the simulator); handsets
are counted."""

from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_sms.core.dedupe import is_canonical
from airflow_provider_sms.core.e164_digits import E164Digits
from airflow_provider_sms.journal import SendJournal, TaskKey
from airflow_provider_sms.operators import send
from airflow_provider_sms.operators.send import SmsSendOperator
from airflow_provider_sms.simulator import SimulatorServer
from tests.conftest import bulksms_connection
from tests.operators.helpers import FakeTaskInstance, context

NUMBERS = [f"4477001{i:05d}" for i in range(0, 60_000, 97)]  # in order, one length
CHUNK = 50


def _connect(monkeypatch: pytest.MonkeyPatch, server: SimulatorServer) -> str:
    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT",
                       bulksms_connection(server, "json", max_recipients_per_request=CHUNK))
    return "bulksms_default"


def _received(server: SimulatorServer) -> list[int]:
    return [server.bulksms.received_count(n) for n in NUMBERS]


def test_the_list_is_read_in_place() -> None:
    settings: Any = SimpleNamespace(default_region="GB", number_check="valid")
    in_order = [f"+{n}" for n in NUMBERS]
    found = send._in_order_e164(in_order, settings)
    assert isinstance(found, E164Digits) and list(found) == NUMBERS
    shuffled = random.Random(3).sample(in_order, len(in_order))
    # In order as text and by length, but of several lengths: read the usual way, to the same answer.
    mixed = ["+33612345678", "+447400000123", "+4915112345678"]
    for other in (shuffled, [*in_order, in_order[5]], [f"+44 {n[2:]}" for n in NUMBERS], [*in_order[:-1], " "],
                  mixed, tuple(in_order), [*in_order[:3], 447700100400]):
        assert send._in_order_e164(other, settings) is None
        read = send._canonical_numbers(list(send.as_items(other)), settings, "bulksms")
        expected = [m[1:] for m in mixed] if other is mixed else NUMBERS[:len(read)] if len(read) > 5 else [
            *NUMBERS[:3], "447700100400"]
        assert list(read) == expected


def test_the_same_send_and_journal_as_any_other_order(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    conn_id = _connect(monkeypatch, sms_simulator)
    in_order = [f"+{n}" for n in NUMBERS]
    reordered = random.Random(5).sample(in_order, len(in_order)) + in_order[:30]
    ti = FakeTaskInstance()
    seen = []
    for name, to in (("in order", in_order), ("reordered", reordered)):
        sms_simulator.reset()
        monkeypatch.setenv("AIRFLOW_CONN_SMS_JOURNAL_DEFAULT",
                           json.dumps({"conn_type": "sqlite", "host": str(tmp_path / f"{name}.db")}))
        op = SmsSendOperator(task_id="send", sms_conn_id=conn_id, to=to, message="Hi", sender="Ops", max_in_flight=3,
                             xcom_results="per_recipient")
        result = op.execute(context(ti))
        assert _received(sms_simulator) == [1] * len(NUMBERS)
        records = SendJournal.open().records(TaskKey(op.dag_id or "", "send", ti.run_id, -1))
        rows = [(r["recipient"], r["accepted"], r["status"]) for r in result.pop("results")]
        summary = {k: v for k, v in result.items() if k not in ("batch_ids", "message_ids", "sent_at")}
        seen.append(([(r.chunk_key, r.recipients, r.dedupe_key, r.content, r.state) for r in records], rows, summary))
    assert seen[0] == seen[1]
    assert [row[0] for row in seen[0][1]] == NUMBERS


def test_a_bad_number_is_named_and_nothing_is_sent(sms_simulator: SimulatorServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id = _connect(monkeypatch, sms_simulator)
    in_order = [f"+{n}" for n in NUMBERS]
    in_order[300] = "+44770012910x"  # as long as the others, and still in order as text
    assert is_canonical(in_order)
    op = SmsSendOperator(task_id="send", sms_conn_id=conn_id, to=in_order, message="Hi", sender="Ops")
    with pytest.raises(AirflowFailException, match=r"to\[300\].*44770012910x"):
        op.execute(context())
    assert _received(sms_simulator) == [0] * len(NUMBERS)


def test_a_retry_after_a_lost_answer_texts_nobody_twice(sms_simulator: SimulatorServer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id = _connect(monkeypatch, sms_simulator)
    sms_simulator.faults.drop_after_accept(count=4)  # every attempt of one call: its answer is lost
    ti = FakeTaskInstance()
    in_order = [f"+{n}" for n in NUMBERS]
    first = SmsSendOperator(task_id="send", sms_conn_id=conn_id, to=in_order, message="Hi", sender="Ops",
                            max_in_flight=1)
    with pytest.raises(AirflowException, match=f"{CHUNK} recipients may or may not have been texted"):
        first.execute(context(ti))
    ti.try_number = 2
    retry = SmsSendOperator(task_id="send", sms_conn_id=conn_id, to=in_order, message="Hi", sender="Ops",
                            max_in_flight=4)
    result: dict[str, Any] = retry.execute(context(ti))
    assert (result["accepted_count"], result["in_doubt_count"]) == (len(NUMBERS), 0)
    assert _received(sms_simulator) == [1] * len(NUMBERS)


def test_a_number_holding_a_lone_surrogate_is_named_and_nothing_is_sent(sms_simulator: SimulatorServer,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id = _connect(monkeypatch, sms_simulator)
    in_order = [f"+{n}" for n in NUMBERS]
    in_order[-1] = in_order[-1][:-1] + "\ud800"  # as JSON "\ud800" or a file read with surrogateescape gives it
    assert is_canonical(in_order)
    op = SmsSendOperator(task_id="send", sms_conn_id=conn_id, to=in_order, message="Hi", sender="Ops")
    with pytest.raises(AirflowFailException, match=rf"to\[{len(NUMBERS) - 1}\]"):
        op.execute(context())
    assert _received(sms_simulator) == [0] * len(NUMBERS)
