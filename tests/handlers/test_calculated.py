"""Calculated KPIs in chat: set a formula, inputs change, dependents recompute and alert."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.app import Core
from handlers import calculated
from handlers.jobs import sweeper
from tests.alerts.support import CHAT, queued, queued_text, wakes
from tests.support import FakeChat, FixedClock

SPEND = '/kpi add spend "Marketing spend" baseline=6000 target=4000 unit=$ agg=sum '
SPEND += "perspective=finance"
NEWC = '/kpi add newc "New customers" target=60 agg=sum perspective=customers'
CAC = '/kpi add cac "CAC" formula="spend / newc" baseline=150 target=50 unit=$ perspective=finance'


@pytest.fixture
async def cac(chat: FakeChat) -> FakeChat:
    await chat.ok(SPEND)
    await chat.ok(NEWC)
    await chat.ok(CAC)
    return chat


async def test_explain_shows_the_formula_with_its_inputs_filled_in(cac: FakeChat) -> None:
    await cac.ok("/kpi set spend 3000 2026-11-02")
    await cac.ok("/kpi set spend 2000")
    assert await cac.ok("/kpi set newc 40") == (
        "Saved New customers = 40 (sum for 2026-11: 40, 🟢 green against 42 due by 2026-11-21, "
        "progress 66%).\n"
        "Recalculated CAC (cac) = 125 $ for 2026-11."
    )
    assert await cac.ok("/kpi cac explain") == (
        "How CAC is scored\n"
        "value (2026-11) = spend / newc = 5 000 / 40 = 125\n"
        "inputs (2026-11): spend = 5 000, newc = 40\n"
        "progress = (value − baseline) / (target − baseline) = (125 − 150) / (50 − 150) = "
        "−25 / −100 = 25%\n"
        "performance = clamp(progress) = 25%\n"
        "status = red: performance 25% < yellow threshold 50%"
    )


async def test_division_by_zero_is_no_value_with_the_reason(cac: FakeChat) -> None:
    await cac.ok("/kpi set spend 5000")
    assert await cac.ok("/kpi set newc 0") == (
        "Saved New customers = 0 (sum for 2026-11: 0, 🔴 red against 42 due by 2026-11-21, "
        "progress 0%).\n"
        "CAC (cac) has no value for 2026-11: the formula divides by zero."
    )
    assert await cac.ok("/kpi cac explain") == (
        "How CAC is scored\n"
        "value (2026-11) = spend / newc = 5 000 / 0: no value, the formula divides by zero\n"
        "inputs (2026-11): spend = 5 000, newc = 0"
    )


async def test_periods_align_a_monthly_cac_uses_that_months_inputs(
    cac: FakeChat, core: Core
) -> None:
    await cac.ok("/kpi set spend 4000 2026-10-10")
    await cac.ok("/kpi set newc 20 2026-10-20")
    await cac.ok("/kpi set spend 3000")
    await cac.ok("/kpi set newc 30")
    history = core.store.kpis.history("console:team", "cac")
    assert [(m.day, m.value, m.by) for m in history] == [
        (date(2026, 10, 20), 200.0, "formula"),
        (date(2026, 11, 21), 100.0, "formula"),
    ]
    # a back-dated October value recomputes October only
    await cac.ok("/kpi set newc 20 2026-10-05")
    values = [m.value for m in core.store.kpis.history("console:team", "cac")]
    assert values == [100.0, 100.0]


async def test_a_chain_recomputes_inputs_before_users(chat: FakeChat, core: Core) -> None:
    await chat.ok('/kpi add revenue "Revenue" target=100 perspective=finance')
    await chat.ok('/kpi add cost "Cost" target=50 baseline=100 perspective=finance')
    await chat.ok(
        '/kpi add margin "Margin" formula="revenue - cost" target=60 perspective=finance'
    )
    await chat.ok(
        '/kpi add mroi "ROI" formula="roi(margin + cost, cost)" target=90 perspective=finance'
    )
    await chat.ok("/kpi set revenue 150")
    assert "Recalculated" not in await chat.ok("/kpi set revenue 150")  # nothing new
    text = await chat.ok("/kpi set cost 50")
    assert "Recalculated Margin (margin) = 100 for 2026-11." in text
    [roi] = core.store.kpis.history("console:team", "mroi")
    assert roi.value == 200.0


async def test_losing_an_input_value_takes_the_period_value_away(
    cac: FakeChat, core: Core, clock: FixedClock
) -> None:
    await cac.ok("/kpi set spend 5000")
    await cac.ok("/kpi set newc 50")
    chat = "console:team"
    with core.store.atomic():
        core.store.kpis.clear_between(chat, "newc", date(2026, 11, 21), date(2026, 11, 21))
        calculated.values_changed(core.ctx, chat, {"newc": [date(2026, 11, 21)]}, clock())
    assert core.store.kpis.history(chat, "cac") == []
    assert "Value: —" in await cac.ok("/kpi cac")


async def test_a_recomputed_kpi_alerts_like_any_other(cac: FakeChat, core: Core) -> None:
    await cac.ok("/alerts set group=0")
    await cac.ok("/kpi set spend 5000")
    await cac.ok("/kpi set newc 100")  # CAC 50: green
    await cac.ok("/kpi set newc 25")  # CAC 200: red
    texts = queued_text(core)
    assert any("CAC" in t and "green → red" in t and "200 $ vs target 50 $" in t for t in texts)


async def test_formulas_refuse_unknown_keys_cycles_and_manual_values(cac: FakeChat) -> None:
    assert "'visits', which is not a KPI here" in await cac.error(
        '/kpi add cpv "Cost per visit" formula="spend / visits" target=1 perspective=finance'
    )
    assert await cac.error('/kpi edit spend formula="cac * newc"') == (
        "That formula would make a loop: spend → cac → spend (each reads the next); "
        "a KPI can't depend on itself."
    )
    assert "record its inputs instead" in await cac.error("/kpi set cac 10")
    assert "read by the formula of cac" in await cac.error("/kpi remove newc")
    assert "not attribute access" in await cac.error("/kpi edit cac formula=spend.real")
    assert "Formula: spend / newc" in await cac.ok("/kpi cac")


async def test_a_formula_set_later_is_computed_for_past_periods(
    chat: FakeChat, core: Core
) -> None:
    await chat.ok(SPEND)
    await chat.ok(NEWC)
    await chat.ok("/kpi set spend 4000 2026-10-10")
    await chat.ok("/kpi set newc 20 2026-10-20")
    await chat.ok('/kpi add cac "CAC" baseline=150 target=50 perspective=finance')
    assert await chat.ok('/kpi edit cac formula="spend / newc"') == (
        "Updated CAC (cac): formula=spend / newc."
    )
    [value] = core.store.kpis.history("console:team", "cac")
    assert (value.day, value.value) == (date(2026, 10, 20), 200.0)


async def test_an_import_recomputes_dependents_once_per_period(cac: FakeChat, core: Core) -> None:
    preview = await cac.ok(
        "/kpi import\nspend 1000 2026-11-01\nspend 2000 2026-11-02\nnewc 10 2026-11-02\n"
        "spend 900 2026-10-03\nnewc 9 2026-10-04"
    )
    apply = preview.split("[Apply import: ")[1].split("]")[0]
    await cac.ok(apply)
    values = [(m.day, m.value) for m in core.store.kpis.history("console:team", "cac")]
    assert values == [(date(2026, 10, 4), 100.0), (date(2026, 11, 2), 300.0)]
    assert "calculated" in await cac.error("/kpi import\ncac 5")


async def test_unset_and_undo_of_an_input_follow_through_the_formula(
    cac: FakeChat, core: Core
) -> None:
    await cac.ok("/kpi set spend 5000")
    await cac.ok("/kpi set newc 50")
    await cac.ok("/kpi unset newc 2026-11-21")
    assert core.store.kpis.history("console:team", "cac") == []
    await cac.ok("/kpi set newc 25")
    assert [m.value for m in core.store.kpis.history("console:team", "cac")] == [200.0]
    confirm = await cac.say("/undo")
    await cac.ok(confirm[0].buttons[0].command)
    assert core.store.kpis.history("console:team", "cac") == []


async def test_changing_an_inputs_agg_recomputes_its_readers(cac: FakeChat, core: Core) -> None:
    await cac.ok("/kpi set spend 3000 2026-11-02")
    await cac.ok("/kpi set spend 2000")
    await cac.ok("/kpi set newc 40")
    assert [m.value for m in core.store.kpis.history("console:team", "cac")] == [125.0]
    await cac.ok("/kpi edit spend agg=last")
    assert [m.value for m in core.store.kpis.history("console:team", "cac")] == [50.0]


async def test_pct_change_compares_with_the_previous_period(chat: FakeChat, core: Core) -> None:
    await chat.ok('/kpi add leads "Leads" target=300 agg=sum perspective=customers')
    await chat.ok(
        '/kpi add growth "Lead growth" formula="pct_change(leads)" target=10 unit=% '
        "perspective=customers"
    )
    assert "pct_change() needs a previous value of leads." in await chat.ok(
        "/kpi set leads 200 2026-10-05"
    )
    assert "Recalculated Lead growth (growth) = 25% for 2026-11." in await chat.ok(
        "/kpi set leads 250"
    )


async def test_a_restored_formula_kpi_catches_up_with_its_inputs(
    cac: FakeChat, core: Core
) -> None:
    await cac.ok("/kpi set spend 5000")
    await cac.ok("/kpi set newc 50")
    await cac.ok("/kpi remove cac")
    await cac.ok("/kpi set newc 25")
    await cac.ok("/kpi restore cac")
    assert [m.value for m in core.store.kpis.history("console:team", "cac")] == [200.0]
    await cac.ok("/kpi remove cac")
    await cac.ok("/kpi remove newc")
    assert "'newc', which is not a KPI here" in await cac.error("/kpi restore cac")


X = '/kpi add x "X" target=100 perspective=finance'


async def test_a_formula_that_reads_no_kpi_is_refused(chat: FakeChat) -> None:
    await chat.ok(X)
    await chat.ok('/kpi add c2 "C2" formula="x * 2" target=1 perspective=finance')
    refusal = (
        "The formula '{}' reads no KPI, so it would never get a value; a formula combines "
        'KPIs, e.g. formula="spend / newc" (record a fixed number with /kpi set instead).'
    )
    assert await chat.error(
        '/kpi add c12 "C12" formula="1/3" target=1 perspective=finance'
    ) == refusal.format("1/3")
    assert await chat.error('/kpi edit c2 formula="2 ** 1000"') == refusal.format("2 ** 1000")
    assert "Formula: x * 2" in await chat.ok("/kpi c2")


async def test_an_edit_that_would_drop_values_asks_first_and_says_what_it_removed(
    chat: FakeChat,
) -> None:
    await chat.ok(X)
    await chat.ok("/kpi set x 51")
    await chat.ok('/kpi add c2 "C2" formula="x * 2" target=1 perspective=finance')
    assert await chat.ok('/kpi edit c2 formula="x ** (x * 20)"') == (
        "With formula=x ** (x * 20), C2 (c2) would lose its 1 stored value (2026-11-21): the "
        "exponent (1 020) is above 64. Nothing is changed until you confirm.\n"
        '[Change and remove 1 value: /kpi edit c2 formula="x ** (x * 20)" confirm]'
    )
    card = await chat.ok("/kpi c2")
    assert "Formula: x * 2" in card and "Value: 102" in card
    assert await chat.ok('/kpi edit c2 formula="x ** (x * 20)" confirm') == (
        "Updated C2 (c2): formula=x ** (x * 20). Removed its 1 stored value (2026-11-21): the "
        "exponent (1 020) is above 64."
    )
    assert await chat.ok("/kpi c2 explain") == (
        "How C2 is scored\n"
        "value (2026-11) = x ** (x * 20) = 51 ^ (51 × 20): no value, the exponent (1 020) is "
        "above 64\n"
        "inputs (2026-11): x = 51"
    )


async def test_explain_keeps_brackets_and_never_prints_a_huge_exponent(chat: FakeChat) -> None:
    await chat.ok(X)
    await chat.ok("/kpi set x 51")
    await chat.ok('/kpi add c2 "C2" formula="x ** x ** 64" target=1 perspective=finance')
    assert (await chat.ok("/kpi c2 explain")).splitlines()[1] == (
        "value (2026-11) = x ** x ** 64 = 51 ^ (51 ^ 64): no value, the exponent is above 64"
    )
    await chat.ok('/kpi edit c2 formula="(-x) ** 0.5"')
    assert (await chat.ok("/kpi c2 explain")).splitlines()[1] == (
        "value (2026-11) = (-x) ** 0.5 = (−51) ^ 0.5: no value, a negative number to a "
        "fractional power has no real value"
    )


async def test_explain_says_why_a_formula_has_no_value_yet(chat: FakeChat) -> None:
    await chat.ok(X)
    await chat.ok('/kpi add c3 "C3" formula="x * 2" target=1 perspective=finance')
    assert await chat.ok("/kpi c3 explain") == (
        "C3 has no value yet: its formula is x * 2, and x has no value"
    )


async def test_round_with_impossible_decimals_is_refused_and_never_blocks_its_input(
    chat: FakeChat,
) -> None:
    await chat.ok(X)
    assert await chat.error(
        '/kpi add r "R" formula="round(x, 20)" target=1 perspective=finance'
    ) == ("round() takes 0 to 10 decimals.")
    await chat.ok('/kpi add r "R" formula="round(x / 10, x)" target=1 perspective=finance')
    assert await chat.ok("/kpi set x 12") == (
        "Saved X = 12 (🔴 red, progress 12%).\n"
        "R (r) has no value for 2026-11: round() needs a whole number of decimals from 0 to 10."
    )
    assert await chat.ok("/kpi set x 2") == (
        "Saved X = 2 (replaced 12) (🔴 red, progress 2%).\nRecalculated R (r) = 0.2 for 2026-11."
    )


async def test_a_written_out_exponent_beyond_64_is_refused_when_the_formula_is_set(
    chat: FakeChat,
) -> None:
    await chat.ok(X)
    assert (
        await chat.error('/kpi add p "P" formula="x ** 100" target=1 perspective=finance')
        == "The exponent 100 is out of range: a formula's exponents go from −64 to 64."
    )
    assert "No KPI 'p'" in await chat.error("/kpi p")


async def test_removing_an_input_names_every_formula_that_reads_it_in_order(
    cac: FakeChat,
) -> None:
    await cac.ok(
        '/kpi add spc "Spend per customer" formula="spend / newc" target=1 perspective=finance'
    )
    assert await cac.error("/kpi remove newc") == (
        "newc is read by the formula of cac, spc; change those formulas first "
        "(/kpi edit cac formula=…)."
    )
    assert await cac.error("/kpi remove spend") == (
        "spend is read by the formula of cac, spc; change those formulas first "
        "(/kpi edit cac formula=…)."
    )


async def test_a_result_beyond_the_range_of_numbers_is_no_value_with_the_reason(
    chat: FakeChat,
) -> None:
    """`x ** 64` at x = 1 500 stored 1.9e203 and printed its 204 digits in every reply, a
    number no one could type (every number keeps within ±1e15); `x ** 5` is 7.6e15 there."""
    await chat.ok(X)
    await chat.ok("/kpi set x 1500")
    assert await chat.ok('/kpi add p "P" formula="x ** 5" target=1 perspective=finance') == (
        "Saved KPI P (p): target=1. P (p) has no value for 2026-11: the result is beyond "
        "±1e15, the range every number keeps."
    )
    assert (await chat.ok("/kpi p explain")).splitlines()[1] == (
        "value (2026-11) = x ** 5 = 1 500 ^ 5: no value, the result is beyond ±1e15, "
        "the range every number keeps"
    )
    assert await chat.ok("/kpi set x 900") == (
        "Saved X = 900 (replaced 1 500) (🟢 green, progress 900%).\n"
        "Recalculated P (p) = 590 490 000 000 000 for 2026-11."
    )


async def test_refused_formula_parts_are_named_as_people_write_them(chat: FakeChat) -> None:
    await chat.ok(X)
    helpers = "min, max, abs, round, ratio, pct_change, roi, nps, ltv, conversion"
    assert await chat.error(
        """/kpi add t "T" formula="'a' * x" target=1 perspective=finance"""
    ) == (
        f"Formulas allow KPI keys, numbers, + - * / **, ( ) and the helpers {helpers}; "
        "not text or other values that are not numbers."
    )
    assert await chat.error(
        '/kpi add t "T" formula="(lambda: x)()" target=1 perspective=finance'
    ) == (f"Only a helper can be called, by its name; formulas may call {helpers}.")


async def _only_cac_alerts(cac: FakeChat) -> None:
    """Spend and new customers in test mode: CAC's are the only alerts."""
    await cac.ok("/kpi edit spend test=yes")
    await cac.ok("/kpi edit newc test=yes")


