"""The transport's retry policy, against real sockets (the simulator, and a closed port)."""

from __future__ import annotations

import asyncio
import random
import socket
import threading
import time
from typing import Any

import pytest

from airflow_provider_sms.exceptions import SmsAmbiguousError, SmsRateLimitedError, SmsTransientError
from airflow_provider_sms.gateways.http import HttpRequest, HttpResponse
from airflow_provider_sms.simulator import SimulatorServer
from airflow_provider_sms.transport import AsyncTransport, RetryPolicy, SyncTransport, encode_request

HEALTH = HttpRequest("GET", "/_sim/health")


def _status(response: HttpResponse) -> int:
    if response.status >= 500:
        raise SmsTransientError(f"HTTP {response.status}")
    return response.status


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_backoff_grows_is_capped_and_honours_retry_after() -> None:
    policy = RetryPolicy(backoff_base=1, backoff_max=8, jitter=0.5, rng=random.Random(1))
    delays = [policy.delay(n) for n in range(1, 7)]
    for attempt, delay in enumerate(delays, start=1):
        base = min(8, 2 ** (attempt - 1))
        assert base <= delay <= 1.5 * base
    assert len(set(delays)) == len(delays)  # jittered
    assert policy.delay(1, retry_after=5) >= 5
    assert policy.delay(1, retry_after=500) <= 8 * 1.5


def test_which_errors_are_retried() -> None:
    policy = RetryPolicy(max_attempts=3)
    send = HttpRequest("POST", "/x", sends_message=True)
    deduped = HttpRequest("POST", "/x", sends_message=True, dedupe_key=7)
    assert policy.next_delay(SmsRateLimitedError("slow"), send, 1) is not None
    assert policy.next_delay(SmsTransientError("503"), send, 3) is None  # budget spent
    assert policy.next_delay(SmsAmbiguousError("lost"), send, 1) is None  # could text twice
    assert policy.next_delay(SmsAmbiguousError("lost"), deduped, 1) is not None
    assert policy.next_delay(SmsAmbiguousError("lost"), HEALTH, 1) is not None  # reads are safe


def test_connection_refused_is_transient_and_retried() -> None:
    waits: list[float] = []
    transport = SyncTransport(f"http://127.0.0.1:{_closed_port()}", gateway="test", sleep=waits.append,
                              retry=RetryPolicy(max_attempts=3, backoff_base=0.01))
    with pytest.raises(SmsTransientError, match="could not connect"):
        transport.call(HttpRequest("POST", "/send", sends_message=True), _status)
    assert len(waits) == 2


def test_5xx_then_success(sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.http_error(status=503, count=2)
    waits: list[float] = []
    transport = SyncTransport(sms_simulator.url, gateway="test", sleep=waits.append)
    assert transport.call(HTTP_HEALTH_EAPI, _status) == 200
    assert len(waits) == 2


HTTP_HEALTH_EAPI = HttpRequest("POST", "/eapi/user/get_credits/1/1.1", form=[("username", "demo")])


def test_read_timeout_on_a_send_is_ambiguous_and_not_resent(sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.latency(0.6, count=1)
    transport = SyncTransport(sms_simulator.url, gateway="test", timeout=0.3, sleep=lambda _: None)
    request = HttpRequest("POST", "/eapi/submission/send_sms/2/2.0", form=[("username", "demo")],
                          sends_message=True, recipients=["447700100001"])
    with pytest.raises(SmsAmbiguousError) as exc:
        transport.call(request, _status)
    assert exc.value.recipients_in_doubt == ["447700100001"]
    assert len(sms_simulator.bulksms.requests) == 1
    time.sleep(0.5)  # let the held request finish here, not in the next test's simulator state


def test_async_transport_retries_too(sms_simulator: SimulatorServer) -> None:
    sms_simulator.faults.http_error(status=502, count=1)
    transport = AsyncTransport(sms_simulator.url, gateway="test", retry=RetryPolicy(backoff_base=0.01))
    assert asyncio.run(transport.call(HTTP_HEALTH_EAPI, _status)) == 200


def test_form_encoding_uses_the_requested_charset() -> None:
    wire = encode_request("http://h", HttpRequest("POST", "/p", form=[("message", "café £5")],
                                                  charset="iso-8859-1"))
    assert wire.content == b"message=caf%E9+%A35"
    assert wire.headers["Content-Type"].endswith("charset=iso-8859-1")
    assert wire.url == "http://h/p"


class _RecordingProxy:
    """A loopback HTTP proxy that answers every request itself and records the request lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as reader:
                while line := reader.readline():
                    self.lines.append(line.decode("latin-1").strip())
                    length = 0
                    while (header := reader.readline()) not in (b"\r\n", b"\n", b""):
                        name, _, value = header.decode("latin-1").partition(":")
                        length = int(value) if name.strip().lower() == "content-length" else length
                    reader.read(length)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    def close(self) -> None:
        self._server.close()


@pytest.mark.parametrize("no_proxy", [None, "gateway.test"])
def test_proxies_from_the_environment_are_honoured(monkeypatch: pytest.MonkeyPatch, no_proxy: str | None) -> None:
    """The environment is read once, when the transport is made, and then applies to every call."""
    proxy = _RecordingProxy()
    try:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        for name in ("NO_PROXY", "no_proxy", "http_proxy"):
            monkeypatch.delenv(name, raising=False)
        if no_proxy:
            monkeypatch.setenv("NO_PROXY", no_proxy)
        transport = SyncTransport("http://gateway.test:8080", gateway="test", timeout=2.0,
                                  retry=RetryPolicy(max_attempts=1))
        monkeypatch.delenv("HTTP_PROXY")  # read already
        request = HttpRequest("GET", "/status")
        if no_proxy:
            with pytest.raises(SmsTransientError):  # straight to gateway.test, which does not resolve
                transport.call(request, _status)
            assert proxy.lines == []
        else:
            assert [transport.call(request, _status) for _ in range(3)] == [200] * 3
            assert proxy.lines == ["GET http://gateway.test:8080/status HTTP/1.1"] * 3
    finally:
        proxy.close()


def test_the_ca_bundle_from_the_environment_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    assert SyncTransport("https://gateway.test", gateway="test").session.verify == str(bundle)
