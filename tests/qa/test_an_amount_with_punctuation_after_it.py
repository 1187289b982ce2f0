"""`#articles +1, the BSC guide` was refused ("'+1,' is not a number for amount"), and so
was `+2!` or `+1🎉`: in a chat message the amount carries the sentence's punctuation or an
emoji as often as not. The amount is read without what trails it; the rest is the note
(probe15). `#articles x2` logged 1 with the note "x2": an amount written `x2` (`×2`, `X2`)
first after the tag is that many, while `xmas` or `x2y` stays the note (probe16)."""

from __future__ import annotations

import pytest

from tests.support import FakeChat


@pytest.mark.parametrize(
    ("typed", "amount", "note"),
    [
        ("#articles +1, the BSC guide", "1", "the BSC guide"),
        ("#articles +2!", "2", ""),
        ("#articles +1🎉 launch day", "1", "launch day"),
        ("/log articles +3; guest posts", "3", "guest posts"),
        ("#articles +1,5", "1.5", ""),
        ("#articles x2", "2", ""),
        ("#articles ×3 guest posts", "3", "guest posts"),
        ("/log articles X2 the BSC guide", "2", "the BSC guide"),
        ("#articles xmas special", "1", "xmas special"),
        ("#articles x2y recap", "1", "x2y recap"),
        ("#articles x² squared", "1", "x² squared"),
    ],
)
async def test_an_amount_is_read_without_what_trails_it(
    chat: FakeChat, typed: str, amount: str, note: str
) -> None:
    await chat.ok('/initiative add articles "Publish articles"')
    assert await chat.ok(typed) == f"Logged {amount} on Publish articles."
    [row] = [r for r in (await chat.ok("/initiative articles")).splitlines() if "@anna" in r]
    assert row.split("@anna")[1].strip() == note


@pytest.mark.parametrize("typed", ["#articles +x", "#articles +,", "/log articles +1,2,3"])
async def test_what_is_no_amount_is_still_refused(chat: FakeChat, typed: str) -> None:
    await chat.ok('/initiative add articles "Publish articles"')
    assert "is not a number for amount" in await chat.error(typed)


async def test_times_zero_changes_nothing(chat: FakeChat) -> None:
    await chat.ok('/initiative add articles "Publish articles"')
    assert await chat.error("#articles x0") == "Logging +0 changes nothing."
