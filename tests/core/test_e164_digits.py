"""E164Digits reads like the list of digits it stands for: length, items, every kind of slice,
iteration, membership, and canonical_order passing it through."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_sms.core import e164_digits
from airflow_provider_sms.core.dedupe import canonical_order, is_canonical
from airflow_provider_sms.core.e164_digits import E164Digits
from tests.core.test_number_check_equivalence import EXAMPLES

# What the send builds it from: lists checked by is_canonical (strictly increasing as text, lengths
# never shrinking), such as ranges of one length or lengths that grow at a shared prefix.
_numbers = st.lists(st.integers(10**11 - 50, 10**11 + 50) | st.integers(447700000000, 447700000100), max_size=60,
                    unique=True).map(lambda values: [f"+{v}" for v in sorted(values)]).filter(is_canonical)
_index = st.one_of(st.none(), st.integers(-70, 70))


@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(written=_numbers, start=_index, stop=_index, step=st.one_of(st.none(), st.integers(-5, 5).filter(bool)))
def test_reads_as_the_list_of_digits(written: list[str], start: int | None, stop: int | None,
                                     step: int | None) -> None:
    digits = [w[1:] for w in written]
    view = E164Digits(written)
    assert len(view) == len(digits)
    assert list(view) == digits
    assert view[start:stop:step] == digits[start:stop:step]
    assert [view[i] for i in range(-len(digits), len(digits))] == [digits[i] for i in range(-len(digits), len(digits))]
    assert all(d in view for d in digits)
    assert is_canonical(digits) and canonical_order(view) is view and is_canonical(view)


def test_membership_is_exact() -> None:
    view = E164Digits(["+33612345678", "+447700900001", "+447700900003"])
    assert "447700900001" in view and "33612345678" in view
    assert not any(x in view for x in ("447700900002", "44770090000", "4477009000011", "", "+447700900001",
                                       "447700900004", "1"))
    assert 447700900001 not in view  # type: ignore[comparison-overlap]


def test_a_long_list_is_read_in_blocks() -> None:
    written = [f"+{447700000000 + i}" for i in range(3 * e164_digits._BLOCK + 17)]
    assert list(E164Digits(written)) == [w[1:] for w in written]
    assert E164Digits(written)[e164_digits._BLOCK - 2:e164_digits._BLOCK + 2] == [w[1:] for w in written[
        e164_digits._BLOCK - 2:e164_digits._BLOCK + 2]]
