"""`field=value` options of `/kpi add` and `/kpi edit` → a validated Kpi.

One table of field parsers serves both commands, so add and edit accept exactly the
same spellings and give the same errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from handlers.common import objective_or_fail, perspective_or_fail
from handlers.contract import Command, Conflict, Context, UsageError
from handlers.dates import due_day
from handlers.numbers import format_number
from handlers.parsing import (
    clip,
    normalize_key,
    parse_bool,
    parse_choice,
    parse_date,
    parse_name,
    parse_number,
    parse_owner,
    parse_unit,
    parse_weight,
)
from scoring.errors import CycleFormatError
from scoring.kpi import infer_direction, validate_kpi
from scoring.models import Kpi, Objective, StagedTarget
from scoring.okr import Cycle, parse_cycle
from scoring.targets import validate_dated

DIRECTIONS = {
    "up": "up",
    "higher": "up",
    "increase": "up",
    "down": "down",
    "lower": "down",
    "decrease": "down",
    "range": "range",
    "between": "range",
}
INTERVALS = {
    "day": "day",
    "daily": "day",
    "week": "week",
    "weekly": "week",
    "month": "month",
    "monthly": "month",
    "quarter": "quarter",
    "quarterly": "quarter",
}


def _optional_number(field: str) -> Callable[[str], float | None]:
    def parse(raw: str) -> float | None:
        return None if raw.strip().casefold() in ("", "none", "-") else parse_number(raw, field)

    return parse


AGGREGATES = {
    "last": "last",
    "latest": "last",
    "sum": "sum",
    "total": "sum",
    "avg": "avg",
    "average": "avg",
    "mean": "avg",
    "max": "max",
    "min": "min",
}
_EXAMPLE_DAY = date(2027, 9, 30)  # shown in the error example of a mistyped date


def _cleared(raw: str) -> bool:
    """`due=none`, `due=-`, `due=`: the field is cleared."""
    return raw.strip().casefold() in ("", "none", "-")


def _due(raw: str, today: date) -> date | None:
    """`due=`: a day to come, read as an initiative's is (`due="1 march"`, `due=friday`)."""
    return None if _cleared(raw) else due_day(raw, today)


def _from(raw: str, today: date) -> date | None:
    """`from=`: where a due KPI's path starts, often a day gone by: written dates only."""
    del today
    return None if _cleared(raw) else parse_date(raw, _EXAMPLE_DAY, ahead=True)


def _formula(raw: str) -> str | None:
    """The formula text (checked against the chat's KPIs later); `none` makes a KPI manual."""
    text = raw.strip()
    if text.casefold() in ("", "none", "-"):
        return None
    if len(text) > 500:
        raise UsageError("formula= is too long (at most 500 characters).")
    return text


def parse_staged(raw: str, today: date) -> tuple[StagedTarget, ...]:
    """`2027Q1:10500,2027Q2:11000` (or `2027-03-31:10500`, `friday:100`): targets in force
    up to a day, a day in words read forward from the chat's `today` as `due=` is."""
    if _cleared(raw):
        return ()
    stages: list[StagedTarget] = []
    for item in raw.split(","):
        when, sep, amount = item.strip().rpartition(":")
        if not sep or not when:
            raise UsageError(
                f"staged= wants <quarter or date>:<target> pairs, e.g. "
                f"staged=2027Q1:10500,2027Q2:11000; got '{item.strip()}'."
            )
        try:
            cycle = Cycle.parse(when)
        except CycleFormatError:
            until = due_day(when, today)
        else:
            parse_cycle(when)  # refuses a quarter before 2000, like the dates and /okr cycle
            until = cycle.period.end
        stages.append(StagedTarget(until=until, target=parse_number(amount, "staged target")))
    days = [s.until for s in stages]
    if len(set(days)) != len(days):
        raise UsageError("staged= names the same quarter or date twice.")
    return tuple(sorted(stages, key=lambda s: s.until))


