"""The overall deadline of blocking calls: one alarm thread for every call, sockets shut on time."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from airflow_provider_sms import deadline
from airflow_provider_sms.deadline import Watchdog


def _blocked_read(watchdog: Watchdog) -> tuple[float, socket.socket]:
    """Block on a socket the watchdog watches; return how long the read was blocked."""
    reader, writer = socket.socketpair()
    watchdog.watch(reader)
    started = time.monotonic()
    try:
        assert reader.recv(1) == b""  # woken by the shutdown, not by data
    finally:
        writer.close()
    return time.monotonic() - started, reader


def test_a_call_past_its_deadline_has_its_socket_shut_and_is_marked_expired() -> None:
    with Watchdog(0.3) as watchdog:
        blocked, reader = _blocked_read(watchdog)
    reader.close()
    assert watchdog.expired
    assert 0.2 <= blocked < 2.0


def test_a_shorter_deadline_armed_after_a_longer_one_still_fires_on_time() -> None:
    with Watchdog(60) as long_call, Watchdog(0.2) as short_call:
        blocked, reader = _blocked_read(short_call)
    reader.close()
    assert short_call.expired and not long_call.expired
    assert blocked < 2.0


def test_a_call_that_ended_in_time_is_never_fired_on() -> None:
    with Watchdog(0.1) as watchdog:
        pass
    reader, writer = socket.socketpair()
    watchdog.watch(reader)
    time.sleep(0.4)
    writer.send(b"x")
    assert reader.recv(1) == b"x"  # still open: the disarmed watchdog did nothing
    assert not watchdog.expired
    reader.close()
    writer.close()


def test_many_calls_share_one_alarm_thread_and_leave_nothing_behind() -> None:
    def calls() -> None:
        for _ in range(500):
            with Watchdog(120):
                pass

    workers = [threading.Thread(target=calls) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert [t.name for t in threading.enumerate()].count("sms-deadline") == 1
    # 2,000 disarmed calls with two minutes left each: pruned as they go, not kept until they are due.
    assert len(deadline._alarm._due) <= 200


def test_a_failure_while_firing_one_call_leaves_the_alarm_working_for_the_others(
        monkeypatch: pytest.MonkeyPatch) -> None:
    broken = Watchdog(0.05)

    def fail() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(broken, "fire", fail)
    with broken:
        time.sleep(0.2)
    with Watchdog(0.2) as watchdog:
        blocked, reader = _blocked_read(watchdog)
    reader.close()
    assert watchdog.expired and blocked < 2.0


def test_a_deadline_reached_as_the_call_ends_leaves_its_sockets_to_the_next_call() -> None:
    # The alarm may pick a watchdog just before its call ends; firing it then must not shut a
    # kept-alive connection that the next call is about to use.
    reader, writer = socket.socketpair()
    with Watchdog(60) as watchdog:
        watchdog.watch(reader)
    watchdog.fire()
    writer.send(b"x")
    assert reader.recv(1) == b"x"
    assert not watchdog.expired
    reader.close()
    writer.close()


def test_a_deadline_passing_after_the_body_was_read_leaves_the_pooled_connection_to_the_next_call() -> None:
    # urllib3 puts a kept-alive connection back in the pool inside the last read of a body, before
    # the call ends. Another thread's call may take it at once; the first call's deadline passing
    # then must not shut it (that call would lose its answer: a healthy send left "in doubt").
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import requests

    from airflow_provider_sms.deadline import DeadlineAdapter

    class Answer(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path == "/slow":
                time.sleep(1.0)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    session = requests.Session()
    session.mount("http://", DeadlineAdapter(pool_connections=1, pool_maxsize=1, max_retries=0))
    handed_back = threading.Event()
    outcome: dict[str, object] = {}

    def next_call() -> None:
        handed_back.wait()
        with Watchdog(60) as watchdog:
            try:
                with watchdog.registering():
                    answer = session.get(url + "/slow", stream=True, timeout=(5, 5))
                outcome["next"] = answer.raw.read()
            except requests.RequestException as error:
                outcome["next"] = error

    other = threading.Thread(target=next_call)
    other.start()
    try:
        with Watchdog(0.3) as first:
            with first.registering():
                answer = session.get(url + "/fast", stream=True, timeout=(5, 5))
            answer.raw.read()  # the connection goes back to the pool here
            handed_back.set()  # ... and the next call takes it
            time.sleep(0.6)  # the first call's deadline passes before it ends
            answer.close()
        other.join(10)
    finally:
        server.shutdown()
        session.close()
    assert first.expired
    assert outcome["next"] == b"ok"


def test_a_deadline_too_far_to_wait_for_leaves_the_alarm_working() -> None:
    with Watchdog(float("inf")), Watchdog(1e12):
        time.sleep(0.05)  # the alarm sleeps towards them (capped), it does not die
        with Watchdog(0.2) as watchdog:
            blocked, reader = _blocked_read(watchdog)
    reader.close()
    assert watchdog.expired and blocked < 2.0
