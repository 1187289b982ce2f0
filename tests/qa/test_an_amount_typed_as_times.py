"""`#articles x2` logged 1 with the note "x2": the team meant two articles, and the
period's count read one short. An amount written `x2` (or `×2`, `X2`) first after the tag
is that many; a word such as `xmas` or `x2y` stays the note (probe16)."""

from __future__ import annotations

import pytest

from tests.support import FakeChat


@pytest.mark.parametrize(
    ("typed", "amount", "note"),
    [
        ("#articles x2", "2", ""),
        ("#articles ×3 guest posts", "3", "guest posts"),
        ("/log articles X2 the BSC guide", "2", "the BSC guide"),
        ("#articles xmas special", "1", "xmas special"),
        ("#articles x2y recap", "1", "x2y recap"),
        ("#articles x² squared", "1", "x² squared"),
    ],
)
async def test_an_amount_written_as_times_is_that_many(
    chat: FakeChat, typed: str, amount: str, note: str
) -> None:
    await chat.ok('/initiative add articles "Publish articles"')
    assert await chat.ok(typed) == f"Logged {amount} on Publish articles."
    [row] = [r for r in (await chat.ok("/initiative articles")).splitlines() if "@anna" in r]
    assert row.split("@anna")[1].strip() == note


async def test_times_zero_changes_nothing(chat: FakeChat) -> None:
    await chat.ok('/initiative add articles "Publish articles"')
    assert await chat.error("#articles x0") == "Logging +0 changes nothing."
