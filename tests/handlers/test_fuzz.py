"""Whatever people type, the bot answers with a line and never hits an unexpected error."""

from __future__ import annotations

import random

from bot.app import Core
from tests.support import FakeChat

WORDS = [
    "cac",
    "visits",
    "nope",
    "лиды",
    "articles",
    "nps",
    "o",
    "finance",
    "0",
    "-1",
    "1e9",
    "12,5",
    "10k",
    "nan",
    "inf",
    "35%",
    "2026-11-01",
    "2026-02-30",
    "today",
    "+1",
    "confirm",
    "explain",
    '"quoted name"',
    "'x",
    "target=5",
    "baseline=5",
    "min=1",
    "max=1",
    "tol=-1",
    "weight=-2",
    "weight=abc",
    "direction=range",
    "direction=sideways",
    "every=week",
    "warn=3",
    "crit=9",
    "test=maybe",
    "owner=",
    "owner=@ivan",
    "objective=o",
    "perspective=customers",
    "cycle=2026Q9",
    "cycle=2026Q4",
    "cadence=4/month",
    "cadence=x/y",
    "due=2026-13-01",
    "done=yes",
    "confidence=11",
    "position=0",
    "start=1",
    "green=90",
    "yellow=95",
    "aggregate=median",
    "<b>&amp;",
    "😀",
    "a" * 60,
]


async def test_random_commands_never_cause_an_unexpected_error(chat: FakeChat, core: Core) -> None:
    await chat.ok('/objective add o "O" perspective=finance')
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 objective=o')
    await chat.ok('/kpi add visits "Visits" target=100 perspective=customers')
    await chat.ok("/kpi set cac 100")
    await chat.ok('/okr add d "Delight"')
    await chat.ok('/okr kr d nps "NPS" start=30 target=50')
    await chat.ok('/initiative add articles "Articles" cadence=4/month')
    rng = random.Random(20261123)
    paths = [spec.path for spec in core.router.specs()]
    for _ in range(1500):
        path = rng.choice(paths)
        args = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 5)))
        for reply in await chat.say(f"/{path} {args}"):
            assert "Something went wrong" not in reply.text, f"/{path} {args}"
