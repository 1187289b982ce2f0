"""`/scorecard templates|template|apply`: start from one of the articles' scorecards.

Applying merges: what the chat already has under the same key is kept (and listed), the
rest is added in one atomic step. Preview first, then a button applies it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from handlers import render
from handlers.common import chat_zone, need
from handlers.contract import Button, Command, Conflict, Context, Reply, Table, UsageError, command
from handlers.router import Router
from scoring.models import (
    MAX_PERSPECTIVES,
    Initiative,
    KeyResult,
    Kpi,
    Link,
    Objective,
    Okr,
    Perspective,
)
from scoring.okr import current_quarter
from scoring.strategy_map import would_create_cycle
from scoring.templates import TEMPLATES, Template
from storage import Store


@dataclass(slots=True)
class Plan:
    """What applying a template to one chat would add, and what it keeps as it is."""

    perspectives: list[Perspective]
    new_perspectives: list[str] = field(default_factory=list)
    objectives: list[Objective] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    kpis: list[Kpi] = field(default_factory=list)
    initiatives: list[Initiative] = field(default_factory=list)
    okrs: list[Okr] = field(default_factory=list)
    key_results: list[KeyResult] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def added(self) -> str:
        """`13 objectives, 7 KPIs, …` for the reply."""
        parts = [
            (len(self.new_perspectives), "perspective"),
            (len(self.objectives), "objective"),
            (len(self.links), "link"),
            (len(self.kpis), "KPI"),
            (len(self.initiatives), "initiative"),
            (len(self.okrs), "OKR"),
            (len(self.key_results), "key result"),
        ]
        return ", ".join(render.plural(n, what) for n, what in parts if n) or "nothing new"

    def next_step(self) -> str:
        """What to do next with what was added: record KPI values, or check in on OKRs."""
        if self.kpis:
            return "Next: record values with /kpi set <key> <value>, see /scorecard and /map."
        if self.key_results:
            return (
                f"Next: check in with /okr checkin {self.key_results[0].key} <value>, "
                "see /okr progress."
            )
        return "See /scorecard and /map."


def _template(raw: str) -> Template:
    template = TEMPLATES.get(raw.casefold())
    if template is None:
        raise UsageError(f"No template '{raw}'. Templates: {', '.join(TEMPLATES)}")
    return template


def plan_template(store: Store, chat: str, template: Template, cycle: str) -> Plan:
    """Merge `template` into the chat's scorecard without touching what exists."""
    current = store.scorecards.perspectives(chat)
    have = {p.key for p in current}
    perspectives = [p for p in template.perspectives if p.key not in have]
    merged = _merge_perspectives(current, template.perspectives)
    if len(merged) > MAX_PERSPECTIVES:
        raise Conflict(
            f"{template.name} needs {len(perspectives)} more perspectives and a scorecard has "
            f"at most {MAX_PERSPECTIVES}; remove some first (/perspective remove <key>)."
        )
    plan = Plan(perspectives=merged, new_perspectives=[p.key for p in perspectives])
    existing = {o.key: o for o in store.scorecards.objectives(chat)}
    keys = {o.key: _own_key(existing, template, o) for o in template.objectives}
    for objective in template.objectives:
        placed = objective.model_copy(update={"key": keys[objective.key]})
        _add_or_keep(plan.objectives, plan.kept, placed, placed.key in existing, "objective")
    links = store.scorecards.links(chat)
    for link in (Link(cause=keys[x.cause], effect=keys[x.effect]) for x in template.links):
        if link not in links and not would_create_cycle(
            [*links, *plan.links], link.cause, link.effect
        ):
            plan.links.append(link)
    kpis = {k.key for k in store.kpis.all(chat, include_removed=True)}
    for kpi in template.kpis:
        kpi = kpi.model_copy(update={"objective": keys.get(kpi.objective, kpi.objective)})
        _add_or_keep(plan.kpis, plan.kept, kpi, kpi.key in kpis, "KPI")
    initiatives = {i.key for i in store.initiatives.all(chat)}
    for initiative in template.initiatives:
        if initiative.objective is not None:
            moved = keys.get(initiative.objective, initiative.objective)
            initiative = initiative.model_copy(update={"objective": moved})
        _add_or_keep(
            plan.initiatives, plan.kept, initiative, initiative.key in initiatives, "initiative"
        )
    okrs = {o.key for o in store.okrs.okrs(chat)}
    for okr in template.okrs:
        dated = okr.model_copy(update={"cycle": okr.cycle or cycle})
        _add_or_keep(plan.okrs, plan.kept, dated, okr.key in okrs, "OKR")
    krs = {k.key for k in store.okrs.key_results(chat)}
    for kr in template.key_results:
        _add_or_keep(plan.key_results, plan.kept, kr, kr.key in krs, "key result")
    return plan


