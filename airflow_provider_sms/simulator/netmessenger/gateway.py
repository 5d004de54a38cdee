"""The simulated NetMessenger (FastSMS) gateway: ``/api`` plus its control routes.

Control routes (under ``/_sim/netmessenger``, JSON; the Python equivalents are methods of
:class:`~airflow_provider_sms.simulator.netmessenger.state.NetMessengerState`, reachable as
``server.netmessenger``). Accounts are named by ``username``, never by token.

* ``GET received[?number=&include_scheduled=1]`` - what each number received (message_id, number,
  body, source, status, bg_send_id, sent_at, parts, username); ``GET received_count?number=``.
* ``GET credits[?username=]``, ``GET child_users``, ``GET contacts``, ``GET groups``,
  ``GET lists``, ``GET background_sends``.
* ``GET requests`` - ``[{"method", "path", "action"}]`` of every ``/api`` request.
* ``POST outcomes`` ``{"number": "4477...", "status": "Undeliverable"}`` or ``{"outcomes": {...}}``.
* ``POST lists`` ``{"name": "staff", "numbers": ["4477..."]}``.
* ``POST contacts`` ``{"contacts": [{"name", "number", "email"?, "groups"?}]}``.
* ``POST blacklist`` ``{"number": "4477..."}``.
* ``POST inbound`` ``{"sender": "4477...", "number": "4478...", "message": "hi"}``; ``POST reply``
  ``{"number": "4477...", "text": "hi", "to"?: "4478..."}`` (the form every simulated gateway shares).
  Both are forwarded to the account's ``forward_url``; ``GET callbacks`` / ``GET callback_log``.
* ``POST seed`` ``{"count": 1000000, "start_number": 447700000000, "sent_at": <epoch>?}``.

Every control route takes an optional ``username`` (query or JSON field) for other accounts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from airflow_provider_sms.simulator.callbacks import CallbackQueue
from airflow_provider_sms.simulator.clock import VirtualClock
from airflow_provider_sms.simulator.config import SimulatorConfig
from airflow_provider_sms.simulator.netmessenger.api import API_PATH, THROTTLED_ANSWER, NetMessengerApi, text_response
from airflow_provider_sms.simulator.netmessenger.forwarding import queue_forwards
from airflow_provider_sms.simulator.netmessenger.state import NetMessengerState
from airflow_provider_sms.simulator.routes import Endpoint, json_body


class NetMessengerGateway:
    """NetMessenger, as a :class:`~airflow_provider_sms.simulator.gateway.SimulatedGateway`."""

    name: str = "netmessenger"
    prefixes: tuple[str, ...] = (API_PATH,)

    def __init__(self, config: SimulatorConfig, clock: VirtualClock) -> None:
        self.state = NetMessengerState(config, clock)
        self.api = NetMessengerApi(self.state)
        self.forwards = CallbackQueue(self.name)

    def routes(self) -> Sequence[BaseRoute]:
        """The ``/api`` route."""
        return self.api.routes()

    def control_routes(self) -> Sequence[BaseRoute]:
        """Inspection routes (mounted under ``/_sim/netmessenger``)."""
        state = self.state
        return [
            Route("/received", _query(self._received), methods=["GET"]),
            Route("/received_count", _query(lambda q: {"count": state.received_count(q.get("number", ""))})),
            Route("/credits", _query(lambda q: {"credits": state.credits(username=q.get("username"))})),
            Route("/child_users", _query(lambda q: state.child_users(username=q.get("username")))),
            Route("/contacts", _query(lambda q: state.contacts(username=q.get("username"))), methods=["GET"]),
            Route("/groups", _query(lambda q: state.groups(username=q.get("username")))),
            Route("/lists", _query(lambda q: state.lists(username=q.get("username"))), methods=["GET"]),
            Route("/background_sends", _query(self._background_sends)),
            Route("/requests", _query(self._requests)),
            Route("/outcomes", json_body(self._set_outcomes), methods=["POST"]),
            Route("/lists", json_body(self._add_list), methods=["POST"]),
            Route("/contacts", json_body(self._add_contacts), methods=["POST"]),
            Route("/blacklist", json_body(self._blacklist), methods=["POST"]),
            Route("/inbound", json_body(self._add_inbound), methods=["POST"]),
            Route("/reply", json_body(self._reply), methods=["POST"]),
            Route("/callbacks", _query(lambda q: self.forwards.counts())),
            Route("/callback_log", _query(lambda q: self.forwards.log())),
            Route("/seed", json_body(self._seed), methods=["POST"]),
            Route("/faults", json_body(self._faults), methods=["POST"]),
        ]

    def throttled_response(self, path: str) -> Response:
        """``-511`` "The system is down for maintenance" (HTTP 200, like every answer)."""
        return text_response(THROTTLED_ANSWER)

    def note_request(self, method: str, path: str) -> None:
        """Log the request (method and path; the endpoint adds the ``Action``)."""
        self.state.note_request(method, path)

    def tick(self, *, wait: bool) -> None:
        """Forward inbound messages (statuses and background sends follow the clock lazily)."""
        queue_forwards(self.state, self.forwards, self.state.clock.now())
        self.forwards.deliver_due(self.state.clock.now(), wait=wait)

    def reset(self, config: SimulatorConfig) -> None:
        """Start again from ``config``."""
        self.forwards.clear()
        self.state.reset(config)

    def describe(self) -> dict[str, Any]:
        """Accounts (no tokens), message count and the API location."""
        return {
            "api": API_PATH,
            "accounts": [
                {"username": name, "credits": self.state.credits(username=name)} for name in self.state.usernames()
            ],
            "messages": len(self.state.messages),
            "faults": self.state.faults.describe(),
            "background_delay": self.state.config.netmessenger_background_delay,
            "background_threshold": self.state.config.netmessenger_background_threshold,
        }

    def close(self) -> None:
        """No threads or files to release."""

    # -- control endpoints ----------------------------------------------------------------------

    def _received(self, query: dict[str, str]) -> Any:
        include = query.get("include_scheduled", "0") in ("1", "true")
        return self.state.received(query.get("number") or None, include_scheduled=include)

    def _background_sends(self, query: dict[str, str]) -> Any:
        now = self.state.clock.now()
        return [
            {
                "bg_send_id": s.bg_send_id,
                "username": s.username,
                "kind": s.kind,
                "name": s.name,
                "messages": s.record.count,
                "created_at": s.created_at,
                "ready_at": s.ready_at,
                "finished": s.finished(now),
            }
            for s in self.state.bg_sends(query.get("username"))
        ]

    def _requests(self, query: dict[str, str]) -> Any:
        return [{"method": m, "path": p, "action": a} for m, p, a in self.state.requests]

    def _set_outcomes(self, body: dict[str, Any]) -> Any:
        outcomes = body.get("outcomes") or {body["number"]: body["status"]}
        for number, word in dict(outcomes).items():
            self.state.set_outcome(str(number), str(word))
        return {"outcomes": len(outcomes)}

    def _add_list(self, body: dict[str, Any]) -> Any:
        size = self.state.add_list(str(body["name"]), [str(n) for n in body["numbers"]], username=body.get("username"))
        return {"name": body["name"], "members": size}

    def _add_contacts(self, body: dict[str, Any]) -> Any:
        return {"added": self.state.add_contacts(list(body["contacts"]), username=body.get("username"))}

    def _blacklist(self, body: dict[str, Any]) -> Any:
        self.state.blacklist(str(body["number"]), username=body.get("username"))
        return {"blacklisted": body["number"]}

    def _add_inbound(self, body: dict[str, Any]) -> Any:
        message_id = self.state.add_inbound(
            str(body["sender"]), str(body["number"]), str(body["message"]), username=body.get("username")
        )
        return {"message_id": message_id}

    def _reply(self, body: dict[str, Any]) -> Any:
        account = self.state.account(body.get("username")).account
        message_id = self.state.add_inbound(str(body["number"]), str(body.get("to") or account.virtual_number),
                                            str(body["text"]), username=body.get("username"))
        return {"message_id": message_id}

    def _faults(self, body: dict[str, Any]) -> Any:
        self.state.faults.configure(body)
        return self.state.faults.describe()

    def _seed(self, body: dict[str, Any]) -> Any:
        sent_at = body.get("sent_at")
        first_id = self.state.seed_messages(
            int(body["count"]),
            int(body.get("start_number", 447700000000)),
            None if sent_at is None else float(sent_at),
            username=body.get("username"),
        )
        return {"first_message_id": first_id}


def _query(action: Callable[[dict[str, str]], Any]) -> Endpoint:
    """A GET endpoint answering ``action(query params)`` as JSON; unknown accounts are a 404."""

    async def endpoint(request: Request) -> Response:
        try:
            return JSONResponse(action(dict(request.query_params)))
        except KeyError:
            return JSONResponse({"error": "unknown username"}, status_code=404)

    return endpoint
