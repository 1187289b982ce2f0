"""The one check before a number far from what came before is saved.

`/kpi set` and `/okr checkin` park a value more than 100× away from the recent numbers
(`95000` typed for `95`, `11 500` read as 11 with "500" in the note) and ask first, saying
what was read; a button confirms or cancels it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from handlers import render
from handlers.common import need
from handlers.contract import Button, Command, Context, Reply, UsageError

#: How many times above or below the recent numbers a value is questioned.
OUTLIER = 100


def far_from(value: float, recent: Sequence[float]) -> bool:
    """More than 100× above or below every recent value (zeros and sign flips don't count)."""
    sizes = [*map(abs, filter(None, recent))]  # in C: a comprehension is a Python call
    if value == 0 or not sizes:
        return False
    return abs(value) > OUTLIER * max(sizes) or abs(value) * OUTLIER < min(sizes)


def ask_first(
    cmd: Command,
    ctx: Context,
    kind: str,
    payload: dict[str, Any],
    recent: Sequence[float],
    *,
    about: str,
    unit: str,
) -> Reply:
    """Park `payload` (its `value` and `note` as read) under `kind` and ask whether to record
    it: the question names what was read and the numbers (`about`) it is far from. Its buttons
    send `/<command> confirm <id>` (`/kpi confirm`), with `cancel` to drop it."""
    pending = ctx.store.pending.put(cmd.chat.key, kind, payload, ctx.clock())
    low, high = min(recent), max(recent)
    span = (
        render.num(low, unit)
        if low == high
        else f"{render.num(low, unit)} to {render.num(high, unit)}"
    )
    shown, note = render.num(float(payload["value"]), unit), str(payload["note"])
    read = f"{shown} (note: {note})" if note else shown
    confirm = f"/{cmd.name} confirm {pending}"
    return Reply(
        text=f"{read} is more than {OUTLIER}× away from {about} ({span}). "
        "Record it anyway? Nothing is saved until you confirm.",
        buttons=(
            Button(label=f"Record {shown}", command=confirm),
            Button(label="Cancel", command=f"{confirm} cancel"),
        ),
    )


def confirmed(cmd: Command, ctx: Context, kind: str) -> dict[str, Any] | None:
    """The payload a *Record* button confirms; None when *Cancel* was pressed (it is
    dropped). One already recorded, cancelled or expired is refused."""
    need(cmd.args, 1)
    payload = ctx.store.pending.take(cmd.chat.key, kind, cmd.args[0], ctx.clock())
    if payload is None:
        raise UsageError("That value was already recorded, cancelled or has expired.")
    if [a.casefold() for a in cmd.args[1:]] == ["cancel"]:
        return None
    return payload


#: What *Cancel* answers.
CANCELLED = "Cancelled; nothing was saved."
