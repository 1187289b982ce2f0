"""One chat per platform around the real router and store, for round trips and parity.

Each chat sends what a person would type (a Telegram update through the fake Bot API,
a signed Slack request, a console line), waits without sleeping until the command ran
and everything it answered reached the platform, and returns what the person would
see: `Shown` messages with plain text, buttons and pictures. `facts()` boils a reply
down to numbers, percentages and statuses so the three platforms can be compared.
"""

from __future__ import annotations

import asyncio
import functools
import html
import io
import itertools
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.adapters import telegram_format as tg_fmt
from bot.adapters.base import MemorySeenLog, Sleep, split_picture
from bot.adapters.console import CONSOLE_CHAT, ConsoleAdapter
from bot.adapters.slack import SlackAdapter
from bot.adapters.telegram import TelegramAdapter
from bot.app import Core, build_core
from handlers.contract import Actor, ChatRef, Command, Reply
from handlers.parsing import command_from_text
from tests.fakes import slack_api, telegram_api
from tests.fakes.slack_api import FakeSlackAPI, SlackSender, message_event
from tests.fakes.telegram_api import (
    FakeTelegramAPI,
    callback_query,
    group_chat,
    message,
    private_chat,
)
from tests.integration.script import Step
from tests.support import FakeTime, FixedClock

TELEGRAM_GROUP = -1001234567890
TELEGRAM_ANNA = telegram_api.user("Anna", last_name="Lind", username="anna", user_id=5001)
TELEGRAM_PRIVATE = 5001  # Anna's private chat with the bot


# --- what the person sees --------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """One message as it arrived on the platform."""

    plain: str  # the text a person reads, markup removed
    markup: str = ""  # what was sent: Telegram HTML, Slack blocks as JSON, console output
    buttons: tuple[tuple[str, str], ...] = ()  # (label, command the press sends)
    image: bytes | None = None


@dataclass
class Said:
    """One command's round trip: what the router answered and what the platform showed."""

    text: str
    replies: list[Reply] = field(default_factory=list)
    shown: list[Shown] = field(default_factory=list)

    @property
    def plain(self) -> str:
        """Every shown message's text, in order."""
        return "\n".join(s.plain for s in self.shown)

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """Every button shown, in order."""
        return [b for s in self.shown for b in s.buttons]

    @property
    def images(self) -> list[bytes]:
        """Every picture shown, in order."""
        return [s.image for s in self.shown if s.image is not None]

    def ok(self, *expected: str) -> Said:
        """Assert one or more non-error replies that show every `expected` string."""
        assert self.replies, f"{self.text!r} got no reply"
        errors = [r.plain() for r in self.replies if r.kind == "error"]
        assert not errors, f"{self.text!r} failed: {errors}"
        assert self.shown, f"{self.text!r}: nothing reached the chat"
        for want in expected:
            assert want in self.plain, f"{self.text!r}: {want!r} not in {self.plain!r}"
        return self

    def error(self, *expected: str) -> Said:
        """Assert exactly one error reply showing every `expected` string."""
        assert [r.kind for r in self.replies] == ["error"], f"{self.text!r}: {self.replies}"
        for want in expected:
            assert want in self.plain, f"{self.text!r}: {want!r} not in {self.plain!r}"
        return self


