"""Every bad argument of every operator, sensor and the notifier, run through the real thing against the simulator.

Each case must end in (a) an error naming the argument (and its limit), (b) ``AirflowFailException``,
so Airflow does not retry it, and (c) nothing at the simulator: no request to either gateway, nobody
texted, no contact stored.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, BaseHook
from airflow.sdk import Connection

from airflow_provider_sms.notifications.sms import SmsNotifier
from airflow_provider_sms.operators.accounts import SmsTransferCreditsOperator
from airflow_provider_sms.operators.address_book import SmsAddressBookCleanupOperator
from airflow_provider_sms.operators.contacts import SmsContactImportOperator
from airflow_provider_sms.operators.credits import SmsCreditCheckOperator
from airflow_provider_sms.operators.inputs import MAX_GROUPS, MAX_RECIPIENTS
from airflow_provider_sms.operators.reports import SmsReportOperator
from airflow_provider_sms.operators.send import SmsGroupSendOperator, SmsSendOperator
from airflow_provider_sms.sensors.background_send import SmsBackgroundSendSensor
from airflow_provider_sms.sensors.message_status import SmsMessageStatusSensor
from airflow_provider_sms.simulator import SimulatorServer
from tests.conftest import bulksms_connection, netmessenger_connection
from tests.operators.helpers import context

BS, NM = "bulksms_default", "netmessenger_default"
ONE = ["+447700100001"]
AHEAD = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(microsecond=0)


def send(conn: str = BS, **kwargs: Any) -> SmsSendOperator:
    args: dict[str, Any] = {"task_id": "send", "sms_conn_id": conn, "to": ONE, "message": "Load finished",
                            "sender": "Pipeline"}
    return SmsSendOperator(**{**args, **kwargs})


def group_send(**kwargs: Any) -> SmsGroupSendOperator:
    return SmsGroupSendOperator(**{"task_id": "g", "sms_conn_id": NM, "group": "group:Staff",
                                   "message": "Hello", "sender": "Pipeline", **kwargs})


def contacts(source: Any, **kwargs: Any) -> SmsContactImportOperator:
    return SmsContactImportOperator(task_id="i", sms_conn_id=NM, source=source, **kwargs)


def cleanup(group: Any) -> SmsAddressBookCleanupOperator:
    return SmsAddressBookCleanupOperator(task_id="a", sms_conn_id=NM, action="empty_group", group=group,
                                         confirm="empty_group")


def csv_file(tmp: Path, data: bytes) -> str:
    path = tmp / "contacts.csv"
    path.write_bytes(data)
    return str(path)


def bad_byte_at_row_6001(tmp: Path) -> SmsContactImportOperator:
    rows = [b"name,number"] + [f"Contact {i},+4477001{i:05d}".encode() for i in range(1, 6001)]
    rows.append(b"Caf\xe9 6001,+447700206001")  # Latin-1, not UTF-8
    rows += [f"Contact {i},+4477002{i:05d}".encode() for i in range(6002, 6010)]
    return contacts(csv_file(tmp, b"\n".join(rows) + b"\n"), chunk_size=5000)


Case = tuple[str, Callable[[Path], Any], str, dict[str, Any]]
# (id, build the operator (or notifier) from a temporary directory, what the error must name, connection extras)
CASES: list[Case] = [
    # -- recipients (SmsSendOperator.to) --
    ("to-dict", lambda t: send(to={"447700100001": "on call"}), "to: must be a string, a whole number, or a "
     "list/tuple of them, got a dict", {}),
    ("to-set", lambda t: send(to={"447700100001"}), "got a set", {}),
    ("to-none", lambda t: send(to=None), "to: must be a string", {}),
    ("to-bool", lambda t: send(to=True), "got a bool", {}),
    ("to-float", lambda t: send(to=[4.47700100001e11]), "to[0] '447700100001.0': a float loses digits", {}),
    ("to-nested", lambda t: send(to=[["447700100001"]]), "to[0]", {}),
    ("to-letter-O", lambda t: send(to=["1OOOO1"]), "to[0] '1OOOO1': not a phone number: may hold only", {}),
    ("to-letters", lambda t: send(to=["+4477001ABCDE"]), "found 'ABCDE'", {}),
    ("to-extension", lambda t: send(to=["+44 7700 100001 ext. 12"]), "extensions are not accepted", {}),
    ("to-rendered-dict", lambda t: send(to="{'447700100001': 1}"), "to", {}),
    ("to-rendered-broken", lambda t: send(to="['447700100001', "), "cannot be read", {}),
    ("to-oversize", lambda t: send(to=["447700100001"] * (MAX_RECIPIENTS + 1)), "at most 1,000,000 entries", {}),
    # -- text --
    ("message-nul", lambda t: send(message="Load\x00finished"), "control characters are not allowed: U+0000", {}),
    ("message-escape", lambda t: send(message="Load \x1b[31mfailed"), "U+001B", {}),
    ("message-none", lambda t: send(message=None), "message: must be given", {}),
    ("message-number", lambda t: send(message=42), "message '42': must be text", {}),
    ("message-empty", lambda t: send(message=""), "must not be empty", {}),
    ("typographic-refused", lambda t: send(NM, message="We\u2019re open", replace_typographic=False),
     "not in the GSM 03.38 alphabet", {}),
    # -- schedule --
    ("send_at-naive-string", lambda t: send(send_at="2027-06-01T09:00:00"), "send_at '2027-06-01T09:00:00': "
     "must be timezone-aware", {}),
    ("send_at-naive-datetime", lambda t: send(send_at=dt.datetime(2027, 6, 1, 9)), "send_at", {}),
    ("send_at-date-only", lambda t: send(send_at="2027-06-01"), "must be timezone-aware", {}),
    ("send_at-unparseable", lambda t: send(send_at="next tuesday"), "send_at 'next tuesday': is not an ISO 8601", {}),
    ("send_at-number", lambda t: send(send_at=1780000000), "got a int", {}),
    # -- options --
    ("max_parts-zero", lambda t: send(max_parts=0), "max_parts '0': must be a whole number of at least 1", {}),
    ("max_parts-negative", lambda t: send(NM, max_parts=-2), "max_parts '-2'", {}),
    ("max_parts-text", lambda t: send(max_parts="3"), "max_parts", {}),
    ("xcom_results", lambda t: send(xcom_results="everything"), "xcom_results 'everything': must be one of", {}),
    ("test_mode", lambda t: send(test_mode="yes"), "test_mode 'yes'", {}),
    ("sender-int", lambda t: send(sender=447700100099), "sender '447700100099': must be text", {}),
    ("unicode-text", lambda t: send(unicode="false"), "unicode 'false': must be True, False or None", {}),
    ("want_report-text", lambda t: send(want_report="no"), "want_report", {}),
    ("allow_partial_failure-text", lambda t: send(allow_partial_failure="false"), "allow_partial_failure", {}),
    ("honour_opt_outs-text", lambda t: send(honour_opt_outs="no"), "honour_opt_outs 'no': must be True or False", {}),
    ("replace_typographic-text", lambda t: send(replace_typographic="yes"), "replace_typographic", {}),
    ("extras-text", lambda t: send(extras="routing_group=2"), "extras: must be a mapping", {}),
    ("extras-control", lambda t: send(extras={"routing_group": "2\x00"}), "extras.routing_group '2\\x00': control "
     "characters are not allowed: U+0000", {}),
    ("client_ref-control", lambda t: send(client_ref="run\x852"), "client_ref 'run\\x852': control characters", {}),
    ("extras-nested", lambda t: send(extras={"routing": {"group": 2}}), "extras 'routing'", {}),
    # -- connection extras --
    ("extra-not-json", lambda t: send(), "connection 'bulksms_default': extras are not valid JSON", {"raw": "{x"}),
    ("extra-json-list", lambda t: send(), "extras must be a JSON object", {"raw": "[1, 2]"}),
    ("extra-timeout", lambda t: send(), "extra 'timeout' must be a number above 0", {"timeout": "fast"}),
    ("extra-timeout-negative", lambda t: send(), "extra 'timeout'", {"timeout": -5}),
    ("extra-retries", lambda t: send(), "extra 'retries' must be a whole number at least 0", {"retries": -1}),
    ("extra-backoff", lambda t: send(), "extra 'retry_backoff'", {"retry_backoff": "slow"}),
    ("extra-chunk", lambda t: send(), "extra 'max_recipients_per_request'", {"max_recipients_per_request": 0}),
    ("extra-number_check", lambda t: send(), "extra 'number_check' must be one of", {"number_check": "strict"}),
    ("extra-region", lambda t: send(), "extra 'default_region' must be an ISO 3166", {"default_region": "Britain"}),
    ("extra-api", lambda t: send(), "extra 'api'", {"api": "soap"}),
    ("extra-flag", lambda t: send(NM), "extra 'allow_unicode' must be true or false", {"allow_unicode": "maybe"}),
    # -- group send --
    ("group-dict", lambda t: group_send(group={"Staff": 1}), "group: must be", {}),
    ("group-nested", lambda t: group_send(group=[{"name": "Staff"}]), "group[0]", {}),
    ("group-control-char", lambda t: group_send(group="Staff\x00"), "group[0] 'Staff\\x00': a name must not hold "
     "control characters: U+0000", {}),
    ("group-tab", lambda t: group_send(group=["Staff", "Sales\tTeam"]), "U+0009", {}),
    ("group-oversize", lambda t: group_send(group=[f"g{i}" for i in range(MAX_GROUPS + 1)]), "at most 1,000", {}),
    # -- contact import --
    ("contacts-type", lambda t: contacts(42), "source: must be a CSV path", {}),
    ("contacts-empty-file", lambda t: contacts(csv_file(t, b"")), "source: the file is empty", {}),
    ("contacts-header-only", lambda t: contacts(csv_file(t, b"name,number\n")), "header but no contact rows", {}),
    ("contacts-wrong-header", lambda t: contacts(csv_file(t, b"Full name,Mobile\nAnn,+447700100001\n")),
     "the header has no column 'name', 'number'", {}),
    ("contacts-mapped-column-missing", lambda t: contacts(csv_file(t, b"name,number\nAnn,+447700100001\n"),
                                                          columns={"email": "E-mail"}), "'E-mail'", {}),
    ("contacts-bad-byte-row-6001", bad_byte_at_row_6001, "line 6002 is not valid UTF-8 (byte 0xe9", {}),
    ("contacts-nul-in-csv", lambda t: contacts(csv_file(t, b"name,number\nA\x00nn,+447700100001\n")),
     "line 2 holds a NUL byte", {}),
    ("contacts-utf16", lambda t: contacts(csv_file(t, "name,number\nAnn,+447700100001\n".encode("utf-16"))),
     "not valid UTF-8", {}),
    ("contacts-rows-not-mappings", lambda t: contacts(["Ann", "Bob"]), "source[0]: rows must be mappings", {}),
    ("contacts-no-rows", lambda t: contacts([]), "no contact rows given", {}),
    ("contacts-rows-wrong-keys", lambda t: contacts([{"Full name": "Ann", "Mobile": "+447700100001"}]),
     "no row has the key 'name', 'number'", {}),
    ("contacts-rendered-broken", lambda t: contacts("[{'name': 'Ann'"), "source", {}),
    # -- other operators --
    ("address-book-group-list", lambda t: cleanup(group=["Staff"]), "group \"['Staff']\": empty_group needs a "
     "group name (text), got a list", {}),
    ("address-book-group-missing", lambda t: cleanup(group=None), "group: empty_group needs a group name", {}),
    ("address-book-group-control", lambda t: cleanup(group="Sta\x00ff"), "U+0000", {}),
    ("min_credits", lambda t: SmsCreditCheckOperator(task_id="c", sms_conn_id=BS, min_credits="lots"),
     "min_credits 'lots': must be a number", {}),
    ("min_credits-negative", lambda t: SmsCreditCheckOperator(task_id="c", sms_conn_id=BS, min_credits=-1),
     "must be at least 0", {}),
    ("quantity", lambda t: SmsTransferCreditsOperator(task_id="t", sms_conn_id=NM, child_username="kid",
                                                      quantity="ten"), "quantity 'ten': must be a whole number", {}),
    ("quantity-fraction", lambda t: SmsTransferCreditsOperator(task_id="t", sms_conn_id=NM, child_username="kid",
                                                               quantity=2.5), "quantity", {}),
    ("report-start", lambda t: SmsReportOperator(task_id="r", sms_conn_id=NM, report="Messages",
                                                 output_path=str(t / "r.csv"), start="yesterday"),
     "start 'yesterday': is not an ISO 8601", {}),
    ("report-end-naive", lambda t: SmsReportOperator(task_id="r", sms_conn_id=NM, report="Messages",
                                                     output_path=str(t / "r.csv"), end="2026-11-20T00:00:00"),
     "end '2026-11-20T00:00:00': must be timezone-aware", {}),
    ("report-params", lambda t: SmsReportOperator(task_id="r", sms_conn_id=NM, report="Messages",
                                                  output_path=str(t / "r.csv"), report_params="body"),
     "report_params: must be a mapping", {}),
    # -- sensors (poked) --
    ("sensor-messages-broken", lambda t: SmsMessageStatusSensor(task_id="w", sms_conn_id=BS, messages="[{'batch_id'"),
     "messages", {}),
    ("sensor-sent_at", lambda t: SmsMessageStatusSensor(task_id="w", sms_conn_id=BS,
                                                        messages={"batch_ids": ["1"], "sent_at": "noon"}),
     "messages.sent_at 'noon'", {}),
    ("sensor-background-id", lambda t: SmsBackgroundSendSensor(task_id="w", sms_conn_id=NM,
                                                               background_send_id=[["1"]]),
     "background_send_id: must be an id", {}),
]


@pytest.fixture
def connections(sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, Any]], None]:
    def set_up(extra: dict[str, Any]) -> None:
        stored: dict[str, Connection] = {}
        for var, conn in (("AIRFLOW_CONN_BULKSMS_DEFAULT", bulksms_connection(sms_simulator)),
                          ("AIRFLOW_CONN_NETMESSENGER_DEFAULT", netmessenger_connection(sms_simulator))):
            data = json.loads(conn)
            if "raw" in extra:
                # As stored in the metadata database: Airflow 3.1's environment-variable backend cannot
                # even load a connection whose extra is not JSON, so it is handed over as stored.
                conn_id = var.removeprefix("AIRFLOW_CONN_").lower()
                stored[conn_id] = Connection(conn_id=conn_id, conn_type=data["conn_type"], host=data["host"],
                                             login=data.get("login"), password=data["password"], extra=extra["raw"])
                continue
            data["extra"] = {**data["extra"], **extra}
            monkeypatch.setenv(var, json.dumps(data))
        if stored:
            monkeypatch.setattr(BaseHook, "get_connection", classmethod(lambda cls, conn_id: stored[conn_id]))
    return set_up


def _run(task: Any) -> None:
    if isinstance(task, SmsDeferrableSensorTypes):
        task.poke(context())
    else:
        task.execute(context())


SmsDeferrableSensorTypes = (SmsMessageStatusSensor, SmsBackgroundSendSensor)


def _nothing_reached(sms_simulator: SimulatorServer) -> None:
    assert sms_simulator.bulksms.requests == []
    assert sms_simulator.netmessenger.requests == []
    assert sms_simulator.bulksms.received() == [] and sms_simulator.netmessenger.received() == []
    assert list(sms_simulator.netmessenger.contacts()) == []


@pytest.mark.parametrize(("build", "named", "extra"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_a_typed_error_never_retried_and_nothing_is_sent(
        build: Callable[[Path], Any], named: str, extra: dict[str, Any], connections: Callable[[dict[str, Any]], None],
        sms_simulator: SimulatorServer, tmp_path: Path) -> None:
    connections(extra)
    task = build(tmp_path)
    with pytest.raises(AirflowFailException) as exc:  # not retried by Airflow
        _run(task)
    assert named in str(exc.value)
    cause = exc.value.__cause__
    assert cause is not None and type(cause).__name__ in {"SmsValidationError", "SmsConfigurationError"}
    _nothing_reached(sms_simulator)


def test_the_table_holds_every_input_the_issue_counts() -> None:
    assert len(CASES) >= 17 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(("to", "named"), [({"447700100001": 1}, "got a dict"), (["1OOOO1"], "may hold only")])
def test_the_notifier_refuses_the_same_inputs_and_texts_nobody(
        to: Any, named: str, connections: Callable[[dict[str, Any]], None], sms_simulator: SimulatorServer,
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    connections({})
    caplog.set_level(logging.ERROR)
    SmsNotifier(sms_conn_id=BS, to=to, message="Load failed").notify({})  # a callback never raises
    logged = caplog.text + capsys.readouterr().out
    assert "SMS alert not sent" in logged and named in logged
    _nothing_reached(sms_simulator)
