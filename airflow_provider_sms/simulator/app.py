"""The Starlette app: every registered gateway's routes plus the ``/_sim`` control routes.

Control routes (JSON in and out):

* ``GET /_sim/health`` - status, virtual time, gateways (no secrets), armed faults.
* ``POST /_sim/advance?seconds=N`` - move the virtual clock; due pushes are sent before it answers.
* ``GET /_sim/faults`` - armed faults; ``POST /_sim/faults`` - arm one (object) or several
  (list), e.g. ``{"fault": "http_error", "status": 503, "count": 2, "only": "/eapi"}`` (see
  :meth:`FaultSwitches.configure`); ``DELETE /_sim/faults`` - clear them.
* ``POST /_sim/reset`` - back to the initial configuration.
* ``/_sim/<gateway>/...`` - the gateway's own inspection routes (e.g. ``/_sim/bulksms/received``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from airflow_provider_sms.simulator.core import Simulator
from airflow_provider_sms.simulator.middleware import GatewayMiddleware
from airflow_provider_sms.simulator.routes import Endpoint

log = logging.getLogger(__name__)


#: Real seconds between background ticks (pushes fire even when nobody advances the clock).
TICK_INTERVAL = 0.2


def build_app(simulator: Simulator) -> Starlette:
    """Build the ASGI app serving ``simulator``."""
    routes: list[BaseRoute] = [
        Route("/_sim/health", _health(simulator), methods=["GET"]),
        Route("/_sim/advance", _advance(simulator), methods=["POST"]),
        Route("/_sim/faults", _faults(simulator), methods=["GET", "POST", "DELETE"]),
        Route("/_sim/reset", _reset(simulator), methods=["POST"]),
    ]
    for gateway in simulator.gateways.values():
        routes.append(Mount(f"/_sim/{gateway.name}", routes=list(gateway.control_routes())))
        routes.extend(gateway.routes())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ticker = asyncio.create_task(_tick_forever(simulator))
        try:
            yield
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker

    return Starlette(
        routes=routes,
        middleware=[Middleware(GatewayMiddleware, simulator=simulator)],
        lifespan=lifespan,
    )


async def _tick_forever(simulator: Simulator) -> None:
    while True:
        await asyncio.sleep(TICK_INTERVAL)
        # In a thread: ticking may block briefly on the bounded push queue.
        await run_in_threadpool(simulator.tick, wait=False)


def _health(simulator: Simulator) -> Endpoint:
    async def health(request: Request) -> Response:
        return JSONResponse(simulator.describe())

    return health


def _advance(simulator: Simulator) -> Endpoint:
    async def advance(request: Request) -> Response:
        try:
            seconds = float(request.query_params.get("seconds", "0"))
        except ValueError:
            return _bad_request("seconds must be a number")
        if seconds < 0:
            return _bad_request("seconds must be >= 0")
        # In a thread: advancing waits for due pushes, which may target this very server.
        now = await run_in_threadpool(simulator.clock.advance, seconds)
        return JSONResponse({"virtual_time": now, "clock_offset": simulator.clock.offset})

    return advance


def _faults(simulator: Simulator) -> Endpoint:
    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            simulator.faults.clear()
        elif request.method == "POST":
            try:
                spec = await request.json()
                for item in spec if isinstance(spec, list) else [spec]:
                    if not isinstance(item, dict):
                        raise ValueError("each fault must be a JSON object")
                    simulator.faults.configure(item)
            except ValueError as exc:  # includes JSON decoding errors
                return _bad_request(str(exc))
        return JSONResponse({"faults": simulator.faults.active()})

    return faults


def _reset(simulator: Simulator) -> Endpoint:
    async def reset(request: Request) -> Response:
        await run_in_threadpool(simulator.reset)
        return JSONResponse({"status": "reset"})

    return reset


def _bad_request(detail: str) -> Response:
    return JSONResponse({"error": detail}, status_code=400)
