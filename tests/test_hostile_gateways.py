"""A gateway that drips, floods, bombs or cuts its answer costs a bounded time and memory and gives a typed error.

Each test runs against :mod:`tests.hostile` (real loopback sockets). Times are bounded by the
deadline setting (a fraction of a second here), not by sleeping; memory by ``tracemalloc`` peaks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_sms.bounded import AnswerLimits
from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.exceptions import SmsAmbiguousError, SmsError, SmsGatewayError
from airflow_provider_sms.gateways.http import HttpRequest, HttpResponse
from airflow_provider_sms.transport import AsyncTransport, RetryPolicy, SyncTransport
from tests.hostile import HostileServer, gzip_bomb, hostile_server

DEADLINE = 0.5
LIMITS = AnswerLimits(deadline=DEADLINE, max_answer_bytes=1024 * 1024, report_deadline=DEADLINE,
                      max_line_bytes=4096)
MEMORY_BOUND = 12 * 1024 * 1024  # the 1 MiB cap plus buffers; an unbounded read costs 200-400 MiB


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    gzip_bomb()  # built once, outside the timed calls
    with hostile_server() as running:
        yield running


def _body(response: HttpResponse) -> bytes:
    return response.body


def _sync(server: HostileServer, limits: AnswerLimits = LIMITS, **kwargs: Any) -> SyncTransport:
    return SyncTransport(server.url, gateway="test", timeout=5.0, limits=limits,
                         retry=RetryPolicy(max_attempts=3, backoff_base=0.01), **kwargs)


def _async(server: HostileServer, limits: AnswerLimits = LIMITS) -> AsyncTransport:
    return AsyncTransport(server.url, gateway="test", timeout=5.0, limits=limits,
                          retry=RetryPolicy(max_attempts=3, backoff_base=0.01))


def _bounded(call: Callable[[], Any]) -> tuple[SmsError, float, int]:
    """Run ``call``, which must raise an SmsError; return it with the time taken and the peak memory."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(SmsError) as raised:
            call()
        return raised.value, time.monotonic() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


READ = HttpRequest("GET", "/drip-headers")
SEND = HttpRequest("POST", "/drip-headers", form=[("to", "447700100001")], sends_message=True,
                   recipients=["447700100001"])


@pytest.mark.parametrize("path", ["/drip-headers", "/drip-body"])
@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_dripping_answer_stops_at_the_deadline(server: HostileServer, path: str, flavour: str) -> None:
    request = HttpRequest("GET", path)
    if flavour == "sync":
        error, took, _ = _bounded(lambda: _sync(server).call(request, _body))
    else:
        error, took, _ = _bounded(lambda: asyncio.run(_async(server).call(request, _body)))
    assert isinstance(error, SmsAmbiguousError)
    assert "deadline" in str(error)
    assert DEADLINE <= took < DEADLINE + 1.0  # each byte came well within the 5 s read timeout


def test_a_dripping_send_is_in_doubt_and_not_resent(server: HostileServer) -> None:
    before = server.hits.get("/drip-headers", 0)
    error, took, _ = _bounded(lambda: _sync(server).call(SEND, _body))
    assert isinstance(error, SmsAmbiguousError)
    assert error.recipients_in_doubt == ["447700100001"]
    assert took < DEADLINE + 1.0
    assert server.hits["/drip-headers"] == before + 1


@pytest.mark.parametrize("path", ["/huge", "/bomb"])
@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_an_oversized_answer_is_refused_with_bounded_memory(server: HostileServer, path: str, flavour: str) -> None:
    request = HttpRequest("GET", path)
    # The size cap is under test, not the deadline: a loaded machine must not reach the deadline first.
    roomy = dataclasses.replace(LIMITS, deadline=30.0)
    if flavour == "sync":
        error, took, peak = _bounded(lambda: _sync(server, roomy).call(request, _body))
    else:
        error, took, peak = _bounded(lambda: asyncio.run(_async(server, roomy).call(request, _body)))
    assert isinstance(error, SmsGatewayError)  # a read: not worth re-reading
    assert "larger than 1048576 bytes" in str(error)
    assert peak < MEMORY_BOUND, f"peak {peak / 2**20:.0f} MiB"
    assert took < 10.0  # stops at the cap: reading everything would take far longer


def test_an_oversized_send_answer_leaves_the_recipients_in_doubt(server: HostileServer) -> None:
    send = HttpRequest("POST", "/bomb", form=[("to", "447700100001")], sends_message=True,
                       recipients=["447700100001"])
    error, _, peak = _bounded(lambda: _sync(server).call(send, _body))
    assert isinstance(error, SmsAmbiguousError)
    assert error.recipients_in_doubt == ["447700100001"]
    assert peak < MEMORY_BOUND


