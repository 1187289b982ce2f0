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


LEADS = '/kpi add leads "Leads" baseline=100 target=300 perspective=customers'


@pytest.mark.parametrize("typed", ["cac=95 leads=300", "cac 95 leads=300", "cac=95 LEADS=300"])
async def test_a_second_kpis_key_equals_value_is_refused_and_nothing_is_saved(
    chat: FakeChat, typed: str
) -> None:
    await chat.ok(CAC)
    await chat.ok(LEADS)
    assert await chat.error(f"/kpi set {typed}") == (
        "One KPI per /kpi set: send /kpi set leads 300 for Leads as a message of its own. "
        "Nothing was saved."
    )
    assert await chat.ok("/kpi history cac") == "CAC has no values yet: /kpi set cac <value>"


async def test_an_equals_sign_in_a_note_that_names_no_kpi_stays_the_note(chat: FakeChat) -> None:
    await chat.ok(CAC)
    assert await chat.ok("/kpi set cac=95 a/b=2 split") == SAVED
    assert "a/b=2 split" in await chat.ok("/kpi history cac")
