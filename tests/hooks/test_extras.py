"""Connection extras are read strictly: invalid JSON and bad values are configuration errors naming the limit."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_sms.exceptions import SmsConfigurationError
from airflow_provider_sms.hooks.extras import ExtrasReader, load_extra

READ = ExtrasReader({}, conn_id="sms_x", gateway="bulksms")


@pytest.mark.parametrize(("raw", "expected"), [(None, {}), ("", {}), ('{"timeout": "5"}', {"timeout": "5"}),
                                               ({"a": 1}, {"a": 1})])
def test_load_extra_reads_json_objects(raw: Any, expected: dict[str, Any]) -> None:
    assert load_extra(SimpleNamespace(extra=raw, conn_id="sms_x"), "bulksms") == expected


@pytest.mark.parametrize(("raw", "named"), [('{"timeout": 5,}', "not valid JSON (line 1, column 15)"),
                                            ("[1]", "must be a JSON object, got a JSON list"),
                                            ('"text"', "got a JSON str")])
def test_load_extra_refuses_what_extra_dejson_would_turn_into_defaults(raw: str, named: str) -> None:
    with pytest.raises(SmsConfigurationError) as exc:
        load_extra(SimpleNamespace(extra=raw, conn_id="sms_x"), "bulksms")
    assert "connection 'sms_x'" in str(exc.value) and named in str(exc.value)


def test_load_extra_error_never_shows_the_text() -> None:
    with pytest.raises(SmsConfigurationError) as exc:
        load_extra(SimpleNamespace(extra='{"password": "hunter2-secret"', conn_id="sms_x"), "bulksms")
    assert "hunter2" not in str(exc.value)


@pytest.mark.parametrize(("value", "expected"), [(5, 5.0), ("2.5", 2.5), (" 30 ", 30.0)])
def test_numbers_from_json_or_text(value: Any, expected: float) -> None:
    assert READ.number("timeout", value, minimum=0, maximum=60, above_minimum=True) == expected


@pytest.mark.parametrize("value", ["fast", "", "nan", "inf", 0, -1, 61, True, None, [5]])
def test_numbers_out_of_range_name_the_extra_and_the_limit(value: Any) -> None:
    with pytest.raises(SmsConfigurationError, match="connection 'sms_x': extra 'timeout' must be a number above 0 "
                                                    "and at most 60"):
        READ.number("timeout", value, minimum=0, maximum=60, above_minimum=True)


def test_whole_numbers() -> None:
    assert READ.number("retries", "3", minimum=0, maximum=10, whole=True) == 3
    with pytest.raises(SmsConfigurationError, match="a whole number at least 0"):
        READ.number("retries", 1.5, minimum=0, maximum=10, whole=True)


@pytest.mark.parametrize(("value", "expected"), [(True, True), ("yes", True), ("On", True), (1, True),
                                                 (False, False), ("false", False), ("0", False), ("", False)])
def test_flags(value: Any, expected: bool) -> None:
    assert READ.flag("allow_unicode", value) is expected


@pytest.mark.parametrize("value", ["maybe", 2, [True]])
def test_unknown_flag_values_are_refused(value: Any) -> None:
    with pytest.raises(SmsConfigurationError, match="extra 'allow_unicode' must be true or false"):
        READ.flag("allow_unicode", value)


def test_choice() -> None:
    assert READ.choice("number_check", " Possible ", ("valid", "possible")) == "possible"
    with pytest.raises(SmsConfigurationError, match="must be one of 'valid', 'possible', got 'strict'"):
        READ.choice("number_check", "strict", ("valid", "possible"))


def test_load_extra_nested_too_deep_is_refused_not_a_recursion_error() -> None:
    deep = '{"a":' * 100_000 + "1" + "}" * 100_000
    with pytest.raises(SmsConfigurationError, match="connection 'sms_x': extras are not valid JSON"):
        load_extra(SimpleNamespace(extra=deep, conn_id="sms_x"), "bulksms")
