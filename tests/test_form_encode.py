"""The transport's form encoder writes exactly what ``urllib.parse.urlencode`` writes."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_sms.transport import form_encode

VALUES = st.one_of(st.text(max_size=40), st.binary(max_size=20), st.integers(), st.sampled_from(
    ["447700100001,447700100002", "a b+c&d=e%f", "caf\u00e9 \u20ac", "line\nbreak\r\n", "~._-", "\x00\x7f"]))


def _stdlib(pairs: list[tuple[object, object]], charset: str) -> bytes | type[Exception]:
    try:
        return urlencode(pairs, encoding=charset).encode("ascii")
    except UnicodeEncodeError:
        return UnicodeEncodeError


def _ours(pairs: list[tuple[object, object]], charset: str) -> bytes | type[Exception]:
    try:
        return form_encode(pairs, charset)
    except UnicodeEncodeError:
        return UnicodeEncodeError


@settings(max_examples=500, deadline=None, database=None)
@given(pairs=st.lists(st.tuples(VALUES, VALUES), max_size=6), charset=st.sampled_from(["utf-8", "iso-8859-1"]))
def test_same_bytes_as_urlencode(pairs: list[tuple[object, object]], charset: str) -> None:
    assert _ours(pairs, charset) == _stdlib(pairs, charset)


@pytest.mark.parametrize("charset", ["utf-8", "iso-8859-1"])
def test_a_big_send_form(charset: str) -> None:
    pairs = [("username", "demo"), ("msisdn", ",".join(str(447700000000 + i) for i in range(5000))),
             ("message", "Caf\u00e9 at 10:00 & 12:00 (50% off!)")]
    assert form_encode(pairs, charset) == urlencode(pairs, encoding=charset).encode("ascii")


def test_the_safe_bytes_are_exactly_those_the_pattern_leaves() -> None:
    from airflow_provider_sms.transport import _FORM_SAFE, _FORM_UNSAFE

    every = [bytes((b,)) for b in range(256)]
    assert {b for b in every if _FORM_UNSAFE.fullmatch(b) is None} == {bytes((b,)) for b in _FORM_SAFE}
