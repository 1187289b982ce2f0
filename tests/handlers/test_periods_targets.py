"""Time aggregation (`agg=`, `/kpi <key> ytd`) and dated targets (`due=`, `staged=`)."""

from __future__ import annotations

from tests.support import FakeChat, FixedClock

LEADS = '/kpi add leads "Leads" target=300 agg=sum perspective=customers'


async def test_a_sum_kpi_shows_and_scores_its_current_periods_total(chat: FakeChat) -> None:
    await chat.ok(LEADS)
    await chat.ok("/kpi set leads 100 2026-10-20")
    await chat.ok("/kpi set leads 90 2026-11-02")
    assert await chat.ok("/kpi set leads 150 2026-11-15") == (
        "Saved Leads = 150 for 2026-11-15 (sum for 2026-11: 240, 🟢 green against 150 due by "
        "2026-11-15, progress 80%)."
    )
    listing = await chat.ok("/kpi")
    assert "🟢 Leads (leads)    240     300       80%  ↑  6d ago" in listing
    card = await chat.ok("/kpi leads")
    assert "Value: 240" in card and "Per period: sum (agg=sum)" in card
    explain = await chat.ok("/kpi leads explain")
    assert explain.splitlines()[1] == "value (2026-11) = sum of 2 values = 240"
    assert "80%" in await chat.ok("/scorecard")  # the roll-up scores 240, not the last 150


async def test_ytd_lists_each_period_and_the_years_aggregate(chat: FakeChat) -> None:
    await chat.ok(LEADS)
    await chat.ok("/kpi set leads 100 2025-12-20")
    await chat.ok("/kpi set leads 100 2026-10-20")
    await chat.ok("/kpi set leads 90 2026-11-02")
    await chat.ok("/kpi set leads 150 2026-11-15")
    assert await chat.ok("/kpi leads ytd") == (
        "Leads (leads) · 2026 to date\n"
        "Year to date (sum of 3 values): 340; target 300 a month.\n"
        "period   value  values\n"
        "2026-10    100       1\n"
        "2026-11    240       2"
    )


async def test_avg_kpi_averages_its_period(chat: FakeChat) -> None:
    await chat.ok(
        '/kpi add conv "Conversion" target=4 unit=% agg=avg every=week perspective=customers'
    )
    await chat.ok("/kpi set conv 2 2026-11-16")
    await chat.ok("/kpi set conv 3 2026-11-18")
    assert "Value: 2.5%" in await chat.ok("/kpi conv")


async def test_a_dated_target_shows_pace_and_a_linear_forecast(
    chat: FakeChat, clock: FixedClock
) -> None:
    await chat.ok(
        '/kpi add followers "Social presence" baseline=10000 target=12000 due=2027-09-30 '
        "from=2026-09-30 perspective=customers"
    )
    await chat.ok("/kpi set followers 10000 2026-09-30")
    await chat.ok("/kpi set followers 10350 2026-11-21")
    card = await chat.ok("/kpi followers")
    assert (
        "Due: 2027-09-30 · 14% of the time gone: on track · on pace to reach 12 457 of 12 000"
    ) in card


async def test_staged_targets_score_against_the_stage_in_force(chat: FakeChat) -> None:
    await chat.ok(
        '/kpi add followers "Social presence" baseline=10000 target=12000 due=2027-09-30 '
        "staged=2026Q4:10500,2027Q2:11000 perspective=customers"
    )
    saved = await chat.ok("/kpi set followers 10400")
    assert "progress 80%" in saved  # 400 of the 500 this quarter asks for
    card = await chat.ok("/kpi followers")
    assert "Staged targets: 2026-12-31: 10 500, 2027-06-30: 11 000" in card
    assert "target in force = 10 500 (staged), final 12 000" in await chat.ok(
        "/kpi followers explain"
    )


STAGED_FOLLOWERS = (
    '/kpi add followers "Social presence" baseline=10000 target=12000 due=2027-09-30 '
    "from=2026-09-30 staged=2027Q1:10500,2027Q2:11000 perspective=customers"
)


async def test_every_view_shows_the_staged_target_in_force_next_to_its_progress(
    chat: FakeChat,
) -> None:
    await chat.ok(STAGED_FOLLOWERS)
    await chat.ok("/kpi set followers 10000 2026-09-30")
    await chat.ok("/kpi set followers 10350")
    assert await chat.ok("/kpi") == (
        "KPIs · index 70%\n"
        "KPI                              value  target  progress     updated\n"
        "CUSTOMERS\n"
        "🟡 Social presence (followers)  10 350  10 500       70%  ↑  today  ⏱ on track\n"
        "⏱ pace towards the due date; /kpi <key> shows the forecast."
    )
    card = (await chat.ok("/kpi followers")).splitlines()
    assert card[1:5] == [
        "Value: 10 350",
        "Target: 10 500 (staged, until 2027-03-31; final 12 000)",
        "Baseline: 10 000",
        "Progress: 70%",
    ]
    due = next(line for line in card if line.startswith("Due:"))
    assert due == (
        "Due: 2027-09-30 · 14% of the time gone: on track · on pace to reach 12 457 of 12 000"
    )
    explain = await chat.ok("/kpi followers explain")
    assert "(10 350 − 10 000) / (10 500 − 10 000) = 350 / 500 = 70%" in explain
    assert "target in force = 10 500 (staged), final 12 000" in explain


