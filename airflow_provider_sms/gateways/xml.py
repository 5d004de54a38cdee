"""Reading and writing XML for the gateways that speak it (Bulletin Messenger, Skycore, their callbacks).

Answers and callbacks come from the network, so the parser is hardened: no DTDs (a ``<!DOCTYPE``
is refused outright, which rules out entity-expansion bombs and external entities), no network
access, no huge-tree mode, and a cap on the body size. Whatever goes wrong comes out as the error
the caller chose, so a protocol module decides whether an unreadable answer is ambiguous (a send)
or transient (a status poll).

Requests are built with :func:`element`/:func:`to_bytes` (lxml), never by string concatenation, so
text with ``<``, ``&``, quotes and emoji round-trips.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from lxml import etree

from airflow_provider_sms.exceptions import SmsError

__all__ = ["MAX_XML_BYTES", "child_text", "element", "has_dtd", "parse_xml", "pull_parser", "to_bytes"]

MAX_XML_BYTES = 1_000_000
"""Answers and callbacks larger than this are refused unread (the gateways' documents are a few KB)."""

_CONTROL = {c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)}


def _parser() -> etree.XMLParser:
    # A new parser per call: lxml parsers are not safe to share between threads.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_blank_text=True, recover=False)


def parse_xml(body: bytes | str, error: Callable[[str], SmsError], *,
              limit: int = MAX_XML_BYTES, complete_root: bool = False) -> etree._Element:
    """The root element of ``body``, or ``error(reason)`` raised for anything that is not safe, small XML.

    :param error: builds the exception to raise from a short reason (never the body itself).
    :param limit: the largest body accepted, in bytes.
    :param complete_root: accept a document whose root element is never closed (the only defect
        allowed): Bulletin's own examples print answers that way.
    """
    data = body.encode("utf-8") if isinstance(body, str) else body
    if len(data) > limit:
        raise error(f"an XML document of {len(data)} bytes (the limit is {limit})")
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise error("an XML document with a DTD (refused: entities are never expanded)")
    try:
        root = etree.fromstring(data, parser=_parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        closed = _closed_root(data) if complete_root else None
        if closed is None:
            raise error(f"unreadable XML ({type(exc).__name__})") from None
        try:
            root = etree.fromstring(closed, parser=_parser())
        except (etree.XMLSyntaxError, ValueError):
            raise error(f"unreadable XML ({type(exc).__name__})") from None
    if root is None:
        raise error("an empty XML document")
    return root


_ROOT_START = re.compile(rb"^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<([A-Za-z_][\w.\-]*)[^>]*?(/?)>", re.S)


def _closed_root(data: bytes) -> bytes | None:
    """``data`` with its root's end tag appended, when the root opens and is never closed."""
    match = _ROOT_START.match(data)
    if match is None or match.group(2) == b"/":
        return None
    name = match.group(1)
    if b"</" + name in data:
        return None
    return data.rstrip() + b"</" + name + b">"


def child_text(parent: etree._Element, name: str) -> str | None:
    """Text of the first child called ``name`` (case-insensitive), stripped; ``None`` when absent."""
    wanted = name.lower()
    for child in parent:
        if isinstance(child.tag, str) and etree.QName(child).localname.lower() == wanted:
            return (child.text or "").strip()
    return None


def element(tag: str, text: str | None = None, attributes: Mapping[str, str] | None = None,
            children: Mapping[str, str | None] | None = None) -> etree._Element:
    """An element with optional text, attributes and simple text children (``None`` children are left out).

    :raises ValueError: text holding a control character XML 1.0 cannot carry (callers validate
        message text before building requests, so this only guards against programming errors).
    """
    node = etree.Element(tag, attrib=dict(attributes or {}))
    if text is not None:
        node.text = _xml_text(text)
    for name, value in (children or {}).items():
        if value is not None:
            etree.SubElement(node, name).text = _xml_text(value)
    return node


def _xml_text(text: str) -> str:
    if any(ord(ch) in _CONTROL for ch in text):
        raise ValueError("text holds a control character that XML 1.0 cannot carry")
    return text


def to_bytes(root: etree._Element) -> bytes:
    """UTF-8 bytes of ``root`` with an XML declaration."""
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def pull_parser() -> etree.XMLPullParser:
    """A hardened incremental parser (start and end events) for streamed documents: as :func:`parse_xml`.

    Callers feed it chunk by chunk, refuse chunks holding ``<!DOCTYPE``/``<!ENTITY`` with
    :func:`has_dtd`, and clear elements once read so memory stays flat.
    """
    return etree.XMLPullParser(events=("start", "end"), resolve_entities=False, no_network=True, load_dtd=False,
                               dtd_validation=False, huge_tree=False, remove_blank_text=True)


def has_dtd(chunk: bytes | str) -> bool:
    """True when ``chunk`` declares a DTD or an entity (refused, as in :func:`parse_xml`)."""
    data = (chunk.encode("utf-8", "replace") if isinstance(chunk, str) else chunk).upper()
    return b"<!DOCTYPE" in data or b"<!ENTITY" in data
