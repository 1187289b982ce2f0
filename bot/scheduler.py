"""Scheduled jobs on APScheduler 3.x (the only module that imports apscheduler).

Jobs are not stored by APScheduler (MemoryJobStore): they are rebuilt from our own
settings at start, with stable ids and `replace_existing=True`, so a restart neither
loses nor doubles them. What they do lives in `handlers.jobs`; this module decides
when, runs each in one atomic step, commits, and wakes delivery.

- `sweep` (interval, every few minutes, UTC): stale data, cadence, red reminders.
- `digest:<chat>` (a `Schedule` on the chat's wall clock, from `/digest every …`).
- `okr-checkin:<chat>` (Fridays 11:00 local) and `okr-cycle:<chat>` (10:00 on the first
  day of a quarter: summary of cycles that just ended), for chats with OKRs.
- `flush:<chat>` (one date job): group windows and quiet-hours holds.
- `pulls` (interval, like the sweep): the `/source` CSV pulls that are due.

Per-chat triggers wrap our own `scoring.schedule.Schedule` (`ScheduleTrigger`): the
value `/digest every` stores and shows is the one that decides fire times. `sync_chat`
compares a chat's wanted jobs with the live ones after every command, so `/timezone`
or `/digest every …` take effect at once and schedules follow summer time.

Misfires: a run late by up to `grace` runs once (coalesced); a later one is recorded
and reported in the next digest (EVENT_JOB_MISSED). Across restarts the same rule is
applied by `_catch_up`, from the last fire time recorded in the store at submission.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from handlers import sources
from handlers.contract import Context
from handlers.jobs import bookkeeping, digest_build, okr_jobs, sweeper
from handlers.jobs.sweeper import SweepMemory, SweepReport
from scoring.schedule import Schedule
from storage.errors import StoreError

_LOGGER = logging.getLogger(__name__)

#: Friday late morning: still time to check in before the week ends.
OKR_CHECKIN = Schedule(weekdays=frozenset({4}), at=time(11, 0))
#: The first morning of each quarter: every cycle kind (quarter, half, year) ends the day before.
OKR_CYCLE = Schedule(months=frozenset({1, 4, 7, 10}), day=1, at=time(10, 0))
CRON_KINDS = ("digest", "okr-checkin", "okr-cycle")
_MAX_CATCH_UP = 1000  # fire times examined after a long downtime
#: Where APScheduler logs a job's exception, with its traceback.
_APS_EXECUTOR_LOG = "apscheduler.executors.default"


class _SaidByTheListener(logging.Filter):
    """Drops APScheduler's own record of a job that failed on the store: `_on_event` says
    it in one line, and a store error is a whole sentence (its traceback, 25 lines in the
    console, said nothing more). Other exceptions keep APScheduler's traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a record carrying a StoreError."""
        return not (record.exc_info and isinstance(record.exc_info[1], StoreError))


class ScheduleTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler has no types
    """APScheduler's view of our `Schedule`: the schedule alone decides the fire times."""

    def __init__(self, schedule: Schedule, timezone: ZoneInfo) -> None:
        self.schedule = schedule
        self.timezone = timezone

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """The first fire at or after `now` (APScheduler's contract)."""
        return self.schedule.next_fire(now - timedelta(microseconds=1), self.timezone)

    def __str__(self) -> str:
        return f"schedule[{self.schedule!r}, {self.timezone.key}]"


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One per-chat recurring job as our settings want it: compared, then (re)built."""

    kind: str
    chat: str
    schedule: Schedule
    timezone: str

    @property
    def id(self) -> str:
        """Stable job id: the same after every restart."""
        return f"{self.kind}:{self.chat}"

    def trigger(self) -> ScheduleTrigger:
        """The APScheduler trigger on the chat's wall clock."""
        return ScheduleTrigger(self.schedule, ZoneInfo(self.timezone))


