from __future__ import annotations

import pytest

from airflow_provider_sms.core.digits import all_ascii_digits


@pytest.mark.parametrize(("texts", "expected"), [
    (["447700100001", "1"], True), ((("0",)), True), ([], False), (["12", ""], False), (["12a"], False),
    (["\u00b2"], False), (["\u0661\u0662"], False), (["\uff11"], False), (["1 2"], False), (["+44"], False),
])
def test_all_ascii_digits_is_what_str_isdigit_says_for_ascii_text(texts: list[str], expected: bool) -> None:
    assert all_ascii_digits(texts) is expected
    assert expected == (bool(texts) and all(t.isascii() and t.isdigit() for t in texts))


def test_an_item_that_is_not_text_raises_type_error() -> None:
    with pytest.raises(TypeError):
        all_ascii_digits(["1", 2])  # type: ignore[list-item]
