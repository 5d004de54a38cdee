"""Configuration of the simulator: accounts and behaviour switches.

Everything here is plain frozen data so a configuration can be shared between tests and passed
to :meth:`SimulatorServer.reset` to reconfigure a running server.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Credentials of the account every simulator has unless told otherwise. They are public on
#: purpose: the demo, the docs and users' DAG tests connect with them.
DEFAULT_BULKSMS_USERNAME = "demo"
DEFAULT_BULKSMS_PASSWORD = "demo-secret-pass"  # noqa: S105 - a published demo credential, not a secret
#: Token of the NetMessenger demo account (public for the same reason).
DEFAULT_NETMESSENGER_TOKEN = "nm-demo-token-0001"  # noqa: S105 - a published demo credential, not a secret
#: API key of the Skycore demo account (public for the same reason).
DEFAULT_SKYCORE_API_KEY = "sky-demo-key-0001"


@dataclass(frozen=True)
class BulkSmsAccount:
    """One simulated BulkSMS account (shared by the EAPI and the JSON API).

    Attributes:
        username: login for EAPI ``username`` and JSON API Basic auth.
        password: its password; kept out of ``repr`` so it never lands in a log.
        credits: starting balance; one credit per message part.
        time_zone: IANA zone in which EAPI ``send_time`` and report times are expressed.
        push_url: where delivery reports are pushed (HTTP GET), like the account Profile URL.
        inbound_push_url: where inbound messages are pushed (HTTP GET), the Profile's MO URL.
        webhook_url: where JSON API webhooks POST messages (SENT on a final status, RECEIVED on
            an inbound message), as ``Message`` objects in a JSON array.
        daily_quota: credits the account may spend per virtual UTC day (``None`` = unlimited);
            exceeding it answers code 27.
    """

    username: str = DEFAULT_BULKSMS_USERNAME
    password: str = field(default=DEFAULT_BULKSMS_PASSWORD, repr=False)
    credits: float = 1000.0
    time_zone: str = "UTC"
    push_url: str | None = None
    daily_quota: float | None = None
    inbound_push_url: str | None = None
    webhook_url: str | None = None


def _default_accounts() -> list[BulkSmsAccount]:
    return [BulkSmsAccount()]


@dataclass(frozen=True)
class NetMessengerAccount:
    """One simulated NetMessenger (FastSMS) account, reached with its API token.

    Attributes:
        token: the API ``Token``; kept out of ``repr`` so it never lands in a log.
        username: the account's login, shown in reports (``Username`` column) and inspection.
        credits: starting balance (whole credits); one credit per message part per recipient.
        time_zone: IANA zone of ``ScheduleDate``, report ``From``/``To`` and report dates (the
            vendor SDKs format schedule dates in Europe/London).
        blacklist: numbers that answer -412 (Number is blacklisted) when sent to.
        forward_url: where inbound messages to the account's virtual number are forwarded.
        forward_method: ``GET`` (query parameters) or ``POST`` (form fields).
        forward_auth: the ``auth`` value passed through on every forward.
        virtual_number: the account's virtual mobile number (``dest`` of forwarded messages).
    """

    token: str = field(default=DEFAULT_NETMESSENGER_TOKEN, repr=False)
    username: str = "demo"
    credits: int = 1000
    time_zone: str = "Europe/London"
    blacklist: tuple[str, ...] = ()
    forward_url: str | None = None
    forward_method: str = "GET"
    forward_auth: str = field(default="", repr=False)
    virtual_number: str = "447786200000"


def _default_netmessenger_accounts() -> list[NetMessengerAccount]:
    return [NetMessengerAccount()]


#: Credentials of the Bulletin Messenger demo account (public for the same reason).
DEFAULT_BULLETIN_USER_ID = "demo"
DEFAULT_BULLETIN_PASSWORD = "bm-demo-pass"  # noqa: S105 - a published demo credential, not a secret


@dataclass(frozen=True)
class BulletinAccount:
    """One simulated Bulletin Messenger account (an organisation's API user).

    Attributes:
        user_id: the ``userId`` (Basic user name or form field).
        password: its password; kept out of ``repr`` so it never lands in a log.
        daily_limit: messages (one per recipient) the company may send per virtual UTC day;
            ``None`` = unlimited. Exceeding it answers HTTP 403.
        blocked: numbers on the account's blocked list (refused per recipient, 403).
        contacts: address-book contacts, name -> number.
        groups: address-book groups, name -> member contact names or numbers.
        callback_format: ``XMLv3`` or ``FORMv1`` (the organisation's "Callback URL Format").
        reply_callback_url: the organisation's default reply callback URL.
        status_callback_url: the organisation's default status callback URL.
    """

    user_id: str = DEFAULT_BULLETIN_USER_ID
    password: str = field(default=DEFAULT_BULLETIN_PASSWORD, repr=False)
    daily_limit: int | None = None
    blocked: tuple[str, ...] = ()
    contacts: tuple[tuple[str, str], ...] = ()
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    callback_format: str = "XMLv3"
    reply_callback_url: str | None = None
    status_callback_url: str | None = None


def _default_bulletin_accounts() -> list[BulletinAccount]:
    return [BulletinAccount()]


@dataclass(frozen=True)
class SkycoreAccount:
    """One simulated Skycore account, reached with its API key from an allow-listed IP.

    Attributes:
        api_key: the ``API_KEY``; kept out of ``repr`` so it never lands in a log.
        username: the account's login (inspection only).
        allowed_ips: caller IPs the API answers (others get E112).
        codes: short/long codes the account may send ``FROM`` (others get E111).
        throughput: API calls accepted per second (sliding one-second window on the virtual
            clock); calls above it answer E113. ``None``: unlimited.
        campaigns: campaign ids that exist (``CAMPAIGNREF``/``CAMPAIGNID``/``TOCAMPAIGN``).
        enforce_campaign_check: ``sendSMS``/``sendSavedMMS`` then need a ``CAMPAIGNREF`` (E714).
        postback_url: where postbacks are POSTed (XML); ``None``: none are sent.
        blacklist: numbers that answer E114.
    """

    api_key: str = field(default=DEFAULT_SKYCORE_API_KEY, repr=False)
    username: str = "demo"
    allowed_ips: tuple[str, ...] = ("127.0.0.1", "::1")
    codes: tuple[str, ...] = ("60856",)
    throughput: float | None = None
    campaigns: tuple[str, ...] = ("1116",)
    enforce_campaign_check: bool = False
    postback_url: str | None = None
    blacklist: tuple[str, ...] = ()


def _default_skycore_accounts() -> list[SkycoreAccount]:
    return [SkycoreAccount()]


@dataclass(frozen=True)
class SimulatorConfig:
    """How the simulated gateways behave.

    Attributes:
        bulksms_accounts: BulkSMS accounts (default: the single ``demo`` account).
        delivery_delay: virtual seconds from acceptance (or scheduled send time) to the final
            status; the intermediate "delivered upstream" status is reached after half of it.
        seed: seeds the simulator's random choices (the first batch id) so runs are repeatable.
        max_batch_size: most recipients per BulkSMS submission (EAPI code 201, JSON 400).
        dedupe_window: virtual seconds an EAPI ``stop_dup_id`` is remembered.
        json_dedupe_window: virtual seconds a JSON API ``deduplication-id`` is remembered.
        report_first_line: text after ``0|`` on a successful ``get_report``; the current vendor
            page says "Returns to follow", older pages and clients "Results to follow".
        push_max_attempts: caps the tries of every callback (pushes, webhooks, forwarded messages,
            Bulletin callbacks); ``None``: each gateway's documented retry rule.
        bulksms_push_retry_delays: virtual seconds before each retry of a failed BulkSMS push
            (vendor: after 60 min, then 3 h, then 12 h); inbound pushes are retried only after
            HTTP 500, webhooks like status pushes [UNCERTAIN: the JSON API's rule is not documented].
        bulletin_callback_retry: virtual seconds between retries of a Bulletin callback answered
            with HTTP 400 or above [UNCERTAIN: the vendor documents retries for up to 48 hours, not
            their interval].
        bulletin_callback_window: virtual seconds Bulletin keeps retrying (vendor: 48 hours).
        netmessenger_forward_retry_delays: virtual seconds before each retry of a failed inbound
            forward [UNCERTAIN: undocumented; default none].
        netmessenger_accounts: NetMessenger accounts (default: the ``nm-demo-token-0001`` one).
        netmessenger_background_delay: virtual seconds a NetMessenger background send (a list or
            group send above ``netmessenger_background_threshold`` members) takes to finish;
            ``GetBGMessages`` answers -522 until then.
        netmessenger_background_threshold: list/group sizes above this run in the background (the
            vendor says "more than 200 entries").
        netmessenger_cancel_actions: ``Action`` names accepted for cancelling a scheduled message
            (the vendor page shows the section but not the name; case-insensitive).
        netmessenger_archive_after: virtual seconds after sending when a message counts as
            archived (it moves from the ``Messages`` reports to the ``Archived*`` ones).
        netmessenger_foreground_bg_id: whether a list/group send small enough to run in the
            foreground still answers a background-send id to ``GetBGSendID=1`` (the page promises
            one "if you send to a distlist"); False answers ``1`` alone, as a gateway may.
        netmessenger_bg_id_on_next_line: answer a list/group send's background-send id as ``1``
            (the documented success flag) with the id on the next line, as a gateway may.
        netmessenger_bare_partial_failure: answer a send to numbers in which some destinations
            fail with a bare ``-400`` ("Some numbers in list failed", seed 002) instead of one
            item per destination; the good numbers are still texted.
        skycore_accounts: Skycore accounts (default: the ``sky-demo-key-0001`` one).
        skycore_encoding_delay: virtual seconds saved MMS content with audio or video takes to
            encode (sends of it answer E626 until then; N003 is posted when done).
        skycore_postback_generation: ``"postback"`` (current flat ``<POSTBACK>``) or
            ``"notification"`` (older ``<NOTIFICATION><BODY>``).
        skycore_postback_timeout: real seconds a postback receiver has to answer (vendor: 10).
        skycore_postback_retry: virtual seconds before a failed postback is tried again (vendor: ~300).
        skycore_postback_max_retries: retries per postback after the first try (vendor: 5).
        skycore_statistics_per_day: ``getSendingStatistics`` calls per virtual day (E510 above it).
        bulletin_accounts: Bulletin Messenger accounts (default: the ``demo`` one).
        latency: real seconds every gateway request waits before it is processed (a gateway far
            away; requests wait concurrently), on top of any ``latency`` fault; not cleared with the faults.
        bulletin_callback_params: the send parameters naming the per-message reply and status
            callback URLs (unconfirmed by the vendor; these are the provider's defaults).
        netmessenger_report_types: the ``ReportType`` values answered; others get -601. None (the
            default) answers every type the simulator knows; ``DOCUMENTED_REPORT_TYPES`` of
            ``simulator.netmessenger.reports`` behaves strictly as the vendor page documents.
    """

    bulksms_accounts: list[BulkSmsAccount] = field(default_factory=_default_accounts)
    delivery_delay: float = 5.0
    seed: int = 0
    max_batch_size: int = 30000
    dedupe_window: float = 4 * 3600.0
    json_dedupe_window: float = 12 * 3600.0
    report_first_line: str = "Returns to follow"
    push_max_attempts: int | None = None
    bulksms_push_retry_delays: tuple[float, ...] = (3600.0, 10800.0, 43200.0)
    bulletin_callback_retry: float = 300.0
    bulletin_callback_window: float = 48 * 3600.0
    netmessenger_forward_retry_delays: tuple[float, ...] = ()
    netmessenger_accounts: list[NetMessengerAccount] = field(default_factory=_default_netmessenger_accounts)
    netmessenger_background_delay: float = 30.0
    netmessenger_background_threshold: int = 200
    netmessenger_cancel_actions: tuple[str, ...] = ("CancelMessage", "Cancel")
    netmessenger_archive_after: float = 90 * 86400.0
    netmessenger_foreground_bg_id: bool = True
    netmessenger_bg_id_on_next_line: bool = False
    netmessenger_bare_partial_failure: bool = False
    skycore_accounts: list[SkycoreAccount] = field(default_factory=_default_skycore_accounts)
    skycore_encoding_delay: float = 30.0
    skycore_postback_generation: str = "postback"
    skycore_postback_timeout: float = 10.0
    skycore_postback_retry: float = 300.0
    skycore_postback_max_retries: int = 5
    skycore_statistics_per_day: int = 100
    bulletin_accounts: list[BulletinAccount] = field(default_factory=_default_bulletin_accounts)
    latency: float = 0.0
    bulletin_callback_params: tuple[str, str] = ("callbackUrl", "statusCallbackUrl")
    netmessenger_report_types: tuple[str, ...] | None = None
