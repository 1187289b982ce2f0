"""The platform-neutral contract between adapters and handlers.

Adapters turn a platform update into one `Command` and render the `Reply` objects a
handler returns. Handlers never see a platform object, so the same code serves the
console, Telegram, Slack and the tests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict

if TYPE_CHECKING:
    from storage import Store

Platform = Literal["console", "telegram", "slack"]
ReplyKind = Literal["answer", "error", "alert", "digest", "reminder", "notice"]


class ChatRef(BaseModel):
    """Where a command came from or a reply goes; `key` partitions all stored data."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    chat_id: str
    thread_id: str | None = None

    @property
    def key(self) -> str:
        """The storage partition of this chat: one chat never sees another's data."""
        return f"{self.platform}:{self.chat_id}"


class Actor(BaseModel):
    """Who sent a command."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    user_id: str
    display_name: str
    handle: str | None = None  # "@anna" where the platform has usernames


class Command(BaseModel):
    """One normalized request: `/kpi set cac 95` becomes name="kpi", args=("set", "cac", "95")."""

    model_config = ConfigDict(frozen=True)

    name: str
    args: tuple[str, ...] = ()
    text: str = ""  # the raw remainder after the command word, for notes and re-parsing
    actor: Actor
    chat: ChatRef
    received_at: AwareDatetime
    via: Literal["command", "hashtag", "button", "schedule"] = "command"
    message_id: str | None = None


class Field(BaseModel):
    """A label/value pair: Slack section field, Telegram `<b>label</b>: value`."""

    model_config = ConfigDict(frozen=True)

    label: str
    value: str


class Table(BaseModel):
    """Rows shown as an aligned monospace block on every platform."""

    model_config = ConfigDict(frozen=True)

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    align: tuple[Literal["l", "r"], ...] = ()

    def render(self) -> str:
        """Plain aligned text, shared by every adapter's monospace block."""
        cells = [self.columns, *self.rows]
        widths = [max(_width(row[i]) for row in cells) for i in range(len(self.columns))]
        align = self.align or tuple("l" for _ in self.columns)
        lines = []
        for row in cells:
            parts = []
            for i, cell in enumerate(row):
                pad = " " * (widths[i] - _width(cell))
                parts.append(pad + cell if align[i] == "r" else cell + pad)
            lines.append("  ".join(parts).rstrip())
        return "\n".join(lines)


def _width(text: str) -> int:
    """Display width: emoji status markers take two columns in a monospace font."""
    return sum(2 if ord(ch) >= 0x1F000 else 1 for ch in text)


class Image(BaseModel):
    """A picture (PNG bytes) with a file name and alt text."""

    model_config = ConfigDict(frozen=True)

    data: bytes
    filename: str = "image.png"
    alt: str = ""


class Button(BaseModel):
    """A button whose press comes back as the command text in `command`."""

    model_config = ConfigDict(frozen=True)

    label: str
    command: str  # e.g. "/kpi restore cac"; adapters keep it within platform limits


class Reply(BaseModel):
    """One platform-neutral answer."""

    model_config = ConfigDict(frozen=True)

    title: str | None = None
    text: str = ""
    fields: tuple[Field, ...] = ()
    table: Table | None = None
    footer: str | None = None
    image: Image | None = None
    buttons: tuple[Button, ...] = ()
    to: ChatRef | None = None
    kind: ReplyKind = "answer"

    def plain(self) -> str:
        """The whole reply as plain text: what the console prints and tests read."""
        parts: list[str] = []
        if self.title:
            parts.append(self.title)
        if self.text:
            parts.append(self.text)
        parts.extend(f"{f.label}: {f.value}" for f in self.fields)
        if self.table is not None:
            parts.append(self.table.render())
        if self.footer:
            parts.append(self.footer)
        if self.image is not None:
            parts.append(f"[image {self.image.filename}: {self.image.alt}]")
        if self.buttons:
            parts.append("  ".join(f"[{b.label}: {b.command}]" for b in self.buttons))
        return "\n".join(parts)


class Outbox(Protocol):
    """Where handlers and jobs put messages that are not answers to the current command.

    Both methods are synchronous on purpose: a mutating command calls them inside its
    atomic step, so a queued message becomes durable together with the change that
    caused it (the router's commit) and disappears with it if the command fails.
    Delivery only starts after that commit.
    """

    def put(self, reply: Reply, *, key: str) -> bool:
        """Persist `reply` for `reply.to`; False (and nothing stored) if `key` was queued before.

        `key` is an idempotency key: a job that runs twice for the same occasion (a
        restart, a repeated fire time) queues its message once.
        """

    def wake_at(self, chat: str, when: datetime) -> None:
        """Ask for the chat's held alerts to be flushed at `when` (group window, quiet hours)."""


class NullOutbox:
    """An outbox that keeps messages in memory (contract tests, tools without a store)."""

    def __init__(self) -> None:
        self.sent: list[Reply] = []
        self.keys: set[str] = set()
        self.wakes: list[tuple[str, datetime]] = []

    def put(self, reply: Reply, *, key: str) -> bool:
        """Remember the message once per key."""
        if key in self.keys:
            return False
        self.keys.add(key)
        self.sent.append(reply)
        return True

    def wake_at(self, chat: str, when: datetime) -> None:
        """Remember the wake-up request."""
        self.wakes.append((chat, when))


Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """What /help and platform menus know about a command."""

    path: str  # "kpi set"
    summary: str  # first docstring line
    doc: str  # whole docstring
    usage: str
    example: str
    mutates: bool


@dataclass(slots=True)
class Context:
    """What a handler may touch; built once by the application."""

    store: Store
    clock: Clock
    outbox: Outbox = field(default_factory=NullOutbox)
    specs: Sequence[CommandSpec] = ()


Handler = Callable[[Command, Context], Awaitable["Reply | Sequence[Reply] | None"]]


class CommandError(Exception):
    """A user mistake or refusal: the router shows `str(error)` in chat and changes nothing."""


class UsageError(CommandError):
    """The command was typed wrongly (missing argument, bad number, unknown field)."""


class NotFound(CommandError):
    """A key names nothing; suggests the closest existing keys."""

    def __init__(self, what: str, key: str, candidates: Sequence[str] = ()) -> None:
        import difflib

        close = difflib.get_close_matches(key, list(candidates), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        super().__init__(f"No {what} '{key}'.{hint}")
        self.key = key
        self.suggestions = tuple(close)


class Conflict(CommandError):
    """The command clashes with what is stored (duplicate key, cycle, limit reached)."""
