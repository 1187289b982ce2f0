"""Pictures: a KPI's history against its target, rendered to PNG bytes with matplotlib.

Rendering is CPU work (tens of milliseconds), so callers run it in a worker thread; the
import is deferred so the console starts fast and only charts pay for matplotlib.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from scoring.models import Kpi, Measurement


def kpi_chart(kpi: Kpi, history: Sequence[Measurement]) -> bytes:
    """A line chart of `history` with the target (and the min–max band of a range KPI)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 3.2), dpi=110)
    axes = figure.subplots()
    days: list[Any] = [m.day for m in history]  # matplotlib plots dates; its stubs say floats
    values = [m.value for m in history]
    axes.plot(days, values, marker="o", markersize=3, linewidth=1.8, color="#1f6feb")
    if kpi.direction == "range" and kpi.min is not None and kpi.max is not None:
        axes.axhspan(kpi.min, kpi.max, color="#2da44e", alpha=0.12, label="good range")
    else:
        axes.axhline(kpi.target, color="#2da44e", linestyle="--", linewidth=1.2, label="target")
        axes.axhline(kpi.baseline, color="#8c959f", linestyle=":", linewidth=1, label="baseline")
    axes.set_title(f"{kpi.name}" + (f" ({kpi.unit})" if kpi.unit else ""), fontsize=11)
    axes.grid(alpha=0.25)
    axes.legend(loc="best", fontsize=8, frameon=False)
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
