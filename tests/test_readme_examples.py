"""Every chat example in the README runs, and its scripted console session works on a fresh
clone (issue 7 §5).

Each `/command …` the README shows (inline or in a ```text block) is sent in order to a
chat holding the demo scorecard: none may be an unknown command, an unknown field or an
internal error, and none may be refused unless `REFUSED_ON_THE_DEMO` says why (the prose
shows a refusal, or names an example before the block that sets it up). A command named
alone (`/kpi set`) is a name in prose, not an example. Usage patterns (`<key>`, `a|b`, `…`)
are syntax, not examples, and are skipped. The `printf … | scorecard-bot console` line is
run as the README gives it.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from bot.app import Core
from bot.demo import load_demo
from tests.support import FakeChat

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
_INLINE = re.compile(r"`(/[a-z][^`\n]*)`")
_BLOCK = re.compile(r"```text\n(.*?)```", re.S)
_SYNTAX = re.compile(r"[<>|…\[\]]")
#: Commands the README tells people to send to other bots (@BotFather, Slack itself).
OTHER_BOTS = ("/newbot", "/setprivacy", "/invite", "/quit", "/exit", "/end", "/slack/events")
#: Spelled for one platform: Slack apps can't own /help, so its adapter reads this as /help.
PLATFORM_FORMS = {"/scorecard help": "/help"}
BROKEN = ("Something went wrong", "Unknown command", "Unknown field", "Unknown /")
#: Examples refused when run in reading order on the demo, and why that is right.
REFUSED_ON_THE_DEMO = {
    "/kpi import values.csv": "names a file the reader would have; the test has none",
    "/kpi remove cac confirm": "prose: confirms a removal the chat has not asked for",
    "/kpi unset cac 2026-11-20": "prose after the block whose /undo awaits its button",
    '/kpi add cac "CAC" formula="spend / newc" baseline=150 target=50 unit=$ '
    "perspective=finance": "prose: the demo already has cac",
    '/kpi add leads "Leads" target=300 agg=sum perspective=customers': "the demo has leads",
    "/funnel mkt": "prose before the block that adds mkt",
    "/okr checkin knps confidence=7": "prose before the block that adds knps",
    '/okr add delight "Delight our customers" align=retain': "prose, then the block adds it",
    "/scorecard import path/to/file.json": "the README shows a path that names no file",
    "/source run leads-sheet": "its /source add is a pattern (…), not run",
    "/source remove leads-sheet": "its /source add is a pattern (…), not run",
    '/kpi add leads "Leads" x target=100': "prose: a stray word after a quoted name is refused",
    "/kpi add y name=2026 %": "prose: words beside name= are refused",
    "/okr checkin nps 40 yesterday": "prose: a date after a check-in is refused",
    "/digest every mon 09:00 CET": "prose: a zone after the time is refused",
    "/kpi set cac=95 leads=300": "prose: a second KPI's key=value is refused",
    "/kpi set traffic +500": "prose: a value typed as an addition is refused",
    "/okr checkin nps +5": "prose: a check-in typed as an addition is refused",
}


def chat_examples() -> list[str]:
    """The README's chat commands in reading order, usage patterns left out."""
    found: list[tuple[int, str]] = [(m.start(), m.group(1)) for m in _INLINE.finditer(README)]
    for block in _BLOCK.finditer(README):
        offset = block.start(1)
        for line in block.group(1).splitlines():
            if line.startswith("/"):
                found.append((offset, line.strip()))
            offset += len(line) + 1
    examples = [text for _, text in sorted(found) if not _SYNTAX.search(text)]
    return [e for e in examples if e.split()[0] not in OTHER_BOTS]


def test_the_readme_has_chat_examples_to_run() -> None:
    examples = chat_examples()
    assert len(examples) > 40
    assert "/kpi set cac 95" in examples and "/scorecard apply startup" in examples


async def test_every_readme_chat_example_runs_in_a_demo_chat(core: Core) -> None:
    chat = FakeChat(core)
    assert load_demo(core.store, chat.chat.key, core.ctx.clock())
    names = {"/" + spec.path for spec in core.router.specs()}
    refused: set[str] = set()
    for text in chat_examples():
        for reply in await chat.say(PLATFORM_FORMS.get(text, text)):
            plain = reply.plain()
            assert not any(word in plain for word in BROKEN), (text, plain)
            if reply.kind == "error" and text not in names:
                refused.add(text)
    assert refused == set(REFUSED_ON_THE_DEMO)


def test_the_scripted_console_example_works_on_a_fresh_clone(tmp_path: Path) -> None:
    line = next(x for x in README.splitlines() if x.startswith("printf "))
    script, _, command = line.partition(" | ")
    args = shlex.split(command)
    assert args[0] == ".venv/bin/scorecard-bot"
    stdin = subprocess.run(
        ["bash", "-c", script], capture_output=True, check=True, cwd=tmp_path
    ).stdout
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args[1:]],
        input=stdin,
        capture_output=True,
        cwd=tmp_path,  # a fresh directory: no store yet
        timeout=120,
        check=False,
    )
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert "⚠" not in out, out
    assert "Saved Customer acquisition cost = 97 $" in out


async def test_the_readmes_typo_example_is_caught_on_the_demo(core: Core) -> None:
    """The README's "a typo such as `X` for `Y`" asks first on the demo's cac; `Y` is saved."""
    match = re.search(r"a typo such as `(\d+)` for `(\d+)`", README)
    assert match is not None, "README lost its typo example"
    typo, meant = match.groups()
    chat = FakeChat(core)
    assert load_demo(core.store, chat.chat.key, core.ctx.clock())
    asked = await chat.ok(f"/kpi set cac {typo}")
    assert "Record it anyway? Nothing is saved until you confirm." in asked, asked
    assert f"Saved Customer acquisition cost = {meant} $" in await chat.ok(f"/kpi set cac {meant}")