async def _a_green_whole_day(cac: FakeChat, core: Core, clock: FixedClock) -> int:
    """Yesterday's spend and new customers typed, CAC's first reading (60: green) alerted:
    how many alerts went out so far."""
    await _only_cac_alerts(cac)
    await cac.ok("/kpi set spend 3000 2026-11-20")
    await cac.ok("/kpi set newc 50 2026-11-20")
    clock.advance(minutes=2)
    _flush(core)
    return len(queued(core))


def _flush(core: Core) -> int:
    """The flush timer firing: how many alerts went out."""
    with core.store.atomic():
        return sweeper.flush_alerts(core.ctx, CHAT)


async def test_a_half_entered_day_does_not_alert_and_no_alert_is_lost(
    cac: FakeChat, core: Core, clock: FixedClock
) -> None:
    """Typing spend before new customers turned CAC yellow, then green a minute later, two
    alerts (probe8). A calculated KPI's change waits while an input that adds up over the
    period (agg=sum) has no value yet on the day the others moved, up to 15 minutes: the
    missing value arriving settles it (nothing said when it comes back), and if it never
    comes the alert still goes out, saying which input is missing."""
    told = await _a_green_whole_day(cac, core, clock)
    await cac.ok("/kpi set spend 2000")  # 5 000 / 50 = 100: yellow on half a day
    clock.advance(minutes=2)
    assert _flush(core) == 0, "it waits for newc"
    await cac.ok("/kpi set newc 30")  # 5 000 / 80 = 62.5: green again, the day complete
    clock.advance(minutes=20)
    _flush(core)
    assert len(queued(core)) == told, "yellow then green on a half-entered day says nothing"
    wakes(core)
    clock.now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    await cac.ok("/kpi set spend 4000")  # 9 000 / 80 = 112.5: red; newc never comes today
    clock.advance(minutes=5)
    assert _flush(core) == 0, "it waits for newc"
    assert wakes(core) == {CHAT: datetime(2026, 11, 22, 9, 15, tzinfo=UTC)}
    clock.advance(minutes=10)
    assert _flush(core) == 1
    assert queued_text(core)[told:] == [
        "🔴 CAC is red\n"
        "green → red: 112.5 $ vs target 50 $ (newc has no value for 2026-11-22 yet)\n"
        "logged by formula · hurts Finance\n"
        "[Explain: /kpi cac explain]  [Mute 1 day: /alerts mute cac 1d]"
    ]


