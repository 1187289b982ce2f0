"""Export files reach every platform as files; imported files are downloaded from each."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from bot.adapters.console import ConsoleAdapter
from bot.app import build_core
from tests.fakes.slack_api import message_event
from tests.fakes.telegram_api import message
from tests.integration.harness import slack_chat, telegram_chat, telegram_shown
from tests.support import FixedClock

SEED = (
    '/kpi add leads "Leads" target=200 perspective=customers',
    "/kpi set leads 120 2026-11-01",
)


def _import_message(
    chat: dict[str, Any], sender: dict[str, Any], document: dict[str, Any]
) -> dict[str, Any]:
    """A Telegram message carrying a document with the caption /scorecard import."""
    msg = message("/scorecard import", chat=chat, sender=sender)
    msg["caption"] = msg.pop("text")
    msg["caption_entities"] = msg.pop("entities")
    msg["document"] = document
    return msg


async def test_telegram_sends_the_export_as_a_document_and_downloads_an_import(
    clock: FixedClock,
) -> None:
    async with telegram_chat(clock) as tg:
        await tg.seed(*SEED)
        mark = len(tg.api.calls)
        tg.push("/scorecard export")
        await tg.api.wait_until(
            lambda: any(c.method == "sendDocument" for c in tg.api.calls[mark:])
        )
        [sent] = [c for c in tg.api.calls[mark:] if c.method == "sendDocument"]
        exported = sent.files["document"]
        assert b'"format":"scorecard-bot"' in exported.replace(b": ", b":")
        group = tg.in_group()
        document = {**tg.api.add_file("f-1", exported), "file_name": "leads.json"}
        tg.api.push_update({"message": _import_message(group.chat, group.sender, document)})
        cmd, replies = await tg.recorder.wait_for(lambda c: c.chat == group.ref)
        assert cmd.attachment is not None and cmd.attachment.data == exported
        assert replies[0].title == "Import preview: leads.json"
        assert "KPIs: 1 new" in replies[0].text and "values: 1 new" in replies[0].text
        said = await group.press(replies[0].buttons[0].command)
        assert said.replies[0].text == "Imported leads.json: 3 records."
        assert tg.core.store.kpis.count(group.ref.key, "leads") == 1


async def test_telegram_says_a_file_over_the_download_limit_is_too_big(
    clock: FixedClock,
) -> None:
    async with telegram_chat(clock) as tg:
        await tg.seed(*SEED)
        mark = len(tg.api.calls)
        document = {**tg.api.add_file("f-2", b"{}"), "file_name": "big.json"}
        big = {**document, "file_size": 25 * 2**20}
        tg.api.push_update({"message": _import_message(tg.chat, tg.sender, big)})
        await tg.api.wait_until(
            lambda: any(c.method == "sendMessage" for c in tg.api.calls[mark:])
        )
        [sent] = [telegram_shown(c) for c in tg.api.calls[mark:] if c.method == "sendMessage"]
        assert sent.plain == (
            "big.json is too big (25.0 MB): Telegram lets bots download files of at most "
            "20 MB; send a smaller file."
        )
        assert not any(c.method == "getFile" for c in tg.api.calls[mark:])


async def test_slack_uploads_the_export_and_downloads_a_shared_file(clock: FixedClock) -> None:
    async with slack_chat(clock) as sl:
        await sl.seed(*SEED)
        mark = len(sl.api.calls)
        await sl.say("/scorecard export csv")
        [upload] = [c for c in sl.api.calls[mark:] if c.method == "upload"]
        assert upload.body.startswith(b"section,key,name,")
        shared = sl.api.share_file("F1", "sheet.csv", b"kpi,value,date\nleads,130,2026-11-02\n")
        event = message_event("scorecard import", subtype="file_share", files=[shared])
        await sl.sender.event(event)
        cmd, replies = await sl.recorder.wait_for(lambda c: c.attachment is not None)
        await sl.adapter.idle()
        assert cmd.name == "scorecard" and cmd.text == "import"
        await sl.ok_press(replies[0].buttons[1].command, "Import cancelled; nothing was saved.")
        assert replies[0].plain().splitlines()[:2] == [
            "Import preview: sheet.csv",
            "values: 1 new",
        ]


async def test_console_writes_the_export_beside_the_store_and_reads_an_import_path(
    tmp_path: Path, clock: FixedClock
) -> None:
    core = build_core(tmp_path / "store", clock=clock)
    try:
        out = io.StringIO()
        adapter = ConsoleAdapter(
            core.dispatch, user="anna", stdout=out, clock=clock, file_dir=tmp_path / "exports"
        )
        for line in SEED:
            await adapter.handle_line(line)
        await adapter.handle_line("/scorecard export")
        path = tmp_path / "exports" / "scorecard-console-local-2026-11-21.json"
        assert f"(file saved to {path})" in out.getvalue()
        sheet = tmp_path / "more.csv"
        sheet.write_text("kpi,value,date\nleads,140,2026-11-03\n")
        await adapter.handle_line(f"/scorecard import {sheet}")
        assert "Import preview: more.csv\nvalues: 1 new" in out.getvalue()
        await adapter.handle_line("/scorecard import /nonexistent.json")
        assert out.getvalue().endswith("\n⚠ No file /nonexistent.json\n")
    finally:
        core.close()
