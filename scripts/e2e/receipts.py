"""The e2e part of issue 10: the simulator calls the receiver plugin in the real API server.

The simulator process is started with every gateway's callback URLs pointing at the deployment's
API server (``/sms-callbacks/...``, the connections' ``callback_secret``); the example DAGs' sends
then produce status callbacks, and :func:`check_callbacks` has a handset reply on each gateway.
Checks: the callback-URL command prints the same URLs (masked unless asked), each reply is stored
in the deployment's receipts store (``$AIRFLOW_HOME/sms_journal.db``), a wrong secret is refused
with 401 and stores nothing, and -- once the runs are final -- status events arrived from every
gateway that pushes them. The secret scan of ``run.py`` covers the callback secret.
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from typing import Any, Protocol

import requests
from deployment import Deployment, wait_for

PREFIX = "/sms-callbacks"
REPLIES = {"bulletin": "64211111111", "bulksms": "447700100001", "netmessenger": "447700100002",
           "skycore": "12025550101"}
# Where each reply is stored: a BulkSMS reply comes twice, as an EAPI inbound push (bulksms_eapi)
# and as a JSON API webhook (bulksms_default), one per configured URL.
REPLY_CONNECTIONS = {"bulletin": ["bulletin_messenger_default"], "bulksms": ["bulksms_default", "bulksms_eapi"],
                     "netmessenger": ["netmessenger_default"], "skycore": ["skycore_default"]}
STATUS_GATEWAYS = ("bulletin", "bulksms", "skycore")  # NetMessenger pushes no statuses
SKYCORE_MO = (b"<POSTBACK><ORIGIN>SMS_MO</ORIGIN><CODE>N211</CODE><FROM>12025550199</FROM><TO>60856</TO>"
              b"<TEXT>forged</TEXT><TRANSACTIONID>e2e-forged</TRANSACTIONID></POSTBACK>")


class Checks(Protocol):
    def check(self, ok: bool, what: str) -> bool: ...


class Simulator(Protocol):
    url: str

    def post(self, path: str, body: dict[str, Any]) -> Any: ...


def _url(base: str, gateway: str, conn_id: str, kind: str, secret: str, param: str = "secret") -> str:
    return f"{base}{PREFIX}/{gateway}/{conn_id}/{kind}?{param}={secret}"


def account_settings(base: str, secret: str) -> dict[str, dict[str, str]]:
    """The simulator's ``--account-settings``: every callback URL at the API server ``base``."""
    return {
        "bulletin": {"status_callback_url": _url(base, "bulletin", "bulletin_messenger_default", "status", secret),
                     "reply_callback_url": _url(base, "bulletin", "bulletin_messenger_default", "reply", secret)},
        "bulksms": {"webhook_url": _url(base, "bulksms", "bulksms_default", "webhook", secret),
                    "inbound_push_url": _url(base, "bulksms", "bulksms_eapi", "inbound", secret)},
        "netmessenger": {"forward_url": f"{base}{PREFIX}/netmessenger/netmessenger_default/inbound",
                         "forward_method": "POST", "forward_auth": secret},
        "skycore": {"postback_url": _url(base, "skycore", "skycore_default", "postback", secret)},
    }


def _rows(home: Path, query: str) -> list[tuple[Any, ...]]:
    database = home / "sms_journal.db"
    if not database.exists():
        return []
    with sqlite3.connect(database, timeout=30) as conn:
        try:
            return list(conn.execute(query).fetchall())
        except sqlite3.OperationalError:  # the tables are made on the first callback
            return []


def _command(deployment: Deployment, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(deployment.venv / "bin" / "sms-callback-url"), *args], env=deployment.env(),
                          capture_output=True, text=True, timeout=300, check=False)


def check_callbacks(deployment: Deployment, sim: Simulator, secret: str, checks: Checks) -> None:
    """The URL command; a reply on each gateway stored through the API server; a forged callback refused."""
    base = deployment.url
    shown = _command(deployment, "skycore_default", "--show-secret")
    postback = account_settings(base, secret)["skycore"]["postback_url"]
    checks.check(shown.returncode == 0 and postback in shown.stdout,
                 f"sms-callback-url prints the postback URL at [api] base_url: "
                 f"{(shown.stdout + shown.stderr).replace(secret, '<secret>').strip()[:300]}")
    masked = _command(deployment, "bulletin_messenger_default")
    checks.check(masked.returncode == 0 and secret not in masked.stdout + masked.stderr
                 and masked.stdout.count("?secret=***") == 2,
                 f"without --show-secret the two Bulletin URLs carry ***: "
                 f"{(masked.stdout + masked.stderr).replace(secret, '<secret>').strip()[:300]}")

    for gateway, number in REPLIES.items():
        sim.post(f"{gateway}/reply", {"number": number, "text": f"e2e reply via {gateway}"})
    requests.post(f"{sim.url}/_sim/advance", params={"seconds": "0"}, timeout=60).raise_for_status()

    expected = sorted((g, c, n, f"e2e reply via {g}") for g, n in REPLIES.items() for c in REPLY_CONNECTIONS[g])

    def stored() -> list[tuple[Any, ...]] | None:
        rows = _rows(deployment.home, "SELECT gateway, conn_id, sender, text FROM sms_reply_events ORDER BY id")
        return rows if len(rows) >= len(expected) else None

    rows = wait_for("the replies of every gateway in the receipts store", stored, 120, 1)
    checks.check(sorted(rows) == expected, f"each reply stored once per callback URL through the API server "
                                           f"plugin: {rows}")

    forged = requests.post(_url(base, "skycore", "skycore_default", "postback", "not-the-" + secret), data=SKYCORE_MO,
                           headers={"Content-Type": "text/xml"}, timeout=30)
    checks.check(forged.status_code == 401 and forged.content == b"", f"a wrong secret: {forged.status_code}, no body")
    again = _rows(deployment.home, "SELECT count(*) FROM sms_reply_events WHERE event_id = 'e2e-forged'")
    checks.check(again == [(0,)], "the forged callback stored nothing")


def check_statuses(deployment: Deployment, checks: Checks) -> None:
    """After the example DAGs' sends: status events from each gateway that pushes them, each stored once."""
    rows = _rows(deployment.home, "SELECT gateway, state, count(*), count(DISTINCT gateway || conn_id || event_id) "
                                  "FROM sms_status_events GROUP BY gateway, state")
    by_gateway: dict[str, dict[str, int]] = {}
    unique = all(total == distinct for _, _, total, distinct in rows)
    for gateway, state, total, _ in rows:
        by_gateway.setdefault(gateway, {})[state] = total
    checks.check(all(by_gateway.get(g, {}).get("delivered", 0) > 0 for g in STATUS_GATEWAYS) and unique,
                 f"delivery receipts stored from {', '.join(STATUS_GATEWAYS)} (each once): {by_gateway}")
