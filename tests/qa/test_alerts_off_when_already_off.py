"""`/alerts off` where alerts already go nowhere says so and records nothing.

It answered as if it had turned them off and left "alert settings: channels — → —" in
/history, a change that changed nothing.
"""

from __future__ import annotations

from tests.support import FakeChat


async def test_off_twice_changes_once(chat: FakeChat) -> None:
    assert await chat.ok("/alerts off") == (
        "Alerts already go nowhere from this chat; /alerts here turns them on."
    )
    assert await chat.ok("/history") == "No changes recorded yet."
    await chat.ok("/alerts here")
    assert await chat.ok("/alerts off") == (
        "Alerts are off for this chat. They are still evaluated and logged "
        "(/alerts log); /alerts here turns them back on."
    )
    assert await chat.ok("/alerts off") == (
        "Alerts already go nowhere from this chat; /alerts here turns them on."
    )
    history = (await chat.ok("/history")).split("\n")
    assert history[0] == "Changes: 2 changes"
    assert history[2] == "  alert settings: channels team → —"
