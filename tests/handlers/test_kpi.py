"""Conversations about KPIs: create, record, list, explain, edit, remove."""

from __future__ import annotations

import pytest

from tests.support import FakeChat, FixedClock


async def test_new_chat_starts_with_the_four_classic_perspectives(chat: FakeChat) -> None:
    text = await chat.ok("/perspective")
    assert [line.split()[1] for line in text.splitlines()[2:]] == [
        "finance",
        "customers",
        "processes",
        "learning",
    ]


async def test_kpi_added_to_perspective_lands_in_its_general_objective(chat: FakeChat) -> None:
    await chat.ok('/kpi add leads "Leads per month" target=200 perspective=customers')
    objectives = await chat.ok("/objective")
    assert "customers-general" in objectives
    assert "Customers: general" in objectives


async def test_decrease_is_better_kpi_halfway_shows_50_percent(chat: FakeChat) -> None:
    await chat.ok(
        '/kpi add cac "Customer acquisition cost" baseline=120 target=80 unit=$ '
        "perspective=finance"
    )
    saved = await chat.ok("/kpi set cac 100")
    assert "progress 50%" in saved
    listing = await chat.ok("/kpi")
    assert "50%" in listing and "100 $" in listing


async def test_progress_is_unclamped_but_colour_uses_clamped_performance(chat: FakeChat) -> None:
    await chat.ok('/kpi add sales "Sales from articles" baseline=0 target=40 perspective=finance')
    text = await chat.ok("/kpi set sales 52")
    assert "130%" in text and "green" in text


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("12.5", "12.5"),
        ("12,5", "12.5"),
        ("10 000", "10 000"),
        ("10k", "10 000"),
        ("1.2M", "1 200 000"),
    ],  # `35%` on this unit-less KPI is refused now: tests/handlers/test_percent_values.py
)
async def test_values_are_accepted_the_way_people_type_them(
    chat: FakeChat, typed: str, stored: str
) -> None:
    await chat.ok('/kpi add v "Visits" target=2000000 perspective=customers')
    text = await chat.ok(f"/kpi set v {typed}")
    assert f"= {stored}" in text


async def test_value_defaults_to_today_in_the_chats_timezone(
    chat: FakeChat, clock: FixedClock
) -> None:
    clock.now = clock.now.replace(hour=22, minute=30)  # 22:30 UTC is already tomorrow in Moscow
    await chat.ok("/timezone Europe/Moscow")
    await chat.ok('/kpi add v "Visits" target=100 perspective=customers')
    await chat.ok("/kpi set v 5")
    detail = await chat.ok("/kpi v")
    assert "2026-11-22" in detail


async def test_backdated_value_with_note_is_kept_in_history(chat: FakeChat) -> None:
    await chat.ok('/kpi add v "Visits" target=100 perspective=customers')
    await chat.ok("/kpi set v 40")
    text = await chat.ok("/kpi set v 30 2026-11-01 after the launch")
    assert "for 2026-11-01" in text and "latest value is unchanged" in text
    detail = await chat.ok("/kpi v")
    assert "after the launch" in detail and "40" in detail


async def test_second_value_on_the_same_day_replaces_the_first(chat: FakeChat) -> None:
    await chat.ok('/kpi add v "Visits" target=100 perspective=customers')
    await chat.ok("/kpi set v 40")
    assert "replaced 40" in await chat.ok("/kpi set v 45")


async def test_explain_prints_both_formulas_with_the_numbers(chat: FakeChat) -> None:
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    await chat.ok("/kpi set cac 100")
    text = await chat.ok("/kpi cac explain")
    assert "120" in text and "80" in text and "100" in text and "50%" in text


async def test_trend_arrow_compares_with_the_previous_value(
    chat: FakeChat, clock: FixedClock
) -> None:
    await chat.ok('/kpi add v "Visits" target=100 perspective=customers')
    await chat.ok("/kpi set v 40 2026-11-20")
    await chat.ok("/kpi set v 50")
    assert "↑" in await chat.ok("/kpi")


