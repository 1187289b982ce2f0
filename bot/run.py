"""`scorecard-bot run`: every configured platform in one asyncio process.

With no platform credentials it says so and falls back to the console chat, so the
same command works on a laptop and on a server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Mapping
from pathlib import Path

from bot.adapters.base import Adapter
from bot.adapters.console import CONSOLE_CHAT, ConsoleAdapter
from bot.api import IngestApi
from bot.app import Core, build_core
from bot.config import Config, load_config
from bot.logging import setup_logging
from handlers.pictures.painter import Painter

_LOGGER = logging.getLogger(__name__)


class StoreSeenLog:
    """The adapters' dedupe memory, kept in the store (durable with the command)."""

    def __init__(self, core: Core) -> None:
        self._core = core

    async def first_time(self, key: str) -> bool:
        """Record `key`; True when it had not been seen before."""
        return self._core.store.seen.first_time(key)


def read_config(path: Path, environ: Mapping[str, str]) -> Config:
    """Load `path` if it exists; without a file, defaults plus secrets from the environment."""
    return load_config(path if path.exists() else None, environ)


def build_adapters(config: Config, core: Core, api: IngestApi | None = None) -> list[Adapter]:
    """One adapter per platform that has credentials (Slack's HTTP server also serves `api`)."""
    adapters: list[Adapter] = []
    seen = StoreSeenLog(core)
    specs = core.router.specs()
    if config.telegram_enabled:
        from bot.adapters.telegram import TelegramAdapter

        adapters.append(
            TelegramAdapter(
                config.telegram.token.get_secret_value(),
                core.dispatch,
                base_url=str(config.telegram.api_base_url),
                allowed_chats=config.telegram.allowed_chats,
                seen=seen,
                specs=specs,
                clock=core.ctx.clock,
                on_chat_moved=core.move_chat,
                prepare=core.prepare,
                later=core.send_later,
            )
        )
    if config.slack_enabled:
        from bot.adapters.slack import SlackAdapter

        slack = config.slack
        adapters.append(
            SlackAdapter(
                slack.bot_token.get_secret_value(),
                slack.signing_secret.get_secret_value(),
                core.dispatch,
                app_token=slack.app_token.get_secret_value() or None,
                api_base_url=str(slack.api_base_url),
                host=slack.host,
                port=slack.port,
                path=slack.path,
                seen=seen,
                specs=specs,
                clock=core.ctx.clock,
                http_routes=api.add_routes if api is not None else None,
                prepare=core.prepare,
                later=core.send_later,
            )
        )
    return adapters


def shares_slack_server(config: Config) -> bool:
    """The ingest API rides on Slack's HTTP-mode server when that runs (else its own port)."""
    return config.slack_enabled and not config.slack.socket_mode


async def run_configured(
    config_path: Path,
    environ: Mapping[str, str] | None = None,
    stop: asyncio.Event | None = None,
    painter: Painter | None = None,
) -> None:
    """Start every configured platform and serve until SIGINT/SIGTERM (or `stop`).

    `painter` is the picture worker the command line may have started already (else a new
    worker process, started with the bot).
    """
    config = read_config(config_path, os.environ if environ is None else environ)
    setup_logging(config.bot.log_level, config.secrets())
    core = build_core(
        config.storage.path,
        default_timezone=config.bot.timezone,
        admins=frozenset(config.bot.admins),
        painter=painter or Painter("process"),
    )
    api = None
    if config.api.enabled:
        api = IngestApi(
            core.ctx, after_commit=core.after_commit, max_body=config.api.max_body_bytes
        )
    try:
        adapters = build_adapters(config, core, api)
        if api is not None and not shares_slack_server(config):
            await api.serve(config.api.host, config.api.port)
        if not adapters:
            _LOGGER.warning(
                "no Telegram or Slack credentials configured: starting the console chat"
            )
            console = ConsoleAdapter(core.dispatch, user="you", prepare=core.prepare)
            await core.start([console])
            try:
                await console.run()
            finally:
                await core.stop()
            return
        await _serve(core, adapters, stop or _signal_event())
    finally:
        if api is not None:
            await api.stop()
        core.close()


def _signal_event() -> asyncio.Event:
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, event.set)
    return event


async def _serve(core: Core, adapters: list[Adapter], stop: asyncio.Event) -> None:
    """Start adapters, then delivery and the scheduler; stop them in reverse."""
    started: list[Adapter] = []
    try:
        for adapter in adapters:
            await adapter.start()
            started.append(adapter)
            _LOGGER.info("%s adapter started", adapter.platform)
        await core.start(started)
        try:
            await stop.wait()
        finally:
            await core.stop()
    finally:
        for adapter in reversed(started):
            try:
                await adapter.stop()
            except Exception:
                _LOGGER.exception("stopping the %s adapter failed", adapter.platform)


__all__ = ["CONSOLE_CHAT", "build_adapters", "read_config", "run_configured"]
