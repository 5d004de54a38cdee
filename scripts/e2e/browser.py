"""The connection forms in a real browser, on every Airflow version the project supports.

For each virtualenv given (Airflow 3.3 and 3.1), starts that Airflow's API server on loopback
(simple auth manager, a fresh SQLite DB) next to one gateway simulator, then drives the
distribution's Chromium with Playwright: logs in, opens *Add connection* for each of the
provider's connection types, checks labels, placeholders, hidden fields and the extras'
drop-downs and defaults against ``connection_forms.py`` (the README's table), keeps a screenshot
of each form, saves the connection and presses *Test*: success against the simulator, failure
with the gateway's message for a connection saved with a wrong password.

Run by ``make e2e`` (``scripts/e2e/browser.py --venv .venv --venv .venv-af31``). Exit status 0
when every check passed.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deployment import ADMIN, Deployment
from run import Checks, gateway_prefix

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _credentials(sim: Any) -> dict[str, tuple[str, str]]:
    """``conn_type -> (login, password)`` of the simulator's account for each connection type."""
    bulksms = sim.config.bulksms_accounts[0]
    bulletin = sim.config.bulletin_accounts[0]
    return {
        "bulksms": (bulksms.username, bulksms.password),
        "netmessenger": ("", sim.config.netmessenger_accounts[0].token),
        "bulletin_messenger": (bulletin.user_id, bulletin.password),
        "skycore": ("", sim.config.skycore_accounts[0].api_key),
    }


#: What goes after the simulator's URL in the host field (Skycore's host is the full API URL).
HOST_PATHS = {"skycore": "/API/wxml/1.3/"}


class FormCheck:
    """One Airflow UI in one browser page."""

    def __init__(self, page: Any, deployment: Deployment, version: str, shots: Path, checks: Checks) -> None:
        self.page = page
        self.deployment = deployment
        self.version = version
        self.shots = shots
        self.checks = checks

    def login(self) -> None:
        page = self.page
        page.goto(self.deployment.url + "/")
        page.fill("input[name=username]", ADMIN)
        page.fill("input[name=password]", self.deployment.admin_password)
        page.click("button:has-text('Sign in')")
        page.wait_for_url(lambda url: "/auth/login" not in url, timeout=60_000)

    def open_form(self, form: Any, conn_id: str) -> Any:
        page = self.page
        page.goto(self.deployment.url + "/connections")
        page.get_by_role("button", name="Add Connection").click()
        dialog = page.get_by_role("dialog")
        dialog.locator("input[name=connection_id]").fill(conn_id)
        dialog.get_by_role("combobox").first.fill(form.hook_name)
        page.keyboard.press("Enter")
        dialog.locator("input[name=host]").wait_for(timeout=30_000)
        return dialog

    def check_form(self, form: Any, dialog: Any) -> None:
        """Labels, placeholders and hidden fields of the standard fields; extras' labels, drop-downs, defaults."""
        behaviour = form.ui_field_behaviour()
        where = f"[{self.version}] {form.conn_type} form"
        labels = dialog.locator("label").all_inner_texts()
        labels = [text.replace("*", "").strip() for text in labels]
        missing = [label for label in behaviour["relabeling"].values() if label not in labels]
        self.checks.check(not missing, f"{where}: relabelled fields shown {sorted(behaviour['relabeling'].values())}"
                                       + (f", missing {missing}" if missing else ""))
        for name in ("host", "login", "password", "port", "schema"):
            inputs = dialog.locator(f"input[name={name}]")
            if name in behaviour["hidden_fields"]:
                self.checks.check(inputs.count() == 0, f"{where}: {name} hidden")
            elif name in behaviour["placeholders"]:
                shown = inputs.first.get_attribute("placeholder")
                self.checks.check(shown == behaviour["placeholders"][name],
                                  f"{where}: {name} placeholder {shown!r}")
        dialog.get_by_text("Extra Fields", exact=True).click()
        for field in form.fields:
            self.checks.check(field.label in labels, f"{where}: extra '{field.label}' labelled")
        body = dialog.inner_text()
        for field in form.fields:
            if field.enum:
                exact = re.compile(rf"^\s*{re.escape(field.label)}\s*$")
                group = dialog.locator("[role=group]").filter(has=self.page.locator("label", has_text=exact))
                boxes = group.get_by_role("combobox").count()
                shown = [line.strip() for line in group.first.inner_text().splitlines()]
                self.checks.check(boxes == 1 and str(field.default) in shown,
                                  f"{where}: '{field.label}' is a drop-down ({boxes} combobox) showing the default "
                                  f"{field.default!r}")
            elif field.type in ("integer", "number") and field.default is not None:
                value = dialog.locator(f"input[name=element_{field.name}]").first.input_value()
                self.checks.check(value == str(field.default), f"{where}: '{field.label}' defaults to {value!r}")
            help_text = field.help_text(form.placeholders.get(field.name))
            if help_text:
                self.checks.check(help_text in body, f"{where}: '{field.label}' explained ({help_text[:40]}...)")

    def fill_and_save(self, dialog: Any, form: Any, sim_url: str, port: str, login: str, password: str) -> None:
        if not dialog.locator("input[name=host]").is_visible():  # the Extra Fields section was opened
            dialog.get_by_text("Standard Fields", exact=True).click()
        dialog.locator("input[name=host]").fill(sim_url)
        if login and dialog.locator("input[name=login]").count():
            dialog.locator("input[name=login]").fill(login)
        dialog.locator("input[name=password]").fill(password)
        if port and dialog.locator("input[name=port]").count():  # hidden by some forms
            dialog.locator("input[name=port]").fill(port)
        dialog.get_by_role("button", name="Save").click()
        dialog.wait_for(state="hidden", timeout=30_000)

    def press_test(self, conn_id: str) -> tuple[int, dict[str, Any]]:
        """Press the row's Test button; the API's answer to the browser's request."""
        page = self.page
        page.goto(self.deployment.url + "/connections")
        row = page.locator("tr", has_text=conn_id)
        with page.expect_response(lambda r: r.url.endswith("/connections/test"), timeout=60_000) as answer:
            row.get_by_role("button", name="Test Connection").click()
        response = answer.value
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            body = {"detail": response.text()[:300]}
        posted = json.loads(response.request.post_data or "{}")
        body["posted_port"] = posted.get("port")
        return response.status, body

    def run(self, form: Any, sim: Any, credentials: tuple[str, str]) -> None:
        login, password = credentials
        where = f"[{self.version}] {form.conn_type}"
        conn_id = f"ui_{form.conn_type}_{secrets.token_hex(3)}"
        host = sim.url + HOST_PATHS.get(form.conn_type, "")
        dialog = self.open_form(form, conn_id)
        self.check_form(form, dialog)
        dialog.screenshot(path=str(self.shots / f"{self.version}-{form.conn_type}-form.png"))
        self.fill_and_save(dialog, form, host, str(sim.port), login, password)
        status, answer = self.press_test(conn_id)
        self.checks.check(status == 200 and answer.get("status") is True,
                          f"{where}: Test pressed in the browser succeeds against the simulator: HTTP {status} "
                          f"{answer.get('message') or answer.get('detail')} (form posted port {answer['posted_port']})")
        self.page.screenshot(path=str(self.shots / f"{self.version}-{form.conn_type}-tested.png"))

        wrong_id = conn_id + "_wrong"
        dialog = self.open_form(form, wrong_id)
        self.fill_and_save(dialog, form, host, str(sim.port), login, "wrong-" + secrets.token_hex(6))
        status, answer = self.press_test(wrong_id)
        message = str(answer.get("message") or answer.get("detail"))
        refused = answer.get("status") is False and message.startswith(gateway_prefix(form.conn_type))
        self.checks.check(status == 200 and refused,
                          f"{where}: Test with a wrong password fails with the gateway's message: {message}")

        # Why the port field is shown: a connection saved without one cannot be tested on 3.3.2.
        portless_id = conn_id + "_noport"
        dialog = self.open_form(form, portless_id)
        self.fill_and_save(dialog, form, host, "", login, password)
        status, answer = self.press_test(portless_id)
        print(f"  info [{self.version}] {form.conn_type}: Test of a connection saved without a port: HTTP {status} "
              f"{answer.get('message') or answer.get('detail')} (form posted port {answer['posted_port']!r})",
              flush=True)


