"""The platform-neutral contract between adapters and handlers.

Adapters turn a platform update into one `Command` and render the `Reply` objects a
handler returns. Handlers never see a platform object, so the same code serves the
console, Telegram, Slack and the tests.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, cast, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict

from scoring.models import assembled, field_defaults

if TYPE_CHECKING:
    from handlers.pictures.painter import Painter
    from storage import Store

Platform = Literal["console", "telegram", "slack"]
Via = Literal["command", "hashtag", "button", "schedule", "mention"]
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


#: The name of an attachment that is a block of lines typed (pasted after `/kpi import` in
#: the console), not a file: a byte in it that is not UTF-8 is quoted in its line's refusal.
PASTED = "pasted lines"


class Attachment(BaseModel):
    """A file that came with a command (Telegram document, Slack file), already downloaded."""

    model_config = ConfigDict(frozen=True)

    filename: str
    data: bytes


class Command(BaseModel):
    """One normalized request: `/kpi set cac 95` becomes name="kpi", args=("set", "cac", "95")."""

    model_config = ConfigDict(frozen=True)

    name: str
    args: tuple[str, ...] = ()
    text: str = ""  # the raw remainder after the command word, for notes and re-parsing
    actor: Actor
    chat: ChatRef
    received_at: AwareDatetime
    # "mention": words typed after mentioning the bot, without a slash (Slack's `@scorecard
    # kpi cac`), so a first word that is no command is not called an unknown `/command`
    via: Via = "command"
    message_id: str | None = None
    # how this platform spells /help: Slack keeps /help for itself ("/scorecard help")
    help_command: str = "/help"

    def help_for(self, topic: str = "") -> str:
        """`/help kpi` as the user must type it here."""
        return f"{self.help_command} {topic}".strip()

    attachment: Attachment | None = None

    @classmethod
    def of(
        cls,
        *,
        name: str,
        text: str,
        actor: Actor,
        chat: ChatRef,
        received_at: datetime,
        via: Via,
        message_id: str | None,
    ) -> Command:
        """`Command(name=…, text=…, actor=…, chat=…, received_at=…, via=…, message_id=…)`,
        checked here instead of by pydantic when every value has the exact type the field
        takes as it is (half of reading a command's text was that validation): the same
        state, fields set included; anything else goes through pydantic
        (`test_command_of` holds both equal, or both refused, for any values)."""
        known = _VIAS.get(via) if isinstance(via, str) else None  # as pydantic spells it
        if (
            known is not None
            and type(name) is str
            and type(text) is str
            and type(actor) is Actor
            and type(chat) is ChatRef
            and type(received_at) is datetime
            and received_at.utcoffset() is not None  # `AwareDatetime`
            and (message_id is None or type(message_id) is str)
        ):
            state = _DEFAULTS.copy()  # every field, in order, with its default
            state["name"] = name
            state["text"] = text
            state["actor"] = actor
            state["chat"] = chat
            state["received_at"] = received_at
            state["via"] = known
            state["message_id"] = message_id
            return assembled(cls, state, set(_OF))
        return cls(
            name=name,
            text=text,
            actor=actor,
            chat=chat,
            received_at=received_at,
            via=via,
            message_id=message_id,
        )

    def with_args(self, args: tuple[str, ...]) -> Command:
        """`model_copy(update={"args": args})` without pydantic's generic copy (17 calls):
        the router hands every command its sub-command's words. The same state, fields
        set included (`test_command_with_args` holds both equal for any command)."""
        state = self.__dict__.copy()
        state["args"] = args
        return assembled(type(self), state, self.__pydantic_fields_set__ | _ARGS)


_ARGS = frozenset({"args"})
#: What `Command.of` sets, and each field's default (required ones None), in field order.
_OF = frozenset({"name", "text", "actor", "chat", "received_at", "via", "message_id"})
_DEFAULTS = field_defaults(Command)
_VIAS: dict[str, Via] = {via: via for via in get_args(Via)}


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
        """Plain aligned text, shared by every adapter's monospace block.

        Every reply with a table pays for this (a 50-KPI /kpi is ~300 cells), so it
        works a column at a time and measures a cell character by character only in
        a column that holds something other than ASCII.
        """
        if not self.columns:
            return "\n" * len(self.rows)  # the header and each row: all empty lines
        right = [a == "r" for a in self.align] if self.align else [False] * len(self.columns)
        laid_out = []
        for i, column in enumerate(zip(self.columns, *self.rows, strict=True)):
            if all(cell.isascii() for cell in column):
                width = max(map(len, column))
                fill = [width] * len(column)
            else:  # a wide character takes two columns but counts one in len()
                measure = _width
                if _MARKED.search("".join(column)):  # right-to-left words, marks (rare)
                    column, measure = tuple(map(_isolated, column)), _marked_width
                extra = [measure(cell) - len(cell) for cell in column]
                width = max(len(cell) + more for cell, more in zip(column, extra, strict=True))
                fill = [width - more for more in extra]
            pad = str.rjust if right[i] else str.ljust
            laid_out.append(map(pad, column, fill))
        return "\n".join("  ".join(parts).rstrip() for parts in zip(*laid_out, strict=True))


#: Two columns in a monospace font: emoji status markers and pictographs, and the East Asian
#: wide and fullwidth letters (Hangul, CJK, kana, fullwidth forms), whose names otherwise
#: pushed every cell after them out of line.
_WIDE = re.compile(
    "[\U0001f000-\U0010ffff\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf"
    "\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60"
    "\uffe0-\uffe6]"
)
#: Marks that take no column: accents and vowel points, zero-width spaces and joiners,
#: direction marks and isolates, variation selectors, the byte-order mark.
_ZERO_CHARS = (
    "\u0300-\u036f\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufe00-\ufe0f\ufeff"
)
#: Hebrew, Arabic and the other right-to-left scripts (with their presentation forms).
_RIGHT_TO_LEFT_CHARS = "\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc"
_ZERO = re.compile(f"[{_ZERO_CHARS}]")
_RIGHT_TO_LEFT = re.compile(f"[{_RIGHT_TO_LEFT_CHARS}]")
#: What makes a column need isolating or its marks counted out (rare: one search a column).
_MARKED = re.compile(f"[{_ZERO_CHARS}{_RIGHT_TO_LEFT_CHARS}]")


def _width(text: str) -> int:
    """Display width: emoji and East Asian wide letters take two columns in a monospace font."""
    if text.isascii():
        return len(text)
    return len(text) + len(_WIDE.findall(text))


def _marked_width(text: str) -> int:
    """Display width of a cell that may hold marks taking no column (zero-width, accents,
    the isolates `_isolated` adds)."""
    return _width(text) - len(_ZERO.findall(text))


def _isolated(cell: str) -> str:
    """`cell` with its right-to-left words isolated (U+2068 … U+2069): a row's direction
    follows its first letter, and a Hebrew or Arabic name would turn the row around."""
    found = [match.start() for match in _RIGHT_TO_LEFT.finditer(cell)]
    if not found:
        return cell
    first, last = found[0], found[-1] + 1
    return f"{cell[:first]}\u2068{cell[first:last]}\u2069{cell[last:]}"


class Image(BaseModel):
    """A picture (PNG bytes) with a file name and alt text."""

    model_config = ConfigDict(frozen=True)

    data: bytes
    filename: str = "image.png"
    alt: str = ""


class Document(BaseModel):
    """A file to send (an export): Telegram sendDocument, Slack upload, console file."""

    model_config = ConfigDict(frozen=True)

    data: bytes
    filename: str
    mime: str = "application/octet-stream"


class ChartRequest(BaseModel):
    """A picture to draw when the message is sent: small charts (alerts, digests) or a dashboard.

    Drawn at delivery, off the event loop and from the values of that moment, so the
    outbox stores a few keys rather than picture bytes. On an answer to a command the
    adapters send the words at once and the picture as a second message when it is drawn
    (`split_picture`), so `/scorecard` answers in milliseconds however long drawing takes.
    """

    model_config = ConfigDict(frozen=True)

    chat: str  # the scorecard whose KPIs are drawn (the message may go to another chat)
    kpis: tuple[str, ...] = ()
    dashboard: bool = False  # the whole scorecard's dashboard instead of `kpis`


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
    chart: ChartRequest | None = None  # drawn into `image` when delivered
    document: Document | None = None
    buttons: tuple[Button, ...] = ()
    to: ChatRef | None = None
    kind: ReplyKind = "answer"
    private: bool = False  # only the asker sees it where the platform can (Slack: ephemeral)

    @classmethod
    def of(cls, text: str, to: ChatRef | None) -> Reply:
        """`Reply(text=text, to=to)`, checked here instead of by pydantic when both have the
        exact types their fields keep as they are (most commands answer so): the same state;
        anything else goes through pydantic (`test_model_of` holds both equal)."""
        if type(text) is str and (to is None or type(to) is ChatRef):
            state = _REPLY_DEFAULTS.copy()  # every field, in order, with its default
            state["text"] = text
            state["to"] = to
            return assembled(cls, state, set(_TEXT_TO))
        return cls(text=text, to=to)

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
        if self.document is not None:
            parts.append(f"[file {self.document.filename}, {len(self.document.data)} bytes]")
        if self.buttons:
            parts.append("  ".join(f"[{b.label}: {b.command}]" for b in self.buttons))
        return "\n".join(parts)


_TEXT_TO = frozenset({"text", "to"})
_REPLY_DEFAULTS = field_defaults(Reply)


def text_reply_doc(
    *,
    title: str | None,
    text: str,
    footer: str | None,
    to: ChatRef | dict[str, str | None],
    kind: ReplyKind,
) -> dict[str, Any]:
    """`Reply(title=…, text=…, footer=…, to=…, kind=…).model_dump(mode="json")` built
    directly, key for key: what the outbox stores for a reply of words only (`Outbox.put_doc`).
    A busy sweep queues ~1,000 such reminders, and building and dumping a model for each
    was about a tenth of its work. A property test holds it to the model byte for byte.
    `to` may be given as that document's `to` already (`alert_messages.chat_to`, handed
    over: stored as it is)."""
    return {
        "title": title,
        "text": text,
        "fields": [],
        "table": None,
        "footer": footer,
        "image": None,
        "chart": None,
        "document": None,
        "buttons": [],
        "to": (
            to
            if isinstance(to, dict)
            else {"platform": to.platform, "chat_id": to.chat_id, "thread_id": to.thread_id}
        ),
        "kind": kind,
        "private": False,
    }


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

    def put_doc(self, body: dict[str, Any], *, key: str) -> bool:
        """`put` of a reply given as the document the outbox stores (`text_reply_doc`),
        built for this and never touched again."""

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

    def put_doc(self, body: dict[str, Any], *, key: str) -> bool:
        """Remember the message the document stands for, once per key."""
        return self.put(Reply.model_validate(body), key=key)

    def wake_at(self, chat: str, when: datetime) -> None:
        """Remember the wake-up request."""
        self.wakes.append((chat, when))


Clock = Callable[[], datetime]
Fetch = Callable[[str], Awaitable[bytes]]
"""GET a URL and return its body; raises `FetchError` with a reason fit for the chat."""


class FetchError(Exception):
    """A download failed (network, HTTP status, too big): the message says why, briefly."""


Role = Literal["member", "admin"]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """What /help, platform menus and the router know about a command.

    Declared beside the handler with `@command(...)`; nothing else repeats it.
    """

    path: str  # "kpi set"
    summary: str  # first docstring line
    doc: str  # whole docstring
    usage: str
    example: str
    mutates: bool  # runs as one atomic step; a read-only command must never write
    role: Role = "member"  # "admin": only the chat's configured admins may run it


def _thread_painter() -> Painter:
    """Pictures drawn in a worker thread unless the application gives a worker process."""
    from handlers.pictures.painter import Painter

    return Painter("thread")


@dataclass(slots=True)
class Context:
    """What a handler may touch; built once by the application."""

    store: Store
    clock: Clock
    outbox: Outbox = field(default_factory=NullOutbox)
    specs: Sequence[CommandSpec] = ()
    # who may run role="admin" commands: "telegram:123", "slack:U1" or "@handle";
    # empty means everyone (a small team's default)
    admins: frozenset[str] = frozenset()
    # downloads a URL for scheduled pulls (/source); the bot injects an HTTP client
    fetch: Fetch | None = None
    painter: Painter = field(default_factory=_thread_painter)

    def is_admin(self, actor: Actor) -> bool:
        """Whether `actor` may run admin commands here."""
        if not self.admins:
            return True
        handle = (actor.handle or "").casefold()
        return f"{actor.platform}:{actor.user_id}" in self.admins or handle in self.admins


Handler = Callable[[Command, Context], Awaitable["Reply | Sequence[Reply] | None"]]
HandlerT = TypeVar("HandlerT", bound=Handler)
_SPEC_ATTR = "__scorecard_command__"


def command(
    path: str,
    *,
    usage: str,
    example: str,
    mutates: bool = False,
    role: Role = "member",
    aliases: Sequence[str] = (),
) -> Callable[[HandlerT], HandlerT]:
    """Declare the command a handler answers, beside it (as errbot's `@botcmd` does).

    The handler's docstring is its help text; `usage` is shown by /help and appended to
    a `UsageError(..., usage=True)`, so a usage string is typed once. `aliases` are other
    paths answered by the same handler (`/initiative` lists like `/initiatives`).
    """

    def attach(handler: HandlerT) -> HandlerT:
        doc = inspect.cleandoc(handler.__doc__ or "").strip()
        # the first paragraph, however the docstring wraps it
        summary = " ".join(doc.split("\n\n", 1)[0].split()) if doc else path
        spec = CommandSpec(path, summary, doc, usage, example, mutates, role)
        also = tuple(
            replace(spec, path=alias, usage=usage.replace(f"/{path}", f"/{alias}", 1))
            for alias in aliases
        )
        setattr(handler, _SPEC_ATTR, (spec, *also))
        return handler

    return attach


def specs_of(handler: Handler) -> tuple[CommandSpec, ...]:
    """The metadata `@command` attached to `handler`: its path first, then its aliases."""
    specs = getattr(handler, _SPEC_ATTR, None)
    if not isinstance(specs, tuple) or not specs:
        raise TypeError(f"{getattr(handler, '__name__', handler)!r} has no @command metadata")
    return cast(tuple[CommandSpec, ...], specs)


class CommandError(Exception):
    """A user mistake or refusal: the router shows `str(error)` in chat and changes nothing."""


class UsageError(CommandError):
    """The command was typed wrongly (missing argument, bad number, unknown field).

    With `usage=True` the router appends the command's declared usage line.
    """

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.show_usage = usage


class NotFound(CommandError):
    """A key names nothing; suggests the closest existing keys."""

    def __init__(
        self, what: str, key: str, candidates: Sequence[str] = (), first: Sequence[str] = ()
    ) -> None:
        """`first`: keys suggested before the closest spellings (those named so)."""
        import difflib

        close = difflib.get_close_matches(key, list(candidates), n=3, cutoff=0.5)
        close = list(dict.fromkeys([*first, *close]))[:3]
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        super().__init__(f"No {what} '{key}'.{hint}")
        self.key = key
        self.suggestions = tuple(close)
        self.keys = frozenset(candidates)  # what exists: the router spots words swapped


class Conflict(CommandError):
    """The command clashes with what is stored (duplicate key, cycle, limit reached)."""
