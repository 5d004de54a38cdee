"""The simulated BulkSMS gateway: EAPI + JSON API over one store, pushes, and its control routes.

Control routes (under ``/_sim/bulksms``, JSON):

* ``GET received[?msisdn=&include_scheduled=1]`` - what each recipient received and its
  current status (see :meth:`BulkSmsState.received`).
* ``GET credits[?username=]``, ``GET requests`` (method and path of every BulkSMS request),
  ``GET pushes`` (delivered / failed / pending callback counters), ``GET callback_log``.
* ``POST groups`` ``{"group_id": 7, "name": "staff", "members": ["4477..."]}``.
* ``POST outcomes`` ``{"msisdn": "4477...", "status": 51}`` or ``{"outcomes": {"4477...": 51}}``.
* ``POST inbound`` ``{"sender": "4477...", "msisdn": "4478...", "message": "hi", "referring_batch_id": 0}``;
  ``POST reply`` ``{"number": "4477...", "text": "hi", "to"?: "4478...", "in_reply_to"?: batch id}``
  (the form every simulated gateway shares). Both push to the account's inbound URL and webhook.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from airflow_provider_sms.simulator.bulksms.callbacks import due_callbacks
from airflow_provider_sms.simulator.bulksms.eapi import THROTTLED_ANSWER, Eapi, text_response
from airflow_provider_sms.simulator.bulksms.json_api import JsonApi, throttled
from airflow_provider_sms.simulator.bulksms.state import BulkSmsState
from airflow_provider_sms.simulator.callbacks import CallbackQueue
from airflow_provider_sms.simulator.clock import VirtualClock
from airflow_provider_sms.simulator.config import SimulatorConfig
from airflow_provider_sms.simulator.routes import json_body

#: The account's number a simulated reply is sent to when the control call names none.
DEFAULT_INBOUND_NUMBER = "447786200001"


class BulkSmsGateway:
    """BulkSMS, as a :class:`~airflow_provider_sms.simulator.gateway.SimulatedGateway`."""

    name: str = "bulksms"
    prefixes: tuple[str, ...] = ("/eapi", "/v1")

    def __init__(self, config: SimulatorConfig, clock: VirtualClock) -> None:
        self.state = BulkSmsState(config, clock)
        self.eapi = Eapi(self.state)
        self.json_api = JsonApi(self.state)
        self.pushes = CallbackQueue(self.name)
        # Serialises collecting+queueing pushes with reset(), so a background tick cannot queue
        # a report of the previous state after a reset has cleared the queue.
        self._tick_lock = threading.Lock()

    def routes(self) -> Sequence[BaseRoute]:
        """EAPI and JSON API routes."""
        return [*self.eapi.routes(), *self.json_api.routes()]

    def control_routes(self) -> Sequence[BaseRoute]:
        """Inspection routes (mounted under ``/_sim/bulksms``)."""
        return [
            Route("/received", self._received, methods=["GET"]),
            Route("/credits", self._credits, methods=["GET"]),
            Route("/requests", self._requests, methods=["GET"]),
            Route("/pushes", self._pushes, methods=["GET"]),
            Route("/groups", json_body(self._add_group), methods=["POST"]),
            Route("/outcomes", json_body(self._set_outcomes), methods=["POST"]),
            Route("/inbound", json_body(self._add_inbound), methods=["POST"]),
            Route("/reply", json_body(self._reply), methods=["POST"]),
            Route("/callback_log", self._callback_log, methods=["GET"]),
        ]

    def throttled_response(self, path: str) -> Response:
        """EAPI: ``40|Temporarily unavailable|`` (HTTP 200); JSON API: 429 with ``Retry-After: 1``."""
        return throttled() if path.startswith("/v1") else text_response(THROTTLED_ANSWER)

    def note_request(self, method: str, path: str) -> None:
        """Log the request for :attr:`BulkSmsState.requests`."""
        self.state.note_request(method, path)

    def tick(self, *, wait: bool) -> None:
        """Queue pushes for statuses that became final; with ``wait``, until they are sent."""
        with self._tick_lock:
            now = self.state.clock.now()
            for callback in due_callbacks(self.state):
                self.pushes.add(callback.url, body=callback.body, due=now, label=callback.label, rule=callback.rule,
                                content_type="application/json")
        self.pushes.deliver_due(self.state.clock.now(), wait=wait)

    def reset(self, config: SimulatorConfig) -> None:
        """Start again from ``config``."""
        with self._tick_lock:
            self.pushes.clear()
            self.state.reset(config)

    def describe(self) -> dict[str, Any]:
        """Accounts (no passwords) and API locations."""
        return {
            "eapi": "/eapi",
            "json_api": "/v1",
            "accounts": [
                {"username": name, "credits": round(self.state.credits(name), 2)} for name in self.state.usernames()
            ],
            "batches": len(self.state.batches()),
        }

    def close(self) -> None:
        """Nothing to release: pushes are made from ticks."""

    # -- control endpoints ----------------------------------------------------------------------

    async def _received(self, request: Request) -> Response:
        include = request.query_params.get("include_scheduled", "0") in ("1", "true")
        return JSONResponse(self.state.received(request.query_params.get("msisdn") or None, include_scheduled=include))

    async def _credits(self, request: Request) -> Response:
        username = request.query_params.get("username")
        try:
            return JSONResponse({"credits": self.state.credits(username)})
        except KeyError:
            return JSONResponse({"error": "unknown username"}, status_code=404)

    async def _requests(self, request: Request) -> Response:
        return JSONResponse([{"method": method, "path": path} for method, path in self.state.requests])

    async def _pushes(self, request: Request) -> Response:
        return JSONResponse(self.pushes.counts())

    async def _callback_log(self, request: Request) -> Response:
        return JSONResponse(self.pushes.log())

    def _add_group(self, body: dict[str, Any]) -> dict[str, Any]:
        self.state.add_group(int(body["group_id"]), str(body.get("name", "")), list(body["members"]))
        return {"group_id": int(body["group_id"])}

    def _set_outcomes(self, body: dict[str, Any]) -> dict[str, Any]:
        outcomes = body.get("outcomes") or {body["msisdn"]: body["status"]}
        for msisdn, status in dict(outcomes).items():
            self.state.set_outcome(str(msisdn), int(status))
        return {"outcomes": len(outcomes)}

    def _add_inbound(self, body: dict[str, Any]) -> dict[str, Any]:
        msg_id = self.state.add_inbound(
            str(body["sender"]),
            str(body["msisdn"]),
            str(body["message"]),
            int(body.get("referring_batch_id", 0)),
            body.get("username"),
        )
        return {"msg_id": msg_id}

    def _reply(self, body: dict[str, Any]) -> dict[str, Any]:
        msg_id = self.state.add_inbound(str(body["number"]), str(body.get("to") or DEFAULT_INBOUND_NUMBER),
                                        str(body["text"]), int(body.get("in_reply_to") or 0), body.get("username"))
        return {"msg_id": msg_id}
