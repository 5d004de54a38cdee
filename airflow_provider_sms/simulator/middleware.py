"""ASGI middleware that logs gateway requests and applies the fault switches to them."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import parse_qsl

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from airflow_provider_sms.simulator.core import Simulator

log = logging.getLogger(__name__)

#: What uvicorn logs (at ERROR) when an app returns before finishing its answer - which is
#: exactly what ``drop_after_accept`` does on purpose. :class:`QuietDroppedResponses` hides it.
_UVICORN_INCOMPLETE = "ASGI callable returned without completing response."


class QuietDroppedResponses(logging.Filter):
    """Drop uvicorn's error line for answers the simulator cut off deliberately."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _UVICORN_INCOMPLETE


class GatewayMiddleware:
    """Wraps the app: request log and faults for gateway paths; ``/_sim`` is left alone."""

    def __init__(self, app: ASGIApp, simulator: Simulator) -> None:
        self.app = app
        self.simulator = simulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        gateway = self.simulator.gateway_for_path(path)
        if gateway is None:
            await self.app(scope, receive, send)
            return
        gateway.note_request(scope["method"], path)
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        self.simulator.url_params.append((scope["method"], path, tuple(name for name, _ in query)))
        decision = self.simulator.faults.decide(path)
        delay = decision.latency + self.simulator.config.latency
        if delay > 0:
            await asyncio.sleep(delay)
        if decision.http_error is not None:
            await PlainTextResponse("Simulated gateway error", status_code=decision.http_error)(scope, receive, send)
            return
        if decision.throttle:
            await gateway.throttled_response(path)(scope, receive, send)
            return
        if decision.drop_after_accept:
            await self.app(scope, receive, _truncating_send(send))
            log.info("simulator dropped the answer to %s after processing it", path)
            return
        if decision.error_after_accept is not None:
            await self.app(scope, receive, _swallowing_send)
            log.info("simulator answered HTTP %d to %s after processing it", decision.error_after_accept, path)
            await PlainTextResponse("Simulated gateway error", status_code=decision.error_after_accept)(
                scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _swallowing_send(message: Message) -> None:
    """A ``send`` that keeps the gateway's own answer from the client (another one goes instead)."""


def _truncating_send(send: Send) -> Send:
    """A ``send`` that forwards the response start and half of the first body chunk, then nothing.

    The headers promise the full length (or chunked encoding), so the client sees the connection
    close mid-answer; uvicorn closes it because the response never completes.
    """
    started = False
    sent_body = False

    async def truncating(message: Message) -> None:
        nonlocal started, sent_body
        if message["type"] == "http.response.start" and not started:
            started = True
            await send(message)
        elif message["type"] == "http.response.body" and started and not sent_body:
            sent_body = True
            body: bytes = message.get("body", b"")
            await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        # Everything else is swallowed so the answer never completes.

    return truncating
