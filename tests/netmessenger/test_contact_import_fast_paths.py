"""The contact import's lean path: file rows read as value lists give what the mapping per row gave;
uploads several at a time give exactly the serial import (counts, rejects file byte for byte,
address book); a hostile file is refused before any upload, however many may be in flight."""

from __future__ import annotations

import csv
import threading
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_sms.exceptions import SmsValidationError
from airflow_provider_sms.hooks.netmessenger import NetMessengerHook
from airflow_provider_sms.operators.contact_source import ContactSource
from airflow_provider_sms.operators.contacts import SmsContactImportOperator
from airflow_provider_sms.simulator import SimulatorServer
from tests.conftest import netmessenger_connection
from tests.operators.helpers import context

FIELDS = ["name", "number", "email", "group1", "group2", "group3"]


def _file(path: Path, text: str) -> str:
    path.write_bytes(text.encode("utf-8"))
    return str(path)


def _by_mapping(source: ContactSource, keys: list[str]) -> list[list[str]]:
    return [[str(row.get(key) or "").strip() for key in keys] for row in source.rows()]


@pytest.mark.parametrize(("text", "columns"), [
    ("name,number,email\nAnn,+447700100001,a@x\n\nBob , 07700 100002 ,\n", {}),
    ("\ufeffname,number\nAnn,+447700100001\nShort\nLong,+447700100003,x,y,z\n", {}),  # ragged rows, a BOM
    ("Mobile,Full name,Mobile\n1,Ann,+447700100001\n2,Bob,+447700100002\n",  # a repeated column: the last
     {"name": "Full name", "number": "Mobile"}),
    ('name,group1,number,group3\n"Ann, Jr",Staff,"+44 7700\n100001",\n', {}),  # a group column before number
    ("group2,name,number\nBoard,Ann,+447700100001\n", {"email": "group2"}),
    ("name,number\n", {}),
])
def test_file_values_are_what_the_rows_give(tmp_path: Path, text: str, columns: dict[str, str]) -> None:
    source = ContactSource(_file(tmp_path / "c.csv", text), columns)
    keys = [columns.get(f, f) for f in FIELDS]
    assert list(source.values(keys)) == _by_mapping(source, keys)


def test_row_values_are_what_the_rows_give() -> None:
    rows = [{"name": " Ann ", "number": 447700100001, "email": None}, {"name": 0, "number": "+447700100002"}]
    assert list(ContactSource(rows, {}).values(FIELDS)) == [["Ann", "447700100001", "", "", "", ""],
                                                             ["", "+447700100002", "", "", "", ""]]


def _contacts_file(path: Path) -> str:
    rows = ["Full name,Mobile,Email,Team"]
    for i in range(230):
        number = f"+4477001{i:05d}"
        if i % 37 == 5:
            number = "12345"  # invalid: refused before upload
        if i % 41 == 7:
            rows.append(f",{number},,")  # no name
            continue
        rows.append(f'"Person {i}, Jr",{number},p{i}@example.com,{"Blue" if i % 3 else ""}')
    return _file(path, "\n".join(rows) + "\n")


@pytest.fixture
def peak_uploads(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    seen = {"now": 0, "peak": 0, "calls": 0}
    lock = threading.Lock()
    real = NetMessengerHook.import_contacts

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            seen["now"] += 1
            seen["calls"] += 1
            seen["peak"] = max(seen["peak"], seen["now"])
        try:
            return real(self, *args, **kwargs)
        finally:
            with lock:
                seen["now"] -= 1

    monkeypatch.setattr(NetMessengerHook, "import_contacts", counting)
    return seen


def test_uploads_in_flight_give_exactly_the_serial_import(sms_simulator: SimulatorServer, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          peak_uploads: dict[str, int]) -> None:
    source = _contacts_file(tmp_path / "people.csv")
    outcomes = []
    for in_flight in (1, 4):
        sms_simulator.reset()
        sms_simulator.faults.latency(0.01)  # uploads overlap
        # Some are in the book already: the gateway's duplicates are rejects too.
        sms_simulator.netmessenger.add_contacts({"name": f"Old {i}", "number": f"4477001{i:05d}"}
                                                for i in range(0, 230, 19))
        monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT",
                           netmessenger_connection(sms_simulator, max_in_flight=in_flight))
        peak_uploads.update(now=0, peak=0, calls=0)
        rejects = tmp_path / f"rejects-{in_flight}.csv"
        op = SmsContactImportOperator(task_id="i", sms_conn_id="netmessenger_default", source=source, chunk_size=20,
                                      columns={"name": "Full name", "number": "Mobile", "email": "Email",
                                               "group1": "Team"},
                                      group="People", rejects_path=str(rejects))
        result = op.execute(context())
        book = sorted((c["name"], c["number"], c["email"], tuple(c["groups"]))
                      for c in sms_simulator.netmessenger.contacts())
        outcomes.append((result | {"rejects_path": None}, rejects.read_bytes(), book))
        assert peak_uploads["peak"] == 1 if in_flight == 1 else peak_uploads["peak"] > 1
        assert peak_uploads["calls"] == 11
    assert outcomes[0] == outcomes[1]
    result, rejects_file, book = outcomes[0]
    invalid = {i for i in range(230) if i % 37 == 5 or i % 41 == 7}
    assert result["rows"] == 230 and result["invalid"] == len(invalid) and result["duplicate_number"] > 0
    assert result["success"] + result["duplicate_number"] + result["duplicate_name"] + result["invalid"] == 230
    rows = [int(r["row"]) for r in csv.DictReader(rejects_file.decode().splitlines())]
    assert len(rows) == result["rejected"]
    assert {("Person 12, Jr", "447700100012", "p12@example.com", ("People",))} <= set(book)
    assert ("Person 13, Jr", "447700100013", "p13@example.com", ("Blue", "People")) in book


def test_a_hostile_file_is_refused_before_any_upload(sms_simulator: SimulatorServer, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     peak_uploads: dict[str, int]) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_NETMESSENGER_DEFAULT", netmessenger_connection(sms_simulator, max_in_flight=8))
    lines = [b"name,number"] + [b"Person %d,+4477001%05d" % (i, i) for i in range(12_000)]
    lines[11_000] = b"Caf\xe9,+447700100001"  # Latin-1, near the end
    path = tmp_path / "people.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    op = SmsContactImportOperator(task_id="i", sms_conn_id="netmessenger_default", source=str(path), chunk_size=500)
    with pytest.raises((SmsValidationError, AirflowFailException), match="line 11001 is not valid UTF-8"):
        op.execute(context())
    assert peak_uploads["calls"] == 0 and sms_simulator.netmessenger.contacts() == []
