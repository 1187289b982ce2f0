"""`/okr kr` and `/okr checkin`: an OKR's key results, their KPI links and check-ins."""

from __future__ import annotations

import re

from handlers import calculated, render
from handlers.common import (
    author_id,
    chat_now,
    chat_today,
    edit_request,
    kpi_or_fail,
    kr_or_fail,
    need,
    okr_or_fail,
    who,
)
from handlers.contract import Command, Conflict, Context, Field, Reply, UsageError, command
from handlers.dates import starts_date
from handlers.far_values import (
    CANCELLED,
    addition,
    ask_first,
    ask_fraction,
    confirmed,
    far_from,
    fraction_typed,
)
from handlers.kpi_fields import as_read, percent_unit
from handlers.okr import KR_USAGE, resolve_links
from handlers.parsing import (
    FieldParser,
    clip,
    dot_reading,
    name_of_words,
    normalize_key,
    note_of,
    number_shaped,
    parse_fields,
    parse_name,
    parse_number,
    parse_owner,
    parse_unit,
    parse_unit_value,
    parse_weight,
    split_options,
    take_date,
    take_number_tokens,
    unit_left_out,
    words_after_value,
)
from handlers.router import Router
from scoring.models import CheckIn, KeyResult
from scoring.okr import kr_grade, kr_progress

#: What a check-in far from its key result's numbers is parked as until confirmed.
CHECKIN_KIND = "okr-checkin"
KR_FIELDS = ("name", "start", "target", "unit", "weight", "owner", "kpi")
#: The numbers a `%` may follow (`start=40%`): it was dropped without a word; now the KPI's
#: rule holds (`percent_unit`).
_KR_NUMBERS = ("start", "target")
KR_PARSERS: dict[str, FieldParser] = {
    "name": parse_name,
    "start": lambda raw: parse_number(raw, "start"),
    "target": lambda raw: parse_number(raw, "target"),
    "unit": parse_unit,
    "weight": parse_weight,
    "owner": parse_owner,
    "kpi": str,
}


def _follow_kpi(cmd: Command, ctx: Context, kr: KeyResult) -> KeyResult:
    """A KPI-driven key result takes the KPI's current value (its period aggregate)."""
    if kr.kpi is None:
        return kr
    kpi = kpi_or_fail(cmd, ctx, kr.kpi)
    return kr.model_copy(update={"current": calculated.reading(ctx, cmd.chat.key, kpi).value})


def followers(ctx: Context, chat: str, kpi: str) -> list[KeyResult]:
    """The key results whose value follows KPI `kpi`."""
    if kpi not in ctx.store.okrs.kpis_driving(chat):
        return []
    return [kr for kr in ctx.store.okrs.key_results(chat) if kr.kpi == kpi]


def followed_note(ctx: Context, chat: str, kpi: str) -> str:
    """What `/kpi remove` adds when key results follow the KPI ("" when none does)."""
    keys = [kr.key for kr in followers(ctx, chat, kpi)]
    if not keys:
        return ""
    one = len(keys) == 1
    return (
        f"\nHeads-up: key result{'' if one else 's'} {', '.join(keys)} "
        f"follow{'s' if one else ''} it; /okr shows it as removed until you restore it."
    )


def let_go(ctx: Context, chat: str, kpi: str) -> str:
    """A KPI deleted for good: the key results following it stop following it and keep
    their last value (they answered "No KPI" to every check-in and edit, and would have
    followed a new KPI given the same key); what the reply says of them ("" for none)."""
    said = []
    for kr in followers(ctx, chat, kpi):
        ctx.store.okrs.put_key_result(chat, kr.model_copy(update={"kpi": None}))
        last = render.num(kr.current if kr.current is not None else kr.start, kr.unit)
        said.append(
            f" Key result {kr.key} no longer follows it and keeps its last value, {last}: "
            f"check in values by hand, /okr checkin {kr.key} <value>."
        )
    return "".join(said)


def _check_kr(kr: KeyResult) -> KeyResult:
    if kr.start == kr.target:
        raise UsageError(
            f"start and target are both {render.num(kr.start)}: progress needs a distance."
        )
    return kr


