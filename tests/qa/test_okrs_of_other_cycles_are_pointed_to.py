"""OKRs of another cycle than the one `/okr` looks at are pointed to, never hidden (probe14).

A team adding its yearly OKR (`cycle=2026`) was told "Saved OKR Year (y) in 2026", checked
in 80 % on it, and then `/okr` answered "No OKRs in 2026Q4. Add one: …" and `/okr
progress` "No OKRs in 2026Q4.": the OKR looked lost. `/okr` looks at one cycle (the
quarter unless `/okr cycle` says otherwise); the others are now named with how to see them.
"""

from __future__ import annotations

from tests.support import FakeChat

ELSEWHERE = "In other cycles: 2026 (1 OKR), 2027Q1 (1 OKR); see one with /okr cycle 2026."


async def _two_elsewhere(chat: FakeChat) -> None:
    assert await chat.ok('/okr add y "Year" cycle=2026') == (
        "Saved OKR Year (y) in 2026; /okr shows 2026Q4: /okr cycle 2026 shows this one. "
        'Add key results: /okr kr <okr-key> <kr-key> "<name>" start=<n> target=<n> '
        "[unit=<u>] [weight=<n>] [owner=@user] [kpi=<kpi-key>]"
    )
    await chat.ok('/okr add next "Next quarter" cycle=2027Q1')
    await chat.ok('/okr add past "Last quarter" cycle=2026Q3')  # over: not named


async def test_okr_names_the_other_cycles(chat: FakeChat) -> None:
    await _two_elsewhere(chat)
    assert await chat.ok("/okr") == (
        'No OKRs in 2026Q4. Add one: /okr add nps "Delight customers" cycle=2026Q4\n' + ELSEWHERE
    )
    assert await chat.ok("/okr progress") == f"No OKRs in 2026Q4.\n{ELSEWHERE}"
    await chat.ok('/okr add q "This quarter"')
    assert (await chat.ok("/okr")).endswith(
        "Objective progress = weighted mean of its KRs' progress, each capped at 100%.\n"
        + ELSEWHERE
    )
    assert ELSEWHERE in await chat.ok("/okr progress")


async def test_an_okr_added_to_the_cycle_shown_says_nothing_more(chat: FakeChat) -> None:
    assert (await chat.ok('/okr add q "This quarter" cycle=2026Q4')).startswith(
        "Saved OKR This quarter (q) in 2026Q4. Add key results:"
    )
    assert "other cycles" not in await chat.ok("/okr")
