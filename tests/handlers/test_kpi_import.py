"""Importing many values: checked whole, previewed, applied once, alerts grouped."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.adapters.console import ConsoleAdapter
from bot.app import Core
from handlers.contract import Actor, Attachment, ChatRef, Command
from tests.support import FakeChat


async def _setup(chat: FakeChat) -> None:
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    await chat.ok('/kpi add traffic "Visits" target=20000 perspective=customers')


async def test_import_previews_then_applies_once(chat: FakeChat) -> None:
    await _setup(chat)
    replies = await chat.say(
        "/kpi import\ncac 100 2026-11-01\ncac;90;2026-11-08\ntraffic 12 000 2026-11-08\n"
        "traffic,15000,2026-11-15"
    )
    preview = replies[0]
    assert "4 values for 2 KPIs" in preview.plain()
    assert "CAC (cac) ×2: 100 (2026-11-01), 90 (2026-11-08)" in preview.plain()
    assert "No value" not in preview.plain()
    assert "—" in await chat.ok("/kpi cac")  # nothing saved yet
    apply = preview.buttons[0].command
    assert "Imported 4 values" in await chat.ok(apply)
    detail = await chat.ok("/kpi traffic")
    assert "15 000" in detail and "12 000" in detail
    assert "already applied" in await chat.error(apply)


async def test_one_bad_line_refuses_the_whole_import_with_line_numbers(chat: FakeChat) -> None:
    await _setup(chat)
    error = await chat.error(
        "/kpi import\ncac 100 2026-11-01\ncak 90\ntraffic lots\ncac 5 2027-01-01"
    )
    assert error.startswith("3 line(s) need fixing, nothing was imported")
    assert "line 2: No KPI 'cak'. Did you mean 'cac'?" in error
    assert "line 3:" in error and "line 4:" in error
    assert "—" in await chat.ok("/kpi cac")


async def test_the_refusal_lists_each_bad_line_as_one_readable_sentence(chat: FakeChat) -> None:
    await _setup(chat)
    assert await chat.error("/kpi import\ncac 90 2026-11-01\ncac abc\nnosuch 5\ncak 1") == (
        "3 line(s) need fixing, nothing was imported: line 2: 'abc' is not a number for cac: "
        "try 12.5, 12,5, 10 000, 10k or 35%; line 3: No KPI 'nosuch'; "
        "line 4: No KPI 'cak'. Did you mean 'cac'?"
    )


async def test_cancelled_import_saves_nothing(chat: FakeChat) -> None:
    await _setup(chat)
    replies = await chat.say("/kpi import cac 100")
    assert "cancelled" in await chat.ok(replies[0].buttons[1].command)
    assert "already applied, cancelled" in await chat.error(replies[0].buttons[0].command)


async def test_import_of_several_red_kpis_is_one_alert_log_step(chat: FakeChat) -> None:
    await _setup(chat)
    replies = await chat.say("/kpi import\ncac 119\ntraffic 100")
    await chat.ok(replies[0].buttons[0].command)
    assert "2 firing" in await chat.ok("/alerts")


async def test_header_line_and_empty_import(chat: FakeChat) -> None:
    await _setup(chat)
    replies = await chat.say("/kpi import\nkpi,value,date\ncac,100,2026-11-01")
    assert "1 value for 1 KPI" in replies[0].plain()
    assert "Nothing to import" in await chat.error("/kpi import")


async def test_the_preview_lists_values_dates_and_what_they_replace(chat: FakeChat) -> None:
    await _setup(chat)
    await chat.ok("/kpi set cac 100 2026-11-02")
    replies = await chat.say(
        '/kpi import\nkpi,value,date\ncac,95,2026-11-01\ncac,"97",2026-11-02\n'
        'traffic,"12,500",2026-11-02'
    )
    assert replies[0].plain() == (
        "Import preview: 3 values for 2 KPIs\n"
        "CAC (cac) ×2: 95 (2026-11-01), 97 (2026-11-02, replaces 100)\n"
        "Visits (traffic) ×1: 12 500 (2026-11-02)\n"
        "Replaces 1 existing value. Nothing is saved until you apply (valid for a day).\n"
        f"[Apply import: {replies[0].buttons[0].command}]  "
        f"[Cancel: {replies[0].buttons[1].command}]"
    )


async def test_a_big_import_lists_five_values_per_kpi_and_counts_the_rest(
    chat: FakeChat,
) -> None:
    await _setup(chat)
    lines = "\n".join(
        f"traffic {1000 + n} 2026-{m:02d}-{d:02d}"
        for n, (m, d) in enumerate((m, d) for m in range(1, 11) for d in range(1, 29))
    )
    data = ("kpi value date\n" + lines).encode()
    replies = await chat.core.dispatch(_cmd("import", Attachment(filename="t.csv", data=data)))
    text = replies[0].plain()
    assert "Import preview: 280 values for 1 KPI" in text
    assert "1 004 (2026-01-05) … and 275 more up to 2026-10-28" in text


def _cmd(text: str, attachment: Attachment | None = None, platform: str = "console") -> Command:
    chat = ChatRef(platform=platform, chat_id="team")
    actor = Actor(platform=platform, user_id="anna", display_name="Anna")
    return Command(
        name="kpi",
        text=text,
        actor=actor,
        chat=chat,
        received_at=datetime(2026, 11, 21, 10, tzinfo=UTC),
        attachment=attachment,
    )


async def test_more_than_5000_lines_fit_in_one_attached_file(chat: FakeChat, core: Core) -> None:
    await _setup(chat)
    start = date(2000, 1, 1)
    rows = "\n".join(f"cac;{90 + n % 7};{start + timedelta(days=n)}" for n in range(6000))
    replies = await core.dispatch(_cmd("import", Attachment(filename="c.csv", data=rows.encode())))
    assert replies[0].kind == "answer", replies[0].text
    assert "Import preview: 6 000 values for 1 KPI" in replies[0].plain()


async def test_a_file_name_never_opens_a_file_on_the_server(core: Core, tmp_path: Path) -> None:
    secret = tmp_path / "values.csv"
    secret.write_text("cac 1\n")
    for platform in ("telegram", "slack"):
        replies = await core.dispatch(_cmd(f"import {secret}", platform=platform))
        assert replies[0].kind == "error"
        assert replies[0].text.endswith(
            "looks like a file name; the bot never reads files on its server. "
            "Attach the CSV file to /kpi import instead, or paste its lines after /kpi import."
        )


def _console(core: Core, script: str) -> tuple[ConsoleAdapter, io.StringIO]:
    out = io.StringIO()
    adapter = ConsoleAdapter(
        core.dispatch, user="anna", stdin=io.StringIO(script), stdout=out, clock=core.ctx.clock
    )
    adapter.interactive = False
    return adapter, out


async def test_the_console_takes_a_pasted_block_until_an_empty_line_or_end(core: Core) -> None:
    await _setup(FakeChat(core, chat_id="local"))
    script = (
        "/kpi import\ncac 95 2026-11-01\ncac 96 2026-11-02\n\n/kpi import\n"
        "traffic 100 2026-11-01\n/end\n/kpi import cancel x\n"
    )
    adapter, out = _console(core, script)
    await adapter.run()
    text = out.getvalue()
    assert "Import preview: 2 values for 1 KPI\nCAC (cac) ×2: 95 (2026-11-01)" in text
    assert "Import preview: 1 value for 1 KPI\nVisits (traffic) ×1: 100 (2026-11-01)" in text
    assert "Nothing to cancel" in text


async def test_a_pasted_line_with_a_byte_that_is_not_utf8_is_refused_not_a_crash(
    core: Core,
) -> None:
    await _setup(FakeChat(core, chat_id="local"))
    # a terminal's stdin gives a lone surrogate for a byte that is not UTF-8
    adapter, out = _console(core, "/kpi import\ncac 91 note \udcff\n\n/kpi cac\n")
    await adapter.run()
    assert out.getvalue().startswith(
        "⚠ 1 line(s) need fixing, nothing was imported: line 1: unexpected 'note \ufffd'\n"
    )
    assert "Value: —" in out.getvalue()


async def test_the_console_imports_a_named_csv_file(core: Core, tmp_path: Path) -> None:
    await _setup(FakeChat(core, chat_id="local"))
    sheet = tmp_path / "values.csv"
    sheet.write_text('kpi,value,date\ncac,"1,000",2026-11-01\ntraffic,"12 000",2026-11-02\n')
    adapter, out = _console(core, f"/kpi import {sheet}\n/kpi import {tmp_path / 'nope.csv'}\n")
    await adapter.run()
    text = out.getvalue()
    assert "CAC (cac) ×1: 1 000 (2026-11-01)" in text
    assert "Visits (traffic) ×1: 12 000 (2026-11-02)" in text
    assert "No file '" in text and "nope.csv' here" in text
