"""`format_number` writes a whole value under a thousand itself (a `/kpi set`'s reply has
one or two): for any value and unit it says what the general rule (kept here as it was
before the shortcut) says; a planted bug (the shortcut's minus left as a hyphen) fails it."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers import numbers

VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1001, max_value=1001),
    st.integers(min_value=-2000, max_value=2000).map(float),
    st.integers(min_value=-2000, max_value=2000),
    st.sampled_from([0.0, -0.0, 999.0, 1000.0, -999.0, -1000.0, 999.5, 0.5, 1e-7, 2.5e20]),
)
UNITS = st.sampled_from(["", "%", "‰", "$", "visits"])


def _general(value: float | None, unit: str = "") -> str:
    """`format_number` as it was before the shortcut (session 11)."""
    if value is None:
        return "—"
    if not math.isfinite(value):
        return str(value)
    size = abs(value)
    if float(value).is_integer():
        decimals = 0
    elif size >= 100:
        decimals = 1
    elif size >= 1:
        decimals = 2
    else:
        decimals = min(max(2, 1 - math.floor(math.log10(size))), 12)
    text = f"{value:,.{decimals}f}".replace(",", " ")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", "0"):
        text = "0"
    text = text.replace("-", "−")
    if not unit:
        return text
    return f"{text}{unit}" if unit in ("%", "‰") else f"{text} {unit}"


def _same(value: float, unit: str) -> None:
    assert numbers.format_number(value, unit) == _general(value, unit)


@settings(max_examples=400, deadline=None)
@given(VALUES, UNITS)
def test_a_number_reads_as_the_general_rule_writes_it(value: float, unit: str) -> None:
    _same(value, unit)


def test_none_is_a_dash() -> None:
    assert numbers.format_number(None, "$") == _general(None, "$") == "—"


def test_the_property_catches_a_shortcut_that_keeps_the_hyphen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: whole values under a thousand written by `str`, minus as a hyphen."""
    real: Callable[[float | None, str], str] = numbers.format_number

    def hyphen(value: float | None, unit: str = "") -> str:
        whole = value is not None and math.isfinite(value) and float(value).is_integer()
        if whole and value is not None and abs(value) < 1000:
            return numbers._with_unit(str(int(value)), unit)
        return real(value, unit)

    monkeypatch.setattr(numbers, "format_number", hyphen)
    with pytest.raises(AssertionError):
        settings(max_examples=400, deadline=None, derandomize=True)(given(VALUES, UNITS)(_same))()
