"""/source: a CSV pulled over HTTP from a loopback server; rows taken once, edits update."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.app import Core
from bot.scheduler import Scheduler
from handlers import sources
from tests.fakes.loopback import LoopbackServer
from tests.support import FakeChat, FixedClock


class CsvServer(LoopbackServer):
    """Serves `self.body` at /leads.csv (or `self.status` when it is not 200)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = ""
        self.status = 200
        self.hits = 0

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/leads.csv", self._csv)

    async def _csv(self, request: web.Request) -> web.Response:
        self.hits += 1
        return web.Response(text=self.body, status=self.status, content_type="text/csv")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/leads.csv"


@pytest.fixture
async def sheet() -> AsyncIterator[CsvServer]:
    async with CsvServer() as server:
        yield server


async def _setup(chat: FakeChat, sheet: CsvServer) -> None:
    await chat.ok('/kpi add leads "Leads" target=200 perspective=customers')
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    await chat.ok(f'/source add sheet csv {sheet.url} every=day map="date:Date,leads:New leads"')


def _notices(core: Core, chat: FakeChat) -> list[str]:
    return [e.summary for e in core.store.outbox.entries(chat.chat.key) if e.kind == "notice"]


async def run_now(chat: FakeChat, key: str = "sheet") -> str:
    """/source run, then the pull job (the app starts it at once); the result posted."""
    assert await chat.ok(f"/source run {key}") == f"Pulling {key} now; the result follows here."
    assert chat.core.store.sources.take_requested()
    assert await sources.run_due(chat.core.ctx) == 1
    await chat.core.store.commit()
    return _notices(chat.core, chat)[-1]


async def test_new_rows_are_taken_once_and_edited_rows_update(
    chat: FakeChat, sheet: CsvServer, core: Core
) -> None:
    await _setup(chat, sheet)
    sheet.body = "Date,New leads,Other\n2026-11-19,120,x\n2026-11-20,130,y\n"
    assert await run_now(chat) == (
        "Pulled sheet: 2 new or changed values, 0 unchanged. "
        "Not a KPI column, skipped: Other. (asked by @anna)"
    )
    assert await run_now(chat) == (
        "Pulled sheet: 0 new or changed values, 2 unchanged. "
        "Not a KPI column, skipped: Other. (asked by @anna)"
    )
    sheet.body = "Date,New leads\n2026-11-19,120\n2026-11-20,135\n21.11.2026,140\n"
    assert await run_now(chat) == (
        "Pulled sheet: 2 new or changed values, 1 unchanged. (asked by @anna)"
    )
    history = core.store.kpis.history(chat.chat.key, "leads")
    assert [(m.day.isoformat(), m.value, m.by) for m in history] == [
        ("2026-11-19", 120.0, "source sheet"),
        ("2026-11-20", 135.0, "source sheet"),
        ("2026-11-21", 140.0, "source sheet"),
    ]
    listing = await chat.ok("/source")
    assert listing.splitlines()[2].split() == ["sheet", "day", "2026-11-21", "10:00", "2", "—"]


async def test_bad_rows_are_reported_with_their_line_once(
    chat: FakeChat, sheet: CsvServer, core: Core, clock: FixedClock
) -> None:
    await _setup(chat, sheet)
    sheet.body = "Date,New leads\n2026-11-19,120\n2026-11-20,n/a\nyesterday-ish,5\n"
    assert await sources.run_due(core.ctx) == 1
    await core.store.commit()
    assert core.store.kpis.count(chat.chat.key, "leads") == 1  # the good row is taken
    [notice] = _notices(core, chat)
    assert notice.startswith("Source sheet: 2 bad row(s): line 3, New leads: 'n/a' is not a")
    assert "line 4, Date:" in notice
    assert await sources.run_due(core.ctx) == 0  # not due again before a day has passed
    clock.advance(days=1)
    assert await sources.run_due(core.ctx) == 1
    assert len(_notices(core, chat)) == 1  # the same problem is not told again
    assert "2 bad row(s)" in await chat.ok("/source")


async def test_a_failing_download_is_told_once_and_again_after_recovering(
    chat: FakeChat, sheet: CsvServer, core: Core, clock: FixedClock
) -> None:
    await _setup(chat, sheet)
    sheet.status = 500
    for _ in range(3):
        await sources.run_due(core.ctx)
        clock.advance(days=1)
    assert _notices(core, chat) == [
        "Source sheet: download failed: HTTP 500. I'll say so again only if it changes; "
        "/source shows the status."
    ]
    assert sheet.hits == 3
    sheet.status, sheet.body = 200, "Date,New leads\n2026-11-20,1\n"
    await sources.run_due(core.ctx)
    clock.advance(days=1)
    sheet.status = 404
    await sources.run_due(core.ctx)
    assert len(_notices(core, chat)) == 2
    assert await run_now(chat) == (
        "Source sheet failed: download failed: HTTP 404. (asked by @anna)"
    )


