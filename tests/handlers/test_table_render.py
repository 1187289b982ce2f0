"""Monospace tables: the width rule every adapter's aligned block relies on."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from handlers.contract import Table, _width

# status markers, arrows, accents, CJK, Hangul, kana, fullwidth and halfwidth forms, and the
# edges of the two-column ranges
CHARS = st.sampled_from(
    [
        *("a", " ", "%", "é", "中", "한", "ア", "ｱ", "Ａ", "，", "↑", "·", "🔴", "🟢"),
        *("\U0001efff", "\U0001f000", "\u10ff", "\u1100", "\u303f", "\u3041", "\uffe6", "\uffe8"),
    ]
)


def _wide_letter(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


@given(st.text(alphabet=CHARS))
def test_a_cell_is_one_column_per_character_and_two_per_emoji_or_wide_letter(text: str) -> None:
    assert _width(text) == sum(
        2 if ord(ch) >= 0x1F000 or (ord(ch) <= 0xFFFF and _wide_letter(ch)) else 1 for ch in text
    )


def test_cjk_names_line_up_with_latin_ones() -> None:
    table = Table(
        columns=("KPI", "value"),
        rows=(("销售额", "12"), ("sales", "7"), ("매출", "3")),
        align=("l", "r"),
    )
    assert table.render().split("\n") == [
        "KPI     value",
        "销售额     12",
        "sales       7",
        "매출        3",
    ]


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
