"""Test doubles shared by handler tests: a fixed clock and a chat with a transcript."""

from __future__ import annotations

import asyncio
import gc
import itertools
import struct
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar
from unittest import mock

import orjson
import pytest

from bot.app import Core
from handlers import alert_pipeline
from handlers.contract import Actor, Attachment, ChatRef, Command, Reply
from handlers.parsing import command_from_text
from storage import outbox, pending
from storage.sqlite import DB_FILE


class FixedClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 11, 21, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


class FakeTime:
    """monotonic() and sleep() for the adapters' pacing: sleeping only moves this clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class FakeChat:
    """Drives the real router and store like a person typing in one chat."""

    def __init__(self, core: Core, chat_id: str = "team", user: str = "anna") -> None:
        self.core = core
        self.chat = ChatRef(platform="console", chat_id=chat_id)
        self.user = user
        self.transcript: list[tuple[str, list[Reply]]] = []

    async def say(self, text: str, user: str | None = None) -> list[Reply]:
        name = user or self.user
        actor = Actor(
            platform="console", user_id=name, display_name=name.title(), handle=f"@{name}"
        )
        cmd = command_from_text(
            text, actor=actor, chat=self.chat, received_at=self.core.ctx.clock()
        )
        replies = [] if cmd is None else await self.core.dispatch(cmd)
        self.transcript.append((text, replies))
        return replies

    async def ask(self, text: str, user: str | None = None) -> str:
        """Exactly one reply expected; returns its plain text."""
        replies = await self.say(text, user)
        assert len(replies) == 1, f"expected one reply to {text!r}, got {len(replies)}"
        return replies[0].plain()

    async def ok(self, text: str, user: str | None = None) -> str:
        """Exactly one non-error reply expected."""
        replies = await self.say(text, user)
        assert len(replies) == 1, f"expected one reply to {text!r}, got {len(replies)}"
        assert replies[0].kind != "error", f"{text!r} failed: {replies[0].plain()}"
        return replies[0].plain()

    async def error(self, text: str, user: str | None = None) -> str:
        """Exactly one error reply expected; returns its text."""
        replies = await self.say(text, user)
        assert len(replies) == 1, f"expected one reply to {text!r}, got {len(replies)}"
        assert replies[0].kind == "error", f"{text!r} should fail: {replies[0].plain()}"
        assert "\n" not in replies[0].text, "errors are one line"
        return replies[0].text


async def posted(chat: FakeChat, body: list[Any]) -> tuple[int, dict[str, Any]]:
    """`body` sent to the ingest API with the chat's token (made here), in one atomic step
    as the server runs it: the answer's status and body."""
    from handlers.ingest import ingest  # the one test helper that needs the API handler

    reply = await chat.ok("/scorecard token")
    lines = dict(line.split(": ", 1) for line in reply.splitlines()[1:3])
    with chat.core.store.atomic():
        answer = ingest(
            chat.core.ctx, lines["Scorecard id"], lines["Token"], orjson.dumps(body), None
        )
    return answer.status, answer.body


async def attach(chat: FakeChat, name: str, data: bytes, filename: str = "v.csv") -> list[Reply]:
    """`/<name> import` with a file attached (Telegram's caption, Slack's upload), as Anna."""
    command = Command(
        name=name,
        text="import",
        actor=Actor(platform="console", user_id="anna", display_name="Anna"),
        chat=chat.chat,
        received_at=chat.core.ctx.clock(),
        attachment=Attachment(filename=filename, data=data),
    )
    return await chat.core.dispatch(command)


def wal_frames(root: Path) -> list[tuple[int, int]]:
    """Each frame in the WAL of the store in `root`, in order: (its page number, the
    database's size in pages after it: not 0 on a commit's last frame)."""
    data = (root / f"{DB_FILE}-wal").read_bytes()
    size = struct.unpack(">I", data[8:12])[0]
    frames = []
    for at in range(32, len(data) - size - 23, 24 + size):
        page, ends = struct.unpack(">II", data[at : at + 8])
        frames.append((page, ends))
    return frames


