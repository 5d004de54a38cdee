"""``build_contacts_csv``'s C-speed path for plain rows writes exactly what the row-by-row path writes,
and leaves everything else (padding, None, line breaks, groups, bad numbers) to it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_sms.exceptions import SmsValidationError
from airflow_provider_sms.gateways.netmessenger import csvio
from airflow_provider_sms.gateways.netmessenger.csvio import CONTACT_COLUMNS, build_contacts_csv

KEYS = list(CONTACT_COLUMNS)


def _checked(rows: list[dict[str, Any]], group: str | None = None) -> str:
    return csvio._checked_body(rows, KEYS, group, [])


_value = st.one_of(
    st.sampled_from(["", "Ann", "Bob Smith", "a,b", 'say "hi"', " padded", "padded ", "\u00a0x", "x\u3000", "\x1f",
                     "a\x00b", "multi\nline", "cr\rhere", "ümlaut", "447700900123", "+447700900123", "07700 900123",
                     "a@example.com"]),
    st.text(max_size=6), st.none(), st.integers(0, 10**12))
_number = st.one_of(_value, st.from_regex(r"\+?[0-9]{1,15}", fullmatch=True))
_row = st.fixed_dictionaries({"name": _value, "number": _number, "email": _value},
                             optional={"group1": _value, "group2": _value, "group3": _value})


@settings(max_examples=400, deadline=None)
@given(st.lists(_row, min_size=1, max_size=8), st.sampled_from([None, "Staff"]))
def test_the_plain_path_writes_what_the_checked_path_writes(rows: list[dict[str, Any]], group: str | None) -> None:
    full = [{key: row.get(key) for key in KEYS} for row in rows]  # the plain path needs every field
    plain = csvio._plain_body(full, KEYS, group)
    try:
        checked: str | None = _checked(full, group)
    except SmsValidationError:
        checked = None
    if plain is not None:
        assert plain == checked
    if checked is not None:
        assert build_contacts_csv(full, group=group) == checked


def test_what_an_import_hands_over_takes_the_plain_path() -> None:
    rows = [{"name": f"Contact {i}", "number": f"4477001{i:05d}", "email": f"c{i}@example.com", "group1": "",
             "group2": "", "group3": ""} for i in range(100)]
    rows[7]["name"] = 'Smith, "Jo"'
    body = csvio._plain_body(rows, KEYS, "Staff")
    assert body is not None and body == _checked(rows, "Staff")
    assert body.splitlines()[7] == '"Smith, ""Jo""",447700100007,c7@example.com,Staff'


@pytest.mark.parametrize(("field", "value"), [("name", " Ann"), ("email", "x "), ("name", ""), ("number", "+4477"),
                                              ("number", "4477x"), ("group2", "Board"), ("email", None),
                                              ("name", "two\nlines"), ("number", "")])
def test_anything_not_plain_goes_row_by_row(field: str, value: Any) -> None:
    rows = [dict.fromkeys(KEYS, "") | {"name": "Ann", "number": "447700100001"} for _ in range(3)]
    rows[1][field] = value
    assert csvio._plain_body(rows, KEYS, None) is None


def test_a_missing_field_goes_row_by_row() -> None:
    assert csvio._plain_body([{"name": "Ann", "number": "447700100001"}], KEYS, None) is None
    assert build_contacts_csv([{"name": "Ann", "number": "447700100001"}]) == "Ann,447700100001,"


_plainish = st.fixed_dictionaries({
    "name": st.text(max_size=8), "number": st.from_regex(r"[0-9]{0,15}", fullmatch=True), "email": st.text(max_size=8),
    "group1": st.sampled_from(["", "", "", "G", " "]), "group2": st.just(""), "group3": st.sampled_from(["", "H"])})


@settings(max_examples=400, deadline=None)
@given(st.lists(_plainish, min_size=1, max_size=6), st.sampled_from([None, "Staff", "G"]))
def test_nearly_plain_rows_agree_too(rows: list[dict[str, Any]], group: str | None) -> None:
    plain = csvio._plain_body(rows, KEYS, group)
    try:
        checked: str | None = _checked(rows, group)
    except SmsValidationError:
        checked = None
    assert plain is None or plain == checked


def test_random_plain_chunks_take_the_plain_path_with_the_same_bytes() -> None:
    import random

    rng = random.Random(5)
    alphabet = "abc XYZ,\"'é\u00a0\t;-"
    taken = 0
    for _ in range(300):
        rows = [{"name": "".join(rng.choices(alphabet, k=rng.randint(1, 8))), "number": str(rng.randint(1, 10**15)),
                 "email": "".join(rng.choices(alphabet, k=rng.randint(0, 5))), "group1": "", "group2": "",
                 "group3": ""} for _ in range(rng.randint(1, 20))]
        group = rng.choice([None, "Staff"])
        plain = csvio._plain_body(rows, KEYS, group)
        if plain is not None:
            taken += 1
            assert plain == _checked(rows, group)
    assert taken >= 5  # names and emails without padding do occur: the plain path is exercised


@pytest.mark.parametrize("answer", [
    "1 : Success",
    "\n".join(f"{i} : Success" for i in range(1, 5001)),
    "\n".join(f"{i} : Success" for i in range(1, 5001)) + "\n",
    "1 : Success\n2 : Success\n3 : Failed\n\n3 : Invalid number (x)",
    "1 : Success\n3 : Success",
    "1 : Success\n2 :  Success",
    "1: Success\n2 : Success",
    "\ufeff1 : Success\r\n2 : Success",
    "1 : Success\nnote from the gateway",
])
def test_an_all_success_answer_reads_as_the_line_by_line_parser_reads_it(
        answer: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_sms.gateways.http import HttpResponse
    from airflow_provider_sms.gateways.netmessenger import api as nm_api

    parser = nm_api.NetMessengerApi(token="t")
    response = HttpResponse(200, answer.encode())
    quick = parser.parse_import(response)
    monkeypatch.setattr(nm_api, "_all_success", lambda count: [])  # the line-by-line reading only
    assert quick == parser.parse_import(response)
    assert quick.counts["success"] == answer.count("Success")
