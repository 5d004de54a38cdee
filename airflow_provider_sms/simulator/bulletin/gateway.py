"""The simulated Bulletin Messenger gateway: its API routes, callbacks and control routes.

Control routes (under ``/_sim/bulletin``, JSON; the Python equivalents are methods of
:class:`~airflow_provider_sms.simulator.bulletin.state.BulletinState`, reachable as
``server.bulletin``). Accounts are named by ``user_id``, never by password.

* ``GET received[?number=]`` - what each handset received; ``GET received_count?number=``.
* ``GET messages[?user_id=]`` - every accepted send with its recipients as addressed.
* ``GET requests`` - ``[{"method", "path"}]``; ``GET callbacks`` - delivered/failed/pending counters;
  ``GET callback_log`` - every callback with its tries.
* ``POST contacts`` ``{"name", "number"}``; ``POST groups`` ``{"name", "members": [...]}``;
  ``POST blocked`` ``{"number"}``; ``POST outcomes`` ``{"number", "status": "NUR"}``;
  ``POST replies`` ``{"from", "body", "in_reply_to"?, "display_name"?}``; ``POST reply``
  ``{"number", "text", "in_reply_to"?}`` (the form every simulated gateway shares).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from airflow_provider_sms.simulator.bulletin.api import PREFIXES, BulletinApi, xml_answer
from airflow_provider_sms.simulator.bulletin.state import BulletinState
from airflow_provider_sms.simulator.callbacks import CallbackQueue, RetryRule, capped
from airflow_provider_sms.simulator.clock import VirtualClock
from airflow_provider_sms.simulator.config import SimulatorConfig
from airflow_provider_sms.simulator.routes import json_body


def callback_rule(config: SimulatorConfig) -> RetryRule:
    """Messenger retries a callback answered with HTTP 400 or above (or not at all) for up to 48 hours."""
    rule = RetryRule.every(config.bulletin_callback_retry, config.bulletin_callback_window,
                           ok=lambda status, body: status < 400)
    return capped(rule, config.push_max_attempts)


class BulletinGateway:
    """Bulletin Messenger, as a :class:`~airflow_provider_sms.simulator.gateway.SimulatedGateway`."""

    name: str = "bulletin"
    prefixes: tuple[str, ...] = PREFIXES

    def __init__(self, config: SimulatorConfig, clock: VirtualClock) -> None:
        self.state = BulletinState(config, clock)
        self.api = BulletinApi(self.state)
        self.callbacks = CallbackQueue(self.name)
        self._tick_lock = threading.Lock()

    def routes(self) -> Sequence[BaseRoute]:
        return self.api.routes()

    def control_routes(self) -> Sequence[BaseRoute]:
        state = self.state
        return [
            Route("/received", _query(lambda q: state.received(q.get("number") or None))),
            Route("/received_count", _query(lambda q: {"count": state.received_count(q.get("number", ""))})),
            Route("/messages", _query(lambda q: state.messages(q.get("user_id")))),
            Route("/requests", _query(lambda q: [{"method": m, "path": p} for m, p in state.requests])),
            Route("/callbacks", _query(lambda q: self.callbacks.counts())),
            Route("/callback_log", _query(lambda q: self.callbacks.log())),
            Route("/reply", json_body(lambda b: {"reply_id": state.add_reply(
                str(b["number"]), str(b["text"]), in_reply_to=str(b.get("in_reply_to") or ""),
                user_id=b.get("user_id"))}), methods=["POST"]),
            Route("/contacts", json_body(self._add_contact), methods=["POST"]),
            Route("/groups", json_body(self._add_group), methods=["POST"]),
            Route("/blocked", json_body(self._block), methods=["POST"]),
            Route("/outcomes", json_body(self._set_outcome), methods=["POST"]),
            Route("/replies", json_body(lambda b: {"reply_id": state.add_reply(
                str(b["from"]), str(b["body"]), in_reply_to=str(b.get("in_reply_to") or ""),
                display_name=str(b.get("display_name") or ""), user_id=b.get("user_id"))}), methods=["POST"]),
        ]

    def throttled_response(self, path: str) -> Response:
        """Messenger documents no throttling answer; its server-side refusal is a 500."""
        return xml_answer(500, "", error_code="500", error="Internal Error")

    def note_request(self, method: str, path: str) -> None:
        self.state.note_request(method, path)

    def tick(self, *, wait: bool) -> None:
        """Move due statuses on and post the callbacks they (and replies) produced."""
        with self._tick_lock:
            now = self.state.clock.now()
            rule = callback_rule(self.state.config)
            for url, body, content_type in self.state.due_callbacks():
                self.callbacks.add(url, body=body, content_type=content_type, due=now, label="callback", rule=rule)
        self.callbacks.deliver_due(self.state.clock.now(), wait=wait)

    def reset(self, config: SimulatorConfig) -> None:
        with self._tick_lock:
            self.callbacks.clear()
            self.state.reset(config)

    def describe(self) -> dict[str, Any]:
        return {"api": list(PREFIXES), "accounts": list(self.state.accounts),
                "messages": sum(len(a.messages) for a in self.state.accounts.values())}

    def close(self) -> None:
        """Nothing to release: callbacks are made from ticks."""

    # -- control endpoints ----------------------------------------------------------------------

    def _add_contact(self, body: dict[str, Any]) -> Any:
        self.state.add_contact(str(body["name"]), str(body["number"]), body.get("user_id"))
        return {"contact": body["name"]}

    def _add_group(self, body: dict[str, Any]) -> Any:
        self.state.add_group(str(body["name"]), [str(m) for m in body["members"]], body.get("user_id"))
        return {"group": body["name"], "members": len(body["members"])}

    def _block(self, body: dict[str, Any]) -> Any:
        self.state.block(str(body["number"]), body.get("user_id"))
        return {"blocked": body["number"]}

    def _set_outcome(self, body: dict[str, Any]) -> Any:
        self.state.set_outcome(str(body["number"]), str(body["status"]))
        return {"outcome": body["status"]}




def _query(action: Callable[[dict[str, str]], Any]) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        try:
            return JSONResponse(action(dict(request.query_params)))
        except KeyError:
            return JSONResponse({"error": "unknown user_id"}, status_code=404)

    return endpoint
