"""Scheduler bookkeeping per chat: the latest fire time of each schedule and missed runs
(the next digest reports them)."""

from __future__ import annotations

from datetime import datetime

from handlers.contract import Context
from storage.alert_state import MissedRun

MISSED_KEPT = 10


def record_missed(
    ctx: Context, chat: str, job: str, at: datetime, *, reason: str = "missed", count: int = 1
) -> None:
    """Remember a run that did not happen on time; the next digest reports it."""
    jobstate = ctx.store.alerts.jobstate(chat)
    entry = MissedRun.model_validate({"job": job, "at": at, "reason": reason, "count": count})
    missed = (*jobstate.missed, entry)[-MISSED_KEPT:]
    ctx.store.alerts.save_jobstate(chat, jobstate.model_copy(update={"missed": missed}))


def record_fire(ctx: Context, chat: str, job: str, at: datetime) -> None:
    """Remember the latest fire time a schedule was run (or reported) for."""
    jobstate = ctx.store.alerts.jobstate(chat)
    if jobstate.last_fire.get(job) is not None and jobstate.last_fire[job] >= at:
        return
    fires = {**jobstate.last_fire, job: at}
    ctx.store.alerts.save_jobstate(chat, jobstate.model_copy(update={"last_fire": fires}))


def last_fire(ctx: Context, chat: str, job: str) -> datetime | None:
    """The latest fire time a schedule was run (or reported) for."""
    return ctx.store.alerts.jobstate(chat).last_fire.get(job)
