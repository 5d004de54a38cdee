"""Skycore hook: SMS and MMS sends (one recipient per request), subscriber-reference and campaign
sends, campaign subscriptions, sending statistics, child users.

The connection's host is the full API URL shown in the account's API settings, path included
(default ``https://secure.skycore.com/API/wxml/1.3/``); the API key is the password. Extras:
``short_code`` (default ``FROM``), ``operator_id``, ``campaign_ref``, ``sender_mask``,
``messages_per_second`` (client-side pacing of requests), ``mms_encoding_wait`` (s),
``statistics_action`` and ``time_zone``.

Skycore has no duplicate suppression and no documented status look-up: a send whose answer was
lost is never re-sent (the transport treats it as ambiguous), and a retried task refuses to send
again (the generic operators' rule for gateways without ``DEDUPE``/``SENT_LOOKUP``). Throttling
(E113, E106, E120) holds every request in flight (the hook's pacer) and is retried: by the
transport within one call, then by the send loop until the call clears, within the task's time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property, partial
from typing import Any, ClassVar
from urllib.parse import urlsplit

from airflow_provider_sms.core.contacts import ImportLine, ImportOutcome, ImportResult
from airflow_provider_sms.core.message import OutgoingMessage
from airflow_provider_sms.core.mms import MmsContent, MmsMessage
from airflow_provider_sms.core.results import SendResult
from airflow_provider_sms.exceptions import (
    Problem,
    SmsConfigurationError,
    SmsError,
    SmsTransientError,
    SmsValidationError,
)
from airflow_provider_sms.gateways.http import HttpRequest
from airflow_provider_sms.gateways.skycore import (
    DEFAULT_API_PATH,
    DEFAULT_API_URL,
    DEFAULT_STATISTICS_ACTION,
    DEFAULT_TIME_ZONE,
    SkycoreApi,
)
from airflow_provider_sms.hooks.base import SmsHook
from airflow_provider_sms.hooks.capabilities import Capability
from airflow_provider_sms.hooks.extras import ExtrasReader
from airflow_provider_sms.transport import SyncTransport

__all__ = ["SkycoreHook"]

STATISTICS_REPORT = "sending_statistics"
DEFAULT_MMS_ENCODING_WAIT = 600.0


class SkycoreHook(SmsHook):
    """Hook for Skycore (connection type ``skycore``).

    :param sms_conn_id: connection id (default ``skycore_default``); the API key is its password.
    """

    conn_type = "skycore"
    default_conn_name = "skycore_default"
    hook_name = "Skycore"
    gateway = "skycore"
    default_host = DEFAULT_API_URL
    capabilities: ClassVar[frozenset[Capability]] = frozenset({
        Capability.SEND, Capability.GROUP_SEND, Capability.MMS, Capability.CONTACT_IMPORT,
        Capability.DELIVERY_REPORT, Capability.SUB_ACCOUNTS,
    })
    max_recipients_limit = SkycoreApi.max_recipients_per_request
    max_groups_per_request = 1  # one subscriber reference per sendMessageBySubscriberRef

    #: The vendor: "If your API requests exceed the throughput set on your account ... we currently
    #: return an 'API exceeded' error code E113 ... you should throttle back your request speed or
    #: number of connections and retry" (seed 003, "API Limitations"; reference/gateways.md 4.9).
    #: No number is published. One recipient per request: reaching a throughput of 50/s at 50 ms a
    #: call takes 3 in flight, at 150 ms 8; ``messages_per_second`` paces them all, so more in
    #: flight never means faster than the account allows. 8.
    default_max_in_flight = 8
    first_request_alone = True  # E112 / a bad key fail the task after one request (pinned by issue 9)
    in_flight_guidance = ("per-account throughput and API-call limits set by the account manager; E113 asks to "
                          "\"throttle back your request speed or number of connections and retry\" (API Limitations); "
                          "no number published: 8, paced by messages_per_second")

    @cached_property
    def api(self) -> SkycoreApi:
        settings = self.settings
        if not settings.password:
            raise SmsConfigurationError("connection needs the API key in its password field", gateway=self.gateway)
        extra = settings.extra
        read = ExtrasReader(extra, conn_id=settings.conn_id, gateway=self.gateway)

        def text(name: str) -> str | None:
            return read.text(name, extra.get(name))

        return SkycoreApi(
            settings.password,
            path=urlsplit(settings.base_url).path or DEFAULT_API_PATH,
            short_code=text("short_code"),
            operator_id=text("operator_id"),
            campaign_ref=text("campaign_ref"),
            sender_mask=text("sender_mask"),
            statistics_action=text("statistics_action") or DEFAULT_STATISTICS_ACTION,
            time_zone=text("time_zone") or DEFAULT_TIME_ZONE,
        )

    def base_url(self) -> str:
        # The host is the whole API URL; the protocol posts to its path.
        parts = urlsplit(self.settings.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def _send(self, request: HttpRequest, parse: Any) -> Any:
        # Paced by the transport's pacer (``messages_per_second``), shared by every request in flight.
        return self.transport.call(request, parse)

    # -- sending ----------------------------------------------------------------------------------

    def prepare(self) -> None:
        _ = self.api, self.messages_per_second, self.max_in_flight, self.mms_encoding_wait

    @cached_property
    def mms_encoding_wait(self) -> float:
        """Seconds an MMS send waits for saved audio/video to be encoded (extra ``mms_encoding_wait``,
        0 to 86400, default 600)."""
        value = self._extra_or(self.settings.extra, "mms_encoding_wait", None)
        if value is None:
            return DEFAULT_MMS_ENCODING_WAIT
        read = ExtrasReader(self.settings.extra, conn_id=self.settings.conn_id, gateway=self.gateway)
        return read.number("mms_encoding_wait", value, minimum=0, maximum=86_400)

    def protocol_check(self, message: OutgoingMessage) -> None:
        self.api.check(message)

    def send(self, message: OutgoingMessage) -> SendResult:
        """``sendSMS`` to one number, or ``sendMessageBySubscriberRef`` for one group (a subscriber
        reference, in the campaign of extras ``campaign_ref`` or the connection's)."""
        result: SendResult = self._send(self.api.send_request(message), partial(self.api.parse_send, message=message))
        return result

    # -- MMS --------------------------------------------------------------------------------------

    def check_mms_content(self, content: MmsContent) -> None:
        """Validate MMS content against Skycore's slide and media limits."""
        self.api.check_content(content)

    def check_mms(self, message: MmsMessage) -> None:
        """Validate an MMS send (one recipient, slides, sender, custom texts, merge data) and the
        connection's MMS settings."""
        _ = self.mms_encoding_wait
        self.api.check_mms(message)

    def save_mms(self, content: MmsContent) -> str:
        """``saveMMS``; returns the ``MMSID``. Content with audio/video is usable once encoded."""
        mms_id: str = self.transport.call(self.api.save_mms_request(content), self.api.parse_save_mms)
        return mms_id

    def send_mms(self, message: MmsMessage) -> SendResult:
        """One MMS request: ``sendSavedMMS``/``sendMMS`` to a number, a subscriber reference, or a campaign.

        Saved content with audio or video is unusable until Skycore has encoded it: the gateway
        answers E626 (nothing sent) meanwhile. The request is then asked again, 5 s after the
        first refusal and up to 60 s apart, for at most ``mms_encoding_wait`` seconds (extra,
        default 600) before the E626 error is raised.
        """
        request = self.api.send_mms_request(message)
        parse = partial(self.api.parse_mms_send, message=message)
        deadline = self._clock() + self.mms_encoding_wait
        wait = 5.0
        while True:
            try:
                result: SendResult = self._send(request, parse)
                return result
            except SmsTransientError as error:
                if error.code != "E626" or self._clock() + wait > deadline:
                    raise
                self.log.info("MMS content still encoding (E626); asking again in %.0f s", wait)
                self._sleep(wait)
                wait = min(wait * 2, 60.0)

    # -- campaign subscriptions (Skycore's contact import) ----------------------------------------

    def subscribe(self, number: str, campaign: str | None = None, data: Mapping[str, str] | None = None) -> None:
        """Subscribe ``number`` to ``campaign`` (default: the connection's ``campaign_ref``), silently."""
        request = self.api.subscribe_request(number, self._campaign(campaign), data)
        line = self._send(request, partial(self.api.parse_subscription, action="subscribe", line=1))
        if line.outcome is not ImportOutcome.SUCCESS:
            raise SmsValidationError([Problem("number", "; ".join(line.reasons) or line.result, number)],
                                     gateway=self.gateway)

    def unsubscribe(self, number: str, campaign: str | None = None) -> None:
        """Unsubscribe ``number`` from ``campaign`` (default: the connection's ``campaign_ref``)."""
        request = self.api.unsubscribe_request(number, self._campaign(campaign))
        line = self._send(request, partial(self.api.parse_subscription, action="unsubscribe", line=1))
        if line.outcome is not ImportOutcome.SUCCESS:
            raise SmsValidationError([Problem("number", "; ".join(line.reasons) or line.result, number)],
                                     gateway=self.gateway)

    def _campaign(self, campaign: str | None) -> str:
        chosen = campaign or self.api.campaign_ref
        if not chosen:
            raise SmsValidationError([Problem("campaign", "required: pass one or set the connection's campaign_ref")],
                                     gateway=self.gateway)
        return chosen

    def import_contacts(self, contacts: Sequence[Mapping[str, str]], *, group: str | None = None,
                        duplicates: str = "ignore") -> ImportResult:
        """Subscribe each contact's number to the campaign ``group`` (default: the connection's
        ``campaign_ref``), one ``subscribe`` per contact, without an opt-in text.

        A number already subscribed is subscribed again (harmless), so a retried import texts and
        duplicates nobody; ``duplicates="allow"`` has no meaning here and is refused.
        """
        if duplicates == "allow":
            raise SmsValidationError([Problem("duplicates", "Skycore keeps one subscription per number and "
                                                            "campaign; use 'ignore' or 'overwrite'", duplicates)],
                                     gateway=self.gateway)
        campaign = self._campaign(group)
        lines: list[ImportLine] = []
        for index, contact in enumerate(contacts, start=1):
            try:
                request = self.api.subscribe_request(contact["number"], campaign, _merge_fields(contact))
            except SmsValidationError as exc:
                lines.append(ImportLine(index, ImportOutcome.FAILED, "invalid", tuple(str(p) for p in exc.problems)))
                continue
            lines.append(self._send(request, partial(self.api.parse_subscription, action="subscribe", line=index)))
        return ImportResult(tuple(lines))

    # -- reports ----------------------------------------------------------------------------------

    def report_kinds(self) -> Sequence[str]:
        return [STATISTICS_REPORT]

    def iter_report(self, kind: str, **params: Any) -> tuple[Sequence[str], Iterator[Sequence[str]]]:
        """``sending_statistics``: ``getSendingStatistics`` for ``start``..``end``, then the XML report
        it links to, streamed and flattened to one row per SMS/MMS (see ``STATISTICS_COLUMNS``)."""
        if kind.lower() != STATISTICS_REPORT:
            raise SmsValidationError([Problem("report", f"unknown report; one of {STATISTICS_REPORT}", kind)],
                                     gateway=self.gateway)
        request = self.api.statistics_request(params.get("start"), params.get("end"))  # type: ignore[arg-type]
        link = self.transport.call(request, self.api.parse_statistics_link)
        transport, download = self._report_download(link)

        def rows() -> Iterator[Sequence[str]]:
            try:
                check = partial(self.api.check_response, action="report download")
                with transport.stream_lines(download, check) as lines:
                    header, body = self.api.open_statistics(lines)
                    yield header
                    yield from body
            finally:
                transport.close()

        stream = rows()
        return next(stream), stream

    def _report_download(self, link: str) -> tuple[SyncTransport, HttpRequest]:
        """A transport and a plain GET for the report link (no credentials go to it)."""
        parts = urlsplit(link)
        own = urlsplit(self.settings.base_url).scheme
        if parts.scheme not in ("http", "https") or (own == "https" and parts.scheme != "https"):
            raise SmsConfigurationError("the statistics report link is not an https URL; not following it",
                                        gateway=self.gateway)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        transport = SyncTransport(f"{parts.scheme}://{parts.netloc}", gateway=self.gateway,
                                  timeout=self.settings.timeout, retry=self.settings.retry,
                                  limits=self.settings.limits)  # the connection's deadlines and caps
        return transport, HttpRequest("GET", path)

    # -- accounts ---------------------------------------------------------------------------------

    def create_sub_account(self, username: str, password: str, **details: Any) -> None:
        """``createUser``: a user with ``username``/``password``; everything else is inherited from this
        account, so ``details`` must be empty. The new user's API key in the answer is never kept."""
        if details:
            raise SmsValidationError([Problem("details", "Skycore createUser takes only a username and a password",
                                              ", ".join(sorted(details)))], gateway=self.gateway)
        self.transport.call(self.api.create_user_request(username, password),
                            partial(self.api.parse_create_user, password=password))

    def test_connection(self) -> tuple[bool, str]:
        """``getMmsIds``: reads the list of saved MMS and sends nothing. Success proves the API URL,
        the API key, the account's API rights and that this machine's IP is on the allow-list."""
        try:
            ids = self.transport.call(self.api.mms_ids_request(), self.api.parse_mms_ids)
        except SmsError as exc:
            return False, self._scrubbed(str(exc))
        except Exception as exc:
            return False, self._scrubbed(f"{type(exc).__name__}: {exc}")
        return True, f"Connected to {self.hook_name}: API key and IP allow-list accepted; {len(ids)} saved MMS"


def _merge_fields(contact: Mapping[str, str]) -> dict[str, str]:
    first, _, last = (contact.get("name") or "").strip().partition(" ")
    return {"FIRST_NAME": first, "LAST_NAME": last.strip(), "EMAIL": (contact.get("email") or "").strip()}
