"""One conversation, three platforms, the same facts.

The same script runs through the console adapter, the real PTB Application (fake Bot
API) and the real Bolt app (signed HTTP, fake Web API), each with its own fresh store
and the same fixed clock. Each platform's rendered text (HTML, Block Kit, terminal) is
turned back into plain text and boiled down to its numbers, percentages and statuses;
those must agree at every step, as must the buttons offered and whether a picture came.
"""

from __future__ import annotations

from tests.integration.harness import (
    Chat,
    Said,
    console_chat,
    facts,
    slack_chat,
    telegram_chat,
)
from tests.support import FixedClock

CONVERSATION = (
    '/objective add growth "Grow revenue" perspective=finance',
    '/kpi add revenue "Monthly revenue" baseline=100 target=200 unit=k objective=growth',
    '/kpi add cac "Customer acquisition cost" baseline=120 target=80 unit=$ direction=down '
    "perspective=finance",
    '/kpi add trial "Trial signups" target=50 perspective=customers test=yes',
    "/kpi set revenue 150 2026-10-31 autumn campaign",
    "/kpi set revenue 170",
    "/kpi set cac 95",
    "/kpi set trial 20",
    "/kpi",
    "/kpi revenue explain",
    "/kpi cac explain",
    "/kpi cac",
    "/kpi revenue chart",
    "/scorecard",
    '/okr add delight "Delight our customers" cycle=2026Q4',
    '/okr kr delight nps "Raise NPS" start=30 target=50',
    "/okr checkin nps 38 confidence=7 after the survey",
    "/okr",
    "/okr progress",
    '/initiative add articles "Publish articles" objective=growth cadence=4/month',
    "/log articles +2 two spring posts",
    "#articles +1 one more",
    "/initiatives",
    "/kpi remove trial",
    "/map",
    "/map text",
    "/digest",
    "/alerts log",
)


def summary(said: Said) -> tuple[list[str], list[tuple[str, str]], int]:
    """What must agree across platforms: facts in order, buttons, number of pictures."""
    return facts(said.plain), said.buttons, len(said.images)


async def run(chat: Chat) -> list[Said]:
    return [(await chat.say(text)).ok() for text in CONVERSATION]


async def test_console_telegram_and_slack_show_the_same_facts(clock: FixedClock) -> None:
    async with console_chat(clock) as console:
        on_console = await run(console)
    async with telegram_chat(clock) as telegram:
        on_telegram = await run(telegram)
    async with slack_chat(clock) as slack:
        on_slack = await run(slack)

    for text, here, tg, sl in zip(CONVERSATION, on_console, on_telegram, on_slack, strict=True):
        assert summary(tg) == summary(here), f"Telegram differs from the console at {text!r}"
        assert summary(sl) == summary(here), f"Slack differs from the console at {text!r}"


async def test_the_compared_facts_carry_the_numbers_and_statuses_that_matter(
    clock: FixedClock,
) -> None:
    async with console_chat(clock) as console:
        said = dict(zip(CONVERSATION, await run(console), strict=True))

    # Lower is better: 95 $ on the way from 120 to 80 is 62.5% (yellow).
    assert facts(said["/kpi set cac 95"].plain) == ["95", "🟡", "yellow", "62%"]
    assert facts(said["/kpi set revenue 150 2026-10-31 autumn campaign"].plain) == [
        "150",
        "2026-10-31",
        "🟡",
        "yellow",
        "50%",
    ]
    assert facts(said["/kpi"].plain) == [
        *("66%", "🟡", "170", "200", "70%"),
        *("🟡", "95", "80", "62%"),
        *("🧪", "20", "50", "40%", "1", "test mode"),
    ]
    assert facts(said["/kpi set trial 20"].plain) == ["20", "test mode"]
    assert facts(said["/okr progress"].plain)[-1] == "at risk"
    assert facts(said["/initiatives"].plain) == ["3", "4", "10"]
    assert "21 Nov" in said["/alerts log"].plain and "10:00" in facts(said["/alerts log"].plain)