class Recorder:
    """Wraps `Core.dispatch`: remembers every command with its replies, in order."""

    def __init__(self, dispatch: Callable[[Command], Awaitable[list[Reply]]]) -> None:
        self._dispatch = dispatch
        self.log: list[tuple[Command, list[Reply]]] = []
        self._changed = asyncio.Condition()

    async def __call__(self, cmd: Command) -> list[Reply]:
        replies = await self._dispatch(cmd)
        async with self._changed:
            self.log.append((cmd, replies))
            self._changed.notify_all()
        return replies

    async def wait(self, count: int, timeout: float = 5) -> None:  # noqa: ASYNC109
        """Wait until `count` commands have been dispatched in total."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.log) >= count)

    async def wait_for(
        self,
        match: Callable[[Command], bool],
        timeout: float = 5,  # noqa: ASYNC109
    ) -> tuple[Command, list[Reply]]:
        """Wait until a command matching `match` has been dispatched; return it and its replies."""

        def found() -> list[tuple[Command, list[Reply]]]:
            return [entry for entry in self.log if match(entry[0])]

        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: bool(found()))
        [entry] = found()
        return entry


class Chat:
    """What every platform's chat offers the tests."""

    core: Core
    ref: ChatRef  # where this chat's commands come from

    @property
    def key(self) -> str:
        """The store partition of this chat."""
        return self.ref.key

    async def say(self, text: str) -> Said:
        """Send `text` as a person in the team chat would."""
        raise NotImplementedError

    async def seed(self, *texts: str) -> None:
        """Run commands straight through the router as this chat (bulk set-up, no platform)."""
        actor = Actor(platform=self.ref.platform, user_id="seed", display_name="Seed")
        for text in texts:
            cmd = command_from_text(
                text, actor=actor, chat=self.ref, received_at=self.core.ctx.clock()
            )
            assert cmd is not None, text
            replies = await self.core.dispatch(cmd)
            assert all(r.kind != "error" for r in replies), [r.plain() for r in replies]

    async def ok(self, text: str, *expected: str) -> Said:
        """`say`, then assert a non-error answer showing `expected`."""
        return (await self.say(text)).ok(*expected)

    async def press(self, command: str) -> Said:
        """Press one of the bot's buttons that carries `command`."""
        raise NotImplementedError

    async def ok_press(self, command: str, *expected: str) -> Said:
        """`press`, then assert a non-error answer showing `expected`."""
        return (await self.press(command)).ok(*expected)

    async def play(self, steps: Sequence[Step]) -> list[Said]:
        """Run a script: type each step, or press the labelled button of the last answer."""
        said: list[Said] = []
        for s in steps:
            if s.press:
                data = dict(said[-1].buttons)[s.text]
                said.append(await self.ok_press(data, *s.expect))
            else:
                said.append(await self.ok(s.text, *s.expect))
        return said


# --- Telegram --------------------------------------------------------------------------------


