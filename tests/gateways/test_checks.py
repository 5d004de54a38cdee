"""``number_problems``: its quick all-fine pass never changes an answer of the per-number loop."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_sms.exceptions import Problem
from airflow_provider_sms.gateways import checks


def _loop(numbers: Sequence[str], field: str = "numbers") -> list[Problem]:
    """The per-number loop alone (the implementation before the quick pass)."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, number in enumerate(numbers):
        if not (number.isascii() and number.isdigit()):
            problems.append(Problem(field, "must be international digits only", number, index))
        elif number in seen:
            problems.append(Problem(field, "duplicate recipient", number, index))
        seen.add(number)
    return problems


NUMBER = st.one_of(st.from_regex(r"[0-9]{1,15}", fullmatch=True), st.sampled_from(
    ["", " ", "+447700100001", "44770010000\u0661", "\uff14\uff14", "4477001000O1", "447700100001 "]))


@settings(max_examples=400, deadline=None, database=None)
@given(st.lists(NUMBER, max_size=12))
def test_quick_pass_agrees_with_the_loop(numbers: list[str]) -> None:
    assert checks.number_problems(numbers) == _loop(numbers)


def test_a_clean_chunk_has_no_problems_and_a_bad_one_names_each() -> None:
    clean = [str(447700000000 + i) for i in range(5000)]
    assert checks.number_problems(clean) == []
    bad = [*clean[:3], clean[1], "44770010000\u0661", ""]
    assert [(p.index, p.reason) for p in checks.number_problems(bad)] == [
        (3, "duplicate recipient"), (4, "must be international digits only"), (5, "must be international digits only")]
