"""Whatever people type, the bot answers with a line and never hits an unexpected error.

20 000 random messages on CI (`FUZZ_MESSAGES` changes the count) over every command path, with
the inputs that once broke a chat: 308-digit numbers, endless windows, year-1 dates,
multipliers and dates in words, 10 000-letter words, over-long messages.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable
from typing import TypeVar

from bot.app import Core
from handlers.contract import Reply
from handlers.parsing import MAX_MESSAGE, MAX_QUOTE
from handlers.pictures.painter import Painter
from tests.support import FakeChat

S = TypeVar("S")


class _Sketch(Painter):
    """Skips drawing after the found cases: the random messages test input, not drawing
    (every picture's spec is still built from the stored data; only the pixels are skipped)."""

    async def paint(self, draw: Callable[[S], bytes], spec: S) -> bytes:
        return b"\x89PNG\r\n\x1a\n"


#: 20 000 on CI (`.ci/run` sets CI=true; about 5 s there), 5 000 in a local `./dev test`.
MESSAGES = int(os.environ.get("FUZZ_MESSAGES", "20000" if os.environ.get("CI") else "5000"))
#: Words of pydantic's own messages: every validation message must be ours.
FOREIGN = re.compile(r"Input should|validation error|Value error|type=|pydantic", re.IGNORECASE)

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
    # what broke a chat before (issue 7 §4)
    "1" + "0" * 308,
    "9" * 400,
    "1e308",
    "-1" + "0" * 20,
    "group=999999999d",
    "repeat=999999999d",
    "group=30s",
    "hysteresis=150%",
    "hysteresis=abc",
    "confirm=0",
    "0001-01-01",
    "1999-12-31",
    "9999-12-31",
    "1,1",
    "млн",
    "1,1млн",
    "тыс",
    "bn",
    "5",
    "ноября",
    "32",
    "nov",
    "tomorrow",
    "завтра",
    "ago",
    "UTC+3",
    "Europe/Moscow",
    "x" * 300,
    "“",
    "'",
    "\\",
    "cancel",
    "kpi,value,date",
    "all",
    "2",
    "#1",
    "2611-1",
    "2611-3",
    "2611-99",
    "history",
    "unlog",
]
#: Whole messages that once answered with a crash, a raw error or a 10 000-character echo.
FOUND = [
    "/kpi set cac 1" + "0" * 308,
    "/kpi import\ncac 1" + "0" * 308,
    "/alerts set group=999999999d",
    "/alerts set repeat=999999999d",
    "/kpi set cac 90 0001-01-01",
    "/kpi cac chart",
    "/kpi set cac 1,1 млн",
    "/kpi set cac 119 5 ноября",
    "/kpi set cac 5 tomorrow",
    "/" + "a" * 10_000,
    "/kpi set cac " + "9" * 400,
    "/kpi set cac 5 " + "x" * MAX_MESSAGE,
    "/alerts set hysteresis=150%",
    "/timezone UTC+3",
    '/kpi import\nkpi,value,date\ncac,"1,000",2026-11-01\nvisits;5;вчера\nnope 1',
]


def _check(text: str, replies: list[Reply]) -> None:
    for reply in replies:
        plain = reply.plain()
        assert "Something went wrong" not in plain, text[:200]
        assert not FOREIGN.search(plain), (text[:200], plain)
        if reply.kind == "error":
            assert "\n" not in reply.text, (text[:200], reply.text)
            longest = max((len(w) for w in re.split(r"[\s'\"=/]+", reply.text)), default=0)
            assert longest <= MAX_QUOTE + 60, (text[:200], reply.text[:200])


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
    for text in FOUND:
        _check(text, await chat.say(text))
    core.ctx.painter = _Sketch()
    for n in range(MESSAGES - len(FOUND)):
        path = rng.choice(paths)
        sep = "\n" if path == "kpi import" and n % 2 else " "
        args = sep.join(rng.choice(WORDS) for _ in range(rng.randint(0, 5)))
        text = f"/{path} {args}"
        _check(text, await chat.say(text))
    for text in ("/kpi", "/scorecard", "/map", "/alerts", "/digest", "/okr progress"):
        _check(text, await chat.say(text))
