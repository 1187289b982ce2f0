"""The words of scoring's refusals: one catalogue from error code to the line people read.

scoring raises `ScoringError(code, **data)` with numbers and names as values; this module
is the only place that writes them as English (so a translation changes only this file).
A template is a `str.format` pattern over the error's data, where each value is written
the way every reply writes it: a float through `render.num`, and with a spec

* `{x:quote}` the user's text clipped to the length error lines repeat,
* `{x:strip}` the user's text without surrounding spaces,
* `{x:join}` a list as `a, b, c`,
* `{x:iso}` a date or time in ISO form, `{x:.60}` the first 60 characters.

The few lines whose grammar depends on the numbers (has/have, "1 or 2 arguments") are
small functions of the data instead of patterns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pydantic_core import ErrorDetails

from handlers.render import num
from scoring.errors import ScoringError, clip

Data = Mapping[str, Any]
Template = str | Callable[[Data], str]

_CADENCE_EXAMPLES = "e.g. 4/month, 3/quarter, 2/week or 1/year"
_CYCLE_EXAMPLE = "a quarter like 2026Q4, a half like 2026H1 or a year like 2026"
_QUIET_EXAMPLE = "use HH:MM-HH:MM, e.g. quiet 22:00-08:00"
_FORMULA_SYNTAX = "KPI keys, numbers, + - * / **"
#: The words for the formula constructs people try most (others by their Python name).
_CONSTRUCTS = {
    "Attribute": "attribute access (a.b)",
    "Subscript": "indexing (a[b])",
    "Compare": "comparisons",
    "BoolOp": "and/or",
    "Lambda": "lambda",
    "JoinedStr": "text",
    "IfExp": "if/else",
    "Constant": "text or other values that are not numbers",
}


class _Value:
    """One datum as a template writes it (see the module docstring for the specs)."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __format__(self, spec: str) -> str:
        value = self.value
        if spec == "quote":
            return clip(str(value))
        if spec == "strip":
            return str(value).strip()
        if spec == "join":
            assert isinstance(value, Sequence)
            return ", ".join(str(v) for v in value)
        if spec == "iso":
            assert isinstance(value, date | datetime)
            return value.isoformat()
        if isinstance(value, float):
            return format(num(value), spec)
        return format(value, spec)

    def __repr__(self) -> str:
        return repr(self.value)

    def __str__(self) -> str:
        return str(self.value)


def _argument_count(data: Data) -> str:
    low, high = data["low"], data["high"]
    counts = (
        str(low) if low == high else f"{low} to {high}" if high - low > 1 else f"{low} or {high}"
    )
    plural = "s" if high > 1 else ""
    return f"{data['name']}() takes {counts} argument{plural}, not {data['given']}."


def _missing_inputs(data: Data) -> str:
    keys = data["keys"]
    return f"{', '.join(keys)} {'has' if len(keys) == 1 else 'have'} no value"


def _exponent(data: Data) -> str:
    exponent = data["exponent"]
    shown = f" ({num(exponent)})" if abs(exponent) < 1e9 else ""
    return f"the exponent{shown} is above {num(data['most'])}"


def _exponent_written(data: Data) -> str:
    exponent, most = data["exponent"], num(data["most"])
    shown = f" {num(exponent)}" if abs(exponent) < 1e9 else ""
    return f"The exponent{shown} is out of range: a formula's exponents go from −{most} to {most}."


def _not_allowed(data: Data) -> str:
    what = _CONSTRUCTS.get(data["construct"], data["construct"])
    return (
        f"Formulas allow {_FORMULA_SYNTAX}, ( ) and the helpers "
        f"{', '.join(data['helpers'])}; not {what}."
    )


