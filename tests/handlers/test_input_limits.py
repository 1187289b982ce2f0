"""Input that cannot break a chat: documented ranges, our own words, short quotes, old data.

Each test here reproduces one "Found" item of issue 7 §4 (first failing, then fixed).
"""

from __future__ import annotations

import shlex
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.app import Core
from handlers.contract import UsageError
from handlers.jobs import sweeper
from handlers.parsing import MAX_MESSAGE, tokenize
from scoring.models import Measurement
from tests.support import FakeChat, FixedClock

CHAT = "console:team"
H = '/kpi add h "H" baseline=10 target=9 perspective=finance'
CAC = '/kpi add cac "CAC" baseline=120 target=80 perspective=finance'


def _store_raw(core: Core, kpi: str, value: float, day: date) -> None:
    """A value stored before the fix (by an older version, bypassing today's checks)."""
    at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    core.store.kpis.record(CHAT, Measurement(kpi=kpi, value=value, day=day, at=at, by="@old"))


async def _never_broken(chat: FakeChat, *texts: str) -> None:
    for text in texts:
        for reply in await chat.say(text):
            assert "Something went wrong" not in reply.plain(), text


async def test_a_308_digit_value_is_refused_in_one_line_and_nothing_changes(
    chat: FakeChat,
) -> None:
    await chat.ok(H)
    huge = "1" + "0" * 308
    assert await chat.error(f"/kpi set h {huge}") == (
        "'10000000000000000000000000000000000000000000000000000000000…' is out of range "
        "for h: numbers go from −1e15 to 1e15."
    )
    assert (await chat.error("/kpi set h 2000000000000000")).startswith(
        "'2000000000000000' is out of range for h"
    )
    assert "Value: —" in await chat.ok("/kpi h")


async def test_scientific_notation_is_refused_with_the_number_written_out(
    chat: FakeChat,
) -> None:
    await chat.ok(H)
    assert await chat.error("/kpi set h 1e3") == (
        "'1e3' uses scientific notation; write the number out for h: 1000 instead of 1e3."
    )
    assert await chat.error("/kpi set h 2,5E-3") == (
        "'2,5E-3' uses scientific notation; write the number out for h: 0.0025 instead of 2,5E-3."
    )
    assert await chat.error("/kpi set h 1e16") == (
        "'1e16' is out of range for h: numbers go from −1e15 to 1e15."
    )
    assert "Value: —" in await chat.ok("/kpi h")


async def test_an_import_refuses_a_value_out_of_range(chat: FakeChat) -> None:
    await chat.ok(H)
    text = await chat.error(f"/kpi import\nh 1{'0' * 308}")
    assert "out of range for h" in text and "nothing was imported" in text


async def test_values_stored_before_the_range_check_never_break_a_reply(
    chat: FakeChat, core: Core
) -> None:
    await chat.ok(H)
    await chat.ok(CAC)
    _store_raw(core, "h", 1e308, date(2026, 11, 19))
    _store_raw(core, "cac", -1e300, date(2026, 11, 19))
    await _never_broken(
        chat,
        "/kpi",
        "/kpi h",
        "/kpi h explain",
        "/kpi cac explain",
        "/scorecard",
        "/map",
        "/digest",
        "/alerts",
        "/kpi set h 9",
    )


async def test_alert_windows_and_repeats_are_bounded_like_mutes(chat: FakeChat) -> None:
    refusal = "{} lasts from 1 minute to 90 days, e.g. {}"
    assert await chat.error("/alerts set group=999999999d") == refusal.format(
        "group", "group=60s (group=0 sends at once)"
    )
    assert await chat.error("/alerts set repeat=999999999d") == refusal.format(
        "repeat", "repeat=1d"
    )
    assert (await chat.error("/alerts set repeat=91d")).startswith("repeat lasts from")
    assert (await chat.error("/alerts set group=30s")).startswith("group lasts from")
    assert "repeat 90d, group 0 (off)" in await chat.ok("/alerts set repeat=90d group=0")
    assert "repeat 1m, group 1m" in await chat.ok("/alerts set repeat=1m group=60s")


