"""Carry a protocol's :class:`HttpRequest` to the gateway and back, with the retry policy of the error tree.

Two transports share everything except the socket library: :class:`SyncTransport` (``requests``,
used by hooks in tasks) and :class:`AsyncTransport` (``httpx``, used by triggers in the triggerer).

Retry rules (see ``exceptions.py``):

- :class:`SmsRetryableError` (5xx, connect failures, throttling, "temporarily unavailable"):
  retried with exponential back-off and jitter, honouring the gateway's ``retry_after``.
- :class:`SmsAmbiguousError` (the request went out, the answer did not come back): retried only
  when the request is replay-safe (it texts nobody, or carries a dedupe key the gateway honours).
- anything else: raised at once.

Limits (see :mod:`.bounded`): every call has an overall deadline (connect, send, the whole
answer, retries and their waits) and a cap on the answer's decompressed size; streamed reports
have their own deadline and a cap on line length. A stream cut part-way is re-read (it is a
read) and the lines already handed out are skipped. Whatever the socket library raises comes out
as the error tree's types.

Nothing here logs a request body, a form field or a header: only method, path and status.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlencode

from airflow_provider_sms.bounded import (
    ACCEPT_ENCODING,
    AnswerLimits,
    AnswerTooLarge,
    BodyDecoder,
    CappedBody,
    LineSplitter,
    UndecodableAnswer,
    split_block,
)
from airflow_provider_sms.exceptions import (
    SmsAmbiguousError,
    SmsConfigurationError,
    SmsError,
    SmsGatewayError,
    SmsRateLimitedError,
    SmsRetryableError,
    SmsTransientError,
)
from airflow_provider_sms.gateways.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from airflow_provider_sms.deadline import Watchdog
    from airflow_provider_sms.pacing import Pacer

__all__ = ["AnswerLimits", "AsyncTransport", "RetryPolicy", "SyncTransport", "encode_request"]

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


_FORM_UNSAFE = re.compile(rb"[^A-Za-z0-9_.\-~ ]")
_FORM_SAFE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~ "


def _quote_plus(value: Any, charset: str) -> bytes:
    """``urllib.parse.quote_plus(value, safe="", encoding=charset)``, as bytes, with the escaping
    done by one regular-expression pass in C: the stdlib escapes byte by byte in Python, which
    costs more than everything else in building a 5,000-number send or a contact upload."""
    raw = value if isinstance(value, bytes) else str(value).encode(charset)
    # The distinct unsafe bytes: what is left once the safe ones are deleted (a C pass; a
    # findall makes one object per comma of a 5,000-contact upload).
    unsafe = {bytes((byte,)) for byte in set(raw.translate(None, _FORM_SAFE))}
    if len(unsafe) > 8:  # text with many distinct special characters: escape match by match
        return _FORM_UNSAFE.sub(lambda m: b"%%%02X" % m[0][0], raw).replace(b" ", b"+")
    if b"%" in unsafe:  # first: the escapes below bring their own "%"
        raw = raw.replace(b"%", b"%25")
        unsafe.discard(b"%")
    for byte in unsafe:  # a few distinct ones (the commas of a number list): one C pass each
        raw = raw.replace(byte, b"%%%02X" % byte[0])
    return raw.replace(b" ", b"+")


def form_encode(pairs: Iterable[tuple[Any, Any]], charset: str = "utf-8") -> bytes:
    """``urlencode(list(pairs), encoding=charset)`` as ASCII bytes: the same output, faster."""
    return b"&".join(_quote_plus(k, charset) + b"=" + _quote_plus(v, charset) for k, v in pairs)


def encode_request(base_url: str, request: HttpRequest) -> EncodedRequest:
    """Turn a protocol request into bytes on the wire (same for both transports)."""
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING, **request.headers}
    content: bytes | None = None
    if request.form is not None:
        content = form_encode(request.form, request.charset)
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


_CHUNK = 65_536


class _TransportBase:
    def __init__(self, base_url: str, *, gateway: str, timeout: float = 30.0, connect_timeout: float = 10.0,
                 retry: RetryPolicy | None = None, limits: AnswerLimits | None = None) -> None:
        if not base_url.startswith(("http://", "https://")):
            # Not echoing the value: a pasted URL may carry user:password@.
            raise SmsConfigurationError("host must start with http:// or https://", gateway=gateway)
        self.base_url = base_url.rstrip("/")
        self.gateway = gateway
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.retry = retry or RetryPolicy()
        self.limits = limits or AnswerLimits()

    def _log_answer(self, request: HttpRequest, status: int, started: float) -> None:
        log.debug("%s %s -> HTTP %s in %.3fs", request.method, request.path, status, time.monotonic() - started)

    def _log_retry(self, request: HttpRequest, error: SmsError, attempt: int, wait: float) -> None:
        log.warning("%s %s failed (attempt %d/%d): %s; retrying in %.1fs", request.method, request.path,
                    attempt, self.retry.max_attempts, error, wait)

    def _next_wait(self, error: SmsError, request: HttpRequest, attempt: int, ends: float) -> float | None:
        """The wait before the next attempt, or None: no retry per the policy, or no time left before ``ends``."""
        wait = self.retry.next_delay(error, request, attempt)
        if wait is None or time.monotonic() + wait >= ends:
            return None
        self._log_retry(request, error, attempt, wait)
        return wait

    def _late(self, request: HttpRequest, seconds: float) -> SmsAmbiguousError:
        return _doubt(request, self.gateway, f"no complete answer within the {seconds:g} s deadline")

    def _unusable(self, request: HttpRequest, error: AnswerTooLarge | UndecodableAnswer) -> SmsError:
        """An answer too large or undecodable: in doubt after a send; a gateway fault otherwise
        (re-reading would bring the same answer)."""
        what = error.what if isinstance(error, AnswerTooLarge) else str(error)
        if request.sends_message:
            return _doubt(request, self.gateway, f"unreadable answer ({what})")
        return SmsGatewayError(f"{request.method} {request.path} answered {what}", gateway=self.gateway)


class SyncTransport(_TransportBase):
    """Blocking transport on one pooled ``requests.Session`` (one connection, as BulkSMS asks).

    ``pool_size`` connections are kept for requests in flight at once (from several threads);
    a ``pacer`` gives every call its turn (rate limit) and makes a throttling answer hold every
    caller, not only the one refused (see :mod:`airflow_provider_sms.pacing`).
    """

    def __init__(self, base_url: str, *, gateway: str, timeout: float = 30.0, connect_timeout: float = 10.0,
                 retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                 pool_size: int = 1, limits: AnswerLimits | None = None, pacer: Pacer | None = None) -> None:
        super().__init__(base_url, gateway=gateway, timeout=timeout, connect_timeout=connect_timeout, retry=retry,
                         limits=limits)
        import requests

        from airflow_provider_sms.deadline import DeadlineAdapter

        self._sleep = sleep
        self.pacer = pacer
        self.session = requests.Session()
        # The environment's proxies (HTTP(S)_PROXY, NO_PROXY) and CA bundle (REQUESTS_CA_BUNDLE), read
        # once for the gateway's address: requests otherwise reads the whole environment, twice, and
        # looks for a ~/.netrc on every call (a cost per number at NetMessenger's 200 numbers a call).
        # A ~/.netrc is not read at all: the connection holds the gateway's credentials.
        settings = self.session.merge_environment_settings(base_url, {}, None, None, None)
        self.session.trust_env = False
        self.session.proxies = settings["proxies"]
        self.session.verify = settings["verify"]
        adapter = DeadlineAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def _open(self, request: HttpRequest, watchdog: Watchdog) -> Any:
        """Send once and read the headers; return the streaming ``requests.Response``; map socket errors."""
        import requests

        wire = encode_request(self.base_url, request)
        try:
            with watchdog.registering():
                return self.session.request(wire.method, wire.url, data=wire.content, headers=wire.headers,
                                            auth=wire.auth, timeout=(self.connect_timeout, self.timeout),
                                            stream=True, allow_redirects=False)
        except (requests.ConnectTimeout, requests.exceptions.SSLError) as exc:
            if watchdog.expired:
                raise self._late(request, watchdog.seconds) from None
            raise SmsTransientError(f"could not connect ({type(exc).__name__})", gateway=self.gateway) from None
        except requests.ConnectionError as exc:
            if watchdog.expired:
                raise self._late(request, watchdog.seconds) from None
            if _never_sent(exc):
                raise SmsTransientError(f"could not connect ({type(exc).__name__})", gateway=self.gateway) from None
            raise _doubt(request, self.gateway, f"connection lost ({type(exc).__name__})") from None
        except (requests.RequestException, OSError) as exc:
            if watchdog.expired:
                raise self._late(request, watchdog.seconds) from None
            raise _doubt(request, self.gateway, f"no answer ({type(exc).__name__})") from None

    def _pieces(self, raw: Any, request: HttpRequest, watchdog: Watchdog) -> Iterator[bytes]:
        """The decoded body of ``raw`` in bounded pieces; every failure as the error tree's types."""
        import http.client

        import requests
        import urllib3.exceptions

        try:
            decoder = BodyDecoder(raw.headers.get("Content-Encoding"))
            for chunk in raw.raw.stream(_CHUNK, decode_content=False):
                yield from decoder.feed(chunk)
        except UndecodableAnswer as exc:
            raise self._unusable(request, exc) from None
        except (urllib3.exceptions.HTTPError, requests.RequestException, http.client.HTTPException,
                OSError) as exc:
            if watchdog.expired:
                raise self._late(request, watchdog.seconds) from None
            raise _doubt(request, self.gateway, f"answer cut off ({type(exc).__name__})") from None

    def _exchange(self, request: HttpRequest, ends: float) -> HttpResponse:
        from airflow_provider_sms.deadline import Watchdog

        started = time.monotonic()
        with Watchdog(ends - started) as watchdog:
            raw = self._open(request, watchdog)
            try:
                body = CappedBody(self.limits.max_answer_bytes)
                for piece in self._pieces(raw, request, watchdog):
                    body.add(piece)
            except AnswerTooLarge as exc:
                raise self._unusable(request, exc) from None
            finally:
                raw.close()
        self._log_answer(request, raw.status_code, started)
        return HttpResponse(raw.status_code, body.value(), dict(raw.headers))

    def call(self, request: HttpRequest, parse: Callable[[HttpResponse], T]) -> T:
        """Send ``request`` (retrying per the policy, within the deadline) and return ``parse(answer)``."""
        pacer = self.pacer
        if pacer is not None:  # the wait for the first turn is not the gateway's time: the deadline starts after it
            pacer.acquire(_cost(request))
        ends = time.monotonic() + self.limits.deadline
        attempt = 1
        while True:
            try:
                if pacer is not None and attempt > 1:
                    pacer.acquire(_cost(request))
                answer = parse(self._exchange(request, ends))
            except SmsError as error:
                wait = self._next_wait(error, request, attempt, ends)
                if pacer is not None and isinstance(error, SmsRateLimitedError):
                    pacer.throttled(wait if wait is not None else self.retry.delay(attempt, error.retry_after),
                                    hinted=error.retry_after is not None)
                if wait is None:
                    raise
                if pacer is None or not isinstance(error, SmsRateLimitedError):
                    self._sleep(wait)  # with a pacer, the next turn waits out the shared pause
                attempt += 1
            else:
                if pacer is not None:
                    pacer.answered()
                return answer

    @contextmanager
    def stream_lines(self, request: HttpRequest, check: Callable[[HttpResponse], None],
                     charset: str = "utf-8") -> Iterator[Iterator[str]]:
        """Open ``request`` and yield its body as lines, never holding it whole.

        ``check`` sees the status and headers (empty body) and raises for error answers; it runs
        (and opening is retried) before this returns. A stream cut part-way is re-read and the
        lines already handed out are skipped, within the report deadline; a line longer than the
        line cap is an error.
        """
        lines = self._lines(request, check, charset)
        try:
            next(lines)  # opened and checked
            yield cast(Iterator[str], lines)
        finally:
            lines.close()

    def _lines(self, request: HttpRequest, check: Callable[[HttpResponse], None],
               charset: str) -> Generator[str | None, None, None]:
        from airflow_provider_sms.deadline import Watchdog

        ends = time.monotonic() + self.limits.report_deadline
        delivered = 0
        opened = False
        attempt = 1
        while True:
            try:
                with Watchdog(ends - time.monotonic()) as watchdog:
                    raw = self._open(request, watchdog)
                    try:
                        check(HttpResponse(raw.status_code, b"", dict(raw.headers)))
                        if not opened:
                            opened = True
                            yield None
                        seen = 0
                        for block in self._split(self._pieces(raw, request, watchdog), request, charset):
                            end = seen + len(block)
                            if end > delivered:
                                # A cut stream is noticed only between blocks, so the whole block is
                                # handed out before the next piece is read.
                                skip, delivered = max(0, delivered - seen), end
                                yield from block[skip:] if skip else block
                            seen = end
                    finally:
                        raw.close()
                return
            except SmsError as error:
                wait = self._next_wait(error, request, attempt, ends)
                if wait is None:
                    raise
                self._sleep(wait)
                attempt += 1

    def _split(self, pieces: Iterable[bytes], request: HttpRequest, charset: str) -> Iterator[list[str]]:
        """The answer's lines, decoded, a block (the lines one piece completes) at a time."""
        splitter = LineSplitter(self.limits.max_line_bytes)
        try:
            for piece in pieces:
                block = splitter.feed(piece)
                if block:
                    yield split_block(block, charset)
            last = splitter.finish()
            if last:
                yield split_block(last, charset)
        except AnswerTooLarge as exc:
            raise self._unusable(request, exc) from None