PARSERS: Mapping[str, Callable[[str], Any]] = {
    "name": parse_name,
    "target": lambda raw: parse_number(raw, "target"),
    "baseline": lambda raw: parse_number(raw, "baseline"),
    "direction": lambda raw: parse_choice(raw, "direction", DIRECTIONS),
    "min": _optional_number("min"),
    "max": _optional_number("max"),
    "tol": _optional_number("tol"),
    "unit": parse_unit,
    "weight": parse_weight,
    "owner": parse_owner,
    "every": lambda raw: parse_choice(raw, "every", INTERVALS),
    "warn": _optional_number("warn"),
    "crit": _optional_number("crit"),
    "test": lambda raw: parse_bool(raw, "test"),
    "formula": _formula,
    "agg": lambda raw: parse_choice(raw, "agg", AGGREGATES),
}
#: The date fields, read from the chat's today (`due=friday` is the coming Friday).
DATED: Mapping[str, Callable[[str, date], Any]] = {
    "due": _due,
    "from": _from,
    "staged": parse_staged,
}
PLACEMENT = ("objective", "perspective")
RESERVED = {
    "add",
    "edit",
    "remove",
    "restore",
    "set",
    "import",
    "explain",
    "chart",
    "confirm",
    "ytd",
}
_AFTER_WEIGHT = list(PARSERS).index("weight") + 1
#: Every field of `/kpi add` and `/kpi edit`, in the order the add usage lists them, so the
#: "Fields:" of "Unknown field" and of "Nothing to change" read the same.
ADD_FIELDS = (
    *list(PARSERS)[:_AFTER_WEIGHT],
    *PLACEMENT,
    *list(PARSERS)[_AFTER_WEIGHT:],
    *DATED,
)
_RENAMED = {"tol": "tolerance", "from": "due_from"}


def typed_fields(
    options: Mapping[str, str], today: date, kpi: Kpi | None = None
) -> dict[str, Any]:
    """Parse every option except placement into model field values (`today`: the chat's,
    which words in a date are read from; `kpi`: the one edited).

    A `%` after a number (`target=40 %`) was dropped without a word: it makes a KPI without
    a unit a percent KPI (`as_read` says so), and is refused on a KPI counted in another unit
    or beside a unit typed in the same command (`unit=kg`, `unit=`), which it would overrule;
    that refusal names the unit as typed, not as if the KPI were counted in it already.
    """
    out: dict[str, Any] = {}
    for field, raw in options.items():
        if field in PLACEMENT:
            continue
        dated = DATED.get(field)
        value = PARSERS[field](raw) if dated is None else dated(raw, today)
        if field == "tol" and value is not None and value < 0:
            raise UsageError("tol= must not be negative.")
        out[_RENAMED.get(field, field)] = value
    unit, name = ("", "the KPI") if kpi is None else (kpi.unit, kpi.name)
    percent_unit(options, out, unit, name)
    return out


#: The number fields a `%` may follow, in the KPI's own unit.
_PERCENT_FIELDS = ("target", "baseline", "min", "max", "tol", "warn", "crit")


def percent_unit(
    options: Mapping[str, str],
    out: dict[str, Any],
    unit: str,
    name: str,
    numbers: Sequence[str] = _PERCENT_FIELDS,
) -> None:
    """The one rule for a `%` after a number option (a KPI's `target=40 %`, a key result's
    `start=40%`; `numbers`: the options it may follow): it makes a thing without a unit
    (`unit`, named `name`: "the KPI" for one being made) a percent one (`out["unit"]` set), and is
    refused on one counted in another unit or beside a unit typed in the same command
    (`out["unit"]`: `unit=kg`, `unit=`), which it would overrule; the refusal names the unit
    as typed, not as if the thing were counted in it already."""
    percent = _percent_field(options, numbers)
    unit = out.get("unit", unit)
    if percent is None or unit == "%":
        return
    raw = options[percent]
    if "unit" in out:  # typed beside it (`unit=kg`, `unit=`): said as typed, not as stored
        typed = f"unit={clip(unit)} is typed with it"
        but = typed if unit else f"unit= leaves {name} without a unit"
    elif unit:
        but = f"{name} is counted in {clip(unit)}"
    if "unit" in out or unit:
        raise UsageError(
            f"{percent}={clip(raw)} has a % sign, but {but}: write "
            f"{percent}={clip(raw.rstrip('% '))}, or unit=% if it is a percentage"
            f"{'' if 'unit' in out else ' now'}. Nothing was saved."
        )
    out["unit"] = "%"


def _percent_field(
    options: Mapping[str, str], numbers: Sequence[str] = _PERCENT_FIELDS
) -> str | None:
    """The first number option typed with a `%` after it (`target=40 %`), if any."""
    return next((f for f in numbers if options.get(f, "").rstrip().endswith("%")), None)


def percent_note(
    options: Mapping[str, str], fields: Mapping[str, Any], numbers: Sequence[str] = _PERCENT_FIELDS
) -> str:
    """`unit=% (from the % after 40)` when a `%` after a number gave the unit, else ""."""
    percent = _percent_field(options, numbers)
    if percent is None or "unit" in options or fields.get("unit") != "%":
        return ""
    number = fields.get(_RENAMED.get(percent, percent))
    after = format_number(number) if isinstance(number, int | float) else options[percent]
    return f"unit=% (from the % after {after})"


