"""The one check before a number far from what came before is saved.

`/kpi set` and `/okr checkin` park a value more than 100× away from the recent numbers
(`95000` typed for `95`, `11 500` read as 11 with "500" in the note) and ask first, saying
what was read; a button confirms or cancels it. `/kpi set` also parks a share written as a
fraction on a `%` KPI (`0.031` for 3.1 %) and offers both readings.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from handlers import render
from handlers.common import need
from handlers.contract import Button, Command, Context, Reply, UsageError
from handlers.parsing import farness

#: How many times above or below the recent numbers a value is questioned.
OUTLIER = 100


def far_from(value: float, recent: Sequence[float]) -> bool:
    """More than 100× above or below every recent value (zeros and sign flips don't count)."""
    sizes = [*map(abs, filter(None, recent))]  # in C: a comprehension is a Python call
    if value == 0 or not sizes:
        return False
    return abs(value) > OUTLIER * max(sizes) or abs(value) * OUTLIER < min(sizes)


def fraction_meant(value: float, reference: Sequence[float]) -> float | None:
    """The hundredfold of a share written as a fraction on a `%` KPI (`0.031` for 3.1 %):
    when the value is between 0 and 1 and its hundredfold is nearer to `reference` (the
    KPI's recent values, else its target and baseline) than the value is. None otherwise:
    a CTR of 0.4 % beside 0.5 % is what it says. The caller asks only of a `%` KPI's value
    typed without a `%`."""
    sizes = [abs(v) for v in reference if v != 0]
    if not 0 < abs(value) < 1 or not sizes:
        return None
    meant = float(Decimal(repr(value)) * 100)  # 0.031 → 3.1, not 3.1000000000000005
    return meant if farness(abs(meant), sizes) < farness(abs(value), sizes) else None


def ask_fraction(
    cmd: Command,
    ctx: Context,
    payload: dict[str, Any],
    meant: float,
    reference: Sequence[float],
    *,
    name: str,
    about: str,
) -> Reply:
    """Park a `/kpi set` of a share written as a fraction (`payload`, its hundredfold as
    `meant`) and ask which was meant: *Record 3.1%* (`/kpi confirm <id> x100`), *Record
    0.031%* or *Cancel*. Nothing is saved before: a 0.031 % turns the KPI red for everyone."""
    pending = ctx.store.pending.put(
        cmd.chat.key, "kpi-set", {**payload, "meant": meant}, ctx.clock()
    )
    confirm = f"/{cmd.name} confirm {pending}"
    value, hundredfold = render.num(float(payload["value"]), "%"), render.num(meant, "%")
    typed = render.num(float(payload["value"]))
    return Reply(
        text=f"Did you mean {hundredfold}? {name} is counted in %, and {typed} reads like a "
        f"share written as a fraction ({about}: {_span(reference, '%')}). "
        "Nothing is saved until you choose.",
        buttons=(
            Button(label=f"Record {hundredfold}", command=f"{confirm} x100"),
            Button(label=f"Record {value}", command=confirm),
            Button(label="Cancel", command=f"{confirm} cancel"),
        ),
    )


def _span(numbers: Sequence[float], unit: str) -> str:
    """`2.7%`, or `1% to 3%`: the numbers a parked value is compared with."""
    low, high = min(numbers), max(numbers)
    if low == high:
        return render.num(low, unit)
    return f"{render.num(low, unit)} to {render.num(high, unit)}"


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
    span = _span(recent, unit)
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
