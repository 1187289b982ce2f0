"""Funnels: stage-to-stage conversion, its change since the last period, the biggest drop.

A funnel is an ordered list of KPIs that count who got how far (traffic → leads → MQL →
SQL → SAL → customers). For one period each stage has a value; the conversion of a stage
is its value over the previous stage's (SQL → SAL = SAL / SQL). The biggest drop is the
step with the lowest conversion: where most people are lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StageRow:
    """One funnel stage in a period, with the same numbers for the period before."""

    key: str
    value: float | None
    previous: float | None
    conversion: float | None  # share of the previous stage that reached this one
    previous_conversion: float | None

    @property
    def change(self) -> float | None:
        """Relative change of the stage's value since the last period (0.1 = +10 %)."""
        if self.value is None or not self.previous:
            return None
        return (self.value - self.previous) / abs(self.previous)

    @property
    def conversion_change(self) -> float | None:
        """Change of the conversion since the last period, in shares (0.01 = 1 point)."""
        if self.conversion is None or self.previous_conversion is None:
            return None
        return self.conversion - self.previous_conversion


def _share(part: float | None, whole: float | None) -> float | None:
    if part is None or whole is None or whole == 0:
        return None
    return part / whole


def funnel_rows(
    stages: Sequence[str], now: Mapping[str, float], before: Mapping[str, float]
) -> list[StageRow]:
    """Each stage's value and conversion from the stage above, now and the period before."""
    rows: list[StageRow] = []
    for i, key in enumerate(stages):
        above = stages[i - 1] if i else None
        rows.append(
            StageRow(
                key=key,
                value=now.get(key),
                previous=before.get(key),
                conversion=None if above is None else _share(now.get(key), now.get(above)),
                previous_conversion=(
                    None if above is None else _share(before.get(key), before.get(above))
                ),
            )
        )
    return rows


def biggest_drop(rows: Sequence[StageRow]) -> tuple[str, StageRow] | None:
    """(stage above, stage) of the step with the lowest conversion; None without any."""
    steps = [
        (rows[i - 1].key, row) for i, row in enumerate(rows) if i and row.conversion is not None
    ]
    if not steps:
        return None
    return min(steps, key=lambda step: step[1].conversion or 0.0)
