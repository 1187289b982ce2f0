"""Readings a demanding user still tripped on after session 12 (probe13): each test first
failed with the reply the user got, then passed with the fix."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.app import Core
from handlers.jobs import digest_build
from tests.support import FakeChat, FixedClock

CAC = '/kpi add cac "CAC" baseline=120 target=80 unit=€ perspective=finance'
TIME = '/kpi add time "Time on article" baseline=2 target=4 unit=min perspective=customers'
LEADS = '/kpi add leads "Leads" target=300 agg=sum perspective=customers'


async def test_a_summed_kpis_first_value_of_its_period_says_what_it_is_judged_on(
    chat: FakeChat,
) -> None:
    """The month's first value read `Saved Leads = 40 (🔴 red, progress 13%)` and the second
    `(sum for 2026-11: 90, …)`: the first one's colour is the month's sum too, and it said
    nothing of it, so a red 40 on a monthly target of 300 looked like a verdict on 40 alone."""
    await chat.ok(LEADS)
    assert await chat.ok("/kpi set leads 40") == (
        "Saved Leads = 40 (sum for 2026-11: 40, 🔴 red against 210 due by 2026-11-21, "
        "progress 13%)."
    )
    assert await chat.ok("/kpi set leads 50 2026-11-20") == (
        "Saved Leads = 50 for 2026-11-20 (sum for 2026-11: 90, 🔴 red against 210 due by "
        "2026-11-21, progress 30%). "
        "An older date: the latest value is unchanged."
    )
    assert await chat.ok("/kpi set leads 7 2026-10-02") == (
        "Saved Leads = 7 for 2026-10-02 (sum for 2026-10: 7, 🔴 red, progress 2%). "
        "An older date: the latest value is unchanged."
    )


@pytest.mark.parametrize(
    "line, read",
    [
        ("cac 42 €", "42 € (2026-11-21)"),
        ("cac 42€", "42 € (2026-11-21)"),
        ("cac € 42 2026-11-20", "42 € (2026-11-20)"),
        ("cac 42 € 2026-11-20", "42 € (2026-11-20)"),
    ],
)
async def test_an_import_line_reads_the_kpis_unit_beside_its_value_as_kpi_set_does(
    chat: FakeChat, line: str, read: str
) -> None:
    """`/kpi set cac 42 €` saves 42 €, but the same words on an import line were refused
    ("unexpected '€'", "'42€' is not a number"): one reader for a value and its unit."""
    await chat.ok(CAC)
    [preview] = await chat.say(f"/kpi import\n{line}")
    assert f"CAC (cac) ×1: {read}" in preview.plain()


async def test_an_import_line_with_another_currencys_sign_gets_the_set_commands_line(
    chat: FakeChat,
) -> None:
    """`cac 42 $` on a € KPI said "unexpected '$'"; `/kpi set` says why and what to do."""
    await chat.ok(CAC)
    assert await chat.error("/kpi import\ncac 42 $") == (
        "1 line(s) need fixing, nothing was imported: line 1: 42 $: CAC is counted in €, "
        "not $: convert the value to € first, or change what it is counted in: "
        "/kpi edit cac unit=$"
    )


async def test_an_initiatives_due_date_reads_the_same_in_the_list_and_the_digest(
    chat: FakeChat,
) -> None:
    """`/initiatives` said `due 2026-11-25` and `overdue since 2026-11-20` where the digest
    said `due Wed 25 Nov` and `overdue since 20 Nov` of the same initiatives (and `(due
    2027-09-30)` of a KPI two lines up): one day, one spelling, the one typed in `due=`."""
    await chat.ok('/initiative add launch "Launch webinar" due=2026-11-20')
    await chat.ok('/initiative add seo "SEO push" due=2026-11-25')
    listed = await chat.ok("/initiatives")
    assert "⏰ overdue since 2026-11-20" in listed and "due 2026-11-25" in listed
    digest = await chat.ok("/digest")
    assert (
        "Initiatives due: ⏰ Launch webinar overdue since 2026-11-20; SEO push due 2026-11-25"
    ) in digest


async def test_a_digest_asked_on_the_day_of_the_scheduled_one_says_since_when(
    chat: FakeChat, core: Core, clock: FixedClock
) -> None:
    """Asked at 11:00 after the 09:00 review of Mon 23 Nov, `/digest` read "▲ 25 pts since
    Mon 23 Nov", as if the change were a week's or a day's: it is the change since that
    morning's review, the last one the chat was sent, and says so."""
    await chat.ok(CAC)
    await chat.ok("/kpi set cac 100")
    clock.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with core.store.atomic():
        assert digest_build.send_digest(core.ctx, chat.chat.key) is not None
    clock.now = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    await chat.ok("/kpi set cac 90")
    assert "Index: 75% (▲ 25 pts since 09:00 today)" in await chat.ok("/digest")
    clock.now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert "Index: 75% (▲ 25 pts since Mon 23 Nov)" in await chat.ok("/digest")


