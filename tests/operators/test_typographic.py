"""Pasted typographic text on gateways without Unicode: replaced by GSM stand-ins (default) or refused."""

from __future__ import annotations

import logging

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_sms.notifications.sms import SmsNotifier
from airflow_provider_sms.operators.send import SmsGroupSendOperator, SmsSendOperator
from airflow_provider_sms.simulator import SimulatorServer
from tests.operators.helpers import context

A = "447700100001"


@pytest.mark.parametrize(("text", "sent", "replaced"), [
    ("We\u2019re open", "We're open", {"\u2019": "'"}),
    ("Price \u2013 \u00a35", "Price - \u00a35", {"\u2013": "-"}),
    ("\u201cBack\u201d\u00a0soon\u2026", '"Back" soon...',
     {"\u00a0": " ", "\u201c": '"', "\u201d": '"', "\u2026": "..."}),
])
def test_netmessenger_sends_gsm_stand_ins_and_reports_them(nm_conn: str, sms_simulator: SimulatorServer,
                                                          caplog: pytest.LogCaptureFixture, text: str, sent: str,
                                                          replaced: dict[str, str]) -> None:
    caplog.set_level(logging.INFO)
    result = SmsSendOperator(task_id="s", sms_conn_id=nm_conn, to=[A], message=text, sender="Shop").execute(context())
    [received] = sms_simulator.netmessenger.received(A)
    assert received["body"] == sent
    assert result["text_replacements"] == replaced
    assert "replaced" in caplog.text


def test_refused_instead_when_asked(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    with pytest.raises(AirflowFailException, match=r"not in the GSM 03\.38 alphabet"):
        SmsSendOperator(task_id="s", sms_conn_id=nm_conn, to=[A], message="We\u2019re open", sender="Shop",
                        replace_typographic=False).execute(context())
    assert sms_simulator.netmessenger.requests == []


def test_gateways_with_unicode_keep_the_text_unless_unicode_is_off(bulksms_conn: str,
                                                                   sms_simulator: SimulatorServer) -> None:
    kept = SmsSendOperator(task_id="s", sms_conn_id=bulksms_conn, to=[A], message="We\u2019re open").execute(context())
    assert kept["text_replacements"] == {}
    fitted = SmsSendOperator(task_id="s", sms_conn_id=bulksms_conn, to=["447700100002"], message="We\u2019re open",
                             unicode=False).execute(context())
    assert fitted["text_replacements"] == {"\u2019": "'"}
    assert sms_simulator.bulksms.received("447700100002")[0]["message"] == "We're open"


def test_alerts_are_fitted_too(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    SmsNotifier(sms_conn_id=nm_conn, to=[A], message="Load \u2013 failed", sender="Alerts").notify({})
    assert [r["body"] for r in sms_simulator.netmessenger.received(A)] == ["Load - failed"]


def test_group_send_result_reports_replacements(nm_conn: str, sms_simulator: SimulatorServer) -> None:
    op = SmsGroupSendOperator(task_id="g", sms_conn_id=nm_conn, group="group:Nobody", message="We\u2019re open",
                              sender="Shop", allow_partial_failure=True)
    result = op.execute(context())
    assert result["text_replacements"] == {"\u2019": "'"}
