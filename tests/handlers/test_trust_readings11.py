"""Readings a demanding user still tripped on after session 10 (probe11): each test first
failed with the reply the user got, then passed with the fix."""

from __future__ import annotations

from tests.support import FakeChat

CAC = '/kpi add cac "CAC" baseline=120 target=80 unit=€ perspective=finance'


async def test_a_percent_glued_between_a_value_and_its_unit_gets_the_percent_line(
    chat: FakeChat,
) -> None:
    """`/kpi set cac 40%€` said "'40%€' is not a number": the `%` is what is wrong, so the
    `%` line is said, as for `40%`; nothing is saved."""
    await chat.ok(CAC)
    line = (
        "40% has a % sign, but CAC is counted in €: write 40, or make it a percentage first: "
        "/kpi edit cac unit=%"
    )
    assert await chat.error("/kpi set cac 40%€") == line
    assert await chat.error("/kpi set cac €40%") == line
    assert not chat.core.store.kpis.latest_docs(chat.chat.key, "cac")
