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


@dataclass(frozen=True)
class BulkSmsAccount:
    """One simulated BulkSMS account (shared by the EAPI and the JSON API).

    Attributes:
        username: login for EAPI ``username`` and JSON API Basic auth.
        password: its password; kept out of ``repr`` so it never lands in a log.
        credits: starting balance; one credit per message part.
        time_zone: IANA zone in which EAPI ``send_time`` and report times are expressed.
        push_url: where delivery reports are pushed (HTTP GET), like the account Profile URL.
        daily_quota: credits the account may spend per virtual UTC day (``None`` = unlimited);
            exceeding it answers code 27.
    """

    username: str = DEFAULT_BULKSMS_USERNAME
    password: str = field(default=DEFAULT_BULKSMS_PASSWORD, repr=False)
    credits: float = 1000.0
    time_zone: str = "UTC"
    push_url: str | None = None
    daily_quota: float | None = None


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
    """

    token: str = field(default=DEFAULT_NETMESSENGER_TOKEN, repr=False)
    username: str = "demo"
    credits: int = 1000
    time_zone: str = "Europe/London"
    blacklist: tuple[str, ...] = ()


def _default_netmessenger_accounts() -> list[NetMessengerAccount]:
    return [NetMessengerAccount()]


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
        push_max_attempts: delivery attempts per pushed report before giving up.
        push_workers: threads delivering pushed reports (bounded concurrency).
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
    push_max_attempts: int = 3
    push_workers: int = 2
    netmessenger_accounts: list[NetMessengerAccount] = field(default_factory=_default_netmessenger_accounts)
    netmessenger_background_delay: float = 30.0
    netmessenger_background_threshold: int = 200
    netmessenger_cancel_actions: tuple[str, ...] = ("CancelMessage", "Cancel")
    netmessenger_archive_after: float = 90 * 86400.0
    netmessenger_report_types: tuple[str, ...] | None = None
