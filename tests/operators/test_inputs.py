"""operators.inputs: reading recipients, dates and numbers strictly."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from airflow_provider_sms.exceptions import SmsValidationError
from airflow_provider_sms.operators.inputs import as_datetime, as_items, as_mapping, as_number


@pytest.mark.parametrize(("value", "expected"), [
    ("+447700100001, 07700 100002", "+447700100001, 07700 100002"),
    (["+447700100001", 447700100002], ["+447700100001", "447700100002"]),
    (("a", "b"), ["a", "b"]),
    (447700100001, "447700100001"),
    ("['447700100001', '447700100002']", ["447700100001", "447700100002"]),
    ('["447700100001"]', ["447700100001"]),
])
def test_as_items_reads_what_is_unambiguous(value: Any, expected: Any) -> None:
    assert as_items(value) == expected


@pytest.mark.parametrize(("value", "named"), [
    ({"447700100001": 1}, "to: must be a string, a whole number, or a list/tuple of them, got a dict"),
    ({"447700100001"}, "got a set"),
    (frozenset(), "got a frozenset"),
    (b"447700100001", "got a bytes"),
    (None, "got a NoneType"),
    (False, "got a bool"),
    (4.47700100001e11, "got a float"),
    (iter(["447700100001"]), "got a list_iterator"),
    ([True], "to[0] 'True': entries must be strings or whole numbers, got a bool"),
    ("{'447700100001': 1}", "a rendered mapping is not a list"),
    ("('447700100001',)", None),  # plain text: read later as a (bad) number, not as a tuple
    ("[1, 2", "cannot be read"),
    ("['a', {'b': 1}]", "to[1]"),
])
def test_as_items_refuses_naming_the_type(value: Any, named: str | None) -> None:
    if named is None:
        assert as_items(value) == value
        return
    with pytest.raises(SmsValidationError) as exc:
        as_items(value)
    assert named in str(exc.value)


def test_as_items_caps_the_list() -> None:
    with pytest.raises(SmsValidationError, match="group: at most 3 entries per task, got 4"):
        as_items(["a"] * 4, "group", max_items=3)


@pytest.mark.parametrize(("value", "expected"), [
    ("2027-06-01T09:00:00+01:00", dt.datetime(2027, 6, 1, 8, tzinfo=dt.UTC)),
    ("2027-06-01T08:00:00Z", dt.datetime(2027, 6, 1, 8, tzinfo=dt.UTC)),
    (" 2027-06-01 08:00:00+00:00 ", dt.datetime(2027, 6, 1, 8, tzinfo=dt.UTC)),
    (dt.datetime(2027, 6, 1, 8, tzinfo=dt.UTC), dt.datetime(2027, 6, 1, 8, tzinfo=dt.UTC)),
    (None, None),
    ("", None),
])
def test_as_datetime_reads_aware_times(value: Any, expected: dt.datetime | None) -> None:
    assert as_datetime(value) == expected


@pytest.mark.parametrize(("value", "named"), [
    ("2027-06-01T09:00:00", "send_at '2027-06-01T09:00:00': must be timezone-aware"),
    (dt.datetime(2027, 6, 1, 9), "must be timezone-aware"),
    ("2027-06-01", "must be timezone-aware"),
    ("tomorrow 9am", "is not an ISO 8601 date and time"),
    ("2027-13-01T00:00:00Z", "is not an ISO 8601 date and time"),
    (1780000000, "got a int"),
    (dt.date(2027, 6, 1), "got a date"),
])
def test_as_datetime_refuses_naive_and_unparseable(value: Any, named: str) -> None:
    with pytest.raises(SmsValidationError) as exc:
        as_datetime(value)
    assert named in str(exc.value)


def test_as_number_and_as_mapping() -> None:
    assert as_number("12.5", "min_credits", minimum=0) == 12.5
    assert as_number(-3, "quantity", whole=True) == -3
    for bad in ("lots", "nan", True, None, "1e400"):
        with pytest.raises(SmsValidationError, match="min_credits"):
            as_number(bad, "min_credits")
    assert as_mapping('{"a": 1}', "report_params") == {"a": 1}
    with pytest.raises(SmsValidationError, match="report_params: must be a mapping"):
        as_mapping("[1]", "report_params")


_DEEP = 100_000  # far past the interpreter's recursion limit


@pytest.mark.parametrize("text", ["[" * _DEEP + "]" * _DEEP, "{" * _DEEP, '{"a":' * _DEEP + "1" + "}" * _DEEP])
def test_rendered_input_nested_too_deep_is_refused_naming_the_field(text: str) -> None:
    # json.loads raises RecursionError, which is not one of our errors; nothing may escape as it.
    with pytest.raises(SmsValidationError) as items:
        as_items(text, "to")
    assert "to" in str(items.value)
    with pytest.raises(SmsValidationError) as mapping:
        as_mapping(text, "merge_data")
    assert "merge_data" in str(mapping.value)
