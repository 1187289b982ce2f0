"""Funnels and customer journeys in chat (exact transcripts for the replies people read)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support import FakeChat, FixedClock


async def _funnel(chat: FakeChat) -> None:
    for key, name in (("traffic", "Traffic"), ("leads", "Leads"), ("sql", "SQL"), ("sal", "SAL")):
        await chat.ok(f'/kpi add {key} "{name}" target=1000 agg=sum perspective=customers')
    await chat.ok(
        '/kpi add sql_sal "SQL → SAL" formula="conversion(sql, sal)" target=60 unit=% '
        "perspective=processes"
    )
    await chat.ok('/funnel add mkt "Marketing funnel" stages=traffic,leads,sql,sal')
    await chat.ok(
        "/kpi import\ntraffic 10000 2026-10-15\nleads 500 2026-10-15\nsql 100 2026-10-15\n"
        "sal 50 2026-10-15\ntraffic 12000 2026-11-10\nleads 480 2026-11-10\n"
        "sql 120 2026-11-10\nsal 84 2026-11-10"
    )
    preview = chat.transcript[-1][1][0]
    await chat.ok(preview.buttons[0].command)


async def test_funnel_shows_conversions_changes_and_the_biggest_drop(chat: FakeChat) -> None:
    await _funnel(chat)
    assert await chat.ok("/funnel mkt") == (
        "Marketing funnel (mkt) · 2026-11 so far (21 of 30 days), vs 2026-10\n"
        "stage               value  vs last  conversion  vs last  conversion KPI\n"
        "Traffic (traffic)  12 000     +20%\n"
        "Leads (leads)         480      −4%          4%    −1 pt\n"
        "SQL (sql)             120     +20%         25%    +5 pt\n"
        "SAL (sal)              84     +68%         70%   +20 pt  🟢 sql_sal: target 60%\n"
        "Biggest drop: traffic → leads, 4% get through."
    )


async def test_funnel_mistakes_get_one_line(chat: FakeChat) -> None:
    await _funnel(chat)
    assert "No KPI 'visits'" in await chat.error('/funnel add x "X" stages=visits,leads')
    assert "at least two stages" in await chat.error('/funnel add x "X" stages=leads')
    assert "already exists" in await chat.error('/funnel add mkt "Again" stages=leads,sal')
    assert "No funnel 'mkx'" in await chat.error("/funnel mkx")
    assert await chat.ok("/funnel") == (
        "Funnels\nMarketing funnel (mkt): traffic → leads → sql → sal"
    )


async def test_journey_shows_stages_with_kpis_touchpoints_and_pain_points(
    chat: FakeChat,
) -> None:
    await chat.ok(
        '/kpi add response "First response time" baseline=24 target=4 unit=h perspective=customers'
    )
    await chat.ok('/kpi add nps "NPS" baseline=30 target=50 perspective=customers')
    await chat.ok("/kpi set response 6")
    await chat.ok(
        '/journey add cx "Customer journey" stages="Awareness, Purchase, Support, Loyalty"'
    )
    await chat.ok(
        '/journey stage cx support kpis=response touchpoint="live chat" '
        'pain="waiting for an answer"'
    )
    await chat.ok('/journey stage cx loyalty kpis=nps touchpoint="NPS survey"')
    assert await chat.ok("/journey cx") == (
        "Customer journey (cx)\n"
        "1. AWARENESS\n"
        "   (no KPIs or notes yet)\n"
        "2. PURCHASE\n"
        "   (no KPIs or notes yet)\n"
        "3. SUPPORT\n"
        "   🟢 First response time (response): 6 h of 4 h\n"
        "   touchpoint: live chat\n"
        "   pain point: waiting for an answer\n"
        "4. LOYALTY\n"
        "   ⚪ NPS (nps): — of 50\n"
        "   touchpoint: NPS survey"
    )
    assert "No stage 'checkout'" in await chat.error('/journey stage cx checkout pain="x"')


async def test_seed_002_okr_scorecard_and_journey_fit_together(chat: FakeChat) -> None:
    """The customer-centric article: OKR key results driven by scorecard KPIs, the OKR
    aligned to a scorecard objective, and a journey map whose stages carry those KPIs."""
    await chat.ok("/scorecard apply customer-okrs")
    await chat.ok('/objective add loyal "Loyal customers" perspective=customers')
    await chat.ok(
        '/kpi add response "First response time" baseline=24 target=4 unit=h objective=loyal'
    )
    await chat.ok('/kpi add nps_score "NPS" baseline=30 target=50 objective=loyal')
    await chat.ok("/okr kr edit response-time kpi=response")
    await chat.ok("/okr kr edit nps kpi=nps_score")
    await chat.ok("/okr edit delight align=loyal")
    await chat.ok(
        '/journey add cx "Customer journey" stages="First contact, Purchase, After-sales service"'
    )
    await chat.ok(
        '/journey stage cx first-contact touchpoint="social media" '
        'pain="slow answers to questions"'
    )
    await chat.ok(
        "/journey stage cx after-sales-service kpis=response,nps_score "
        'touchpoint="support chat" pain="waiting for a reply"'
    )
    await chat.ok("/kpi set response 12")
    await chat.ok("/kpi set nps_score 42")
    assert await chat.ok("/journey cx") == (
        "Customer journey (cx)\n"
        "1. FIRST CONTACT\n"
        "   touchpoint: social media\n"
        "   pain point: slow answers to questions\n"
        "2. PURCHASE\n"
        "   (no KPIs or notes yet)\n"
        "3. AFTER-SALES SERVICE\n"
        "   🟡 First response time (response): 12 h of 4 h\n"
        "   🟡 NPS (nps_score): 42 of 50\n"
        "   touchpoint: support chat\n"
        "   pain point: waiting for a reply"
    )
    okrs = await chat.ok("/okr")
    assert "Answer requests faster (response-time) ← KPI response" in okrs
    assert "12 → 4 h" in okrs and "42 → 50" in okrs
    assert "OKR delight serves scorecard objective Loyal customers (loyal)" in okrs


async def test_removing_a_kpi_a_funnel_or_journey_lists_warns_and_deleting_says_deleted(
    chat: FakeChat,
) -> None:
    await chat.ok('/kpi add a1 "A1" target=100 perspective=customers')
    await chat.ok('/kpi add a2 "A2" target=50 perspective=customers')
    await chat.ok("/kpi set a2 20")
    await chat.ok('/funnel add mkt "Mkt" stages=a1,a2')
    await chat.ok('/journey add cx "CX" stages="Awareness, Purchase"')
    await chat.ok("/journey stage cx awareness kpis=a1")
    assert await chat.ok("/kpi remove a1") == (
        "Removed A1 (a1) from the scorecard; it has no values. "
        "Undo: /kpi restore a1\n"
        "Heads-up: Funnel mkt and journey cx list it; they show it as removed until you "
        "restore it.\n"
        "[Undo: /kpi restore a1]  [Delete for good: /kpi remove a1 confirm]"
    )
    assert "   ⚪ a1: removed; /kpi restore a1" in await chat.ok("/journey cx")
    assert await chat.ok("/kpi remove a1 confirm") == (
        "Deleted A1 (a1) for good. Funnel mkt and journey cx still list it, shown as deleted."
    )
    assert await chat.ok("/funnel mkt") == (
        "Mkt (mkt) · 2026-11 so far (21 of 30 days), vs 2026-10\n"
        "stage                  value  vs last  conversion  vs last  conversion KPI\n"
        "a1 (deleted for good)      —\n"
        "A2 (a2)                   20                    —\n"
        "a1 was deleted for good with its values; to drop it, /funnel remove mkt and add it "
        "again."
    )
    assert await chat.ok("/journey cx") == (
        "CX (cx)\n1. AWARENESS\n   ⚪ a1: deleted for good\n2. PURCHASE\n   (no KPIs or notes yet)"
    )


async def test_a_new_period_half_entered_leaves_the_funnel_on_the_last_whole_one(
    chat: FakeChat, clock: FixedClock
) -> None:
    """On 1 December, the first value of the month (traffic) moved `/funnel mkt` to a
    December of one stage, "−99%" against November's whole month (probe8): the funnel
    stays on the newest period every stage has a value in, says the new one has started,
    and marks a period still running as "so far"."""
    await _funnel(chat)
    clock.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    await chat.ok("/kpi set traffic 150")
    assert await chat.ok("/funnel mkt") == (
        "Marketing funnel (mkt) · 2026-11, vs 2026-10\n"
        "stage               value  vs last  conversion  vs last  conversion KPI\n"
        "Traffic (traffic)  12 000     +20%\n"
        "Leads (leads)         480      −4%          4%    −1 pt\n"
        "SQL (sql)             120     +20%         25%    +5 pt\n"
        "SAL (sal)              84     +68%         70%   +20 pt  🟢 sql_sal: target 60%\n"
        "Biggest drop: traffic → leads, 4% get through.\n"
        "2026-12 has started: so far only Traffic has a value; the funnel moves to 2026-12 "
        "once every stage has one."
    )
    for key, value in (("leads", 9), ("sql", 2), ("sal", 1)):
        await chat.ok(f"/kpi set {key} {value}")
    assert await chat.ok("/funnel mkt") == (
        "Marketing funnel (mkt) · 2026-12 so far (1 of 31 days), vs 2026-11\n"
        "stage              value  vs last  conversion  vs last  conversion KPI\n"
        "Traffic (traffic)    150     −99%\n"
        "Leads (leads)          9     −98%          6%    +2 pt\n"
        "SQL (sql)              2     −98%         22%    −3 pt\n"
        "SAL (sal)              1     −99%         50%   −20 pt  🟢 sql_sal: target 60%\n"
        "Biggest drop: traffic → leads, 6% get through."
    )
