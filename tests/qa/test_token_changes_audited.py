"""Who issued, rotated or revoked the ingest API token is in `/history`, never the token.

Rotating the token stops every tool that posts values, so a team asks "who changed it";
`/history` had no entry for it. An old token can't be brought back, so `/undo` says so.
"""

from __future__ import annotations

from tests.support import FakeChat


async def test_history_names_who_issued_rotated_and_revoked_the_token(chat: FakeChat) -> None:
    first = await chat.ok("/scorecard token")
    second = await chat.ok("/scorecard token", user="ivan")
    await chat.ok("/scorecard token revoke")
    assert await chat.ok("/history") == "\n".join(
        [
            "Changes: 3 changes",
            "2611-3 · 2026-11-21 10:00 · @anna · /scorecard token revoke",
            "  API token: revoked",
            "2611-2 · 2026-11-21 10:00 · @ivan · /scorecard token",
            "  API token: rotated",
            "2611-1 · 2026-11-21 10:00 · @anna · /scorecard token",
            "  API token: issued",
            "Undo your last change: /undo",
        ]
    )
    shown = (first + "\n" + second).split("\n")
    tokens = [line.removeprefix("Token: ") for line in shown if line.startswith("Token: ")]
    history = await chat.ok("/history")
    assert len(tokens) == 2 and not any(token in history for token in tokens)


async def test_a_token_change_cannot_be_undone_and_says_why(chat: FakeChat) -> None:
    await chat.ok("/scorecard token")
    assert await chat.ok("/undo") == (
        "Can't undo your last change, 2611-1 (/scorecard token): an API token can't be "
        "brought back; /scorecard token issues a new one, /scorecard token revoke turns "
        "the API off."
    )