async def test_a_stage_equal_to_the_baseline_is_refused_naming_the_stage(
    chat: FakeChat,
) -> None:
    assert await chat.error(
        '/kpi add d5 "D5" target=100 staged=2027Q1:0 baseline=0 perspective=finance'
    ) == (
        "The stage ending 2027-03-31 of KPI 'd5' has target 0, the same as the baseline, "
        "so progress towards it can't be measured; give that stage a target other than 0."
    )
    assert await chat.error(
        '/kpi add d6 "D6" target=100 staged=2027Q1:-5 baseline=0 perspective=finance'
    ) == (
        "The stage ending 2027-03-31 of KPI 'd6' has target −5, on the other side of the "
        "baseline 0 from the final target 100; a stage lies on the way from the baseline to "
        "the target."
    )
    assert (await chat.ok("/kpi")).startswith("No KPIs yet")  # nothing stored


async def test_dated_target_mistakes_get_one_line(chat: FakeChat) -> None:
    assert "must be after its start" in await chat.error(
        '/kpi add f "F" baseline=1 target=2 due=2026-01-01 from=2026-02-01 perspective=finance'
    )
    assert "after its due date" in await chat.error(
        '/kpi add f "F" baseline=1 target=2 due=2026-12-31 staged=2027Q1:1.5 perspective=finance'
    )
    assert "staged= wants" in await chat.error(
        '/kpi add f "F" baseline=1 target=2 staged=1.5 perspective=finance'
    )
    assert await chat.error(
        '/kpi add f "F" baseline=1 target=2 staged=1999Q1:1.5 perspective=finance'
    ) == (
        "'1999Q1' is out of range: cycles go from 2000 on, like dates; write a quarter like "
        "2026Q4, a half like 2026H1 or a year like 2026."
    )
    for field in ("due=1999-12-31", "staged=1999-12-31:1.5"):  # days to come: no "to today"
        assert (
            await chat.error(f'/kpi add f "F" baseline=1 target=2 {field} perspective=finance')
            == "'1999-12-31' is out of range: dates go from 2000-01-01 on."
        )
    assert "agg=often is not allowed" in await chat.error(
        '/kpi add f "F" baseline=1 target=2 agg=often perspective=finance'
    )


async def test_kpi_list_and_digest_mark_the_pace_of_kpis_with_a_due_date(chat: FakeChat) -> None:
    await chat.ok(STAGED_FOLLOWERS)
    await chat.ok('/kpi add cac "CAC" baseline=100 target=50 perspective=finance')
    await chat.ok("/kpi set cac 90")
    await chat.ok("/kpi set followers 10000 2026-09-30")
    await chat.ok("/kpi set followers 10050")
    assert await chat.ok("/kpi") == (
        "KPIs · index 15%\n"
        "KPI                              value  target  progress     updated\n"
        "FINANCE\n"
        "🔴 CAC (cac)                        90      50       20%     today\n"
        "CUSTOMERS\n"
        "🔴 Social presence (followers)  10 050  10 500       10%  ↑  today  ⏱ at risk\n"
        "⏱ pace towards the due date; /kpi <key> shows the forecast."
    )
    digest = (await chat.ok("/digest")).splitlines()
    assert digest[1:6] == [
        "Index: 15%",
        "Movers: ▲ Social presence +10 pts",
        "Red: 🔴 Social presence 10 050 vs 10 500; 🔴 CAC 90 vs 50",
        "Due dates: Social presence ⏱ at risk (due 2027-09-30)",
        "Details: /scorecard, /kpi, /okr progress, /initiatives · Not scheduled "
        "(/digest every mon 09:00)",
    ]


async def test_the_chart_caption_names_the_staged_target_in_force(chat: FakeChat) -> None:
    await chat.ok(STAGED_FOLLOWERS)
    await chat.ok("/kpi set followers 10000 2026-09-30")
    await chat.ok("/kpi set followers 10350")
    assert (await chat.say("/kpi followers chart"))[0].text == (
        "2 values from 2026-09-30 to 2026-11-21; latest 10 350, target 10 500."
    )


async def test_a_summed_kpis_year_to_date_names_its_targets_period(chat: FakeChat) -> None:
    """`Year to date (sum of 3 values): 340; target 300.` put a year's sum beside a month's
    target: 340 read as the target met, where both months (100 and 240) had missed it
    (probe14). A sum's target is per period; the line says which."""
    await chat.ok(
        '/kpi add signups "Sign-ups" target=400 every=week agg=sum perspective=customers'
    )
    await chat.ok("/kpi set signups 300 2026-11-10")
    await chat.ok("/kpi set signups 250 2026-11-18")
    assert (await chat.ok("/kpi signups ytd")).splitlines()[1] == (
        "Year to date (sum of 2 values): 550; target 400 a week."
    )
    await chat.ok('/kpi add conv "Conversion" target=4 unit=% agg=avg perspective=customers')
    await chat.ok("/kpi set conv 3")
    assert (await chat.ok("/kpi conv ytd")).splitlines()[1] == (
        "Year to date (average of 1 value): 3%; target 4%."
    )