async def test_a_waiting_alert_goes_out_on_the_group_time_once_the_day_is_whole(
    cac: FakeChat, core: Core, clock: FixedClock
) -> None:
    """Spend typed (CAC yellow, waiting), new customers a minute later and CAC still yellow:
    the day was whole, yet the alert kept its 15-minute wait, since no new change came to
    re-queue it (review9). It now goes out one group window after the missing input, with
    no word of a missing input."""
    told = await _a_green_whole_day(cac, core, clock)
    await cac.ok("/kpi set spend 2000")  # 5 000 / 50 = 100: yellow on half a day, waits
    clock.advance(minutes=1)
    await cac.ok("/kpi set newc 1")  # 5 000 / 51 = 98.04: still yellow, the day whole
    wakes(core)
    clock.advance(seconds=59)
    assert _flush(core) == 0, "its group window is not over"
    clock.advance(seconds=1)
    assert _flush(core) == 1
    assert queued_text(core)[told:] == [
        "🟡 CAC is yellow\n"
        "green → yellow: 98.04 $ vs target 50 $\n"
        "logged by formula · hurts Finance\n"
        "[Explain: /kpi cac explain]  [Mute 1 day: /alerts mute cac 1d]"
    ]


async def test_a_second_change_while_waiting_keeps_the_first_changes_end_of_wait(
    cac: FakeChat, core: Core, clock: FixedClock
) -> None:
    """Spend typed at 10:00 (CAC yellow, waiting to 10:15), corrected at 10:10 (red): the
    wait restarted, and the red went out at 10:25, 25 minutes after the first change
    (reread9). A wait is counted from the first change: the red goes out at 10:15."""
    told = await _a_green_whole_day(cac, core, clock)
    start = clock.now
    await cac.ok("/kpi set spend 2000")  # 5 000 / 50 = 100: yellow, waits for newc
    clock.advance(minutes=10)
    await cac.ok("/kpi set spend 6000")  # 9 000 / 50 = 180: red
    clock.now = start + calculated.INPUTS_WAIT - timedelta(seconds=1)
    assert _flush(core) == 0, "it waits for newc"
    clock.now = start + calculated.INPUTS_WAIT
    assert _flush(core) == 1
    assert queued_text(core)[told:] == [
        "🔴 CAC is red\n"
        "green → red: 180 $ vs target 50 $ (newc has no value for 2026-11-21 yet)\n"
        "logged by formula · hurts Finance\n"
        "[Explain: /kpi cac explain]  [Mute 1 day: /alerts mute cac 1d]"
    ]


