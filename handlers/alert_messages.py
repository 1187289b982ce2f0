"""Alert messages: a batch of transitions in words, and where they go (the pipeline
decides what to send).

Headlines, the "old → new: value vs target" line, "red since …" for reminders, and
`hold_text`, the words for why an alert's colour differs from the KPI's colour now
(also used by `/alerts`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import get_args
from zoneinfo import ZoneInfo

from handlers import render
from handlers.calculated import current_measurement
from handlers.common import zone_of
from handlers.contract import Button, ChatRef, Context, Platform, Reply, ReplyKind
from handlers.scores import paced_goal
from scoring.alert_rules import (
    AlertState,
    Hold,
    Transition,
)
from scoring.alerts_batch import Batch
from scoring.models import Status
from storage.alert_state import AlertSettings, Channel

_HEADLINE = {
    "fired": "is {new}",
    "escalated": "turned {new}",
    "improved": "improved to {new}",
    "resolved": "is back to green",
    "reminder": "is still {new}",
}


def render_batch(
    ctx: Context, chat: str, batch: Batch, notes: Mapping[str, str | None] | None = None
) -> Reply:
    """One chat message for a batch of alerts, most severe first.

    An alert whose colour is not the KPI's colour now (a hysteresis hold) says so, as
    `/alerts` does: "… 52 vs target 100 (yellow now; the red alert … clears at 55%)";
    `notes` holds that parenthesis per KPI (the pipeline knows the states).
    """
    tz = zone_of(ctx, chat)
    places = _places(ctx, chat)
    single = len(batch.items) == 1
    lines = [
        _line(
            t,
            places,
            tz,
            batch.at,
            single=single,
            note=(notes or {}).get(t.kpi),
            first=len(ctx.store.kpis.history(chat, t.kpi, limit=2)) == 1,
            goal=_paced(ctx, chat, t, tz),
        )
        for t in batch.items
    ]
    held = any(t.held_until is not None for t in batch.items)
    footer = "Held during quiet hours." if held else None
    if len(batch.items) == 1:
        item = batch.items[0]
        headline = (
            "has no values now"
            if item.new is Status.NODATA
            else _HEADLINE[item.kind].format(new=render.STATUS_WORD[item.new])
        )
        title = f"{render.mark(item.new)} {item.name} {headline}"
        buttons = (
            Button(label="Explain", command=f"/kpi {item.kpi} explain"),
            Button(label="Mute 1 day", command=f"/alerts mute {item.kpi} 1d"),
        )
        return Reply(title=title, text=lines[0], footer=footer, buttons=buttons, kind=_kind(batch))
    return Reply(
        title=_summary_title(batch), text="\n".join(lines), footer=footer, kind=_kind(batch)
    )


def _kind(batch: Batch) -> ReplyKind:
    return "reminder" if all(t.kind == "reminder" for t in batch.items) else "alert"


def _summary_title(batch: Batch) -> str:
    counts: dict[str, int] = {}
    for item in batch.items:
        label = {
            "resolved": "🟢 resolved",
            "improved": "improved",
            "reminder": "still red",
        }.get(item.kind, f"{render.mark(item.new)} {render.STATUS_WORD[item.new]}")
        if item.new is Status.NODATA:  # every value was removed (on_values_gone)
            label = "⚪ closed, no data"
        counts[label] = counts.get(label, 0) + 1
    parts = " · ".join(f"{n} {label}" for label, n in counts.items())
    return f"{len(batch.items)} KPI alerts: {parts}"


def _paced(ctx: Context, chat: str, t: Transition, tz: ZoneInfo) -> str | None:
    """`paced_goal` of an alert's KPI: the share of a sum's target it was judged against,
    beside the whole target of its reading's day, the one `as_of_now` just judged it by
    (November's last leads typed on 1 December met November's stage, not December's)."""
    kpi = ctx.store.kpis.get(chat, t.kpi)
    if kpi is None or kpi.agg != "sum":
        return None
    reading = current_measurement(ctx, chat, kpi)
    day = t.at.astimezone(tz).date() if reading is None else reading.day
    return paced_goal(kpi, t.target, day)


def _places(ctx: Context, chat: str) -> dict[str, str]:
    """Objective key → "Objective name (Perspective)" for the 'hurts' line."""
    perspectives = {p.key: p.name for p in ctx.store.scorecards.perspectives(chat)}
    places = {}
    for objective in ctx.store.scorecards.objectives(chat):
        perspective = perspectives.get(objective.perspective, objective.perspective)
        places[objective.key] = (
            perspective if objective.general else f"{objective.name} ({perspective})"
        )
    return places


def figures(
    value: float,
    target: float,
    unit: str,
    low: float | None,
    high: float | None,
    goal: str | None = None,
) -> str:
    """`52 vs target 100`, or `55 vs range 30–50` for a range KPI (never its stored middle),
    or `75 vs <goal>` (a sum judged on its share due so far: `paced_goal`)."""
    if goal is None:
        goal = (
            f"range {render.span(low, high, unit)}"
            if low is not None and high is not None
            else f"target {render.num(target, unit)}"
        )
    return f"{render.num(value, unit)} vs {goal}"


def _line(
    t: Transition,
    places: dict[str, str],
    tz: ZoneInfo,
    now: datetime,
    *,
    single: bool,
    note: str | None = None,
    first: bool = False,
    goal: str | None = None,
) -> str:
    """One alert's lines; `first`: the KPI has a single reading (it may be its "first");
    `goal`: a sum's share of its target due so far (`paced_goal`)."""
    value = figures(t.value, t.target, t.unit, t.low, t.high, goal)
    if note:
        value += f" ({note})"
    where = places.get(t.objective, t.objective)
    effect = "helps" if t.new is Status.GREEN else "hurts"
    who = f"logged by {t.by} · " if t.by else ""
    if t.kind == "reminder":
        since = t.since or t.at
        change = f"red since {_when(since, tz)} ({_age(now - since)})"
    elif t.old is Status.NODATA and first and not note:
        change = f"first reading is {render.STATUS_WORD[t.new]}"
    elif t.old is Status.NODATA:  # an earlier reading set the colour (a hold says why)
        change = f"{render.STATUS_WORD[t.new]} since {_when(t.since or t.at, tz)}"
    else:
        change = f"{render.STATUS_WORD[t.old]} → {render.STATUS_WORD[t.new]}"
    detail = f"{change}: {value}\n{who}{effect} {where}"
    if t.new is Status.NODATA:  # every value was removed (on_values_gone)
        old = render.STATUS_WORD[t.old]
        detail = f"{old} → no data: its values were removed, so the {old} alert is closed"
        detail += f"\nremoved by {t.by}" if t.by else ""
    if single:
        return detail
    return f"{render.mark(t.new)} {t.name} ({t.kpi}) " + detail.replace("\n", "\n   ")


def hold_text(
    waiting: Hold, state: AlertState, tz: ZoneInfo, unit: str, *, since: bool = True
) -> str:
    """Why the alert says something else than the KPI's colour now, in words.

    "the red alert (since 21 Nov 10:00) clears at 55%" (hysteresis), or how many
    readings in a row a new colour still needs (confirm=).
    """
    alert = f"the {state.status.value} alert"
    if since and state.firing_since is not None:
        alert += f" (since {_when(state.firing_since, tz)})"
    if waiting.kind == "confirm":
        readings = (
            f"after {render.plural(waiting.needed, 'reading')} in a row "
            f"(confirm={waiting.needed}; {waiting.seen} so far)"
        )
        if state.firing_since is None:
            return f"{waiting.to.value} is announced {readings}"
        return f"{alert} turns {waiting.to.value} {readings}"
    if waiting.at is None:
        return f"{alert} is held by hysteresis"
    if not waiting.in_value:
        return f"{alert} clears at {render.pct_exact(waiting.at)}"
    side = "or less" if waiting.downwards else "or more"
    return f"{alert} clears at {render.num(waiting.at, unit)} {side}"


def _when(at: datetime, tz: ZoneInfo) -> str:
    return f"{at.astimezone(tz):%d %b %H:%M}"


def _age(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours < 1:
        return "under an hour"
    if hours < 48:
        return f"{hours} h"
    return f"{hours // 24} days"


# --- addressing ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def chat_ref(chat: str) -> ChatRef:
    """The ChatRef of a chat key ("telegram:-100…" → platform and chat id).

    Cached: a ChatRef is frozen, and every sweep addresses the same chats again.
    """
    platform, _, chat_id = chat.partition(":")
    return ChatRef.model_validate({"platform": platform, "chat_id": chat_id})


_PLATFORMS = frozenset(get_args(Platform))


def chat_to(chat: str) -> dict[str, str | None]:
    """A reply to `chat` itself addressed as its document spells it (`to` of
    `text_reply_doc`: `chat_ref(chat)`'s platform, chat id and no thread), a new dict each
    call, without the model: the sweep's reminders address 500 chats each, and building
    each chat's ChatRef was most of that. A chat key of another platform is left to
    `chat_ref`, which refuses it as before."""
    platform, _, chat_id = chat.partition(":")
    if platform not in _PLATFORMS:
        ref = chat_ref(chat)  # raises: not a platform
        platform, chat_id = ref.platform, ref.chat_id
    return {"platform": platform, "chat_id": chat_id, "thread_id": None}


def has_channels(settings: AlertSettings) -> bool:
    """Whether the scorecard's alerts go anywhere (`channels` is not empty: `/alerts off`
    stores none), read off the settings without building a ChatRef for each."""
    return settings.channels is None or len(settings.channels) > 0


def channels(settings: AlertSettings, chat: str) -> list[ChatRef]:
    """Where the scorecard's alerts go: its own chat unless `/alerts here|off` said otherwise."""
    if settings.channels is None:
        return [chat_ref(chat)]
    return [_channel_ref(c) for c in settings.channels]


def _channel_ref(channel: Channel) -> ChatRef:
    return ChatRef.model_validate(channel.model_dump())
