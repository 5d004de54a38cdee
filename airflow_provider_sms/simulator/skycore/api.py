"""The Skycore XML API as the vendor documents it (seed 003, reference section 4), on ``/API/wxml/1.3/``.

Every call: an XML ``<REQUEST>`` POSTed as the raw body (the older form field ``xml`` is accepted
too); ``ACTION`` and ``API_KEY`` mandatory; the caller's IP must be on the account's allow-list
(E112); calls above the account's throughput answer E113. Answers are ``<RESPONSE>`` documents,
always HTTP 200, failures included. Each action insists on its documented mandatory elements.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from lxml import etree
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from airflow_provider_sms.simulator.skycore.state import AccountState, Received, SavedMms, SkycoreState, Subscriber

__all__ = ["API_PATH", "PREFIX", "Refused", "SkycoreApi", "failure_xml"]

PREFIX = "/API"
API_PATH = "/API/wxml/1.3/"
_MEDIA = ("IMAGE", "AUDIO", "VIDEO", "VCARD", "ICAL", "PDF", "PASSBOOK")
_DATE = "%Y-%m-%d %H:%M:%S"


class Refused(Exception):
    """A ``Failure`` answer: E-code, description and (optionally) the ``TO`` it was about."""

    def __init__(self, code: str, info: str, to: str | None = None) -> None:
        super().__init__(code)
        self.code, self.info, self.to = code, info, to


def _xml(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def _response(items: Sequence[tuple[str, str | None] | etree._Element]) -> bytes:
    root = etree.Element("RESPONSE")
    etree.SubElement(root, "STATUS").text = "Success"
    for item in items:
        if isinstance(item, tuple):
            if item[1] is not None:
                etree.SubElement(root, item[0]).text = item[1]
        else:
            root.append(item)
    return _xml(root)


def failure_xml(code: str, info: str, to: str | None = None) -> bytes:
    """A ``Failure`` answer document."""
    root = etree.Element("RESPONSE")
    etree.SubElement(root, "STATUS").text = "Failure"
    etree.SubElement(root, "ERRORCODE").text = code
    etree.SubElement(root, "ERRORINFO").text = info
    if to is not None:
        etree.SubElement(root, "TO").text = to
    return _xml(root)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class _Fields:
    """Case-insensitive access to the children of ``<REQUEST>``."""

    def __init__(self, root: etree._Element) -> None:
        self.nodes: dict[str, etree._Element] = {}
        for child in root:
            if isinstance(child.tag, str):
                self.nodes.setdefault(etree.QName(child).localname.upper(), child)

    def text(self, name: str) -> str | None:
        node = self.nodes.get(name)
        if node is None:
            return None
        value = (node.text or "").strip()
        return value or None

    def need(self, name: str, code: str, info: str, to: str | None = None) -> str:
        value = self.text(name)
        if value is None:
            raise Refused(code, info, to)
        return value

    def children(self, name: str) -> dict[str, str]:
        node = self.nodes.get(name)
        if node is None:
            return {}
        return {etree.QName(c).localname.upper(): (c.text or "").strip() for c in node if isinstance(c.tag, str)}


def _valid_number(number: str | None) -> bool:
    if not number:
        return False
    return number.isascii() and number.isdigit() and 8 <= len(number) <= 15 and not number.startswith("0")


class SkycoreApi:
    """The HTTP side: routes, parsing, authentication and one handler per action."""

    def __init__(self, state: SkycoreState) -> None:
        self.state = state
        self.handlers: dict[str, Callable[[AccountState, _Fields, str], bytes]] = {
            "sendsms": self._send_sms,
            "sendmms": self._send_mms,
            "savemms": self._save_mms,
            "sendsavedmms": self._send_saved_mms,
            "sendsavedmmscampaign": self._send_saved_mms_campaign,
            "sendmessagebysubscriberref": self._send_by_subscriber_ref,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "getsendingstatistics": self._statistics,
            "getsendingstatus": self._statistics,
            "createuser": self._create_user,
            "getmmsids": self._mms_ids,
        }
        self._reports: dict[str, bytes] = {}

    def routes(self) -> list[BaseRoute]:
        return [
            Route(API_PATH, self._endpoint, methods=["GET", "POST"]),
            Route(API_PATH + "{rest:path}", self._endpoint, methods=["GET", "POST"]),
            Route(PREFIX + "/reports/{name}", self._report, methods=["GET"]),
        ]

    async def _endpoint(self, request: Request) -> Response:
        if request.method != "POST":
            return _answer(failure_xml("E100", "Invalid request: POST an XML document"))
        body = await request.body()
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            body = parse_qs(body.decode("utf-8", "replace")).get("xml", [""])[0].encode("utf-8")
        host = request.client.host if request.client else ""
        return _answer(await run_in_threadpool(self.handle, body, host, str(request.base_url).rstrip("/")))

    async def _report(self, request: Request) -> Response:
        data = self._reports.get(request.path_params["name"])
        if data is None:
            return Response("no such report", status_code=404)
        return Response(data, media_type="text/xml; charset=utf-8")

    def handle(self, body: bytes, ip: str, base_url: str) -> bytes:
        """Answer one request body from ``ip``."""
        try:
            return self._handle(body, ip, base_url)
        except Refused as refused:
            return failure_xml(refused.code, refused.info, refused.to)

    def _handle(self, body: bytes, ip: str, base_url: str) -> bytes:
        if not body.strip():
            raise Refused("E100", "Invalid request: POST a valid XML body")
        if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
            raise Refused("E108", "XML parse error")
        try:
            root = etree.fromstring(body, parser=_parser())
        except etree.XMLSyntaxError:
            self.state.requests.append("?")
            raise Refused("E108", "XML parse error") from None
        if etree.QName(root).localname.upper() != "REQUEST":
            raise Refused("E100", "Invalid request: the root element must be REQUEST")
        fields = _Fields(root)
        action = fields.text("ACTION")
        self.state.requests.append(action or "?")
        if action is None:
            raise Refused("E101", "Action required")
        key = fields.need("API_KEY", "E102", "API_KEY required")
        state = self.state.account(key)
        if state is None:
            raise Refused("E104", "Authentication failed")
        if ip not in state.account.allowed_ips:
            raise Refused("E112", "Your IP address is not whitelisted")
        if self.state.over_throughput(state):
            raise Refused("E113", "API exceeded: throttle back and retry")
        handler = self.handlers.get(action.lower())
        if handler is None:
            raise Refused("E101", "Invalid action")
        return handler(state, fields, base_url)

    # -- common checks -----------------------------------------------------------------------------

    def _receiver(self, state: AccountState, fields: _Fields, missing: str = "E201") -> str:
        to = fields.need("TO", missing, "Receiver number required")
        if not _valid_number(to):
            raise Refused("E110", "Invalid receiver number", to)
        if to in state.account.blacklist:
            raise Refused("E114", "Number is blacklisted", to)
        return to

    def _sender(self, state: AccountState, fields: _Fields, to: str | None) -> tuple[str, str | None]:
        sender = fields.text("FROM")
        if sender is None or sender not in state.account.codes:
            raise Refused("E111", "Invalid shortcode", to)
        mask = fields.text("FROM_MASK")
        if mask is not None and len(mask) > 11:
            raise Refused("E115", "Sender mask too long", to)
        operator = fields.text("OPERATORID") or fields.text("SPID")
        if operator is not None and not operator.isdigit():
            raise Refused("E628", "Operator not supported", to)
        return sender, mask

    def _campaign_check(self, state: AccountState, campaign: str | None, to: str) -> None:
        if campaign is None:
            if state.account.enforce_campaign_check:
                raise Refused("E714", "Missing/Invalid campaignref", to)
            return
        members = state.campaigns.get(campaign)
        if members is None:
            raise Refused("E714", "Missing/Invalid campaignref", to)
        member = members.get(to)
        if member is None or not member.active:
            raise Refused("E715", "Number is not subscribed in this campaign", to)

    def _ready_mms(self, state: AccountState, mms_id: str) -> SavedMms:
        saved = self.state.mms.get(mms_id)
        if saved is None or saved.username != state.account.username:
            raise Refused("E241", "Content does not exist")
        if self.state.clock.now() < saved.ready_at:
            raise Refused("E626", "Content unavailable: encoding in progress, try later")
        return saved

    # -- SMS ---------------------------------------------------------------------------------------

    def _send_sms(self, state: AccountState, fields: _Fields, base_url: str) -> bytes:
        to = self._receiver(state, fields)
        sender, mask = self._sender(state, fields, to)
        text = fields.need("TEXT", "E712", "Text required", to)
        campaign = fields.text("CAMPAIGNREF")
        self._campaign_check(state, campaign, to)
        tracking = self.state.tracking_id("sms")
        self.state.record(Received(to, "sms", tracking, sender, text, self.state.clock.now(),
                                   state.account.username, mask=mask, campaign=campaign))
        return _response([("TRACKINGID", tracking), ("TO", to)])

    # -- MMS content -------------------------------------------------------------------------------

    def _slides(self, root: etree._Element) -> list[dict[str, Any]]:
        slides: list[dict[str, Any]] = []
        for node in root.iter():
            if not isinstance(node.tag, str) or etree.QName(node).localname.upper() != "SLIDE":
                continue
            slide: dict[str, Any] = {}
            for child in node:
                if not isinstance(child.tag, str):
                    continue
                name = etree.QName(child).localname.upper()
                if name in _MEDIA:
                    if name.lower() in slide:
                        raise Refused("E227", "Multiple files of the same type in one slide")
                    url = next(((u.text or "").strip() for u in child if isinstance(u.tag, str)), "")
                    if not url.startswith(("http://", "https://")):
                        raise Refused("E312", "Slide media URL missing or not a full URL")
                    slide[name.lower()] = url
                elif name == "TEXT":
                    slide["text"] = child.text or ""
                elif name == "DURATION":
                    slide["duration"] = (child.text or "").strip()
            duration = slide.get("duration", node.get("duration"))
            if duration is not None and (not str(duration).isdigit() or not 1 <= int(duration) <= 60):
                raise Refused("E230", "Invalid slide duration")
            if "video" in slide and ("image" in slide or "audio" in slide):
                raise Refused("E224" if "audio" in slide else "E226", "Video cannot share a slide with image/audio")
            if len(slide.get("text", "")) > 500:
                raise Refused("E225", "Slide text too long (500 characters)")
            if not any(k in slide for k in (*(m.lower() for m in _MEDIA), "text")):
                raise Refused("E311", "Empty slide")
            slides.append(slide)
        if not slides:
            raise Refused("E302", "At least one slide required")
        if len(slides) > 8:
            raise Refused("E223", "Too many slides (8 at most)")
        return slides

    def _store(self, state: AccountState, fields: _Fields, root: etree._Element) -> SavedMms:
        name = fields.need("NAME", "E301", "Name required") if "CONTENT" not in fields.nodes else (
            _Fields(fields.nodes["CONTENT"]).need("NAME", "E301", "Name required"))
        subject = fields.need("SUBJECT", "E303", "Subject required")
        slides = self._slides(root)
        encodes = any("audio" in s or "video" in s for s in slides)
        now = self.state.clock.now()
        saved = SavedMms(str(self.state.next_id()), state.account.username, name, subject,
                         fields.text("FALLBACKSMSTEXT"), slides,
                         now + (self.state.config.skycore_encoding_delay if encodes else 0.0))
        with self.state.lock:
            self.state.mms[saved.mms_id] = saved
        self.state.post(state, "MMS_MT", "N003", {"MMSID": saved.mms_id}, saved.ready_at)
        return saved

    def _save_mms(self, state: AccountState, fields: _Fields, base_url: str) -> bytes:
        saved = self._store(state, fields, _root(fields))
        return _response([("MMSID", saved.mms_id)])

    def _deliver_mms(self, state: AccountState, saved: SavedMms, to: str, sender: str, *, mask: str | None = None,
                     subject: str | None = None, texts: Mapping[int, str] | None = None,
                     data: Mapping[str, str] | None = None, campaign: str | None = None) -> str:
        slides = [dict(s) for s in saved.slides]
        for number, text in (texts or {}).items():
            if 1 <= number <= len(slides):
                slides[number - 1]["text"] = text
        tracking = self.state.tracking_id("mms")
        self.state.record(Received(to, "mms", tracking, sender, " / ".join(s.get("text", "") for s in slides),
                                   self.state.clock.now(), state.account.username, mask=mask, mms_id=saved.mms_id,
                                   subject=subject or saved.subject, slides=slides, campaign=campaign,
                                   data=dict(data or {})))
        return tracking

    def _send_mms(self, state: AccountState, fields: _Fields, base_url: str) -> bytes:
        to = self._receiver(state, fields, "E621")
        sender, mask = self._sender(state, fields, to)
        campaign = fields.text("CAMPAIGNREF")
        self._campaign_check(state, campaign, to)
        if fields.text("SUBJECT") is None and fields.text("FALLBACKSMSTEXT") is None:
            raise Refused("E303", "Subject or fallback SMS text required", to)
        saved = self._store(state, fields, _root(fields))
        tracking = self._deliver_mms(state, saved, to, sender, mask=mask, campaign=campaign)
        return _response([("MMSID", saved.mms_id), ("TRACKINGID", tracking), ("TO", to)])

    def _send_saved_mms(self, state: AccountState, fields: _Fields, base_url: str) -> bytes:
        mms_id = fields.need("MMSID", "E620", "MMSID required")
        to = self._receiver(state, fields, "E621")
        sender, mask = self._sender(state, fields, to)
        campaign = fields.text("CAMPAIGNREF")
        self._campaign_check(state, campaign, to)
        saved = self._ready_mms(state, mms_id)
        texts: dict[int, str] = {}
        for node in _root(fields):
            if isinstance(node.tag, str) and etree.QName(node).localname.upper() == "CUSTOMTEXT":
                custom = _Fields(node)
                slide = custom.text("SLIDE") or ""
                if not slide.isdigit():
                    raise Refused("E229", "CUSTOMTEXT needs a slide number")
                texts[int(slide)] = custom.text("VALUE") or ""
        tracking = self._deliver_mms(state, saved, to, sender, mask=mask, subject=fields.text("CUSTOMSUBJECT"),
                                     texts=texts, data=fields.children("DATA"), campaign=campaign)
        return _response([("MMSID", mms_id), ("TRACKINGID", tracking), ("TO", to)])

    def _send_saved_mms_campaign(self, state: AccountState, fields: _Fields, base_url: str) -> bytes:
        mms_id = fields.need("MMSID", "E620", "MMSID required")
        campaign = fields.need("TOCAMPAIGN", "E624", "TOCAMPAIGN required")
        members = state.campaigns.get(campaign)
        if members is None:
            raise Refused("E714", "Missing/Invalid CampaignID")
        saved = self._ready_mms(state, mms_id)
        sender = state.account.codes[0]
        for member in list(members.values()):
            if member.active:
                self._deliver_mms(state, saved, member.number, sender, data=member.data, campaign=campaign)
        return _response([("MMSID", mms_id), ("SCHEDULEDID", str(self.state.next_id()))])

    def _send_by_subscriber_ref(self, state: AccountState, fields: _Fields, base_url: str) -> bytes:
        ref = fields.need("SUBSCRIBERREF", "E201", "SUBSCRIBERREF required")
        campaign = fields.need("CAMPAIGNREF", "E714", "Missing/Invalid campaignref")
        members = state.campaigns.get(campaign)
        if members is None:
            raise Refused("E714", "Missing/Invalid campaignref")
        text, mms_id = fields.text("TEXT"), fields.text("MMSID")
        if text is None and mms_id is None:
            raise Refused("E712", "TEXT or MMSID required")
        saved = self._ready_mms(state, mms_id) if mms_id is not None else None
        sender = fields.text("FROM") or state.account.codes[0]
        if sender not in state.account.codes:
            raise Refused("E111", "Invalid shortcode")
        targets = [m for m in members.values() if m.active and m.ref == ref]
        if not targets:
            raise Refused("E715", "No subscriber with this reference in this campaign")
        blocks: list[etree._Element] = [_el("SUBSCRIBERREF", ref), _el("CAMPAIGNREF", campaign)]
        for member in targets:
            block = etree.Element("SUBSCRIBER")
            if saved is not None:
                tracking = self._deliver_mms(state, saved, member.number, sender, data=member.data, campaign=campaign)
                details = "MMS request accepted and queued for delivery"
            else:
                tracking = self.state.tracking_id("sms")
                self.state.record(Received(member.number, "sms", tracking, sender, text or "", self.state.clock.now(),
                                           state.account.username, campaign=campaign))
                details = "SMS request accepted and queued for delivery"
            for name, value in (("STATUS", "Success"), ("TRACKINGID", tracking), ("TO", member.number),
                                ("FROM", sender), ("STATUSDETAILS", details)):
                etree.SubElement(block, name).text = value
            blocks.append(block)
        return _response(blocks)

    # -- campaigns ---------------------------------------------------------------------------------

    def _membership(self, state: AccountState, fields: _Fields) -> tuple[str, str, dict[str, Subscriber]]:
        campaign = fields.need("CAMPAIGNID", "E901", "CAMPAIGNID required")
        number = fields.text("MOBILE")
        if not _valid_number(number):
            raise Refused("E902", "Invalid or missing MOBILE")
        members = state.campaigns.get(campaign)
        if members is None:
            raise Refused("E903", "Invalid CAMPAIGNID")
        assert number is not None
        return campaign, number, members

    def _subscribe(self, state: AccountState, fields: _Fields, base_url: str) -> bytes:
        campaign, number, members = self._membership(state, fields)
        current = members.get(number)
        if current is not None and current.self_unsubscribed:
            raise Refused("E905", "Number unsubscribed itself and cannot be re-subscribed")
        data = fields.children("DATA")
        with self.state.lock:
            members[number] = Subscriber(number, data, data.get("SUBSCRIBERREF") or (current.ref if current else None))
        self.state.post(state, "SUB", "N301", {"MOBILE": number, "CAMPAIGNID": campaign}, self.state.clock.now())
        return _response([("CAMPAIGNID", campaign), ("MOBILE", number)])

    def _unsubscribe(self, state: AccountState, fields: _Fields, base_url: str) -> bytes:
        campaign, number, members = self._membership(state, fields)
        current = members.get(number)
        if current is None or not current.active:
            raise Refused("E904", "Number is not subscribed to this campaign")
        with self.state.lock:
            current.active = False
        self.state.post(state, "SUB", "N302", {"MOBILE": number, "CAMPAIGNID": campaign}, self.state.clock.now())
        return _response([("CAMPAIGNID", campaign), ("MOBILE", number)])

    # -- statistics, users, content list -------------------------------------------------------------

    def _statistics(self, state: AccountState, fields: _Fields, base_url: str) -> bytes:
        start = _date(fields.need("START_DATE", "E506", "START_DATE required"), "E506")
        end = _date(fields.need("END_DATE", "E507", "END_DATE required"), "E507")
        if end < start:
            raise Refused("E508", "END_DATE before START_DATE")
        if not self.state.statistics_allowed(state):
            raise Refused("E510", "Statistics requested too often")
        zone = ZoneInfo("America/New_York")  # the vendor's report times are server local time (-04/-05)
        lo = start.replace(tzinfo=zone).timestamp()
        hi = end.replace(tzinfo=zone).timestamp()
        root = etree.Element("RESPONSE")
        listing = etree.SubElement(root, "SENDING_LIST")
        with self.state.lock:
            chosen = [m for m in self.state.messages if m.username == state.account.username and lo <= m.sent_at <= hi]
        now = self.state.clock.now()
        for m in chosen:
            sent = dt.datetime.fromtimestamp(m.sent_at, zone).strftime(_DATE)
            if m.kind == "sms":
                node = etree.SubElement(listing, "TEXT", id=m.tracking_id, to=m.number, carrier="Simulated",
                                        attrib={"from": m.sender, "body": m.text})
                etree.SubElement(node, "ACK", gw="10", net="0", time=sent)
            else:
                node = etree.SubElement(listing, "CONTENT", id=m.tracking_id, to=m.number, carrier="Simulated",
                                        delivery="binary", contentid=m.mms_id or "", contentname=m.subject or "",
                                        attrib={"from": m.sender})
                node = etree.SubElement(node, "MSG_STATUS")
                etree.SubElement(node, "ACK", gw="9", net="0", time=sent)
            if now >= m.sent_at + self.state.config.delivery_delay:
                etree.SubElement(node, "DLR", gw="20", net="0", time=sent)
        name = secrets.token_hex(8) + ".xml"
        self._reports[name] = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
        return _response([("URL", f"{base_url}{PREFIX}/reports/{name}")])

    def _create_user(self, state: AccountState, fields: _Fields, base_url: str) -> bytes:
        username = fields.need("NEWUSER", "E152", "NEWUSER required")
        password = fields.need("NEWPASS", "E153", "NEWPASS required")
        with self.state.lock:
            if username in state.users:
                raise Refused("E151", "'username' already exists. Duplicate username")
            state.users[username] = secrets.token_urlsafe(24)
            new_key = state.users[username]
        digest = hashlib.md5(password.encode(), usedforsecurity=False).hexdigest()
        return _response([("USERNAME", username), ("PASSWORD", digest), ("API_KEY", new_key)])

    def _mms_ids(self, state: AccountState, fields: _Fields, base_url: str) -> bytes:
        with self.state.lock:
            ids = [m.mms_id for m in self.state.mms.values() if m.username == state.account.username]
        if not ids:
            raise Refused("E200", "No MMS Templates were created in this account.")
        return _response([("MMSIDS", ",".join(ids))])


def _answer(body: bytes) -> Response:
    return Response(body, media_type="text/xml; charset=utf-8")


def _el(name: str, text: str) -> etree._Element:
    node = etree.Element(name)
    node.text = text
    return node


def _root(fields: _Fields) -> etree._Element:
    any_node = next(iter(fields.nodes.values()))
    parent = any_node.getparent()
    assert parent is not None
    return parent


def _date(text: str, code: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(text, _DATE)
    except ValueError:
        raise Refused(code, "Invalid date (YYYY-MM-DD HH:MM:SS)") from None
