"""The words of `/kpi <key> explain`: scoring.explain's steps written as formula lines.

scoring keeps the numbers and which rule decided; this module owns every word and number
format of the explanation (so a translation changes only this file).
"""

from __future__ import annotations

from handlers.render import num, pct, pct_exact, pct_explained
from scoring.explain import (
    ClampedProgress,
    Colour,
    NoValue,
    RangeInside,
    RangeOutside,
    RangeProgress,
    Ratio,
    Step,
    clamp01,
)
from scoring.models import Status

_SYMBOLS = {
    "progress": ("progress", "(value − baseline) / (target − baseline)"),
    "performance_up": ("performance", "(value − min) / (max − min)"),
    "performance_down": ("performance", "(max − value) / (max − min)"),
}


def _operand(value: float) -> str:
    """A number inside a formula, bracketed when negative so `120 − (−5)` reads right."""
    text = num(value)
    return f"({text})" if value < 0 else text


def _difference(a: float, b: float) -> str:
    """`(a − b)` with both numbers shown."""
    return f"({_operand(a)} − {_operand(b)})"


def _clamped(share: float) -> str:
    """The share, plus what clamping made of it when it left 0..100 %."""
    text = pct_explained(share)
    if share != clamp01(share):
        text += f", clamped to {pct(clamp01(share))}"
    return text


def _ratio(step: Ratio) -> str:
    """`label = symbols = (a − b) / (c − d) = x / y = z%`; performance shows its clamping."""
    label, symbols = _SYMBOLS[step.kind]
    share = step.share
    result = _clamped(share) if label == "performance" else pct_explained(share)
    return (
        f"{label} = {symbols} = {_difference(step.a, step.b)} / "
        f"{_difference(step.c, step.d)} = {num(step.a - step.b)} / {num(step.c - step.d)} "
        f"= {result}"
    )


def _outside(step: RangeOutside) -> str:
    """How a range KPI's performance came out outside its band."""
    band = f"{num(step.lo)}–{num(step.hi)}"
    side = "below" if step.below else "above"
    if step.tolerance == 0:
        return (
            f"performance = 0%: {num(step.value)} is {side} the range {band} "
            "and the tolerance is 0"
        )
    default = "; tolerance = the range's width" if step.default_tolerance else ""
    if step.below:
        symbols, diff = "1 − (min − value) / tolerance", _difference(step.lo, step.value)
    else:
        symbols, diff = "1 − (value − max) / tolerance", _difference(step.value, step.hi)
    reach = num(step.tolerance)
    return (
        f"performance = {symbols} = 1 − {diff} / {reach} = 1 − {num(step.gap)} / "
        f"{reach} = {_clamped(1.0 - step.gap / step.tolerance)} "
        f"({num(step.value)} is {side} the range {band}{default})"
    )


def colour_reason(step: Colour) -> str:
    """Why a measured KPI has its colour, with the numbers ("green: performance 87% ≥ ...")."""
    status = step.status
    if step.by_limits:
        return f"{status.value}: {_limits_reason(step)}"
    shown = pct_explained(step.performance)
    green, yellow = pct_exact(step.thresholds.green), pct_exact(step.thresholds.yellow)
    if status is Status.GREEN:
        reason = f"performance {shown} ≥ green threshold {green}"
    elif status is Status.YELLOW:
        reason = f"performance {shown} ≥ yellow threshold {yellow} and < green {green}"
    else:
        reason = f"performance {shown} < yellow threshold {yellow}"
    return f"{status.value}: {reason}"


def _limits_reason(step: Colour) -> str:
    """The warn/crit comparison that decided the colour, mirrored for lower-is-better."""
    shown = num(step.value)
    worse, better = ("≥", "<") if step.direction == "down" else ("≤", ">")
    if step.status is Status.RED:
        return f"value {shown} {worse} crit {num(step.crit or 0.0)}"
    if step.status is Status.YELLOW:
        text = f"value {shown} {worse} warn {num(step.warn or 0.0)}"
        if step.crit is not None:
            text += f" but {better} crit {num(step.crit)}"
        return text
    limit = ("warn", step.warn) if step.warn is not None else ("crit", step.crit)
    return f"value {shown} {better} {limit[0]} {num(limit[1] or 0.0)}"


def line(step: Step) -> str:
    """One step of an explanation as the line `/kpi <key> explain` shows."""
    match step:
        case NoValue(key=key, test=test):
            state = "test mode" if test else "no data"
            return f"status = {state}: KPI '{key}' has no value yet, so nothing to score"
        case RangeProgress(share=share):
            return f"progress = performance (range KPI) = {pct_explained(share)}"
        case Ratio():
            return _ratio(step)
        case ClampedProgress(raw=raw, share=share):
            shown = pct_explained(share)
            if raw != share:
                shown = f"clamp({pct_explained(raw)}) = {shown}"
            return f"performance = clamp(progress) = {shown}"
        case RangeInside(value=value, lo=lo, hi=hi):
            return f"performance = 100%: {num(value)} is inside the range {num(lo)}–{num(hi)}"
        case RangeOutside():
            return _outside(step)
        case Colour(test=True):
            return f"status = test mode (not counted in roll-ups); would be {colour_reason(step)}"
        case Colour():
            return f"status = {colour_reason(step)}"


def lines(steps: list[Step]) -> list[str]:
    """A whole explanation, one line a step."""
    return [line(step) for step in steps]
