"""Results of a contact import, in gateway-neutral terms (counts per outcome, the lines that failed)."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ["ImportLine", "ImportOutcome", "ImportResult"]


class ImportOutcome(enum.StrEnum):
    """The result word of one ``ImportContactsCSV`` line (reference 3.5)."""

    SUCCESS = "success"
    PARTIAL = "partial"  # contact created, but could not be put in its group(s)
    FAILED = "failed"
    DUPLICATE_NAME = "duplicate_name"
    DUPLICATE_NUMBER = "duplicate_number"
    UNKNOWN = "unknown"  # a word the reference does not list (kept, counted apart)

    @property
    def created(self) -> bool:
        """True when the contact exists afterwards (Success or Partial)."""
        return self in (ImportOutcome.SUCCESS, ImportOutcome.PARTIAL)


class ImportLine(NamedTuple):
    """The result of one line of an ``ImportContactsCSV`` upload (immutable; a named tuple, as a
    million-line import makes one per contact).

    :param line: 1-based line number within that upload (not within a whole chunked file).
    :param result: the gateway's word as written, e.g. ``Duplicate Name``.
    :param reasons: the detail lines for this line (e.g. ``No name``), scrubbed and shortened.
    """

    line: int
    outcome: ImportOutcome
    result: str
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "outcome": self.outcome.value, "result": self.result, "reasons": list(self.reasons)}


@dataclass(frozen=True)
class ImportResult:
    """Everything one ``ImportContactsCSV`` answer said.

    :param notes: detail text that names no line (kept rather than dropped).
    """

    lines: tuple[ImportLine, ...]
    notes: tuple[str, ...] = ()

    def count(self, outcome: ImportOutcome) -> int:
        return sum(1 for line in self.lines if line.outcome is outcome)

    @property
    def counts(self) -> dict[str, int]:
        """Lines per outcome: ``success``, ``partial``, ``failed``, ``duplicate_name``, ``duplicate_number``,
        ``unknown`` (every key always present)."""
        tally = Counter(line.outcome for line in self.lines)
        return {outcome.value: tally[outcome] for outcome in ImportOutcome}

    @property
    def rejects(self) -> list[ImportLine]:
        """Every line that did not end as Success (Partial included: its group is missing)."""
        return [line for line in self.lines if line.outcome is not ImportOutcome.SUCCESS]

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts,
            "rejects": [line.to_dict() for line in self.rejects],
            "notes": list(self.notes),
        }