async def test_a_column_named_after_a_kpi_is_taken_besides_map_and_others_are_named(
    chat: FakeChat, sheet: CsvServer, core: Core
) -> None:
    await _setup(chat, sheet)
    sheet.body = "Date,New leads,cac,leads,Notes\n2026-11-20,40,95,41,x\n"
    assert await run_now(chat) == (
        "Pulled sheet: 2 new or changed values, 0 unchanged. "
        "Not a KPI column, skipped: leads, Notes. (asked by @anna)"
    )
    assert [m.value for m in core.store.kpis.history(chat.chat.key, "cac")] == [95.0]
    assert [m.value for m in core.store.kpis.history(chat.chat.key, "leads")] == [40.0]


async def test_a_bad_row_in_an_asked_run_ends_in_one_period(
    chat: FakeChat, sheet: CsvServer
) -> None:
    await _setup(chat, sheet)
    sheet.body = "Date,New leads\n2026-11-20,1\n2026-13-45,2\n"
    assert await run_now(chat) == (
        "Pulled sheet: 1 new or changed value, 0 unchanged. 1 bad row(s): line 3, Date: "
        "'2026-13-45' is not a real date (check the month and day). (asked by @anna)"
    )


async def test_pulls_run_from_the_scheduler(chat: FakeChat, sheet: CsvServer, core: Core) -> None:
    await _setup(chat, sheet)
    sheet.body = "date,leads,cac\n2026-11-20,7,100\n"
    await chat.ok("/source remove sheet")
    await chat.ok(f"/source add plain csv {sheet.url} every=hour")
    scheduler = Scheduler(core.ctx, after_run=core.after_commit)
    core.scheduler = scheduler
    await scheduler.start()
    try:
        assert "pulls" in scheduler.job_ids()
        assert await scheduler.run_pulls() == 1
        assert core.store.kpis.count(chat.chat.key, "cac") == 1
        sheet.body = "date,leads,cac\n2026-11-20,7,90\n"
        await chat.ok("/source run plain")  # committed, then the app pulls at once
        await scheduler.drain()
    finally:
        await scheduler.stop()
        core.scheduler = None
    assert _notices(core, chat) == [
        "Pulled plain: 1 new or changed value, 1 unchanged. (asked by @anna)"
    ]
    assert [m.value for m in core.store.kpis.history(chat.chat.key, "cac")] == [90.0]


async def test_bad_source_commands_change_nothing(chat: FakeChat, sheet: CsvServer) -> None:
    await chat.ok('/kpi add leads "Leads" target=200 perspective=customers')
    assert await chat.error("/source add s json https://x.example/a every=day") == (
        "Only csv sources for now: /source add <key> csv <url> every=day"
    )
    assert await chat.error("/source add s csv ftp://x.example/a") == (
        "The URL must start with https:// (or http://)."
    )
    assert await chat.error("/source add s csv https://x.example/a every=month") == (
        "every= must be hour, day or week."
    )
    assert "No KPI 'lead'" in await chat.error(
        "/source add s csv https://x.example/a map=date:Date,lead:Leads"
    )
    assert "No sources yet" in await chat.ok("/source")
    assert "No source 'nope'" in await chat.error("/source run nope")


def _texts(core: Core, chat: FakeChat) -> list[str]:
    """The notices' whole texts (their summaries are first lines)."""
    entries = core.store.outbox.entries(chat.chat.key)
    return [str(e.body["text"]) for e in entries if e.kind == "notice" and e.body]


async def pulled(core: Core, chat: FakeChat, sheet: CsvServer, body: str) -> list[str]:
    """The notices after the one source due pulls `body` (committed, as the job does)."""
    sheet.body = body
    assert await sources.run_due(core.ctx) == 1
    await core.store.commit()
    return _texts(core, chat)


async def test_a_pull_says_how_it_read_a_lone_dot_value_once(
    chat: FakeChat, sheet: CsvServer, core: Core, clock: FixedClock
) -> None:
    """A pulled `14.000` was stored as 14 without a word, where `/kpi set`, `/kpi import`
    and the ingest API say how they read it: an asked run says it with its result, a
    scheduled one in a notice of its own, each value once (an unchanged row is not read
    again); a chat whose dots group thousands reads 14 000 and hears nothing."""
    await _setup(chat, sheet)
    sheet.body = "Date,New leads\n2026-11-19,14.000\n"
    await run_now(chat)
    assert _texts(core, chat)[-1] == (
        "Pulled sheet: 1 new or changed value, 0 unchanged. (asked by @anna)\n"
        "Line 2: read 14.000 as 14 (a lone dot is a decimal point): write 14000 if you meant "
        "14 000."
    )
    sheet.body = "Date,New leads,cac\n2026-11-19,14.000,\n2026-11-20,,95.500\n"
    clock.advance(days=1)
    assert await sources.run_due(core.ctx) == 1
    await core.store.commit()
    assert _texts(core, chat)[-1] == (
        "Source sheet:\n"
        "Line 3: read 95.500 as 95.5 (a lone dot is a decimal point): write 95500 if you "
        "meant 95 500."
    )
    await chat.ok("/numbers 1.234,5")
    sheet.body = "Date,New leads\n2026-11-21,16.000\n"
    clock.advance(days=1)
    before = len(_notices(core, chat))
    assert await sources.run_due(core.ctx) == 1
    await core.store.commit()
    assert len(_notices(core, chat)) == before
    assert core.store.kpis.history(chat.chat.key, "leads")[-1].value == 16_000
