"""Input benchmarks: the tokenizer against a shell-style splitter, and a 300 000-row import.

- `tokenize` on one long word: ours (one linear pass) and, side by side, `shlex.split`, the
  splitter it replaced, which grows a token a character at a time (quadratic)
- `/kpi import` of 300 000 rows (an attached CSV of 100 KPIs × 3 000 days): preview, then
  Apply, through the real router on an in-memory store
"""

from __future__ import annotations

import asyncio
import shlex
import time
from datetime import UTC, date, datetime, timedelta

from bot.app import build_core
from handlers.contract import Actor, Attachment, ChatRef, Command
from handlers.parsing import tokenize

ROWS = 300_000
KPIS = 100
CHAT = ChatRef(platform="console", chat_id="local")
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

        async def say(text: str, attachment: Attachment | None = None) -> str:
            name, _, rest = text.lstrip("/").partition(" ")
            cmd = Command(
                name=name,
                text=rest,
                actor=ACTOR,
                chat=CHAT,
                received_at=NOW,
                attachment=attachment,
            )
            replies = await core.dispatch(cmd)
            return replies[0].plain()

        for i in range(KPIS):
            await say(f'/kpi add k{i} "KPI {i}" target=2000 perspective=finance')
        data = Attachment(filename="values.csv", data=_csv())
        started = time.perf_counter()
        preview = await say("/kpi import", data)
        previewed = time.perf_counter() - started
        apply = preview.rsplit("[Apply import: ", 1)[1].split("]", 1)[0]
        started = time.perf_counter()
        done = await say(apply)
        applied = time.perf_counter() - started
    finally:
        core.close()
    return [
        {
            "case": f"/kpi import {ROWS // 1000} 000 rows (CSV, quoted numbers)",
            "ours (ms)": f"preview {previewed * 1000:.0f}, apply {applied * 1000:.0f}",
            "baseline: shlex.split (ms)": f"— ({done.split(':', 1)[0]})",
        }
    ]


def run() -> list[dict[str, object]]:
    """Rows for the input table."""
    return _tokenizer_rows() + asyncio.run(_import_rows())
