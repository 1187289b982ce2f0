"""Handler-level benchmarks on a store with 50 KPIs and 100 000 measurements.

- durable `/kpi set` through the real router (parse, validate, record, alert hook, fsync)
- `/kpi` and `/scorecard` latency p50/p99 in-process (no platform I/O)
- resident memory of the process holding that store
- `scorecard-bot console` start to first reply (demo store and the 100k store)
"""

from __future__ import annotations

import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench.timing import first_line_after_start, percentile, timed
from bot.app import Core, build_core
from handlers.contract import Actor, ChatRef, Command
from scoring.models import Kpi, Measurement, Objective

KPIS = 50
MEASUREMENTS = 100_000
CHAT = ChatRef(platform="console", chat_id="local")
ACTOR = Actor(platform="console", user_id="bench", display_name="Bench", handle="@bench")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]


def build_big_store(
    path: Path,
    kpis: int = KPIS,
    per_kpi: int = MEASUREMENTS // KPIS,
    chats: tuple[ChatRef, ...] = (CHAT,),
) -> float:
    """Create `kpis` KPIs with `per_kpi` daily values each (50 × 2 000) in every chat of
    `chats`; returns seconds."""
    started = time.perf_counter()
    core = build_core(path, clock=lambda: NOW)
    for ref in chats:
        _fill_chat(core, ref.key, kpis, per_kpi)
    core.close()
    return time.perf_counter() - started


def _fill_chat(core: Core, chat: str, kpis: int, per_kpi: int) -> None:
    store = core.store
    rng = random.Random(7)
    perspectives = [p.key for p in store.scorecards.perspectives(chat)]
    first = NOW.date() - timedelta(days=per_kpi)
    for i in range(kpis):
        objective = f"obj{i % 10}"
        if store.scorecards.objective(chat, objective) is None:
            store.scorecards.put_objective(
                chat,
                Objective(
                    key=objective, name=f"Objective {i % 10}", perspective=perspectives[i % 4]
                ),
            )
        store.kpis.put(
            chat,
            Kpi(
                key=f"k{i}",
                name=f"KPI {i}",
                objective=objective,
                baseline=0,
                target=1000,
                unit="u",
            ),
        )
        values = [
            Measurement(
                kpi=f"k{i}",
                value=round(rng.uniform(0, 1200), 1),
                day=first + timedelta(days=d),
                at=NOW,
                by="@bench",
            )
            for d in range(per_kpi)
        ]
        store.kpis.record_many(chat, f"k{i}", values)


def _cmd(text: str) -> Command:
    name, _, rest = text.lstrip("/").partition(" ")
    return Command(name=name, text=rest, actor=ACTOR, chat=CHAT, received_at=NOW)


async def _timed(core: Core, texts: list[str]) -> list[float]:
    return await timed(core, texts, _cmd)


def rss_mb() -> float:
    """Resident memory of this process in MB (VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _measure(path: Path, writes: int) -> dict[str, float]:
    started = time.perf_counter()
    core = build_core(path, clock=lambda: NOW)
    open_s = time.perf_counter() - started
    rss = rss_mb()
    day = date(2026, 11, 23)
    sets = [f"/kpi set k{i % KPIS} {500 + i % 300} {day.isoformat()}" for i in range(writes)]
    started = time.perf_counter()
    set_ms = await _timed(core, sets)
    set_total = time.perf_counter() - started
    kpi_ms = await _timed(core, ["/kpi"] * 200)
    card_ms = await _timed(core, ["/scorecard"] * 200)
    core.close()
    return {
        "open_s": open_s,
        "rss_mb": rss,
        "set_ops": writes / set_total,
        "set_p50": statistics.median(set_ms),
        "set_p99": percentile(set_ms, 0.99),
        "kpi_p50": statistics.median(kpi_ms),
        "kpi_p99": percentile(kpi_ms, 0.99),
        "card_p50": statistics.median(card_ms),
        "card_p99": percentile(card_ms, 0.99),
    }


def console_first_reply(data: Path, *extra: str) -> float:
    """Seconds from starting `scorecard-bot console` to its first printed reply."""
    console = [sys.executable, "-m", "bot", "console", "--data", str(data), *extra]
    return first_line_after_start(console, "/kpi\n", ROOT)


def run(writes: int = 300) -> list[dict[str, str]]:
    """Build the big store, measure, and return table rows."""
    with tempfile.TemporaryDirectory(prefix="scorecard-bench-") as tmp:
        big = Path(tmp) / "big"
        build_s = build_big_store(big)
        m = asyncio.run(_measure(big, writes))
        demo = Path(tmp) / "demo"
        subprocess.run(
            [sys.executable, "-m", "bot", "console", "--data", str(demo), "--demo"],
            input="",
            text=True,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        first_demo = console_first_reply(demo)
        first_big = console_first_reply(big)
    return [
        {
            "benchmark": "build 50 KPIs × 2000 values (bulk import)",
            "result": f"{build_s:.1f} s",
            "goal": "—",
        },
        {
            "benchmark": "open store (100k values)",
            "result": f"{m['open_s'] * 1000:.0f} ms",
            "goal": "—",
        },
        {
            "benchmark": "durable /kpi set via router (fsync each)",
            "result": f"{m['set_ops']:.0f} ops/s, p50 {m['set_p50']:.2f} ms, "
            f"p99 {m['set_p99']:.2f} ms",
            "goal": "see storage table",
        },
        {
            "benchmark": "/kpi latency (50 KPIs)",
            "result": f"p50 {m['kpi_p50']:.2f} ms, p99 {m['kpi_p99']:.2f} ms",
            "goal": "p99 ≤ 5 ms",
        },
        {
            "benchmark": "/scorecard latency",
            "result": f"p50 {m['card_p50']:.2f} ms, p99 {m['card_p99']:.2f} ms",
            "goal": "p99 ≤ 5 ms",
        },
        {
            "benchmark": "RSS holding the 100k store",
            "result": f"{m['rss_mb']:.0f} MB",
            "goal": "≤ 150 MB",
        },
        {
            "benchmark": "console start → first reply (demo)",
            "result": f"{first_demo:.2f} s",
            "goal": "≤ 1.5 s",
        },
        {
            "benchmark": "console start → first reply (100k store)",
            "result": f"{first_big:.2f} s",
            "goal": "≤ 1.5 s",
        },
    ]


if __name__ == "__main__":
    from bot.runtime import tune_interpreter

    tune_interpreter()  # measured as the bot runs (bot/cli.py sets it at start)
    from bench.table import print_table

    print_table("Handlers", run())
