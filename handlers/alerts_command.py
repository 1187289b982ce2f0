"""`/alerts`: what is firing, where alerts go, mutes, quiet hours, rules and the log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from handlers import alert_judge, alert_messages, alert_pipeline, calculated, render
from handlers.alert_settings_input import POLICY_FIELDS, policy_value, switch, unknown_option
from handlers.common import kpi_or_fail, need, who, zone_of
from handlers.contract import Command, Context, Field, Reply, Table, UsageError, command
from handlers.dates import take_duration
from handlers.messages import validation_text
from handlers.parsing import clip
from handlers.router import Router
from handlers.scores import paced_goal
from scoring.alert_policy import active_mute
from scoring.alert_rules import (
    AlertPolicy,
    Mute,
    QuietHours,
    Transition,
    hold,
    parse_duration,
    range_of,
)
from scoring.alerts_batch import Queued
from scoring.kpi import performance
from scoring.models import Status
from scoring.status import would_be_status
from storage.alert_state import AlertSettings, Channel


@command("alerts", usage="/alerts", example="/alerts")
async def alerts_show(cmd: Command, ctx: Context) -> Reply:
    """Show what is firing now, mutes, quiet hours, where alerts go and delivery problems."""
    if cmd.args:
        raise unknown_option(cmd.args[0], cmd.help_for("alerts"))
    chat = cmd.chat.key
    now = ctx.clock()
    tz = zone_of(ctx, chat)
    settings = ctx.store.alerts.settings(chat)
    count, firing = _firing_lines(ctx, chat, settings, now, tz)
    title = f"Alerts · {count} firing" if count else "Alerts · nothing firing"
    fields = [
        Field(label="Alerts go to", value=_channels_text(cmd, settings)),
        Field(label="Muted", value=_mutes_text(settings, now, tz)),
        Field(label="Quiet hours", value=_quiet_text(settings, tz)),
        Field(label="Rules", value=_policy_text(settings.policy)),
        Field(label="Charts", value=_charts_text(settings.charts)),
    ]
    waiting = _waiting_text(ctx.store.alerts.batcher(chat).queued, settings, now, tz)
    if waiting:
        fields.append(Field(label="Waiting", value=waiting))
    fields.extend(_delivery_fields(ctx, chat, settings, tz))
    return Reply(
        title=title,
        text="\n".join(firing) if firing else "Every KPI with data is green (or never alerted).",
        fields=tuple(fields),
        footer="Test-mode KPIs never alert; their would-be alerts are in /alerts log.",
    )


def _waiting_text(
    queued: Sequence[Queued], settings: AlertSettings, now: datetime, tz: ZoneInfo
) -> str | None:
    """How many waiting alerts go out and when; those of a KPI muted since are not sent
    when their window closes (the mute's end tells what changed), so they are named apart."""
    going = [q for q in queued if not active_mute(q.transition.kpi, settings.mutes, now)]
    muted = len(queued) - len(going)
    held = "waits for its KPI's mute" if muted == 1 else "wait for their KPIs' mutes"
    if not going:
        return f"{muted} alert(s) {held} to end" if muted else None
    first = f"{len(going)} alert(s) go out at {_when(min(q.ready_at for q in going), tz)}"
    return f"{first}; {muted} more {held} to end" if muted else first


def _firing_lines(
    ctx: Context, chat: str, settings: AlertSettings, now: datetime, tz: ZoneInfo
) -> tuple[int, list[str]]:
    """One line per KPI that is firing or whose alert waits: its colour now, then the alert's.

    The mark and the first colour word are the KPI's colour now (as `/kpi` shows it);
    when the alert says something else, the line says why in words.
    """
    kpis = {k.key: k for k in ctx.store.kpis.all(chat)}
    thresholds = ctx.store.scorecards.thresholds(chat)
    rows = []
    for stored in ctx.store.alerts.states(chat):
        state, kpi = stored.state, kpis.get(stored.state.kpi)
        if kpi is None or stored.test:
            continue
        current = alert_judge.current_reading(ctx, chat, kpi)
        if current is None:
            continue
        whole, (kpi, reading) = kpi, current
        value = reading.value
        now_status = would_be_status(kpi, value, thresholds)
        waiting = hold(
            state,
            now_status,
            kpi=kpi,
            value=value,
            performance=performance(kpi, value),
            policy=settings.policy,
            thresholds=thresholds,
        )
        if state.firing_since is None and waiting is None:
            continue
        goal = paced_goal(whole, kpi.target, reading.day)
        figures = alert_messages.figures(value, kpi.target, kpi.unit, **range_of(kpi), goal=goal)
        head = f"{render.mark(now_status)} {kpi.name} ({kpi.key}) {render.STATUS_WORD[now_status]}"
        if waiting is None:
            assert state.firing_since is not None
            line = f"{head} since {_when(state.firing_since, tz)} · {figures}"
        else:
            line = (
                f"{head} now · {figures}; {alert_messages.hold_text(waiting, state, tz, kpi.unit)}"
            )
        if kpi.formula and (missing := calculated.missing_text(ctx, chat, kpi.key)):
            line += f" · {missing}"  # why its alert waits (a half-entered day)
        mute = next((m for m in settings.mutes if m.covers(kpi.key, now)), None)
        if mute is not None:
            line += f" · muted by {mute.by} until {_when(mute.until, tz)}"
        severity = {Status.RED: 0, Status.YELLOW: 1}.get(state.status, 2)
        rows.append((severity, state.firing_since or now, line))
    firing = sum(1 for severity, _, _ in rows if severity < 2)
    return firing, [line for _, _, line in sorted(rows)]


def _channels_text(cmd: Command, settings: AlertSettings) -> str:
    if settings.channels is None:
        return "this chat (default)"
    if not settings.channels:
        return "nowhere: alerts are off (/alerts here turns them on)"
    names = []
    for channel in settings.channels:
        here = channel.key == cmd.chat.key
        place = "this chat" if here else channel.key
        if channel.thread_id:
            place += f", topic {channel.thread_id}"
        names.append(place)
    return "; ".join(names)


def _mutes_text(settings: AlertSettings, now: datetime, tz: ZoneInfo) -> str:
    live = [m for m in settings.mutes if m.until > now]
    if not live:
        return "nothing"
    return "; ".join(
        f"{'all KPIs' if m.target == 'all' else m.target} until {_when(m.until, tz)} by {m.by}"
        for m in live
    )


def _quiet_text(settings: AlertSettings, tz: ZoneInfo) -> str:
    quiet = settings.policy.quiet
    return "none" if quiet is None else f"{quiet} ({tz.key}); red alerts still come through"


def _policy_text(policy: AlertPolicy) -> str:
    return (
        f"hysteresis {policy.hysteresis * 100:g}%, confirm {policy.confirm}, "
        f"repeat {duration_text(policy.repeat)}, group {duration_text(policy.group_window)}"
    )


def _charts_text(charts: bool) -> str:
    """The charts=on|off setting in words (what `/alerts` shows and `/alerts set` confirms)."""
    return "on (alerts and digests carry a small chart)" if charts else "off (no charts on alerts)"


def _delivery_fields(
    ctx: Context, chat: str, settings: AlertSettings, tz: ZoneInfo
) -> list[Field]:
    targets = {c.key for c in alert_messages.channels(settings, chat)} | {chat}
    fields = []
    pending = sum(len(ctx.store.outbox.pending(t)) for t in sorted(targets))
    if pending:
        fields.append(Field(label="Sending", value=f"{pending} message(s) waiting"))
    failures = [f for t in sorted(targets) for f in ctx.store.outbox.failures(t)]
    failures.sort(key=lambda f: f.done_at or f.created, reverse=True)
    for failure in failures[:3]:
        when = _when(failure.done_at or failure.created, tz)
        fields.append(
            Field(
                label="⚠ Not delivered",
                value=f"{failure.summary or failure.kind} ({when}): {failure.last_error}",
            )
        )
    return fields


@command("alerts here", usage="/alerts here", example="/alerts here", mutates=True, role="admin")
async def alerts_here(cmd: Command, ctx: Context) -> Reply:
    """Send this scorecard's alerts to this chat (or to this topic/thread of it)."""
    if cmd.args:
        raise UsageError(
            "Send it without arguments, in the chat or topic that should get alerts.", usage=True
        )
    chat = cmd.chat.key
    settings = ctx.store.alerts.settings(chat)
    channel = Channel(
        platform=cmd.chat.platform, chat_id=cmd.chat.chat_id, thread_id=cmd.chat.thread_id
    )
    ctx.store.alerts.save_settings(chat, settings.model_copy(update={"channels": (channel,)}))
    where = "this topic" if cmd.chat.thread_id else "this chat"
    return Reply(text=f"Alerts for this scorecard now go to {where}.")


@command("alerts off", usage="/alerts off", example="/alerts off", mutates=True, role="admin")
async def alerts_off(cmd: Command, ctx: Context) -> Reply:
    """Stop sending this scorecard's alerts here (they are still evaluated and logged)."""
    if cmd.args:
        raise UsageError(f"Unexpected words: {' '.join(cmd.args)}.", usage=True)
    chat = cmd.chat.key
    settings, batcher = ctx.store.alerts.settings(chat), ctx.store.alerts.batcher(chat)
    if not settings.channels and not batcher.queued:  # nothing to turn off: nothing written
        return Reply(text="Alerts already go nowhere from this chat; /alerts here turns them on.")
    ctx.store.alerts.save_settings(chat, settings.model_copy(update={"channels": ()}))
    ctx.store.alerts.save_batcher(chat, batcher.model_copy(update={"queued": ()}))
    return Reply(
        text="Alerts are off for this chat. They are still evaluated and logged "
        "(/alerts log); /alerts here turns them back on."
    )


@command(
    "alerts mute",
    usage="/alerts mute <kpi|all> <duration: 30m, 2h, 1d, 1w>",
    example="/alerts mute cac 2d",
    mutates=True,
)
async def alerts_mute(cmd: Command, ctx: Context) -> Reply:
    """Silence one KPI (or all) for a while; changes are still evaluated and logged."""
    need(cmd.args, 2)
    duration, rest = take_duration(cmd.args[1:])  # `2d`, `3 дня`, `3 dage`
    if rest:
        raise UsageError(f"Unexpected words: {clip(' '.join(rest))}.", usage=True)
    target = _target(cmd, ctx, cmd.args[0])
    now = ctx.clock()
    mute = Mute.create(target, parse_duration(duration), by=who(cmd), now=now)
    chat = cmd.chat.key
    settings = alert_pipeline.end_expired_mutes(ctx, chat, now)
    mutes = tuple(m for m in settings.mutes if m.target != mute.target)
    ctx.store.alerts.save_settings(chat, settings.model_copy(update={"mutes": (*mutes, mute)}))
    what = "All KPIs" if target == "all" else target
    tz = zone_of(ctx, chat)
    return Reply(
        text=f"{what} muted until {_when(mute.until, tz)} ({tz.key}) by {mute.by}. Changes are "
        f"still evaluated and logged; /alerts unmute {target} ends it early."
    )


@command(
    "alerts unmute",
    usage="/alerts unmute <kpi|all>",
    example="/alerts unmute cac",
    mutates=True,
)
async def alerts_unmute(cmd: Command, ctx: Context) -> Reply:
    """End a mute early (`all` ends every mute)."""
    need(cmd.args, 1)
    target = cmd.args[0].casefold()
    chat = cmd.chat.key
    now = ctx.clock()
    settings = ctx.store.alerts.settings(chat)
    live = [m for m in settings.mutes if m.until > now]
    kept = [] if target == "all" else [m for m in live if m.target != target]
    if len(kept) == len(live):
        mutes = _mutes_text(settings, now, zone_of(ctx, chat))
        raise UsageError(f"{target} is not muted. Mutes: {mutes}")
    ctx.store.alerts.save_settings(chat, settings.model_copy(update={"mutes": tuple(kept)}))
    alert_pipeline.on_mutes_ended(ctx, chat)
    return Reply(text=f"Unmuted {'everything' if target == 'all' else target}.")


@command(
    "alerts quiet",
    usage="/alerts quiet [HH:MM-HH:MM|off]",
    example="/alerts quiet 22:00-08:00",
    mutates=True,
)
async def alerts_quiet(cmd: Command, ctx: Context) -> Reply:
    """Hold non-critical alerts overnight (`22:00-08:00`, `off`); red still comes through."""
    chat = cmd.chat.key
    settings = ctx.store.alerts.settings(chat)
    tz = zone_of(ctx, chat)
    if not cmd.args:
        return Reply(
            text=f"Quiet hours: {_quiet_text(settings, tz)}. "
            "Change: /alerts quiet 22:00-08:00 or /alerts quiet off"
        )
    raw = "".join(cmd.args)
    if raw.casefold() in ("off", "none", "no"):
        policy = settings.policy.model_copy(update={"quiet": None})
        ctx.store.alerts.save_settings(chat, settings.model_copy(update={"policy": policy}))
        released = alert_pipeline.flush_due(ctx, chat, ctx.clock(), release="all")
        extra = f" {released} held alert(s) sent now." if released else ""
        return Reply(text=f"Quiet hours off.{extra}")
    quiet = QuietHours.parse(raw)
    policy = settings.policy.model_copy(update={"quiet": quiet})
    ctx.store.alerts.save_settings(chat, settings.model_copy(update={"policy": policy}))
    return Reply(
        text=f"Quiet hours {quiet} ({tz.key}): yellow, improved, resolved and reminders wait "
        "until the end; a KPI turning red still comes through."
    )


@command("alerts log", usage="/alerts log [1-100]", example="/alerts log 30")
async def alerts_log(cmd: Command, ctx: Context) -> Reply:
    """Recent alert history, including muted and test-mode would-be alerts."""
    limit = 15
    if cmd.args:
        raw = cmd.args[0]
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 100:
            raise UsageError("The count is a whole number from 1 to 100.", usage=True)
        limit = int(raw)
    chat = cmd.chat.key
    entries = ctx.store.alerts.recent_log(chat, limit)
    if not entries:
        return Reply(text="No alerts yet. They appear when a KPI changes colour.")
    tz = zone_of(ctx, chat)
    rows = tuple(_log_row(t, tz) for t in reversed(entries))
    return Reply(
        title=f"Alert log · last {len(rows)}",
        table=Table(columns=("when", "KPI", "change", "value", "note"), rows=rows),
    )


def _log_row(t: Transition, tz: ZoneInfo) -> tuple[str, ...]:
    if t.kind == "reminder":
        change = f"{render.mark(t.new)} still {render.STATUS_WORD[t.new]}"
    else:
        change = f"{render.mark(t.new)} {render.STATUS_WORD[t.old]} → {render.STATUS_WORD[t.new]}"
    if t.suppressed == "test":
        note = "test mode: not sent"
    elif t.suppressed == "muted":
        note = f"muted by {t.mute.by}" if t.mute else "muted: not sent"
    elif t.held_until is not None:
        note = f"held until {_when(t.held_until, tz)}"
    else:
        note = f"by {t.by}" if t.by else ""
    return (_when(t.at, tz), t.kpi, change, render.num(t.value, t.unit), note)


@command(
    "alerts set",
    usage="/alerts set [hysteresis=5%] [confirm=N] [repeat=1d] [group=60s|0] [charts=on|off]",
    example="/alerts set confirm=2 group=0",
    mutates=True,
)
async def alerts_set(cmd: Command, ctx: Context) -> Reply:
    """Tune the alert rules: hysteresis=5%, confirm=2 readings, repeat=1d, group=60s (0: off).

    `charts=off` sends alerts and digests without their small chart (default on).
    """
    if not cmd.args:
        raise UsageError("Nothing to change.", usage=True)
    chat = cmd.chat.key
    settings = ctx.store.alerts.settings(chat)
    updates: dict[str, object] = {}
    charts = settings.charts
    for arg in cmd.args:
        name, sep, raw = arg.partition("=")
        name = name.casefold()
        if name == "charts" and sep:
            charts = switch(raw, "charts")
            continue
        if not sep or name not in POLICY_FIELDS or not raw:
            raise UsageError(f"'{clip(arg)}' is not a rule setting.", usage=True)
        updates["group_window" if name == "group" else name] = policy_value(name, raw)
    try:
        policy = AlertPolicy.model_validate({**settings.policy.model_dump(), **updates})
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = str(problem["loc"][0]) if problem["loc"] else "value"
        message = validation_text(problem).removeprefix("Value error, ")
        raise UsageError(f"{field}: {message}.") from None
    changed = {"policy": policy, "charts": charts}
    ctx.store.alerts.save_settings(chat, settings.model_copy(update=changed))
    old = settings.policy
    if (policy.hysteresis, policy.confirm) != (old.hysteresis, old.confirm):
        # a colour held back only by the old rule is told now (a reading never counts twice)
        alert_pipeline.on_values_recorded(ctx, chat, ctx.store.kpis.all(chat))
    return Reply(text=f"Alert rules: {_policy_text(policy)}; charts {_charts_text(charts)}.")


def _target(cmd: Command, ctx: Context, raw: str) -> str:
    if raw.casefold() == "all":
        return "all"
    return kpi_or_fail(cmd, ctx, raw).key


def _when(at: datetime, tz: ZoneInfo) -> str:
    return f"{at.astimezone(tz):%d %b %H:%M}"


def duration_text(delta: timedelta) -> str:
    """A rule's duration as /alerts set takes it: 2h, 1d, 0 (off)."""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0 (off)"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def register(router: Router) -> None:
    """Register /alerts."""
    router.include(
        alerts_show,
        alerts_here,
        alerts_off,
        alerts_mute,
        alerts_unmute,
        alerts_quiet,
        alerts_log,
        alerts_set,
    )
