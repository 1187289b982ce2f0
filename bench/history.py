"""What the audit log costs, and how fast its readers answer.

- durable `/kpi set` through the router with every change audited, beside the same
  commands on a second store with the audit switched off (the baseline), interleaved one
  by one so the machine's load hits both alike; a month of changes: 50 KPIs × 30 days =
  1,500 entries in one chat-month; p50/p99 of the last 300 writes
- `/history` (a page of 10), `/history <key>` (its page), `/kpi history <key>` (a page
  of 20 of 2,000 values) and `/undo` (the confirmation) at that size
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.timing import percentile, timed
from bot.app import Core, build_core
from handlers.contract import Actor, ChatRef, Command
from scoring.models import Kpi, Measurement, Objective
from storage import Store

KPIS = 50
DAYS = 30
CHAT = ChatRef(platform="telegram", chat_id="-100")  # chat platforms get pages
ACTOR = Actor(platform="telegram", user_id="1", display_name="Bench", handle="@bench")
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _cmd(text: str) -> Command:
    name, _, rest = text.lstrip("/").partition(" ")
    return Command(name=name, text=rest, actor=ACTOR, chat=CHAT, received_at=NOW)


async def _timed(core: Core, texts: list[str]) -> list[float]:
    return await timed(core, texts, _cmd)


def _seed(core: Core) -> None:
    """50 KPIs; k0 with 2,000 older values (imported: no audit entries)."""
    store, chat = core.store, CHAT.key
    with store.atomic():
        store.scorecards.put_objective(chat, Objective(key="o", name="O", perspective="finance"))
        for i in range(KPIS):
            store.kpis.put(chat, Kpi(key=f"k{i}", name=f"KPI {i}", objective="o", target=1000))
        first = date(2020, 1, 1)
        store.kpis.record_many(
            chat,
            "k0",
            [
                Measurement(kpi="k0", value=500, day=first + timedelta(days=d), at=NOW)
                for d in range(2000)
            ],
        )


@contextlib.contextmanager
def _no_audit() -> Iterator[None]:
    """The baseline: the same router and store with the audit step doing nothing."""

    @contextlib.contextmanager
    def skip(self: Store, chat: str, **_: Any) -> Iterator[None]:
        del self, chat
        yield

    original = Store.audited
    Store.audited = skip  # type: ignore[method-assign]
    try:
        yield
    finally:
        Store.audited = original  # type: ignore[method-assign]


async def _open(path: Path) -> Core:
    core = build_core(path, clock=lambda: NOW)
    _seed(core)
    await core.store.commit()
    return core


async def _measure(root: Path) -> dict[str, float]:
    bare, core = await _open(root / "bare"), await _open(root / "audited")
    sets = [
        f"/kpi set k{i % KPIS} {500 + i % 7} 2026-11-{1 + i // KPIS:02d}"
        for i in range(KPIS * DAYS)
    ]
    # interleaved, so the machine's load falls on both sides alike
    bare_ms: list[float] = []
    audited_ms: list[float] = []
    for text in sets:
        with _no_audit():
            bare_ms += await _timed(bare, [text])
        audited_ms += await _timed(core, [text])
    bare.close()
    reads = {
        "history": await _timed(core, ["/history"] * 100),
        "history_key": await _timed(core, ["/history k7"] * 100),
        "kpi_history": await _timed(core, ["/kpi history k0"] * 100),
        "undo": await _timed(core, ["/undo"] * 100),
    }
    entries = core.store.audit.count(CHAT.key)
    core.close()
    last = slice(-300, None)
    out = {
        "entries": float(entries),
        "bare_p50": statistics.median(bare_ms[last]),
        "bare_p99": percentile(bare_ms[last], 0.99),
        "audited_p50": statistics.median(audited_ms[last]),
        "audited_p99": percentile(audited_ms[last], 0.99),
    }
    for name, samples in reads.items():
        out[f"{name}_p50"] = statistics.median(samples)
        out[f"{name}_p99"] = percentile(samples, 0.99)
    return out


def run() -> list[dict[str, str]]:
    """Measure and return table rows."""
    with tempfile.TemporaryDirectory(prefix="scorecard-bench-history-") as tmp:
        m = asyncio.run(_measure(Path(tmp)))

    def lat(name: str) -> str:
        return f"p50 {m[name + '_p50']:.2f} ms, p99 {m[name + '_p99']:.2f} ms"

    return [
        {
            "benchmark": f"durable /kpi set, audited ({m['entries']:.0f} entries this month)",
            "result": lat("audited"),
            "baseline": f"audit off: {lat('bare')}",
        },
        {"benchmark": "/history (page of 10)", "result": lat("history"), "baseline": "—"},
        {"benchmark": "/history k7 (its page)", "result": lat("history_key"), "baseline": "—"},
        {
            "benchmark": "/kpi history k0 (20 of 2,000 values)",
            "result": lat("kpi_history"),
            "baseline": "—",
        },
        {"benchmark": "/undo (find your last change)", "result": lat("undo"), "baseline": "—"},
    ]
