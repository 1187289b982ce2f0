"""An export carries everything a chat has set up (alert rules, quiet hours, mutes, alert
channels, the digest's schedule), an import restores it, and older files still import."""

from __future__ import annotations

from pathlib import Path

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import Core, build_core
from handlers import exchange
from tests.handlers.test_files import send_file
from tests.support import FakeChat, FixedClock

#: A file `/scorecard export` wrote before version 2 (session 9): no `alerts` section.
VERSION_1 = Path(__file__).with_name("export_v1.json")

SETUP = [
    "/timezone Europe/Copenhagen",
    "/alerts set confirm=2 group=0 repeat=2h hysteresis=10% charts=off",
    "/alerts quiet 22:00-07:30",
    "/alerts mute cac 2d",
    "/alerts here",
    "/digest every mon,thu 09:00",
]
#: What a chat shows of its set-up (the replies the property compares).
SHOWN = ("/alerts", "/kpi", "/scorecard", "/digest", "/numbers", "/timezone")


async def _export(chat: FakeChat, fmt: str = "json") -> bytes:
    replies = await chat.say(f"/scorecard export {fmt}")
    assert len(replies) == 1 and replies[0].document is not None, replies[0].plain()
    return replies[0].document.data


async def _import(chat: FakeChat, data: bytes, name: str) -> str:
    """Import a file and press Apply; returns the preview's text."""
    preview = (await send_file(chat, data, name))[0]
    assert preview.kind == "answer", preview.plain()
    if preview.buttons:
        await chat.ok(preview.buttons[0].command)
    return preview.plain()


async def _shown(chat: FakeChat) -> list[str]:
    """The replies; of `/alerts`, its set-up lines. Which KPI is firing and what waits to
    be sent is alert history, not set-up, and stays out of a file: the import evaluates
    its values once under the file's rules (a chat that set confirm=3 after a yellow went
    out shows it firing; the imported one counts 1 reading of 3)."""
    setup = ("Alerts go to:", "Muted:", "Quiet hours:", "Rules:", "Charts:")
    alerts = await chat.ask("/alerts")
    shown = [line for line in alerts.splitlines() if line.startswith(setup)]
    return [*shown, *[await chat.ask(text) for text in SHOWN[1:]]]


async def test_an_export_carries_the_alert_setup_and_an_import_into_a_new_chat_restores_it(
    core: Core,
) -> None:
    old, new = FakeChat(core, "old"), FakeChat(core, "new")
    await old.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    for text in SETUP:
        await old.ok(text)
    exported = await _export(old)
    doc = orjson.loads(exported)
    assert doc["version"] == 2
    assert exported.decode().splitlines()[-2] == (
        '  "alerts": {"policy":{"hysteresis":0.1,"confirm":2,"repeat":"PT2H",'
        '"group_window":"PT0S","quiet":{"start":"22:00:00","end":"07:30:00"}},'
        '"channels":[{"platform":"console","chat_id":"old","thread_id":null}],'
        '"mutes":[{"target":"cac","by":"@anna","created":"2026-11-21T10:00:00Z",'
        '"until":"2026-11-23T10:00:00Z"}],"digest":{"at":"09:00:00","weekdays":[0,3],'
        '"months":[1,2,3,4,5,6,7,8,9,10,11,12],"day":null},"charts":false,'
        '"chat":"console:old"}'
    )
    preview = await _import(new, exported, "old.json")
    assert preview.splitlines()[-3:-1] == [
        "alert settings: 1 changed",
        "Nothing is saved until you apply (valid for a day).",
    ]
    assert await new.ask("/alerts") == await old.ask("/alerts")
    assert "Alerts go to: this chat" in await new.ask("/alerts")
    assert await new.ask("/digest") == await old.ask("/digest")
    assert (await send_file(new, exported, "old.json"))[0].plain() == (
        "old.json: everything in it is already here."
    )


async def test_an_alert_channel_elsewhere_is_kept_and_the_own_chats_topic_is_not(
    core: Core,
) -> None:
    old, new = FakeChat(core, "old"), FakeChat(core, "new")
    doc = exchange.snapshot(core.store, old.chat.key, core.ctx.clock())
    doc["alerts"]["channels"] = [
        {"platform": "console", "chat_id": "old", "thread_id": "7"},
        {"platform": "slack", "chat_id": "C1", "thread_id": None},
    ]
    await _import(new, exchange.to_json(doc), "old.json")
    channels = core.store.alerts.settings(new.chat.key).channels
    assert channels is not None
    assert [(c.key, c.thread_id) for c in channels] == [("console:new", None), ("slack:C1", None)]