class TelegramChat(Chat):
    """A chat talking to the real PTB Application through the fake Bot API.

    Anna's private chat by default: PTB's rate limiter allows a group 20 messages a
    minute (Telegram's rule), so long scripts run in private and `in_group()` gives the
    group for what only happens there.
    """

    def __init__(
        self,
        api: FakeTelegramAPI,
        core: Core,
        recorder: Recorder,
        adapter: TelegramAdapter,
        *,
        chat: dict[str, Any] | None = None,
        sender: dict[str, Any] | None = None,
    ) -> None:
        self.api = api
        self.core = core
        self.recorder = recorder
        self.adapter = adapter
        self.chat = chat or private_chat(TELEGRAM_PRIVATE, "Anna")
        self.chat_id = int(self.chat["id"])
        self._bot_message_ids = itertools.count(900_000)
        self.ref = ChatRef(platform="telegram", chat_id=str(self.chat_id))
        self.sender = sender or TELEGRAM_ANNA

    def in_group(self, chat_id: int = TELEGRAM_GROUP) -> TelegramChat:
        """The same bot and store, talking in a supergroup."""
        return TelegramChat(
            self.api,
            self.core,
            self.recorder,
            self.adapter,
            chat=group_chat(chat_id),
            sender=self.sender,
        )

    async def say(self, text: str) -> Said:
        """A message (command or hashtag) from Anna."""
        update = {"message": message(text, chat=self.chat, sender=self.sender)}
        return await self._exchange(text, update, update["message"]["message_id"])

    def push(self, text: str) -> None:
        """A message from Anna that Telegram hands out; nothing waits for an answer."""
        self.api.push_update({"message": message(text, chat=self.chat, sender=self.sender)})

    async def press(self, command: str) -> Said:
        """Anna presses an inline button whose callback data is `command`."""
        under = next(self._bot_message_ids)  # the bot message the button hangs under
        update = callback_query(command, chat=self.chat, sender=self.sender, message_id=under)
        return await self._exchange(f"[press {command}]", update, under)

    async def press_refused(self, data: str) -> str:
        """Press a button that must run nothing; returns the toast Telegram showed."""
        before = len(self.recorder.log)
        mark = len(self.api.calls)
        update = callback_query(data, chat=self.chat, sender=self.sender)
        self.api.push_update(update)
        await self.api.wait_until(lambda: bool(self._since(mark, "answerCallbackQuery")))
        [answer] = self._since(mark, "answerCallbackQuery")
        # A command after the press proves the press was fully processed (one at a time).
        await self.say("/help timezone")
        assert len(self.recorder.log) == before + 1, "the refused press ran a command"
        return str(answer.params.get("text", ""))

    def _since(self, mark: int, *methods: str) -> list[telegram_api.Call]:
        return [c for c in self.api.calls[mark:] if c.method in methods]

    def _sent_here(self, mark: int) -> list[telegram_api.Call]:
        return [
            c
            for c in self._since(mark, "sendMessage", "sendPhoto", "sendDocument")
            if c.ok and c.params.get("chat_id") == str(self.chat_id)
        ]

    async def _exchange(self, text: str, update: dict[str, Any], message_id: int) -> Said:
        mark = len(self.api.calls)
        self.api.push_update(update)
        _cmd, replies = await self.recorder.wait_for(
            lambda cmd: cmd.chat == self.ref and cmd.message_id == str(message_id)
        )
        expected = sum(
            1 if part.chart is not None else len(tg_fmt.render_reply(part, str))
            for reply in replies
            for part in split_picture(reply)  # a requested picture: one photo after the words
        )
        await self.api.wait_until(lambda: len(self._sent_here(mark)) >= expected)
        return Said(text, replies, [telegram_shown(c) for c in self._sent_here(mark)])


