"""Readings a demanding user still tripped on after session 11 (probe12): each test first
failed with the reply the user got, then passed with the fix."""

from __future__ import annotations

import pytest

from tests.support import FakeChat

CAC = '/kpi add cac "CAC" baseline=120 target=80 unit=€ perspective=finance'


@pytest.mark.parametrize(
    "typed",
    ["40€ %", "40 € %", "40€%", "40 € % 2026-11-20", "40€ % after the promo", "40 €%"],
)
async def test_a_percent_after_a_value_and_its_unit_gets_the_percent_line(
    chat: FakeChat, typed: str
) -> None:
    """`/kpi set cac 40€ %` saved 40 € with the note "%", and `40 € % 2026-11-20` saved
    it today with the note "€ % 2026-11-20": the `%` belongs to the value, as in `40%€`,
    so the `%` line is said and nothing is saved."""
    await chat.ok(CAC)
    assert await chat.error(f"/kpi set cac {typed}") == (
        "40% has a % sign, but CAC is counted in €: write 40, or make it a percentage first: "
        "/kpi edit cac unit=%"
    )
    assert not chat.core.store.kpis.latest_docs(chat.chat.key, "cac")


async def test_a_unit_after_a_value_still_lets_the_date_and_note_count(chat: FakeChat) -> None:
    """What the `%` fix must keep: the unit typed apart or glued is no note, and the date
    after it counts."""
    await chat.ok(CAC)
    await chat.ok("/kpi set cac 40 € 2026-11-20 after the promo")
    await chat.ok("/kpi set cac 41€ 2026-11-21")
    history = chat.core.store.kpis.history(chat.chat.key, "cac")
    assert [(m.value, m.day.isoformat(), m.note) for m in history] == [
        (40, "2026-11-20", "after the promo"),
        (41, "2026-11-21", ""),
    ]


async def test_a_percent_kpis_own_unit_after_the_value_still_lets_the_date_and_note_count(
    chat: FakeChat,
) -> None:
    """What the `%` fix must keep on a `%` KPI (review12's replay): its unit is the `%`, so
    nothing joins the value; `10k % 2026-10-16 checked twice` was dated today with the note
    '% 2026-10-16 checked twice' after the first version of the fix."""
    await chat.ok('/kpi add churn "Churn" baseline=10 target=3 unit=% perspective=customers')
    await chat.ok("/kpi set churn 10k % 2026-10-16 checked twice")
    await chat.ok("/kpi set churn 1,5k % after the survey")
    history = chat.core.store.kpis.history(chat.chat.key, "churn")
    assert [(m.value, m.day.isoformat(), m.note) for m in history] == [
        (10_000, "2026-10-16", "checked twice"),
        (1_500, "2026-11-21", "after the survey"),
    ]
    assert (await chat.error("/kpi set churn 1e3 %")).startswith("'1e3' uses scientific")
