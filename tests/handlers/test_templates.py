"""Ready-made scorecards: preview, apply, merge with what a chat already has."""

from __future__ import annotations

import pytest

from scoring.templates import TEMPLATES
from tests.support import FakeChat


@pytest.mark.parametrize("name", list(TEMPLATES))
async def test_every_template_applies_to_a_fresh_chat(chat: FakeChat, name: str) -> None:
    template = TEMPLATES[name]
    text = await chat.ok(f"/scorecard apply {name}")
    assert f"Applied {template.name}" in text
    kpis = await chat.ok("/kpi")
    for kpi in template.kpis:
        assert f"({kpi.key})" in kpis
    if template.key_results:
        okrs = await chat.ok("/okr")
        assert all(f"({kr.key})" in okrs for kr in template.key_results)
    await chat.ok("/scorecard")
    await chat.ok("/map")


async def test_preview_changes_nothing_and_offers_an_apply_button(chat: FakeChat) -> None:
    replies = await chat.say("/scorecard template startup")
    assert "Adds: 4 objectives, 3 links, 6 KPIs" in replies[0].plain()
    assert replies[0].buttons[0].command == "/scorecard apply startup"
    assert "No KPIs yet" in await chat.ok("/kpi")


async def test_crm_template_puts_customer_service_on_top_of_seven(chat: FakeChat) -> None:
    await chat.ok("/scorecard apply crm")
    keys = [line.split()[1] for line in (await chat.ok("/perspective")).splitlines()[2:]]
    assert keys == ["service", "finance", "customers", "processes", "channels", "crm", "learning"]
    await chat.ok("/scorecard apply startup")
    after = [line.split()[1] for line in (await chat.ok("/perspective")).splitlines()[2:]]
    assert after == keys  # applying another template never reorders what the chat has


async def test_applying_keeps_what_the_chat_already_has(chat: FakeChat) -> None:
    await chat.ok('/kpi add cac "Our CAC" baseline=200 target=150 perspective=finance')
    text = await chat.ok("/scorecard apply startup")
    assert "Kept yours: KPI cac" in text
    assert "Our CAC" in await chat.ok("/kpi cac")
    assert "nothing new" in await chat.ok("/scorecard apply startup")


async def test_template_that_needs_too_many_perspectives_is_refused_whole(chat: FakeChat) -> None:
    for key in ("a", "b", "c"):
        await chat.ok(f'/perspective add {key} "{key.upper()}"')
    assert "at most 7" in await chat.error("/scorecard apply crm")
    assert "No KPIs yet" in await chat.ok("/kpi")
    assert "No objectives yet" in await chat.ok("/objective")


async def test_unknown_template_lists_the_choices(chat: FakeChat) -> None:
    error = await chat.error("/scorecard apply nope")
    assert "content-marketing" in error and "digital" in error


async def test_a_shared_objective_key_never_files_kpis_under_an_unrelated_objective(
    chat: FakeChat,
) -> None:
    await chat.ok("/scorecard apply startup")
    await chat.ok("/scorecard apply crm")
    assert "Objective: A clean lead funnel (SQL → SAL)" in await chat.ok("/kpi sql-sal")
    assert "Objective: Turn visitors into customers" in await chat.ok("/kpi conversion")
    objectives = await chat.ok("/objective")
    assert "crm-funnel" in objectives
    again = await chat.ok("/scorecard apply crm")
    assert "objective crm-funnel" not in again or "kept" in again.lower()
    assert (await chat.ok("/objective")).count("A clean lead funnel") == 1