async def test_test_mode_kpi_is_listed_but_left_out_of_scores(chat: FakeChat) -> None:
    await chat.ok('/kpi add a "A" target=10 perspective=finance')
    await chat.ok('/kpi add p "Pilot" target=10 perspective=finance test=yes')
    await chat.ok("/kpi set a 10")
    await chat.ok("/kpi set p 1")
    overview = await chat.ok("/scorecard")
    assert "index 100%" in overview
    assert "1 in test mode" in overview


async def test_kpi_without_data_is_not_counted_as_zero(chat: FakeChat) -> None:
    await chat.ok('/kpi add a "A" target=10 perspective=finance')
    await chat.ok('/kpi add b "B" target=10 perspective=finance')
    await chat.ok("/kpi set a 10")
    overview = await chat.ok("/scorecard")
    assert "index 100%" in overview and "1 KPI without data" in overview


async def test_edit_changes_target_and_validates(chat: FakeChat) -> None:
    await chat.ok('/kpi add v "Visits" target=100 perspective=customers')
    await chat.ok("/kpi edit v target=200 owner=anna")
    detail = await chat.ok("/kpi v")
    assert "200" in detail and "@anna" in detail
    assert "baseline" in await chat.error("/kpi edit v target=0")


async def test_remove_keeps_history_until_confirmed_and_restore_brings_it_back(
    chat: FakeChat,
) -> None:
    await chat.ok('/kpi add v "Visits" target=100 perspective=customers')
    await chat.ok("/kpi set v 40")
    replies = await chat.say("/kpi remove v")
    assert "Undo" in replies[0].plain() and replies[0].buttons
    assert "No KPIs yet" in await chat.ok("/kpi")
    await chat.ok("/kpi restore v")
    assert "40" in await chat.ok("/kpi v")
    await chat.ok("/kpi remove v")
    assert "its 1 value for good" in await chat.ok("/kpi remove v confirm")
    assert "No KPI 'v'" in await chat.error("/kpi restore v")


async def test_focus_warning_after_more_than_five_kpis_in_a_perspective(chat: FakeChat) -> None:
    for i in range(5):
        assert "Heads-up" not in await chat.ok(
            f'/kpi add k{i} "K{i}" target=10 perspective=finance'
        )
    assert "Focus is lost" in await chat.ok('/kpi add k5 "K5" target=10 perspective=finance')


async def test_unicode_keys_and_russian_names_work(chat: FakeChat) -> None:
    await chat.ok('/kpi add лиды "Лиды за месяц" target=200 perspective=customers')
    await chat.ok("/kpi set Лиды 150")
    assert "Лиды за месяц" in await chat.ok("/kpi")


async def test_chats_never_see_each_others_scorecards(chat: FakeChat) -> None:
    other = FakeChat(chat.core, chat_id="other-team")
    await chat.ok('/kpi add v "Visits" target=100 perspective=customers')
    assert "No KPIs yet" in await other.ok("/kpi")
    assert "No KPI 'v'" in await other.error("/kpi set v 1")


async def test_kpi_edit_lists_its_fields_in_the_usage_order_for_unknown_and_missing_fields(
    chat: FakeChat,
) -> None:
    await chat.ok('/kpi add visits "Visits" target=100 perspective=customers')
    fields = (
        "name, target, baseline, direction, min, max, tol, unit, weight, objective, "
        "perspective, owner, every, warn, crit, test, formula, agg, due, from, staged"
    )
    assert await chat.error("/kpi edit visits tagret=5") == (
        f"Unknown field 'tagret'. Did you mean target=? Fields: {fields}"
    )
    assert await chat.error("/kpi edit visits") == f"Nothing to change. Fields: {fields}"
    usage = (await chat.error("/kpi add")).split("[")  # the add usage lists the same order
    assert [part.split("=")[0] for part in usage[1:]] == fields.split(", ")[2:]