async def test_the_imported_values_alert_under_the_files_rules(core: Core) -> None:
    """Alert settings are applied before the values: a chat whose alerts are off does not
    get the imported values' alert waiting to go out (it did when they came last)."""
    old, new = FakeChat(core, "old"), FakeChat(core, "new")
    await old.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    await old.ok("/kpi set cac 95")
    await old.ok("/alerts off")
    await _import(new, await _export(old), "old.json")
    assert core.store.alerts.batcher(new.chat.key).queued == ()
    assert "Waiting:" not in await new.ask("/alerts")


async def test_a_version_1_file_still_imports_and_leaves_the_alert_settings_alone(
    chat: FakeChat,
) -> None:
    await chat.ok("/digest every mon 09:00")
    before = chat.core.store.alerts.settings(chat.chat.key)
    preview = await _import(chat, VERSION_1.read_bytes(), "old.json")
    assert preview.splitlines()[:-1] == [
        "Import preview: old.json",
        "settings: 1 changed",
        "thresholds: 1 unchanged",
        "perspectives: 4 unchanged",
        "objectives: 1 new",
        "KPIs: 1 new",
        "values: 1 new",
        "Nothing is saved until you apply (valid for a day).",
    ]
    assert chat.core.store.alerts.settings(chat.chat.key) == before
    assert (await chat.ask("/numbers")).startswith("Numbers here: a dot groups thousands")
    assert chat.core.store.kpis.count(chat.chat.key, "cac") == 1


async def test_an_alert_setup_the_commands_refuse_is_refused_by_an_import(chat: FakeChat) -> None:
    doc = exchange.snapshot(chat.core.store, chat.chat.key, chat.core.ctx.clock())
    doc["alerts"]["policy"] = {**doc["alerts"]["policy"], "confirm": 0}
    data = exchange.to_json(doc)
    reply = (await send_file(chat, data, "bad.json"))[0]
    line = next(n for n, text in enumerate(data.decode().splitlines(), 1) if '"alerts"' in text)
    assert reply.plain() == (
        "Import refused, nothing was changed: 1 problem\n"
        f"line {line}, policy.confirm: input should be greater than or equal to 1"
    )
    assert chat.core.store.alerts.settings(chat.chat.key).policy.confirm == 1


#: Set-up commands a chat may have typed, in any order (each one that the bot takes).
STEPS = st.sampled_from(
    [
        "/kpi set cac 95",
        "/kpi set cac 130",
        "/kpi set leads 1234,5",
        "/numbers 1.234,5",
        "/numbers 1,234.5",
        "/timezone Europe/Copenhagen",
        "/timezone America/New_York",
        "/alerts set confirm=3 hysteresis=2%",
        "/alerts set group=0 repeat=3d charts=off",
        "/alerts set charts=on",
        "/alerts quiet 22-8",
        "/alerts quiet off",
        "/alerts mute cac 2d",
        "/alerts mute all 3h",
        "/alerts unmute all",
        "/alerts here",
        "/alerts off",
        "/digest every mon-fri 08:30",
        "/digest off",
        "/thresholds green=90% yellow=60%",
    ]
)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(STEPS, max_size=8), fmt=st.sampled_from(["json", "csv"]))
async def test_any_chat_setup_survives_an_export_and_an_import_into_a_fresh_store(
    steps: list[str], fmt: str
) -> None:
    """Any set-up → export → import into a fresh store, under another chat id → the same
    settings, and the same replies to what shows them."""
    first, fresh = build_core(None, clock=FixedClock()), build_core(None, clock=FixedClock())
    try:
        old, new = FakeChat(first, "old"), FakeChat(fresh, "new")
        await old.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
        await old.ok('/kpi add leads "Leads" target=2000 perspective=customers')
        for text in steps:
            await old.say(text)
        await _import(new, await _export(old, fmt), f"card.{fmt}")
        for repo in ("chats", "alerts"):
            stored = getattr(first.store, repo).settings(old.chat.key)
            assert getattr(fresh.store, repo).settings(new.chat.key) == _here(stored, new)
        assert fresh.store.scorecards.thresholds(new.chat.key) == (
            first.store.scorecards.thresholds(old.chat.key)
        )
        assert await _shown(new) == await _shown(old)
    finally:
        first.close()
        fresh.close()


def _here(stored: object, chat: FakeChat) -> object:
    """The settings as the new chat should hold them: its own channel where the old chat
    named itself."""
    channels = getattr(stored, "channels", None)
    if not channels:
        return stored
    own = channels[0].model_copy(update={"chat_id": chat.chat.chat_id, "thread_id": None})
    return stored.model_copy(update={"channels": (own,)})  # type: ignore[attr-defined]