MESSAGES: dict[str, Template] = {
    # alert rules, mutes and quiet hours (scoring.alert_policy, alert_rules, alerts_quiet)
    "alert.repeat_not_positive": "repeat must be positive",
    "alert.group_negative": "group_window cannot be negative",
    "alert.mute_backwards": "a mute must end after it starts",
    "alert.mute_length": "A mute lasts from 1 minute to 90 days, e.g. mute cac 2h",
    "alert.not_a_duration": "'{text:quote}' is not a duration: use 30m, 2h, 1d or 1w",
    "alert.test_not_status": "test is a KPI mode, not an alert status",
    "alert.not_a_colour": "evaluate needs the reading's colour, not {status!r}",
    "alert.other_kpi": "the state and measurement must belong to KPI {key!r}",
    "quiet.same_ends": "quiet hours need different start and end times",
    "quiet.zoned": "quiet hours are wall-clock times: no timezone on them",
    "quiet.not_a_window": "'{text:quote}' is not a quiet window: " + _QUIET_EXAMPLE,
    "quiet.impossible_time": "'{text:strip}' has an impossible time: " + _QUIET_EXAMPLE,
    "quiet.starts_at_end": "'{text:strip}' starts and ends at the same time: " + _QUIET_EXAMPLE,
    "time.naive_now": "now must be timezone-aware",
    # calculated KPIs (scoring.formula)
    "formula.empty": 'The formula is empty; e.g. formula="spend / newc".',
    "formula.too_long": "The formula is too long (at most {most} characters).",
    "formula.unreadable": (
        "I can't read the formula '{text:.60}': use "
        + _FORMULA_SYNTAX
        + ' and ( ), e.g. formula="spend / newc".'
    ),
    "formula.too_big": "The formula is too big ({nodes} parts; at most {most}).",
    "formula.too_deep": "The formula nests too deeply (at most {most} levels).",
    "formula.not_allowed": _not_allowed,
    "formula.number_too_big": "Numbers in a formula must be finite and below 10^15.",
    "formula.function_as_value": "'{name}' is a function; call it like {name}(a, b).",
    "formula.unknown_function": "Unknown function '{name}'; formulas may call {helpers:join}.",
    "formula.unknown_call": (
        "Only a helper can be called, by its name; formulas may call {helpers:join}."
    ),
    "formula.plain_arguments": "{name}() takes plain arguments, e.g. {name}(a, b).",
    "formula.argument_count": _argument_count,
    "formula.needs_key": "{name}() takes one KPI key, e.g. {name}(leads).",
    "formula.round_decimals": "round() takes 0 to {most} decimals.",
    "formula.round_decimals_value": "round() needs a whole number of decimals from 0 to {most}",
    "formula.unchecked": "This formula was not checked; set it again.",
    "formula.inputs_missing": _missing_inputs,
    "formula.no_previous": "pct_change() needs a previous value of {keys:join}",
    "formula.helper_divides_by_zero": "{name}() divides by zero",
    "formula.divides_by_zero": "the formula divides by zero",
    "formula.zero_to_negative_power": "the formula divides by zero (0 to a negative power)",
    "formula.fractional_power": "a negative number to a fractional power has no real value",
    "formula.exponent_too_big": _exponent,
    "formula.exponent_written": _exponent_written,
    "formula.too_large": "the result is too large to be a number",
    "formula.not_finite": "the result is not a finite number",
    "formula.beyond_range": "the result is beyond ±1e15, the range every number keeps",
    "formula.helper_not_finite": "{name}() gave no finite number",
    # initiatives (scoring.initiatives)
    "cadence.unreadable": (
        "'{text}' is not a cadence; write count/period, " + _CADENCE_EXAMPLES + "."
    ),
    "cadence.unknown_period": (
        "'{period}' is not a period; use week, month, quarter or year, " + _CADENCE_EXAMPLES + "."
    ),
    "cadence.not_whole": "A cadence counts whole items, not {count}; e.g. 3/{period} instead.",
    "cadence.too_few": "A cadence needs at least 1 per {period}, not {count}.",
    "initiative.no_cadence": (
        "Initiative '{key}' has no cadence; set one, " + _CADENCE_EXAMPLES + "."
    ),
    # KPI definitions and values (scoring.kpi)
    "kpi.direction_unknown": (
        "Baseline and target are both {target}, so I can't tell whether higher or "
        "lower is better; give a target different from the baseline."
    ),
    "kpi.not_finite": "The {field} of KPI '{key}' must be a finite number, not {value}.",
    "kpi.weight_negative": "The weight of KPI '{key}' must be 0 or more, not {weight}.",
    "kpi.range_with_warn": (
        "KPI '{key}' is a range KPI: its colour comes from min, max and tolerance, "
        "so remove warn/crit."
    ),
    "kpi.up_target_below": (
        "KPI '{key}' is higher-is-better (up) but its target {target} is below its "
        "baseline {baseline}; for a lower-is-better KPI the target is below the "
        "baseline, so use direction=down."
    ),
    "kpi.down_target_above": (
        "KPI '{key}' is lower-is-better (down) but its target {target} is above its "
        "baseline {baseline}; for a lower-is-better KPI the target is below the "
        "baseline, so lower the target or use direction=up."
    ),
    "kpi.tolerance_not_range": (
        "The tolerance of KPI '{key}' only applies to range KPIs; it is direction "
        "{direction}, so remove the tolerance."
    ),
    "kpi.up_crit_above_warn": (
        "For higher-is-better KPI '{key}' crit must be at or below warn (red comes after "
        "yellow on the way down); got warn {warn}, crit {crit}."
    ),
    "kpi.down_crit_below_warn": (
        "For lower-is-better KPI '{key}' crit must be at or above warn (red comes after "
        "yellow on the way up); got warn {warn}, crit {crit}."
    ),
    "kpi.range_needs_scale": "Range KPI '{key}' needs both min and max, e.g. min=40 max=60.",
    "kpi.half_scale": (
        "KPI '{key}' has {end}={value} but no {missing}; give both min and max, or neither."
    ),
    "kpi.min_above_max": (
        "KPI '{key}' has min {low} above max {high}; swap them "
        "(min is the low end even when lower is better)."
    ),
    "kpi.zero_width_scale": (
        "KPI '{key}' has min and max both {value}; the scale needs two different ends."
    ),
    "kpi.scale_not_finite": "KPI '{key}' needs min and max that are finite numbers.",
    "kpi.tolerance_negative": "The tolerance of KPI '{key}' must be 0 or more, not {tolerance}.",
    "kpi.zero_width_progress": (
        "KPI '{key}' has baseline and target both {target}; "
        "progress needs a target different from the baseline."
    ),
    "kpi.value_not_finite": "The value of KPI '{key}' must be a finite number, not {value}.",
    # dated and staged targets (scoring.targets)
    "due.before_start": "KPI '{key}' is due {due:iso}, which must be after its start {start:iso}.",
    "stage.after_due": (
        "The stage ending {until:iso} of KPI '{key}' is after its due date {due:iso}."
    ),
    "stage.not_finite": "Staged targets of KPI '{key}' must be numbers.",
    "stage.at_baseline": (
        "The stage ending {until:iso} of KPI '{key}' has target {target}, the same as the "
        "baseline, so progress towards it can't be measured; give that stage a target other "
        "than {baseline}."
    ),
    "stage.wrong_side": (
        "The stage ending {until:iso} of KPI '{key}' has target {target}, on the other side "
        "of the baseline {baseline} from the final target {final}; a stage lies on the way "
        "from the baseline to the target."
    ),
    # OKRs (scoring.okr)
    "cycle.unreadable": "'{text}' is not a cycle; write " + _CYCLE_EXAMPLE + ".",
    "cycle.year_typo": "The year {year} looks like a typo; write " + _CYCLE_EXAMPLE + ".",
    "cycle.too_early": (
        "'{text}' is out of range: cycles go from {first} on, like dates; write "
        + _CYCLE_EXAMPLE
        + "."
    ),
    "cycle.no_such_part": (
        "There is no {kind} {number}: use {letter}1–{letter}{last}, e.g. {year}{letter}{last}."
    ),
    "kr.not_finite": "The {field} of key result '{key}' must be a finite number, not {value}.",
    "kr.zero_width": (
        "The start and target of key result '{key}' are both {target}; "
        "give a target different from the start."
    ),
    "kr.weight_negative": "The weight of key result '{key}' must be 0 or more, not {weight}.",
    # periods, weights, colours, schedules, the strategy map
    "time.naive": "The time {instant:iso} has no timezone; pass an aware one.",
    "time.naive_current": "The current time {instant:iso} has no timezone; pass an aware one.",
    "period.backwards": "A period must end after it starts.",
    "weight.negative": "The weight of {what} must be 0 or more, not {weight}.",
    "schedule.weekdays": "weekdays are 0 (Monday) to 6 (Sunday), at least one",
    "schedule.months": "months are 1 to 12, at least one",
    "schedule.day": "day of the month is 1 to 31",
    "schedule.not_a_weekday": "{part!r} is not a weekday or a range of weekdays",
    "schedule.no_weekday": "no weekday given",
}


def say(error: ScoringError) -> str:
    """The line people read for a scoring refusal (every code has one: a test walks them)."""
    template = MESSAGES[error.code]
    if callable(template):
        return template(error.data)
    return template.format_map({name: _Value(value) for name, value in error.data.items()})


def error_text(error: Exception) -> str:
    """Any refusal as its line: scoring's through the catalogue, the others' own text."""
    return say(error) if isinstance(error, ScoringError) else str(error)


def validation_text(problem: ErrorDetails) -> str:
    """pydantic's message for one field, with a scoring validator's code put in words.

    pydantic wraps a validator's ValueError as `Value error, <str(error)>` and keeps the
    error itself in `ctx`; the wrapping stays, so callers strip it as before.
    """
    error = problem.get("ctx", {}).get("error")
    if isinstance(error, ScoringError):
        return f"Value error, {say(error)}"
    return problem["msg"]
