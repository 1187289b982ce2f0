"""The one check before a number far from what came before is saved.

`/kpi set` and `/okr checkin` park a value more than 100× away from the recent numbers
(`95000` typed for `95`, `11 500` read as 11 with "500" in the note) and ask first, saying
what was read; a button confirms or cancels it. Both also park a share written as a
fraction on a `%` KPI or key result (`0.031` for 3.1 %) and offer both readings;
`/kpi import` asks once for all such rows; the ingest API, pulls and a values sheet sent
as a file refuse them (`refuse_fraction`). `fraction_typed` is the one rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from handlers import render
from handlers.common import need
from handlers.contract import Button, Command, Context, Reply, UsageError
from handlers.numbers import format_typed
from handlers.parsing import dots_group, farness
from scoring.models import Kpi
from storage import Store

#: How many times above or below the recent numbers a value is questioned.
OUTLIER = 100


def far_from(value: float, recent: Sequence[float]) -> bool:
    """More than 100× above or below every recent value (zeros and sign flips don't count)."""
    sizes = [*map(abs, filter(None, recent))]  # in C: a comprehension is a Python call
    if value == 0 or not sizes:
        return False
    return abs(value) > OUTLIER * max(sizes) or abs(value) * OUTLIER < min(sizes)


def fraction_shaped(unit: str, value: float) -> bool:
    """A value between 0 and 1 in `%`: one that may be a share written as a fraction
    (`fraction_typed` tells), so a caller reads what it is compared with only for it."""
    return unit == "%" and 0 < abs(value) < 1


def fraction_typed(
    unit: str, value: float, raw: str, apart: bool, reference: Sequence[float]
) -> float | None:
    """The hundredfold of a share written as a fraction on a `%` KPI or key result
    (`unit`; `0.031` for 3.1 %): when the value is between 0 and 1 (`fraction_shaped`),
    typed without its sign (`raw` as typed, `apart` when a `%` followed it as a word of its
    own, `0.031 %`), and its hundredfold is nearer to `reference` (`compared`: the recent
    values, target and baseline; a key result's start, target and latest check-in) than
    the value is. None otherwise: a CTR of 0.4 % beside 0.5 % is what it says, and so is a
    value typed with its `%` or of another unit."""
    if apart or "%" in raw or not fraction_shaped(unit, value):
        return None
    sizes = [abs(v) for v in reference if v != 0]
    if not sizes:
        return None
    meant = float(Decimal(repr(value)) * 100)  # 0.031 → 3.1, not 3.1000000000000005
    return meant if farness(abs(meant), sizes) < farness(abs(value), sizes) else None


def compared(kpi: Kpi, recent: Sequence[float]) -> tuple[list[float], str]:
    """What a `%` KPI's value between 0 and 1 is compared with (its `recent` values, target
    and baseline: 0.8 beside a 2 % target is 0.8 %), and how a question names them."""
    about = "its recent values, target and baseline" if recent else "its target and baseline"
    return [*recent, kpi.target, kpi.baseline], about


def refuse_fraction(
    store: Store, chat: str, kpi: Kpi, value: float, raw: str, recent: dict[str, list[float]]
) -> None:
    """Refuse a value sent with no one to ask (an ingest API item, a pulled cell, a row of
    a values sheet sent as a file; `raw` its text, empty for a JSON number) that reads like
    a share written as a fraction on `kpi` (`fraction_typed`). `recent`: each `%` KPI's
    recent values, read once a batch."""
    if not fraction_shaped(kpi.unit, value):
        return
    if kpi.key not in recent:
        recent[kpi.key] = store.kpis.recent_values(chat, kpi.key)
    reference, about = compared(kpi, recent[kpi.key])
    meant = fraction_typed(kpi.unit, value, raw, False, reference)
    if meant is None:
        return
    raise UsageError(
        f"{render.num(value)} reads like a share written as a fraction on {kpi.name}, "
        f"counted in % ({about}: {span(reference, '%')}): write {render.num(meant)} for "
        f"{render.num(meant, '%')}, or {render.num(value, '%')} with its sign if that is "
        "what it is"
    )


def ask_fraction(
    cmd: Command,
    ctx: Context,
    kind: str,
    payload: dict[str, Any],
    meant: float,
    reference: Sequence[float],
    *,
    name: str,
    about: str,
) -> Reply:
    """Park a value (`/kpi set`'s, a check-in's: `payload`, parked under `kind`) that reads
    like a share written as a fraction, its hundredfold as `meant`, and ask which was meant:
    *Record 3.1%* (`/<command> confirm <id> x100`), *Record 0.031%* or *Cancel*. Nothing is
    saved before: a 0.031 % turns the KPI red for everyone."""
    pending = ctx.store.pending.put(cmd.chat.key, kind, {**payload, "meant": meant}, ctx.clock())
    confirm = f"/{cmd.name} confirm {pending}"
    value, hundredfold = render.num(float(payload["value"]), "%"), render.num(meant, "%")
    typed = render.num(float(payload["value"]))
    return Reply(
        text=f"Did you mean {hundredfold}? {name} is counted in %, and {typed} reads like a "
        f"share written as a fraction ({about}: {span(reference, '%')}). "
        "Nothing is saved until you choose.",
        buttons=(
            Button(label=f"Record {hundredfold}", command=f"{confirm} x100"),
            Button(label=f"Record {value}", command=confirm),
            Button(label="Cancel", command=f"{confirm} cancel"),
        ),
    )


def span(numbers: Sequence[float], unit: str) -> str:
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
    spanned = span(recent, unit)
    shown, note = render.num(float(payload["value"]), unit), str(payload["note"])
    read = f"{shown} (note: {note})" if note else shown
    confirm = f"/{cmd.name} confirm {pending}"
    return Reply(
        text=f"{read} is more than {OUTLIER}× away from {about} ({spanned}). "
        "Record it anyway? Nothing is saved until you confirm.",
        buttons=(
            Button(label=f"Record {shown}", command=confirm),
            Button(label="Cancel", command=f"{confirm} cancel"),
        ),
    )


def confirmed(cmd: Command, ctx: Context, kind: str) -> dict[str, Any] | None:
    """The payload a *Record* button confirms, its `value` the hundredfold (`meant`) after
    `x100`; None when *Cancel* was pressed (it is dropped). One already recorded, cancelled
    or expired is refused, and so is `x100` on a question that offered no such reading (the
    value stays parked)."""
    need(cmd.args, 1)
    said = [a.casefold() for a in cmd.args[1:]]
    if said == ["x100"]:  # only a fraction's question offers it
        parked = ctx.store.pending.peek(cmd.chat.key, kind, cmd.args[0], ctx.clock())
        if parked is not None and "meant" not in parked:
            raise UsageError("That question offered no ×100 reading: press Record or Cancel.")
    payload = ctx.store.pending.take(cmd.chat.key, kind, cmd.args[0], ctx.clock())
    if payload is None:
        raise UsageError("That value was already recorded, cancelled or has expired.")
    if said == ["cancel"]:
        return None
    return {**payload, "value": payload["meant"]} if said == ["x100"] else payload


def addition(command: str, value: float, unit: str, base: float | None) -> UsageError:
    """Why a value typed with a `+` (`/kpi set traffic +500`, `/okr checkin nps +5`) saves
    nothing: the team meant 500 more, and 500 replaced the 14 000 before it (28× below: no
    question asked). Both readings are named as commands (`command` and the number, spelled
    as this chat's parser reads it), `base` plus the number first when there is one."""
    added, dots = Decimal(repr(value)), dots_group()
    just = f"{command} {format_typed(added, dots)} for {render.num(value, unit)}"
    if base is not None:
        plus = f"{render.num(base)} + {render.num(value, unit)}"
        summed = format_typed(Decimal(repr(base)) + added, dots)
        just = f"{command} {summed} for {plus}, or {just}"
    return UsageError(
        f"+{format_typed(added, dots)}: a value is the new number, not an addition: "
        f"send {just}. Nothing was saved."
    )


#: What *Cancel* answers.
CANCELLED = "Cancelled; nothing was saved."
