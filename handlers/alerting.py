"""Threshold alerts evaluated the moment a value is recorded (see the alerts issue)."""

from __future__ import annotations

from handlers.contract import Command, Context
from scoring.models import Kpi, Measurement


def on_value_recorded(ctx: Context, cmd: Command, kpi: Kpi, measurement: Measurement) -> None:
    """Evaluate the KPI's alert rules for a new value and queue any message in the outbox.

    Called inside the mutating command's atomic step, so it must not await: state and
    outbox entries are written synchronously and become durable with the command.
    """
