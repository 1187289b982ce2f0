"""The storage bench's table: one row per measure, whatever a run measured."""

from __future__ import annotations

from typing import Any

from bench.storage import HASHTAGS, _causes, _write_rows


def _write_run(scale: float) -> dict[str, Any]:
    """A `_measure` result's write part, every figure times `scale`."""
    stats = {"p50": 1.0 * scale, "p99": 2.0 * scale, "max": 3.0 * scale}
    sample = {"wall": 3.0 * scale, "loop_cpu": scale, "commit": 2.0 * scale, "gc": 0.0}
    causes = _causes([{**sample, "checkpoint": 1.0}] * HASHTAGS)
    run = {
        "ours": stats,
        "raw": stats,
        "rate": 100 * scale,
        "raw_rate": 300 * scale,
        "cpu_ms": scale,
        "loop_cpu_ms": scale,
        "per_transaction": 4.0,
        "causes": causes,
    }
    return {"set": run, "set_together": run, "hashtag": run, "cadence": run}


def test_the_write_rows_are_named_alike_in_every_run_so_sizes_line_up_as_columns() -> None:
    """A figure in a row's name made `writes 10k 100k 1M` (and the full run) fail."""
    assert list(_write_rows(_write_run(1.0))) == list(_write_rows(_write_run(7.0)))


def test_a_slow_hashtag_is_counted_under_each_cause_it_had() -> None:
    causes = _causes(
        [
            {"wall": 5.0, "loop_cpu": 0.2, "commit": 4.0, "gc": 0.0, "checkpoint": 0.0},
            {"wall": 4.0, "loop_cpu": 3.0, "commit": 0.2, "gc": 2.5, "checkpoint": 1.0},
            {"wall": 0.5, "loop_cpu": 0.3, "commit": 0.2, "gc": 0.0, "checkpoint": 1.0},
        ]
    )
    counted = [causes[k] for k in ("samples", "slow", "commit", "loop_cpu", "gc", "checkpoint")]
    assert counted == [3, 2, 1, 1, 1, 1]