def check_version(venv: Path, out: Path, sim: Any, checks: Checks) -> None:
    from playwright.sync_api import sync_playwright

    from airflow_provider_sms.connection_forms import CONNECTION_FORMS

    home = out / venv.name.lstrip(".")
    (home / "dags").mkdir(parents=True, exist_ok=True)
    deployment = Deployment(venv=venv, home=home, dags_folder=home / "dags")
    credentials = _credentials(sim)
    with deployment.running("api-server") as api, sync_playwright() as playwright:
        version = "airflow-" + str(api.call("GET", "version")["version"])
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2400})
            page.set_default_timeout(30_000)
            ui = FormCheck(page, deployment, version, out, checks)
            ui.login()
            for conn_type, form in CONNECTION_FORMS.items():
                if conn_type not in credentials:
                    checks.check(False, f"[{version}] {conn_type}: no simulator account known to "
                                        "scripts/e2e/browser.py, Test not pressed")
                    continue
                try:
                    ui.run(form, sim, credentials[conn_type])
                except Exception as error:  # one broken form must not hide the others
                    page.screenshot(path=str(out / f"{version}-{conn_type}-error.png"))
                    checks.check(False, f"[{version}] {conn_type}: {type(error).__name__}: {error}")
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, action="append", help="virtualenv with Airflow (repeatable)")
    parser.add_argument("--out", type=Path, default=REPO / ".e2e" / "browser", help="screenshots and logs")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    from airflow_provider_sms.simulator import SimulatorConfig, SimulatorServer

    started = time.monotonic()
    checks = Checks()
    with SimulatorServer(SimulatorConfig()) as sim:
        for venv in args.venv or [REPO / ".venv"]:
            try:
                check_version(venv.resolve(), out, sim, checks)
            except Exception as error:
                checks.check(False, f"{venv}: {type(error).__name__}: {error}")
    print(f"\nscreenshots: {out}; Airflow logs under {out}/<venv>/process-logs")
    print(f"browser: {checks.passed} checks passed, {len(checks.failures)} failed, "
          f"{(time.monotonic() - started) / 60:.1f} min")
    for failure in checks.failures:
        print(f"  FAILED: {failure}")
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
