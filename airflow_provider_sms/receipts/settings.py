"""What the callback receiver needs to know about a gateway connection: its secret, who may call, where to store.

Connection extras (all optional except the secret, without which every callback is refused):

* ``callback_secret`` -- the shared secret carried by every callback URL (masked by Airflow: the
  name contains ``secret``);
* ``callback_allowed_ips`` -- comma-separated addresses or networks (``203.0.113.7, 198.51.100.0/24``)
  allowed to call; empty: any address;
* ``receipts_conn_id`` -- the connection of the database receipts are stored in (default
  ``sms_journal_default``, the send journal's).

Settings are cached for :data:`CACHE_SECONDS` per process: the API server looks a connection up
once per half minute, not on every callback (a changed secret takes effect within that time).
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_sms.journal.database import DEFAULT_JOURNAL_CONN_ID

__all__ = ["CACHE_SECONDS", "CallbackSettings", "SettingsCache", "connection_settings", "parse_networks"]

log = logging.getLogger(__name__)

CACHE_SECONDS = 30.0
SECRET_EXTRA = "callback_secret"  # noqa: S105 - the name of an extra, not a secret
ALLOWED_IPS_EXTRA = "callback_allowed_ips"
RECEIPTS_CONN_EXTRA = "receipts_conn_id"
MIN_SECRET_LENGTH = 16

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class CallbackSettings:
    """One connection's receiver settings.

    :param allowed: networks allowed to call; ``None``: any address. An empty tuple (a list that
        could not be read) allows nobody: a typo must not open the door.
    """

    conn_id: str
    conn_type: str
    secret: str = field(repr=False)
    allowed: tuple[Network, ...] | None
    receipts_conn_id: str
    options: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def allows(self, address: str | None) -> bool:
        """True when ``address`` may call (always when no allow-list is set)."""
        if self.allowed is None:
            return True
        try:
            ip = ipaddress.ip_address((address or "").split("%")[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.allowed)


def parse_networks(value: Any, conn_id: str) -> tuple[Network, ...] | None:
    """The allow-list extra: ``None`` when not set; an empty tuple (nobody) when unreadable."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    items = value if isinstance(value, list | tuple) else str(value).replace(";", ",").split(",")
    try:
        return tuple(ipaddress.ip_network(str(item).strip(), strict=False) for item in items if str(item).strip())
    except ValueError:
        log.warning("connection %r: %s is not a list of addresses or networks; every callback is refused",
                    conn_id, ALLOWED_IPS_EXTRA)
        return ()


def connection_settings(conn_id: str) -> CallbackSettings | None:
    """The settings of connection ``conn_id``; None when it does not exist or has no usable secret."""
    from airflow.providers.common.compat.sdk import AirflowNotFoundException, BaseHook

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None
    from airflow_provider_sms.exceptions import SmsConfigurationError
    from airflow_provider_sms.hooks.extras import load_extra

    try:
        extra = load_extra(conn, str(conn.conn_type or ""))
    except SmsConfigurationError as error:  # extra_dejson would log and read it as {}
        log.warning("%s; every callback to it is refused", error)
        return None
    secret = str(extra.pop(SECRET_EXTRA, "") or "")
    if len(secret) < MIN_SECRET_LENGTH:
        if secret:
            log.warning("connection %r: %s is shorter than %d characters; every callback is refused",
                        conn_id, SECRET_EXTRA, MIN_SECRET_LENGTH)
        return None
    return CallbackSettings(conn_id=conn_id, conn_type=str(conn.conn_type or ""), secret=secret,
                            allowed=parse_networks(extra.get(ALLOWED_IPS_EXTRA), conn_id),
                            receipts_conn_id=str(extra.get(RECEIPTS_CONN_EXTRA) or DEFAULT_JOURNAL_CONN_ID),
                            options=extra)


class SettingsCache:
    """``load(conn_id)`` results kept for ``seconds`` (misses too: unknown ids cannot hammer the database)."""

    def __init__(self, load: Callable[[str], CallbackSettings | None] = connection_settings,
                 seconds: float = CACHE_SECONDS, max_entries: int = 1000) -> None:
        self._load = load
        self._seconds = seconds
        self._max = max_entries
        self._entries: dict[str, tuple[float, CallbackSettings | None]] = {}
        self._lock = threading.Lock()

    def get(self, conn_id: str) -> CallbackSettings | None:
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(conn_id)
            if found is not None and now - found[0] < self._seconds:
                return found[1]
        settings = self._load(conn_id)
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[conn_id] = (now, settings)
        return settings
