"""Control characters typed or pasted into a message are read as spaces, never stored.

A terminal escape in a KPI name (`\\x1b[2J` clears the console screen) or a bell in a note
was kept as typed and printed back to everyone, and a NUL byte came back as an apostrophe
(the mark the splitter holds apostrophes with).
"""

from __future__ import annotations

from tests.support import FakeChat


async def test_control_characters_in_names_and_notes_are_spaces(chat: FakeChat) -> None:
    assert await chat.ok(
        '/kpi add ctl "Leads\x1b[2J per\x00month\x07" target=10 perspective=finance'
    ) == ("Saved KPI Leads [2J per month (ctl): target=10.")
    await chat.ok("/kpi set ctl 5 after\x07the\x1b[31m fair\x7f")
    assert await chat.ok("/kpi history ctl") == (
        "Leads [2J per month (ctl): 1 value\n"
        "date        value  by     note\n"
        "2026-11-21      5  @anna  after the [31m fair\n"
        "Remove a wrong value: /kpi unset ctl <date>"
    )


async def test_tabs_and_line_breaks_still_split_pasted_lines(chat: FakeChat) -> None:
    await chat.ok('/kpi add leads "Leads" target=10 perspective=finance')
    assert (await chat.ok("/kpi import\nleads\t5\t2026-11-20\r\nleads\t6\t2026-11-21")).startswith(
        "Import preview: 2 values for 1 KPI\n"
    )


async def test_direction_overrides_are_dropped_so_a_name_cannot_turn_a_reply_around(
    chat: FakeChat,
) -> None:
    """A right-to-left override (U+202E) kept in a name reversed the rest of every line that
    showed it: 'Saved KPI Leads\u202e evil (zw).' reads 'Saved KPI Leads .)wz( live'."""
    assert await chat.ok('/kpi add zw "Leads\u202e evil\u2066" target=5 perspective=finance') == (
        "Saved KPI Leads evil (zw): target=5."
    )
    await chat.ok("/kpi set zw 5 \u202dafter\u202c the fair")
    assert "2026-11-21      5  @anna  after the fair" in await chat.ok("/kpi history zw")
