"""`/kpi add reach ... due="1 march"` said "not a date" while an initiative's `due="1 march"`
is the next 1 March (bf4cc17): a KPI's own `due=` and `staged=` dates read words forward by
the same rule (handlers.dates.due_day), and the reply names the day read (probe16b)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support import FakeChat, FixedClock


async def test_a_kpi_due_and_stage_in_words_read_forward(
    chat: FakeChat, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 12, 2, 9, tzinfo=UTC)  # Wednesday 2 December
    added = await chat.ok(
        '/kpi add reach "Reach" baseline=0 target=1200 due="1 march" staged=friday:100 '
        "perspective=customers"
    )
    assert "due=2027-03-01" in added
    assert "staged=2026-12-04:100" in added
    edited = await chat.ok("/kpi edit reach due=30.11 staged=2027Q1:900")
    assert "due=2027-11-30" in edited
    assert "staged=2027-03-31:900" in edited
    assert "names no day" in await chat.error("/kpi edit reach due=march")
