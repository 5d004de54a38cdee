"""The shell snippets that create connections in the README and the how-to pages, mirrored.

The suite cannot run ``export AIRFLOW_CONN_...`` or ``airflow connections add`` as a newcomer
would, so each one is read back here: the variable's JSON (or the CLI's options) must make a
connection of a registered type whose extras the hook accepts, and the same connection pointed at
the simulator (its host and demo credentials; every documented extra kept) must pass the
connection test. Generated ``*-reference.md`` skeletons are left out: they are written from the
connection forms, whose fields the docs tests check.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_sms.connection_forms import CONNECTION_FORMS
from airflow_provider_sms.hooks.base import get_sms_hook
from airflow_provider_sms.simulator import SimulatorServer
from tests.bulletin.conftest import bulletin_connection
from tests.conftest import bulksms_connection, netmessenger_connection, skycore_connection

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").rglob("*.md") if not p.name.endswith("-reference.md"))]
_BASH = re.compile(r"```bash\n(.*?)```", re.S)
_EXPORT = re.compile(r"export (AIRFLOW_CONN_\w+)='(.*?)'", re.S)
_CLI_OPTIONS = {"--conn-type": "conn_type", "--conn-host": "host", "--conn-login": "login",
                "--conn-password": "password", "--conn-port": "port", "--conn-schema": "schema"}


def _snippets() -> list[tuple[str, str, dict[str, Any]]]:
    """``(where, conn_id, connection as AIRFLOW_CONN_* JSON)`` of every documented connection."""
    found: list[tuple[str, str, dict[str, Any]]] = []
    for page in PAGES:
        for block in _BASH.findall(page.read_text(encoding="utf-8")):
            where = page.relative_to(ROOT).as_posix()
            for name, value in _EXPORT.findall(block):
                found.append((where, name.removeprefix("AIRFLOW_CONN_").lower(), json.loads(value)))
            for command in block.replace("\\\n", " ").splitlines():
                if not command.strip().startswith("airflow connections add"):
                    continue
                words = shlex.split(command, comments=True)
                conn: dict[str, Any] = {}
                for option, value in zip(words[4::2], words[5::2], strict=True):
                    if option == "--conn-extra":
                        conn["extra"] = json.loads(value)
                    else:
                        conn[_CLI_OPTIONS[option]] = value
                found.append((where, words[3], conn))
    return found


SNIPPETS = _snippets()
SMS_SNIPPETS = [s for s in SNIPPETS if s[2].get("conn_type") in CONNECTION_FORMS]


def _simulator_connection(server: SimulatorServer, conn: dict[str, Any]) -> dict[str, Any]:
    """``conn`` with the simulator's host and demo credentials, every documented extra kept."""
    extra = dict(conn.get("extra") or {})
    demo = {"bulksms": lambda: bulksms_connection(server, str(extra.get("api", "json"))),
            "netmessenger": lambda: netmessenger_connection(server),
            "skycore": lambda: skycore_connection(server),
            "bulletin_messenger": lambda: bulletin_connection(server)}[conn["conn_type"]]
    pointed: dict[str, Any] = json.loads(demo())
    pointed["extra"] = {**pointed["extra"], **extra}
    return pointed


def test_the_docs_show_a_connection_of_every_gateway_both_ways() -> None:
    for conn_type in CONNECTION_FORMS:
        ways = [w for w, _, c in SMS_SNIPPETS if c["conn_type"] == conn_type]
        assert len(ways) >= 2, f"{conn_type}: an AIRFLOW_CONN_* variable and a CLI command are documented ({ways})"


@pytest.mark.parametrize(("where", "conn_id", "conn"), SMS_SNIPPETS,
                         ids=[f"{w}:{i}" for w, i, _ in SMS_SNIPPETS])
def test_documented_connection_is_accepted_and_works_against_the_simulator(
        where: str, conn_id: str, conn: dict[str, Any], sms_simulator: SimulatorServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    variable = f"AIRFLOW_CONN_{conn_id.upper()}"
    monkeypatch.setenv(variable, json.dumps(conn))
    hook = get_sms_hook(conn_id)
    hook.prepare()  # the documented extras are read as the hook reads them: no configuration error
    assert hook.conn_type == conn["conn_type"]

    monkeypatch.setenv(variable, json.dumps(_simulator_connection(sms_simulator, conn)))
    ok, message = get_sms_hook(conn_id).test_connection()
    assert ok, f"{where}: {message}"


def test_non_sms_connections_in_the_docs_are_the_journal_database() -> None:
    others = [(where, conn_id, c["conn_type"]) for where, conn_id, c in SNIPPETS
              if c.get("conn_type") not in CONNECTION_FORMS]
    assert {conn_id for _, conn_id, _ in others} <= {"sms_journal_default"}, others