def test_a_streamed_report_of_huge_lines_is_refused_with_bounded_memory(server: HostileServer) -> None:
    def read() -> None:
        with _sync(server).stream_lines(HttpRequest("GET", "/huge"), lambda _: None) as lines:
            for _ in lines:
                pass

    error, took, peak = _bounded(read)
    assert isinstance(error, SmsGatewayError)
    assert "line longer than 4096 bytes" in str(error)
    assert peak < MEMORY_BOUND
    assert took < 2.0


def test_a_streamed_gzip_bomb_stops_at_the_report_deadline_with_bounded_memory(server: HostileServer) -> None:
    # 400 MiB of zeros is one endless line: the line cap stops it long before the deadline.
    def read() -> None:
        with _sync(server).stream_lines(HttpRequest("GET", "/bomb"), lambda _: None) as lines:
            for _ in lines:
                pass

    error, took, peak = _bounded(read)
    assert isinstance(error, SmsGatewayError)
    assert peak < MEMORY_BOUND
    assert took < DEADLINE + 1.0


def test_a_report_cut_mid_stream_is_read_again_without_repeating_rows(server: HostileServer) -> None:
    server.hits.pop("/cut-report", None)
    with _sync(server).stream_lines(HttpRequest("GET", "/cut-report"), lambda _: None) as lines:
        rows = list(lines)
    assert server.hits["/cut-report"] == 2
    assert rows == ["id,status", *(f"{i},Delivered" for i in range(1, 101))]


def test_a_report_cut_every_time_ends_in_a_typed_error(server: HostileServer) -> None:
    server.behaviours["/always-cut"] = lambda conn, request, seen: server.behaviours["/cut-report"](conn, request, 0)
    with pytest.raises(SmsAmbiguousError, match="cut off"), \
            _sync(server).stream_lines(HttpRequest("GET", "/always-cut"), lambda _: None) as lines:
        list(lines)
    assert server.hits["/always-cut"] == 3  # every attempt of the policy


def test_a_silent_gateway_costs_the_deadline_not_the_read_timeout_times_the_retries(server: HostileServer) -> None:
    transport = SyncTransport(server.url, gateway="test", timeout=0.3, limits=AnswerLimits(deadline=1.0),
                              retry=RetryPolicy(max_attempts=10, backoff_base=0.01))
    error, took, _ = _bounded(lambda: transport.call(HttpRequest("GET", "/silent"), _body))
    assert isinstance(error, SmsAmbiguousError)
    assert took < 1.5  # 10 attempts of 0.3 s would take 3 s


def test_async_a_cut_answer_to_a_read_is_read_again(server: HostileServer) -> None:
    server.hits.pop("/cut-report", None)
    body = asyncio.run(_async(server).call(HttpRequest("GET", "/cut-report"), _body))
    assert server.hits["/cut-report"] == 2
    assert body.decode().splitlines()[-1] == "100,Delivered"


# One read and one send per gateway, through its hook (every gateway's calls go through the transport).
HOOK_CALLS: dict[str, dict[str, Callable[[Any], Any]]] = {
    "bulksms": {"read": lambda hook: hook.get_credits()},
    "netmessenger": {"read": lambda hook: hook.get_credits()},
    "bulletin_messenger": {"read": lambda hook: list(hook.iter_status_updates(limit=1))},
    "skycore": {"read": lambda hook: hook.subscribe("447700100001", "1116")},
}
for _calls in HOOK_CALLS.values():
    _calls["send"] = lambda hook: hook.send(OutgoingMessage("Hi", numbers=["447700100001"], sender="Alerts"))


@pytest.mark.parametrize("kind", ["read", "send"])
@pytest.mark.parametrize("path", ["/drip-headers", "/drip-body", "/bomb", "/huge"])
@pytest.mark.parametrize("conn_type", list(HOOK_CALLS))
def test_every_gateways_hook_calls_are_bounded_in_time_and_memory(
        server: HostileServer, monkeypatch: pytest.MonkeyPatch, conn_type: str, path: str, kind: str) -> None:
    import json

    from airflow_provider_sms.hooks.base import get_sms_hook

    monkeypatch.setenv("AIRFLOW_CONN_HOSTILE", json.dumps({
        "conn_type": conn_type, "host": server.url + path, "login": "u", "password": "pw-123456",
        "extra": {"deadline": DEADLINE, "timeout": 30, "retries": 5, "max_answer_bytes": 1024 * 1024,
                  "default_region": "GB", "short_code": "60856"}}))  # Skycore's sender
    hook = get_sms_hook("hostile")
    error, took, peak = _bounded(lambda: HOOK_CALLS[conn_type][kind](hook))
    if path.startswith("/drip"):
        assert isinstance(error, SmsAmbiguousError) and "deadline" in str(error)
    if kind == "send":  # whatever went wrong, a send is never called refused when it may have gone out
        assert isinstance(error, SmsAmbiguousError) and error.recipients_in_doubt == ["447700100001"]
    assert took < DEADLINE + 1.0 and peak < MEMORY_BOUND, (took, peak / 2**20)
