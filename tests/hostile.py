"""A loopback HTTP server that misbehaves on purpose, one way per path, for the hostile-gateway tests.

Raw sockets, so it can do what a well-behaved framework will not: drip a byte at a time, promise
200 MB, send a gzip bomb, cut a chunked report part-way, or echo the request (credentials and all)
back in an error answer.
"""

from __future__ import annotations

import base64
import html
import json
import re
import socket
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import cache
from urllib.parse import quote, quote_plus

DRIP_INTERVAL = 0.05
"""Seconds between dripped bytes: far below any read timeout, so only a deadline stops the call."""

Behaviour = Callable[[socket.socket, bytes, int], None]
"""Writes the answer to ``(connection, raw request, how many times this path was asked before)``."""


@cache
def gzip_bomb(mebibytes: int = 400) -> bytes:
    """A valid single-member gzip body of ``mebibytes`` MiB of zeros (about 1 KB per MiB)."""
    block = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    # After a full flush a segment refers to nothing before it, so one segment can be repeated.
    segment = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mebibytes):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", crc, (mebibytes << 20) & 0xFFFFFFFF)
    return header + segment * mebibytes + deflate.flush() + trailer


def _drip(conn: socket.socket, data: bytes, stop: threading.Event) -> None:
    for byte in data:
        if stop.wait(DRIP_INTERVAL):
            return
        conn.sendall(bytes([byte]))


class HostileServer:
    """Serves ``behaviours[path]`` for each request; ``requests`` keeps every raw request seen."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.requests: list[bytes] = []
        self.hits: dict[str, int] = {}
        self.stop = threading.Event()
        self.behaviours: dict[str, Behaviour] = {
            "/drip-headers": self._drip_headers,
            "/drip-body": self._drip_body,
            "/huge": self._huge,
            "/bomb": self._bomb,
            "/cut-report": self._cut_report,
            "/echo": self._echo,
            "/silent": self._silent,
        }
        self._threads: list[threading.Thread] = []

    # -- behaviours --------------------------------------------------------------------------

    def _drip_headers(self, conn: socket.socket, request: bytes, seen: int) -> None:
        _drip(conn, b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000 + b"\r\n\r\n", self.stop)

    def _drip_body(self, conn: socket.socket, request: bytes, seen: int) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n")
        _drip(conn, b"1" * 10_000, self.stop)

    def _huge(self, conn: socket.socket, request: bytes, seen: int) -> None:
        size = 200 * 1024 * 1024
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % size)
        line = b"0123456789" * 6553 + b"\n"  # 64 KiB lines, so the size cap (not the line cap) is tested
        for _ in range(size // len(line)):
            if self.stop.is_set():
                return
            conn.sendall(line)

    def _bomb(self, conn: socket.socket, request: bytes, seen: int) -> None:
        body = gzip_bomb()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body) + body)

    def _cut_report(self, conn: socket.socket, request: bytes, seen: int) -> None:
        """A chunked CSV report of 100 rows; the first answer stops after row 40 without its end."""
        rows = [b"id,status\n", *(b"%d,Delivered\n" % i for i in range(1, 101))]
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n")
        for number, row in enumerate(rows):
            if seen == 0 and number == 41:
                conn.shutdown(socket.SHUT_RDWR)
                return
            conn.sendall(b"%x\r\n%s\r\n" % (len(row), row))
        conn.sendall(b"0\r\n\r\n")

    def _echo(self, conn: socket.socket, request: bytes, seen: int) -> None:
        """An error answer that repeats the request (form body first, then every header), in the
        shape of the gateway the path belongs to, as some gateways' debug modes do."""
        head, _, body = request.partition(b"\r\n\r\n")
        headers = sorted(head.decode("latin-1").split("\r\n")[1:], key=lambda h: not h.startswith("Authorization"))
        echo = "you sent " + "; ".join(headers[:1]) + " " + body.decode("latin-1") + " with " + "; ".join(headers[1:])
        path = head.split(b" ", 2)[1]
        if b"/v1/" in path:  # BulkSMS JSON: a problem document
            status, text = b"400 Bad Request", json.dumps({"title": "Bad request", "detail": echo})
        elif b"/eapi/" in path:  # BulkSMS EAPI: status line
            status, text = b"200 OK", "23|invalid credentials, " + echo + "|"
        elif b"/sms/out" in path or b"/sms/list" in path:  # Bulletin Messenger: the status line
            status, text = b"400 Bad Request", "Invalid request, " + echo
        elif b"/wxml/" in path:  # Skycore: a Failure document (the echo XML-escaped)
            status, text = b"200 OK", ("<RESPONSE><STATUS>Failure</STATUS><ERRORCODE>E102</ERRORCODE><ERRORINFO>"
                                       + html.escape(echo, quote=False) + "</ERRORINFO></RESPONSE>")
        else:  # NetMessenger: code, then the explanation
            status, text = b"200 OK", "-501\nInvalid token, " + echo
        payload = text.encode("utf-8")
        conn.sendall(b"HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n%s" % (status, len(payload), payload))

    def _silent(self, conn: socket.socket, request: bytes, seen: int) -> None:
        """Takes the request and never answers."""
        self.stop.wait()

    # -- plumbing ----------------------------------------------------------------------------

    def _read_request(self, conn: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body

    def _serve(self, conn: socket.socket) -> None:
        with conn, suppress(OSError):
            request = self._read_request(conn)
            self.requests.append(request)
            path = request.split(b" ", 2)[1].decode("latin-1").split("?")[0] if request.count(b" ") >= 2 else ""
            # The longest behaviour path that starts the request path: "/echo" serves "/echo/v1/messages".
            name = max((p for p in self.behaviours if path == p or path.startswith(p + "/")), key=len, default="")
            seen = self.hits.get(name, 0)
            self.hits[name] = seen + 1
            behaviour = self.behaviours.get(name)
            if behaviour is None:
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            else:
                behaviour(conn, request, seen)

    def _accept(self) -> None:
        self._listener.settimeout(0.05)  # so close() is noticed
        while not self.stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def start(self) -> HostileServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def close(self) -> None:
        self.stop.set()
        with suppress(OSError):
            self._listener.close()
        for thread in self._threads:
            thread.join(timeout=2)


@contextmanager
def hostile_server() -> Iterator[HostileServer]:
    server = HostileServer().start()
    try:
        yield server
    finally:
        server.close()


def wire_forms(user: str, secret: str) -> dict[str, str]:
    """How requests, httpx and urlencode put ``secret`` on the wire, and how an echo may show it
    (derived here independently of the provider's own list)."""
    forms = {
        "raw": secret,
        "quote": quote(secret, safe=""),
        "quote keeping /": quote(secret),
        "quote_plus": quote_plus(secret),
        "quote_plus lower-case hex": re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote_plus(secret)),
        "json": json.dumps(secret)[1:-1],
        "json unicode": json.dumps(secret, ensure_ascii=False)[1:-1],
        "xml text": html.escape(secret, quote=False),
        "utf-8 read as latin-1": secret.encode().decode("latin-1"),
        "xml text, utf-8 read as latin-1": html.escape(secret.encode().decode("latin-1"), quote=False),
        "basic utf-8": base64.b64encode(f"{user}:{secret}".encode()).decode(),
    }
    with suppress(UnicodeEncodeError):  # only secrets that ISO-8859-1 can carry go out in it
        forms["quote_plus latin-1"] = quote_plus(secret, encoding="iso-8859-1")
        forms["basic latin-1"] = base64.b64encode(f"{user}:{secret}".encode("iso-8859-1")).decode()
    return forms
