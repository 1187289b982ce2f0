"""The sweep's shortcuts: chats remember their next look, work is sliced, raw reads agree."""

from __future__ import annotations

import contextlib
import gc
import shutil
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench import alerts as bench_alerts
from bot.app import Core, build_core
from handlers import alert_pipeline
from handlers.contract import Context
from handlers.jobs import bookkeeping, slicing, sweeper
from scoring.models import Kpi
from tests.alerts.support import CHAT, queued_text
from tests.support import FakeChat, FixedClock, cyclic_garbage_made_by_us

CAC = '/kpi add cac "CAC" baseline=120 target=80 unit=$ perspective=finance every=week'


async def test_a_chat_with_nothing_due_is_not_looked_at_again_until_it_could_be(
    chat: FakeChat, core: Core, clock: FixedClock
) -> None:
    memory = sweeper.SweepMemory()
    await chat.ok(CAC)
    await chat.ok("/alerts set group=0 repeat=12h")
    await chat.ok("/kpi set cac 130")  # red, told now (10:00)
    assert (await sweeper.sweep(core.ctx, memory=memory)).chats == 1
    assert memory.next_look[CHAT] == clock.now + timedelta(hours=12)
    clock.advance(minutes=5)
    assert (await sweeper.sweep(core.ctx, memory=memory)).chats == 0
    memory.touch(CHAT)  # any command in the chat
    assert (await sweeper.sweep(core.ctx, memory=memory)).chats == 1
    clock.now = datetime(2026, 11, 21, 22, 0, tzinfo=UTC)
    report = await sweeper.sweep(core.ctx, memory=memory)
    assert (report.chats, report.reminders) == (1, 1)
    assert "is still red" in queued_text(core)[-1]


async def test_outside_working_hours_the_next_look_is_tomorrow_morning(
    chat: FakeChat, core: Core, clock: FixedClock
) -> None:
    memory = sweeper.SweepMemory()
    await chat.ok(CAC)
    await chat.ok("/timezone Europe/Berlin")
    clock.now = datetime(2026, 11, 21, 20, 0, tzinfo=UTC)  # 21:00 in Berlin
    await sweeper.sweep(core.ctx, memory=memory)
    assert memory.next_look[CHAT] == datetime(2026, 11, 22, 8, 0, tzinfo=UTC)  # 09:00 CET
    await chat.ok("/alerts quiet 22:00-10:00")
    memory.touch(CHAT)
    await sweeper.sweep(core.ctx, memory=memory)
    assert memory.next_look[CHAT] == datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # quiet ends


async def test_new_chats_are_found_and_broken_ones_do_not_stop_the_sweep(
    chat: FakeChat, core: Core, clock: FixedClock
) -> None:
    memory = sweeper.SweepMemory()
    await chat.ok(CAC)
    other = FakeChat(core, chat_id="other")
    await other.ok(CAC)
    core.store.db.table("alset:console:other").insert({"policy": {"confirm": "many"}})
    report = await sweeper.sweep(core.ctx, memory=memory)
    assert report.chats == 1, "the broken chat is logged and skipped"
    assert set(memory.chats or ()) == {CHAT, "console:other"}


