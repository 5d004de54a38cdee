"""Every Skycore parser raises only our error types on random bytes and truncated documents.

A small seeded stand-in for a property-based fuzz test (no fuzz registry on this branch): each
valid document is cut at every length and mutated byte by byte; random bytes are thrown in too.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable

import pytest

from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.mms import MmsMessage
from airflow_provider_sms.exceptions import SmsError
from airflow_provider_sms.gateways.http import HttpResponse
from airflow_provider_sms.gateways.skycore import SkycoreApi, parse_postback

API = SkycoreApi("key-123456", short_code="60856")
A = "15551234888"

PARSERS: dict[str, tuple[Callable[[bytes], object], bytes]] = {
    "send": (lambda b: API.parse_send(HttpResponse(200, b), OutgoingMessage("x", numbers=[A])),
             b"<RESPONSE><STATUS>Success</STATUS><TRACKINGID>U01T</TRACKINGID><TO>15551234888</TO></RESPONSE>"),
    "group": (lambda b: API.parse_send(HttpResponse(200, b), OutgoingMessage("x", groups=["r"])),
              b"<RESPONSE><STATUS>Success</STATUS><SUBSCRIBER><STATUS>Success</STATUS><TRACKINGID>T</TRACKINGID>"
              b"<TO>1555</TO></SUBSCRIBER></RESPONSE>"),
    "mms": (lambda b: API.parse_mms_send(HttpResponse(200, b), MmsMessage(mms_id="1", numbers=[A])),
            b"<RESPONSE><STATUS>Success</STATUS><SENDING><TRACKINGID>T</TRACKINGID><TO>1</TO></SENDING></RESPONSE>"),
    "save": (lambda b: API.parse_save_mms(HttpResponse(200, b)),
             b"<RESPONSE><STATUS>Success</STATUS><MMSID>35674</MMSID></RESPONSE>"),
    "subscription": (lambda b: API.parse_subscription(HttpResponse(200, b), "subscribe", 1),
                     b"<RESPONSE><STATUS>Failure</STATUS><ERRORCODE>E903</ERRORCODE></RESPONSE>"),
    "ids": (lambda b: API.parse_mms_ids(HttpResponse(200, b)),
            b"<RESPONSE><STATUS>Success</STATUS><MMSIDS>1,2</MMSIDS></RESPONSE>"),
    "link": (lambda b: API.parse_statistics_link(HttpResponse(200, b)),
             b"<RESPONSE><STATUS>Success</STATUS><URL>https://h/r.xml</URL></RESPONSE>"),
    "user": (lambda b: API.parse_create_user(HttpResponse(200, b), "pw"),
             b"<RESPONSE><STATUS>Success</STATUS><USERNAME>john</USERNAME></RESPONSE>"),
    "report": (lambda b: list(API.open_statistics(iter(b.decode("utf-8", "replace").splitlines()))[1]),
               b"<RESPONSE><SENDING_LIST>\n<TEXT id='1' to='1'>\n<ACK time='t'/></TEXT>\n</SENDING_LIST></RESPONSE>"),
    "postback": (parse_postback,
                 b"<POSTBACK><ORIGIN>SMS_MT</ORIGIN><CODE>N202</CODE><TO>1</TO><TRACKINGID>T</TRACKINGID></POSTBACK>"),
}


def _inputs(valid: bytes, rng: random.Random) -> list[bytes]:
    found = [valid[:cut] for cut in range(len(valid))]
    for _ in range(150):
        mutated = bytearray(valid)
        mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        found.append(bytes(mutated))
    found += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))) for _ in range(100)]
    return found


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_parsers_raise_only_our_errors(name: str) -> None:
    parse, valid = PARSERS[name]
    parse(valid)  # the seed document itself is read without error
    rng = random.Random(name)
    for body in _inputs(valid, rng):
        with contextlib.suppress(SmsError):
            parse(body)
