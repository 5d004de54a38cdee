"""Helpers for the simulator tests: a tiny EAPI client and a push receiver."""

from __future__ import annotations

import http.server
import threading
import urllib.parse
from typing import Any

import requests

from airflow_provider_sms.simulator.server import SimulatorServer

USERNAME = "demo"
PASSWORD = "demo-secret-pass"

SEND_SMS = "/eapi/submission/send_sms/2/2.0"
SEND_BATCH = "/eapi/submission/send_batch/1/1.0"
QUOTE_SMS = "/eapi/submission/quote_sms/2/2.0"
GET_REPORT = "/eapi/status_reports/get_report/2/2.0"
GET_CREDITS = "/eapi/user/get_credits/1/1.1"
GET_INBOX = "/eapi/reception/get_inbox/1/1.1"


class EapiClient:
    """Posts ISO-8859-1 form data, like a well-behaved EAPI client."""

    def __init__(self, server: SimulatorServer) -> None:
        self.server = server
        self.session = requests.Session()

    def post(self, path: str, *, auth: bool = True, **params: Any) -> requests.Response:
        if auth:
            params = {"username": USERNAME, "password": PASSWORD, **params}
        body = urllib.parse.urlencode({k: str(v) for k, v in params.items()}, encoding="latin-1")
        return self.session.post(
            self.server.url + path,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=10,
        )

    def call(self, path: str, **params: Any) -> str:
        answer = self.post(path, **params)
        assert answer.status_code == 200
        return answer.text

    def send(self, **params: Any) -> str:
        params.setdefault("message", "Hello")
        return self.call(SEND_SMS, **params)

    def send_ok(self, **params: Any) -> int:
        answer = self.send(**params)
        code, _, batch_id = answer.split("|")
        assert code in ("0", "1"), answer
        return int(batch_id)

    def report(self, batch_id: int, **params: Any) -> list[str]:
        return self.call(GET_REPORT, batch_id=batch_id, **params).split("\n")


class PushReceiver:
    """A loopback HTTP server recording the query parameters of every GET."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[dict[str, str]] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if receiver.fail_first > 0:
                    receiver.fail_first -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                query = urllib.parse.urlsplit(self.path).query
                receiver.received.append(dict(urllib.parse.parse_qsl(query)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/dlr?secret=abc"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
