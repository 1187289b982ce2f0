"""`/alerts on` (and `enable`, `start`, `stop`…) say which /alerts command does that.

It was refused with the option list only, which does not say that `here` is "on".
"""

from __future__ import annotations

from tests.support import FakeChat


async def test_on_and_off_words_point_to_here_and_off(chat: FakeChat) -> None:
    assert await chat.error("/alerts on") == (
        "Unknown /alerts option 'on'. Did you mean /alerts here (send alerts to this chat)? "
        "Options: here|off|mute|unmute|quiet|log|set, or /help alerts"
    )
    assert await chat.error("/alerts enable") == (
        "Unknown /alerts option 'enable'. Did you mean /alerts here (send alerts to this chat)? "
        "Options: here|off|mute|unmute|quiet|log|set, or /help alerts"
    )
    assert await chat.error("/alerts disable") == (
        "Unknown /alerts option 'disable'. Did you mean /alerts off (stop sending them here)? "
        "Options: here|off|mute|unmute|quiet|log|set, or /help alerts"
    )


async def test_a_typo_of_an_option_is_suggested_and_anything_else_lists_them(
    chat: FakeChat,
) -> None:
    assert await chat.error("/alerts mutee cac 2d") == (
        "Unknown /alerts option 'mutee'. Did you mean /alerts mute? "
        "Options: here|off|mute|unmute|quiet|log|set, or /help alerts"
    )
    assert await chat.error("/alerts banana") == (
        "Unknown /alerts option 'banana'. "
        "Options: here|off|mute|unmute|quiet|log|set, or /help alerts"
    )


async def test_nothing_changes_until_the_real_command(chat: FakeChat) -> None:
    await chat.error("/alerts on")
    assert await chat.ok("/history") == "No changes recorded yet."
    assert await chat.ok("/alerts here") == "Alerts for this scorecard now go to this chat."
