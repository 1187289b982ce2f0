"""`/kpi add|edit|remove|restore`: a KPI's definition and its life (history kept on remove)."""

from __future__ import annotations

from handlers import alert_pipeline, calculated, render
from handlers.common import chat_today, edit_request, kpi_or_fail, need
from handlers.contract import (
    Button,
    Command,
    Conflict,
    Context,
    Reply,
    UsageError,
    command,
)
from handlers.funnel import users_of
from handlers.history import check_may_undo, removal_of
from handlers.kpi_fields import (
    ADD_FIELDS,
    DIRECTIONS,
    as_read,
    build_kpi,
    placement,
    require_new_key,
    typed_fields,
)
from handlers.kpi_set import formula_note
from handlers.okr_key_results import followed_note, let_go
from handlers.parsing import (
    name_of_words,
    split_options,
)
from scoring.models import FOCUS_PER_PERSPECTIVE, FOCUS_TOTAL, Kpi

ADD_USAGE = (
    '/kpi add <key> "<name>" target=<n> [baseline=<n>] [direction=up|down|range] [min=<n>] '
    "[max=<n>] [tol=<n>] [unit=<u>] [weight=<n>] [objective=<key>] [perspective=<key>] "
    "[owner=@user] [every=day|week|month|quarter] [warn=<n>] [crit=<n>] [test=yes|no] "
    '[formula="<expr>"] [agg=last|sum|avg|max|min] [due=YYYY-MM-DD] [from=YYYY-MM-DD] '
    "[staged=2027Q1:<n>,…]"
)


@command(
    "kpi add",
    usage=ADD_USAGE,
    example='/kpi add cac "Customer acquisition cost" baseline=120 target=80 unit=$ '
    "perspective=finance",
    mutates=True,
)
async def kpi_add(cmd: Command, ctx: Context) -> Reply:
    """Create a KPI on an objective (or a perspective's general objective).

    Without objective= or perspective= it offers the perspectives as buttons.
    """
    positional, options = split_options(cmd.args, ADD_FIELDS)
    need(positional, 1)
    key = require_new_key(cmd, ctx, positional[0])
    name = name_of_words(positional[1:], "KPI name", options.get("name"))
    if not name:
        raise UsageError("Give the KPI a name in quotes.", usage=True)
    direction = DIRECTIONS.get(options.get("direction", "").casefold())
    if "target" not in options and direction != "range":
        raise UsageError(f'target= is required, e.g. /kpi add {key} "{name}" target=100')
    fields = typed_fields(options, chat_today(cmd, ctx))
    fields.setdefault("name", name)
    fields["name"] = name
    if "target" not in fields:  # a range KPI aims for the middle of its range
        low, high = fields.get("min"), fields.get("max")
        if low is None or high is None:
            raise UsageError("A range KPI needs min= and max=.")
        fields["target"] = (low + high) / 2
    objective = placement(cmd, ctx, options)
    chat = cmd.chat.key
    _dated_defaults(cmd, ctx, fields, None)
    if fields.get("formula"):
        fields["formula"] = calculated.check_formula(ctx, chat, key, fields["formula"]).text
    if objective is None:  # checked whole first, so a pressed button saves it
        build_kpi({"key": key, "objective": "-"}, fields)
        return _ask_perspective(cmd, ctx, key)
    kpi = build_kpi({"key": key, "objective": objective.key}, fields)
    if ctx.store.scorecards.objective(chat, objective.key) is None:
        ctx.store.scorecards.put_objective(chat, objective)
    ctx.store.kpis.put(chat, kpi)
    computed = ""
    if kpi.formula:
        changed = calculated.backfill(ctx, chat, kpi, ctx.clock())
        alert_pipeline.on_values_recorded(ctx, chat, changed)
        computed = " " + formula_note(ctx, chat, kpi)
    numbers = as_read(options, fields, typed=False)
    return Reply(
        text=f"Saved KPI {kpi.name} ({kpi.key}){': ' if numbers else ''}{numbers}.{computed}"
        f"{_focus_warning(cmd, ctx, objective.perspective)}"
    )


def _dated_defaults(
    cmd: Command, ctx: Context, fields: dict[str, object], old: Kpi | None
) -> None:
    """A new due date starts its clock today unless `from=` says otherwise."""
    due = fields.get("due", old.due if old else None)
    if due is None:
        if "from" in fields or "due_from" in fields:
            raise UsageError("from= is the start of a dated target; give due= too.")
        return
    if "due_from" not in fields and (old is None or old.due_from is None or "due" in fields):
        fields["due_from"] = chat_today(cmd, ctx)