def _cost(request: HttpRequest) -> int:
    """Messages a request counts for in the rate limit: its recipients when it sends, else 1."""
    return max(1, len(request.recipients)) if request.sends_message else 1


def _never_sent(exc: Exception) -> bool:
    """True when a ``requests.ConnectionError`` happened before the request left (refused, DNS)."""
    import urllib3.exceptions

    reason = exc.args[0] if exc.args else None
    inner = getattr(reason, "reason", reason)
    return isinstance(inner, urllib3.exceptions.NewConnectionError | urllib3.exceptions.NameResolutionError)


#: Answers at least this big are parsed in a worker thread, so a poll of 100,000 statuses does not
#: hold up every other trigger on the triggerer's event loop while it is read.
PARSE_IN_THREAD_BYTES = 64 * 1024


class AsyncTransport(_TransportBase):
    """Non-blocking transport on ``httpx.AsyncClient``, for triggers running in the triggerer's event loop.

    Used as an async context manager (``async with transport:``), every call inside shares one
    pooled client, so the connections of a trigger run are reused from poll to poll; outside one,
    each call opens and closes a client of its own. A client belongs to the event loop it was
    opened on: open one per trigger run.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shared: Any = None
        self.clients_opened = 0  # how many httpx clients this transport opened (tests, benchmarks)

    def _new_client(self) -> Any:
        import httpx

        self.clients_opened += 1
        timeout = httpx.Timeout(self.timeout, connect=self.connect_timeout)
        return httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def __aenter__(self) -> AsyncTransport:
        if self._shared is None:
            # Building a client loads the CA bundle (about 0.1 s): not on the event loop.
            self._shared = await asyncio.to_thread(self._new_client)
        return self

    async def __aexit__(self, *exc: object) -> None:
        shared, self._shared = self._shared, None
        if shared is not None:
            await shared.aclose()

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[Any]:
        if self._shared is not None:
            yield self._shared
            return
        async with await asyncio.to_thread(self._new_client) as client:
            yield client

    async def call(self, request: HttpRequest, parse: Callable[[HttpResponse], T]) -> T:
        """Async twin of :meth:`SyncTransport.call`; big answers are parsed in a worker thread."""
        ends = time.monotonic() + self.limits.deadline
        attempt = 1
        async with self._client() as client:
            while True:
                try:
                    response = await self._exchange(client, request, ends)
                    if len(response.body) >= PARSE_IN_THREAD_BYTES:
                        return await asyncio.to_thread(parse, response)
                    return parse(response)
                except SmsError as error:
                    wait = self._next_wait(error, request, attempt, ends)
                    if wait is None:
                        raise
                    await asyncio.sleep(wait)
                    attempt += 1

    async def _exchange(self, client: Any, request: HttpRequest, ends: float) -> HttpResponse:
        import httpx

        wire = encode_request(self.base_url, request)
        started = time.monotonic()
        try:
            async with asyncio.timeout(max(0.0, ends - started)):
                async with client.stream(wire.method, wire.url, content=wire.content, headers=wire.headers,
                                         auth=wire.auth) as raw:
                    decoder = BodyDecoder(raw.headers.get("content-encoding"))
                    body = CappedBody(self.limits.max_answer_bytes)
                    async for chunk in raw.aiter_raw(_CHUNK):
                        for piece in decoder.feed(chunk):
                            body.add(piece)
        except TimeoutError:
            raise self._late(request, ends - started) from None
        except (AnswerTooLarge, UndecodableAnswer) as exc:
            raise self._unusable(request, exc) from None
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise SmsTransientError(f"could not connect ({type(exc).__name__})", gateway=self.gateway) from None
        except (httpx.HTTPError, httpx.StreamError, OSError) as exc:
            raise _doubt(request, self.gateway, f"no answer ({type(exc).__name__})") from None
        self._log_answer(request, raw.status_code, started)
        return HttpResponse(raw.status_code, body.value(), dict(raw.headers))