async def test_a_chat_whose_look_fails_halfway_leaves_nothing_written(
    chat: FakeChat, core: Core, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mute ran out: the look drops it (settings written at once) and steps the red KPI
    it hid (held in the book), then fails. Its own atomic step puts the mute back, so the
    next sweep still tells the red people never heard, instead of losing it."""
    await chat.ok(CAC)
    await chat.ok("/alerts set group=0")
    await chat.ok("/alerts mute cac 2h")
    await chat.ok("/kpi set cac 130")  # red, muted: nobody told
    clock.advance(hours=3)

    def broken(*args: object) -> None:
        raise RuntimeError("a bug late in the look")

    monkeypatch.setattr(sweeper, "_next_look", broken)
    assert (await sweeper.sweep(core.ctx, [CHAT])).chats == 0, "logged and skipped"
    assert core.store.alerts.settings(CHAT).mutes != ()
    assert queued_text(core) == []
    monkeypatch.undo()
    assert (await sweeper.sweep(core.ctx, [CHAT])).chats == 1
    [alert] = queued_text(core)
    assert "is red" in alert


async def test_a_sweep_yields_between_slices_of_work(chat: FakeChat, core: Core) -> None:
    for name in ("a", "b", "c"):
        await FakeChat(core, chat_id=name).ok(CAC)
    pauses = 0

    async def pause() -> None:
        nonlocal pauses
        pauses += 1

    report = await sweeper.sweep(core.ctx, slice_seconds=0.0, pause=pause)
    assert (report.chats, pauses) == (3, 3)
    assert (await sweeper.sweep(core.ctx, slice_seconds=10.0, pause=pause)).chats == 3
    assert pauses == 4


async def test_a_slice_ends_before_a_step_that_would_take_it_past_its_length(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each step is taken to cost what the one before it did: a slice of 0.5 ms steps stops
    at 1.5 ms of a 2 ms slice rather than start a step that may run far past it (the
    old check, once past the length, let a 3 ms step make a 4.5 ms slice)."""
    costs = {0: 0.5, 1: 0.5, 2: 0.5, 3: 3.0, 4: 3.0, 5: 0.5}  # ms of (fake) time per step
    now = [0.0]
    slices: list[list[str]] = [[]]
    monkeypatch.setattr(slicing, "perf_counter", lambda: now[0] / 1000)

    def step(n: int) -> None:
        now[0] += costs[n]
        slices[-1].append(str(n))

    async def pause() -> None:
        slices.append([])

    await slicing.in_slices(
        range(6),
        step,
        atomic=contextlib.nullcontext,
        slice_seconds=0.002,
        pause=pause,
    )
    assert slices == [["0", "1", "2"], ["3"], ["4"], ["5"], []]


async def test_reading_the_chat_list_is_a_slice_of_its_own(chat: FakeChat, core: Core) -> None:
    """The hourly read of the chat list (~2 ms at 500 chats) is not added to the first
    slice of looks: the loop gets a turn between them."""
    for name in ("a", "b", "c"):
        await FakeChat(core, chat_id=name).ok(CAC)
    memory = sweeper.SweepMemory(preloaded=True)
    pauses = 0

    async def pause() -> None:
        nonlocal pauses
        pauses += 1

    assert (await sweeper.sweep(core.ctx, memory=memory, slice_seconds=10.0, pause=pause)).chats
    assert (pauses, memory.scans) == (2, 1)  # the list, then the looks
    memory.next_look.clear()  # every chat due again, the list still fresh
    await sweeper.sweep(core.ctx, memory=memory, slice_seconds=10.0, pause=pause)
    assert (pauses, memory.scans) == (3, 1)


async def test_a_busy_sweep_leaves_no_cyclic_garbage_and_freezes_what_it_loaded(
    chat: FakeChat, core: Core, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What each slice keeps is frozen out of full collections (see `slicing`): safe only
    because a sweep makes no garbage that only the collector could free."""
    await chat.ok(CAC + " owner=@anna")
    await chat.ok("/alerts set group=0 repeat=12h")
    await chat.ok("/kpi set cac 130")
    await chat.ok('/initiative add posts "Posts" cadence=4/week')
    clock.advance(days=12)  # red to remind, stale data, an initiative behind

    async def pause() -> None:
        pass

    report, left = await cyclic_garbage_made_by_us(
        lambda: sweeper.sweep(core.ctx, slice_seconds=0.0, pause=pause), monkeypatch
    )
    assert (report.reminders, report.stale, report.cadence) == (1, 1, 1)
    assert left == []
    # What the sweep's slices keep goes to the permanent generation. Counted at each
    # freeze, not as the frozen total: frozen objects of earlier tests freed meanwhile
    # (another thread letting go of them) made the total shrink under load.
    moved: list[int] = []
    freeze = gc.freeze

    def counting_freeze() -> None:
        moved.append(sum(len(gc.get_objects(generation)) for generation in range(3)))
        freeze()

    monkeypatch.setattr(gc, "freeze", counting_freeze)
    clock.advance(days=1)
    assert (await sweeper.sweep(core.ctx, slice_seconds=0.0, pause=pause)).reminders == 1
    assert sum(moved) > 0


async def test_no_collection_runs_inside_a_sweep_slice_and_the_collector_is_back_after() -> None:
    """What a slice keeps is frozen when it ends, so its allocations set off no collection
    (each found nothing to free); the collector is on again after it, even if a step fails."""
    kept: list[object] = []
    started: list[int] = []
    seen: list[int] = []  # collections started before the failing step

    def collecting(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    def step(n: int) -> None:
        kept.extend({"n": n, "i": i} for i in range(5_000))  # far past generation 0's 700
        if n == 3:
            seen.extend(started)
            raise ValueError("a failing step")

    async def pause() -> None:
        assert gc.isenabled()

    gc.callbacks.append(collecting)
    try:
        with pytest.raises(ValueError, match="a failing step"):
            await slicing.in_slices(
                range(5), step, atomic=contextlib.nullcontext, slice_seconds=0.0, pause=pause
            )
    finally:
        gc.callbacks.remove(collecting)
    assert (seen, len(kept), gc.isenabled()) == ([], 20_000, True)


async def test_the_sweeps_red_reminder_is_the_reminder_step_and_else_the_pipelines_entry_point(
    chat: FakeChat, core: Core, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A red KPI still red is reminded on its stored documents (`reminder_step`, held to
    `step` by tests/alerts/test_reminder_step.py); one the shortcut leaves alone (muted
    since) is evaluated by the pipeline's one entry point, which says nothing."""
    await chat.ok(CAC)
    await chat.ok("/alerts set group=0 repeat=12h")
    await chat.ok("/kpi set cac 130")
    evaluated: list[list[str]] = []
    stepped: list[str] = []
    entry_point, on_docs = alert_pipeline.evaluate_chat, alert_pipeline.reminder_step

    def spy(ctx: Context, chat: str, kpis: Sequence[Kpi], **kwargs: Any) -> Any:
        evaluated.append([k.key for k in kpis])
        return entry_point(ctx, chat, kpis, **kwargs)

    def spy_docs(state: Any, kpi: Kpi, *args: Any) -> Any:
        stepped.append(kpi.key)
        return on_docs(state, kpi, *args)

    monkeypatch.setattr(alert_pipeline, "evaluate_chat", spy)
    monkeypatch.setattr(alert_pipeline, "reminder_step", spy_docs)
    clock.advance(hours=13)
    assert (await sweeper.sweep(core.ctx)).reminders == 1
    assert (stepped, evaluated) == (["cac"], [])
    assert "is still red" in queued_text(core)[-1]
    await chat.ok("/alerts mute cac 2d")
    clock.advance(hours=13)
    stepped.clear()
    assert (await sweeper.sweep(core.ctx)).reminders == 0
    assert (stepped, evaluated) == (["cac"], [["cac"]])


async def test_the_sweep_summary_and_raw_reads_agree_with_the_repositories(
    chat: FakeChat, core: Core, clock: FixedClock
) -> None:
    await chat.ok(CAC)
    await chat.ok('/kpi add leads "Leads" target=200 perspective=customers owner=@ivan')
    await chat.ok('/kpi add trial "Trial" target=5 perspective=customers test=yes')
    await chat.ok("/kpi set cac 100 2026-11-01")
    await chat.ok("/kpi set cac 95 2026-11-10")
    await chat.ok('/initiative add posts "Posts" cadence=4/month')
    await chat.ok('/initiative add done "Done" cadence=1/week done=yes')
    for amount in ("+1", "+2", "-1"):
        await chat.ok(f"/log posts {amount}")
        clock.advance(days=1)
    summary = core.store.sweeps.get(CHAT, clock.now)
    facts = {key: (owner, last) for key, _, owner, _, last in summary.rows()}
    assert set(facts) == {"cac", "leads"}
    assert facts["cac"][1] == str(core.store.kpis.latest(CHAT, "cac")[-1].day)
    assert facts["leads"] == ("@ivan", None)
    logged = core.store.initiatives.logs(CHAT, "posts")
    for since in (datetime(2026, 11, 1, tzinfo=UTC), *(x.at for x in logged)):
        logs = core.store.initiatives.logs(CHAT, "posts", since=since)
        total = sum(x.amount for x in logs)
        assert core.store.alerts.progress_total(CHAT, "posts", since) == total
    assert [c.initiative for c in summary.cadence] == [core.store.initiatives.get(CHAT, "posts")]
    assert core.store.alerts.chats() == [CHAT]


async def test_the_reminders_raw_reads_agree_with_the_repositories(
    chat: FakeChat, core: Core, clock: FixedClock
) -> None:
    await chat.ok(CAC)
    await chat.ok('/kpi add leads "Leads" target=200 perspective=customers')
    await chat.ok("/alerts set group=30m")
    await chat.ok("/kpi set cac 130")  # red: held for the group window
    held = core.store.alerts.next_flush(CHAT)
    assert held is not None and held == core.store.alerts.batcher(CHAT).next_due()
    assert core.store.alerts.next_flush("console:elsewhere") is None


def _put(core: Core, chat: str, key: str) -> bool:
    entry = core.store.outbox.put(
        chat=chat,
        platform="console",
        kind="reminder",
        key=key,
        body={"text": key},
        summary=key,
        now=core.ctx.clock(),
    )
    return entry is not None


def test_an_outbox_batch_writes_each_chats_messages_once_in_order(core: Core) -> None:
    outbox = core.store.outbox
    assert _put(core, CHAT, "before")
    with core.store.db.atomic(), outbox.batch():
        assert _put(core, CHAT, "a")
        assert _put(core, "console:other", "x")
        assert not _put(core, CHAT, "before"), "keys already stored count"
        with outbox.batch():  # a nested block joins the outer one
            assert _put(core, CHAT, "b")
        assert not _put(core, CHAT, "a"), "keys held in the batch count too"
        assert [e.key for e in outbox.entries(CHAT)] == ["before"], "held until the end"
        seq = core.store.db.changes  # changes made so far: one per table write
    assert core.store.db.changes == seq + 2, "one write per chat"
    assert [e.key for e in outbox.entries(CHAT)] == ["before", "a", "b"]
    assert [e.key for e in outbox.entries("console:other")] == ["x"]
    assert CHAT in outbox.pending_chats() and "console:other" in outbox.pending_chats()


def test_an_outbox_batch_that_fails_stores_nothing(core: Core) -> None:
    outbox = core.store.outbox
    with pytest.raises(RuntimeError), outbox.batch():
        assert _put(core, CHAT, "a")
        raise RuntimeError("boom")
    assert outbox.entries(CHAT) == []
    assert _put(core, CHAT, "a"), "the key was never stored"


def test_sent_marks_are_kept_apart_from_the_schedule_bookkeeping(
    core: Core, clock: FixedClock
) -> None:
    alerts = core.store.alerts
    assert alerts.sent_marks(CHAT) == {}
    alerts.save_sent_marks(CHAT, {"stale:cac": "2026-11-02"})
    bookkeeping.record_fire(core.ctx, CHAT, "digest", clock.now)
    marks = alerts.sent_marks(CHAT)
    assert marks == {"stale:cac": "2026-11-02"}
    marks["cadence:posts"] = "2026-11-01"  # a copy: the store is unchanged until saved
    assert alerts.sent_marks(CHAT) == {"stale:cac": "2026-11-02"}
    alerts.save_sent_marks(CHAT, marks)
    assert alerts.sent_marks(CHAT) == marks
    assert alerts.jobstate(CHAT).last_fire == {"digest": clock.now}


class _Asked:
    """Records the tables a backend is asked for one by one."""

    def __init__(self, load: Callable[[str], bytes | None]) -> None:
        self.names: list[str] = []
        self._load = load

    def __call__(self, name: str) -> bytes | None:
        self.names.append(name)
        return self._load(name)


def _reopened_bench_store(
    data: Path, monkeypatch: pytest.MonkeyPatch, *, chats: int, busy: bool
) -> Core:
    """The bench's sweep store of `chats` chats × 3 KPIs, built, closed and opened again
    (cold: nothing cached)."""
    monkeypatch.setattr(bench_alerts, "CHATS", chats)
    monkeypatch.setattr(bench_alerts, "KPIS_PER_CHAT", 3)
    built = build_core(data, clock=lambda: bench_alerts.NOW)
    bench_alerts._build_sweep_store(built, busy=busy)
    built.close()
    return build_core(data, clock=lambda: bench_alerts.NOW)


async def test_the_first_sweep_after_a_start_preloads_by_kind_and_sends_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every chat busy (a stale KPI, a red reminder, an initiative behind): the first sweep
    with memory loads the swept kinds by range queries, then sends exactly what a sweep
    of the same chats without the preload sends, asking for no table of those kinds
    (KPI indexes are read through the sweep summaries: only a red KPI's own is asked for)."""
    monkeypatch.setattr(bench_alerts, "CHATS", 4)
    monkeypatch.setattr(bench_alerts, "KPIS_PER_CHAT", 3)
    built = build_core(tmp_path / "built", clock=lambda: bench_alerts.NOW)
    bench_alerts._build_sweep_store(built, busy=True)
    built.close()
    sent = []
    for preload in (True, False):
        data = tmp_path / str(preload)
        shutil.copytree(tmp_path / "built", data)
        core = build_core(data, clock=lambda: bench_alerts.NOW)
        backend = core.store.db.backend
        asked = _Asked(backend.load)
        monkeypatch.setattr(backend, "load", asked)
        memory = sweeper.SweepMemory()
        chats = None if preload else core.store.alerts.chats()
        report = await sweeper.sweep(core.ctx, chats, memory=memory if preload else None)
        assert (report.stale, report.cadence, report.reminders) == (4, 4, 4)
        kinds = ("abook:", "kpi:", "alset:", "ob:", "sweep:")
        assert (not any(n.startswith(kinds) for n in asked.names)) is preload
        outbox = core.store.outbox
        sent.append([(e.key, e.body) for c in outbox.pending_chats() for e in outbox.pending(c)])
        assert memory.preloaded is preload
        core.close()
    assert sent[0] == sent[1] and len(sent[0]) == 8


async def test_a_cold_sweep_reads_red_kpis_in_the_summaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A red reminder reads its KPI's definition in the chat's sweep summary: the first
    sweep after a start loads no table of KPI definitions (6 KB a chat in the bench),
    except for a chat whose summary is gone (a value recorded since)."""
    monkeypatch.setattr(bench_alerts, "CHATS", 3)
    monkeypatch.setattr(bench_alerts, "KPIS_PER_CHAT", 3)
    built = build_core(tmp_path, clock=lambda: bench_alerts.NOW)
    bench_alerts._build_sweep_store(built, busy=True)
    built.store.db.drop_table("sweep:telegram:-100001")
    built.close()
    core = build_core(tmp_path, clock=lambda: bench_alerts.NOW)
    db = core.store.db
    loaded: list[str] = []
    remember = db._remember

    def cached(name: str, entry: Any) -> None:
        loaded.append(name)
        remember(name, entry)

    monkeypatch.setattr(db, "_remember", cached)
    report = await sweeper.sweep(core.ctx, memory=sweeper.SweepMemory())
    core.close()
    assert (report.stale, report.cadence, report.reminders) == (3, 3, 3)
    assert [n for n in loaded if n.startswith("kpi:")] == ["kpi:telegram:-100001"]


async def test_a_cold_sweep_with_no_reminder_due_loads_no_red_kpis_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A look loads what its due reminders read: red KPIs told within `repeat` are not
    reminded, so their value indexes are not loaded."""
    core = _reopened_bench_store(tmp_path, monkeypatch, chats=3, busy=False)
    report = await sweeper.sweep(core.ctx, memory=sweeper.SweepMemory())
    assert (report.stale, report.cadence, report.reminders) == (0, 0, 0)
    assert not any(name.startswith("mix:") for name in core.store.db._cache)
    core.close()
