"""Callback bodies Messenger posts, written from the vendor's callback page (seed 004).

XMLv3 documents are built with lxml (text escaped, body in CDATA as the vendor shows); FORMv1 is
a form post, where the status's ``messageId`` field carries the *status* id and ``inReplyToId``
the message's ``messageId`` -- the vendor's own trap, reproduced on purpose.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

from lxml import etree

FORM = "application/x-www-form-urlencoded; charset=utf-8"
XML = "application/xml; charset=utf-8"
_VARIABLE = re.compile(r"\{!([A-Za-z.]+)\}")


def fill_url(url: str, values: dict[str, str]) -> str:
    """Replace ``{!messageId}``-style variables (case-insensitive, as the vendor's examples mix cases)."""
    lowered = {k.lower(): v for k, v in values.items()}
    return _VARIABLE.sub(lambda m: quote(lowered.get(m.group(1).lower(), ""), safe=""), url)


def status_body(fmt: str, *, status_id: str, message_id: str, to: str, handset: str, code: str, date: str,
                error: str) -> tuple[bytes, str]:
    """A status callback: ``(body, content type)``."""
    if fmt == "FORMv1":
        fields = [("messageId", status_id), ("to", to), ("from", handset), ("statusCode", code),
                  ("inReplyToId", message_id), ("error", error)]
        return urlencode(fields).encode("ascii"), FORM
    root = etree.Element("status-update")
    for name, value in (("messageId", message_id), ("to", to), ("from", handset), ("statusCode", code),
                        ("statusDate", date), ("statusId", status_id), ("error", error)):
        etree.SubElement(root, name).text = value
    return etree.tostring(root, xml_declaration=True, encoding="utf-8"), XML


def reply_body(fmt: str, *, reply_id: str, in_reply_to: str, to: str, handset: str, display_name: str, body: str,
               date: str) -> tuple[bytes, str]:
    """A reply callback: ``(body, content type)``."""
    if fmt == "FORMv1":
        fields = [("messageId", reply_id), ("to", to), ("from", handset), ("inReplyToId", in_reply_to),
                  ("body", body)]
        return urlencode(fields).encode("ascii"), FORM
    root = etree.Element("inbound-message", messageId=in_reply_to, receivedDate=date)
    recipient = etree.SubElement(root, "recipient", displayName=display_name, msisdn=handset)
    etree.SubElement(recipient, "body").text = body if "]]>" in body else etree.CDATA(body)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8"), XML
