"""Scoring: one roll-up of the whole scorecard, the pure part of every /scorecard and /kpi.

A 50-KPI scorecard (4 perspectives, 12 objectives, every 10th KPI in test mode, a third
without a performance scale, 5 without data) is rolled up many times and the mean per
run reported; a 5-KPI scorecard runs beside it as the baseline, so the row shows how the
cost grows with the scorecard rather than this machine's speed. The goal is a small share
of the handlers' p99 budget (5 ms, see the handlers table).
"""

from __future__ import annotations

import time

from scoring.models import Kpi, Objective, Perspective
from scoring.rollup import rollup

RUNS = 2000
Card = tuple[list[Perspective], list[Objective], list[Kpi], dict[str, float]]


def _scorecard(kpis: int) -> Card:
    perspectives = [Perspective(key=f"p{i}", name=f"P{i}", order=i) for i in range(4)]
    objectives = [Objective(key=f"o{i}", name=f"O{i}", perspective=f"p{i % 4}") for i in range(12)]
    items = [
        Kpi(
            key=f"k{i}",
            name=f"K{i}",
            objective=f"o{i % 12}",
            baseline=0,
            target=100,
            test=i % 10 == 0,
            min=0 if i % 3 else None,
            max=150 if i % 3 else None,
        )
        for i in range(kpis)
    ]
    latest = {f"k{i}": i * 2.0 for i in range(max(kpis - 5, 1))}
    return perspectives, objectives, items, latest


def _per_run_ms(kpis: int) -> float:
    card = _scorecard(kpis)
    rollup(*card)  # warm-up
    started = time.perf_counter()
    for _ in range(RUNS):
        rollup(*card)
    return (time.perf_counter() - started) / RUNS * 1000


def run() -> list[dict[str, str]]:
    """Measure the roll-up of 50 KPIs beside 5 KPIs; return table rows."""
    small, big = _per_run_ms(5), _per_run_ms(50)
    return [
        {"benchmark": "roll-up, 5 KPIs (baseline)", "result": f"{small:.3f} ms", "goal": "—"},
        {
            "benchmark": "roll-up, 50 KPIs",
            "result": f"{big:.3f} ms ({big / small:.1f}× the baseline)",
            "goal": "≤ 2 ms (handler p99 ≤ 5 ms)",
        },
    ]
