"""The README and docs stay true: generated parts are current, links resolve, every Python block runs.

The Python blocks of the README and of every page under ``docs/`` run against the simulator, in
order, one namespace per file (a later block may use an earlier block's imports). A block that
defines ``test_*`` functions has them called with the ``sms_simulator`` and ``monkeypatch``
fixtures, as pytest would call them in a user's own test suite.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from airflow_provider_sms.connection_forms import CONNECTION_FORMS, ConnectionForm
from airflow_provider_sms.hooks.base import SmsHook
from airflow_provider_sms.hooks.capabilities import Capability
from airflow_provider_sms.simulator import SimulatorServer
from tests.conftest import REPO

DOCS = REPO / "docs"
PAGES = [REPO / "README.md", *sorted(DOCS.rglob("*.md"))]
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def python_blocks(page: Path) -> list[str]:
    return [body for lang, body in FENCE.findall(page.read_text()) if lang == "python"]


# -- generated parts ---------------------------------------------------------------------------

def test_readme_capability_matrix_is_current() -> None:
    assert _script("capability_matrix").main(["--check"]) == 0, "run python scripts/capability_matrix.py --write"


def test_matrix_has_every_capability_and_grows_with_a_new_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    matrix = _script("capability_matrix")
    rows = matrix.matrix().splitlines()[2:]
    assert [r.split("(`")[-1].split("`)")[0] for r in rows] == [c.name for c in Capability]

    class PigeonHook(SmsHook):  # no change to the script: a registered type is a column
        hook_name = "Pigeon Post"
        capabilities = frozenset({Capability.SEND})

    sys.modules[__name__].PigeonHook = PigeonHook  # type: ignore[attr-defined]
    form = ConnectionForm("pigeon", f"{__name__}.PigeonHook", "Pigeon Post", (), {}, {})
    monkeypatch.setitem(matrix.CONNECTION_FORMS, "pigeon", form)
    table = matrix.matrix().splitlines()
    assert table[0].endswith("| Pigeon Post (`pigeon`) |")
    assert table[2].endswith("| ✓ |") and table[3].endswith("| — |")


def test_generated_docs_are_current() -> None:
    assert _script("generate_docs").main(["--check"]) == 0, "run python scripts/generate_docs.py"


def test_every_code_table_is_documented() -> None:
    generate = _script("generate_docs")
    page = (DOCS / "troubleshooting-codes.md").read_text()
    for gateway, module in generate.gateway_code_modules():
        documented = dict(generate.code_tables(module))
        tables = {name: value for name, value in vars(module).items()
                  if not name.startswith("_") and name.isupper() and hasattr(value, "items") and value}
        assert set(tables) == set(documented), f"{gateway}: tables the generator cannot read"
        for name, rows in documented.items():
            assert len(rows) == len(tables[name])
            gateway_part = page.split(f"\n## {gateway}\n")[1].split("\n## ")[0]
            section = gateway_part.split(f"### `{name}`")[1].split("###")[0]
            for code, *_ in rows:
                assert f"| `{code}` |" in section, f"{name}: {code} missing"


def test_every_connection_type_has_a_reference_page() -> None:
    for conn_type in CONNECTION_FORMS:
        assert (DOCS / "gateways" / f"{conn_type}-reference.md").exists()


HOWTO_SECTIONS = ["## Creating the connection", "### In the Airflow UI", "### In an `AIRFLOW_CONN_*` variable",
                  "### With the CLI", "## Which field means what", "## Regional hosts",
                  "## What each capability does here", "## Retry and duplicate guarantees",
                  "## Limits and encodings"]


@pytest.mark.parametrize("page", sorted(p for p in (DOCS / "gateways").glob("*.md")
                                        if not p.stem.endswith("-reference") and p.stem != "TEMPLATE"),
                         ids=lambda p: p.stem)
def test_gateway_howto_page_has_every_section(page: Path) -> None:
    text = page.read_text()
    positions = [text.find(section) for section in HOWTO_SECTIONS]
    assert -1 not in positions, [s for s, p in zip(HOWTO_SECTIONS, positions, strict=True) if p == -1]
    assert positions == sorted(positions)


@pytest.mark.parametrize("page", sorted(p for p in (DOCS / "gateways").glob("*.md")
                                        if not p.stem.endswith("-reference") and p.stem != "TEMPLATE"),
                         ids=lambda p: p.stem)
def test_gateway_retry_section_describes_the_send_journal(page: Path) -> None:
    """What a retry, a clear or a re-run does is the send journal's doing on every gateway (issue 6):
    a page that explains retries without it describes behaviour the code no longer has."""
    text = page.read_text()
    section = text[text.index("## Retry and duplicate guarantees"):text.index("## Limits and encodings")]
    assert "send journal" in section
    assert "README.md#retries-clears-and-re-runs-the-send-journal" in section
    assert "## Retries, clears and re-runs: the send journal" in (REPO / "README.md").read_text()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(page: Path) -> None:
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
        assert (page.parent / target).exists(), f"{page.name}: broken link {target}"


# -- the code blocks ---------------------------------------------------------------------------

@pytest.mark.parametrize("page", [p for p in PAGES if python_blocks(p)], ids=lambda p: str(p.relative_to(REPO)))
def test_python_blocks_run(page: Path, sms_simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch,
                           tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("AIRFLOW_CONN_")]:
        monkeypatch.delenv(name)
    namespace: dict[str, Any] = {"__name__": f"docs_{page.stem}"}
    called: list[str] = []
    for index, block in enumerate(python_blocks(page)):
        before = set(namespace)
        try:
            exec(compile(block, f"{page.name}[python block {index}]", "exec"), namespace)  # noqa: S102
            for name in sorted(set(namespace) - before):
                if name.startswith("test_") and callable(namespace[name]):
                    sms_simulator.reset()
                    namespace[name](sms_simulator, monkeypatch)
                    called.append(name)
        finally:
            for name in [n for n in os.environ if n.startswith("AIRFLOW_CONN_")]:
                monkeypatch.delenv(name, raising=False)
    assert called == re.findall(r"^def (test_\w+)", "\n".join(python_blocks(page)), re.MULTILINE)
