"""A loopback HTTP server recording every POSTed callback (path, content type, body)."""

from __future__ import annotations

import http.server
import threading
from typing import Any


class PostReceiver:
    """Answers the first ``fail_first`` POSTs with ``fail_status``, then 200; records every body."""

    def __init__(self, fail_first: int = 0, fail_status: int = 500) -> None:
        self.received: list[tuple[str, str, bytes]] = []
        self.attempts = 0
        self.fail_first = fail_first
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.attempts += 1
                if receiver.fail_first > 0:
                    receiver.fail_first -= 1
                    self.send_response(fail_status)
                    self.end_headers()
                    return
                receiver.received.append((self.path, self.headers.get("Content-Type", ""), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