async def test_huge_windows_stored_before_the_bounds_never_break_alerts_or_the_sweep(
    chat: FakeChat, core: Core
) -> None:
    await chat.ok(CAC)
    settings = core.store.alerts.settings(CHAT)
    policy = settings.policy.model_copy(
        update={"group_window": timedelta(days=999999999), "repeat": timedelta(days=999999999)}
    )
    core.store.alerts.save_settings(CHAT, settings.model_copy(update={"policy": policy}))
    await chat.ok("/kpi set cac 130")  # a colour change runs the grouping window
    await chat.ok("/kpi set cac 80")
    await _never_broken(chat, "/alerts", "/alerts log")
    report = await sweeper.sweep(core.ctx, memory=sweeper.SweepMemory())
    assert report.chats == 1


@pytest.mark.parametrize("typed", ["0001-01-01", "1999-12-31", "31.12.1999"])
async def test_dates_before_2000_are_refused(chat: FakeChat, typed: str) -> None:
    await chat.ok(CAC)
    assert await chat.error(f"/kpi set cac 90 {typed}") == (
        f"'{typed}' is out of range: dates go from 2000-01-01 to today (2026-11-21)."
    )
    assert "2000-01-01" in await chat.ok("/kpi set cac 90 2000-01-01")


async def test_ancient_dates_stored_before_the_range_check_never_break_a_chart(
    chat: FakeChat, core: Core
) -> None:
    await chat.ok(CAC)
    _store_raw(core, "cac", 90, date(1, 1, 1))
    _store_raw(core, "cac", 95, date(2026, 11, 1))
    _store_raw(core, "cac", 1e308, date(2026, 11, 2))
    await _never_broken(chat, "/kpi cac chart", "/kpi cac", "/kpi")


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("1,1 млн", "1 100 000"),
        ("1,1млн", "1 100 000"),
        ("5 тыс", "5 000"),
        ("5тыс.", "5 000"),
        ("2 млрд", "2 000 000 000"),
        ("10 k", "10 000"),
        ("1.2 M", "1 200 000"),
        ("2 bn", "2 000 000 000"),
        ("2,5 mln", "2 500 000"),
    ],
)
async def test_russian_and_english_multipliers_with_or_without_a_space(
    chat: FakeChat, typed: str, shown: str
) -> None:
    await chat.ok('/kpi add revenue "Revenue" target=5000000 perspective=finance')
    assert f"Saved Revenue = {shown} (" in await chat.ok(f"/kpi set revenue {typed}")
    assert "млн" not in await chat.ok("/kpi revenue")


async def test_a_date_in_words_after_the_value_is_a_date_not_a_note(chat: FakeChat) -> None:
    await chat.ok('/kpi add leads "Leads" target=200 perspective=customers')
    assert "Saved Leads = 119 for 2026-11-05 (" in await chat.ok("/kpi set leads 119 5 ноября")
    assert "for 2026-11-03" in await chat.ok("/kpi set leads 120 3 nov after the webinar")
    assert "after the webinar" in await chat.ok("/kpi leads")
    assert "for 2026-11-20" in await chat.ok("/kpi set leads 121 вчера")
    assert await chat.error("/kpi set leads 122 tomorrow") == (
        "2026-11-22 is in the future (today is 2026-11-21 in this chat's timezone); "
        "only today or earlier can be recorded."
    )
    assert (await chat.error("/kpi set leads 122 завтра")).startswith(
        "2026-11-22 is in the future"
    )
    assert await chat.error("/kpi set leads 122 32 ноября") == (
        "'32 ноября' looks like a date but isn't one: use YYYY-MM-DD, e.g. 2026-11-21."
    )
    assert "Saved Leads = 5 (" in await chat.ok("/kpi set leads 5 100 new leads")
    assert await chat.error("/kpi set leads 6 ноября") == (
        "'ноября' looks like a date but isn't one: use YYYY-MM-DD, e.g. 2026-11-21."
    )
    assert "Saved Leads = 7 (" in await chat.ok("/kpi set leads 7 may be a glitch")
    assert "may be a glitch" in await chat.ok("/kpi leads")


