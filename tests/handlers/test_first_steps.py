"""Smaller things a new user met (issue 7 §5): each reproduced, then answered in our words."""

from __future__ import annotations

from tests.support import FakeChat


async def test_an_empty_scorecard_does_not_claim_every_kpi_has_data(chat: FakeChat) -> None:
    overview = await chat.ok("/scorecard")
    assert "Every KPI has data" not in overview
    assert overview.endswith(
        "No KPIs yet: /kpi add, or start from a ready-made one: /scorecard templates. "
        "Colours: green ≥ 80%, yellow ≥ 50%."
    )


async def test_the_scorecard_shows_the_perspective_keys_kpi_add_takes(chat: FakeChat) -> None:
    overview = await chat.ok("/scorecard")
    for line in ("Finance (finance)", "Customers (customers)", "Learning & growth (learning)"):
        assert line in overview


async def test_an_okr_only_template_counts_in_good_english_and_points_to_checkins(
    chat: FakeChat,
) -> None:
    assert await chat.ok("/scorecard apply customer-okrs") == (
        "Applied Customer-centric OKRs: added 1 OKR, 3 key results. "
        "Next: check in with /okr checkin response-time <value>, see /okr progress."
    )


async def test_an_offset_is_not_answered_with_did_you_mean_utc(chat: FakeChat) -> None:
    text = await chat.error("/timezone UTC+3")
    assert "Did you mean UTC" not in text
    assert text.startswith("'UTC+3' is an offset, not a timezone: use a city that keeps that time")
    assert "Europe/Moscow" in text


async def test_linking_an_objective_to_itself_is_not_called_a_cycle(chat: FakeChat) -> None:
    await chat.ok('/objective add content "Publish content" perspective=processes')
    assert await chat.error("/objective link content content") == (
        "content can't drive itself: link two different objectives, "
        "e.g. /objective link content traffic."
    )


async def test_a_range_kpi_shows_its_range_not_a_target_and_baseline(chat: FakeChat) -> None:
    await chat.ok(
        '/kpi add rt "Response time" direction=range min=2 max=4 unit=h perspective=customers'
    )
    detail = await chat.ok("/kpi rt")
    assert "Target: between 2–4 h" in detail and "Baseline" not in detail
    await chat.ok("/kpi set rt 3")
    assert "2–4 h" in await chat.ok("/kpi")


async def test_kpi_add_without_a_place_offers_the_perspectives_and_saves_once_chosen(
    chat: FakeChat,
) -> None:
    replies = await chat.say('/kpi add leads "Leads per month" target=200')
    ask = replies[0]
    assert ask.kind == "answer"
    assert ask.text == (
        "Which perspective does leads belong to? Pick one (or add objective=<key>); "
        "nothing is saved until you do."
    )
    assert [b.label for b in ask.buttons] == [
        "Finance",
        "Customers",
        "Internal processes",
        "Learning & growth",
    ]
    assert ask.buttons[1].command == (
        '/kpi add leads "Leads per month" target=200 perspective=customers'
    )
    assert "No KPI" in await chat.error("/kpi leads")
    assert await chat.ok(ask.buttons[1].command) == (
        "Saved KPI Leads per month (leads): target=200."
    )
    assert "Objective: Customers: general" in await chat.ok("/kpi leads")


async def test_kpi_add_without_a_place_still_checks_everything_else_first(
    chat: FakeChat,
) -> None:
    assert "target=" in await chat.error('/kpi add leads "Leads"')
    assert "is not a number" in await chat.error('/kpi add leads "Leads" target=lots')


async def test_a_zone_abbreviation_points_to_its_city_not_to_a_near_spelling(
    chat: FakeChat,
) -> None:
    """'MSK' was answered 'Did you mean MST?' (a fixed US offset); an abbreviation with one
    meaning names its city, and close spellings offered are Area/City names."""
    assert await chat.error("/timezone MSK") == (
        "'MSK' is an abbreviation, not a timezone: use /timezone Europe/Moscow."
    )
    assert "Did you mean Europe/Moscow, " in await chat.error("/timezone Europe/Moscw")
    assert "MST" not in await chat.error("/timezone MSKK")
    assert await chat.ok("/timezone MST")  # an IANA name still: taken as typed


async def test_an_abbreviation_with_two_meanings_names_each_city_not_one(chat: FakeChat) -> None:
    """'AEST' named Australia/Sydney only, but Brisbane keeps AEST all year (no summer
    time), an hour off half the year (pct10); like IST and CST, which got a bare "not a
    timezone", an abbreviation with more than one meaning names its cities and sets none."""
    assert await chat.error("/timezone AEST") == (
        "'AEST' is an abbreviation with more than one meaning, not a timezone: use the city "
        "whose clock you keep, e.g. /timezone Australia/Sydney or /timezone Australia/Brisbane."
    )
    assert await chat.error("/timezone ist") == (
        "'ist' is an abbreviation with more than one meaning, not a timezone: use the city "
        "whose clock you keep, e.g. /timezone Asia/Kolkata, /timezone Europe/Dublin or "
        "/timezone Asia/Jerusalem."
    )
    assert "America/Chicago or /timezone Asia/Shanghai." in await chat.error("/timezone CST")
    assert chat.core.store.chats.settings(chat.chat.key).timezone == "UTC"
