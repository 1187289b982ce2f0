"""Importing many values: checked whole, previewed, applied once, alerts grouped."""

from __future__ import annotations

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
    assert "4 values for 2 KPIs" in preview.plain() and "cac ×2, traffic ×2" in preview.plain()
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