def as_read(
    options: Mapping[str, str],
    fields: Mapping[str, Any],
    *,
    typed: bool = True,
    numbers: Sequence[str] = _PERCENT_FIELDS,
) -> str:
    """`target=1, staged=2027-03-31:10 500, no owner`: the options with each number and date
    as it was read (`target=1.000` shows `target=1`, `staged=2027Q1:…` its last day), so a
    reading people did not mean is seen at once, not hidden behind their own typing; a
    cleared field in words (`owner=none` would read as someone called "none"). With
    `typed=False` only what was read into a number or a date is listed (`/kpi add`);
    `numbers` are the options a `%` may follow (a key result's: `start`, `target`)."""
    shown = []
    for field, raw in options.items():
        text, read = _as_read(field, raw, fields)
        if typed or read:
            shown.append(text)
    if note := percent_note(options, fields, numbers):
        shown.append(note)
    return ", ".join(shown)


def _as_read(field: str, raw: str, fields: Mapping[str, Any]) -> tuple[str, bool]:
    """One option as read, and whether it was read into a number or a date."""
    read = fields.get(_RENAMED.get(field, field), raw)
    if read is None or read == "":  # `owner=none`, `unit=none`: cleared
        return f"no {field}", False
    if isinstance(read, int | float) and not isinstance(read, bool):
        return f"{field}={format_number(read)}", True
    if isinstance(read, date):
        return f"{field}={read.isoformat()}", True
    if isinstance(read, tuple) and all(isinstance(s, StagedTarget) for s in read):
        stages = ",".join(f"{s.until.isoformat()}:{format_number(s.target)}" for s in read)
        return f"{field}={stages}", True
    return f"{field}={raw}", False


def general_objective(cmd: Command, ctx: Context, perspective_raw: str) -> Objective:
    """The perspective's catch-all objective, created on demand for `perspective=` KPIs."""
    perspective = perspective_or_fail(cmd, ctx, perspective_raw)
    key = f"{perspective.key}-general"
    existing = ctx.store.scorecards.objective(cmd.chat.key, key)
    if existing is not None and (not existing.general or existing.perspective != perspective.key):
        raise Conflict(
            f"Objective '{key}' is not {perspective.name}'s general objective any more; "
            "say where the KPI goes with objective=<key>."
        )
    if existing is not None:
        return existing
    return Objective(
        key=key,
        name=f"{perspective.name}: general",
        perspective=perspective.key,
        general=True,
    )


def placement(cmd: Command, ctx: Context, options: Mapping[str, str]) -> Objective | None:
    """The objective a KPI goes to from `objective=` or `perspective=` (None: unchanged)."""
    if "objective" in options and "perspective" in options:
        raise UsageError("Give objective= or perspective=, not both.")
    if "objective" in options:
        return objective_or_fail(cmd, ctx, options["objective"])
    if "perspective" in options:
        return general_objective(cmd, ctx, options["perspective"])
    return None


def build_kpi(base: dict[str, Any], updates: Mapping[str, Any]) -> Kpi:
    """Merge, fill in the direction the numbers imply, and validate with the scoring rules."""
    data = {**base, **updates}
    if "direction" not in updates and "direction" not in base:
        # a new KPI: the numbers say which way is better; an edit keeps the stored direction
        # and validation explains a target on the wrong side of the baseline
        data["direction"] = infer_direction(data.get("baseline", 0.0), data["target"])
    if data.get("direction") != "range" and "tolerance" not in updates:
        data["tolerance"] = None  # a tolerance only means something for a range
    kpi = Kpi.model_validate(data)
    validate_kpi(kpi)
    validate_dated(kpi)
    return kpi


def require_new_key(cmd: Command, ctx: Context, raw: str) -> str:
    """A key for a new KPI: valid and not taken (a removed KPI's key is taken until purged)."""
    key = normalize_key(raw, "KPI key")
    if key in RESERVED:
        raise UsageError(f"'{key}' is a /kpi command word; pick another key.")
    existing = ctx.store.kpis.get(cmd.chat.key, key)
    if existing is not None:
        if existing.removed_at is not None:
            raise Conflict(
                f"'{key}' belongs to a removed KPI: /kpi restore {key} brings it back, "
                f"/kpi remove {key} confirm deletes it for good."
            )
        raise Conflict(f"KPI '{key}' already exists: change it with /kpi edit {key} field=value")
    return key
