"""SmsMessageStatusSensor reading the receipt store (Skycore, Bulletin; BulkSMS with ``receipts``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, TaskDeferred

from airflow_provider_sms.core.receipts import StatusEvent
from airflow_provider_sms.core.results import DeliveryStatus
from airflow_provider_sms.hooks.base import get_sms_hook
from airflow_provider_sms.operators.send import SmsSendOperator
from airflow_provider_sms.receipts.store import ReceiptStore
from airflow_provider_sms.sensors.message_status import SmsMessageStatusSensor
from airflow_provider_sms.simulator import SimulatorServer
from airflow_provider_sms.triggers.message_status import SmsMessageStatusTrigger
from tests.bulletin.conftest import bulletin_connection
from tests.conftest import bulksms_connection
from tests.operators.helpers import context

A, B = "447700100001", "447700100002"
NZ_A, NZ_B = "64211000001", "64211000002"
_ids = itertools.count(1)


def _send(conn: str, to: list[str], **kwargs: Any) -> dict[str, Any]:
    return SmsSendOperator(task_id="send", sms_conn_id=conn, to=to, message="Hello", **kwargs).execute(context())


def _store_status(gateway: str, conn: str, message_id: str, recipient: str | None, state: DeliveryStatus,
                  code: str = "X") -> None:
    ReceiptStore.from_conn_id().record_status(StatusEvent(
        gateway=gateway, conn_id=conn, event_id=f"e{next(_ids)}", message_id=message_id, recipient=recipient,
        state=state, gateway_code=code, detail=None, occurred_at=dt.datetime.now(dt.UTC)))


def _sensor(conn: str, messages: Any, **kwargs: Any) -> SmsMessageStatusSensor:
    return SmsMessageStatusSensor(task_id="wait", sms_conn_id=conn, messages=messages, **kwargs)


def test_skycore_waits_for_postbacks_in_the_store(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    assert get_sms_hook(sky_conn).status_source() == "receipts"
    sent = _send(sky_conn, [A, B])
    tracking = {r["recipient"]: r["message_id"] for r in sent["results"]}
    sensor = _sensor(sky_conn, sent)
    first = sensor.poke(context())
    assert not first.is_done
    _store_status("skycore", sky_conn, tracking[A], A, DeliveryStatus.DELIVERED, "N201")
    assert not sensor.poke(context()).is_done  # B has no receipt yet: pending
    _store_status("skycore", sky_conn, tracking[B], None, DeliveryStatus.SENT, "N202")  # no handset named
    assert not sensor.poke(context()).is_done
    _store_status("skycore", sky_conn, tracking[B], None, DeliveryStatus.DELIVERED, "N201")
    _store_status("skycore", "another_conn", tracking[B], None, DeliveryStatus.FAILED)  # another account's: ignored
    done = sensor.poke(context())
    assert done.is_done and done.xcom_value["delivered"] == 2 and done.xcom_value["total"] == 2
    assert {s["recipient"]: s["code"] for s in done.xcom_value["statuses"]} == {A: "N201", B: "N201"}


def test_skycore_failed_delivery_follows_the_sensor_policy(sky_conn: str, sms_simulator: SimulatorServer) -> None:
    sent = _send(sky_conn, [A])
    _store_status("skycore", sky_conn, sent["results"][0]["message_id"], A, DeliveryStatus.FAILED, "E201")
    with pytest.raises(AirflowFailException, match=f"1 messages were not delivered: {A}: failed"):
        _sensor(sky_conn, sent).poke(context())
    assert _sensor(sky_conn, sent, on_failed_delivery="continue").poke(context()).xcom_value["failed"] == 1


def test_bulletin_deferred_wait_completes_from_the_store(sms_simulator: SimulatorServer,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    conn = "bulletin_messenger_default"
    monkeypatch.setenv("AIRFLOW_CONN_BULLETIN_MESSENGER_DEFAULT", bulletin_connection(sms_simulator))
    sent = _send(conn, [NZ_A, NZ_B])
    message_id = sent["batch_ids"][0]  # one messageId for the request; statuses come per handset
    sensor = _sensor(conn, sent, deferrable=True, poke_interval=0.01)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context())
    _, kwargs = deferred.value.trigger.serialize()
    trigger = SmsMessageStatusTrigger(**json.loads(json.dumps(kwargs)))  # what the triggerer does

    async def scenario() -> Any:
        waiting = asyncio.ensure_future(trigger.run().__anext__())
        await asyncio.sleep(0.2)
        assert not waiting.done()
        _store_status("bulletin", conn, message_id, f"+{NZ_A}", DeliveryStatus.DELIVERED, "D")
        await asyncio.sleep(0.2)
        assert not waiting.done()  # one handset of two
        _store_status("bulletin", conn, message_id, f"+{NZ_B}", DeliveryStatus.DELIVERED, "D")
        return await asyncio.wait_for(waiting, timeout=30)

    event = asyncio.run(scenario())
    assert event.payload["status"] == "done"
    value = sensor.execute_complete(context(), event=event.payload)
    assert value["delivered"] == 2
    assert sorted(s["recipient"] for s in value["statuses"]) == [NZ_A, NZ_B]


def test_bulksms_reads_the_store_when_the_connection_says_receipts(
        sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_BULKSMS_DEFAULT", bulksms_connection(sms_simulator, "eapi", receipts="true"))
    hook = get_sms_hook("bulksms_default")
    assert hook.status_source() == "receipts"
    sent = _send("bulksms_default", [A])
    calls = len(sms_simulator.bulksms.requests)
    sms_simulator.clock.advance(600)  # the gateway would say delivered: it is not asked
    assert not _sensor("bulksms_default", sent).poke(context()).is_done
    _store_status("bulksms", "bulksms_default", sent["batch_ids"][0], A, DeliveryStatus.DELIVERED, "11")
    assert _sensor("bulksms_default", sent).poke(context()).xcom_value["delivered"] == 1
    assert len(sms_simulator.bulksms.requests) == calls  # no status call went to the gateway


def test_without_receipts_bulksms_still_asks_the_gateway(bulksms_conn: str, sms_simulator: SimulatorServer) -> None:
    assert get_sms_hook(bulksms_conn).status_source() == "gateway"


def test_a_batch_without_its_recipients_cannot_be_followed_from_receipts(
        sky_conn: str, sms_simulator: SimulatorServer) -> None:
    with pytest.raises(AirflowFailException, match="per-recipient results"):
        _sensor(sky_conn, None, batch_ids=["b1"]).poke(context())


def test_bulletin_address_book_names_are_not_waited_for_forever(sms_simulator: SimulatorServer,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 caplog: pytest.LogCaptureFixture,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from airflow_provider_sms.operators.receipts_poll import SmsReceiptPollOperator

    conn = "bulletin_messenger_default"
    monkeypatch.setenv("AIRFLOW_CONN_BULLETIN_MESSENGER_DEFAULT", bulletin_connection(sms_simulator))
    sms_simulator.bulletin.add_contact("Ann", NZ_B)
    sms_simulator.bulletin.add_group("oncall", ["Ann"])
    sent = _send(conn, [NZ_A, "group:oncall"])
    sms_simulator.clock.advance(600)  # both handsets delivered; the statuses are polled into the store
    assert SmsReceiptPollOperator(task_id="poll", sms_conn_id=conn).execute(context())["statuses"] == 4
    # Receipts name handsets; a group names none, so it is left out (and said so) rather than
    # waited for until the sensor times out.
    done = _sensor(conn, sent).poke(context())
    assert done.is_done and (done.xcom_value["total"], done.xcom_value["delivered"]) == (1, 1)
    logged = caplog.text + capsys.readouterr().out  # the task logger writes through structlog
    assert "1 recipients not followed" in logged and "group:oncall" in logged
    group_only = _send(conn, ["group:oncall"])
    with pytest.raises(AirflowFailException, match=r"group:oncall.*no handset"):
        _sensor(conn, group_only).poke(context())
