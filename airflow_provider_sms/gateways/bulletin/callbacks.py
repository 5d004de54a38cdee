"""What Bulletin Messenger posts to callback URLs: replies and status updates, in XMLv3 or FORMv1.

The organisation picks the format on Messenger's API Settings page. The trap (seed 004): in a
FORMv1 status callback ``messageId`` is the id of the *status update* (XMLv3 ``statusId``) and
``inReplyToId`` is the message's own ``messageId``. These parsers hide that: every result names
the message in ``message_id``/``in_reply_to`` and the update in ``status_id``.

Input comes from the network: bodies are size-capped, XML goes through the hardened reader, and
anything unreadable raises :class:`~airflow_provider_sms.exceptions.SmsGatewayError` only.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import parse_qsl

from airflow_provider_sms.exceptions import SmsGatewayError
from airflow_provider_sms.gateways.answers import decode_body
from airflow_provider_sms.gateways.bulletin.api import GATEWAY, reply_from_form, status_from_form
from airflow_provider_sms.gateways.bulletin.models import InboundReply, StatusUpdate
from airflow_provider_sms.gateways.xml import child_text, parse_xml

__all__ = ["CALLBACK_BODY_LIMIT", "CallbackFormat", "parse_reply_callback", "parse_status_callback"]

CallbackFormat = Literal["XMLv3", "FORMv1"]
CALLBACK_BODY_LIMIT = 100_000
# The seed's status example starts with <?xml version=\"1.0\" ?> (escaped quotes, a doc artefact).
_ESCAPED_DECLARATION = re.compile(rb'^\s*<\?xml[^>]*\\"[^>]*\?>')


def _error(reason: str) -> SmsGatewayError:
    return SmsGatewayError(f"unreadable callback: {reason}", gateway=GATEWAY)


def _form(body: bytes) -> dict[str, str]:
    if len(body) > CALLBACK_BODY_LIMIT:
        raise _error(f"a body of {len(body)} bytes (the limit is {CALLBACK_BODY_LIMIT})")
    text = decode_body(body).strip()
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=100)
    except ValueError:
        raise _error("not form-encoded") from None
    return dict(pairs)


def _xml(body: bytes) -> object:
    return parse_xml(_ESCAPED_DECLARATION.sub(b'<?xml version="1.0" ?>', body, count=1), _error,
                     limit=CALLBACK_BODY_LIMIT)


def detect_format(body: bytes, content_type: str | None = None) -> CallbackFormat:
    """XMLv3 when the body (or its content type) is XML, else FORMv1."""
    if content_type and "xml" in content_type.lower():
        return "XMLv3"
    return "XMLv3" if body.lstrip()[:1] == b"<" else "FORMv1"


def parse_status_callback(body: bytes, fmt: CallbackFormat | None = None) -> StatusUpdate:
    """A status callback body (``fmt`` detected when ``None``)."""
    fmt = fmt or detect_format(body)
    if fmt == "FORMv1":
        try:
            return status_from_form(_form(body))
        except SmsGatewayError as exc:
            raise _error(exc.message) from None
    root = _xml(body)
    if getattr(root, "tag", None) != "status-update":
        raise _error("the root element is not <status-update>")

    def text(name: str) -> str:
        return child_text(root, name) or ""  # type: ignore[arg-type]

    code = text("statusCode")
    if not code:
        raise _error("a status update without statusCode")
    return StatusUpdate(status_id=text("statusId"), message_id=text("messageId"), handset=text("from"),
                        status_code=code.upper(), to=text("to"), status_date=text("statusDate") or None,
                        error=text("error"))


def parse_reply_callback(body: bytes, fmt: CallbackFormat | None = None) -> InboundReply:
    """A reply callback body (``fmt`` detected when ``None``)."""
    fmt = fmt or detect_format(body)
    if fmt == "FORMv1":
        try:
            return reply_from_form(_form(body))
        except SmsGatewayError as exc:
            raise _error(exc.message) from None
    root = _xml(body)
    if getattr(root, "tag", None) != "inbound-message":
        raise _error("the root element is not <inbound-message>")
    recipient = next((c for c in root if getattr(c, "tag", None) == "recipient"), None)  # type: ignore[attr-defined]
    if recipient is None or not (recipient.get("msisdn") or "").strip():
        raise _error("a reply without <recipient msisdn=...>")
    return InboundReply(handset=recipient.get("msisdn").strip(), body=child_text(recipient, "body") or "",
                        in_reply_to=(root.get("messageId") or "").strip(),  # type: ignore[attr-defined]
                        display_name=(recipient.get("displayName") or "").strip(),
                        received_date=root.get("receivedDate") or None)  # type: ignore[attr-defined]