@command(
    "okr kr",
    usage=KR_USAGE,
    example='/okr kr delight nps "Raise NPS" start=30 target=50',
    mutates=True,
    aliases=("okr kr add",),
)
async def okr_kr_add(cmd: Command, ctx: Context) -> Reply:
    """Add a key result to an OKR objective (decreasing KRs: target below start).

    With `kpi=<key>` its current value follows that KPI; check-ins then record confidence.
    """
    positional, options = split_options(cmd.args, KR_FIELDS)
    need(positional, 3)
    okr = okr_or_fail(cmd, ctx, positional[0])
    key = normalize_key(positional[1], "key result key")
    if ctx.store.okrs.key_result(cmd.chat.key, key) is not None:
        raise Conflict(f"Key result '{key}' already exists: /okr kr edit {key} field=value")
    fields = parse_fields(options, KR_PARSERS)
    percent_unit(options, fields, "", "the key result", _KR_NUMBERS)
    resolve_links(cmd, ctx, fields)
    missing = [f for f in ("start", "target") if f not in fields]
    if missing:
        raise UsageError(f"{' and '.join(f + '=' for f in missing)} required.", usage=True)
    name = name_of_words(positional[2:], "key result name")
    kr = _check_kr(KeyResult.model_validate({"key": key, "okr": okr.key, "name": name, **fields}))
    kr = _follow_kpi(cmd, ctx, kr)
    ctx.store.okrs.put_key_result(cmd.chat.key, kr)
    follows = f", following KPI {kr.kpi} (now {render.num(kr.current, kr.unit)})" if kr.kpi else ""
    return Reply(
        text=f"Saved key result {kr.name} ({key}) of {okr.key}: {render.num(kr.start)} → "
        f"{render.num(kr.target, kr.unit)}{follows}."
    )


@command(
    "okr kr edit",
    usage="/okr kr edit <kr-key> field=value…",
    example="/okr kr edit nps target=55",
    mutates=True,
)
async def okr_kr_edit(cmd: Command, ctx: Context) -> Reply:
    """Change a key result's name, start, target, unit, weight, owner or KPI (`kpi=none`)."""
    raw, options = edit_request(cmd, KR_FIELDS)
    kr = kr_or_fail(cmd, ctx, raw)
    fields = parse_fields(options, KR_PARSERS)
    percent_unit(options, fields, kr.unit, kr.name, _KR_NUMBERS)
    resolve_links(cmd, ctx, fields)
    updated = _follow_kpi(
        cmd, ctx, _check_kr(KeyResult.model_validate({**kr.model_dump(), **fields}))
    )
    ctx.store.okrs.put_key_result(cmd.chat.key, updated)
    # each number as read (`target=12.000` is 12), as /kpi edit says it
    read = as_read(options, fields, numbers=_KR_NUMBERS)
    return Reply(text=f"Updated key result {updated.name} ({updated.key}): {read}.")


@command(
    "okr kr remove",
    usage="/okr kr remove <kr-key>",
    example="/okr kr remove nps",
    mutates=True,
    role="admin",
)
async def okr_kr_remove(cmd: Command, ctx: Context) -> Reply:
    """Remove a key result and its check-ins."""
    need(cmd.args, 1)
    kr = kr_or_fail(cmd, ctx, cmd.args[0])
    ctx.store.okrs.remove_key_result(cmd.chat.key, kr.key)
    return Reply(text=f"Removed key result {kr.name} ({kr.key}).")


@command(
    "okr checkin",
    usage="/okr checkin <kr> <value> [confidence=1-10] [note…] (a KPI-driven KR: no value)",
    example="/okr checkin nps 38 confidence=7 after the survey",
    mutates=True,
)
async def okr_checkin(cmd: Command, ctx: Context) -> Reply:
    """Record a key-result check-in with who, when and how confident (1–10)."""
    positional, options = split_options(cmd.args, ("confidence",))
    need(positional, 1)
    kr = kr_or_fail(cmd, ctx, positional[0])  # an unknown KR says so, not "missing value"
    need(positional, 1 if kr.kpi is not None else 2)
    reading, known = "", [kr.start, kr.target, *([] if kr.current is None else [kr.current])]
    meant = None  # the percent a share typed as a fraction meant (`0.031` for 3.1 %)
    if kr.kpi is not None:  # the value follows the KPI; the check-in records confidence
        if len(positional) > 1 and number_shaped(positional[1]):
            raise _follows(kr)
        kr = _follow_kpi(cmd, ctx, kr)
        value, nxt = kr.current if kr.current is not None else kr.start, 1
    else:
        # `15 € after the campaign`: the unit is no note; `400 $` on a € key result is
        # refused, as /kpi set does
        before = len(positional)  # `unit_left_out` drops a unit typed apart (`0.031 %`)
        positional = list(unit_left_out(tuple(positional), kr.unit))
        raw, nxt = take_number_tokens(positional, 1)
        value = parse_unit_value(raw, kr.key, kr.name, kr.unit, edit="/okr kr edit")
        if raw[:1] == "+":  # `+5`: 5 more was meant, and 5 would be checked in
            raise addition(f"/okr checkin {kr.key}", value, kr.unit, kr.current)
        words_after_value(
            raw, value, positional[nxt:], kr.key, kr.name, kr.unit, edit="/okr kr edit"
        )
        reading = dot_reading(raw, value, known)  # `14.000`, as /kpi set says it
        meant = fraction_typed(kr.unit, value, raw, len(positional) != before, known)
    confidence = None
    if "confidence" in options:
        raw_conf = options["confidence"].strip()
        conf = float(raw_conf) if re.fullmatch(r"[0-9]+", raw_conf) else 0.0
        if not conf.is_integer() or not 1 <= conf <= 10:
            raise UsageError("confidence must be a whole number from 1 to 10.")
        confidence = int(conf)
    _no_date(cmd, ctx, positional, nxt)
    note = note_of(positional[nxt:])
    numbers = "start and target" if kr.current is None else "start, target and latest check-in"
    payload = {"kr": kr.key, "value": value, "confidence": confidence, "note": note}
    if kr.kpi is None and far_from(value, known):
        about = f"the {numbers} of {kr.name}"
        return ask_first(cmd, ctx, CHECKIN_KIND, payload, known, about=about, unit=kr.unit)
    if meant is not None:  # as `/kpi set` asks
        about = f"its {numbers}"
        return ask_fraction(
            cmd, ctx, CHECKIN_KIND, payload, meant, known, name=kr.name, about=about
        )
    saved = _check_in(cmd, ctx, kr, value, confidence, note)
    return saved.model_copy(update={"text": f"{saved.text}\n{reading}"}) if reading else saved


