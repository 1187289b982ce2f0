"""A chat's whole scorecard moves to a new chat key (Telegram group → supergroup)."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Any

import pytest

import storage.moves
from bot.app import Core, build_core
from bot.scheduler import Scheduler
from handlers.contract import ChatRef
from handlers.jobs import sweeper
from scoring.schedule import Schedule
from storage import ChatMoveConflict, open_store
from storage.alert_state import AlertSettings, Channel, JobState
from storage.moves import chat_tables
from tests.support import FakeChat, FixedClock

OLD = "-4001"
NEW = "-1004001"
OLD_KEY = f"telegram:{OLD}"
NEW_KEY = f"telegram:{NEW}"
VIEWS = ("/kpi", "/okr", "/initiatives", "/alerts", "/map", "/scorecard", "/objective")


def telegram_chat(core: Core, chat_id: str) -> FakeChat:
    chat = FakeChat(core, chat_id)
    chat.chat = ChatRef(platform="telegram", chat_id=chat_id)
    return chat


async def build_scorecard(chat: FakeChat) -> None:
    for text in (
        "/scorecard apply content-marketing",
        "/kpi set cac 90",
        "/kpi set traffic 15000",
        "/kpi set conversion 2.5",
        "/okr cycle 2026Q4",
        '/okr add delight "Delight our customers" cycle=2026Q4 owner=@anna',
        '/okr kr delight nps "Raise NPS" start=30 target=50',
        "/okr checkin nps 38 confidence=7 after the survey",
        "/log articles +1 published the BSC guide",
        "/timezone Europe/Berlin",
        "/alerts quiet 22:00-08:00",
        "/alerts mute cac 2d",
        "/digest every mon 09:00",
    ):
        await chat.ok(text)


async def views(chat: FakeChat) -> dict[str, str]:
    return {text: await chat.ok(text) for text in VIEWS}


def snapshot(core: Core) -> dict[str, list[dict[str, Any]]]:
    db = core.store.db
    return {name: [dict(d) for d in db.table(name).all()] for name in sorted(db.table_names())}


async def test_the_whole_scorecard_reads_the_same_from_the_new_chat(
    core: Core, clock: FixedClock
) -> None:
    old, new = telegram_chat(core, OLD), telegram_chat(core, NEW)
    await build_scorecard(old)
    before = await views(old)
    empty = await views(telegram_chat(core, "-4999"))
    jobs = JobState(last_fire={"digest": clock()})
    core.store.alerts.save_jobstate(OLD_KEY, jobs)
    core.store.alerts.save_sent_marks(OLD_KEY, {"stale:cac": "2026-11-02"})

    assert core.store.move_chat(OLD_KEY, NEW_KEY) is True
    await core.store.commit()

    assert await views(new) == before
    assert await views(old) == empty
    assert chat_tables(core.store.db, OLD_KEY, with_data=False) == []
    settings = core.store.chats.settings(NEW_KEY)
    assert settings.timezone == "Europe/Berlin"
    alerts = core.store.alerts.settings(NEW_KEY)
    assert alerts.digest == Schedule(weekdays=frozenset({0}), at=time(9, 0))
    assert [m.target for m in alerts.mutes] == ["cac"]
    assert core.store.alerts.jobstate(NEW_KEY) == jobs  # schedule bookkeeping moved
    assert core.store.alerts.sent_marks(NEW_KEY) == {"stale:cac": "2026-11-02"}
    assert core.store.alerts.chats() == [NEW_KEY]
    # and the moved scorecard keeps working in its new chat
    assert "= 80 $" in await new.ok("/kpi set cac 80")
    assert "2 of 4" in await new.ok("/log articles +1")


async def test_a_second_move_does_nothing_and_a_taken_target_is_refused(core: Core) -> None:
    old, new = telegram_chat(core, OLD), telegram_chat(core, NEW)
    await build_scorecard(old)
    assert core.store.move_chat(OLD_KEY, NEW_KEY) is True
    after = snapshot(core)
    assert core.store.move_chat(OLD_KEY, NEW_KEY) is False  # service message + ChatMigrated
    assert core.store.move_chat(NEW_KEY, NEW_KEY) is False
    assert core.store.move_chat("telegram:-777", NEW_KEY) is False  # nothing there
    assert snapshot(core) == after

    # both chats have a scorecard: never mixed
    await old.ok('/kpi add leads "Leads" target=10 perspective=customers')
    before = snapshot(core)
    with pytest.raises(
        ChatMoveConflict, match=r"telegram:-1004001 already has data \(ab(ch|ook):"
    ):
        core.store.move_chat(OLD_KEY, NEW_KEY)
    assert snapshot(core) == before
    assert "Leads" in await old.ok("/kpi")
    assert "Leads" not in await new.ok("/kpi")


async def test_keys_are_matched_as_whole_segments(core: Core) -> None:
    await build_scorecard(telegram_chat(core, OLD))
    longer = telegram_chat(core, OLD + "9")  # "telegram:-40019" starts with the old key
    await longer.ok('/kpi add leads "Leads" target=10 perspective=customers')
    await longer.ok("/kpi set leads 4")
    kept = {n: t for n, t in snapshot(core).items() if OLD_KEY + "9" in n}

    core.store.move_chat(OLD_KEY, NEW_KEY)

    assert {n: t for n, t in snapshot(core).items() if OLD_KEY + "9" in n} == kept
    assert "Leads" in await longer.ok("/kpi")
    assert "Leads" not in await telegram_chat(core, NEW).ok("/kpi")


async def test_references_to_the_old_chat_follow_it(core: Core, clock: FixedClock) -> None:
    await build_scorecard(telegram_chat(core, OLD))
    store = core.store
    here = Channel(platform="telegram", chat_id=OLD)
    elsewhere = Channel(platform="slack", chat_id="C1")
    store.alerts.save_settings(OLD_KEY, AlertSettings(channels=(here, elsewhere)))
    store.alerts.save_settings("slack:C9", AlertSettings(channels=(here,)))  # sends to us
    to = {"platform": "telegram", "chat_id": OLD, "thread_id": None}
    body: dict[str, Any] = {"text": "queued", "to": to}
    entry_id = store.outbox.put(
        chat=OLD_KEY,
        platform="telegram",
        kind="alert",
        key="k1",
        body=body,
        summary="queued",
        now=clock(),
    )
    assert entry_id is not None
    assert store.outbox.pending_chats() == [OLD_KEY]

    store.move_chat(OLD_KEY, NEW_KEY)

    moved = Channel(platform="telegram", chat_id=NEW)
    assert store.alerts.settings(NEW_KEY).channels == (moved, elsewhere)
    assert store.alerts.settings("slack:C9").channels == (moved,)
    assert store.outbox.pending_chats() == [NEW_KEY]
    [pending] = store.outbox.pending(NEW_KEY)
    assert (pending.id, pending.chat, pending.key) == (entry_id, NEW_KEY, "k1")
    assert pending.body == {**body, "to": {**body["to"], "chat_id": NEW}}
    assert store.outbox.pending(OLD_KEY) == []
    # a delivery that was sending the entry when the chat moved still records it
    store.outbox.mark_delivered(OLD_KEY, entry_id, clock())
    assert store.outbox.head(NEW_KEY) is None


async def test_a_pending_import_can_be_applied_in_the_new_chat(core: Core) -> None:
    old, new = telegram_chat(core, OLD), telegram_chat(core, NEW)
    await build_scorecard(old)
    [preview] = await old.say("/kpi import traffic 18000")
    apply = next(b.command for b in preview.buttons if "apply" in b.command)
    core.store.move_chat(OLD_KEY, NEW_KEY)
    await new.ok(apply)
    assert "18 000" in await new.ok("/kpi")


async def test_a_failed_move_leaves_the_old_layout(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    await build_scorecard(telegram_chat(core, OLD))
    before = snapshot(core)
    calls = 0
    real = storage.moves._rewrite

    def crash_midway(value: Any, old: str, new: str) -> tuple[Any, bool]:
        nonlocal calls
        calls += 1
        if calls == 40:
            raise RuntimeError("crash")
        return real(value, old, new)

    monkeypatch.setattr(storage.moves, "_rewrite", crash_midway)
    with pytest.raises(RuntimeError):
        core.store.move_chat(OLD_KEY, NEW_KEY)
    assert calls >= 40
    assert snapshot(core) == before


async def test_the_move_is_one_durable_step(tmp_path: Path, clock: FixedClock) -> None:
    core = build_core(tmp_path, clock=clock)
    try:
        old = telegram_chat(core, OLD)
        await build_scorecard(old)
        before = await views(old)
        core.store.move_chat(OLD_KEY, NEW_KEY)
        await core.store.commit()
    finally:
        core.close()
    # reopened from disk (journal, then snapshot): the new layout, whole
    for _ in range(2):
        core = build_core(tmp_path, clock=clock)
        try:
            assert await views(telegram_chat(core, NEW)) == before
            assert chat_tables(core.store.db, OLD_KEY, with_data=False) == []
        finally:
            core.close()


def test_only_chat_keys_are_accepted() -> None:
    store = open_store(None)
    with pytest.raises(ValueError, match="not a chat key"):
        store.move_chat("telegram", NEW_KEY)


async def test_a_moved_chats_sweep_summary_is_rebuilt_in_the_new_chat_not_left_empty(
    core: Core, clock: FixedClock
) -> None:
    """Moving the KPI tables drops the chat's sweep summary (it summarises them), so by its
    turn the summary table is empty: it must not be recreated empty under the new key
    (a table written for nothing, which every later read passes over to rebuild)."""
    await build_scorecard(telegram_chat(core, OLD))
    before = core.store.sweeps.get(OLD_KEY, clock())  # built and stored
    db = core.store.db
    assert db.table_names("sweep:") == {f"sweep:{OLD_KEY}"}

    assert core.store.move_chat(OLD_KEY, NEW_KEY) is True
    await core.store.commit()

    assert db.table_names("sweep:") == set()
    after = core.store.sweeps.get(NEW_KEY, clock())  # the next sweep rebuilds it
    assert after.facts == before.facts
    assert [c.key for c in after.cadence] == [c.key for c in before.cadence]
    assert len(db.docs(f"sweep:{NEW_KEY}")) == 1
    assert core.store.sweeps.check(NEW_KEY, clock())


async def test_after_a_move_the_sweep_looks_at_the_new_chat_and_leaves_the_old_one_empty(
    core: Core, clock: FixedClock
) -> None:
    """The sweep's memory knew the old chat: looking at it again (until the hourly rescan)
    stored a sweep summary for it, so the emptied chat kept a table."""
    await build_scorecard(telegram_chat(core, OLD))
    scheduler = Scheduler(core.ctx, after_run=core.after_commit)
    await scheduler.run_sweep()  # the sweep knows the old chat
    assert core.store.move_chat(OLD_KEY, NEW_KEY) is True
    await core.store.commit()
    scheduler.chat_moved(OLD_KEY, NEW_KEY)
    for _ in range(3):
        clock.advance(minutes=5)
        await scheduler.run_sweep()
        assert chat_tables(core.store.db, OLD_KEY, with_data=False) == []
    assert core.store.db.table_names("sweep:") == {f"sweep:{NEW_KEY}"}  # looked at


async def test_a_move_during_a_running_sweep_leaves_the_old_chat_unlooked(
    core: Core, clock: FixedClock
) -> None:
    """A sweep takes its chats once, then pauses between slices: a move landing in a pause
    took the old chat out of the sweep's memory, but the running sweep still looked at it
    and stored a summary there (found by the last re-read of session 7)."""
    await build_scorecard(telegram_chat(core, OLD))
    await build_scorecard(telegram_chat(core, "-5001"))
    scheduler = Scheduler(core.ctx, after_run=core.after_commit)
    await scheduler.run_sweep()
    clock.advance(days=1)
    moved: list[bool] = []

    async def move_in_the_first_pause() -> None:
        if not moved:
            moved.append(core.store.move_chat(OLD_KEY, NEW_KEY))
            await core.store.commit()
            scheduler.chat_moved(OLD_KEY, NEW_KEY)

    await sweeper.sweep(
        core.ctx, memory=scheduler.memory, slice_seconds=0, pause=move_in_the_first_pause
    )
    await core.store.commit()
    assert moved == [True]
    assert chat_tables(core.store.db, OLD_KEY, with_data=False) == []