def _own_key(existing: dict[str, Objective], template: Template, objective: Objective) -> str:
    """The key `objective` gets in this chat: its own, unless an unrelated objective has it.

    Templates share short keys (`funnel` is startup's "Turn visitors into customers" and
    CRM's "A clean lead funnel"); a template's KPIs must never land under another
    objective, so a clash gets `<template>-<key>` (`crm-funnel`). The same objective
    (same name and perspective, e.g. applied twice) keeps its key.
    """
    candidates = [objective.key, f"{template.key}-{objective.key}"[:40]]
    candidates += [f"{candidates[1][:37]}-{n}" for n in range(2, 100)]
    for key in candidates:
        have = existing.get(key)
        if have is None or (have.name, have.perspective) == (
            objective.name,
            objective.perspective,
        ):
            return key
    raise Conflict(f"Too many objectives named like '{objective.key}'; rename some first.")


def _merge_perspectives(
    current: list[Perspective], wanted: tuple[Perspective, ...]
) -> list[Perspective]:
    """The chat's perspectives in its own order, each missing one inserted after the
    template's nearest predecessor the chat has (at the top when there is none)."""
    merged = list(current)
    for i, perspective in enumerate(wanted):
        keys = [p.key for p in merged]
        if perspective.key in keys:
            continue
        before = [p.key for p in wanted[:i] if p.key in keys]
        position = keys.index(before[-1]) + 1 if before else 0
        merged.insert(position, perspective)
    return merged


ItemT = TypeVar("ItemT", Objective, Kpi, Initiative, Okr, KeyResult)


def _add_or_keep(
    added: list[ItemT], kept: list[str], item: ItemT, exists: bool, what: str
) -> None:
    if exists:
        kept.append(f"{what} {item.key}")
    else:
        added.append(item)


def apply_plan(store: Store, chat: str, plan: Plan) -> None:
    """Write a plan (callers run it inside one atomic step)."""
    if plan.new_perspectives or plan.perspectives != store.scorecards.perspectives(chat):
        store.scorecards.save_perspectives(chat, plan.perspectives)
    for objective in plan.objectives:
        store.scorecards.put_objective(chat, objective)
    for link in plan.links:
        store.scorecards.add_link(chat, link)
    for kpi in plan.kpis:
        store.kpis.put(chat, kpi)
    for initiative in plan.initiatives:
        store.initiatives.put(chat, initiative)
    for okr in plan.okrs:
        store.okrs.put_okr(chat, okr)
    for kr in plan.key_results:
        store.okrs.put_key_result(chat, kr)


def _cycle(cmd: Command, ctx: Context) -> str:
    settings = ctx.store.chats.settings(cmd.chat.key)
    return settings.okr_cycle or current_quarter(ctx.clock(), chat_zone(cmd, ctx))


@command("scorecard templates", usage="/scorecard templates", example="/scorecard templates")
async def template_list(cmd: Command, ctx: Context) -> Reply:
    """List the ready-made scorecards from the source articles."""
    rows = tuple(
        (
            t.key,
            t.name,
            f"{len(t.objectives)} obj, {len(t.kpis)} KPIs"
            + (f", {len(t.key_results)} KRs" if t.key_results else ""),
        )
        for t in TEMPLATES.values()
    )
    return Reply(
        title="Ready-made scorecards",
        table=Table(columns=("template", "name", "contents"), rows=rows),
        footer="Preview one: /scorecard template <name>; apply: /scorecard apply <name>",
    )


@command(
    "scorecard template",
    usage="/scorecard template <name>",
    example="/scorecard template startup",
)
async def template_preview(cmd: Command, ctx: Context) -> Reply:
    """Show what a template would add to this chat's scorecard, with an Apply button."""
    need(cmd.args, 1)
    template = _template(cmd.args[0])
    plan = plan_template(ctx.store, cmd.chat.key, template, _cycle(cmd, ctx))
    lines = [template.summary, f"From the article {template.source}.", ""]
    lines.append(f"Adds: {plan.added()}.")
    if plan.kpis:
        lines.append(
            "KPIs: "
            + ", ".join(
                f"{k.name} {render.num(k.baseline)} → {render.num(k.target, k.unit)}"
                + (" (test mode)" if k.test else "")
                for k in plan.kpis
            )
        )
    if plan.key_results:
        lines.append("Key results: " + ", ".join(kr.name for kr in plan.key_results))
    if plan.kept:
        lines.append(f"Keeps yours: {', '.join(plan.kept)}.")
    lines.append("Perspectives: " + " › ".join(p.name for p in plan.perspectives))
    return Reply(
        title=f"Template: {template.name}",
        text="\n".join(lines),
        buttons=(
            Button(label=f"Apply {template.key}", command=f"/scorecard apply {template.key}"),
        ),
    )


@command(
    "scorecard apply",
    usage="/scorecard apply <name>",
    example="/scorecard apply content-marketing",
    mutates=True,
    role="admin",
)
async def template_apply(cmd: Command, ctx: Context) -> Reply:
    """Apply a template: add what the chat lacks, keep what it has (one atomic step)."""
    need(cmd.args, 1)
    template = _template(cmd.args[0])
    chat = cmd.chat.key
    plan = plan_template(ctx.store, chat, template, _cycle(cmd, ctx))
    apply_plan(ctx.store, chat, plan)
    kept = f" Kept yours: {', '.join(plan.kept)}." if plan.kept else ""
    return Reply(text=f"Applied {template.name}: added {plan.added()}.{kept} {plan.next_step()}")


def register(router: Router) -> None:
    """Register the template commands under /scorecard."""
    router.include(template_list, template_preview, template_apply)
