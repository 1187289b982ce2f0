"""A day ahead was refused in six wordings: "values are recorded for today or earlier" by
`/kpi set`, "progress is logged for today or earlier" by `/log 2026-12-05` but the values'
line by `#articles +1 30.12`, a bare "is in the future" by `/kpi import`, the ingest API,
pulls and file imports. One home (`handlers.dates.ahead_said`), one line, naming the chat's
today, so a user whose day is ahead of the chat's timezone sees why (probe16)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support import FakeChat, FixedClock

TODAY = "(today is 2026-12-02 in this chat's timezone); only today or earlier can be recorded"


async def test_every_entry_point_says_the_same_line(chat: FakeChat, clock: FixedClock) -> None:
    clock.now = datetime(2026, 12, 2, 9, tzinfo=UTC)
    await chat.ok('/initiative add articles "Publish articles" cadence=4/month')
    await chat.ok("/kpi add leads Leads target=100 perspective=finance")
    assert (
        await chat.error("/kpi set leads 5 2026-12-05") == f"2026-12-05 is in the future {TODAY}."
    )
    assert await chat.error("/kpi set leads 5 tomorrow") == f"2026-12-03 is in the future {TODAY}."
    assert await chat.error("/log articles +1 2026-12-05") == (
        f"2026-12-05 is in the future {TODAY}."
    )
    assert await chat.error("#articles +1 tomorrow") == f"2026-12-03 is in the future {TODAY}."
    assert await chat.error("#articles +1 30.12") == (
        f"'30.12' is 2026-12-30, in the future {TODAY}. For last year's, add the year: 30.12.2025."
    )
    assert await chat.error("/kpi import\nleads 5 2026-11-30\nleads 6 2026-12-05") == (
        f"1 line(s) need fixing, nothing was imported: line 2: 2026-12-05 is in the future {TODAY}"
    )
    assert "has no values yet" in await chat.ok("/kpi history leads")
    assert "0 of 4 this month" in await chat.ok("/initiatives")