async def test_a_value_100_times_away_from_recent_values_asks_first(chat: FakeChat) -> None:
    await chat.ok(CAC)
    await chat.ok("/kpi set cac 95 2026-11-19")
    await chat.ok("/kpi set cac 96 2026-11-20")
    replies = await chat.say("/kpi set cac 9700 new pricing")
    assert len(replies) == 1 and replies[0].kind == "answer"
    ask = replies[0]
    assert ask.text == (
        "9 700 (note: new pricing) is more than 100× away from the recent values of CAC "
        "(95 to 96). "
        "Record it anyway? Nothing is saved until you confirm."
    )
    assert [b.label for b in ask.buttons] == ["Record 9 700", "Cancel"]
    assert "Value: 96" in await chat.ok("/kpi cac")
    assert "Saved CAC = 9 700 (" in await chat.ok(ask.buttons[0].command)
    assert "new pricing" in await chat.ok("/kpi cac")
    assert "already" in await chat.error(ask.buttons[0].command)
    assert "Saved CAC = 0.5 (" not in await chat.ok("/kpi set cac 0.5")  # 100x below asks too
    assert "Saved CAC = 97 (" in await chat.ok("/kpi set cac 97")


async def test_error_lines_quote_at_most_60_characters_of_input(chat: FakeChat) -> None:
    await chat.ok(CAC)
    unknown = await chat.error("/" + "a" * 10_000)
    assert unknown == f"Unknown command /{'a' * 59}… Send /help for the list."
    digits = await chat.error("/kpi set cac " + "9" * 400)
    assert "9" * 61 not in digits and len(digits) < 200
    for text in (
        "/kpi " + "x" * 500,
        "/kpi set cac " + "5" * 300 + "k",
        "/kpi add " + "k" * 300 + ' "n" target=1',
        "/alerts set " + "y" * 300,
        "/alerts mute cac " + "1" * 300 + "d",
        "/timezone " + "Z" * 300,
        "/kpi edit cac " + "w" * 300 + "=1",
    ):
        line = await chat.error(text)
        assert len(line) <= 300, (text[:40], line)


async def test_a_message_over_20000_characters_is_refused_at_once(chat: FakeChat) -> None:
    await chat.ok(CAC)
    text = "/kpi set cac 95 " + "x" * MAX_MESSAGE
    assert await chat.error(text) == (
        "That message is too long (20 016 characters; at most 20 000). Nothing was changed."
    )
    assert "Value: —" in await chat.ok("/kpi cac")


async def test_hysteresis_out_of_range_is_explained_in_our_words(chat: FakeChat) -> None:
    assert await chat.error("/alerts set hysteresis=150%") == (
        "hysteresis takes a percent from 0% to 50%: hysteresis=15%"
    )
    assert await chat.error("/alerts set hysteresis=abc") == (
        "hysteresis takes a percent from 0% to 50%: hysteresis=15%"
    )
    assert "hysteresis 15%" in await chat.ok("/alerts set hysteresis=15%")


_PLAIN = st.text(alphabet=st.sampled_from(list('ab c"=1.,-«»')), max_size=40)


@given(_PLAIN)
def test_the_linear_tokenizer_splits_like_a_shell(text: str) -> None:
    try:
        expected = tuple(shlex.split(text.replace("«", '"').replace("»", '"'), posix=True))
    except ValueError:
        with pytest.raises(UsageError):
            tokenize(text)
        return
    assert tokenize(text) == expected


def test_a_huge_token_is_tokenized_whole() -> None:
    assert tokenize("a " + "b" * 100_000 + ' "c d"') == ("a", "b" * 100_000, "c d")


