"""The hardened XML reader shared by the XML gateways: bombs, external entities, size, round-trips."""

from __future__ import annotations

import pytest

from airflow_provider_sms.exceptions import SmsError, SmsTransientError
from airflow_provider_sms.gateways.xml import child_text, element, parse_xml, to_bytes


def _error(reason: str) -> SmsError:
    return SmsTransientError(f"answer was {reason}", gateway="test")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<lolz>&lol2;</lolz>"""

EXTERNAL = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL, b"<a><b></a>", b"", b"\xff\xfe<a/>", b"not xml",
                                  b"<a>" * 100_000])
def test_hostile_or_broken_documents_raise_only_the_callers_error(body: bytes) -> None:
    with pytest.raises(SmsTransientError) as info:
        parse_xml(body, _error)
    assert "passwd" not in str(info.value) and "lol" not in str(info.value)


def test_size_cap_is_checked_before_parsing() -> None:
    with pytest.raises(SmsTransientError, match="limit is 10"):
        parse_xml(b"<a>" + b"x" * 20 + b"</a>", _error, limit=10)


def test_text_round_trips_with_markup_characters_and_emoji() -> None:
    text = "Tom & Jerry <b>\"quoted\"</b> 'single' 😀 \n second line"
    root = parse_xml(to_bytes(element("REQUEST", children={"MESSAGE": text, "SKIPPED": None})), _error)
    assert child_text(root, "message") == text.strip()
    assert child_text(root, "skipped") is None


def test_control_characters_are_refused_when_building() -> None:
    with pytest.raises(ValueError, match="control character"):
        element("MESSAGE", "nul\x00here")
