"""Readings a demanding user still tripped on after session 11 (probe12): each test first
failed with the reply the user got, then passed with the fix."""

from __future__ import annotations

import pytest

from tests.support import FakeChat

CAC = '/kpi add cac "CAC" baseline=120 target=80 unit=€ perspective=finance'
CHURN = '/kpi add churn "Churn" baseline=10 target=3 unit=% perspective=customers'


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


@pytest.mark.parametrize(
    "kpi, typed, read",
    [
        (  # the unit typed apart or glued is no note, and the date after it counts
            CAC,
            ("cac 40 € 2026-11-20 after the promo", "cac 41€ 2026-11-21"),
            [(40, "2026-11-20", "after the promo"), (41, "2026-11-21", "")],
        ),
        (  # a `%` KPI's unit is the `%`: nothing joins (review12's replay: the first version
            # of the fix dated `10k % 2026-10-16 …` today, with the note '% 2026-10-16 …')
            CHURN,
            ("churn 10k % 2026-10-16 checked twice", "churn 1,5k % after the survey"),
            [(10_000, "2026-10-16", "checked twice"), (1_500, "2026-11-21", "after the survey")],
        ),
    ],
)
async def test_a_unit_after_a_value_still_lets_the_date_and_note_count(
    chat: FakeChat, kpi: str, typed: tuple[str, str], read: list[tuple[float, str, str]]
) -> None:
    """What the `%` fix must keep."""
    await chat.ok(kpi)
    for words in typed:
        await chat.ok(f"/kpi set {words}")
    key = typed[0].split()[0]
    history = chat.core.store.kpis.history(chat.chat.key, key)
    assert [(m.value, m.day.isoformat(), m.note) for m in history] == read


async def test_scientific_notation_before_a_percent_kpis_unit_gets_its_own_line(
    chat: FakeChat,
) -> None:
    """`1e3 %` on a `%` KPI said "'1e3%' is not a number" after the first version of the fix."""
    await chat.ok(CHURN)
    assert (await chat.error("/kpi set churn 1e3 %")).startswith("'1e3' uses scientific")


async def test_a_check_in_reads_its_key_results_unit_as_a_value_does(chat: FakeChat) -> None:
    """`/okr checkin subs 15 € after the campaign` kept '€ after the campaign' as the note,
    `15€` was "not a number" and `15 € %` saved 15 € with the note '€ %', where `/kpi set`
    reads the unit beside the value and refuses the `%`: one reader for both."""
    await chat.ok('/okr add grow "Grow"')
    await chat.ok('/okr kr grow subs "Subs" start=10 target=20 unit=€')
    await chat.ok("/okr checkin subs 15 € after the campaign")
    await chat.ok("/okr checkin subs 16€")
    assert await chat.error("/okr checkin subs 17 € %") == (
        "17% has a % sign, but Subs is counted in €: write 17, or make it a percentage first: "
        "/okr kr edit subs unit=%"
    )
    checkins = chat.core.store.okrs.check_ins(chat.chat.key, "subs")
    assert [(c.value, c.note) for c in checkins] == [(15, "after the campaign"), (16, "")]


@pytest.mark.parametrize(
    "command, said",
    [
        (
            "/kpi set cac 40 $",
            "40 $: CAC is counted in €, not $: convert the value to € first, or change what "
            "it is counted in: /kpi edit cac unit=$",
        ),
        (
            "/kpi set cac 40 $ 2026-11-20 after the promo",
            "40 $: CAC is counted in €, not $: convert the value to € first, or change what "
            "it is counted in: /kpi edit cac unit=$",
        ),
        (
            "/kpi set leads 40 € from the fair",
            "40 €: Leads has no unit, so € can't be read: send the number alone, or give it "
            "its unit first: /kpi edit leads unit=€",
        ),
    ],
)
async def test_a_value_typed_in_another_currency_is_refused(
    chat: FakeChat, command: str, said: str
) -> None:
    """`/kpi set cac 40 $` on a € KPI saved 40 € with the note "$" (and a date after the
    sign was lost into the note): a currency sign after the value that is not the KPI's
    unit is refused, and nothing is saved."""
    await chat.ok(CAC)
    await chat.ok('/kpi add leads "Leads" baseline=100 target=300 perspective=customers')
    assert await chat.error(command) == said
    assert not chat.core.store.kpis.latest_docs(chat.chat.key, "cac")
    assert not chat.core.store.kpis.latest_docs(chat.chat.key, "leads")


async def test_a_note_that_merely_starts_with_a_sign_of_the_kpis_own_currency_is_kept(
    chat: FakeChat,
) -> None:
    """The KPI's own sign after the value is its unit (no note), as before."""
    await chat.ok(CAC)
    await chat.ok("/kpi set cac 40 € 2026-11-20")
    [doc] = chat.core.store.kpis.latest_docs(chat.chat.key, "cac")
    assert (doc["value"], doc["day"], doc["note"]) == (40, "2026-11-20", "")


async def test_okr_checkin_refuses_a_value_in_another_currency(chat: FakeChat) -> None:
    """`/okr checkin` reads its value as `/kpi set` does, currency signs included."""
    await chat.ok('/okr add grow "Grow"')
    await chat.ok('/okr kr grow spend "Spend" start=0 target=1000 unit=€')
    said = await chat.error("/okr checkin spend 400 $ after the fair")
    assert said == (
        "400 $: Spend is counted in €, not $: convert the value to € first, or change what "
        "it is counted in: /okr kr edit spend unit=$"
    )
