"""Counts in replies are grouped like every other number (README: `12 345`, never `12345`)."""

from __future__ import annotations

from datetime import date, timedelta

from tests.support import FakeChat


async def test_an_import_preview_of_thousands_of_values_groups_its_counts(chat: FakeChat) -> None:
    await chat.ok('/kpi add v "Visits" target=500 perspective=customers')
    start = date(2020, 1, 1)
    lines = "\n".join(f"v {1 + n % 9} {start + timedelta(days=n)}" for n in range(1200))
    [preview] = await chat.say(f"/kpi import\n{lines}")
    assert preview.plain().split("\n")[:2] == [
        "Import preview: 1 200 values for 1 KPI",
        "Visits (v) ×1 200: 1 (2020-01-01), 2 (2020-01-02), 3 (2020-01-03), 4 (2020-01-04), "
        "5 (2020-01-05) … and 1 195 more up to 2023-04-14",
    ]
