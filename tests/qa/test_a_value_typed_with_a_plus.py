"""`/kpi set traffic +500` saved 500 visits over the 14 000 of the day before: the team
meant 500 more, the KPI turned red and everyone was alerted (500 is 28× below, inside the
100× question). A value is the new number, not an addition: one typed with a `+` is
refused, naming both readings, and nothing is saved (probe16)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support import FakeChat, FixedClock

TRAFFIC = '/kpi add traffic "Blog visitors" target=20000 unit=visits perspective=customers'


async def test_a_plus_names_both_readings_and_saves_nothing(
    chat: FakeChat, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 12, 2, 9, tzinfo=UTC)
    await chat.ok(TRAFFIC)
    assert await chat.error("/kpi set traffic +500") == (
        "+500: a value is the new number, not an addition: send /kpi set traffic 500 for "
        "500 visits. Nothing was saved."
    )
    await chat.ok("/kpi set traffic 14 000 yesterday")
    assert await chat.error("/kpi set traffic +500 after the webinar") == (
        "+500: a value is the new number, not an addition: send /kpi set traffic 14500 for "
        "14 000 + 500 visits, or /kpi set traffic 500 for 500 visits. Nothing was saved."
    )
    assert "14 000 visits" in await chat.ok("/kpi traffic")
    assert "500 visits (" in await chat.ok("/kpi set traffic 500")


async def test_a_check_in_with_a_plus_is_refused_the_same_way(chat: FakeChat) -> None:
    await chat.ok('/okr add delight "Delight customers"')
    await chat.ok('/okr kr delight nps "Raise NPS" start=30 target=50')
    assert await chat.error("/okr checkin nps +5") == (
        "+5: a value is the new number, not an addition: send /okr checkin nps 5 for 5. "
        "Nothing was saved."
    )
    await chat.ok("/okr checkin nps 38")
    assert await chat.error("/okr checkin nps +5") == (
        "+5: a value is the new number, not an addition: send /okr checkin nps 43 for "
        "38 + 5, or /okr checkin nps 5 for 5. Nothing was saved."
    )


async def test_where_dots_group_thousands_the_readings_are_spelled_with_a_comma(
    chat: FakeChat, clock: FixedClock
) -> None:
    """The readings were spelled with a dot whatever the chat: where a dot groups
    thousands, `/kpi set traffic 14.125` saves fourteen thousand. Each is spelled as the
    chat's parser reads it, and sending it saves that number."""
    clock.now = datetime(2026, 12, 2, 9, tzinfo=UTC)
    await chat.ok("/numbers 1.234,5")
    await chat.ok(TRAFFIC)
    await chat.ok("/kpi set traffic 12,5 yesterday")
    assert await chat.error("/kpi set traffic +1,625") == (
        "+1,625: a value is the new number, not an addition: send /kpi set traffic 14,125 "
        "for 12.5 + 1.62 visits, or /kpi set traffic 1,625 for 1.62 visits. Nothing was saved."
    )
    assert "14.12 visits (" in await chat.ok("/kpi set traffic 14,125")
