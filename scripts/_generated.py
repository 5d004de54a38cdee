"""Keep generated blocks of Markdown in step with the code: write them, or check that they are current.

A block sits between ``<!-- generated:NAME start -->`` and ``<!-- generated:NAME end -->``; a
whole generated file carries a header saying which script writes it.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def markers(name: str) -> tuple[str, str]:
    return f"<!-- generated:{name} start -->", f"<!-- generated:{name} end -->"


def replace_block(text: str, name: str, body: str) -> str:
    """``text`` with the block ``name`` holding ``body``; raises ``ValueError`` when the markers are missing."""
    start, end = markers(name)
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"no {start} ... {end} block")
    return pattern.sub(lambda _: f"{start}\n{body.rstrip()}\n{end}", text, count=1)


def block(text: str, name: str) -> str:
    """The current body of the block ``name``."""
    start, end = markers(name)
    match = re.search(re.escape(start) + r"\n(.*?)\n?" + re.escape(end), text, re.DOTALL)
    if match is None:
        raise ValueError(f"no {start} ... {end} block")
    return match.group(1)


def sync(files: dict[Path, str], *, write: bool) -> list[Path]:
    """Write each file's wanted content, or (``write=False``) return the files that differ."""
    stale = [path for path, content in files.items() if not path.exists() or path.read_text() != content]
    if write:
        for path in stale:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[path])
    return stale
