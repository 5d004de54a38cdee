"""The callback receiver: a FastAPI app with one route per callback a gateway declares.

``POST|GET {PREFIX}/{gateway}/{conn_id}/{kind}?secret=...`` (NetMessenger: ``auth=...``). Each
request is checked in this order, and refused with no detail:

1. the connection exists, has a ``callback_secret`` and is of the gateway's type -- else 401;
2. the caller's address is on the connection's allow-list (when it has one) -- else 403;
3. the body is at most the endpoint's limit -- else 413;
4. the secret matches (constant-time) -- else 401;
5. the body reads as the gateway's callback -- else 400 (nothing stored).

Then every event is stored, and only then is 200 answered: a crash before the answer leaves the
gateway to retry, and the store keeps the event once. Storing that fails or outlasts the
gateway's deadline answers 500 (the one status every gateway retries). The secret is taken out
of the request's path and query before anything can log them (the access log included).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from airflow_provider_sms.core.receipts import StatusEvent
from airflow_provider_sms.exceptions import SmsError
from airflow_provider_sms.gateways.callbacks import CallbackEndpoint, CallbackRequest, Event, callback_endpoints
from airflow_provider_sms.receipts.settings import CallbackSettings, SettingsCache
from airflow_provider_sms.receipts.store import ReceiptStore
from airflow_provider_sms.receipts.urls import PREFIX

__all__ = ["PREFIX", "StoreFactory", "create_app"]

log = logging.getLogger(__name__)

REDACTED = "***"
_MAX_FORM_FIELDS = 200
_AUTH_PARAMS = frozenset(e.auth_param for e in callback_endpoints())
_DUMMY_SECRET = secrets.token_urlsafe(32)  # compared when the connection is unknown: same work either way

StoreFactory = Callable[[str], ReceiptStore]


class _Refused(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


class RedactSecrets:
    """ASGI middleware: replace the callback secret in the query string before anything logs it.

    The scope dictionary is changed in place, so the server's access log (which reads the same
    dictionary when the answer goes out) shows ``secret=***`` too. The original value is kept in
    ``scope["state"]["sms_callback_query"]`` for the route.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            raw: bytes = scope["query_string"]
            pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, max_num_fields=_MAX_FORM_FIELDS)
            if any(name in _AUTH_PARAMS for name, _ in pairs):
                scope.setdefault("state", {})["sms_callback_query"] = pairs
                scope["query_string"] = urlencode(
                    [(n, REDACTED if n in _AUTH_PARAMS else v) for n, v in pairs], safe="*").encode("latin-1")
        await self.app(scope, receive, send)


def _stores(factory: Callable[[str | None], ReceiptStore]) -> StoreFactory:
    cache: dict[str, ReceiptStore] = {}

    def get(conn_id: str) -> ReceiptStore:
        store = cache.get(conn_id)
        if store is None:
            store = cache[conn_id] = factory(conn_id)
        return store

    return get


def create_app(*, settings: Callable[[str], CallbackSettings | None] | None = None,
               store_for: Callable[[str | None], ReceiptStore] = ReceiptStore.from_conn_id,
               endpoints: Sequence[CallbackEndpoint] | None = None) -> FastAPI:
    """The receiver app.

    :param settings: connection id -> settings (default: Airflow connections, cached 30 s).
    :param store_for: receipts connection id -> store (default: :meth:`ReceiptStore.from_conn_id`).
    :param endpoints: the callbacks to serve (default: every gateway's).
    """
    app = FastAPI(title="SMS delivery receipts and replies", docs_url=None, redoc_url=None, openapi_url=None)
    lookup = settings or SettingsCache().get
    stores = _stores(store_for)
    for endpoint in endpoints if endpoints is not None else callback_endpoints():
        app.add_api_route(endpoint.path, _handler(endpoint, lookup, stores), methods=list(endpoint.methods),
                          name=f"{endpoint.gateway}_{endpoint.kind}", include_in_schema=False)
    app.add_middleware(RedactSecrets)
    return app


def _query(request: Request) -> list[tuple[str, str]]:
    kept = request.scope.get("state", {}).get("sms_callback_query")
    if kept is not None:
        return list(kept)
    return [(k, v) for k, v in request.query_params.multi_items()]


async def _read(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _Refused(413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _Refused(413)
        chunks.append(chunk)
    return b"".join(chunks)


def _form(body: bytes, content_type: str) -> list[tuple[str, str]]:
    if "application/x-www-form-urlencoded" not in content_type.lower():
        return []
    try:
        return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=_MAX_FORM_FIELDS)
    except ValueError:
        raise _Refused(400) from None


def _handler(endpoint: CallbackEndpoint, lookup: Callable[[str], CallbackSettings | None],
             stores: StoreFactory) -> Callable[..., object]:
    async def receive(request: Request, conn_id: str) -> Response:
        started = time.monotonic()
        received_at = dt.datetime.now(dt.UTC)
        try:
            events, settings = await _accept(endpoint, request, conn_id, lookup, received_at)
            if events:
                budget = max(0.5, endpoint.answer_within - (time.monotonic() - started))
                await asyncio.wait_for(asyncio.to_thread(_store, stores, settings.receipts_conn_id, events), budget)
        except _Refused as refused:
            return Response(status_code=refused.status)
        except TimeoutError:
            # The write may still finish; the gateway's retry then finds the event stored.
            log.warning("%s %s callback for %r not stored within %.0f s; answering 500", endpoint.gateway,
                        endpoint.kind, conn_id, endpoint.answer_within)
            return Response(status_code=500)
        except SmsError as error:
            log.warning("%s %s callback for %r not stored: %s", endpoint.gateway, endpoint.kind, conn_id, error)
            return Response(status_code=500)
        return PlainTextResponse(endpoint.answer)

    return receive


async def _accept(endpoint: CallbackEndpoint, request: Request, conn_id: str,
                  lookup: Callable[[str], CallbackSettings | None],
                  received_at: dt.datetime) -> tuple[list[Event], CallbackSettings]:
    settings = await asyncio.to_thread(lookup, conn_id)
    if settings is not None and settings.conn_type not in endpoint.conn_types:
        settings = None
    if settings is not None and not settings.allows(request.client.host if request.client else None):
        raise _Refused(403)
    body = await _read(request, endpoint.body_limit)
    content_type = request.headers.get("content-type", "")
    form = _form(body, content_type)
    pairs = _query(request) + form
    given = next((v for n, v in pairs if n == endpoint.auth_param), "")
    expected = settings.secret if settings is not None else _DUMMY_SECRET
    if not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8")) or settings is None:
        raise _Refused(401)
    params: dict[str, str] = {}
    for name, value in pairs:
        if name not in _AUTH_PARAMS:
            params.setdefault(name, value)
    callback = CallbackRequest(conn_id=conn_id, method=request.method, params=params, body=body,
                               content_type=content_type, received_at=received_at, options=settings.options)
    try:
        events = list(endpoint.parse(callback))
    except SmsError as error:
        log.info("%s %s callback for %r refused: %s", endpoint.gateway, endpoint.kind, conn_id, error)
        raise _Refused(400) from None
    return events, settings


def _store(stores: StoreFactory, receipts_conn_id: str, events: Sequence[Event]) -> None:
    store = stores(receipts_conn_id)
    for event in events:
        if isinstance(event, StatusEvent):
            store.record_status(event)
        else:
            store.record_reply(event)
