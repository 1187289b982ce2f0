"""End-to-end `/kpi` through the platforms, against bare bots on the same fakes.

The real bot (PTB Application or Bolt AsyncApp inside our adapter, router, durable
SQLite store with 50 KPIs, dedupe marks in the store) and a bare bot that answers a
fixed string run in one process, each on its own instance of the fake Bot/Web API on
127.0.0.1 (tests/fakes). Requests alternate between the two, one at a time, so both
see the same machine load; a round every 50 ms keeps Telegram's 30 messages a second
(PTB's rate limiter in our adapter) out of the figure. Latency is from the update
(or the signed slash request) to the answer arriving at the fake; "CPU" is the event
loop thread's CPU time over the same span (the fake's share included, as in the
latency), steadier than wall time on a busy machine.
Goal (issue 8): real ≤ 1.3 × bare on each platform.

Like with like (checked for the Telegram pair): both poll getUpdates with a 1 s
long-poll timeout and no poll interval, on one pooled connection, and send through a
pooled HTTPX client on the same fake; neither waits on purpose on the way (our
per-chat pacing is set to 0 here: one private chat asks 20 times a second, which a
real chat would not). The bare bot keeps PTB's defaults in everything else, so the
work ours does and it does not is all charged to ours: AIORateLimiter (~10 µs a
send), parse_mode=HTML and a 3 KB answer (ours sends it as a JSON body, the bare bot's
8 characters go form-encoded as PTB does by default; the fake checks the HTML and
echoes the text back), the dedupe mark, the router and the handler. The same `/kpi`
is asked again and again with nothing changed in between, so ours answers from what it
remembered (handlers.kpi). Two rows time the `/kpi` handler without a platform
(`Core.dispatch`) in the same process, so the share of the 0.3 × budget it takes is
read off the table: as asked above, and right after a `/kpi set` of one KPI (then it
scores that KPI, the roll-up and the list again).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
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
from handlers.contract import Actor, ChatRef, Command
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


Samples = dict[str, list[float]]  # "real"/"bare" -> seconds per request


async def _side_by_side(real: Exchange, bare: Exchange, requests: int) -> tuple[Samples, Samples]:
    """Alternate real and bare exchanges, one round every ROUND seconds: (wall, CPU)."""
    times: Samples = {"real": [], "bare": []}
    cpu: Samples = {"real": [], "bare": []}
    for i in range(WARMUP + requests):
        started = time.perf_counter()
        order = (("real", real), ("bare", bare)) if i % 2 else (("bare", bare), ("real", real))
        for name, exchange in order:
            cpu_started = time.thread_time()
            took = await exchange()
            if i >= WARMUP:
                times[name].append(took)
                cpu[name].append(time.thread_time() - cpu_started)
        await asyncio.sleep(max(0.0, ROUND - (time.perf_counter() - started)))
    return times, cpu


def _row(platform: str, label: str, samples: list[float], cpu: list[float]) -> dict[str, str]:
    return {
        "platform": platform,
        "bot": label,
        "requests": str(len(samples)),
        "p50 ms": f"{percentile(samples, 0.5) * 1000:.2f}",
        "p99 ms": f"{percentile(samples, 0.99) * 1000:.2f}",
        "mean ms": f"{statistics.fmean(samples) * 1000:.2f}",
        "CPU p50 ms": f"{percentile(cpu, 0.5) * 1000:.2f}",
    }


def _ratio(samples: list[float], bare: list[float]) -> str:
    mean = statistics.fmean(samples) / statistics.fmean(bare)
    return f"{mean:.2f} / {percentile(samples, 0.5) / percentile(bare, 0.5):.2f}"


def _rows(platform: str, baseline: str, measured: tuple[Samples, Samples]) -> list[dict[str, str]]:
    times, cpu = measured
    rows = []
    for name, label in (("real", "scorecard-bot /kpi (50 KPIs)"), ("bare", baseline)):
        row = _row(platform, label, times[name], cpu[name])
        row["× bare (mean / p50)"] = _ratio(times[name], times["bare"])
        row["goal"] = "≤ 1.3" if name == "real" else ""
        rows.append(row)
    return rows


async def _handler_alone(
    core: Core, requests: int, bare: list[float], *, after_set: bool = False
) -> dict[str, str]:
    """The /kpi handler through the router with no platform around it: its share of the
    budget. With `after_set`, each /kpi follows a `/kpi set` of one KPI (not timed), so
    it re-scores that KPI, the roll-up and the list instead of answering as remembered."""
    actor = Actor(platform="telegram", user_id=str(TELEGRAM_CHAT), display_name="Anna")
    times: list[float] = []
    cpu: list[float] = []
    for i in range(WARMUP + requests):
        if after_set:
            text = f"set k{i % 50} {500 + i % 300}"
            await core.dispatch(_command(actor, text, core.ctx.clock()))
        cmd = _command(actor, "", core.ctx.clock())
        started, cpu_started = time.perf_counter(), time.thread_time()
        await core.dispatch(cmd)
        if i >= WARMUP:
            times.append(time.perf_counter() - started)
            cpu.append(time.thread_time() - cpu_started)
        await asyncio.sleep(ROUND / 2)
    label = "right after a /kpi set of one KPI" if after_set else "alone (Core.dispatch)"
    row = _row("Telegram", f"of which: the /kpi handler {label}", times, cpu)
    row["× bare (mean / p50)"] = _ratio(times, bare)
    row["goal"] = "(budget 0.3)"
    return row


def _command(actor: Actor, text: str, at: datetime) -> Command:
    return Command(name="kpi", text=text, actor=actor, chat=TG_REF, received_at=at)


async def _measure(data: Path, requests: int) -> list[dict[str, str]]:
    core = build_core(data)
    try:
        async with AsyncExitStack() as stack:
            real_tg = await stack.enter_async_context(_real_telegram(core))
            bare_tg = await stack.enter_async_context(_bare_telegram())
            tg = await _side_by_side(real_tg.exchange, bare_tg.exchange, requests)
        handler = await _handler_alone(core, requests, tg[0]["bare"])
        changed = await _handler_alone(core, requests, tg[0]["bare"], after_set=True)
        async with AsyncExitStack() as stack:
            real_slack = await stack.enter_async_context(_real_slack(core))
            bare_slack = await stack.enter_async_context(_bare_slack())
            slack = await _side_by_side(real_slack.exchange, bare_slack.exchange, requests)
        await core.stop()
    finally:
        core.close()
    return [
        *_rows("Telegram", "bare PTB Application, fixed text", tg),
        handler,
        changed,
        *_rows("Slack", "bare Bolt AsyncApp, fixed text", slack),
    ]


def run(requests: int = 200) -> list[dict[str, str]]:
    """Both platforms, `requests` measured /kpi per bot (after a short warm-up)."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        build_big_store(data, kpis=50, per_kpi=100, chats=(TG_REF, SLACK_REF))
        return asyncio.run(_measure(data, requests))


if __name__ == "__main__":
    from bot.runtime import tune_interpreter

    tune_interpreter()  # measured as the bot runs (bot/cli.py sets it at start)
    from bench.table import print_table

    print_table("End-to-end /kpi through the fake platforms", run())