def telegram_shown(call: telegram_api.Call) -> Shown:
    """A sendMessage/sendPhoto call as the person sees it."""
    caption = call.method in ("sendPhoto", "sendDocument")
    body = str(call.params.get("caption" if caption else "text", ""))
    keyboard = (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
    buttons = tuple((b["text"], b["callback_data"]) for row in keyboard for b in row)
    plain = tg_fmt.html_to_plain(body) if call.params.get("parse_mode") == "HTML" else body
    return Shown(plain, body, buttons, call.files.get("photo"))


# --- Slack -----------------------------------------------------------------------------------

_LOOKALIKES = str.maketrans({"\u200b": None})  # slack_format.ZERO_WIDTH


def slack_escape(text: str) -> str:
    """What Slack does to typed text before sending it to an app (`& < >` as entities)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unmrkdwn(text: str) -> str:
    """Our escaped mrkdwn back to the plain text it shows."""
    if text.startswith("```\n") and text.endswith("\n```"):
        text = text[4:-4]
    text = re.sub(r"^\*(.+?)\*\n", r"\1: ", text)  # a field: *label*\nvalue
    return html.unescape(text).translate(_LOOKALIKES)


def slack_plain(blocks: Sequence[dict[str, Any]]) -> str:
    """Block Kit as the text a person reads (buttons are not text)."""
    lines: list[str] = []
    for block in blocks:
        kind = block["type"]
        if kind == "header":
            lines.append(block["text"]["text"])
        elif kind == "section":
            if "text" in block:
                lines.append(unmrkdwn(block["text"]["text"]))
            lines.extend(unmrkdwn(f["text"]) for f in block.get("fields", []))
        elif kind == "context":
            lines.extend(unmrkdwn(e["text"]) for e in block["elements"])
    return "\n".join(lines)


def slack_buttons(blocks: Sequence[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    """(label, value) of every button in the blocks."""
    return tuple(
        (e["text"]["text"], e["value"])
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
    )


class SlackChat(Chat):
    """A channel talking to the real Bolt AsyncApp over signed HTTP, answering via the fake."""

    def __init__(
        self,
        api: FakeSlackAPI,
        core: Core,
        recorder: Recorder,
        adapter: SlackAdapter,
        sender: SlackSender,
    ) -> None:
        self.api = api
        self.core = core
        self.recorder = recorder
        self.adapter = adapter
        self.sender = sender
        self.ref = ChatRef(platform="slack", chat_id=slack_api.CHANNEL)
        self._serial = itertools.count(1)

    async def say(self, text: str) -> Said:
        """A slash command (`/help …` is `/scorecard help …`) or a hashtag channel message."""
        n = next(self._serial)
        if text.startswith("#"):
            event = message_event(slack_escape(text), ts=f"1767225600.{n:06d}")
            return await self._exchange(text, functools.partial(self.sender.event, event))
        command, _, rest = text.partition(" ")
        command = command.split("@")[0]  # `/kpi@ThisBot` is Telegram's; Slack has no such form
        if command == "/help":
            command, rest = "/scorecard", f"help {rest}".strip()
        send = functools.partial(
            self.sender.slash,
            command,
            slack_escape(rest),
            response_url=self.api.response_url(f"r{n}"),
        )
        return await self._exchange(text, send)

    async def press(self, command: str) -> Said:
        """A press on one of our buttons whose value is `command` (signed like Slack signs it)."""
        url = self.api.response_url(f"b{next(self._serial)}")
        send = functools.partial(self.sender.block_action, command, response_url=url)
        return await self._exchange(f"[press {command}]", send)

    async def _exchange(self, text: str, send: Callable[[], Awaitable[slack_api.Posted]]) -> Said:
        before = len(self.recorder.log)
        mark = len(self.api.calls)
        posted = await send()
        assert posted.status == 200, posted
        await self.recorder.wait(before + 1)
        await self.adapter.idle()
        _cmd, replies = self.recorder.log[before]
        return Said(text, replies, self.shown_since(mark))

    def shown_since(self, mark: int) -> list[Shown]:
        """Messages and uploads that reached the channel after call number `mark` (and those
        only the person who asked sees: ephemeral ones)."""
        shown: list[Shown] = []
        upload: bytes | None = None
        for call in self.api.calls[mark:]:
            if not call.ok:
                continue
            if call.method in ("response", "chat.postMessage", "chat.postEphemeral"):
                blocks = call.params.get("blocks") or []
                plain = slack_plain(blocks) if blocks else unmrkdwn(str(call.params.get("text")))
                shown.append(Shown(plain, json.dumps(blocks), slack_buttons(blocks)))
            elif call.method == "upload":
                upload = call.body
            elif call.method == "files.completeUploadExternal":
                comment = unmrkdwn(str(call.params.get("initial_comment") or ""))
                shown.append(Shown(comment, json.dumps(call.params), image=upload))
        return shown


# --- console ---------------------------------------------------------------------------------

_CONSOLE_BUTTON = re.compile(r"\[([^\[\]:]+): ([/#][^\[\]]*)\]")


class ConsoleChat(Chat):
    """The terminal chat (ConsoleAdapter) writing into a StringIO."""

    def __init__(self, core: Core, recorder: Recorder) -> None:
        self.core = core
        self.recorder = recorder
        self.out = io.StringIO()
        self.ref = CONSOLE_CHAT
        self.adapter = ConsoleAdapter(
            recorder, user="anna", stdout=self.out, clock=core.ctx.clock, prepare=core.prepare
        )

    async def say(self, text: str) -> Said:
        """Type one line."""
        before = len(self.recorder.log)
        mark = len(self.out.getvalue())
        await self.adapter.handle_line(text)
        replies = [r for _, rs in self.recorder.log[before:] for r in rs]
        return Said(text, replies, [console_shown(self.out.getvalue()[mark:])])


def console_shown(printed: str) -> Shown:
    """Console output split into text, button line and picture marker."""
    lines: list[str] = []
    buttons: list[tuple[str, str]] = []
    image: bytes | None = None
    for line in printed.rstrip("\n").split("\n"):
        found = _CONSOLE_BUTTON.findall(line)
        if found and _CONSOLE_BUTTON.sub("", line).strip() == "":
            buttons.extend(found)
        elif line.startswith("[image "):
            image = b"(console shows a marker)"
        else:
            lines.append(line.removeprefix("⚠ ").removeprefix("🔔 "))
    return Shown("\n".join(lines), printed, tuple(buttons), image)


# --- facts -----------------------------------------------------------------------------------

_FACT = re.compile(
    r"\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}"  # dates and times first, so they stay whole
    r"|[+-]?\d+(?:[.,]\d+)*%?"
    r"|[🟢🟡🔴⚪🧪✅⏰▲▼]"
    r"|\b(?:green|yellow|red|no data|on track|behind|at risk|overdue|done|test mode)\b"
)


def facts(text: str) -> list[str]:
    """The numbers, percentages and statuses in `text`, in order."""
    return _FACT.findall(text)


# --- opening a chat --------------------------------------------------------------------------


@asynccontextmanager
async def telegram_chat(
    clock: FixedClock, data: Path | None = None
) -> AsyncIterator[TelegramChat]:
    """A fresh store and router behind the real PTB Application and a fake Bot API."""
    core = build_core(data, clock=clock)
    recorder = Recorder(core.dispatch)
    time = FakeTime()
    try:
        async with FakeTelegramAPI() as api:
            adapter = TelegramAdapter(
                telegram_api.TOKEN,
                recorder,
                base_url=api.base_url,
                seen=MemorySeenLog(),
                specs=core.router.specs(),
                clock=clock,
                poll_timeout=1,
                prepare=core.prepare,
                later=core.send_later,
                monotonic=time.monotonic,
                sleep=time.sleep,
            )
            await adapter.start()
            try:
                yield TelegramChat(api, core, recorder, adapter)
            finally:
                await core.stop()
                await adapter.stop()
    finally:
        core.close()


@asynccontextmanager
async def slack_chat(
    clock: FixedClock, data: Path | None = None, sleep: Sleep | None = None
) -> AsyncIterator[SlackChat]:
    """A fresh store and router behind the real Bolt AsyncApp (HTTP mode) and a fake Web API;
    with `sleep` (one that moves `clock`), the adapter's flood waits pass on that clock."""
    core = build_core(data, clock=clock)
    paced: dict[str, Any] = {}
    if sleep is not None:
        paced = {"sleep": sleep, "monotonic": lambda: clock.now.timestamp()}
    recorder = Recorder(core.dispatch)
    try:
        async with FakeSlackAPI() as api:
            adapter = SlackAdapter(
                slack_api.BOT_TOKEN,
                slack_api.SIGNING_SECRET,
                recorder,
                api_base_url=api.base_url,
                port=0,
                seen=MemorySeenLog(),
                specs=core.router.specs(),
                clock=clock,
                channel_interval=0.0,
                prepare=core.prepare,
                later=core.send_later,
                **paced,
            )
            await adapter.start()
            try:
                url = f"http://127.0.0.1:{adapter.port}/slack/events"
                async with SlackSender(url) as sender:
                    yield SlackChat(api, core, recorder, adapter, sender)
            finally:
                await core.stop()
                await adapter.stop()
    finally:
        core.close()


@asynccontextmanager
async def console_chat(clock: FixedClock) -> AsyncIterator[ConsoleChat]:
    """A fresh store and router behind the console adapter."""
    core = build_core(None, clock=clock)
    try:
        yield ConsoleChat(core, Recorder(core.dispatch))
    finally:
        await core.stop()
        core.close()
