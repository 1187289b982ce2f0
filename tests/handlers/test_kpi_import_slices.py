"""A big import reads and builds in slices: other chats' commands answer in between, and
the import is still one atomic step (nothing half-written by a bad row or a crash)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.app import Core, build_core
from handlers import kpi_import
from handlers.contract import Command, Context, Reply, command
from handlers.router import breathe
from storage.changes import Doc
from storage.kpis import KpiRepo, PreparedValues
from tests.support import FakeChat, FixedClock

LINES = 40  # with CHUNK = 5: eight slices to read, eight more to build


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kpi_import, "CHUNK", 5)


def _big_import(lines: int = LINES, bad_last: bool = False) -> str:
    start = date(2026, 1, 1)
    rows = [f"cac {90 + n % 7} {start + timedelta(days=n)}" for n in range(lines)]
    if bad_last:
        rows[-1] = "cac lots"
    return "/kpi import\n" + "\n".join(rows)


async def _two_chats(core: Core) -> tuple[FakeChat, FakeChat]:
    team, other = FakeChat(core, "team"), FakeChat(core, "other")
    await team.ok('/kpi add cac "CAC" target=80 perspective=finance')
    await other.ok('/kpi add leads "Leads" target=100 perspective=customers')
    await other.ok("/kpi set leads 42")
    return team, other


async def _meanwhile(big: asyncio.Task[str], other: FakeChat, text: str) -> str:
    """`text` in the other chat once the big command has started; it must answer first."""
    await asyncio.sleep(0)
    answer = await other.ok(text)
    assert not big.done(), "the other chat waited for the whole import"
    return answer


def when_laid_out(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Set once an Apply has laid its values out in their shards (not yet written)."""
    laid_out = asyncio.Event()
    prepare = KpiRepo.prepare_values

    def spy(repo: KpiRepo, chat: str, key: str, docs: Sequence[Doc]) -> PreparedValues:
        laid_out.set()
        return prepare(repo, chat, key, docs)

    monkeypatch.setattr(KpiRepo, "prepare_values", spy)
    return laid_out


async def test_another_chat_answers_while_a_big_import_is_read_and_applied(core: Core) -> None:
    team, other = await _two_chats(core)
    preview = asyncio.ensure_future(team.ok(_big_import()))
    assert "Leads" in await _meanwhile(preview, other, "/kpi")
    assert "Import preview: 40 values for 1 KPI" in await preview
    apply = team.transcript[-1][1][0].buttons[0].command
    applied = asyncio.ensure_future(team.ok(apply))
    assert "Saved Leads = 43" in await _meanwhile(applied, other, "/kpi set leads 43")
    assert await applied == "Imported 40 values: CAC."
    history = await team.ok("/kpi history cac all")  # the import is there, whole
    assert "2026-01-01" in history and "2026-02-09" in history


async def test_a_bad_last_row_of_a_big_import_parks_nothing(core: Core) -> None:
    team, other = await _two_chats(core)
    refused = asyncio.ensure_future(team.error(_big_import(bad_last=True)))
    assert "Saved Leads = 7" in await _meanwhile(refused, other, "/kpi set leads 7")
    assert (await refused).startswith("1 line(s) need fixing, nothing was imported: line 40")
    assert core.store.pending.peek("console:team", "kpi-import", "x", core.ctx.clock()) is None


async def test_a_second_apply_while_the_first_is_building_finds_it_gone(core: Core) -> None:
    team, _ = await _two_chats(core)
    await team.ok(_big_import())
    apply = team.transcript[-1][1][0].buttons[0].command
    first = asyncio.ensure_future(team.say(apply))
    second = asyncio.ensure_future(team.say(apply))
    answers = sorted(replies[0].plain() for replies in await asyncio.gather(first, second))
    assert answers == [
        "Imported 40 values: CAC.",
        "This import was already applied, cancelled or has expired.",
    ]


async def test_a_crash_while_an_import_is_built_leaves_nothing_half_written(
    tmp_path: Path, clock: FixedClock
) -> None:
    core = build_core(tmp_path, clock=clock)
    team, _ = await _two_chats(core)
    await team.ok(_big_import())
    apply = team.transcript[-1][1][0].buttons[0].command
    building = asyncio.ensure_future(team.say(apply))
    for _ in range(4):  # a few slices in: values are being built, nothing is written
        await asyncio.sleep(0)
    building.cancel()  # the process dies here (nothing after this point runs)
    with pytest.raises(asyncio.CancelledError):
        await building
    await core.store.commit()
    core.close()
    core = build_core(tmp_path, clock=clock)
    team = FakeChat(core, "team")
    assert "2026-01-01" not in await team.ok("/kpi history cac all")
    assert await team.ok(apply) == "Imported 40 values: CAC."  # the preview is still parked
    core.close()


async def test_a_mutating_command_may_breathe_before_it_writes_not_after(
    chat: FakeChat, core: Core
) -> None:
    @command("slow", usage="/slow", example="/slow", mutates=True)
    async def slow(cmd: Command, ctx: Context) -> Reply:
        """Read in slices, then write."""
        for _ in range(3):
            await breathe()
        ctx.store.chats.save(
            cmd.chat.key,
            ctx.store.chats.settings(cmd.chat.key).model_copy(update={"timezone": "Asia/Tokyo"}),
        )
        return Reply(text="done")

    @command("late", usage="/late", example="/late", mutates=True)
    async def late(cmd: Command, ctx: Context) -> Reply:
        """Write, then breathe: a bug, refused with nothing kept."""
        ctx.store.chats.save(
            cmd.chat.key,
            ctx.store.chats.settings(cmd.chat.key).model_copy(update={"timezone": "Asia/Dubai"}),
        )
        await breathe()
        return Reply(text="never")

    core.router.include(slow, late)
    assert await chat.ok("/slow") == "done"
    assert "Nothing was changed" in await chat.error("/late")
    assert "Asia/Tokyo" in await chat.ok("/timezone")


async def test_values_typed_after_an_import_was_laid_out_are_kept_beside_it(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    team, _ = await _two_chats(core)
    await team.ok(_big_import())
    apply = team.transcript[-1][1][0].buttons[0].command
    laid_out = when_laid_out(monkeypatch)
    applied = asyncio.ensure_future(team.ok(apply))
    await laid_out.wait()  # its shards are built: the two below change two of them
    await team.ok("/kpi set cac 7 2026-02-20")  # the import's last month, a day it lacks
    await team.ok("/kpi set cac 5 2026-01-03")  # a day the import has: the import comes later
    assert not applied.done()
    assert await applied == "Imported 40 values: CAC."
    history = await team.ok("/kpi history cac all")
    assert "2026-02-20" in history and "2026-02-09" in history and "2026-01-01" in history
    days = {m.day: m.value for m in core.store.kpis.history("console:team", "cac")}
    assert days[date(2026, 2, 20)] == 7 and days[date(2026, 1, 3)] == 90 + 2 % 7
    assert len(days) == 41
