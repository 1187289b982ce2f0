"""A pulled sheet with two rows for one KPI and day: the second is a bad row, told once.

Both were recorded (the last one kept) and counted as taken, and since each row differed
from the other's mark, every later pull recorded both again: "2 new or changed values"
from a sheet nobody had touched.
"""

from __future__ import annotations

from bot.app import Core
from tests.handlers.test_sources import CsvServer, _notices, _setup, run_now, sheet
from tests.support import FakeChat

__all__ = ["sheet"]  # the loopback CSV server fixture


async def test_a_second_row_for_a_day_is_reported_and_later_pulls_change_nothing(
    chat: FakeChat, sheet: CsvServer, core: Core
) -> None:
    await _setup(chat, sheet)
    sheet.body = "Date,New leads\n2026-11-19,120\n2026-11-20,130\n20.11.2026,90\n"
    assert await run_now(chat) == (
        "Pulled sheet: 2 new or changed values, 0 unchanged. 1 bad row(s): line 4, New leads: "
        "a second value for leads on 2026-11-20 (line 3 has one). (asked by @anna)"
    )
    assert await run_now(chat) == (
        "Pulled sheet: 0 new or changed values, 2 unchanged. 1 bad row(s): line 4, New leads: "
        "a second value for leads on 2026-11-20 (line 3 has one). (asked by @anna)"
    )
    history = core.store.kpis.history(chat.chat.key, "leads")
    assert [(m.day.isoformat(), m.value) for m in history] == [
        ("2026-11-19", 120.0),
        ("2026-11-20", 130.0),
    ]
    assert len(_notices(core, chat)) == 2
