"""The callback URLs to enter at a gateway for one connection, and the commands that print them.

``airflow sms callback-url <conn_id>`` (Airflow 3.3+, through the provider's ``cli`` entry) and
``sms-callback-url <conn_id>`` (any version; a console script) print one line per URL, with the
secret shown as ``***`` unless ``--show-secret`` is given: the URL is what the gateway must be
told, but a terminal scroll-back or a CI log is no place for the secret.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from airflow_provider_sms.exceptions import SmsConfigurationError
from airflow_provider_sms.gateways.callbacks import CallbackEndpoint, callback_endpoints
from airflow_provider_sms.receipts.settings import MIN_SECRET_LENGTH, SECRET_EXTRA

__all__ = ["CallbackUrl", "callback_urls", "get_cli_commands", "main"]

PREFIX = "/sms-callbacks"  # the receiver's mount point (receiver.PREFIX; not imported: no FastAPI needed here)
DEFAULT_BASE_URL = "http://localhost:8080"
MASK = "***"


@dataclass(frozen=True)
class CallbackUrl:
    """One URL to configure: where at the gateway (``setting``), which methods, the URL itself."""

    gateway: str
    kind: str
    methods: tuple[str, ...]
    setting: str
    url: str

    def line(self) -> str:
        return f"{self.gateway} {self.kind} ({'/'.join(self.methods)}): {self.url}\n    set at: {self.setting}"


def base_url() -> str:
    """Airflow's ``[api] base_url`` (the API server's public address), else ``http://localhost:8080``."""
    from airflow.providers.common.compat.sdk import conf

    value = str(conf.get("api", "base_url", fallback="") or "").strip()
    return value or DEFAULT_BASE_URL


def _url(endpoint: CallbackEndpoint, base: str, conn_id: str, secret: str) -> str:
    path = PREFIX + endpoint.path.format(conn_id=quote(conn_id, safe=""))
    return f"{base.rstrip('/')}{path}?{urlencode({endpoint.auth_param: secret}, safe='*')}"


def callback_urls(conn_id: str, *, base: str | None = None, show_secret: bool = False,
                  conn_type: str | None = None, extra: dict[str, Any] | None = None) -> list[CallbackUrl]:
    """The callback URLs of connection ``conn_id`` (looked up unless ``conn_type`` and ``extra`` are given).

    :param base: the API server's public URL (default :func:`base_url`).
    :param show_secret: put the real secret in the URLs (else ``***``).
    :raises SmsConfigurationError: the connection is missing, has no gateway with callbacks, or no
        usable ``callback_secret``.
    """
    if conn_type is None or extra is None:
        from airflow.providers.common.compat.sdk import AirflowNotFoundException, BaseHook

        try:
            conn = BaseHook.get_connection(conn_id)
        except AirflowNotFoundException:
            raise SmsConfigurationError(f"connection {conn_id!r} does not exist") from None
        conn_type, extra = str(conn.conn_type or ""), dict(conn.extra_dejson or {})
    endpoints = [e for e in callback_endpoints() if conn_type in e.conn_types]
    if not endpoints:
        raise SmsConfigurationError(f"connection {conn_id!r} is of type {conn_type!r}, which has no callbacks")
    secret = str(extra.get(SECRET_EXTRA) or "")
    if len(secret) < MIN_SECRET_LENGTH:
        raise SmsConfigurationError(
            f"connection {conn_id!r} needs the extra {SECRET_EXTRA!r} (at least {MIN_SECRET_LENGTH} random "
            "characters, e.g. from: python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    shown = secret if show_secret else MASK
    root = base if base is not None else base_url()
    return [CallbackUrl(e.gateway, e.kind, e.methods, e.setting, _url(e, root, conn_id, shown)) for e in endpoints]


def _parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog="sms-callback-url", description=__doc__.splitlines()[0])
    parser.add_argument("conn_id", help="the gateway connection")
    parser.add_argument("--base-url", default=None, help="the API server's public URL (default: [api] base_url)")
    parser.add_argument("--show-secret", action="store_true", help="print the real secret in the URLs")
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the URLs of ``args.conn_id``; 1 with the reason on stderr when there are none."""
    # A command run where the metadata database is reachable reads connections from it too, as
    # `airflow connections get` does (without this, Airflow 3 looks only in env vars and backends).
    os.environ.setdefault("_AIRFLOW_PROCESS_CONTEXT", "server")
    try:
        urls = callback_urls(args.conn_id, base=args.base_url, show_secret=args.show_secret)
    except SmsConfigurationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for item in urls:
        print(item.line())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``sms-callback-url <conn_id> [--base-url URL] [--show-secret]``."""
    return run(_parser().parse_args(argv))


def _cli_action(args: argparse.Namespace) -> None:
    code = run(args)
    if code:
        raise SystemExit(code)


def get_cli_commands() -> list[Any]:
    """The ``airflow sms`` command group (read by Airflow 3.3+ from the provider info's ``cli``)."""
    from airflow.cli.cli_config import ActionCommand, Arg, GroupCommand

    args = (Arg(("conn_id",), help="the gateway connection"),
            Arg(("--base-url",), default=None, help="the API server's public URL (default: [api] base_url)"),
            Arg(("--show-secret",), action="store_true", help="print the real secret in the URLs"))
    return [GroupCommand(name="sms", help="SMS provider commands", subcommands=[
        ActionCommand(name="callback-url", help="Print the callback URLs to configure at the gateway",
                      func=_cli_action, args=args)])]


if __name__ == "__main__":
    raise SystemExit(main())
