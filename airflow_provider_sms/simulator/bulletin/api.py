"""The Messenger HTTP API as the vendor documents it (seed 000, reference section 1).

* ``/api/3/sms/out`` (GET or POST): ``userId``/``password`` as form fields or in the Basic header
  (mandatory), ``to`` (space-delimited numbers and address-book names) and ``body`` (mandatory),
  ``from``, ``messageId`` (at most 36 characters, echoed; a UUID when absent),
  ``fragmentationLimit``, ``contentType`` (``text/plain`` or ``text/plain; charset=UTF-16``; text
  outside GSM 03.38 without the UTF-16 value is refused here, so a client that forgets it fails),
  and the per-message callback URLs (parameter names from the configuration). Answers XML:
  401/400/403 with an ``isError="true"`` root, or 200 with one ``recipient`` per item, failed
  ones flagged (blocked number, unknown contact: 403).
* ``/api/1/sms/status`` and ``/api/1/sms/in``: one queued item per call, form-encoded; 204 when empty.
* ``/api/3/sms/out/poll``: JSON list of the messages sent since the last poll.
* ``/api/2/sms/list``: JSON list of recent messages with every recipient as addressed (its format
  is not documented; this is the provider's reading, see the README).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode

from lxml import etree
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from airflow_provider_sms.simulator.bulksms.text import is_gsm, text_parts, unicode_parts
from airflow_provider_sms.simulator.bulletin.state import AccountState, BulletinState, Item, iso

OUT_PATH = "/api/3/sms/out"
PREFIXES = ("/api/1/sms", "/api/2/sms", "/api/3/sms")
UTF16 = "text/plain; charset=UTF-16"
_CONTENT_TYPES = {"text/plain", UTF16.lower()}
BODY_MAX = 480
MESSAGE_ID_MAX = 36
_XML = "application/xml; charset=utf-8"


def xml_answer(status: int, message_id: str, *, error_code: str | None = None, error: str | None = None,
               items: Sequence[Item] = ()) -> Response:
    """An ``outbound-message-delivery`` document."""
    attributes = {"messageId": message_id, "isError": "true" if error_code else "false"}
    if error_code:
        attributes |= {"errorCode": error_code, "errorMessage": error or ""}
    root = etree.Element("outbound-message-delivery", attributes)
    for item in items:
        node = etree.SubElement(root, "recipient", msisdn=item.addressed, isError="true" if item.error else "false")
        if item.error:
            node.set("errorCode", item.error_code or "403")
            node.set("errorMessage", item.error)
    body = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    return Response(body, status_code=status, media_type=_XML)


class BulletinApi:
    """Route handlers over one :class:`BulletinState`."""

    def __init__(self, state: BulletinState) -> None:
        self.state = state

    def routes(self) -> list[BaseRoute]:
        return [
            Route(OUT_PATH, self.send, methods=["GET", "POST"]),
            Route("/api/1/sms/status", self.status_poll, methods=["GET", "POST"]),
            Route("/api/1/sms/in", self.reply_poll, methods=["GET", "POST"]),
            Route("/api/3/sms/out/poll", self.out_poll, methods=["GET"]),
            Route("/api/2/sms/list", self.sent_list, methods=["GET", "POST"]),
        ]

    async def _params(self, request: Request) -> dict[str, str]:
        params = dict(request.query_params)
        if request.method == "POST":
            raw = (await request.body()).decode("utf-8", errors="strict")
            params |= dict(parse_qsl(raw, keep_blank_values=True))
        return params

    def _account(self, request: Request, params: dict[str, str]) -> AccountState | None:
        user, password = params.get("userId"), params.get("password")
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
        return self.state.authenticate(user, password)

    async def _authed(self, request: Request) -> tuple[AccountState | None, dict[str, str] | Response]:
        try:
            params = await self._params(request)
        except UnicodeDecodeError:
            return None, xml_answer(400, "", error_code="400", error="Form body is not UTF-8")
        account = self._account(request, params)
        if account is None:
            return None, xml_answer(401, params.get("messageId", ""), error_code="401", error="Unauthorised")
        return account, params

    async def send(self, request: Request) -> Response:
        account, params = await self._authed(request)
        if account is None or isinstance(params, Response):
            assert isinstance(params, Response)
            return params
        message_id = params.get("messageId") or str(uuid.uuid4())
        problem = self._send_problem(params, message_id)
        if problem is not None:
            return xml_answer(400, message_id, error_code="400", error=problem)
        items = [self.state.resolve(account, a) for a in params["to"].split()]
        numbers = {n for item in items for n in item.numbers}
        limit = account.account.daily_limit
        if limit is not None and self.state.sent_today(account) + len(numbers) > limit:
            return xml_answer(403, message_id, error_code="403",
                              error=f"Company daily message limit of {limit} exceeded")
        utf16 = params.get("contentType", "text/plain").lower() == UTF16.lower()
        body = params["body"]
        names = self.state.config.bulletin_callback_params
        self.state.accept(account, message_id=message_id, body=body, sender=params.get("from", ""), utf16=utf16,
                          parts=unicode_parts(body) if utf16 else text_parts(body), items=items,
                          reply_url=params.get(names[0]) or None, status_url=params.get(names[1]) or None)
        return xml_answer(200, message_id, items=items)

    @staticmethod
    def _send_problem(params: dict[str, str], message_id: str) -> str | None:
        for name in ("to", "body"):
            if not params.get(name, "").strip():
                return f"Missing mandatory parameter '{name}'"
        if len(message_id) > MESSAGE_ID_MAX:
            return f"messageId longer than {MESSAGE_ID_MAX} characters"
        content_type = params.get("contentType", "text/plain")
        if content_type.lower() not in _CONTENT_TYPES:
            return f"Unsupported contentType '{content_type[:40]}'"
        if len(params["body"]) > BODY_MAX:
            return f"body longer than {BODY_MAX} characters"
        if content_type.lower() != UTF16.lower() and not is_gsm(params["body"]):
            return "body holds characters outside GSM 03.38: set contentType to text/plain; charset=UTF-16"
        limit = params.get("fragmentationLimit")
        if limit is not None and not (limit.isdigit() and int(limit) >= 1):
            return "fragmentationLimit must be a positive whole number"
        return None

    async def status_poll(self, request: Request) -> Response:
        return await self._pop(request, self.state.pop_status)

    async def reply_poll(self, request: Request) -> Response:
        return await self._pop(request, self.state.pop_reply)

    async def _pop(self, request: Request, pop: object) -> Response:
        account, params = await self._authed(request)
        if account is None:
            assert isinstance(params, Response)
            return params
        item = pop(account)  # type: ignore[operator]
        if item is None:
            return Response(status_code=204)
        return Response(urlencode(list(item.items())), media_type="application/x-www-form-urlencoded")

    async def out_poll(self, request: Request) -> Response:
        account, params = await self._authed(request)
        if account is None:
            assert isinstance(params, Response)
            return params
        data = [{"messageId": m.message_id, "body": m.body, "recipientCount": len(m.deliveries),
                 "recipients": _summary([i.addressed for i in m.items]), "messageDate": iso(m.sent_at),
                 "statusCode": _summary_status([d.status for d in m.deliveries])}
                for m in self.state.out_poll(account)]
        return JSONResponse(data)

    async def sent_list(self, request: Request) -> Response:
        account, params = await self._authed(request)
        if account is None:
            assert isinstance(params, Response)
            return params
        data = []
        for m in account.messages:
            by_number = {d.number: d.status for d in m.deliveries}
            data.append({"messageId": m.message_id, "body": m.body, "messageDate": iso(m.sent_at), "recipients": [
                {"to": i.addressed, "isError": bool(i.error), "errorMessage": i.error or "",
                 "statusCode": "ERR" if i.error else _summary_status([by_number.get(n, "SNT") for n in i.numbers])}
                for i in m.items]})
        # One message per line, so a client can read the list as it arrives.
        text = "[\n" + ",\n".join(json.dumps(d, ensure_ascii=False) for d in data) + "\n]"
        return Response(text.encode("utf-8"), media_type="application/json")


def _summary(names: list[str]) -> str:
    if len(names) <= 2:
        return ", ".join(names)
    return f"{names[0]}, {names[1]} + {len(names) - 2} others"


def _summary_status(codes: list[str]) -> str:
    if not codes:
        return "ERR"
    return codes[0] if len(set(codes)) == 1 else "SNT"
