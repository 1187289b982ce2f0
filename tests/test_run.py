"""`scorecard-bot run`: configured platforms start in one process and use the real router."""

from __future__ import annotations

import asyncio
import html
import logging
import socket
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.run import run_configured
from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI, private_message


def _config(tmp_path: Path, api: FakeTelegramAPI) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\npath = "data"\n[telegram]\napi_base_url = "{api.base_url}"\n',
        encoding="utf-8",
    )
    return config


async def _serve_until(
    config: Path, api: FakeTelegramAPI, updates: list[dict[str, Any]], replies: int
) -> list[str]:
    before = len(api.calls_of("sendMessage"))
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_configured(config, {"SCORECARD_TELEGRAM_TOKEN": TOKEN}, stop=stop)
    )
    for update in updates:
        api.push_update(update)
    sent = await api.wait_for("sendMessage", before + replies, timeout=10)
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    return [call.params["text"] for call in sent[before:]]


async def test_run_starts_telegram_from_config_and_answers_with_the_real_router(
    tmp_path: Path,
) -> None:
    async with FakeTelegramAPI() as api:
        config = _config(tmp_path, api)
        texts = await _serve_until(
            config,
            api,
            [
                private_message('/initiative add posts "Posts" cadence=4/month'),
                private_message("/log posts +1"),
            ],
            replies=2,
        )
        assert "Saved initiative Posts" in texts[0]
        assert "1 of 4" in texts[1]


async def test_update_redelivered_after_a_restart_is_applied_once(tmp_path: Path) -> None:
    async with FakeTelegramAPI() as api:
        config = _config(tmp_path, api)
        add = private_message('/initiative add posts "Posts" cadence=4/month')
        log = private_message("/log posts +1")
        await _serve_until(config, api, [add, log], replies=2)
        # Telegram redelivers the /log (the offset was never confirmed), then a new command
        texts = await _serve_until(
            config, api, [dict(log), private_message("/initiatives")], replies=1
        )
        assert "1 of 4" in texts[0]
        assert len(api.calls_of("sendMessage")) == 3


async def test_a_graceful_stop_logs_nothing_alarming(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeTelegramAPI() as api:
        config = _config(tmp_path, api)
        await _serve_until(config, api, [private_message("/scorecard")], replies=1)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert [r for r in caplog.records if r.exc_info] == []


async def test_run_serves_the_ingest_api_on_its_own_port_without_slack(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with FakeTelegramAPI() as api:
        config = _config(tmp_path, api)
        config.write_text(
            config.read_text() + f"[api]\nenabled = true\nport = {port}\n", encoding="utf-8"
        )
        stop = asyncio.Event()
        task = asyncio.create_task(
            run_configured(config, {"SCORECARD_TELEGRAM_TOKEN": TOKEN}, stop=stop)
        )
        try:
            api.push_update(
                private_message('/kpi add leads "Leads" target=9 perspective=customers')
            )
            api.push_update(private_message("/scorecard token"))
            sent = await api.wait_for("sendMessage", 2, timeout=10)
            text = html.unescape(str(sent[-1].params["text"]))
            fields = dict(
                line.split(": ", 1)
                for line in text.splitlines()
                if line.startswith(("Scorecard id", "Token"))
            )
            scorecard = fields["Scorecard id"].replace("<code>", "").replace("</code>", "")
            token = fields["Token"].replace("<code>", "").replace("</code>", "")
            url = f"http://127.0.0.1:{port}/api/v1/scorecards/{scorecard}/measurements"
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    url,
                    json=[{"kpi": "leads", "value": 4}],
                    headers={"Authorization": f"Bearer {token}"},
                ) as response,
            ):
                assert response.status == 200, await response.text()
                assert (await response.json())["stored"] == 1
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=10)
