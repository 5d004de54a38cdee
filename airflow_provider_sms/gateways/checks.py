"""Request checks every protocol applies the same way (before anything is sent)."""

from __future__ import annotations

from collections.abc import Sequence

from airflow_provider_sms.core.digits import all_ascii_digits
from airflow_provider_sms.exceptions import Problem

__all__ = ["number_problems"]


def number_problems(numbers: Sequence[str], field: str = "numbers") -> list[Problem]:
    """Numbers that are not international digits, and repeats.

    Gateways reject a request that names a recipient twice (BulkSMS EAPI unless
    ``strip_dup_recipients=1``, which the vendor advises against), so repeats are refused here.
    """
    if _all_fine(numbers):
        return []
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, number in enumerate(numbers):
        if not (number.isascii() and number.isdigit()):
            problems.append(Problem(field, "must be international digits only", number, index))
        elif number in seen:
            problems.append(Problem(field, "duplicate recipient", number, index))
        seen.add(number)
    return problems


def _all_fine(numbers: Sequence[str]) -> bool:
    """True when every number is ASCII digits and none repeats, checked in C-speed passes.

    Each request a send builds goes through these checks although the operator normalised its
    numbers already; this keeps that second look at about a tenth of the per-number loop's cost.
    The loop above still runs (and names each problem) whenever this says no.
    """
    try:
        return len(set(numbers)) == len(numbers) and all_ascii_digits(numbers)
    except TypeError:  # not all strings: the loop reports it as before
        return False