@pytest.mark.parametrize(
    "command, expected",
    [
        ("/kpi set nope 1", "No KPI 'nope'"),
        ("/kpi set visitz 1", "Did you mean 'visits'"),
        ("/kpi set visits lots", "not a number"),
        ("/kpi set visits nan", "not a number"),
        ("/kpi set visits inf", "not a number"),
        ("/kpi set visits 1e999", "out of range for visits"),
        ('/kpi add x "unbalanced target=1', "Unbalanced quote"),
        ("/kpi add x X target=1 weight=-1 perspective=finance", "negative"),
        ("/kpi add x X target=1 colour=red perspective=finance", "Unknown field 'colour'"),
        ("/kpi add x X target=5 baseline=5 perspective=finance", "baseline"),
        ("/kpi add x X target=5 min=3 max=3 perspective=finance", "min"),
        ("/kpi set visits 5 2026-02-30", "not a real date"),
        ("/kpi set visits 5 2026-13-01", "not a real date"),
        ("/kpi set visits 5 2027-01-01", "in the future"),
        ("/kpi add visits Dup target=1 perspective=finance", "already exists"),
        ("/kpi add y Y target=1 perspective=nowhere", "No perspective 'nowhere'"),
        ("/kpi add y Y target=1 objective=nothing", "No objective 'nothing'"),
        ("/kpi add y Y target=1 perspective=finance every=hourly", "every=hourly"),
        ("/kpi frobnicate", "No KPI 'frobnicate'"),
    ],
)
async def test_bad_input_gets_one_clear_line_and_changes_nothing(
    chat: FakeChat, command: str, expected: str
) -> None:
    await chat.ok('/kpi add visits "Visits" target=100 perspective=customers')
    await chat.ok("/kpi set visits 40")
    before = await chat.ok("/kpi visits")
    objectives_before = await chat.ok("/objective")
    assert expected in await chat.error(command)
    assert await chat.ok("/kpi visits") == before
    assert await chat.ok("/objective") == objectives_before


async def test_range_kpi_is_full_inside_and_fades_outside(chat: FakeChat) -> None:
    await chat.ok('/kpi add rt "Response time" direction=range min=2 max=4 perspective=customers')
    assert "progress 100%" in await chat.ok("/kpi set rt 3")
    assert "progress 50%" in await chat.ok("/kpi set rt 5 2026-11-20")  # 1 outside, tol 2


async def test_range_kpi_can_become_a_plain_kpi_again(chat: FakeChat) -> None:
    await chat.ok(
        '/kpi add rt "Response time" direction=range min=2 max=4 tol=1 perspective=customers'
    )
    await chat.ok("/kpi edit rt direction=down baseline=10 target=2 min=none max=none")
    assert "lower is better" in await chat.ok("/kpi rt")


async def test_chart_is_a_png_of_the_history(chat: FakeChat) -> None:
    await chat.ok('/kpi add v "Visits" target=100 perspective=customers')
    assert "at least two values" in await chat.ok("/kpi v chart")
    await chat.ok("/kpi set v 40 2026-11-01")
    await chat.ok("/kpi set v 60")
    replies = await chat.say("/kpi v chart")
    image = replies[0].image
    assert image is not None and image.data.startswith(b"\x89PNG") and image.filename == "v.png"
    assert "2 values from 2026-11-01 to 2026-11-21" in replies[0].text


async def test_editing_a_red_kpis_target_resolves_its_alert_at_once(chat: FakeChat) -> None:
    await chat.ok('/kpi add v "Visits" target=100 perspective=customers')
    await chat.ok("/kpi set v 20")
    assert "1 firing" in await chat.ok("/alerts")
    await chat.ok("/kpi edit v target=20 baseline=0")
    assert "1 firing" not in await chat.ok("/alerts")
    assert "red → green" in await chat.ok("/alerts log")
