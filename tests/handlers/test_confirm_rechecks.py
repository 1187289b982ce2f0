"""A value parked by the far-value question is checked again when it is confirmed: what
`/kpi set` and `/okr checkin` refuse, their *Record* button refuses too (found by review8:
the button recorded a typed value over a formula's, and over a KPI-driven key result's)."""

from __future__ import annotations

from tests.support import FakeChat


async def test_a_parked_value_is_refused_once_its_kpi_is_calculated(chat: FakeChat) -> None:
    """`/kpi set cac 95000` asks first; `cac` then becomes a formula KPI; *Record 95 000*
    stored 95 000 by hand over the formula's 80, which `/kpi set cac` refuses."""
    await chat.ok('/kpi add nps "NPS" target=50 perspective=customers')
    await chat.ok("/kpi set nps 40")
    await chat.ok('/kpi add cac "CAC" target=100 perspective=finance')
    await chat.ok("/kpi set cac 90")
    [ask] = await chat.say("/kpi set cac 95000")
    await chat.ok('/kpi edit cac formula="nps * 2"')
    before = await chat.ok("/kpi history cac")
    assert await chat.error(ask.buttons[0].command) == (
        "cac is calculated (nps * 2); record its inputs instead, "
        "or make it manual with /kpi edit cac formula=none"
    )
    assert await chat.ok("/kpi history cac") == before


async def test_a_parked_value_is_refused_once_its_day_is_ahead_in_the_chats_new_timezone(
    chat: FakeChat,
) -> None:
    """Parked for today at UTC+14 (22 Nov), confirmed after `/timezone Europe/Copenhagen`
    (21 Nov there): *Record* stored a value dated tomorrow, which `/kpi set` refuses."""
    await chat.ok('/kpi add cac "CAC" target=100 perspective=finance')
    await chat.ok("/kpi set cac 90 2026-11-20")
    await chat.ok("/timezone Pacific/Kiritimati")
    [ask] = await chat.say("/kpi set cac 95000")
    await chat.ok("/timezone Europe/Copenhagen")
    before = await chat.ok("/kpi history cac")
    assert await chat.error(ask.buttons[0].command) == (
        "2026-11-22 is in the future"
        " (today is 2026-11-21 in this chat's timezone); only today or earlier can be recorded."
    )
    assert await chat.ok("/kpi history cac") == before


async def test_a_parked_checkin_is_refused_once_its_key_result_follows_a_kpi(
    chat: FakeChat,
) -> None:
    """`/okr checkin fol 11 500` asks first; `fol` then follows KPI `nps`; *Record 11*
    stored 11 as the key result's value, shown beside "← KPI nps" instead of the KPI's 40,
    which `/okr checkin fol 11` refuses."""
    await chat.ok('/kpi add nps "NPS" target=50 perspective=customers')
    await chat.ok("/kpi set nps 40")
    await chat.ok('/okr add delight "Delight our customers"')
    await chat.ok('/okr kr delight fol "Followers" start=10000 target=12000')
    [ask] = await chat.say("/okr checkin fol 11 500 confidence=6 efter kampagne")
    await chat.ok("/okr kr edit fol kpi=nps")
    before = await chat.ok("/okr")
    assert await chat.error(ask.buttons[0].command) == (
        "fol follows KPI nps: record values with /kpi set nps …; "
        "a check-in records confidence, e.g. /okr checkin fol confidence=7"
    )
    assert await chat.ok("/okr") == before


async def test_a_stage_typed_as_the_add_reply_shows_it_is_read_as_one_number(
    chat: FakeChat,
) -> None:
    """The `/kpi add` reply shows a stage as read, space-grouped (`staged=2027-03-31:10 500`);
    typed back, the stage was read as 10 and the `500` joined the KPI's name ("Social 500")
    or was refused by `/kpi edit` as an unexpected word."""
    said = await chat.ok(
        '/kpi add s "Social" target=12000 due=2027-09-30 from=2026-09-30 '
        "staged=2027-03-31:10 500,2027-06-30:11 000 perspective=customers"
    )
    assert said == (
        "Saved KPI Social (s): target=12 000, due=2027-09-30, from=2026-09-30, "
        "staged=2027-03-31:10 500,2027-06-30:11 000."
    )
    assert await chat.ok("/kpi edit s staged=2027-03-31:10 600") == (
        "Updated Social (s): staged=2027-03-31:10 600."
    )