def _ask_perspective(cmd: Command, ctx: Context, key: str) -> Reply:
    """`/kpi add` without a place: one button per perspective re-sends it with that place."""
    perspectives = ctx.store.scorecards.perspectives(cmd.chat.key)
    return Reply(
        text=f"Which perspective does {key} belong to? Pick one (or add objective=<key>); "
        "nothing is saved until you do.",
        buttons=tuple(
            Button(label=p.name, command=f"/kpi {cmd.text} perspective={p.key}")
            for p in perspectives
        ),
    )


def _focus_warning(cmd: Command, ctx: Context, perspective: str) -> str:
    chat = cmd.chat.key
    objectives = {o.key: o.perspective for o in ctx.store.scorecards.objectives(chat)}
    kpis = ctx.store.kpis.all(chat)
    here = sum(1 for k in kpis if objectives.get(k.objective) == perspective)
    if here > FOCUS_PER_PERSPECTIVE:
        return (
            f"\nHeads-up: {here} KPIs in {perspective}. Focus is lost beyond "
            f"{FOCUS_PER_PERSPECTIVE}; keep the 3–5 that matter."
        )
    if len(kpis) > FOCUS_TOTAL:
        return (
            f"\nHeads-up: {len(kpis)} KPIs in total. Focus is lost beyond {FOCUS_TOTAL}; "
            "keep the 3–5 per perspective that matter."
        )
    return ""


@command(
    "kpi edit",
    usage="/kpi edit <key> field=value…",
    example="/kpi edit cac target=75 owner=@anna",
    mutates=True,
)
async def kpi_edit(cmd: Command, ctx: Context) -> Reply:
    """Change fields of a KPI (`objective=` or `perspective=` moves it).

    A formula change that would leave stored values without a value asks first.
    """
    confirmed = cmd.args[-1:] == ("confirm",)
    if confirmed:
        cmd = cmd.model_copy(update={"args": cmd.args[:-1]})
    raw, options = edit_request(cmd, ADD_FIELDS)
    kpi = kpi_or_fail(cmd, ctx, raw)
    objective = placement(cmd, ctx, options)
    updates = typed_fields(options, chat_today(cmd, ctx), kpi)
    if objective is not None:
        updates["objective"] = objective.key
    chat = cmd.chat.key
    _dated_defaults(cmd, ctx, updates, kpi)
    if updates.get("formula"):
        updates["formula"] = calculated.check_formula(ctx, chat, kpi.key, updates["formula"]).text
    updated = build_kpi(kpi.model_dump(), updates)
    dropped = calculated.values_dropped(ctx, chat, kpi, updated)
    if dropped is not None and not confirmed:
        return dropped.question(cmd, kpi, updated)
    if objective is not None and ctx.store.scorecards.objective(chat, objective.key) is None:
        ctx.store.scorecards.put_objective(chat, objective)
    ctx.store.kpis.put(chat, updated)
    recomputed: list[Kpi] = []
    how = ("formula", "agg", "every")
    if any(getattr(kpi, f) != getattr(updated, f) for f in how):
        if updated.formula:
            recomputed = calculated.backfill(ctx, chat, updated, ctx.clock())
        else:  # formulas reading this KPI combine its values differently now
            days = {m.day for m in ctx.store.kpis.history(chat, kpi.key)}
            recomputed = calculated.values_changed(ctx, chat, {kpi.key: days}, ctx.clock())
    if updated.removed_at is None:
        others = [k for k in recomputed if k.key != updated.key]
        alert_pipeline.on_values_recorded(ctx, chat, [updated, *others])
    else:
        alert_pipeline.on_kpi_changed(ctx, chat, updated)
    text = f"Updated {updated.name} ({updated.key}): {as_read(options, updates)}."
    if dropped is not None:
        text += f" Removed its {dropped.what()}: {dropped.reason}."
    return Reply(text=text)


