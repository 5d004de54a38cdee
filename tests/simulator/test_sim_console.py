"""The console command."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests

from airflow_provider_sms.simulator.__main__ import main


def test_main_in_a_thread_serves_until_stopped() -> None:
    stop = threading.Event()
    out = io.StringIO()
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(main(["--port", "0"], stop=stop, out=out)))
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while "Press Ctrl-C" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        first_line = out.getvalue().splitlines()[0]
        url = first_line.rsplit(" ", 1)[1]
        assert url.startswith("http://127.0.0.1:")
        assert "demo / demo-secret-pass" in out.getvalue()
        # Every gateway's demo credentials, so a connection can be made from the banner alone.
        assert "user id demo, password bm-demo-pass" in out.getvalue()
        assert "API key sky-demo-key-0001" in out.getvalue()
        assert requests.get(url + "/_sim/health", timeout=10).json()["status"] == "ok"
    finally:  # a failed check must not leave the server thread holding up the test run
        stop.set()
        thread.join(10)
    assert result == [0]


def test_main_refuses_non_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--host", "0.0.0.0", "--port", "0"]) == 2
    assert "loopback" in capsys.readouterr().err


def test_module_runs_and_stops_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_sms.simulator", "--port", "0", "--delivery-delay", "1"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip().rsplit(" ", 1)[1]
        health = requests.get(url + "/_sim/health", timeout=10).json()
        assert health["delivery_delay"] == 1.0
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_credit_and_background_send_options_reach_the_gateways() -> None:
    stop = threading.Event()
    out = io.StringIO()
    argv = ["--port", "0", "--credits", "20000", "--background-delay", "2", "--background-threshold", "50"]
    thread = threading.Thread(target=lambda: main(argv, stop=stop, out=out))
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while "Press Ctrl-C" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        url = out.getvalue().splitlines()[0].rsplit(" ", 1)[1]
        gateways = requests.get(url + "/_sim/health", timeout=10).json()["gateways"]
        assert gateways["bulksms"]["accounts"][0]["credits"] == 20000
        assert gateways["netmessenger"]["accounts"][0]["credits"] == 20000
        netmessenger = gateways["netmessenger"]
        assert (netmessenger["background_delay"], netmessenger["background_threshold"]) == (2, 50)
        assert "background sends: above 50 members, 2 virtual s" in out.getvalue()
    finally:
        stop.set()
        thread.join(10)
    separate = io.StringIO()
    stop2 = threading.Event()
    stop2.set()  # serves once, prints the banner, stops
    assert main(["--port", "0", "--netmessenger-credits", "7"], stop=stop2, out=separate) == 0
    assert "nm-demo-token-0001, 7 credits" in separate.getvalue()


def test_account_settings_configure_callbacks_and_refuse_unknown_fields(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", "0", "--account-settings", '{"skycore": {"postback_uri": "http://x"}}']) == 2
    assert "postback_uri" in capsys.readouterr().err
    stop = threading.Event()
    out = io.StringIO()
    settings = '{"skycore": {"postback_url": "http://127.0.0.1:9/p"}, "bulksms": {"webhook_url": "http://127.0.0.1:9/w"}}'
    thread = threading.Thread(target=main, args=(["--port", "0", "--account-settings", settings],),
                              kwargs={"stop": stop, "out": out})
    thread.start()
    deadline = time.monotonic() + 10
    while "Press Ctrl-C" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    url = out.getvalue().splitlines()[0].rsplit(" ", 1)[1]
    requests.post(url + "/_sim/skycore/reply", json={"number": "12025550101", "text": "hi"}, timeout=10)
    requests.post(url + "/_sim/advance?seconds=0", timeout=10)
    [postback] = requests.get(url + "/_sim/skycore/postbacks", timeout=10).json()
    stop.set()
    thread.join(10)
    assert (postback["code"], postback["path"], postback["attempts"], postback["delivered"]) == ("N211", "/p", 1, False)