async def _on_1_december_in_moscow(chat: FakeChat, clock: FixedClock) -> None:
    """2026-11-30 22:30 UTC is already Tuesday 1 December in the chat's timezone."""
    clock.now = datetime(2026, 11, 30, 22, 30, tzinfo=UTC)
    await chat.ok("/timezone Europe/Moscow")
    await chat.ok('/kpi add sales "Sales" target=40 perspective=finance')


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("last friday", "2026-11-27"),
        ("в прошлую пятницу", "2026-11-27"),
        ("friday", "2026-11-27"),
        ("в пятницу", "2026-11-27"),
        ("last tuesday", "2026-11-24"),
        ("this monday", "2026-11-30"),
        ("в прошлый понедельник", "2026-11-30"),
        ("last fri", "2026-11-27"),
        ("a week ago", "2026-11-24"),
        ("неделю назад", "2026-11-24"),
        ("3 недели назад", "2026-11-10"),
    ],
)
async def test_a_past_day_in_words_is_recorded_for_that_day_in_the_chats_timezone(
    chat: FakeChat, clock: FixedClock, typed: str, day: str
) -> None:
    await _on_1_december_in_moscow(chat, clock)
    assert f"Saved Sales = 32 for {day} (" in await chat.ok(f"/kpi set sales 32 {typed} promo")
    history = await chat.ok("/kpi history sales")
    assert "promo" in history and typed not in history  # the words are the date, not the note


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("in 2 days", "2026-12-03"),
        ("next monday", "2026-12-07"),
        ("через 2 дня", "2026-12-03"),
        ("через неделю", "2026-12-08"),
        ("this friday", "2026-12-04"),
        ("в следующий понедельник", "2026-12-07"),
        ("next tue", "2026-12-08"),
    ],
)
async def test_a_future_day_in_words_is_refused_like_tomorrow(
    chat: FakeChat, clock: FixedClock, typed: str, day: str
) -> None:
    await _on_1_december_in_moscow(chat, clock)
    assert await chat.error(f"/kpi set sales 30 {typed}") == (
        f"{day} is in the future (today is 2026-12-01 in this chat's timezone); "
        "only today or earlier can be recorded."
    )
    assert "has no values yet" in await chat.ok("/kpi history sales")


async def test_a_day_and_month_still_ahead_this_year_is_refused_not_moved_a_year_back(
    chat: FakeChat, clock: FixedClock
) -> None:
    await _on_1_december_in_moscow(chat, clock)
    assert await chat.error("/kpi set sales 37 Dec 5") == (
        "'Dec 5' is 2026-12-05, in the future (today is 2026-12-01 "
        "in this chat's timezone); only today or earlier can be recorded. "
        "For last year's, add the year: Dec 5 2025."
    )
    assert await chat.error("/kpi set sales 37 29 feb") == (
        "'29 feb' is not a real date in 2026 (check the month and day)."
    )
    assert "has no values yet" in await chat.ok("/kpi history sales")
    assert "for 2025-12-05 (" in await chat.ok("/kpi set sales 37 Dec 5 2025")
    assert "for 2026-11-28 (" in await chat.ok("/kpi set sales 38 28 ноября")
    assert "Saved Sales = 39 (" in await chat.ok("/kpi set sales 39 1 Dec")  # today
    assert "Saved Sales = 40 (" in await chat.ok("/kpi set sales 40 tuesday")  # today too


async def test_a_weekday_short_name_alone_stays_a_word_of_the_note(chat: FakeChat) -> None:
    await chat.ok('/kpi add sales "Sales" target=40 perspective=finance')
    assert "Saved Sales = 3 (" in await chat.ok("/kpi set sales 3 sun was out")
    assert "sun was out" in await chat.ok("/kpi sales")


async def test_a_huge_percent_is_grouped_like_any_number(chat: FakeChat) -> None:
    """QA: a confirmed outlier showed `progress 1000000000000000%`."""
    await chat.ok('/kpi add top "Time on page" baseline=0 target=1 perspective=customers')
    await chat.ok("/kpi set top 1 2026-11-20")
    asked = await chat.say("/kpi set top 1000000000000000")
    assert "Record it anyway?" in asked[0].text
    assert asked[0].buttons[0].command.startswith("/kpi confirm ")
    saved = await chat.ok(asked[0].buttons[0].command)
    assert "progress 1 000 000 000 000 000%" in saved, saved


async def test_text_with_broken_unicode_is_saved_with_replacement_marks_not_a_crash(
    chat: FakeChat,
) -> None:
    # "\udcd0" is what a terminal gives for a byte that is not UTF-8 (a name cut mid-letter);
    # "\ud83d" a half emoji from a platform's JSON. Neither can be stored as it is.
    assert await chat.ok('/objective add goal "Цель \udcd0" perspective=customers') == (
        "Saved objective Цель \ufffd (goal) in customers."
    )
    await chat.ok(CAC)
    assert await chat.ok("/kpi set cac 95 after the launch \ud83d") == (
        "Saved CAC = 95 (🟡 yellow, progress 62%)."
    )
    assert "after the launch \ufffd" in await chat.ok("/kpi history cac")
