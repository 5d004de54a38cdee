"""Pieces of the simulator that need no server: clock, CSV, text arithmetic, gateway registry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
import requests
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from airflow_provider_sms.simulator import SimulatorConfig
from airflow_provider_sms.simulator.bulksms.batch_csv import parse_batch_data
from airflow_provider_sms.simulator.bulksms.gateway import BulkSmsGateway
from airflow_provider_sms.simulator.bulksms.json_api import json_status
from airflow_provider_sms.simulator.bulksms.text import (
    binary_parts,
    decode_hex,
    gsm_length,
    is_gsm,
    normalize_msisdn,
    text_parts,
    unicode_parts,
)
from airflow_provider_sms.simulator.clock import VirtualClock
from airflow_provider_sms.simulator.core import Simulator
from airflow_provider_sms.simulator.server import SimulatorServer


def test_clock_is_real_time_plus_offset_and_runs_listeners() -> None:
    ticks = [1000.0]
    clock = VirtualClock(wall=lambda: 5000.0, monotonic=lambda: ticks[0])
    calls: list[float] = []
    clock.add_listener(lambda: calls.append(clock.now()))
    assert clock.now() == 5000.0
    ticks[0] += 2
    assert clock.advance(10) == 5012.0
    assert calls == [5012.0]
    with pytest.raises(ValueError):
        clock.advance(-1)
    clock.reset()
    assert (clock.offset, clock.now()) == (0.0, 5002.0)


def test_batch_csv_parser() -> None:
    header, rows, skipped = parse_batch_data('MSISDN, Message\r\n"1",  "a,b"  \r\n2,c\n"bad\n"3","x\\\\y"')
    assert header == ["msisdn", "message"]
    assert rows == [["1", "a,b"], ["2", "c"], ["3", "x\\y"]]
    assert skipped == 1
    assert parse_batch_data("") == ([], [], 0)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("447700900001", "447700900001"), (" +447700900001 ", "447700900001"), ("123456", None), ("44-77", None)],
)
def test_normalize_msisdn(raw: str, expected: str | None) -> None:
    assert normalize_msisdn(raw) == expected


def test_text_arithmetic() -> None:
    assert gsm_length("a€[") == 5
    assert (text_parts("a" * 160), text_parts("a" * 161), text_parts("a" * 306), text_parts("a" * 307)) == (1, 2, 2, 3)
    assert (unicode_parts("ж" * 70), unicode_parts("ж" * 71)) == (1, 2)
    assert (binary_parts(140), binary_parts(141)) == (1, 2)
    assert is_gsm("Hello €")
    assert not is_gsm("Привет")
    assert decode_hex("0aFF") == b"\n\xff"
    assert decode_hex("abc") is None
    assert decode_hex("") is None


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (None, ("SCHEDULED", None)),
        (0, ("ACCEPTED", None)),
        (10, ("SENT", None)),
        (11, ("DELIVERED", None)),
        (53, ("FAILED", "EXPIRED")),
        (57, ("FAILED", "HANDSET_ERROR")),
        (55, ("FAILED", "BLOCKED")),
        (52, ("FAILED", "NOT_SENT")),
        (70, ("UNKNOWN", None)),
    ],
)
def test_json_status_mapping(code: int | None, expected: tuple[str, str | None]) -> None:
    assert json_status(code) == expected


class EchoGateway:
    """A second gateway, to show how NetMessenger, Skycore and Bulletin Messenger will plug in."""

    name: str = "echo"
    prefixes: tuple[str, ...] = ("/echo",)

    def __init__(self, config: SimulatorConfig, clock: VirtualClock) -> None:
        self.seen: list[tuple[str, str]] = []
        self.ticks = 0

    def routes(self) -> Sequence[BaseRoute]:
        async def ping(request: Request) -> Response:
            return PlainTextResponse("pong")

        return [Route("/echo/ping", ping)]

    def control_routes(self) -> Sequence[BaseRoute]:
        async def seen(request: Request) -> Response:
            return PlainTextResponse(str(len(self.seen)))

        return [Route("/seen", seen)]

    def throttled_response(self, path: str) -> Response:
        return PlainTextResponse("slow down", status_code=429)

    def note_request(self, method: str, path: str) -> None:
        self.seen.append((method, path))

    def tick(self, *, wait: bool) -> None:
        self.ticks += 1

    def reset(self, config: SimulatorConfig) -> None:
        self.seen.clear()

    def describe(self) -> dict[str, Any]:
        return {"pings": len(self.seen)}

    def close(self) -> None:
        pass


def test_a_second_gateway_shares_the_app_clock_and_faults() -> None:
    with SimulatorServer(gateways=[BulkSmsGateway, EchoGateway]) as server:
        echo = server.simulator.gateways["echo"]
        assert isinstance(echo, EchoGateway)
        assert requests.get(server.url + "/echo/ping", timeout=10).text == "pong"
        server.faults.throttle(only="/echo")
        assert requests.get(server.url + "/echo/ping", timeout=10).status_code == 429
        assert requests.get(server.url + "/_sim/echo/seen", timeout=10).text == "2"
        server.clock.advance(1)
        assert echo.ticks >= 1
        assert requests.get(server.url + "/_sim/health", timeout=10).json()["gateways"]["echo"] == {"pings": 2}
        server.reset()
        assert echo.seen == []
    with pytest.raises(RuntimeError):
        server.start()


def test_gateway_prefixes_and_names_must_not_clash() -> None:
    class Clash(EchoGateway):
        name: str = "clash"
        prefixes: tuple[str, ...] = ("/eapi",)

    class Reserved(EchoGateway):
        prefixes: tuple[str, ...] = ("/_sim/x",)

    with pytest.raises(ValueError, match="both claim"):
        Simulator(gateway_factories=[BulkSmsGateway, Clash])
    with pytest.raises(ValueError, match="named"):
        Simulator(gateway_factories=[EchoGateway, EchoGateway])
    with pytest.raises(ValueError, match="reserved"):
        Simulator(gateway_factories=[Reserved])