@pytest.mark.parametrize(
    "typed, line",
    [
        ("3 min 20 s", "3 min 20 s"),
        ("3 min 20s after the redesign", "3 min 20s"),
        ("3 20 sec", "3 min 20 sec"),
        ("3min 20 secs", "3 min 20 secs"),
    ],
)
async def test_a_value_typed_in_two_time_units_is_refused_not_cut_to_the_first(
    chat: FakeChat, typed: str, line: str
) -> None:
    """`/kpi set time 3 min 20 s` on a KPI counted in min saved 3 min with the note "20 s":
    the value saved was not the one typed, and nothing said so."""
    await chat.ok(TIME)
    assert await chat.error(f"/kpi set time {typed}") == (
        f"{line}: Time on article is counted in min: write it as one number, 3.33"
    )
    assert not chat.core.store.kpis.latest_docs(chat.chat.key, "time")


async def test_a_note_that_starts_with_a_number_is_still_a_note(chat: FakeChat) -> None:
    """What the refusal above must keep: a count in the note, and a larger unit's date."""
    await chat.ok(TIME)
    await chat.ok("/kpi set time 3 min 20 sessions measured")
    await chat.ok("/kpi set time 3.5 min 2 days ago")
    history = chat.core.store.kpis.history(chat.chat.key, "time")
    assert [(m.value, m.day.isoformat(), m.note) for m in history] == [
        (3.5, "2026-11-19", ""),
        (3, "2026-11-21", "20 sessions measured"),
    ]


async def test_a_check_in_and_an_import_line_refuse_two_time_units_alike(chat: FakeChat) -> None:
    """The same reading in the other two readers of a value and its unit."""
    await chat.ok(TIME)
    await chat.ok('/okr add fast "Answer faster"')
    await chat.ok('/okr kr fast reply "Reply time" start=24 target=4 unit=h')
    assert await chat.error("/okr checkin reply 12 h 30 min") == (
        "12 h 30 min: Reply time is counted in h: write it as one number, 12.5"
    )
    assert await chat.error("/kpi import\ntime 3 min 30 s") == (
        "1 line(s) need fixing, nothing was imported: line 1: 3 min 30 s: Time on article is "
        "counted in min: write it as one number, 3.5"
    )


@pytest.mark.parametrize(
    ("typed", "line"),
    [
        ("/kpi update cac 95", "No KPI 'update'. Did you mean /kpi set cac 95?"),
        (
            "/kpi change cac 95 yesterday",
            "No KPI 'change'. Did you mean /kpi set cac 95 yesterday?",
        ),
        ("/kpi update cac target=70", "No KPI 'update'. Did you mean /kpi edit cac target=70?"),
        (
            "/kpi rename cac Acquisition cost",
            "No KPI 'rename'. Did you mean /kpi edit cac name=\"Acquisition cost\"?",
        ),
    ],
)
async def test_the_command_a_verb_is_taken_for_would_run(
    chat: FakeChat, typed: str, line: str
) -> None:
    """`/kpi update cac 95` was told "Did you mean /kpi edit cac 95?", which answers
    "Unexpected words: 95"; a value after the key is a `set`. `/kpi rename cac …` got no
    hint at all ("No KPI 'rename'.", as if cac were missing)."""
    await chat.ok(CAC)
    assert await chat.error(typed) == line


@pytest.mark.parametrize("words", ["last friday", "20 nov", "20. november", "1 day ago"])
async def test_a_value_is_removed_by_the_date_words_it_was_set_with(
    chat: FakeChat, words: str
) -> None:
    """`/kpi set cac 96 last friday` saved a value that `/kpi unset cac last friday` could
    not name ("Unexpected words: friday."): the remove reads its day as the set does."""
    await chat.ok(CAC)
    await chat.ok(f"/kpi set cac 96 {words}")
    [removed] = await chat.say(f"/kpi unset cac {words}")
    assert removed.text == "Removed CAC = 96 € for 2026-11-20 by @anna. CAC has no values now."


async def test_words_after_the_day_of_a_remove_are_still_refused(chat: FakeChat) -> None:
    await chat.ok(CAC)
    await chat.ok("/kpi set cac 96 last friday")
    assert (await chat.error("/kpi unset cac last friday please")).startswith(
        "Unexpected words: please."
    )
