"""Monospace tables: the width rule every adapter's aligned block relies on."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from handlers.contract import Table, _width

# status markers, arrows, accents, CJK, and the edges of the two-column range
CHARS = st.sampled_from(
    ["a", " ", "%", "é", "中", "↑", "·", "🔴", "🟢", "\U0001efff", "\U0001f000"]
)


@given(st.text(alphabet=CHARS))
def test_a_cell_is_one_column_per_character_and_two_per_emoji(text: str) -> None:
    assert _width(text) == sum(2 if ord(ch) >= 0x1F000 else 1 for ch in text)


def test_emoji_rows_line_up_with_ascii_rows() -> None:
    table = Table(
        columns=("KPI", "value", "trend"),
        rows=(("🔴 CAC", "95 $", "↓"), ("churn", "1.5 %", "↑"), ("🟢 NPS é", "40", "")),
        align=("l", "r", "l"),
    )

    assert table.render().split("\n") == [
        "KPI       value  trend",
        "🔴 CAC     95 $  ↓",
        "churn     1.5 %  ↑",
        "🟢 NPS é     40",
    ]
