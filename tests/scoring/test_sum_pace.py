"""A sum's share of its period's numbers due so far (`due_share`, `judged_on`): the one rule
every view and alert judges an `agg=sum` KPI by (probe15)."""

from __future__ import annotations

from datetime import date

import pytest

from scoring.models import Kpi, StagedTarget
from scoring.targets import due_share, judged_on, kpi_on

LEADS = Kpi(key="leads", name="Leads", objective="o", target=300.0, agg="sum")


@pytest.mark.parametrize(
    ("every", "day", "newest", "share"),
    [
        ("month", date(2026, 11, 2), None, 2 / 30),
        ("month", date(2026, 11, 2), date(2026, 11, 15), 15 / 30),
        ("month", date(2026, 11, 30), None, 1.0),  # the last day: the whole target
        ("month", date(2026, 10, 2), date(2026, 11, 1), 1.0),  # a later period has values
        ("week", date(2026, 11, 3), None, 2 / 7),  # Tuesday of ISO week 45
        ("quarter", date(2026, 10, 31), None, 31 / 92),
        ("day", date(2026, 11, 3), None, 1.0),
        ("year", date(2026, 1, 1), None, 1 / 365),
    ],
)
def test_the_share_due_is_the_days_up_to_the_newest_value(
    every: str, day: date, newest: date | None, share: float
) -> None:
    kpi = LEADS.model_copy(update={"every": every})
    assert due_share(kpi, day, newest) == pytest.approx(share)


@pytest.mark.parametrize(
    "update",
    [
        {"agg": "last"},
        {"agg": "avg"},
        {"direction": "down", "baseline": 6000.0, "target": 4000.0},  # a budget
    ],
)
def test_other_kpis_are_judged_on_the_whole_period(update: dict[str, object]) -> None:
    kpi = LEADS.model_copy(update=update)
    assert due_share(kpi, date(2026, 11, 2)) == 1.0
    assert judged_on(kpi, date(2026, 11, 2)) == kpi


def test_every_number_in_the_kpis_unit_scales_with_the_share() -> None:
    kpi = LEADS.model_copy(
        update={"baseline": 150.0, "min": 0.0, "max": 600.0, "warn": 240.0, "crit": 180.0}
    )
    judged = judged_on(kpi, date(2026, 11, 3))
    assert (judged.target, judged.baseline, judged.min, judged.max) == (30.0, 15.0, 0.0, 60.0)
    assert (judged.warn, judged.crit) == (24.0, 18.0)


def test_a_staged_sum_is_judged_on_its_stage_target_share() -> None:
    kpi = LEADS.model_copy(
        update={"staged": (StagedTarget(until=date(2026, 12, 31), target=150.0),)}
    )
    assert kpi_on(kpi, date(2026, 11, 3)).target == 150.0
    assert judged_on(kpi, date(2026, 11, 3)).target == pytest.approx(15.0)
    assert judged_on(kpi, None) == kpi