@command(
    "kpi remove",
    usage="/kpi remove <key> [confirm]",
    example="/kpi remove cac",
    mutates=True,
    role="admin",
)
async def kpi_remove(cmd: Command, ctx: Context) -> Reply:
    """Remove a KPI; its history is kept until you confirm (or undo with /kpi restore)."""
    need(cmd.args, 1)
    confirm = len(cmd.args) > 1 and cmd.args[1].casefold() == "confirm"
    kpi = kpi_or_fail(cmd, ctx, cmd.args[0], removed=True)
    chat = cmd.chat.key
    if confirm:
        if kpi.removed_at is None:
            # Confirms an earlier remove only: a stale "Delete for good" button pressed
            # after Undo must not delete a KPI that is back on the scorecard.
            raise UsageError(
                f"{kpi.name} ({kpi.key}) is not removed, so there is nothing to confirm. "
                f"Remove it first: /kpi remove {kpi.key}"
            )
        gone = ctx.store.kpis.purge(chat, kpi.key)
        alert_pipeline.on_kpi_deleted(ctx, chat, kpi.key)
        released = let_go(ctx, chat, kpi.key)  # its key results stop following it
        values = f" and its {render.plural(gone, 'value')}" if gone else ""
        text = f"Deleted {kpi.name} ({kpi.key}){values} for good.{released}"
        if users := users_of(ctx, chat, kpi.key):
            verb = "lists" if len(users) == 1 else "list"
            text += f" {_listed(users)} still {verb} it, shown as deleted."
        return Reply(text=text)
    if kpi.removed_at is not None:
        raise UsageError(
            f"{kpi.key} is already removed: /kpi restore {kpi.key} "
            f"or /kpi remove {kpi.key} confirm"
        )
    readers = [user.key for user in calculated.readers(ctx, chat, kpi.key)]
    if readers:
        raise Conflict(
            f"{kpi.key} is read by the formula of {', '.join(readers)}; change "
            f"{'that formula' if len(readers) == 1 else 'those formulas'} first "
            f"(/kpi edit {readers[0]} formula=…)."
        )
    removed = kpi.model_copy(update={"removed_at": ctx.clock()})
    ctx.store.kpis.put(chat, removed)
    alert_pipeline.on_kpi_changed(ctx, chat, removed)
    count = ctx.store.kpis.count(chat, kpi.key)
    kept = (
        "it has no values"
        if count == 0
        else f"its {render.plural(count, 'value')} {'is' if count == 1 else 'are'} kept "
        "until you confirm"
    )
    return Reply(
        text=(
            f"Removed {kpi.name} ({kpi.key}) from the scorecard; {kept}. "
            f"Undo: /kpi restore {kpi.key}"
            + _used_by(ctx, chat, kpi.key)
            + followed_note(ctx, chat, kpi.key)
        ),
        buttons=(
            Button(label="Undo", command=f"/kpi restore {kpi.key}"),
            Button(label="Delete for good", command=f"/kpi remove {kpi.key} confirm"),
        ),
    )


def _listed(users: list[str]) -> str:
    """`Funnel mkt and journey cx`."""
    text = users[0] if len(users) == 1 else f"{', '.join(users[:-1])} and {users[-1]}"
    return text[0].upper() + text[1:]


def _used_by(ctx: Context, chat: str, key: str) -> str:
    """The heads-up a removal gives when funnels or journeys list the KPI."""
    users = users_of(ctx, chat, key)
    if not users:
        return ""
    one = len(users) == 1
    return (
        f"\nHeads-up: {_listed(users)} {'lists' if one else 'list'} it; "
        f"{'it shows' if one else 'they show'} it as removed until you restore it."
    )


@command("kpi restore", usage="/kpi restore <key>", example="/kpi restore cac", mutates=True)
async def kpi_restore(cmd: Command, ctx: Context) -> Reply:
    """Bring back a removed KPI with its history."""
    need(cmd.args, 1)
    kpi = kpi_or_fail(cmd, ctx, cmd.args[0], removed=True)
    if kpi.removed_at is None:
        return Reply(text=f"{kpi.name} ({kpi.key}) is not removed; nothing to do.")
    # restoring takes a removal back: the rule `/undo` of that removal follows
    check_may_undo(cmd, ctx, removal_of(ctx, cmd.chat.key, kpi), f"The removal of {kpi.key}")
    restored = kpi.model_copy(update={"removed_at": None})
    chat = cmd.chat.key
    if restored.formula:  # its inputs may have changed (or gone) while it was away
        calculated.check_formula(ctx, chat, restored.key, restored.formula)
    ctx.store.kpis.put(chat, restored)
    alert_pipeline.on_kpi_changed(ctx, chat, restored)
    if restored.formula:
        alert_pipeline.on_values_recorded(
            ctx, chat, calculated.backfill(ctx, chat, restored, ctx.clock())
        )
    return Reply(text=f"Restored {kpi.name} ({kpi.key}) with its history.")


#: A value this many times above or below a KPI's recent values is asked about first.
