"""End-to-end `/kpi` through the platforms, against bare bots on the same fakes.

The real bot (PTB Application or Bolt AsyncApp inside our adapter, router, durable
SQLite store with 50 KPIs, dedupe marks in the store) and a bare bot that answers a
fixed string run in one process, each on its own instance of the fake Bot/Web API on
127.0.0.1 (tests/fakes). Requests alternate between the two, one at a time, so both
see the same machine load; a round every 50 ms keeps Telegram's 30 messages a second
(PTB's rate limiter in our adapter) out of the figure. Latency is from the update
(or the signed slash request) to the answer arriving at the fake.
Goal (issue 8): real ≤ 1.3 × bare on each platform.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from aiohttp import web
from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bench.handlers import build_big_store
from bench.timing import percentile
from bot.adapters.slack import SlackAdapter
from bot.adapters.telegram import TelegramAdapter
from bot.app import Core, build_core
from bot.run import StoreSeenLog
from handlers.contract import ChatRef
from tests.fakes import slack_api, telegram_api
from tests.fakes.slack_api import FakeSlackAPI, SlackSender
from tests.fakes.telegram_api import FakeTelegramAPI

TELEGRAM_CHAT = 5001
TG_REF = ChatRef(platform="telegram", chat_id=str(TELEGRAM_CHAT))
SLACK_REF = ChatRef(platform="slack", chat_id=slack_api.CHANNEL)
ROUND = 0.05  # seconds between rounds (Telegram allows a bot 30 messages a second)
WARMUP = 20

Exchange = Callable[[], Awaitable[float]]


# --- Telegram ----------------------------------------------------------------------------


class _TelegramSide:
    """One bot behind one fake Bot API; `exchange()` sends /kpi and waits for the answer."""

    def __init__(self, api: FakeTelegramAPI) -> None:
        self.api = api
        self.chat = telegram_api.private_chat(TELEGRAM_CHAT, "Anna")
        self.sender = telegram_api.user("Anna", username="anna", user_id=TELEGRAM_CHAT)
        self.per_request = 0  # messages one /kpi produces, learnt on the first one

    def _sent(self) -> int:
        return len(self.api.calls_of("sendMessage", ok=True))

    async def exchange(self) -> float:
        before = self._sent()
        started = time.perf_counter()
        self.api.push_update(
            {"message": telegram_api.message("/kpi", chat=self.chat, sender=self.sender)}
        )
        if self.per_request == 0:
            await self.api.wait_until(lambda: self._sent() > before)
            await asyncio.sleep(0.5)  # any further parts of the first answer
            self.per_request = self._sent() - before
        else:
            await self.api.wait_until(lambda: self._sent() >= before + self.per_request)
        return time.perf_counter() - started


@asynccontextmanager
async def _real_telegram(core: Core) -> AsyncIterator[_TelegramSide]:
    async with FakeTelegramAPI() as api:
        adapter = TelegramAdapter(
            telegram_api.TOKEN,
            core.dispatch,
            base_url=api.base_url,
            seen=StoreSeenLog(core),
            specs=core.router.specs(),
            clock=core.ctx.clock,
            poll_timeout=1,
            chat_interval=0.0,  # one private chat asks 20 times a second here
        )
        await adapter.start()
        try:
            yield _TelegramSide(api)
        finally:
            await adapter.stop()


async def _fixed_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None
    await context.bot.send_message(update.effective_chat.id, "KPIs: 50")


@asynccontextmanager
async def _bare_telegram() -> AsyncIterator[_TelegramSide]:
    async with FakeTelegramAPI() as api:
        app = Application.builder().token(telegram_api.TOKEN).base_url(api.base_url).build()
        app.add_handler(MessageHandler(filters.ALL, _fixed_answer))
        await app.initialize()
        assert app.updater is not None
        await app.updater.start_polling(timeout=1, poll_interval=0)
        await app.start()
        try:
            yield _TelegramSide(api)
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()


# --- Slack -------------------------------------------------------------------------------


class _SlackSide:
    """One Bolt app behind one fake Web API; `exchange()` posts /kpi and waits for the answer."""

    def __init__(self, api: FakeSlackAPI, sender: SlackSender) -> None:
        self.api = api
        self.sender = sender
        self.per_request = 0
        self._serial = 0

    def _answered(self) -> int:
        return len(self.api.calls_to("response"))

    async def exchange(self) -> float:
        before = self._answered()
        self._serial += 1
        started = time.perf_counter()
        posted = await self.sender.slash(
            "/kpi", "", response_url=self.api.response_url(f"r{self._serial}")
        )
        assert posted.status == 200, posted
        if self.per_request == 0:
            await self.api.wait_for("response", before + 1)
            await asyncio.sleep(0.5)
            self.per_request = self._answered() - before
        else:
            await self.api.wait_for("response", before + self.per_request)
        return time.perf_counter() - started


@asynccontextmanager
async def _real_slack(core: Core) -> AsyncIterator[_SlackSide]:
    async with FakeSlackAPI() as api:
        adapter = SlackAdapter(
            slack_api.BOT_TOKEN,
            slack_api.SIGNING_SECRET,
            core.dispatch,
            api_base_url=api.base_url,
            port=0,
            seen=StoreSeenLog(core),
            specs=core.router.specs(),
            clock=core.ctx.clock,
            channel_interval=0.0,
        )
        await adapter.start()
        try:
            url = f"http://127.0.0.1:{adapter.port}/slack/events"
            async with SlackSender(url) as sender:
                yield _SlackSide(api, sender)
        finally:
            await adapter.stop()


@asynccontextmanager
async def _bare_slack() -> AsyncIterator[_SlackSide]:
    async with FakeSlackAPI() as api:
        client = AsyncWebClient(token=slack_api.BOT_TOKEN, base_url=api.base_url)
        app = AsyncApp(client=client, signing_secret=slack_api.SIGNING_SECRET)

        @app.command("/kpi")
        async def kpi(ack: AsyncAck, respond: AsyncRespond) -> None:
            await ack()
            await respond(text="KPIs: 50", response_type="in_channel")

        runner = web.AppRunner(app.web_app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        try:
            url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
            async with SlackSender(url) as sender:
                yield _SlackSide(api, sender)
        finally:
            await runner.cleanup()


# --- measuring ---------------------------------------------------------------------------


async def _side_by_side(real: Exchange, bare: Exchange, requests: int) -> dict[str, list[float]]:
    """Alternate real and bare exchanges, one round every ROUND seconds."""
    times: dict[str, list[float]] = {"real": [], "bare": []}
    for i in range(WARMUP + requests):
        started = time.perf_counter()
        order = (("real", real), ("bare", bare)) if i % 2 else (("bare", bare), ("real", real))
        for name, exchange in order:
            took = await exchange()
            if i >= WARMUP:
                times[name].append(took)
        await asyncio.sleep(max(0.0, ROUND - (time.perf_counter() - started)))
    return times


def _rows(platform: str, baseline: str, times: dict[str, list[float]]) -> list[dict[str, str]]:
    bare_mean = statistics.fmean(times["bare"])
    bare_p50 = percentile(times["bare"], 0.5)
    rows = []
    for name, label in (("real", "scorecard-bot /kpi (50 KPIs)"), ("bare", baseline)):
        samples = times[name]
        mean = statistics.fmean(samples)
        p50 = percentile(samples, 0.5)
        rows.append(
            {
                "platform": platform,
                "bot": label,
                "requests": str(len(samples)),
                "p50 ms": f"{p50 * 1000:.2f}",
                "p99 ms": f"{percentile(samples, 0.99) * 1000:.2f}",
                "mean ms": f"{mean * 1000:.2f}",
                "× bare (mean / p50)": f"{mean / bare_mean:.2f} / {p50 / bare_p50:.2f}",
                "goal": "≤ 1.3" if name == "real" else "",
            }
        )
    return rows


async def _measure(data: Path, requests: int) -> list[dict[str, str]]:
    core = build_core(data)
    try:
        async with AsyncExitStack() as stack:
            real_tg = await stack.enter_async_context(_real_telegram(core))
            bare_tg = await stack.enter_async_context(_bare_telegram())
            tg = await _side_by_side(real_tg.exchange, bare_tg.exchange, requests)
        async with AsyncExitStack() as stack:
            real_slack = await stack.enter_async_context(_real_slack(core))
            bare_slack = await stack.enter_async_context(_bare_slack())
            slack = await _side_by_side(real_slack.exchange, bare_slack.exchange, requests)
        await core.stop()
    finally:
        core.close()
    return _rows("Telegram", "bare PTB Application, fixed text", tg) + _rows(
        "Slack", "bare Bolt AsyncApp, fixed text", slack
    )


def run(requests: int = 200) -> list[dict[str, str]]:
    """Both platforms, `requests` measured /kpi per bot (after a short warm-up)."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        build_big_store(data, kpis=50, per_kpi=100, chats=(TG_REF, SLACK_REF))
        return asyncio.run(_measure(data, requests))


if __name__ == "__main__":
    from bench.table import print_table

    print_table("End-to-end /kpi through the fake platforms", run())
