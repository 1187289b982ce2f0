"""Input benchmarks: the tokenizer against a shell-style splitter, and a 300 000-row import.

- `tokenize` on one long word: ours (one linear pass) and, side by side, `shlex.split`, the
  splitter it replaced, which grows a token a character at a time (quadratic)
- `/kpi import` of 300 000 rows (an attached CSV of 100 KPIs × 3 000 days): preview, then
  Apply, through the real router on an in-memory store, while another chat sends `/kpi`
  every 20 ms: how long its answers wait, and the longest event-loop step (the import
  reads and builds in slices and writes in its last one)
"""

from __future__ import annotations

import asyncio
import shlex
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

from bench.slices import SliceTracer, Slow
from bot.app import build_core
from handlers.contract import Actor, Attachment, ChatRef, Command
from handlers.parsing import tokenize

ROWS = 300_000
KPIS = 100
CHAT = ChatRef(platform="console", chat_id="local")
OTHER = ChatRef(platform="console", chat_id="other")
ACTOR = Actor(platform="console", user_id="bench", display_name="Bench", handle="@bench")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _tokenizer_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for size in (100_000, 200_000, 1_000_000):
        text = "set cac " + "x" * size
        started = time.perf_counter()
        tokenize(text)
        ours = time.perf_counter() - started
        baseline = "skipped (minutes)"
        if size <= 200_000:
            started = time.perf_counter()
            shlex.split(text)
            baseline = f"{(time.perf_counter() - started) * 1000:.0f}"
        rows.append(
            {
                "case": f"tokenize one {size:,}-character word".replace(",", " "),
                "ours (ms)": f"{ours * 1000:.1f}",
                "baseline: shlex.split (ms)": baseline,
            }
        )
    return rows


def _csv() -> bytes:
    first = date(2026, 11, 23) - timedelta(days=ROWS // KPIS)
    lines = ["kpi,value,date"]
    for n in range(ROWS):
        day = first + timedelta(days=n // KPIS)
        lines.append(f'k{n % KPIS},"{1000 + n % 977:,}",{day.isoformat()}')
    return "\n".join(lines).encode()


async def _import_rows() -> list[dict[str, object]]:
    core = build_core(None, clock=lambda: NOW)
    try:

        async def say(
            text: str, attachment: Attachment | None = None, chat: ChatRef = CHAT
        ) -> str:
            name, _, rest = text.lstrip("/").partition(" ")
            cmd = Command(
                name=name,
                text=rest,
                actor=ACTOR,
                chat=chat,
                received_at=NOW,
                attachment=attachment,
            )
            replies = await core.dispatch(cmd)
            return replies[0].plain()

        for i in range(KPIS):
            await say(f'/kpi add k{i} "KPI {i}" target=2000 perspective=finance')
        await say('/kpi add leads "Leads" target=100 perspective=customers', chat=OTHER)
        data = Attachment(filename="values.csv", data=_csv())
        preview, previewed, waits_preview, steps_preview = await _meanwhile(
            say("/kpi import", data), say
        )
        apply = preview.rsplit("[Apply import: ", 1)[1].split("]", 1)[0]
        done, applied, waits_apply, steps_apply = await _meanwhile(say(apply), say)
    finally:
        core.close()
    return [
        {
            "case": f"/kpi import {ROWS // 1000} 000 rows (CSV, quoted numbers)",
            "ours (ms)": f"preview {previewed * 1000:.0f}, apply {applied * 1000:.0f}",
            "baseline: shlex.split (ms)": f"— ({done.split(':', 1)[0]})",
        },
        {
            "case": "… meanwhile another chat's /kpi every 20 ms: p50 / max ms late",
            "ours (ms)": f"preview {_p50_max(waits_preview)}, apply {_p50_max(waits_apply)}",
            "baseline: shlex.split (ms)": "—",
        },
        {
            "case": "… longest event-loop step: wall / CPU ms",
            "ours (ms)": f"preview {_longest(steps_preview)}, apply {_longest(steps_apply)}",
            "baseline: shlex.split (ms)": "—",
        },
    ]


Say = Callable[..., Awaitable[str]]


async def _meanwhile(big: Awaitable[str], say: Say) -> tuple[str, float, list[float], list[Slow]]:
    """Run `big` while another chat sends `/kpi` 20 ms after its last answer: the answer,
    seconds taken, how late each `/kpi` answered (ms after it was due) and the loop steps
    over 20 ms."""
    waits: list[float] = []
    running = True
    loop = asyncio.get_running_loop()

    async def other_chat() -> None:
        while running:
            due = loop.time() + 0.02
            await asyncio.sleep(0.02)
            await say("/kpi", chat=OTHER)
            waits.append((loop.time() - due) * 1000)  # the loop held it up this long

    with SliceTracer(limit_ms=20) as tracer:
        pinger = asyncio.ensure_future(other_chat())
        started = time.perf_counter()
        answer = await big
        took = time.perf_counter() - started
        running = False
        await pinger
    return answer, took, waits, tracer.slow


def _p50_max(ms: list[float]) -> str:
    ordered = sorted(ms) or [0.0]
    return f"{ordered[len(ordered) // 2]:.0f} / {ordered[-1]:.0f} ({len(ms)} answers)"


def _longest(steps: list[Slow]) -> str:
    worst = max(steps, key=lambda s: s.wall_ms, default=None)
    return "none over 20" if worst is None else f"{worst.wall_ms:.0f} / {worst.cpu_ms:.0f}"


def run() -> list[dict[str, object]]:
    """Rows for the input table."""
    return _tokenizer_rows() + asyncio.run(_import_rows())