@command(
    "okr confirm",
    usage="/okr confirm <id> [cancel|x100]",
    example="/okr confirm 3f9a1c2b",
    mutates=True,
)
async def okr_confirm(cmd: Command, ctx: Context) -> Reply:
    """Record (or drop, with `cancel`) a check-in that was far from its key result's numbers;
    `x100`: a share written as a fraction, recorded as the percent it meant."""
    payload = confirmed(cmd, ctx, CHECKIN_KIND)
    if payload is None:
        return Reply(text=CANCELLED)
    kr = kr_or_fail(cmd, ctx, str(payload["kr"]))
    if kr.kpi is not None:  # linked to a KPI since it was parked: its value is the KPI's
        raise _follows(kr)
    confidence = payload["confidence"]
    return _check_in(
        cmd,
        ctx,
        kr,
        float(payload["value"]),
        None if confidence is None else int(confidence),
        str(payload["note"]),
    )


def _no_date(cmd: Command, ctx: Context, words: list[str], start: int) -> None:
    """A day other than today right after a check-in's value (`2500 yesterday`, read as
    `/kpi set` reads one) is refused: a check-in is dated when it is sent, and the date was
    kept as its note without a word. Today's (`2500 today looks good`) and words that only
    look like a date (`march campaign`) stay the note, as before."""
    if not starts_date(words, start):
        return
    today = chat_today(cmd, ctx)
    try:
        day, end = take_date(words, start, today)
    except UsageError:  # not a date after all: the note's words
        return
    if day is None or day == today:
        return
    raise UsageError(
        f"'{clip(' '.join(words[start:end]))}' is a date, and a check-in takes none: it "
        "records where the key result stands when you send it. Send it without the date."
    )


def _follows(kr: KeyResult) -> UsageError:
    """Why a value typed for `kr`, which follows a KPI, is not recorded."""
    return UsageError(
        f"{kr.key} follows KPI {kr.kpi}: record values with /kpi set {kr.kpi} …; "
        f"a check-in records confidence, e.g. /okr checkin {kr.key} confidence=7"
    )


def _check_in(
    cmd: Command,
    ctx: Context,
    kr: KeyResult,
    value: float,
    confidence: int | None,
    note: str,
) -> Reply:
    """Save the check-in and say where the key result stands."""
    checkin = CheckIn(
        kr=kr.key,
        value=value,
        at=chat_now(cmd, ctx),
        by=who(cmd),
        by_id=author_id(cmd),
        confidence=confidence,
        note=note,
    )
    updated = ctx.store.okrs.check_in(cmd.chat.key, checkin)
    fields = [
        Field(label="Progress", value=render.pct(kr_progress(updated))),
        Field(label="Grade", value=f"{kr_grade(updated):.1f}"),
    ]
    if confidence is not None:
        fields.append(Field(label="Confidence", value=f"{confidence}/10"))
    return Reply(
        text=f"Checked in {kr.name}: {render.num(value, kr.unit)} "
        f"(target {render.num(kr.target, kr.unit)}).",
        fields=tuple(fields),
    )


def register(router: Router) -> None:
    """Register /okr kr and /okr checkin."""
    router.include(okr_kr_add, okr_kr_edit, okr_kr_remove, okr_checkin, okr_confirm)