def chat_job_specs(ctx: Context, chat: str) -> dict[str, JobSpec]:
    """The cron jobs a chat's stored settings ask for."""
    tz = ctx.store.chats.settings(chat).timezone
    specs: list[JobSpec] = []
    digest = ctx.store.alerts.settings(chat).digest
    if digest is not None:
        specs.append(JobSpec("digest", chat, digest, tz))
    if ctx.store.okrs.okrs(chat):
        specs.append(JobSpec("okr-checkin", chat, OKR_CHECKIN, tz))
        specs.append(JobSpec("okr-cycle", chat, OKR_CYCLE, tz))
    return {spec.id: spec for spec in specs}


class Scheduler:
    """Owns the AsyncIOScheduler: builds jobs from settings, runs them, reports misfires."""

    def __init__(
        self,
        ctx: Context,
        *,
        after_run: Callable[[], None],
        grace: timedelta = timedelta(minutes=15),
        sweep_every: timedelta = timedelta(minutes=5),
    ) -> None:
        self._ctx = ctx
        self._after_run = after_run
        self._grace = grace
        self._sweep_every = sweep_every
        self._aps: AsyncIOScheduler | None = None
        self._specs: dict[str, dict[str, JobSpec]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.memory = SweepMemory()
        self._pull_lock = asyncio.Lock()
        self.last_sweep: SweepReport | None = None

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Start inside the running loop; rebuild every job; catch up what a downtime missed."""
        aps = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={
                "misfire_grace_time": int(self._grace.total_seconds()),
                "coalesce": True,
                "max_instances": 1,
            },
        )
        aps.add_listener(
            self._on_event,
            EVENT_JOB_SUBMITTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR | EVENT_JOB_MAX_INSTANCES,
        )
        self._aps = aps
        executor_log = logging.getLogger(_APS_EXECUTOR_LOG)
        if not any(isinstance(f, _SaidByTheListener) for f in executor_log.filters):
            executor_log.addFilter(_SaidByTheListener())
        aps.start()
        aps.add_job(
            self._run,
            IntervalTrigger(seconds=int(self._sweep_every.total_seconds()), timezone=UTC),
            args=(self._sweep_job,),
            id="sweep",
            name="sweep",
            replace_existing=True,
            next_run_time=datetime.now(UTC),  # right away: catch up after a downtime
        )
        aps.add_job(
            self._run,
            IntervalTrigger(seconds=int(self._sweep_every.total_seconds()), timezone=UTC),
            args=(self.run_pulls,),
            id="pulls",
            name="pulls",
            replace_existing=True,
        )
        store = self._ctx.store
        with store.atomic():
            for chat in store.alerts.chats():
                self.sync_chat(chat, catch_up=True)
            for chat in store.alerts.chats_with_queued_alerts():
                due = store.alerts.batcher(chat).next_due()
                if due is not None:
                    self.arm_flush(chat, due)
        await store.commit()

    async def stop(self) -> None:
        """Stop firing; running jobs are cancelled by APScheduler (they are idempotent)."""
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=False)
        self._aps = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- jobs ----------------------------------------------------------------------------

    def sync_chat(self, chat: str, *, catch_up: bool = False) -> None:
        """Make the chat's live jobs match its settings (cheap when nothing changed)."""
        aps = self._aps
        if aps is None:
            return
        wanted = chat_job_specs(self._ctx, chat)
        live = self._specs.get(chat, {})
        if wanted == live and not catch_up:
            return
        for job_id in live.keys() - wanted.keys():
            if aps.get_job(job_id) is not None:
                aps.remove_job(job_id)
        for job_id, spec in wanted.items():
            if catch_up:
                self._catch_up(spec)
            elif job_id not in live and bookkeeping.last_fire(self._ctx, chat, spec.kind) is None:
                bookkeeping.record_fire(self._ctx, chat, spec.kind, self._ctx.clock())
            if live.get(job_id) != spec or aps.get_job(job_id) is None:
                aps.add_job(
                    self._run,
                    spec.trigger(),
                    args=(self._chat_job, spec.kind, chat),
                    id=job_id,
                    name=job_id,
                    replace_existing=True,
                )
        if wanted:
            self._specs[chat] = wanted
        else:
            self._specs.pop(chat, None)

    def chat_moved(self, old: str, new: str) -> None:
        """`old`'s data now lives under `new` (Core.move_chat): its jobs follow it, and the
        sweep looks at `new` next and never again at `old` (a look would store a summary
        for it, leaving the emptied chat a table, until the hourly rescan dropped it)."""
        self.memory.forget(old)
        self.touch(new)
        self.sync_chat(old)  # nothing left to want: its cron jobs go
        self.sync_chat(new)
        aps = self._aps
        if aps is None:
            return
        flush = aps.get_job(f"flush:{old}")
        if flush is not None:
            aps.remove_job(flush.id)
        due = self._ctx.store.alerts.batcher(new).next_due()
        if due is not None:
            self.arm_flush(new, due)

    def arm_flush(self, chat: str, when: datetime) -> None:
        """Flush the chat's held alerts at `when` (an earlier armed flush is kept)."""
        aps = self._aps
        if aps is None:
            return
        job_id = f"flush:{chat}"
        # Never in the past by APScheduler's own clock: a flush that finds nothing due
        # re-arms, and must not spin if the injected clock lags the real one.
        when = max(when, datetime.now(UTC) + timedelta(seconds=1))
        job = aps.get_job(job_id)
        if job is not None and job.next_run_time is not None and job.next_run_time <= when:
            return  # the earlier flush re-arms for the rest
        aps.add_job(
            self._run,
            DateTrigger(run_date=when, timezone=UTC),
            args=(self._chat_job, "flush", chat),
            id=job_id,
            name=job_id,
            replace_existing=True,
            misfire_grace_time=None,  # held alerts go out however late
        )

    def next_run(self, job_id: str) -> datetime | None:
        """When a job fires next (None: no such job)."""
        job = self._aps.get_job(job_id) if self._aps is not None else None
        return None if job is None else job.next_run_time

    def job_ids(self) -> list[str]:
        """Every live job id."""
        return sorted(job.id for job in self._aps.get_jobs()) if self._aps else []

    async def drain(self) -> None:
        """Wait for catch-up runs and bookkeeping commits the scheduler started."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def run_chat_job(self, kind: str, chat: str) -> None:
        """Run one per-chat job now, as a fire would (tests, catch-up)."""
        await self._chat_job(kind, chat)

    def touch(self, chat: str) -> None:
        """A command changed something in `chat`: the next sweep looks at it."""
        self.memory.touch(chat)

    async def run_sweep(self) -> SweepReport:
        """Run the sweep now, as the interval job would (skipping chats with nothing due).

        If a commit failed meanwhile (its own, or a command's carrying its steps), what the
        sweep queued was rolled back while its next looks stayed: they are forgotten, so
        the next sweep looks at every chat again instead of a lost reminder waiting a day.
        """
        db = self._ctx.store.db
        failed = db.failed_commits
        report = await sweeper.sweep(self._ctx, memory=self.memory)
        try:
            await self._ctx.store.commit()
        finally:
            if db.failed_commits != failed:
                self.memory.next_look.clear()
        self._after_run()
        self.last_sweep = report
        return report

    async def run_pulls(self) -> int:
        """Pull the /source files that are due (each in its own step), then commit and wake.

        One run at a time: `/source run` during a scheduled run waits for it, then pulls.
        """
        async with self._pull_lock:
            pulled = await sources.run_due(self._ctx)
            if pulled:
                await self._ctx.store.commit()
                self._after_run()
        return pulled

    def pull_soon(self) -> None:
        """Run the pulls now, in the background (after `/source run` was committed)."""
        self._spawn(self.run_pulls())

    async def _run(self, job: Callable[..., Awaitable[object]], *args: str) -> None:
        """Every APScheduler job runs through here. A job that `stop()` cancels mid-run ends
        quietly: APScheduler would log the cancellation as the job's failure, with a
        traceback, on any exit that caught a job running (jobs are idempotent, and a
        commit once started completes). Any other cancellation or error is the job's."""
        try:
            await job(*args)
        except asyncio.CancelledError:
            if self._aps is not None:
                raise
            _LOGGER.info("job %s stopped by the shutdown", getattr(job, "__name__", "?"))

    async def _sweep_job(self) -> None:
        report = await self.run_sweep()
        if report.queued or report.flushed:
            _LOGGER.info(
                "sweep of %d chats: %d stale, %d cadence, %d reminders, %d flushed",
                report.chats,
                report.stale,
                report.cadence,
                report.reminders,
                report.flushed,
            )

    async def _chat_job(self, kind: str, chat: str) -> None:
        """Run a per-chat job in one step and commit it. A flush timer fires once: if its
        step or commit fails (a full disk), the alerts it was to send are still waiting,
        so the next sweep looks at the chat and sends them (not its next daily look)."""
        ctx = self._ctx
        try:
            with ctx.store.atomic():
                if kind == "digest":
                    digest_build.send_digest(ctx, chat)
                elif kind == "okr-checkin":
                    okr_jobs.okr_checkin_reminder(ctx, chat)
                elif kind == "okr-cycle":
                    okr_jobs.okr_cycle_summary(ctx, chat)
                elif kind == "flush":
                    sweeper.flush_alerts(ctx, chat)
                else:
                    raise ValueError(f"unknown job kind {kind!r}")
            await ctx.store.commit()
        except Exception:
            if kind == "flush":
                self.touch(chat)
            raise
        self._after_run()

    # --- misfires ------------------------------------------------------------------------

    def _catch_up(self, spec: JobSpec) -> None:
        """After a restart: run the latest missed fire if within grace, report older ones."""
        ctx = self._ctx
        now = ctx.clock()
        last = bookkeeping.last_fire(ctx, spec.chat, spec.kind)
        if last is None:
            bookkeeping.record_fire(ctx, spec.chat, spec.kind, now)  # start counting from now
            return
        missed = spec.schedule.fires_between(last, now, ZoneInfo(spec.timezone), _MAX_CATCH_UP)
        if not missed:
            return
        latest = missed[-1]
        if now - latest <= self._grace:
            missed = missed[:-1]
            self._spawn(self.run_chat_job(spec.kind, spec.chat))
            _LOGGER.info("%s: running the fire of %s late (within grace)", spec.id, latest)
        if missed:
            bookkeeping.record_missed(ctx, spec.chat, spec.kind, missed[-1], count=len(missed))
            _LOGGER.warning(
                "%s: %d run(s) missed while the bot was down (last %s); reported in the digest",
                spec.id,
                len(missed),
                missed[-1],
            )
        bookkeeping.record_fire(ctx, spec.chat, spec.kind, latest)

    def _on_event(self, event: JobEvent) -> None:
        """APScheduler listener (runs on the loop): bookkeeping for per-chat cron jobs."""
        kind, _, chat = event.job_id.partition(":")
        cron = kind in CRON_KINDS and bool(chat)
        ctx = self._ctx
        if isinstance(event, JobSubmissionEvent):
            if cron and event.scheduled_run_times:
                bookkeeping.record_fire(ctx, chat, kind, max(event.scheduled_run_times))
            return
        if event.code == EVENT_JOB_MAX_INSTANCES:
            _LOGGER.warning("job %s still running; this run was skipped", event.job_id)
            return
        assert isinstance(event, JobExecutionEvent)
        if event.code == EVENT_JOB_MISSED:
            _LOGGER.warning(
                "job %s missed its run at %s (beyond the grace of %s)",
                event.job_id,
                event.scheduled_run_time,
                self._grace,
            )
            if cron:
                bookkeeping.record_missed(ctx, chat, kind, event.scheduled_run_time)
        elif event.code == EVENT_JOB_ERROR:
            _LOGGER.error("job %s failed: %r", event.job_id, event.exception)
            if cron:
                bookkeeping.record_missed(
                    ctx, chat, kind, event.scheduled_run_time, reason="failed"
                )
        self._spawn(ctx.store.commit())

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
