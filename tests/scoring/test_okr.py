"""OKRs: key-result progress and grade, objective progress, cycles, elapsed share and pace."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from handlers.messages import error_text
from scoring.errors import CycleFormatError, ScoringError
from scoring.models import KeyResult
from scoring.okr import (
    Cycle,
    Pace,
    current_quarter,
    cycle_bounds,
    elapsed_share,
    kr_grade,
    kr_progress,
    okr_progress,
    pace,
    parse_cycle,
    validate_kr,
)
from tests.refusals import refuses

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def kr(start: float, target: float, current: float | None, **fields: Any) -> KeyResult:
    fields.setdefault("key", "kr")
    return KeyResult(okr="o", name="KR", start=start, target=target, current=current, **fields)


# --- key results -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "target", "current", "progress", "grade"),
    [
        (0, 100, 50, 0.5, 0.5),
        (0, 100, 130, 1.3, 1.0),
        (0, 100, -10, -0.1, 0.0),
        (10, 2, 6, 0.5, 0.5),  # response time 10 h → 2 h, now 6 h
        (10, 2, 1, 1.125, 1.0),
        (10, 2, 12, -0.25, 0.0),
        (30, 50, 44, 0.7, 0.7),  # NPS 30 → 50
        (0, 100, None, 0.0, 0.0),  # no check-in yet
    ],
)
def test_kr_progress_unclamped_and_grade_clamped(
    start: float, target: float, current: float | None, progress: float, grade: float
) -> None:
    item = kr(start, target, current)
    assert kr_progress(item) == pytest.approx(progress)
    assert kr_grade(item) == pytest.approx(grade)


def test_decreasing_key_result_works_like_any_other() -> None:
    response_time = kr(10, 2, 4)
    assert kr_progress(response_time) == pytest.approx(0.75)


def test_kr_with_start_equal_to_target_is_refused_once_checked_in() -> None:
    assert kr_progress(kr(5, 5, None)) == 0.0
    with refuses(ScoringError, "start and target of key result 'kr' are both 5"):
        kr_progress(kr(5, 5, 6))


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (kr(5, 5, None), "both 5; give a target different from the start"),
        (kr(math.nan, 5, None), "start of key result 'kr' must be a finite number"),
        (kr(0, math.inf, None), "target of key result 'kr' must be a finite number"),
        (kr(0, 5, math.nan), "current of key result 'kr' must be a finite number"),
        (kr(0, 5, None, weight=-1), "weight of key result 'kr' must be 0 or more, not −1"),
    ],
)
def test_validate_kr_names_the_problem(item: KeyResult, message: str) -> None:
    with pytest.raises(ScoringError) as caught:
        validate_kr(item)
    assert message in error_text(caught.value)


def test_validate_kr_accepts_a_good_one() -> None:
    validate_kr(kr(10, 2, 4, weight=0))


def test_objective_progress_averages_clamped_kr_progress() -> None:
    krs = [kr(0, 100, 150, key="a"), kr(0, 100, 50, key="b")]
    assert okr_progress(krs) == pytest.approx(0.75)  # not 1.0: overshoot can't hide a miss


@pytest.mark.parametrize(
    ("krs", "expected"),
    [
        ([], None),
        ([kr(0, 10, 10, weight=3), kr(0, 10, 0, weight=1)], 0.75),
        ([kr(0, 10, 10, weight=0), kr(0, 10, 0, weight=0)], 0.5),
        ([kr(0, 10, None), kr(0, 10, 8)], 0.4),
        ([kr(10, 2, 6), kr(0, 100, -50)], 0.25),
    ],
)
def test_objective_progress_is_weighted(krs: list[KeyResult], expected: float | None) -> None:
    result = okr_progress(krs)
    assert result == (None if expected is None else pytest.approx(expected))


# --- cycles ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("2026Q4", "2026Q4"),
        ("2026q1", "2026Q1"),
        (" 2026 Q2 ", "2026Q2"),
        ("2026-Q3", "2026Q3"),
        ("Q4 2026", "2026Q4"),
        ("q4-2026", "2026Q4"),
        ("2026H1", "2026H1"),
        ("2026h2", "2026H2"),
        ("H2 2027", "2027H2"),
        ("2026", "2026"),
    ],
)
def test_parse_cycle_accepts_common_spellings(text: str, canonical: str) -> None:
    assert parse_cycle(text) == canonical
    assert str(Cycle.parse(text)) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026Q5", "There is no quarter 5: use Q1–Q4, e.g. 2026Q4."),
        ("2026Q0", "There is no quarter 0"),
        ("2026H3", "There is no half 3: use H1–H2, e.g. 2026H2."),
        ("26Q4", "'26Q4' is not a cycle; write a quarter like 2026Q4"),
        ("next quarter", "'next quarter' is not a cycle"),
        ("", "is not a cycle"),
        ("2026Q10", "is not a cycle"),
        ("0026", "The year 0026 looks like a typo; write a quarter like 2026Q4"),
    ],
)
def test_bad_cycles_are_refused_with_an_example(text: str, message: str) -> None:
    with pytest.raises(CycleFormatError) as caught:
        parse_cycle(text)
    assert message in error_text(caught.value)
    assert "2026Q4" in error_text(caught.value) or "2026H2" in error_text(caught.value)


@pytest.mark.parametrize("text", ["1926Q1", "1999", "Q4 1999", "1999H2"])
def test_typed_cycles_before_2000_are_out_of_range_like_dates(text: str) -> None:
    with pytest.raises(CycleFormatError) as caught:
        parse_cycle(text)
    assert error_text(caught.value) == (
        f"'{text}' is out of range: cycles go from 2000 on, like dates; write a quarter like "
        "2026Q4, a half like 2026H1 or a year like 2026."
    )


def test_the_first_typed_cycle_is_2000q1_and_stored_older_cycles_still_read() -> None:
    assert parse_cycle("2000Q1") == "2000Q1"
    assert Cycle.parse("1999Q4") == Cycle(1999, "quarter", 4)


def test_every_cycle_round_trips_through_its_spelling() -> None:
    cycles = [Cycle(2026, "quarter", q) for q in range(1, 5)]
    cycles += [Cycle(2026, "half", h) for h in (1, 2)] + [Cycle(2026, "year")]
    for cycle in cycles:
        assert Cycle.parse(str(cycle)) == cycle


@pytest.mark.parametrize(
    ("cycle", "first", "last"),
    [
        ("2026Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026H1", date(2026, 1, 1), date(2026, 6, 30)),
        ("2026H2", date(2026, 7, 1), date(2026, 12, 31)),
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_cycle_bounds_are_local_midnights_with_exclusive_end(
    cycle: str, first: date, last: date
) -> None:
    start, end = cycle_bounds(cycle, BERLIN)
    assert start.tzinfo is not None and end.tzinfo is not None
    assert (start.date(), start.hour, start.minute) == (first, 0, 0)
    assert (end.date(), end.hour) == (last + timedelta(days=1), 0)
    assert cycle_bounds(Cycle.parse(cycle), BERLIN) == (start, end)


def test_next_cycle_starts_where_this_one_ends() -> None:
    assert cycle_bounds("2026Q4", BERLIN)[1] == cycle_bounds("2027Q1", BERLIN)[0]
    assert cycle_bounds("2026H1", BERLIN)[1] == cycle_bounds("2026Q3", BERLIN)[0]


@pytest.mark.parametrize(
    ("now", "tz", "expected"),
    [
        (datetime(2026, 9, 30, 22, 30, tzinfo=UTC), BERLIN, "2026Q4"),  # 00:30 on 1 October
        (datetime(2026, 9, 30, 22, 30, tzinfo=UTC), ZoneInfo("UTC"), "2026Q3"),
        (datetime(2027, 1, 1, 3, 0, tzinfo=UTC), NEW_YORK, "2026Q4"),  # still 31 Dec there
        (datetime(2026, 5, 15, 12, 0, tzinfo=UTC), BERLIN, "2026Q2"),
    ],
)
def test_current_quarter_follows_the_chat_calendar(
    now: datetime, tz: ZoneInfo, expected: str
) -> None:
    assert current_quarter(now, tz) == expected


# --- elapsed share across DST ------------------------------------------------------------


def test_elapsed_share_across_spring_forward_in_berlin_counts_real_hours() -> None:
    # 2026Q1 in Berlin lasts 90 days less the hour lost on 29 March: 2159 hours.
    now = datetime(2026, 3, 29, 12, 0, tzinfo=BERLIN)  # after the change, CEST
    share = elapsed_share("2026Q1", now, BERLIN)
    assert share == pytest.approx(2099 / 2159, abs=1e-12)
    assert share != pytest.approx(2100 / 2160, abs=1e-9)  # naive wall-clock arithmetic


def test_elapsed_share_across_fall_back_in_berlin_counts_the_extra_hour() -> None:
    start, end = cycle_bounds("2026Q4", BERLIN)
    assert end.timestamp() - start.timestamp() == (92 * 24 + 1) * 3600
    middle = datetime.fromtimestamp((start.timestamp() + end.timestamp()) / 2, tz=UTC)
    assert elapsed_share("2026Q4", middle, BERLIN) == pytest.approx(0.5, abs=1e-12)
    wall = datetime(2026, 11, 15, 12, 0, tzinfo=BERLIN)
    hours = (wall.timestamp() - start.timestamp()) / 3600
    assert elapsed_share("2026Q4", wall, BERLIN) == pytest.approx(hours / 2209, abs=1e-12)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 9, 30, 21, 59, tzinfo=UTC), 0.0),  # before the quarter
        (datetime(2026, 9, 30, 22, 0, tzinfo=UTC), 0.0),  # its first instant
        (datetime(2026, 12, 31, 23, 0, tzinfo=UTC), 1.0),  # its exclusive end
        (datetime(2027, 2, 1, tzinfo=UTC), 1.0),
    ],
)
def test_elapsed_share_stays_within_0_and_1(now: datetime, expected: float) -> None:
    assert elapsed_share("2026Q4", now, BERLIN) == expected


def test_elapsed_share_is_the_same_instant_in_any_zone_of_now() -> None:
    instant = datetime(2026, 11, 15, 11, 0, tzinfo=UTC)
    shares = {elapsed_share("2026Q4", instant.astimezone(tz), BERLIN) for tz in (BERLIN, NEW_YORK)}
    assert len(shares) == 1


def test_elapsed_share_refuses_naive_now() -> None:
    with refuses(ScoringError, "no timezone"):
        elapsed_share("2026Q4", datetime(2026, 11, 1), BERLIN)


# --- pace -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("progress", "expected", "verdict"),
    [
        (0.475, 0.5, Pace.ON_TRACK),  # exactly 95 % of expected
        (0.4749, 0.5, Pace.BEHIND),
        (0.375, 0.5, Pace.BEHIND),  # exactly 75 %
        (0.3749, 0.5, Pace.AT_RISK),
        (0.0, 0.5, Pace.AT_RISK),
        (0.9, 0.5, Pace.ON_TRACK),
        (0.0, 0.0, Pace.ON_TRACK),  # nothing expected yet
        (0.95, 1.0, Pace.ON_TRACK),
        (0.7 * 0.95, 0.7, Pace.ON_TRACK),  # float product at the boundary
        (0.7 * 0.75, 0.7, Pace.BEHIND),
    ],
)
def test_pace_boundaries(progress: float, expected: float, verdict: Pace) -> None:
    assert pace(progress, expected) is verdict


def test_pace_reads_as_words() -> None:
    assert [str(p) for p in Pace] == ["on track", "behind", "at risk"]