async def test_an_input_typed_on_its_own_schedule_is_not_waited_for(
    cac: FakeChat, core: Core, clock: FixedClock
) -> None:
    """A team types spend once a month and new customers daily: each CAC change new
    customers made waited 15 minutes and went out saying `spend has no value for 2026-11-21
    yet`. Spend was not typed with new customers on their last two days, so it is not
    missing: the change goes out one group window later, with no such word."""
    await _only_cac_alerts(cac)
    await cac.ok("/kpi set spend 9000 2026-11-18")
    for won, day in ((50, "2026-11-18"), (5, "2026-11-19"), (5, "2026-11-20")):
        await cac.ok(f"/kpi set newc {won} {day}")  # CAC 180, 164, 150: red
    clock.advance(minutes=2)
    _flush(core)
    told = len(queued(core))
    await cac.ok("/kpi set newc 60")  # 9 000 / 120 = 75: yellow
    clock.advance(minutes=1)
    assert _flush(core) == 1
    assert queued_text(core)[told:] == [
        "🟡 CAC improved to yellow\n"
        "red → yellow: 75 $ vs target 50 $\n"
        "logged by formula · hurts Finance\n"
        "[Explain: /kpi cac explain]  [Mute 1 day: /alerts mute cac 1d]"
    ]


async def test_the_card_and_alerts_say_which_input_a_calculated_kpi_waits_for(
    cac: FakeChat, clock: FixedClock
) -> None:
    """While CAC's alert waited for today's new customers, `/alerts` listed CAC red with no
    word of why it was not announced, and `/kpi cac` showed the half-day's value as any
    other: both now name the missing input."""
    await _only_cac_alerts(cac)
    await cac.ok("/kpi set spend 3000 2026-11-20")
    await cac.ok("/kpi set newc 50 2026-11-20")
    clock.advance(minutes=5)
    await cac.ok("/kpi set spend 4000")
    clock.advance(minutes=2)
    assert (
        "🔴 CAC (cac) red since 21 Nov 10:05 · 140 $ vs target 50 $ · newc has no value for "
        "2026-11-21 yet\n" in await cac.ok("/alerts")
    )
    assert "Formula: spend / newc (newc has no value for 2026-11-21 yet)\n" in await cac.ok(
        "/kpi cac"
    )
    await cac.ok("/kpi set newc 30")
    assert "Formula: spend / newc\n" in await cac.ok("/kpi cac")
