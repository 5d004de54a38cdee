"""Request checks every protocol applies the same way (before anything is sent)."""

from __future__ import annotations

from collections.abc import Sequence

from airflow_provider_sms.exceptions import Problem

__all__ = ["number_problems"]


def number_problems(numbers: Sequence[str], field: str = "numbers") -> list[Problem]:
    """Numbers that are not international digits, and repeats.

    Gateways reject a request that names a recipient twice (BulkSMS EAPI unless
    ``strip_dup_recipients=1``, which the vendor advises against), so repeats are refused here.
    """
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, number in enumerate(numbers):
        if not (number.isascii() and number.isdigit()):
            problems.append(Problem(field, "must be international digits only", number, index))
        elif number in seen:
            problems.append(Problem(field, "duplicate recipient", number, index))
        seen.add(number)
    return problems
