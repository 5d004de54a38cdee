"""``sms-simulator`` / ``python -m airflow_provider_sms.simulator``: run the simulator until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import replace
from types import FrameType
from typing import Any, TextIO

from airflow_provider_sms.simulator.config import (
    DEFAULT_BULKSMS_PASSWORD,
    DEFAULT_BULKSMS_USERNAME,
    DEFAULT_BULLETIN_PASSWORD,
    DEFAULT_BULLETIN_USER_ID,
    DEFAULT_NETMESSENGER_TOKEN,
    DEFAULT_SKYCORE_API_KEY,
    BulkSmsAccount,
    BulletinAccount,
    NetMessengerAccount,
    SimulatorConfig,
    SkycoreAccount,
)


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="sms-simulator",
        description="Local SMS gateway simulator (BulkSMS EAPI and JSON API, NetMessenger) for tests and demos.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    parser.add_argument("--port", type=int, default=8080, help="port (0 picks a free one; default 8080)")
    parser.add_argument("--delivery-delay", type=float, default=5.0, help="virtual seconds until final status")
    parser.add_argument("--push-url", default=None, help="URL receiving BulkSMS delivery-report pushes (HTTP GET)")
    parser.add_argument("--username", default=DEFAULT_BULKSMS_USERNAME, help="BulkSMS account username")
    parser.add_argument("--password", default=DEFAULT_BULKSMS_PASSWORD, help="BulkSMS account password")
    parser.add_argument("--credits", type=float, default=1000.0,
                        help="starting credit balance of the BulkSMS account (and of NetMessenger's, unless "
                        "--netmessenger-credits is given); default 1000")
    parser.add_argument("--netmessenger-credits", type=int, default=None,
                        help="starting credit balance of the NetMessenger account (whole credits)")
    parser.add_argument("--background-delay", type=float, default=30.0,
                        help="virtual seconds a NetMessenger background (group/list) send takes; default 30")
    parser.add_argument("--background-threshold", type=int, default=200,
                        help="NetMessenger group/list sends above this many members run in the background")
    parser.add_argument(
        "--netmessenger-token", default=DEFAULT_NETMESSENGER_TOKEN, help="NetMessenger account API token"
    )
    parser.add_argument("--bulletin-user-id", default=DEFAULT_BULLETIN_USER_ID, help="Bulletin Messenger user id")
    parser.add_argument("--bulletin-password", default=DEFAULT_BULLETIN_PASSWORD,
                        help="Bulletin Messenger account password")
    parser.add_argument("--skycore-api-key", default=DEFAULT_SKYCORE_API_KEY, help="Skycore account API key")
    parser.add_argument("--seed", type=int, default=0, help="seed for ids")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds every gateway request waits before it is answered (a gateway far away)")
    parser.add_argument(
        "--account-settings", type=json.loads, default={}, metavar="JSON",
        help='more account fields per gateway, e.g. \'{"skycore": {"postback_url": "http://..."}}\' '
             "(callback URLs: see docs/receipts.md)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow binding a non-loopback address (the simulator has no real security)",
    )
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stop: threading.Event | None = None,
    out: TextIO | None = None,
) -> int:
    """Run the simulator until Ctrl-C, SIGTERM or ``stop`` is set; returns the exit status."""
    args = build_parser().parse_args(argv)
    out = out if out is not None else sys.stdout
    account = BulkSmsAccount(
        username=args.username, password=args.password, credits=args.credits, push_url=args.push_url
    )
    nm_credits = args.netmessenger_credits if args.netmessenger_credits is not None else int(args.credits)
    netmessenger = NetMessengerAccount(token=args.netmessenger_token, credits=nm_credits)
    more: dict[str, dict[str, Any]] = args.account_settings
    try:
        account = replace(account, **more.get("bulksms", {}))
        netmessenger = replace(netmessenger, **more.get("netmessenger", {}))
        bulletin = BulletinAccount(user_id=args.bulletin_user_id, password=args.bulletin_password,
                                   **more.get("bulletin", {}))
        skycore = SkycoreAccount(api_key=args.skycore_api_key, **more.get("skycore", {}))
    except TypeError as exc:
        print(f"sms-simulator: --account-settings: {exc}", file=sys.stderr)
        return 2
    config = SimulatorConfig(
        bulksms_accounts=[account],
        netmessenger_accounts=[netmessenger],
        bulletin_accounts=[bulletin],
        skycore_accounts=[skycore],
        delivery_delay=args.delivery_delay,
        netmessenger_background_delay=args.background_delay,
        netmessenger_background_threshold=args.background_threshold,
        seed=args.seed,
        latency=max(0.0, args.latency),
    )

    from airflow_provider_sms.simulator.server import SimulatorServer  # heavy: only once arguments are valid

    try:
        server = SimulatorServer(config, host=args.host, port=args.port, allow_remote=args.allow_remote).start()
    except (ValueError, OSError) as exc:
        print(f"sms-simulator: {exc}", file=sys.stderr)
        return 2
    stop = stop if stop is not None else threading.Event()
    if threading.current_thread() is threading.main_thread():

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        # Ctrl-C too: a KeyboardInterrupt could land in the middle of the banner and end the process
        # without stopping the server cleanly.
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    url = server.url
    print(f"SMS gateway simulator listening on {url}", file=out)
    print(f"  BulkSMS EAPI:     {url}/eapi", file=out)
    print(f"  BulkSMS JSON API: {url}/v1", file=out)
    # These are the simulator's own demo credentials, printed so users can configure a connection.
    print(f"  account: {account.username} / {account.password} ({account.credits:.2f} credits)", file=out)
    print(f"  NetMessenger API: {url}/api (token {netmessenger.token}, {netmessenger.credits} credits)", file=out)
    print(f"  NetMessenger background sends: above {args.background_threshold} members, "
          f"{args.background_delay:g} virtual s", file=out)
    if account.push_url:
        print(f"  delivery reports pushed to {account.push_url}", file=out)
    print(f"  Bulletin Messenger: {url} (user id {args.bulletin_user_id}, password {args.bulletin_password})",
          file=out)
    print(f"  Skycore API:      {url}/API/wxml/1.3/ (API key {args.skycore_api_key})", file=out)
    print(f"  control: {url}/_sim/health (advance the clock: POST {url}/_sim/advance?seconds=5)", file=out)
    print("Press Ctrl-C to stop.", file=out, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    print("stopped", file=out, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
