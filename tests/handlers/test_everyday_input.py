"""The way people really type: apostrophes, local dates, spaced numbers, notes with numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.app import Core
from handlers.parsing import parse_number
from scoring.models import Measurement, ProgressLog
from storage import open_store
from tests.support import FakeChat


async def _kpi(chat: FakeChat) -> None:
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    await chat.ok('/initiative add articles "Articles" cadence=4/month')


async def test_apostrophes_in_notes_and_chat_are_just_apostrophes(chat: FakeChat) -> None:
    await _kpi(chat)
    assert "Saved CAC = 95" in await chat.ok("/kpi set cac 95 after Anna's campaign")
    assert "Anna's campaign" in await chat.ok("/kpi cac")
    assert "Logged 1" in await chat.ok("#articles +1 published Anna’s guide")
    assert await chat.say("#hiring we're looking for a designer") == []
    assert "Unbalanced quote" in await chat.error('/kpi add x "oops target=1')


@pytest.mark.parametrize("typed", ["05.11.2026", "2026/11/05", "2026-11-05"])
async def test_local_date_formats_record_for_that_day(chat: FakeChat, typed: str) -> None:
    await _kpi(chat)
    await chat.ok("/kpi set cac 60")
    text = await chat.ok(f"/kpi set cac 70 {typed}")
    assert "for 2026-11-05" in text and "replaced" not in text


async def test_a_misshapen_date_is_refused_not_taken_as_a_note(chat: FakeChat) -> None:
    await _kpi(chat)
    assert "not a real date" in await chat.error("/kpi set cac 70 31.02.2026")


async def test_spaced_numbers_in_options_stay_one_number(chat: FakeChat) -> None:
    await chat.ok('/kpi add traffic "Blog visitors" target=20 000 perspective=customers')
    detail = await chat.ok("/kpi traffic")
    assert "Blog visitors (traffic)" in detail and "20 000" in detail


async def test_a_number_starting_a_note_is_not_glued_to_the_value(chat: FakeChat) -> None:
    await _kpi(chat)
    assert "= 5 (" in await chat.ok("/kpi set cac 5 100 new leads")
    assert "Logged 1 on Articles" in await chat.ok("#articles 10 KPI mistakes to avoid")
    assert "Logged 1 on Articles" in await chat.ok("/log articles 2026 plan review")
    assert "Logged 2 on Articles" in await chat.ok("/log articles 2")
    await chat.ok('/okr add d "D"')
    await chat.ok('/okr kr d nps "NPS" start=30 target=50')
    assert "Checked in NPS: 38" in await chat.ok("/okr checkin nps 38 150 respondents")


async def test_editing_numbers_never_flips_an_explicit_direction(chat: FakeChat) -> None:
    await chat.ok(
        '/kpi add cac "CAC" direction=down baseline=120 target=80 min=50 max=150 '
        "perspective=finance"
    )
    assert "lower-is-better" in await chat.error("/kpi edit cac target=130")
    assert "lower is better" in await chat.ok("/kpi cac")


async def test_general_objective_moved_elsewhere_is_not_reused(chat: FakeChat) -> None:
    await chat.ok('/kpi add a "A" target=10 perspective=finance')
    assert "stays there" in await chat.error(
        "/objective edit finance-general perspective=customers"
    )
    await chat.ok('/objective add finance-x "X" perspective=customers')


async def test_percent_shown_is_reached_so_it_never_contradicts_the_colour(chat: FakeChat) -> None:
    await chat.ok('/kpi add a "A" target=200 perspective=finance')
    assert "yellow, progress 79%" in await chat.ok("/kpi set a 159")


async def test_names_and_owners_are_checked(chat: FakeChat) -> None:
    assert "can't be empty" in await chat.error('/objective add o "" perspective=customers')
    assert "too long" in await chat.error(f'/kpi add k "{"x" * 130}" target=1 perspective=finance')
    await chat.ok('/kpi add k "K" target=1 perspective=finance owner=@anna')
    await chat.ok("/kpi edit k owner=none")
    assert "Owner: —" in await chat.ok("/kpi k")


async def test_thresholds_are_percentages(chat: FakeChat) -> None:
    assert "green=80 for 80%" in await chat.error("/scorecard thresholds green=0.85 yellow=0.6")


async def test_odd_digits_and_words_get_friendly_errors(chat: FakeChat) -> None:
    await chat.ok('/okr add d "D"')
    await chat.ok('/okr kr d k "K" start=0 target=5')
    assert "1 to 10" in await chat.error("/okr checkin k 5 confidence=²")
    assert "Usage" in await chat.error("/alerts log ²")
    assert "command word" in await chat.error('/kpi add set "Set" target=1 perspective=finance')
    await chat.ok('/kpi add r "R" direction=between min=40 max=60 perspective=finance')


async def test_due_today_means_the_chats_today(chat: FakeChat) -> None:
    await chat.ok('/initiative add x "X" due=today')
    assert "due 2026-11-21" in await chat.ok("/initiatives")


@pytest.mark.parametrize(
    ("raw", "value"), [("1.234,5", 1234.5), ("1,234.5", 1234.5), ("−5", -5.0)]
)
def test_both_decimal_conventions_and_the_unicode_minus(raw: str, value: float) -> None:
    assert parse_number(raw) == pytest.approx(value)


def test_bulk_import_with_a_repeated_day_keeps_two_latest_values() -> None:
    store = open_store(None)
    at = datetime(2026, 11, 3, tzinfo=UTC)
    values = [
        Measurement(kpi="v", value=v, day=date(2026, 11, d), at=at)
        for d, v in ((1, 1.0), (2, 2.0), (2, 3.0))
    ]
    store.kpis.record_many("c", "v", values)
    assert [m.value for m in store.kpis.latest("c", "v")] == [1.0, 3.0]


async def test_a_cadence_progress_counts_this_local_periods_entries_only(
    core: Core, chat: FakeChat
) -> None:
    await chat.ok("/timezone Europe/Moscow")
    await chat.ok('/initiative add articles "Articles" cadence=4/month')
    for at in (
        datetime(2026, 10, 31, 20, 59, tzinfo=UTC),  # 23:59 on 31 October in Moscow
        datetime(2026, 10, 31, 21, 0, tzinfo=UTC),  # 00:00 on 1 November in Moscow
        datetime(2026, 11, 30, 21, 0, tzinfo=UTC),  # 1 December in Moscow (an import)
    ):
        core.store.initiatives.log(
            chat.chat.key, ProgressLog(initiative="articles", amount=1, at=at)
        )
    assert await chat.ok("#articles +1 published") == (
        "Logged 1 on Articles. 2 of 4 this month, 10 days left."
    )
    assert "2 of 4 this month, 10 days left" in await chat.ok("/initiatives")
