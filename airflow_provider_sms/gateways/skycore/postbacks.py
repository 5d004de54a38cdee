"""Skycore postbacks (delivery receipts, inbound SMS/MMS, subscriptions, MMS encoding), both XML generations.

* current: a flat ``<POSTBACK>`` with ``ORIGIN``, ``CODE`` and the fields as children;
* older (1.3 Appendix D): ``<NOTIFICATION ID=.. CREATED=..>`` with ``ORIGIN``, ``CODE`` and the fields
  inside ``<BODY>``, a ``<STATUS PROTOCOL=.. STATUS=../>`` (or ``CELLY``/``PROVIDER``/``TEXT``)
  element instead of a status text; 1.3 MMS MO wraps that in ``<POSTBACK><NOTIFICATION>``.

:func:`parse_postback` reads either into one :class:`Postback`. Bodies come from the network:
the hardened reader of :mod:`airflow_provider_sms.gateways.xml` refuses DTDs and oversized input,
and anything unreadable is a :class:`SkycorePostbackError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree

from airflow_provider_sms.core.results import DeliveryStatus, MessageStatus
from airflow_provider_sms.exceptions import SmsGatewayError
from airflow_provider_sms.gateways.skycore.codes import postback_code
from airflow_provider_sms.gateways.xml import child_text, parse_xml

__all__ = ["MAX_POSTBACK_BYTES", "Postback", "SkycorePostbackError", "parse_postback"]

MAX_POSTBACK_BYTES = 256_000
"""Postbacks are one notification each (a few hundred bytes); anything bigger is refused."""

_GATEWAY = "skycore"


class SkycorePostbackError(SmsGatewayError):
    """A postback body that is not a readable Skycore postback."""


@dataclass(frozen=True)
class Postback:
    """One Skycore notification.

    :param fields: every simple child (``TO``, ``FROM``, ``TRACKINGID``, ``MMSID``, ``STATUS``,
        ``TEXT``, ``MOBILE``, ``CAMPAIGNID``...) by upper-case name.
    :param status_attributes: attributes of an old-style ``<STATUS .../>`` element.
    :param files: ``CONTENT/FILE`` URLs of an inbound MMS.
    """

    origin: str
    code: str
    generation: Literal["postback", "notification"]
    fields: Mapping[str, str] = field(default_factory=dict)
    status_attributes: Mapping[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    notification_id: str | None = None
    created: str | None = None

    def get(self, name: str) -> str | None:
        return self.fields.get(name.upper())

    @property
    def tracking_id(self) -> str | None:
        return self.get("TRACKINGID")

    @property
    def to(self) -> str | None:
        return self.get("TO") or self.get("MOBILE")

    @property
    def status_text(self) -> str | None:
        """The status words (``Message Sent/Delivered``) or the old ``TEXT`` attribute."""
        return self.get("STATUS") or self.status_attributes.get("TEXT") or None

    @property
    def meaning(self) -> str:
        entry = postback_code(self.code)
        return entry.meaning if entry else "undocumented postback code"

    @property
    def delivery_status(self) -> DeliveryStatus | None:
        """The delivery status a receipt implies (None for inbound, subscription and content events)."""
        entry = postback_code(self.code)
        if entry is None or entry.status is None:
            return None
        words = (self.status_text or "").lower()
        if entry.code in ("E202", "N102"):
            if "expired" in words:
                return DeliveryStatus.EXPIRED
            if "rejected" in words:
                return DeliveryStatus.REJECTED
            if entry.code == "N102" and ("failed" in words or "notsupported" in words.replace(" ", "")):
                return DeliveryStatus.FAILED
        return entry.status

    def message_status(self) -> MessageStatus | None:
        """A receipt as a :class:`MessageStatus` keyed by its tracking id (None for other postbacks)."""
        status = self.delivery_status
        if status is None:
            return None
        return MessageStatus(status, recipient=self.to, message_id=self.tracking_id, code=self.code,
                             text=self.status_text or self.meaning)


def _error(reason: str) -> SkycorePostbackError:
    return SkycorePostbackError(f"unreadable postback: {reason}", gateway=_GATEWAY)


def _name(node: etree._Element) -> str:
    return etree.QName(node).localname.upper()


def _collect(node: etree._Element, fields: dict[str, str], attributes: dict[str, str], files: list[str]) -> None:
    for child in node:
        if not isinstance(child.tag, str):
            continue
        name = _name(child)
        if name == "BODY":
            _collect(child, fields, attributes, files)
        elif name == "CONTENT":
            files.extend((f.text or "").strip() for f in child.iter() if isinstance(f.tag, str)
                         and _name(f) in ("FILE", "URL") and (f.text or "").strip())
        elif name == "STATUS" and len(child) == 0 and child.attrib and not (child.text or "").strip():
            attributes.update({str(k).upper(): str(v) for k, v in child.attrib.items()})
        elif len(child) == 0:
            fields.setdefault(name, (child.text or "").strip())


def parse_postback(body: bytes | str) -> Postback:
    """Read one postback of either generation.

    :raises SkycorePostbackError: not XML, a DTD, too big, not a POSTBACK/NOTIFICATION, or no
        ``ORIGIN``/``CODE``.
    """
    root = parse_xml(body, _error, limit=MAX_POSTBACK_BYTES)
    name = _name(root)
    if name == "POSTBACK":
        inner = next((c for c in root if isinstance(c.tag, str) and _name(c) == "NOTIFICATION"), None)
        if inner is not None and child_text(root, "ORIGIN") is None:
            root, name = inner, "NOTIFICATION"
    if name not in ("POSTBACK", "NOTIFICATION"):
        raise _error(f"root element {name[:40]!r} (expected POSTBACK or NOTIFICATION)")
    origin, code = child_text(root, "ORIGIN"), child_text(root, "CODE")
    if not origin or not code:
        raise _error("no ORIGIN or CODE")
    fields: dict[str, str] = {}
    attributes: dict[str, str] = {}
    files: list[str] = []
    _collect(root, fields, attributes, files)
    fields.pop("ORIGIN", None)
    fields.pop("CODE", None)
    attrs = {str(k).upper(): str(v) for k, v in root.attrib.items()}
    return Postback(
        origin=origin.upper(),
        code=code.upper(),
        generation="postback" if name == "POSTBACK" else "notification",
        fields=fields,
        status_attributes=attributes,
        files=tuple(files),
        notification_id=attrs.get("ID"),
        created=attrs.get("CREATED"),
    )
