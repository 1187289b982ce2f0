"""Data in and out: the ingest API on a store with 1M values; export and re-import of 100k.

- `POST /api/v1/scorecards/{id}/measurements` over loopback HTTP (aiohttp client and
  server in one process), batches of 1 and 100 items, each request one durable commit;
  the baseline is the same values typed as `/kpi set` through the router (no HTTP).
- `/scorecard export` of a 100 000-value scorecard as JSON and CSV, then the JSON file
  read, checked against an empty chat and applied in one atomic step and one commit.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from bench.handlers import ACTOR, CHAT, NOW, _cmd, build_big_store
from bench.timing import percentile
from bot.api import IngestApi
from bot.app import build_core
from handlers import exchange

BIG_KPIS = 200
BIG_DAYS = 5000  # 200 × 5 000 = 1 000 000 values
EXPORT_KPIS = 50
EXPORT_DAYS = 2000  # 50 × 2 000 = 100 000 values


def _items(r: int, batch: int, backfill: bool) -> list[dict[str, object]]:
    """Request `r`'s items: `batch` KPIs today-ish (a CRM), or one KPI's last `batch` days."""
    if backfill:
        kpi = f"k{r % BIG_KPIS}"
        return [
            {"kpi": kpi, "value": 500 + n, "date": (NOW.date() - timedelta(days=n)).isoformat()}
            for n in range(batch)
        ]
    return [
        {
            "kpi": f"k{(r * batch + n) % BIG_KPIS}",
            "value": 500 + n,
            "date": (NOW.date() - timedelta(days=(r * batch + n) // BIG_KPIS % 9)).isoformat(),
        }
        for n in range(batch)
    ]


async def _ingest(
    path: Path, batch: int, requests: int, *, backfill: bool = False
) -> dict[str, object]:
    core = build_core(path, clock=lambda: NOW)
    with core.store.atomic():
        scorecard, token = core.store.ingest.issue(CHAT.key, NOW)
    await core.store.commit()
    api = IngestApi(core.ctx, max_body=4 * 1024 * 1024)
    await api.serve("127.0.0.1", 0)
    url = f"http://127.0.0.1:{api.port}/api/v1/scorecards/{scorecard}/measurements"
    headers = {"Authorization": f"Bearer {token}"}
    samples: list[float] = []
    try:
        async with aiohttp.ClientSession() as session:
            started = time.perf_counter()
            for r in range(requests):
                items = _items(r, batch, backfill)
                sent = time.perf_counter()
                async with session.post(url, json=items, headers=headers) as response:
                    body = await response.json()
                samples.append((time.perf_counter() - sent) * 1000)
                assert response.status == 200 and body["stored"] == batch, body
            elapsed = time.perf_counter() - started
    finally:
        await api.stop()
        core.close()
    return {
        "what": f"ingest API, {batch} item(s) per request"
        + (" (1 KPI × 100 days)" if backfill else f" ({batch} KPI(s))" if batch > 1 else ""),
        "requests": requests,
        "req_per_s": f"{requests / elapsed:.0f}",
        "values_per_s": f"{requests * batch / elapsed:.0f}",
        "p50_ms": f"{statistics.median(samples):.1f}",
        "p99_ms": f"{percentile(samples, 0.99):.1f}",
    }


async def _typed(path: Path, requests: int) -> dict[str, object]:
    core = build_core(path, clock=lambda: NOW)
    samples: list[float] = []
    started = time.perf_counter()
    for r in range(requests):
        sent = time.perf_counter()
        day = (NOW.date() - timedelta(days=r % 9)).isoformat()
        replies = await core.dispatch(_cmd(f"/kpi set k{r % BIG_KPIS} {600 + r} {day}"))
        samples.append((time.perf_counter() - sent) * 1000)
        assert replies[0].kind != "error", replies[0].plain()
    elapsed = time.perf_counter() - started
    core.close()
    return {
        "what": "baseline: /kpi set through the router",
        "requests": requests,
        "req_per_s": f"{requests / elapsed:.0f}",
        "values_per_s": f"{requests / elapsed:.0f}",
        "p50_ms": f"{statistics.median(samples):.1f}",
        "p99_ms": f"{percentile(samples, 0.99):.1f}",
    }


def _export_import(path: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    core = build_core(path, clock=lambda: datetime.now(UTC))
    try:
        for fmt in ("json", "csv"):
            started = time.perf_counter()
            doc = exchange.snapshot(core.store, CHAT.key, NOW)
            data = exchange.to_json(doc) if fmt == "json" else exchange.to_csv(doc)
            rows.append(
                {
                    "what": f"export {fmt}",
                    "values": len(doc["values"]),
                    "seconds": f"{time.perf_counter() - started:.2f}",
                    "file_mb": f"{len(data) / 2**20:.1f}",
                }
            )
            if fmt == "json":
                exported = data
        started = time.perf_counter()
        found = exchange.read_file(exported, "card.json")
        plan = exchange.plan_import(core.store, "console:empty", found, datetime.now(UTC))
        checked = time.perf_counter() - started
        assert not plan.problems, plan.problems[:3]
        with core.store.atomic():
            written = exchange.apply_import(core.ctx, "console:empty", plan)
        asyncio.run(core.store.commit())
        total = time.perf_counter() - started
        rows.append(
            {
                "what": "import json into an empty chat (read + check)",
                "values": len(plan.models.get("values", [])),
                "seconds": f"{checked:.2f}",
                "file_mb": f"{len(exported) / 2**20:.1f}",
            }
        )
        rows.append(
            {
                "what": "  … + apply in one step + commit",
                "values": written,
                "seconds": f"{total:.2f}",
                "file_mb": "",
            }
        )
    finally:
        core.close()
    return rows


def run() -> list[dict[str, object]]:
    """Both tables' rows (printed as one table; the columns differ per part)."""
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big"
        kpis, days = BIG_KPIS, int(os.environ.get("BENCH_INGEST_DAYS", BIG_DAYS))
        build = build_big_store(big, kpis, days)
        rows.append(
            {
                "what": f"build store: {kpis * days:,} values",
                "requests": "",
                "req_per_s": "",
                "values_per_s": f"{kpis * days / build:.0f}",
                "p50_ms": "",
                "p99_ms": f"({build:.0f} s)",
            }
        )
        rows.append(asyncio.run(_typed(big, 300)))
        rows.append(asyncio.run(_ingest(big, 1, 300)))
        rows.append(asyncio.run(_ingest(big, 100, 100)))
        rows.append(asyncio.run(_ingest(big, 100, 100, backfill=True)))
    from bench.table import print_table

    print_table("Ingest API on a store with 1M values", rows)
    with tempfile.TemporaryDirectory() as tmp:
        card = Path(tmp) / "card"
        build_big_store(card, EXPORT_KPIS, EXPORT_DAYS)
        return _export_import(card)


__all__ = ["ACTOR", "run"]
