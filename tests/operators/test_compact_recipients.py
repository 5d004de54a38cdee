"""A send's recipients held compactly (CanonicalRecipients) still go out in canonical chunks: the same
chunks, keys and journal rows whatever the input order, and a retry with the list reordered texts
nobody twice. The bucket sort of big lists is forced here with a small bucket size. Real loopback
sockets (the simulator); handsets are counted."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_sms.core import recipient_set
from airflow_provider_sms.core.dedupe import canonical_order, chunk_key
from airflow_provider_sms.journal import SendJournal, TaskKey
from airflow_provider_sms.operators import send
from airflow_provider_sms.operators.send import SmsSendOperator
from airflow_provider_sms.simulator import SimulatorServer
from tests.conftest import bulksms_connection, netmessenger_connection
from tests.operators.helpers import FakeTaskInstance, context

NUMBERS = [f"4477001{i * 37 % 100000:05d}" for i in range(600)]
CHUNK = 50


@pytest.fixture(autouse=True)
def small_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recipient_set, "_BUCKET", 32)  # 600 numbers: the bucket sort, as a million would
    monkeypatch.setattr(send, "COMPACT_FROM", 1)  # held as integers, as lists from 200,000 numbers are


def _connect(monkeypatch: pytest.MonkeyPatch, server: SimulatorServer, gateway: str) -> str:
    if gateway == "netmessenger":
        monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT",
                           netmessenger_connection(server, max_recipients_per_request=CHUNK))
        return "netmessenger_default"
    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT",
                       bulksms_connection(server, "json", max_recipients_per_request=CHUNK))
    return "bulksms_default"


def _received(server: SimulatorServer, gateway: str) -> list[int]:
    state = server.netmessenger if gateway == "netmessenger" else server.bulksms
    return [state.received_count(n) for n in NUMBERS]


def _written(numbers: list[str], seed: int) -> list[str]:
    """The numbers in another order, in several written forms, some twice."""
    rng = random.Random(seed)
    written = [rng.choice([f"+{n}", n, f"0{n[2:6]} {n[6:]}", f"+44 ({n[2:6]}) {n[6:9]}-{n[9:]}"]) for n in numbers]
    written += rng.sample(written, 40)
    rng.shuffle(written)
    return written


def test_any_input_order_gives_the_same_chunks_keys_and_journal(sms_simulator: SimulatorServer,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    conn_id = _connect(monkeypatch, sms_simulator, "bulksms-json")
    ti = FakeTaskInstance()  # the same run each time: the same dedupe keys are expected
    rows = []
    for seed in (1, 2, 3):
        sms_simulator.reset()
        monkeypatch.setenv("AIRFLOW_CONN_SMS_JOURNAL_DEFAULT",
                           json.dumps({"conn_type": "sqlite", "host": str(tmp_path / f"journal-{seed}.db")}))
        op = SmsSendOperator(task_id="send", sms_conn_id=conn_id, to=_written(NUMBERS, seed), message="Hi",
                             sender="Ops", max_in_flight=4)
        assert op.execute(context(ti))["accepted_count"] == len(NUMBERS)
        assert _received(sms_simulator, "bulksms-json") == [1] * len(NUMBERS)
        records = SendJournal.open().records(TaskKey(op.dag_id or "", "send", ti.run_id, -1))
        rows.append([(r.chunk_key, r.recipients, r.dedupe_key, r.content) for r in records])
    assert rows[0] == rows[1] == rows[2]
    # The chunks of the list path: canonical order of the strings, cut every CHUNK.
    ordered = list(canonical_order(list(NUMBERS)))
    expected = [ordered[i:i + CHUNK] for i in range(0, len(ordered), CHUNK)]
    assert sorted(list(row[1]) for row in rows[0]) == sorted(expected)
    assert all(row[0] == chunk_key(list(row[1]), row[3]) and row[2] is not None for row in rows[0])


@pytest.mark.parametrize("gateway", ["bulksms-json", "netmessenger"])
def test_a_retry_with_the_list_reordered_texts_nobody_twice(gateway: str, sms_simulator: SimulatorServer,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id = _connect(monkeypatch, sms_simulator, gateway)
    # One chunk is sent, its answer lost (on BulkSMS on every attempt of the call: the transport
    # repeats it under its dedupe id).
    sms_simulator.faults.drop_after_accept(count=1 if gateway == "netmessenger" else 4)
    ti = FakeTaskInstance()
    first = SmsSendOperator(task_id="send", sms_conn_id=conn_id, to=_written(NUMBERS, 4), message="Hi", sender="Ops",
                            max_in_flight=1)
    with pytest.raises(AirflowException, match=f"{CHUNK} recipients may or may not have been texted"):
        first.execute(context(ti))
    assert _received(sms_simulator, gateway) == [1] * len(NUMBERS)
    ti.try_number = 2
    retry = SmsSendOperator(task_id="send", sms_conn_id=conn_id, to=_written(NUMBERS, 5)[::-1], message="Hi",
                            sender="Ops", max_in_flight=3)
    result: dict[str, Any] = retry.execute(context(ti))
    assert (result["accepted_count"], result["in_doubt_count"]) == (len(NUMBERS), 0)
    assert _received(sms_simulator, gateway) == [1] * len(NUMBERS)


@pytest.mark.parametrize("seed", [7, 8])
def test_integers_and_strings_give_the_same_send_and_journal(seed: int, sms_simulator: SimulatorServer,
                                                             monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Lists below ``COMPACT_FROM`` keep the normalised strings: the chunks, keys, journal rows and
    result are those of the compact form, with address-book entries too."""
    conn_id = _connect(monkeypatch, sms_simulator, "bulksms-json")
    written = _written(NUMBERS, seed)
    ti = FakeTaskInstance()
    seen = []
    for compact_from in (1, 10_000):
        monkeypatch.setattr(send, "COMPACT_FROM", compact_from)
        sms_simulator.reset()
        monkeypatch.setenv("AIRFLOW_CONN_SMS_JOURNAL_DEFAULT",
                           json.dumps({"conn_type": "sqlite", "host": str(tmp_path / f"journal-{compact_from}.db")}))
        op = SmsSendOperator(task_id="send", sms_conn_id=conn_id, to=written, message="Hi", sender="Ops",
                             max_in_flight=3)
        result = op.execute(context(ti))
        assert _received(sms_simulator, "bulksms-json") == [1] * len(NUMBERS)
        records = SendJournal.open().records(TaskKey(op.dag_id or "", "send", ti.run_id, -1))
        # The gateway's ids differ between the two sends; everything else is the same.
        rows = [(r["recipient"], r["accepted"], r["code"], r["status"]) for r in result.pop("results")]
        summary = {k: v for k, v in result.items() if k not in ("batch_ids", "message_ids", "sent_at")}
        seen.append(([(r.chunk_key, r.recipients, r.dedupe_key, r.content, r.state) for r in records], rows, summary))
    assert seen[0] == seen[1]
    numbers, entries = ["447700100001", "447700100003"], ["group:Staff", "group:A", "447700100002"]
    compact = recipient_set.CanonicalRecipients.of(numbers)
    assert send._with_entries(numbers, entries) == list(send._with_entries(compact, entries)) == list(
        canonical_order([*numbers, *entries]))
