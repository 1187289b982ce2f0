"""A digest's title and footer name its real schedule: a daily digest is not "Weekly".

`/digest` said "Weekly review" and "Weekly: every day 09:00" for a daily schedule.
"""

from __future__ import annotations

from tests.support import FakeChat

_DETAILS = "Details: /scorecard, /kpi, /okr progress, /initiatives"


async def _digest(chat: FakeChat) -> tuple[str, str]:
    lines = (await chat.ok("/digest")).split("\n")
    return lines[0], lines[-1]


async def test_the_footer_and_title_follow_the_schedule(chat: FakeChat) -> None:
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    assert await _digest(chat) == (
        "Weekly review · Sat 21 Nov",
        f"{_DETAILS} · Not scheduled (/digest every mon 09:00)",
    )
    await chat.ok("/digest every day 09:00")
    assert await _digest(chat) == (
        "Daily review · Sat 21 Nov",
        f"{_DETAILS} · Scheduled every day 09:00",
    )
    await chat.ok("/digest every mon-fri 08:30")
    assert await _digest(chat) == (
        "Daily review · Sat 21 Nov",
        f"{_DETAILS} · Scheduled every weekday 08:30",
    )
    await chat.ok("/digest every mon,thu 09:00")
    assert await _digest(chat) == (
        "Review · Sat 21 Nov",
        f"{_DETAILS} · Scheduled every mon,thu 09:00",
    )
    await chat.ok("/digest every mon 09:00")
    assert await _digest(chat) == (
        "Weekly review · Sat 21 Nov",
        f"{_DETAILS} · Scheduled every mon 09:00",
    )
