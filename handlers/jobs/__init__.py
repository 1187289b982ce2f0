"""Time-triggered work: what the scheduler runs, as plain functions of (ctx, chat).

Each entry point reads the clock from `ctx.clock`, decides what is due, and queues
Replies in `ctx.outbox` with an idempotency key per occasion (a date, a week, a
period), so a job that runs twice — a restart, a DST fold repeating a wall-clock
time — still sends once. The synchronous functions must run inside `store.atomic()`
(the scheduler does that, then commits and wakes delivery); `sweep` is async.
One module per job:

- `sweeper`: the every-few-minutes sweep (red reminders, due flushes, and the reminders
  below) and `flush_alerts`, the group-window / quiet-hours timer; `slicing` keeps it
  in small atomic steps so commands keep flowing.
- `reminders`: stale data and initiatives behind their cadence.
- `digest_build`: the weekly review (`send_digest`, `build_digest`).
- `okr_jobs`: the Friday OKR check-in nudge and the summary after a cycle ends.
- `bookkeeping`: each schedule's last fire time and missed runs.
"""
