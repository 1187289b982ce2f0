"""`/kpi set cac=95` answered "Missing arguments" and `/kpi set cac = 95` "'=' is not a
number": people write a key and its value the way `/kpi edit cac target=80` takes fields.
The value is saved as `/kpi set cac 95` saves it, with its date and note (probe15)."""

from __future__ import annotations

import pytest

from tests.support import FakeChat

CAC = '/kpi add cac "CAC" baseline=120 target=80 unit=€ perspective=finance'
SAVED = "Saved CAC = 95 € (🟡 yellow, progress 62%)."


@pytest.mark.parametrize(
    "typed", ["cac=95", "cac = 95", "cac =95", "cac= 95", "cac=95€", "CAC=95"]
)
async def test_a_key_equals_value_is_saved_as_the_key_and_the_value(
    chat: FakeChat, typed: str
) -> None:
    await chat.ok(CAC)
    assert await chat.ok(f"/kpi set {typed}") == SAVED


async def test_a_key_equals_value_keeps_its_date_and_note(chat: FakeChat) -> None:
    await chat.ok(CAC)
    assert await chat.ok("/kpi set cac=95 2026-11-20 spring campaign") == (
        "Saved CAC = 95 € for 2026-11-20 (🟡 yellow, progress 62%)."
    )
    assert "spring campaign" in await chat.ok("/kpi history cac")


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("cac", "Missing arguments."),
        ("cac=", "Missing arguments."),
        ("=95", "Missing arguments."),
        ("cac = ", "Missing arguments."),
    ],
)
async def test_a_key_or_a_value_alone_still_lacks_the_other(
    chat: FakeChat, typed: str, said: str
) -> None:
    await chat.ok(CAC)
    assert (await chat.error(f"/kpi set {typed}")).startswith(said)
