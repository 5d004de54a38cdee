"""The README's capability matrix, generated from what each gateway hook declares.

    python scripts/capability_matrix.py           # print the matrix
    python scripts/capability_matrix.py --write   # update README.md
    python scripts/capability_matrix.py --check   # exit 1 when README.md is stale

Rows are every :class:`~airflow_provider_sms.hooks.capabilities.Capability`; columns are every
connection type registered in ``connection_forms.py`` (one column per variant a hook declares in
``declared_capabilities()``). A new gateway or capability shows up with no change here.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _generated import REPO, replace_block

from airflow_provider_sms.connection_forms import CONNECTION_FORMS
from airflow_provider_sms.hooks.capabilities import Capability

README = REPO / "README.md"
BLOCK = "capability-matrix"


def columns() -> list[tuple[str, str, frozenset[Capability]]]:
    """``(label, connection type, capabilities)`` for every variant of every registered gateway."""
    out = []
    for conn_type, form in CONNECTION_FORMS.items():
        module_name, _, class_name = form.hook_class.rpartition(".")
        hook = getattr(importlib.import_module(module_name), class_name)
        for label, capabilities in hook.declared_capabilities().items():
            out.append((label, conn_type, frozenset(capabilities)))
    return out


def matrix() -> str:
    cols = columns()
    lines = [
        "| capability | " + " | ".join(f"{name} (`{conn_type}`)" for name, conn_type, _ in cols) + " |",
        "|---|" + "---|" * len(cols),
    ]
    for capability in Capability:
        marks = " | ".join("✓" if capability in caps else "—" for _, _, caps in cols)
        lines.append(f"| {capability.value} (`{capability.name}`) | {marks} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="update README.md")
    mode.add_argument("--check", action="store_true", help="exit 1 when README.md is stale")
    args = parser.parse_args(argv)
    table = matrix()
    if not (args.write or args.check):
        print(table)
        return 0
    current = README.read_text()
    wanted = replace_block(current, BLOCK, table)
    if args.check:
        if wanted != current:
            print("README.md capability matrix is stale: run python scripts/capability_matrix.py --write")
            return 1
        return 0
    README.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
