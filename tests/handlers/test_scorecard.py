"""Perspectives, objectives, links and the strategy map."""

from __future__ import annotations

from tests.support import FakeChat


async def test_crm_scorecard_puts_customer_service_on_top_and_stops_at_seven(
    chat: FakeChat,
) -> None:
    await chat.ok('/perspective add service "Customer service" position=1')
    await chat.ok('/perspective add brand "Brand"')
    await chat.ok('/perspective add partners "Partners"')
    listing = await chat.ok("/perspective")
    assert listing.splitlines()[2].split()[1] == "service"
    assert "at most 7" in await chat.error('/perspective add eighth "Too many"')


async def test_perspectives_can_be_renamed_moved_and_removed(chat: FakeChat) -> None:
    await chat.ok('/perspective rename learning "Learning & growth"')
    await chat.ok("/perspective move learning 1")
    listing = await chat.ok("/perspective")
    assert listing.splitlines()[2].split()[:3] == ["1", "learning", "Learning"]
    await chat.ok("/perspective remove learning")
    assert "learning" not in await chat.ok("/perspective")


async def test_perspective_with_objectives_cannot_be_removed(chat: FakeChat) -> None:
    await chat.ok('/objective add profit "Grow profit" perspective=finance')
    assert "still has objectives" in await chat.error("/perspective remove finance")


async def test_objectives_link_and_cycles_are_refused(chat: FakeChat) -> None:
    await chat.ok('/objective add content "Create content" perspective=processes')
    await chat.ok('/objective add traffic "More traffic" perspective=customers')
    await chat.ok('/objective add revenue "Revenue" perspective=finance')
    await chat.ok("/objective link content traffic")
    await chat.ok("/objective link traffic revenue")
    error = await chat.error("/objective link revenue content")
    assert "cycle" in error and "content" in error
    assert "drive itself" in await chat.error("/objective link content content")
    await chat.ok("/objective unlink traffic revenue")
    await chat.ok("/objective link revenue content")


async def test_map_shows_perspectives_top_to_bottom_with_scores_and_links(chat: FakeChat) -> None:
    await chat.ok('/objective add content "Create content" perspective=processes')
    await chat.ok('/objective add revenue "Revenue" perspective=finance')
    await chat.ok("/objective link content revenue")
    await chat.ok('/kpi add sales "Sales" target=40 objective=revenue')
    await chat.ok("/kpi set sales 20")
    text = await chat.ok("/map text")
    assert text.index("FINANCE") < text.index("CUSTOMERS") < text.index("INTERNAL PROCESSES")
    assert "Revenue (revenue) 50%" in text
    assert "content → revenue" in text


async def test_objective_weights_and_aggregate_change_the_rollup(chat: FakeChat) -> None:
    await chat.ok('/objective add o "O" perspective=finance aggregate=min')
    await chat.ok('/kpi add a "A" target=10 objective=o')
    await chat.ok('/kpi add b "B" target=10 objective=o')
    await chat.ok("/kpi set a 10")
    await chat.ok("/kpi set b 5")
    assert "index 50%" in await chat.ok("/scorecard")
    await chat.ok("/objective edit o aggregate=max")
    assert "index 100%" in await chat.ok("/scorecard")


async def test_scorecard_thresholds_change_colours(chat: FakeChat) -> None:
    await chat.ok('/kpi add a "A" target=10 perspective=finance')
    await chat.ok("/kpi set a 7")
    assert "yellow" in await chat.ok("/kpi a")
    await chat.ok("/scorecard thresholds green=70 yellow=40")
    assert "green" in await chat.ok("/kpi a")
    assert "0 < yellow < green" in await chat.error("/scorecard thresholds green=30 yellow=40")


async def test_objective_with_kpis_cannot_be_removed(chat: FakeChat) -> None:
    await chat.ok('/objective add o "O" perspective=finance')
    await chat.ok('/kpi add a "A" target=10 objective=o')
    assert "still has KPIs" in await chat.error("/objective remove o")


async def test_thresholds_typed_without_their_names_are_refused_not_shown(chat: FakeChat) -> None:
    """`/scorecard thresholds 85 60` answered with the current thresholds as if asked, and
    a newcomer took it for saved; now it says how to name them and that nothing changed."""
    for typed in ("/scorecard thresholds 85 60", "/scorecard thresholds green=85 60"):
        assert await chat.error(typed) == (
            "Name each threshold: /scorecard thresholds green=85 yellow=60. Nothing was "
            "changed (green ≥ 80%, yellow ≥ 50%)."
        )
    assert await chat.ok("/scorecard thresholds") == (
        "Green ≥ 80%, yellow ≥ 50%, red below. Change: /scorecard thresholds green=85 yellow=60"
    )
