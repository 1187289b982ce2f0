"""Initiatives: cadence parsing, progress in the local period, behind cadence, overdue."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.messages import error_text
from handlers.render import cadence_label
from scoring.errors import CadenceFormatError, ScoringError
from scoring.initiatives import (
    behind_cadence,
    cadence_progress,
    expected_by_now,
    format_cadence,
    is_overdue,
    parse_cadence,
    period_progress,
)
from scoring.models import Cadence, CadencePeriod, Initiative, ProgressLog
from scoring.periods import period_containing
from tests.refusals import refuses

BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")


def initiative(
    cadence: str | None = "4/month", key: str = "articles", **fields: object
) -> Initiative:
    parsed = parse_cadence(cadence) if cadence else None
    return Initiative(key=key, name=key.title(), cadence=parsed, **fields)


def log(at: datetime, amount: float = 1, key: str = "articles") -> ProgressLog:
    return ProgressLog(initiative=key, amount=amount, at=at)


# --- parsing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "count", "period"),
    [
        ("4/month", 4, "month"),
        ("4 / month", 4, "month"),
        ("3/quarter", 3, "quarter"),
        ("2/week", 2, "week"),
        ("1/year", 1, "year"),
        ("3 per quarter", 3, "quarter"),
        ("2 a week", 2, "week"),
        ("1 an year", 1, "year"),
        ("4 times a month", 4, "month"),
        ("4x/month", 4, "month"),
        ("4/mo", 4, "month"),
        ("2/wk", 2, "week"),
        ("3/q", 3, "quarter"),
        ("1/yr", 1, "year"),
        ("4/Months", 4, "month"),
        ("12/MONTH", 12, "month"),
    ],
)
def test_parse_cadence(text: str, count: int, period: CadencePeriod) -> None:
    assert parse_cadence(text) == Cadence(count=count, period=period)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("4 monthly", "'4 monthly' is not a cadence; write count/period, e.g. 4/month"),
        ("four a month", "is not a cadence"),
        ("", "is not a cadence"),
        ("/month", "is not a cadence"),
        ("4/fortnight", "'fortnight' is not a period; use week, month, quarter or year"),
        ("0/month", "A cadence needs at least 1 per month, not 0."),
        ("1.5/week", "A cadence counts whole items, not 1.5; e.g. 3/week instead."),
        ("-2/week", "is not a cadence"),
    ],
)
def test_bad_cadence_is_refused_with_an_example(text: str, message: str) -> None:
    with pytest.raises(CadenceFormatError) as caught:
        parse_cadence(text)
    assert message in error_text(caught.value)


@pytest.mark.parametrize("text", ["4/month", "3/quarter", "2/week", "1/year"])
def test_format_cadence_round_trips(text: str) -> None:
    assert format_cadence(parse_cadence(text)) == text


# --- progress in the current period -------------------------------------------------------


def test_month_counts_logs_by_local_date_near_the_edges() -> None:
    logs = [
        log(datetime(2026, 2, 28, 22, 30, tzinfo=UTC)),  # 23:30 on 28 Feb in Berlin: February
        log(datetime(2026, 2, 28, 23, 30, tzinfo=UTC)),  # 00:30 on 1 March in Berlin
        log(datetime(2026, 3, 10, 12, 0, tzinfo=UTC)),
        log(datetime(2026, 3, 31, 21, 59, tzinfo=UTC)),  # 23:59 on 31 March (CEST)
        log(datetime(2026, 3, 31, 22, 30, tzinfo=UTC)),  # 00:30 on 1 April: next month
        log(datetime(2026, 3, 12, tzinfo=UTC), key="guest-posts"),  # another initiative
    ]
    progress = cadence_progress(initiative(), logs, date(2026, 3, 23), BERLIN)
    assert progress.done == 3
    assert progress.target == 4
    assert (progress.period_start, progress.period_end) == (date(2026, 3, 1), date(2026, 3, 31))
    assert progress.days_left == 9
    assert cadence_label(progress) == "3 of 4 this month, 9 days left"
    assert not progress.met


def test_a_periods_own_sum_gives_the_progress_its_logs_give() -> None:
    """A hashtag sums its period from the log blocks and asks `period_progress`."""
    item, today = initiative("4/month"), date(2026, 3, 23)
    for amounts in ([], [1.0], [1.0, 2.5, -1.0], [4.0]):
        logs = [log(datetime(2026, 3, 10 + i, tzinfo=UTC), a) for i, a in enumerate(amounts)]
        period = period_containing("month", today)
        assert period_progress(item, period, sum(amounts), today) == cadence_progress(
            item, logs, today, BERLIN
        )


def test_iso_week_in_tokyo_runs_monday_to_sunday_local() -> None:
    logs = [
        log(datetime(2026, 11, 22, 14, 30, tzinfo=UTC)),  # Sunday 23:30 JST: last week
        log(datetime(2026, 11, 22, 15, 30, tzinfo=UTC)),  # Monday 00:30 JST
        log(datetime(2026, 11, 29, 14, 59, tzinfo=UTC)),  # Sunday 23:59 JST
        log(datetime(2026, 11, 29, 15, 0, tzinfo=UTC)),  # Monday 00:00 JST: next week
    ]
    progress = cadence_progress(initiative("2/week"), logs, date(2026, 11, 25), TOKYO)
    assert (progress.period_start, progress.period_end) == (date(2026, 11, 23), date(2026, 11, 29))
    assert progress.done == 2
    assert cadence_label(progress) == "2 of 2 this week, target met"
    assert progress.met


def test_quarter_in_new_york_with_fractions_on_its_last_day() -> None:
    logs = [
        log(datetime(2026, 10, 1, 3, 30, tzinfo=UTC)),  # 23:30 on 30 Sep EDT: Q3
        log(datetime(2026, 10, 1, 4, 30, tzinfo=UTC)),  # 00:30 on 1 Oct EDT
        log(datetime(2027, 1, 1, 4, 30, tzinfo=UTC), amount=0.5),  # 23:30 on 31 Dec EST
    ]
    progress = cadence_progress(initiative("3/quarter"), logs, date(2026, 12, 31), NEW_YORK)
    assert (progress.period_start, progress.period_end) == (date(2026, 10, 1), date(2026, 12, 31))
    assert progress.done == 1.5
    assert progress.days_left == 1
    assert cadence_label(progress) == "1.5 of 3 this quarter, last day"


def test_year_cadence_and_corrections_are_summed() -> None:
    logs = [
        log(datetime(2026, 2, 1, tzinfo=UTC)),
        log(datetime(2026, 6, 1, tzinfo=UTC)),
        log(datetime(2026, 6, 2, tzinfo=UTC), amount=-1),  # a correction
        log(datetime(2025, 12, 31, 22, 0, tzinfo=UTC)),  # 23:00 on 31 Dec in Berlin: 2025
    ]
    progress = cadence_progress(initiative("2/year"), logs, date(2026, 7, 1), BERLIN)
    assert progress.done == 1
    assert progress.days_left == 184
    assert cadence_label(progress) == "1 of 2 this year, 184 days left"


def test_no_logs_is_zero_done() -> None:
    progress = cadence_progress(initiative(), [], date(2026, 2, 1), BERLIN)
    assert cadence_label(progress) == "0 of 4 this month, 28 days left"


def test_initiative_without_cadence_has_no_cadence_progress() -> None:
    with refuses(ScoringError, "Initiative 'articles' has no cadence"):
        cadence_progress(initiative(None), [], date(2026, 2, 1), BERLIN)


# --- behind cadence ---------------------------------------------------------------------


def march_progress(cadence: str, done: int, today: date) -> tuple[int, bool]:
    logs = [log(datetime(2026, 3, 1, 12, 0, tzinfo=UTC)) for _ in range(done)]
    progress = cadence_progress(initiative(cadence), logs, today, BERLIN)
    return expected_by_now(progress, today), behind_cadence(progress, today)


@pytest.mark.parametrize(
    ("cadence", "done", "today", "expected", "behind"),
    [
        ("4/month", 1, date(2026, 3, 27), 3, True),  # 1 of 4 with 5 days left
        ("4/month", 3, date(2026, 3, 23), 3, False),  # 3 of 4 with 9 days left
        ("4/month", 0, date(2026, 3, 1), 0, False),  # first day: nothing expected yet
        ("4/month", 0, date(2026, 3, 4), 0, False),  # 4 × 3/31 = 0.39
        ("4/month", 0, date(2026, 3, 8), 1, True),  # a week in: 4 × 7/31 = 0.90
        ("1/month", 0, date(2026, 3, 16), 0, False),  # 15/31 rounds down
        ("1/month", 0, date(2026, 3, 17), 1, True),  # 16/31 rounds up
        ("4/month", 4, date(2026, 3, 31), 4, False),  # target met
        ("4/month", 3, date(2026, 3, 31), 4, True),
    ],
)
def test_behind_cadence_when_less_done_than_expected_pro_rata(
    cadence: str, done: int, today: date, expected: int, behind: bool
) -> None:
    assert march_progress(cadence, done, today) == (expected, behind)


# --- overdue -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "done", "today", "overdue"),
    [
        (None, False, date(2026, 3, 1), False),
        (date(2026, 2, 28), False, date(2026, 3, 1), True),
        (date(2026, 3, 1), False, date(2026, 3, 1), False),  # due today is not late yet
        (date(2026, 2, 28), True, date(2026, 3, 1), False),
    ],
)
def test_overdue_when_due_date_passed_and_not_done(
    due: date | None, done: bool, today: date, overdue: bool
) -> None:
    assert is_overdue(initiative(None, due=due, done=done), today) is overdue


@given(
    amounts=st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=40),
    order=st.randoms(use_true_random=False),
    off=st.integers(min_value=-1, max_value=1),
)
def test_met_is_judged_on_the_total_as_typed_whatever_order_it_was_added_in(
    amounts: list[int], order: random.Random, off: int
) -> None:
    """Tenths added in another order (an undone unlog goes back at the end, a block summed
    afresh after a restart) land on another last binary digit: "met" must not follow it.
    The target sits at the exact total's whole part, or one either side."""
    tenths = [a / 10 for a in amounts]
    shuffled = order.sample(tenths, len(tenths))
    exact = sum(Fraction(a, 10) for a in amounts)
    target = max(1, math.floor(exact) + off)
    period = period_containing("month", date(2026, 11, 20))
    for added in (tenths, shuffled):
        done = 0.0
        for amount in added:
            done += amount
        progress = period_progress(initiative(f"{target}/month"), period, done, date(2026, 11, 20))
        assert progress.met == (exact >= target)


def test_ten_tenths_a_hair_short_still_meet_one() -> None:
    """0.1 × 10, added one by one, is 0.9999999999999999 in binary: shown and judged as 1."""
    done = 0.0
    for _ in range(10):
        done += 0.1
    assert done < 1
    period = period_containing("month", date(2026, 11, 20))
    progress = period_progress(initiative("1/month"), period, done, date(2026, 11, 20))
    assert progress.met and progress.done == 1
