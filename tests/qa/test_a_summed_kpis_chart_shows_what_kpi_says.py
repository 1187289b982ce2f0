"""`/kpi leads chart` of a monthly sum (25, 70 and 60 leads on 2, 10 and 16 November) drew
the raw 25, 70, 60 against the whole 300's colour bands, its latest dot red at 60, while
`/kpi` said green: 155 so far against 160 due by the 16th. The chart now plots what the
colour judges, the period's total so far, its latest dot in `/kpi`'s colour; a sum judged
on pace draws the pace (its dashed "plan": what is due by each day of the period) instead
of bands that hold only on the period's last day (probe16)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from handlers.chart_specs import judged_history, kpi_chart_spec
from scoring.models import Kpi, Measurement, Thresholds
from tests.support import FakeChat, FixedClock

AT = datetime(2026, 11, 16, 9, tzinfo=UTC)
LEADS = Kpi(key="leads", name="Leads", objective="o", target=300, agg="sum")


def _m(day: date, value: float) -> Measurement:
    return Measurement(kpi="leads", value=value, day=day, at=AT, by="@anna")


HISTORY = [
    _m(date(2026, 10, 30), 280),
    _m(date(2026, 11, 2), 25),
    _m(date(2026, 11, 10), 70),
    _m(date(2026, 11, 16), 60),
]


def test_a_sum_is_drawn_as_its_periods_total_in_its_colour_against_its_pace() -> None:
    spec = kpi_chart_spec(LEADS, judged_history(LEADS, HISTORY), Thresholds())
    assert spec.values == (280.0, 25.0, 95.0, 155.0)
    assert spec.status == "green"  # 155 against 160 due by the 16th, as /kpi says
    assert spec.bands == ()
    assert spec.plan == (
        (date(2026, 9, 30).toordinal(), 0.0),
        (date(2026, 10, 31).toordinal(), 300.0),
        (date(2026, 10, 31).toordinal(), 0.0),
        (date(2026, 11, 30).toordinal(), 300.0),
    )


def test_a_budget_sum_and_an_average_keep_their_bands() -> None:
    budget = LEADS.model_copy(update={"direction": "down", "baseline": 400})
    spec = kpi_chart_spec(budget, judged_history(budget, HISTORY), Thresholds())
    assert spec.values == (280.0, 25.0, 95.0, 155.0) and spec.bands and spec.plan == ()
    average = LEADS.model_copy(update={"agg": "avg", "target": 50})
    spec = kpi_chart_spec(average, judged_history(average, HISTORY), Thresholds())
    assert spec.values == (280.0, 25.0, 47.5, 155 / 3) and spec.bands


async def test_the_chart_reply_names_the_periods_total(chat: FakeChat, clock: FixedClock) -> None:
    clock.now = datetime(2026, 11, 2, 9, tzinfo=UTC)
    await chat.ok('/kpi add leads "Leads" target=300 agg=sum perspective=customers')
    await chat.ok("/kpi set leads 25")
    clock.now = datetime(2026, 11, 10, 9, tzinfo=UTC)
    await chat.ok("/kpi set leads 70")
    clock.now = AT
    await chat.ok("/kpi set leads 60")
    [reply] = await chat.say("/kpi leads chart")
    assert reply.text == (
        "3 values from 2026-11-02 to 2026-11-16; latest sum for 2026-11: 155, target 300."
    )
