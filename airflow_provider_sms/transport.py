"""Carry a protocol's :class:`HttpRequest` to the gateway and back, with the retry policy of the error tree.

Two transports share everything except the socket library: :class:`SyncTransport` (``requests``,
used by hooks in tasks) and :class:`AsyncTransport` (``httpx``, used by triggers in the triggerer).

Retry rules (see ``exceptions.py``):

- :class:`SmsRetryableError` (5xx, connect failures, throttling, "temporarily unavailable"):
  retried with exponential back-off and jitter, honouring the gateway's ``retry_after``.
- :class:`SmsAmbiguousError` (the request went out, the answer did not come back): retried only
  when the request is replay-safe (it texts nobody, or carries a dedupe key the gateway honours).
- anything else: raised at once.

Nothing here logs a request body, a form field or a header: only method, path and status.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

from airflow_provider_sms.exceptions import (
    SmsAmbiguousError,
    SmsConfigurationError,
    SmsError,
    SmsRetryableError,
    SmsTransientError,
)
from airflow_provider_sms.gateways.http import HttpRequest, HttpResponse

__all__ = ["AsyncTransport", "RetryPolicy", "SyncTransport", "encode_request"]

log = logging.getLogger(__name__)
T = TypeVar("T")

USER_AGENT = "airflow-provider-sms"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry. ``max_attempts`` counts the first try."""

    max_attempts: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    jitter: float = 0.5  # up to +50% random extra, so many workers do not retry in step
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` starts at 1)."""
        backoff = min(self.backoff_max, self.backoff_base * 2.0 ** (attempt - 1))
        backoff *= 1 + self.jitter * self.rng.random()
        if retry_after is not None:
            backoff = max(backoff, min(float(retry_after), self.backoff_max))
        return backoff

    def next_delay(self, error: SmsError, request: HttpRequest, attempt: int) -> float | None:
        """The wait before retrying after ``error``, or None when the error must be raised."""
        if attempt >= self.max_attempts:
            return None
        if isinstance(error, SmsRetryableError):
            return self.delay(attempt, error.retry_after)
        if isinstance(error, SmsAmbiguousError) and request.replay_safe:
            return self.delay(attempt)
        return None


@dataclass(frozen=True)
class EncodedRequest:
    method: str
    url: str
    content: bytes | None
    headers: dict[str, str]
    auth: tuple[str, str] | None


def encode_request(base_url: str, request: HttpRequest) -> EncodedRequest:
    """Turn a protocol request into bytes on the wire (same for both transports)."""
    headers = {"User-Agent": USER_AGENT, **request.headers}
    content: bytes | None = None
    if request.form is not None:
        content = urlencode(list(request.form), encoding=request.charset).encode("ascii")
        headers["Content-Type"] = f"application/x-www-form-urlencoded; charset={request.charset}"
    elif request.json is not None:
        content = json.dumps(request.json, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers["Content-Type"] = "application/json"
    elif request.content is not None:
        content = request.content
    url = base_url.rstrip("/") + request.path
    if request.query:
        url = f"{url}?{urlencode(dict(request.query))}"
    auth = (request.auth.username, request.auth.password) if request.auth else None
    return EncodedRequest(request.method, url, content, headers, auth)


def _doubt(request: HttpRequest, gateway: str, why: str) -> SmsAmbiguousError:
    what = "the gateway may have accepted this send" if request.sends_message else "no complete answer"
    return SmsAmbiguousError(f"{why} on {request.method} {request.path}: {what}", gateway=gateway,
                             recipients_in_doubt=request.recipients if request.sends_message else ())


class _TransportBase:
    def __init__(self, base_url: str, *, gateway: str, timeout: float = 30.0, connect_timeout: float = 10.0,
                 retry: RetryPolicy | None = None) -> None:
        if not base_url.startswith(("http://", "https://")):
            # Not echoing the value: a pasted URL may carry user:password@.
            raise SmsConfigurationError("host must start with http:// or https://", gateway=gateway)
        self.base_url = base_url.rstrip("/")
        self.gateway = gateway
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.retry = retry or RetryPolicy()

    def _log_answer(self, request: HttpRequest, status: int, started: float) -> None:
        log.debug("%s %s -> HTTP %s in %.3fs", request.method, request.path, status, time.monotonic() - started)

    def _log_retry(self, request: HttpRequest, error: SmsError, attempt: int, wait: float) -> None:
        log.warning("%s %s failed (attempt %d/%d): %s; retrying in %.1fs", request.method, request.path,
                    attempt, self.retry.max_attempts, error, wait)


class SyncTransport(_TransportBase):
    """Blocking transport on one pooled ``requests.Session`` (one connection, as BulkSMS asks)."""

    def __init__(self, base_url: str, *, gateway: str, timeout: float = 30.0, connect_timeout: float = 10.0,
                 retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                 pool_size: int = 1) -> None:
        super().__init__(base_url, gateway=gateway, timeout=timeout, connect_timeout=connect_timeout, retry=retry)
        import requests
        from requests.adapters import HTTPAdapter

        self._sleep = sleep
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def _open(self, request: HttpRequest, *, stream: bool = False) -> Any:
        """Send once; return the ``requests.Response``; map socket errors to the error tree."""
        import requests

        wire = encode_request(self.base_url, request)
        try:
            return self.session.request(wire.method, wire.url, data=wire.content, headers=wire.headers, auth=wire.auth,
                                        timeout=(self.connect_timeout, self.timeout), stream=stream,
                                        allow_redirects=False)
        except (requests.ConnectTimeout, requests.exceptions.SSLError) as exc:
            raise SmsTransientError(f"could not connect ({type(exc).__name__})", gateway=self.gateway) from None
        except requests.ConnectionError as exc:
            if _never_sent(exc):
                raise SmsTransientError(f"could not connect ({type(exc).__name__})", gateway=self.gateway) from None
            raise _doubt(request, self.gateway, f"connection lost ({type(exc).__name__})") from None
        except (requests.ReadTimeout, requests.exceptions.ChunkedEncodingError) as exc:
            raise _doubt(request, self.gateway, f"no answer ({type(exc).__name__})") from None

    def _read(self, request: HttpRequest, started: float) -> HttpResponse:
        import requests

        raw = self._open(request)
        try:
            body = raw.content
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise _doubt(request, self.gateway, f"answer cut off ({type(exc).__name__})") from None
        self._log_answer(request, raw.status_code, started)
        return HttpResponse(raw.status_code, body, dict(raw.headers))

    def call(self, request: HttpRequest, parse: Callable[[HttpResponse], T]) -> T:
        """Send ``request`` (retrying per the policy) and return ``parse(answer)``."""
        attempt = 1
        while True:
            started = time.monotonic()
            try:
                return parse(self._read(request, started))
            except SmsError as error:
                wait = self.retry.next_delay(error, request, attempt)
                if wait is None:
                    raise
                self._log_retry(request, error, attempt, wait)
                self._sleep(wait)
                attempt += 1

    @contextmanager
    def stream_lines(self, request: HttpRequest, check: Callable[[HttpResponse], None],
                     charset: str = "utf-8") -> Iterator[Iterator[str]]:
        """Open ``request`` and yield its body as lines, never holding it whole.

        ``check`` sees the status and headers (empty body) and raises for error answers. Retries
        happen only before the first line is handed out.
        """
        attempt = 1
        while True:
            try:
                raw = self._open(request, stream=True)
                check(HttpResponse(raw.status_code, b"", dict(raw.headers)))
                break
            except SmsError as error:
                wait = self.retry.next_delay(error, request, attempt)
                if wait is None:
                    raise
                self._log_retry(request, error, attempt, wait)
                self._sleep(wait)
                attempt += 1
        try:
            yield (line.decode(charset, errors="replace") for line in raw.iter_lines(chunk_size=65536))
        finally:
            raw.close()


def _never_sent(exc: Exception) -> bool:
    """True when a ``requests.ConnectionError`` happened before the request left (refused, DNS)."""
    import urllib3.exceptions

    reason = exc.args[0] if exc.args else None
    inner = getattr(reason, "reason", reason)
    return isinstance(inner, urllib3.exceptions.NewConnectionError | urllib3.exceptions.NameResolutionError)


class AsyncTransport(_TransportBase):
    """Non-blocking transport on ``httpx.AsyncClient``, for triggers running in the triggerer's event loop."""

    def __init__(self, base_url: str, *, gateway: str, timeout: float = 30.0, connect_timeout: float = 10.0,
                 retry: RetryPolicy | None = None) -> None:
        super().__init__(base_url, gateway=gateway, timeout=timeout, connect_timeout=connect_timeout, retry=retry)

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[Any]:
        import httpx

        timeout = httpx.Timeout(self.timeout, connect=self.connect_timeout)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            yield client

    async def call(self, request: HttpRequest, parse: Callable[[HttpResponse], T]) -> T:
        """Async twin of :meth:`SyncTransport.call`."""
        import httpx

        wire = encode_request(self.base_url, request)
        attempt = 1
        async with self._client() as client:
            while True:
                started = time.monotonic()
                try:
                    try:
                        raw = await client.request(wire.method, wire.url, content=wire.content, headers=wire.headers,
                                                   auth=wire.auth)
                    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                        raise SmsTransientError(f"could not connect ({type(exc).__name__})",
                                                gateway=self.gateway) from None
                    except httpx.TransportError as exc:
                        raise _doubt(request, self.gateway, f"no answer ({type(exc).__name__})") from None
                    self._log_answer(request, raw.status_code, started)
                    return parse(HttpResponse(raw.status_code, raw.content, dict(raw.headers)))
                except SmsError as error:
                    wait = self.retry.next_delay(error, request, attempt)
                    if wait is None:
                        raise
                    self._log_retry(request, error, attempt, wait)
                    await asyncio.sleep(wait)
                    attempt += 1
