"""The simulated Skycore gateway: ``/API/wxml/1.3/`` plus its control routes.

Control routes (under ``/_sim/skycore``, JSON; the Python equivalents are methods of
:class:`~airflow_provider_sms.simulator.skycore.state.SkycoreState`, reachable as ``server.skycore``):

* ``GET received[?number=&kind=sms|mms]`` - what each number received; ``GET received_count?number=``;
  ``GET mms_received[?number=]``.
* ``GET subscribers?campaign=``; ``POST subscribers`` ``{"campaign", "number", "ref"?, "data"?}``.
* ``GET saved_mms``, ``GET users``, ``GET requests`` (action names), ``GET postbacks``.
* ``POST reply`` ``{"number", "text", "to"?}`` - a handset texts the account (an ``SMS_MO`` postback).

Every route takes an optional ``username`` for other accounts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from airflow_provider_sms.simulator.clock import VirtualClock
from airflow_provider_sms.simulator.config import SimulatorConfig
from airflow_provider_sms.simulator.routes import Endpoint, json_body
from airflow_provider_sms.simulator.skycore.api import PREFIX, SkycoreApi, failure_xml
from airflow_provider_sms.simulator.skycore.state import SkycoreState


class SkycoreGateway:
    """Skycore, as a :class:`~airflow_provider_sms.simulator.gateway.SimulatedGateway`."""

    name: str = "skycore"
    prefixes: tuple[str, ...] = (PREFIX,)

    def __init__(self, config: SimulatorConfig, clock: VirtualClock) -> None:
        self.state = SkycoreState(config, clock)
        self.api = SkycoreApi(self.state)

    def routes(self) -> Sequence[BaseRoute]:
        """The API and report-download routes."""
        return self.api.routes()

    def control_routes(self) -> Sequence[BaseRoute]:
        """Inspection routes (mounted under ``/_sim/skycore``)."""
        state = self.state
        return [
            Route("/received", _query(lambda q: state.received(q.get("number") or None, q.get("kind") or None))),
            Route("/received_count", _query(lambda q: {"count": state.received_count(q.get("number", ""))})),
            Route("/mms_received", _query(lambda q: state.mms_received(q.get("number") or None))),
            Route("/subscribers", _query(lambda q: state.subscribers(q.get("campaign", ""), q.get("username")))),
            Route("/subscribers", json_body(self._add_subscriber), methods=["POST"]),
            Route("/saved_mms", _query(lambda q: state.saved_mms(q.get("username")))),
            Route("/users", _query(lambda q: state.users(q.get("username")))),
            Route("/requests", _query(lambda q: list(state.requests))),
            Route("/postbacks", _query(lambda q: state.postback_log())),
            Route("/reply", json_body(lambda b: {"transaction_id": state.add_reply(
                str(b["number"]), str(b["text"]), to=b.get("to"), username=b.get("username"))}), methods=["POST"]),
        ]

    def throttled_response(self, path: str) -> Response:
        """E113 "API exceeded" (HTTP 200, like every answer)."""
        return Response(failure_xml("E113", "API exceeded: throttle back and retry"),
                        media_type="text/xml; charset=utf-8")

    def note_request(self, method: str, path: str) -> None:
        """Requests are logged by action in the endpoint."""

    def tick(self, *, wait: bool) -> None:
        """Deliver the postbacks that came due."""
        self.state.tick(wait=wait)

    def reset(self, config: SimulatorConfig) -> None:
        """Start again from ``config``."""
        self.state.reset(config)

    def describe(self) -> dict[str, Any]:
        """Accounts (no keys), message count and the API location."""
        return {
            "api": PREFIX + "/wxml/1.3/",
            "accounts": [{"username": s.account.username, "campaigns": sorted(s.campaigns)}
                         for s in self.state.accounts.values()],
            "messages": len(self.state.messages),
        }

    def close(self) -> None:
        """No threads to release (postbacks are sent from ticks)."""

    def _add_subscriber(self, body: dict[str, Any]) -> Any:
        self.state.add_subscriber(str(body["campaign"]), str(body["number"]), body.get("ref"),
                                  dict(body.get("data") or {}), username=body.get("username"))
        return {"campaign": body["campaign"], "number": body["number"]}


def _query(action: Callable[[dict[str, str]], Any]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        try:
            return JSONResponse(action(dict(request.query_params)))
        except KeyError:
            return JSONResponse({"error": "unknown username"}, status_code=404)

    return endpoint