def compute_afresh(
    self: object, chat: str, key: str | None, tag: object, args: Any, compute: Any, **_: Any
) -> Any:
    """Stands in for `KpiRepo.memo`: remembers nothing, so a reply is computed afresh."""
    return compute()


T = TypeVar("T")
_OURS = tuple(
    str(Path(__file__).resolve().parents[1] / package)
    for package in ("bot", "handlers", "scoring", "storage")
)


async def cyclic_garbage_made_by_us(
    run: Callable[[], Awaitable[T]], monkeypatch: pytest.MonkeyPatch
) -> tuple[T, list[str]]:
    """`run()`'s result, and the cyclic garbage our code made meanwhile ("Type from file:line").

    Freezing (`storage.gc_policy`) is safe only for code that makes no garbage the
    collector alone could free: with freezing off and the collector saving what it finds,
    each piece is attributed by tracemalloc to the line of ours that allocated it. Other
    threads of the test process (a store's writer, a pool an earlier test left behind) may
    leave cycles of their own meanwhile (seen under load); those are not counted.
    """
    with monkeypatch.context() as patched:
        patched.setattr(gc, "freeze", lambda: None)
        patched.setattr(gc, "unfreeze", lambda: None)
        gc.collect()
        gc.disable()
        gc.set_debug(gc.DEBUG_SAVEALL)
        tracemalloc.start(50)
        try:
            result = await run()
            gc.collect()
            left = [where for where in map(_made_by_us, gc.garbage) if where]
        finally:
            tracemalloc.stop()
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()
    return result, left


def _made_by_us(thing: object) -> str:
    """The line of our code that allocated a piece of cyclic garbage ("" if none did)."""
    trace = tracemalloc.get_object_traceback(thing)
    for frame in trace or ():
        if frame.filename.startswith(_OURS):
            return f"{type(thing).__qualname__} from {frame.filename}:{frame.lineno}"
    return ""


async def say_confirmed(chat: FakeChat, text: str) -> list[str]:
    """`text` said in the chat, and an `/undo`'s question confirmed: every reply, as a line
    a transcript of two paths compares (`same_session`)."""
    replies = await chat.say(text)
    said = [f"{text} -> {r.kind}: {r.text} {r.buttons}" for r in replies]
    if replies and replies[0].buttons and text == "/undo":
        said.extend(r.text for r in await chat.say(replies[0].buttons[0].command))
    return said


def stored_tables(core: Core) -> dict[str, bytes | None]:
    """Every table of the store as its backend holds it (written out first)."""
    core.store.db.flush()
    backend = core.store.db.backend
    return {name: backend.load(name) for name in sorted(backend.names())}


Session = tuple[list[str], dict[str, bytes | None]]


def same_session(one: Session, other: Session) -> None:
    """Two sessions of the same steps (a shortcut taken, and not) said the same and stored
    the same tables, byte for byte (the first table that differs is named)."""
    assert one[0] == other[0]
    assert one[1].keys() == other[1].keys()
    for name, body in one[1].items():
        assert body == other[1][name], name


@contextmanager
def ids_in_order() -> Iterator[None]:
    """The random ids of queued messages, alerts and parked values drawn from one counter:
    two sessions of the same steps draw the same ones (`same_session`)."""
    drawn = itertools.count()
    ids = SimpleNamespace(urandom=lambda size: next(drawn).to_bytes(size, "big"))
    sent = SimpleNamespace(token_hex=lambda size: next(drawn).to_bytes(size, "big").hex())
    with (
        mock.patch.object(outbox, "os", ids),
        mock.patch.object(alert_pipeline, "secrets", sent),
        mock.patch.object(pending, "secrets", sent),  # the 100× question's parked value
    ):
        yield
