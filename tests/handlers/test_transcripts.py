"""Whole replies people read, exactly as sent (zulip_bots' `verify_dialog` style): a change
to any word of them is a deliberate change of this file."""

from __future__ import annotations

import inspect

from tests.support import FakeChat


def _dialog(text: str) -> str:
    return inspect.cleandoc(text)


async def test_help_for_one_command_family_is_exactly_its_usage_doc_and_examples(
    chat: FakeChat,
) -> None:
    assert await chat.ok("/help digest") == _dialog(
        """
        /digest
        /digest
          The weekly review now: index and its change, movers, red KPIs, OKR pace, due work.
          e.g. /digest

        /digest every <mon|mon,thu|mon-fri|day> <HH:MM>
          Schedule the review for the chat, e.g. every Monday 09:00 before the meeting.
          e.g. /digest every mon 09:00

        /digest off
          Stop the scheduled digest (`/digest` still works on demand).
          e.g. /digest off
        """
    )


async def test_one_kpi_card_shows_its_definition_status_and_history(chat: FakeChat) -> None:
    await chat.ok(
        '/kpi add cac "Customer acquisition cost" baseline=120 target=80 unit=$ '
        "perspective=finance"
    )
    await chat.ok("/kpi set cac 100 2026-11-20")
    await chat.ok("/kpi set cac 95")
    assert await chat.ok("/kpi cac") == _dialog(
        """
        🟡 Customer acquisition cost (cac)
        Value: 95 $
        Target: 80 $
        Baseline: 120 $
        Progress: 62%
        Performance: 62%
        Status: 🟡 yellow
        Direction: lower is better
        Objective: Finance: general
        Owner: —
        Updated: every month, last today
        Weight: 1
        date        value  by     note
        2026-11-21   95 $  @anna
        2026-11-20  100 $  @anna
        """
    )
