"""`format_percent` writes a whole percent from 0 to 999 itself (a quick `/kpi set`'s
reply has one): for any share it says what `format_number` says of the whole percent
reached; a planted bug (the shortcut taken for 1 000 % and more, ungrouped) fails that."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers import numbers

SHARES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-0.02, max_value=12.0),
    st.sampled_from([0.0, -0.0, 0.7999999999, 0.8, 9.99, 9.999999999999, 10.0, -0.005]),
)


def _said_by_format_number(share: float) -> str:
    if not math.isfinite(share):
        return str(share)
    return numbers.format_number(numbers.whole_percent(share), "%")


def _same(share: float) -> None:
    assert numbers.format_percent(share) == _said_by_format_number(share)


@settings(max_examples=300, deadline=None)
@given(SHARES)
def test_a_whole_percent_reads_as_format_number_writes_it(share: float) -> None:
    _same(share)


def test_the_property_catches_a_shortcut_that_leaves_thousands_ungrouped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: every non-negative whole percent written as it is."""

    def ungrouped(share: float | None) -> str:
        if share is None or not math.isfinite(share):
            return "—" if share is None else str(share)
        whole = numbers.whole_percent(share)
        return f"{whole}%" if whole >= 0 else numbers.format_number(whole, "%")

    monkeypatch.setattr(numbers, "format_percent", ungrouped)
    with pytest.raises(AssertionError):
        settings(max_examples=300, deadline=None, derandomize=True)(given(SHARES)(_same))()
