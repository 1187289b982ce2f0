"""Invisible marks pasted or typed with a number or a key (a zero-width space from a web page,
the right-to-left mark an Arabic or Hebrew keyboard adds) are not part of it.

`/kpi set zw 5<ZWSP>` was refused with "'5' is not a number", which looks absurd: the line
quotes a mark nobody can see.
"""

from __future__ import annotations

import pytest

from handlers.parsing import normalize_key, parse_number
from tests.support import FakeChat

MARKS = ["\u200b", "\u200c", "\u200e", "\u200f", "\u2060", "\ufeff", "\u202a", "\u2066"]


@pytest.mark.parametrize("mark", MARKS)
def test_a_number_reads_the_same_with_an_invisible_mark(mark: str) -> None:
    assert parse_number(f"12{mark}") == 12.0
    assert parse_number(f"{mark}1{mark},5k") == 1500.0
    assert normalize_key(f"ca{mark}c") == "cac"


async def test_the_chat_takes_them_and_records_the_plain_value(chat: FakeChat) -> None:
    await chat.ok('/kpi add sales "مبيعات" target=100 perspective=finance')
    assert await chat.ok("/kpi set sales 12\u200f") == (
        "Saved مبيعات = 12 (🔴 red, progress 12%)."
    )
    assert await chat.ok("/kpi set sa\u200bles 15\u200b") == (
        "Saved مبيعات = 15 (replaced 12) (🔴 red, progress 15%)."
    )
    assert await chat.ok('/kpi add z\u200bw "Leads" target=10 perspective=customers') == (
        "Saved KPI Leads (zw): target=10."
    )


async def test_a_word_of_marks_only_is_still_not_a_number(chat: FakeChat) -> None:
    await chat.ok('/kpi add sales "Sales" target=100 perspective=finance')
    assert await chat.error("/kpi set sales \u200b 2026-11-20") == (
        "'\u200b' is not a number for sales: try 12.5, 12,5, 10 000, 10k or 35%"
    )
    # at the message's end the mark is trimmed with the spaces: no value was typed
    assert await chat.error("/kpi set sales \u200b") == (
        "Missing arguments. Usage: /kpi set <key> <value> [YYYY-MM-DD] [note…]"
    )
