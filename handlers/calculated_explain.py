"""Where a calculated or period KPI's value comes from, as `/kpi <key> explain` says it:
the formula with its inputs filled in, or the period's aggregate."""

from __future__ import annotations

from handlers import calculated
from handlers.calculated import Reading
from handlers.contract import Context
from handlers.formula_text import filled_in
from handlers.messages import say
from handlers.numbers import format_number
from handlers.render import AGG_WORDS
from scoring.aggregation import period_label
from scoring.formula import NoValue, evaluate
from scoring.models import Kpi


def no_value_reason(kpi: Kpi) -> str:
    """Why a formula KPI with no stored value has none: `x has no value`."""
    assert kpi.formula is not None
    try:
        evaluate(calculated.compiled(kpi.formula), {})
    except NoValue as exc:
        return say(exc)
    return "it has not been computed yet"


def explain_value(ctx: Context, chat: str, kpi: Kpi, now: Reading) -> list[str]:
    """Where the value `explain` scores comes from: the formula with its inputs filled in,
    or the period aggregate; empty for a plain KPI read as its latest value."""
    lines: list[str] = []
    day = calculated.latest_input_day(ctx, chat, kpi) if kpi.formula else None
    if kpi.formula and day is not None:
        result = calculated.outcome(ctx, chat, kpi, day)
        formula = calculated.compiled(kpi.formula)
        label = period_label(result.period)
        inputs = ", ".join(
            f"{k} = {format_number(result.inputs[k])}" if k in result.inputs else f"{k}: no value"
            for k in formula.inputs
        )
        shown = filled_in(formula, result.inputs)
        if result.value is None:
            lines.append(f"value ({label}) = {formula.text} = {shown}: no value, {result.reason}")
        else:
            lines.append(
                f"value ({label}) = {formula.text} = {shown} = {format_number(result.value)}"
            )
        lines.append(f"inputs ({label}): {inputs}")
        if result.value is None and now.value is not None and now.period is not None:
            lines.append(
                f"scored on the latest value, {format_number(now.value)} "
                f"({period_label(now.period)})"
            )
    elif kpi.agg != "last" and now.period is not None and now.value is not None:
        lines.append(
            f"value ({period_label(now.period)}) = {AGG_WORDS[kpi.agg]} of {now.count} "
            f"value{'s' if now.count != 1 else ''} = {format_number(now.value)}"
        )
    return lines
