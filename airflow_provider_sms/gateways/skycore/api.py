"""Skycore HTTP/XML API v1 (1.3), sans-I/O: build XML requests, parse XML answers.

Reference: ``reference/gateways.md`` section 4 and the vendor's API page (seed 003).

Wire rules this module keeps:

* every call is ``POST <API path>`` with a UTF-8 XML document as the raw body
  (``Content-Type: text/xml; charset=utf-8``): ``<REQUEST><ACTION>..</ACTION><API_KEY>..</API_KEY>
  ...</REQUEST>``, built with lxml (never by string concatenation), so text with ``<``, ``&``,
  quotes and emoji round-trips; text XML cannot carry (control characters) is refused first;
* answers are ``<RESPONSE>`` documents with ``STATUS`` ``Success``/``Failure``; failures come as
  HTTP 200 with ``ERRORCODE``/``ERRORINFO`` (mapped by :mod:`.codes`); answers are read with the
  hardened reader (no DTDs, no network, size cap); an unreadable answer to a send is ambiguous;
* one recipient per send request (``sendSMS``, ``sendMMS``, ``sendSavedMMS``); numbers are
  international digits without ``+``;
* the API key is only ever an element of the body; error text is scrubbed of it (and of a new
  user's password) and cut short.

Choices where the reference is UNCERTAIN:

* ``getSendingStatistics`` action name (the example XML says ``getSendingStatus``): configurable,
  default ``getSendingStatistics``; its answer's link element is not named in the documents: the
  first ``URL``/``LINK``/``FILE``/``REPORT`` child, else any child whose text is an http(s) URL;
* statistics dates are sent in ``time_zone`` (default ``America/New_York``: the vendor's examples
  carry ``-04`` offsets), as ``YYYY-MM-DD HH:MM:SS``;
* SMS text: the 1.3 appendix limits it to 160 characters "to avoid splitting"; by default a text
  must fit one SMS part (GSM-7 160 / UCS-2 70), ``max_parts`` allows up to 10;
* ``saveMMS``/``sendMMS`` use the newer flat form (``NAME``, ``SUBJECT``, ``FALLBACKSMSTEXT``,
  ``SLIDE``s directly under ``REQUEST``), as the vendor's newer pages and public clients do.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lxml import etree

from airflow_provider_sms.core.contacts import ImportLine, ImportOutcome
from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.mms import MmsContent, MmsMessage
from airflow_provider_sms.core.results import DeliveryStatus, RecipientResult, SendResult
from airflow_provider_sms.core.text import check_text
from airflow_provider_sms.exceptions import (
    Problem,
    SmsAmbiguousError,
    SmsAuthenticationError,
    SmsCapabilityError,
    SmsConfigurationError,
    SmsError,
    SmsGatewayError,
    SmsRateLimitedError,
    SmsTransientError,
    SmsValidationError,
)
from airflow_provider_sms.gateways.answers import header, parse_retry_after, scrub, secret_forms
from airflow_provider_sms.gateways.checks import number_problems
from airflow_provider_sms.gateways.http import HttpRequest, HttpResponse
from airflow_provider_sms.gateways.skycore.codes import error_code
from airflow_provider_sms.gateways.skycore.mms import content_problems, slide_elements, xml_problem
from airflow_provider_sms.gateways.xml import child_text, element, has_dtd, parse_xml, pull_parser, to_bytes

__all__ = [
    "DEFAULT_API_PATH",
    "DEFAULT_API_URL",
    "DEFAULT_STATISTICS_ACTION",
    "DEFAULT_TIME_ZONE",
    "GATEWAY",
    "STATISTICS_COLUMNS",
    "SkycoreApi",
]

GATEWAY = "skycore"
DEFAULT_API_URL = "https://secure.skycore.com/API/wxml/1.3/"
DEFAULT_API_PATH = "/API/wxml/1.3/"
DEFAULT_STATISTICS_ACTION = "getSendingStatistics"
DEFAULT_TIME_ZONE = "America/New_York"
_XML_HEADERS = {"Content-Type": "text/xml; charset=utf-8"}
_MAX_ANSWER_BYTES = 200_000
_ACTION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_ELEMENT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
# A lost answer to these may hide a text sent (or a user created): never replayed blindly.
_NOT_REPLAY_SAFE = frozenset({"sendSMS", "sendMMS", "sendSavedMMS", "sendSavedMMSCampaign",
                              "sendMessageBySubscriberRef", "createUser"})
_OWN_EXTRAS = frozenset({"campaign_ref", "operator_id"})
STATISTICS_COLUMNS = ("section", "group_id", "campaign_id", "kind", "id", "to", "from", "carrier", "body",
                      "content_id", "content_name", "delivery", "status", "status_time")
_SECTIONS = {"BATCHES", "AUTORESPONDERS", "SUBSCRIPTIONS", "SENDING_LIST"}
_GROUPS = {"BATCH", "AUTORESPONDER", "SUB"}
_STATUS_TAGS = {"INQUE", "INIT", "ACK", "DLR", "ERROR", "EXPIRED", "REJECTED", "OPENED"}


@dataclass(frozen=True)
class _Sender:
    from_: str
    mask: str | None


class SkycoreApi:
    """The Skycore XML API: every action's request and answer, no I/O.

    :param api_key: the account's API key (API settings); only ever an element of the body.
    :param path: path of the API URL (the connection's host is the full URL shown in the account).
    :param short_code: default ``FROM`` (short or long code) when a send names no numeric sender.
    :param operator_id: default ``OPERATORID`` (carrier id), if the account needs one.
    :param campaign_ref: default ``CAMPAIGNREF`` of sends and campaign of subscriptions.
    :param sender_mask: default ``FROM_MASK`` (alphanumeric sender shown instead of the code).
    """

    gateway: str = GATEWAY
    max_recipients_per_request: int = 1
    sender_mask_max: int = 11
    max_parts_limit: int = 10

    def __init__(self, api_key: str, *, path: str = DEFAULT_API_PATH, short_code: str | None = None,
                 operator_id: str | None = None, campaign_ref: str | None = None, sender_mask: str | None = None,
                 statistics_action: str = DEFAULT_STATISTICS_ACTION, time_zone: str = DEFAULT_TIME_ZONE) -> None:
        if not api_key or not api_key.strip():
            raise SmsConfigurationError("the Skycore API key is empty", gateway=GATEWAY)
        if not _ACTION_NAME.fullmatch(statistics_action):
            raise SmsConfigurationError(f"statistics_action must be an action name, got {statistics_action!r}",
                                        gateway=GATEWAY)
        try:
            self._zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SmsConfigurationError(f"unknown time zone {time_zone!r}", gateway=GATEWAY) from None
        self._key = api_key
        self.path = path or "/"
        self.short_code = short_code or None
        self.operator_id = operator_id or None
        self.campaign_ref = campaign_ref or None
        self.sender_mask = sender_mask or None
        self.statistics_action = statistics_action
        self.time_zone = time_zone

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={self.path!r}, short_code={self.short_code!r})"

    # ================================================================ plumbing

    def _request(self, action: str, children: Iterable[etree._Element], *,
                 recipients: Sequence[str] = ()) -> HttpRequest:
        root = element("REQUEST", children={"ACTION": action, "API_KEY": self._key})
        root.extend(children)
        return HttpRequest("POST", self.path, content=to_bytes(root), headers=dict(_XML_HEADERS),
                           sends_message=action in _NOT_REPLAY_SAFE, recipients=list(recipients))

    def safe_text(self, text: str, *secrets: str | None) -> str:
        """Gateway text fit for an error message: the key (and ``secrets``) replaced by ``***``, shortened."""
        # Every form an echo of the request may show the key in (computed only when there is an error).
        return scrub(text, secret_forms([*secrets, self._key]))

    def code_error(self, code: str, info: str, action: str, *secrets: str | None) -> SmsError:
        """The exception for E-code ``code`` answered to ``action`` (vendor text kept when it adds something)."""
        entry = error_code(code)
        said = self.safe_text(info, *secrets) if info else ""
        where = f" (field {entry.field})" if entry.field else ""
        message = f"{action} refused: {entry.meaning}{where}"
        if said and said.lower() != entry.meaning.lower():
            message += f": {said}"
        if issubclass(entry.error, SmsValidationError):
            error = SmsValidationError([Problem(entry.field or action, f"{entry.meaning} ({entry.code}: {said})")],
                                       gateway=self.gateway)
            error.code = entry.code
            return error
        return entry.error(message, gateway=self.gateway, code=entry.code)

    def check_response(self, response: HttpResponse, action: str, recipients: Sequence[str] = ()) -> None:
        """Raise for an HTTP status that is not 2xx (the API itself answers 200, failures included).

        429 is rate limiting. Every 5xx (503 too: the vendor does not say that nothing was done,
        and Skycore has no dedupe id to make a repeat safe), 408 and 425 are ambiguous for sends
        and transient otherwise; 401/403 are credential or allow-list problems.
        """
        status = response.status
        if 200 <= status < 300:
            return
        retry_after = parse_retry_after(header(response.headers, "Retry-After"))
        text = f"{action} answered HTTP {status}"
        if status == 429:
            raise SmsRateLimitedError(text, gateway=self.gateway, code=status, retry_after=retry_after)
        if status >= 500 or status in (408, 425):
            if action in _NOT_REPLAY_SAFE:
                raise SmsAmbiguousError(f"{text}; the gateway may have acted on it", gateway=self.gateway,
                                        recipients_in_doubt=recipients)
            raise SmsTransientError(text, gateway=self.gateway, code=status, retry_after=retry_after)
        if status in (401, 403):
            raise SmsAuthenticationError(f"{text} (API key or IP allow-list)", gateway=self.gateway, code=status)
        raise SmsGatewayError(text, gateway=self.gateway, code=status)

    def _unreadable(self, action: str, what: str, recipients: Sequence[str] = ()) -> SmsError:
        if action in _NOT_REPLAY_SAFE:
            return SmsAmbiguousError(f"{action} answered {what}; the gateway may have acted on it",
                                     gateway=self.gateway, recipients_in_doubt=recipients)
        return SmsTransientError(f"{action} answered {what}", gateway=self.gateway)

    def _answer(self, response: HttpResponse, action: str, recipients: Sequence[str] = ()) -> etree._Element:
        """The ``RESPONSE`` root of a 2xx answer (HTTP and XML checked; ``STATUS`` not yet)."""
        self.check_response(response, action, recipients)
        root = parse_xml(response.body, lambda why: self._unreadable(action, why, recipients),
                         limit=_MAX_ANSWER_BYTES)
        if etree.QName(root).localname.upper() != "RESPONSE":
            raise self._unreadable(action, "an XML document that is not a RESPONSE", recipients)
        return root

    def _status(self, node: etree._Element, action: str, recipients: Sequence[str]) -> bool:
        """True for ``Success``, False for ``Failure`` (an ``ERRORCODE`` alone also means failure)."""
        word = (child_text(node, "STATUS") or "").lower()
        if word == "success" and not child_text(node, "ERRORCODE"):
            return True
        if word == "failure" or child_text(node, "ERRORCODE"):
            return False
        raise self._unreadable(action, "without a Success/Failure STATUS", recipients)

    def _ok(self, response: HttpResponse, action: str, *secrets: str | None) -> etree._Element:
        """The root of a ``Success`` answer; a ``Failure`` is raised as its E-code's error."""
        root = self._answer(response, action)
        if not self._status(root, action, ()):
            raise self._failure(root, action, *secrets)
        return root

    def _failure(self, node: etree._Element, action: str, *secrets: str | None) -> SmsError:
        code = child_text(node, "ERRORCODE") or ""
        if not code:
            return SmsGatewayError(f"{action} failed without an error code", gateway=self.gateway)
        return self.code_error(code, child_text(node, "ERRORINFO") or "", action, *secrets)

    @staticmethod
    def _raise(problems: Iterable[Problem]) -> None:
        found = list(problems)
        if found:
            raise SmsValidationError(found, gateway=GATEWAY)

    # ================================================================ senders, options

    def _sender(self, sender: str | None) -> tuple[_Sender | None, list[Problem]]:
        """``FROM`` and ``FROM_MASK`` for ``sender``: a numeric sender is the code itself (a short code
        is a valid sender); an alphanumeric one is a mask over the connection's short code."""
        if sender is not None and not sender.strip():
            return None, [Problem("sender", "must not be blank", sender)]
        digits = (sender or "").removeprefix("+")
        if sender is not None and digits.isascii() and digits.isdigit():
            if len(digits) > 15:
                return None, [Problem("sender", f"a numeric sender has at most 15 digits, got {len(digits)}", sender)]
            return _Sender(digits, None), []
        mask = sender if sender is not None else self.sender_mask
        problems: list[Problem] = []
        if not self.short_code:
            problems.append(Problem("sender", "Skycore needs a FROM code: give a numeric sender (short or long "
                                              "code) or set the connection's short_code", sender))
        if mask is not None:
            if len(mask) > self.sender_mask_max:
                problems.append(Problem("sender", f"a sender mask has at most {self.sender_mask_max} characters, "
                                                  f"got {len(mask)}", mask))
            elif not all(c.isascii() and (c.isalnum() or c in " .-_&") for c in mask):
                problems.append(Problem("sender", "a sender mask takes letters, digits, space and . - _ &", mask))
        if problems:
            return None, problems
        return _Sender(self.short_code or "", mask), []

    def _extras(self, extras: Mapping[str, str], own: Iterable[str]) -> tuple[list[etree._Element], list[Problem]]:
        """Extra elements passed through (``campaign_ref``/``operator_id`` are read, not passed)."""
        taken = {o.upper() for o in own}
        built: list[etree._Element] = []
        problems: list[Problem] = []
        for key, value in extras.items():
            if key.lower() in _OWN_EXTRAS:
                continue
            name = key.upper()
            if not _ELEMENT_NAME.fullmatch(key) or name in taken or name in ("ACTION", "API_KEY"):
                problems.append(Problem("extras", "not a free element name (or one this provider sets)", key))
                continue
            found = xml_problem(f"extras.{key}", value)
            if found:
                problems.append(found)
            else:
                built.append(element(name, value))
        return built, problems

    def _option(self, extras: Mapping[str, str], name: str, default: str | None) -> str | None:
        value = extras.get(name)
        return str(value) if value not in (None, "") else default

    # ================================================================ sendSMS

    def _message_problems(self, message: OutgoingMessage) -> list[Problem]:
        problems: list[Problem] = []
        if message.test_mode is not None:
            raise SmsCapabilityError(self.gateway, "test_mode", "the Skycore API has no test flag")
        if message.send_at is not None:
            raise SmsCapabilityError(self.gateway, "scheduled sends",
                                     "Skycore schedules only campaign sends; send at the time instead")
        if message.numbers and message.groups:
            problems.append(Problem("to", "numbers and groups cannot go in one request"))
        elif not message.numbers and not message.groups:
            problems.append(Problem("to", "no recipient"))
        problems += number_problems(list(message.numbers), "to")
        max_parts = message.max_parts or 1
        if max_parts > self.max_parts_limit:
            problems.append(Problem("max_parts", f"at most {self.max_parts_limit}", str(max_parts)))
        else:
            try:
                check_text(message.text, unicode=message.unicode, max_parts=max_parts, field="message",
                           gateway=self.gateway)
            except SmsValidationError as exc:
                problems += exc.problems
        found = xml_problem("message", message.text)
        if found:
            problems.append(found)
        return problems

    def check(self, message: OutgoingMessage) -> None:
        """Validate ``message`` for ``sendSMS`` (or a subscriber-reference send) before anything is sent.

        Numbers or one group (a subscriber reference; a request carries one recipient: see
        :meth:`send_request`); text in one SMS part unless
        ``max_parts`` allows more (at most 10); a sender that is a number (the ``FROM`` code) or an
        alphanumeric mask of at most 11 characters over the connection's short code; no
        ``send_at`` or ``test_mode`` (Skycore has neither); extras that do not clash.

        :raises SmsCapabilityError: ``test_mode`` or ``send_at`` set.
        :raises SmsValidationError: listing every problem.
        """
        problems = self._message_problems(message)
        _, sender_problems = self._sender(message.sender)
        _, extra_problems = self._extras(message.extras, ("TO", "FROM", "FROM_MASK", "TEXT", "OPERATORID",
                                                          "CAMPAIGNREF", "SUBSCRIBERREF", "MMSID"))
        if message.groups and not self._option(message.extras, "campaign_ref", self.campaign_ref):
            problems.append(Problem("campaign_ref", "a subscriber-reference send needs a campaign "
                                                    "(extras campaign_ref or the connection's campaign_ref)"))
        self._raise([*problems, *sender_problems, *extra_problems])

    def send_request(self, message: OutgoingMessage) -> HttpRequest:
        """``sendSMS`` to the one number of ``message``, or ``sendMessageBySubscriberRef`` for one group."""
        if message.recipient_count > self.max_recipients_per_request:
            self._raise([Problem("to", f"Skycore takes exactly one recipient per request, got "
                                       f"{message.recipient_count}")])
        self.check(message)
        sender, _ = self._sender(message.sender)
        assert sender is not None  # checked
        campaign = self._option(message.extras, "campaign_ref", self.campaign_ref)
        operator = self._option(message.extras, "operator_id", self.operator_id)
        extras, _ = self._extras(message.extras, ())
        if message.groups:
            children = {"SUBSCRIBERREF": message.groups[0], "CAMPAIGNREF": campaign, "FROM": sender.from_,
                        "FROM_MASK": sender.mask, "TEXT": message.text}
            return self._request("sendMessageBySubscriberRef", [*_simple(children), *extras],
                                 recipients=[message.groups[0]])
        children = {"OPERATORID": operator, "TO": message.numbers[0], "FROM": sender.from_,
                    "FROM_MASK": sender.mask, "CAMPAIGNREF": campaign, "TEXT": message.text}
        return self._request("sendSMS", [*_simple(children), *extras], recipients=[message.numbers[0]])

    def parse_send(self, response: HttpResponse, message: OutgoingMessage) -> SendResult:
        """Read a ``sendSMS`` (or subscriber-reference) answer.

        Success: the number accepted with its ``TRACKINGID`` as message id. A failure about the
        number (E110 invalid, E114 blacklisted, E715 not subscribed, E628 operator) is a rejected
        recipient; any other failure is raised (E113 rate limited, E112 configuration...).

        :raises SmsAmbiguousError: an answer that cannot be read (the text may have gone out).
        """
        if message.groups:
            return self.parse_subscriber_ref(response, message.groups[0], "sendMessageBySubscriberRef")
        number = message.numbers[0]
        root = self._answer(response, "sendSMS", [number])
        return self._one_send(root, number, "sendSMS")

    def _one_send(self, node: etree._Element, number: str, action: str) -> SendResult:
        result = SendResult(gateway=self.gateway)
        if self._status(node, action, [number]):
            tracking = child_text(node, "TRACKINGID")
            if not tracking:
                raise self._unreadable(action, "Success without a TRACKINGID", [number])
            result.results.append(RecipientResult(number, accepted=True, message_id=tracking))
            return result
        error = self._failure(node, action)
        if error_code(str(error.code or "")).scope == "recipient":
            result.results.append(RecipientResult(number, accepted=False, code=str(error.code), text=error.message,
                                                  status=DeliveryStatus.REJECTED))
            return result
        raise error

    def parse_subscriber_ref(self, response: HttpResponse, label: str, action: str) -> SendResult:
        """One result per ``<SUBSCRIBER>`` block (number) of a subscriber-reference send."""
        root = self._answer(response, action, [label])
        if not self._status(root, action, [label]):
            raise self._failure(root, action)
        result = SendResult(gateway=self.gateway)
        for block in (c for c in root if isinstance(c.tag, str) and etree.QName(c).localname.upper() == "SUBSCRIBER"):
            to = child_text(block, "TO") or label
            ok = (child_text(block, "STATUS") or "").lower() == "success" and not child_text(block, "ERRORCODE")
            if ok and child_text(block, "TRACKINGID"):
                result.results.append(RecipientResult(to, accepted=True, message_id=child_text(block, "TRACKINGID"),
                                                      batch_id=label, text=child_text(block, "STATUSDETAILS")))
            else:
                code = child_text(block, "ERRORCODE")
                text = self.safe_text(child_text(block, "ERRORINFO") or child_text(block, "STATUSDETAILS") or "")
                result.results.append(RecipientResult(to, accepted=False, code=code, text=text or "refused",
                                                      batch_id=label, status=DeliveryStatus.REJECTED))
        if not result.results:
            result.results.append(RecipientResult(label, accepted=True, batch_id=label,
                                                  text="accepted; no subscriber listed"))
        return result

    # ================================================================ MMS

    def check_content(self, content: MmsContent) -> None:
        """Validate MMS content (slides and media limits, name, subject) before ``saveMMS``/``sendMMS``."""
        self._raise(content_problems(content))

    def save_mms_request(self, content: MmsContent) -> HttpRequest:
        """``saveMMS``: store ``content``; the answer's ``MMSID`` sends it later."""
        self.check_content(content)
        return self._request("saveMMS", self._content_elements(content))

    def _content_elements(self, content: MmsContent) -> list[etree._Element]:
        simple = {"NAME": content.name, "SUBJECT": content.subject, "FALLBACKSMSTEXT": content.fallback_text}
        return [*_simple(simple), *slide_elements(content.slides)]

    def parse_save_mms(self, response: HttpResponse) -> str:
        """The ``MMSID`` of saved content. Audio/video is encoded afterwards (postback N003); until then
        sends of it answer E626 (retried as transient)."""
        root = self._ok(response, "saveMMS")
        mms_id = child_text(root, "MMSID")
        if not mms_id:
            raise self._unreadable("saveMMS", "Success without an MMSID")
        return mms_id

    def _mms_problems(self, message: MmsMessage) -> list[Problem]:
        problems: list[Problem] = []
        targets = len(message.numbers) + len(message.groups) + (1 if message.campaign else 0)
        if targets != 1:
            problems.append(Problem("to", f"Skycore takes exactly one recipient (number, subscriber reference "
                                          f"or campaign) per request, got {targets}"))
        problems += number_problems(list(message.numbers), "to")
        if (message.mms_id is None) == (message.content is None):
            problems.append(Problem("mms_id", "give either saved content (mms_id) or slides, not both"))
        if message.content is not None:
            problems += content_problems(message.content)
            if message.campaign or message.groups:
                problems.append(Problem("slides", "campaign and subscriber-reference sends need saved content "
                                                  "(save the slides first)"))
        for name, value in (("fallback_text", message.fallback_text), ("custom_subject", message.custom_subject)):
            found = xml_problem(name, value)
            if found:
                problems.append(found)
        for slide, text in message.custom_texts.items():
            if not isinstance(slide, int) or not 1 <= slide <= 8:
                problems.append(Problem("custom_texts", "slide numbers are 1..8", str(slide)))
            found = xml_problem("custom_texts", text)
            if found:
                problems.append(found)
        for key, value in message.merge_data.items():
            if not _ELEMENT_NAME.fullmatch(str(key)):
                problems.append(Problem("merge_data", "field names are letters, digits and _", str(key)))
            found = xml_problem(f"merge_data.{key}", str(value))
            if found:
                problems.append(found)
        if message.groups and not (message.campaign_ref or self.campaign_ref):
            problems.append(Problem("campaign_ref", "a subscriber-reference send needs a campaign"))
        return problems

    def check_mms(self, message: MmsMessage) -> None:
        """Validate an MMS send before anything is sent (recipient, content, sender, custom texts, merge data)."""
        problems = self._mms_problems(message)
        if message.numbers:
            problems += self._sender(message.sender)[1]
        self._raise(problems)

    def send_mms_request(self, message: MmsMessage) -> HttpRequest:
        """The request for ``message``: ``sendMMS`` (content), ``sendSavedMMS`` (id, one number),
        ``sendMessageBySubscriberRef`` (id, one subscriber reference) or ``sendSavedMMSCampaign``."""
        self.check_mms(message)
        campaign_ref = message.campaign_ref or self.campaign_ref
        if message.campaign:
            children = {"MMSID": message.mms_id, "TOCAMPAIGN": message.campaign}
            return self._request("sendSavedMMSCampaign", _simple(children), recipients=message.recipients)
        if message.groups:
            children = {"SUBSCRIBERREF": message.groups[0], "CAMPAIGNREF": campaign_ref, "MMSID": message.mms_id}
            return self._request("sendMessageBySubscriberRef", _simple(children), recipients=message.recipients)
        sender, _ = self._sender(message.sender)
        assert sender is not None  # checked
        head = {"TO": message.numbers[0], "FROM": sender.from_, "FROM_MASK": sender.mask,
                "OPERATORID": self.operator_id, "CAMPAIGNREF": campaign_ref}
        if message.content is not None:
            content = message.content
            if message.fallback_text is not None:
                content = MmsContent(content.name, content.slides, content.subject, message.fallback_text)
            return self._request("sendMMS", [*_simple(head), *self._content_elements(content)],
                                 recipients=message.recipients)
        nodes = _simple({"MMSID": message.mms_id, **head, "FALLBACKSMSTEXT": message.fallback_text,
                         "CUSTOMSUBJECT": message.custom_subject})
        for slide, text in sorted(message.custom_texts.items()):
            nodes.append(element("CUSTOMTEXT", children={"VALUE": text, "SLIDE": str(slide)}))
        if message.merge_data:
            nodes.append(element("DATA", children={str(k).upper(): str(v) for k, v in message.merge_data.items()}))
        return self._request("sendSavedMMS", nodes, recipients=message.recipients)

    def parse_mms_send(self, response: HttpResponse, message: MmsMessage) -> SendResult:
        """Read the answer of :meth:`send_mms_request` into per-recipient results.

        A campaign send answers a ``SCHEDULEDID`` (kept as the batch id; per-number tracking ids
        arrive by postback); ``sendSavedMMS`` may answer ``SENDING`` blocks, one per number.
        """
        if message.campaign:
            root = self._answer(response, "sendSavedMMSCampaign", message.recipients)
            if not self._status(root, "sendSavedMMSCampaign", message.recipients):
                raise self._failure(root, "sendSavedMMSCampaign")
            scheduled = child_text(root, "SCHEDULEDID")
            label = message.recipients[0]
            return SendResult(gateway=self.gateway, batch_ids=[scheduled] if scheduled else [],
                              results=[RecipientResult(label, accepted=True, batch_id=scheduled)])
        if message.groups:
            return self.parse_subscriber_ref(response, message.groups[0], "sendMessageBySubscriberRef")
        action = "sendMMS" if message.content is not None else "sendSavedMMS"
        number = message.numbers[0]
        root = self._answer(response, action, [number])
        sendings = [c for c in root if isinstance(c.tag, str) and etree.QName(c).localname.upper() == "SENDING"]
        if not sendings:
            return self._one_send(root, number, action)
        if not self._status(root, action, [number]):
            raise self._failure(root, action)
        result = SendResult(gateway=self.gateway)
        for block in sendings:
            to = child_text(block, "TO") or number
            tracking = child_text(block, "TRACKINGID")
            if tracking and not child_text(block, "ERRORCODE"):
                result.results.append(RecipientResult(to, accepted=True, message_id=tracking))
            else:
                error = self._failure(block, action)
                result.results.append(RecipientResult(to, accepted=False, code=str(error.code), text=error.message,
                                                      status=DeliveryStatus.REJECTED))
        return result

    # ================================================================ subscriptions

    def subscribe_request(self, number: str, campaign: str, data: Mapping[str, str] | None = None,
                          *, notify: bool = False) -> HttpRequest:
        """``subscribe`` ``number`` to ``campaign`` (``CAMPAIGNID``), with merge ``data``; no opt-in text
        unless ``notify`` (a repeat is then harmless, so the request is replay-safe)."""
        self._raise(self._subscription_problems(number, campaign, data or {}))
        nodes = _simple({"CAMPAIGNID": campaign, "MOBILE": number})
        fields = {str(k).upper(): str(v) for k, v in (data or {}).items() if v not in (None, "")}
        if fields:
            nodes.append(element("DATA", children=fields))
        nodes += _simple({"NOTIFY": "yes" if notify else "no", "CTA": "no"})
        return self._request("subscribe", nodes, recipients=[number])

    def unsubscribe_request(self, number: str, campaign: str, *, notify: bool = False) -> HttpRequest:
        """``unsubscribe`` ``number`` from ``campaign``."""
        self._raise(self._subscription_problems(number, campaign, {}))
        nodes = _simple({"CAMPAIGNID": campaign, "MOBILE": number, "NOTIFY": "yes" if notify else "no"})
        return self._request("unsubscribe", nodes, recipients=[number])

    def _subscription_problems(self, number: str, campaign: str, data: Mapping[str, str]) -> list[Problem]:
        problems = number_problems([number], "number")
        if not campaign or not str(campaign).strip():
            problems.append(Problem("campaign", "required (the campaign id, or the connection's campaign_ref)"))
        for key, value in data.items():
            if not _ELEMENT_NAME.fullmatch(str(key)):
                problems.append(Problem("data", "field names are letters, digits and _", str(key)))
            found = xml_problem(f"data.{key}", str(value))
            if found:
                problems.append(found)
        return problems

    def parse_subscription(self, response: HttpResponse, action: str, line: int) -> ImportLine:
        """One contact-import line: Success, or the E-code's meaning; request-level errors are raised
        (bad key, allow-list, throttling, unknown campaign)."""
        root = self._answer(response, action)
        if self._status(root, action, ()):
            return ImportLine(line, ImportOutcome.SUCCESS, "Success")
        error = self._failure(root, action)
        code = str(error.code or "")
        if code.startswith("E9") or error_code(code).scope == "recipient":
            return ImportLine(line, ImportOutcome.FAILED, code, (f"{code}: {error.message}",))
        raise error

    # ================================================================ statistics report

    def statistics_request(self, start: dt.datetime, end: dt.datetime) -> HttpRequest:
        """``getSendingStatistics`` between ``start`` and ``end`` (aware datetimes, in the account's zone)."""
        problems = []
        for name, value in (("start", start), ("end", end)):
            if not isinstance(value, dt.datetime) or value.tzinfo is None:
                problems.append(Problem(name, "a timezone-aware datetime is required", str(value)))
        if not problems and end <= start:
            problems.append(Problem("end", "must be after start", end.isoformat()))
        self._raise(problems)
        children = {"START_DATE": start.astimezone(self._zone).strftime(_DATE_FORMAT),
                    "END_DATE": end.astimezone(self._zone).strftime(_DATE_FORMAT)}
        return self._request(self.statistics_action, _simple(children))

    def parse_statistics_link(self, response: HttpResponse) -> str:
        """The URL of the XML report file (UNCERTAIN element name, see the module notes)."""
        root = self._ok(response, self.statistics_action)
        candidates = [child_text(root, n) for n in ("URL", "LINK", "FILE", "REPORT")]
        candidates += [(c.text or "").strip() for c in root if isinstance(c.tag, str)]
        for text in candidates:
            if text and urlsplit(text).scheme in ("http", "https") and urlsplit(text).netloc:
                return text
        raise SmsGatewayError(f"{self.statistics_action} answered Success without a report link",
                              gateway=self.gateway)

    def open_statistics(self, lines: Iterable[str]) -> tuple[list[str], Iterator[list[str]]]:
        """``(header, rows)`` of a statistics report, parsed as it streams (memory does not grow).

        One row per ``TEXT`` (SMS) or ``CONTENT`` (MMS) with its section (``BATCHES``,
        ``AUTORESPONDERS``, ``SUBSCRIPTIONS``, ``SENDING_LIST``), its group's id and campaign, and
        the last status it reached (``ACK``, ``DLR``, ``ERROR``, ``EXPIRED``...).
        """
        return list(STATISTICS_COLUMNS), self._statistics_rows(lines)

    def _statistics_rows(self, lines: Iterable[str]) -> Iterator[list[str]]:
        parser = pull_parser()
        section = ""
        group: dict[str, str] = {}
        try:
            for line in lines:
                if has_dtd(line):
                    raise SmsGatewayError("statistics report with a DTD (refused)", gateway=self.gateway)
                parser.feed(line + "\n")
                for event, node in parser.read_events():
                    if not isinstance(node, etree._Element):
                        continue
                    name = etree.QName(node).localname.upper() if isinstance(node.tag, str) else ""
                    if event == "start":
                        if name in _SECTIONS:
                            section, group = name, {}
                        elif name in _GROUPS:
                            group = {str(k): str(v) for k, v in node.attrib.items()}
                        continue
                    if name in ("TEXT", "CONTENT") and node.get("id") is not None:
                        yield _statistics_row(node, name, section, group)
                        node.clear()
                        parent = node.getparent()
                        while parent is not None and node.getprevious() is not None:
                            del parent[0]
            parser.close()
        except etree.XMLSyntaxError:
            raise SmsGatewayError("unreadable statistics report (XML syntax)", gateway=self.gateway) from None

    # ================================================================ accounts, content list

    def create_user_request(self, username: str, password: str) -> HttpRequest:
        """``createUser`` (``NEWUSER``/``NEWPASS``); the rest is inherited from this account."""
        problems = []
        if not username or not username.strip():
            problems.append(Problem("username", "required"))
        if not password:
            problems.append(Problem("password", "required"))
        for name, value in (("username", username), ("password", password)):
            found = xml_problem(name, value)
            if found:
                problems.append(found)
        self._raise(problems)
        return self._request("createUser", _simple({"NEWUSER": username, "NEWPASS": password}))

    def parse_create_user(self, response: HttpResponse, password: str) -> str:
        """The new user's name. The answer also carries the new user's API key and password hash:
        they are never read into a result."""
        root = self._ok(response, "createUser", password)
        return child_text(root, "USERNAME") or ""

    def mms_ids_request(self) -> HttpRequest:
        """``getMmsIds``: the ids of saved MMS content (reads only; used to test a connection)."""
        return self._request("getMmsIds", [])

    def parse_mms_ids(self, response: HttpResponse) -> list[str]:
        """Saved MMS ids; E200 (none saved yet) is an empty list."""
        root = self._answer(response, "getMmsIds")
        if not self._status(root, "getMmsIds", ()):
            if (child_text(root, "ERRORCODE") or "").upper() == "E200":
                return []
            raise self._failure(root, "getMmsIds")
        return [i.strip() for i in (child_text(root, "MMSIDS") or "").split(",") if i.strip()]


def _simple(children: Mapping[str, str | None]) -> list[etree._Element]:
    return [element(name, value) for name, value in children.items() if value is not None]


def _statistics_row(node: etree._Element, kind: str, section: str, group: Mapping[str, Any]) -> list[str]:
    statuses = [c for c in node.iter() if isinstance(c.tag, str) and etree.QName(c).localname.upper() in _STATUS_TAGS]
    last = statuses[-1] if statuses else None
    get = node.get
    return [
        section,
        str(group.get("id", "")),
        str(group.get("campaignid", "")),
        "sms" if kind == "TEXT" else "mms",
        get("id", ""),
        get("to") or str(group.get("to", "")),
        get("from") or str(group.get("from", "")),
        get("carrier") or str(group.get("carrier", "")),
        get("body") or get("text") or str(group.get("body", "")),
        get("contentid") or str(group.get("contentid", "")),
        get("contentname") or str(group.get("contentname", "")),
        get("delivery", ""),
        etree.QName(last).localname.upper() if last is not None else "",
        last.get("time", "") if last is not None else "",
    ]
