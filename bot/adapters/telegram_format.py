"""Pure Telegram rules: Reply → HTML messages, message splitting, buttons, command menu.

Nothing here talks to the network, so every platform quirk (HTML escaping, the 4096
limit, 64-byte callback data, BotFather command rules) is unit-tested on its own.
Lengths are counted in UTF-16 code units of the HTML source: Telegram counts UTF-16
units of the parsed text, which is never longer, so our counts are safe.
"""

from __future__ import annotations

import functools
import html
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from telegram.constants import BotCommandLimit, InlineKeyboardButtonLimit, MessageLimit

from handlers.contract import Button, CommandSpec, Reply

MAX_TEXT = MessageLimit.MAX_TEXT_LENGTH  # 4096
MAX_CAPTION = MessageLimit.CAPTION_LENGTH  # 1024
MAX_CALLBACK_BYTES = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA  # 64
EXPIRED_BUTTON = "This button has expired"
BUTTONS_ONLY_TEXT = "Choose an option:"

_TOKEN_PREFIX = "t:"
_COMMAND_NAME = re.compile(
    rf"^[a-z0-9_]{{{BotCommandLimit.MIN_COMMAND},{BotCommandLimit.MAX_COMMAND}}}$"
)
_TAG = re.compile(r"<[^>]*>")
_PRE_OPEN, _PRE_CLOSE = "<pre>", "</pre>"


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (emoji outside the BMP take two units)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Escape user-supplied text for parse_mode=HTML (`<`, `>` and `&` only need it)."""
    return html.escape(text, quote=False)


def html_to_plain(fragment: str) -> str:
    """Our own HTML back to plain text: the fallback when Telegram refuses the markup."""
    return html.unescape(_TAG.sub("", fragment))


# --- Reply → lines ---------------------------------------------------------------------

Segment = tuple[str | None, str]  # (tag or None, raw text)


@dataclass(frozen=True, slots=True)
class _Line:
    """One output line; every line is balanced on its own, so splits between lines are safe."""

    segments: tuple[Segment, ...]
    pre: bool = False

    def render(self) -> str:
        return "".join(
            f"<{tag}>{escape(raw)}</{tag}>" if tag and raw else escape(raw)
            for tag, raw in self.segments
        )


def _styled(tag: str | None, text: str) -> list[_Line]:
    """A possibly multi-line string as lines that each carry their own tag."""
    return [_Line(((tag, part),)) for part in text.split("\n")]


def _field_lines(label: str, value: str) -> list[_Line]:
    first, *rest = value.split("\n")
    lines = [_Line((("b", label.replace("\n", " ")), (None, f": {first}")))]
    lines.extend(_Line(((None, part),)) for part in rest)
    return lines


def reply_lines(reply: Reply) -> list[_Line]:
    """The reply's text parts in order: title, text, fields, table, footer."""
    lines: list[_Line] = []
    if reply.title:
        lines += _styled("b", reply.title)
    if reply.text:
        lines += _styled(None, reply.text)
    for field in reply.fields:
        lines += _field_lines(field.label, field.value)
    if reply.table is not None:
        lines += [_Line(((None, row),), pre=True) for row in reply.table.render().split("\n")]
    if reply.footer:
        lines += _styled("i", reply.footer)
    return lines


def render_html(reply: Reply) -> str:
    """The whole reply as one HTML string (may exceed Telegram's limit; see split_html)."""
    chunks = split_html(reply_lines(reply), limit=10**9)
    return chunks[0] if chunks else ""


# --- splitting ---------------------------------------------------------------------------


def _hard_split(line: _Line, budget: int) -> list[_Line]:
    """Cut one over-long line into pieces that fit, preferring spaces, never inside an entity."""
    if utf16_len(line.render()) <= budget:
        return [line]
    pieces: list[_Line] = []
    current: list[Segment] = []
    used = 0
    for tag, raw in line.segments:
        overhead = len(f"<{tag}></{tag}>") if tag else 0
        rest = raw
        while rest:
            room = budget - used - overhead
            take = _fitting_prefix(rest, room)
            if take == 0:
                if current:
                    pieces.append(_Line(tuple(current), line.pre))
                    current, used = [], 0
                    continue
                take = 1  # room is too small even for one char; cannot happen with sane budgets
            part, rest = rest[:take], rest[take:]
            current.append((tag, part))
            used += overhead + utf16_len(escape(part))
            if rest:
                pieces.append(_Line(tuple(current), line.pre))
                current, used = [], 0
    if current:
        pieces.append(_Line(tuple(current), line.pre))
    return pieces


def _fitting_prefix(raw: str, room: int) -> int:
    """How many characters of `raw` fit in `room` once escaped; break at a space if possible."""
    if room <= 0:
        return 0
    size = 0
    end = 0
    for ch in raw:
        cost = utf16_len(escape(ch))
        if size + cost > room:
            break
        size += cost
        end += 1
    if end < len(raw):
        space = raw.rfind(" ", 0, end)
        if space > end // 2:
            end = space + 1
    return end


def split_html(lines: Sequence[_Line], limit: int = MAX_TEXT) -> list[str]:
    """Pack lines into messages of at most `limit` units, splitting only between lines.

    A table (`<pre>`) split across messages is closed at the end of one message and
    reopened at the start of the next, so every message is valid HTML by itself.
    Each line is rendered and measured once and a message's size is kept as a running
    count: every reply takes this path, and re-measuring the growing message per line
    made a 50-row table cost quadratic work.
    """
    budget = limit - len(_PRE_OPEN) - len(_PRE_CLOSE)
    chunks: list[str] = []
    parts: list[str] = []  # the message being filled
    size = 0  # its length in UTF-16 units
    in_pre = False
    visible = False  # whether it shows any text (tags and blank lines alone are dropped)

    def close() -> None:
        if visible:
            chunks.append("".join(parts) + (_PRE_CLOSE if in_pre else ""))

    for whole in lines:
        for line, piece, units in _pieces(whole, budget):
            if line.pre:
                prefix = ("\n" if size else "") + ("" if in_pre else _PRE_OPEN)
            else:
                prefix = (_PRE_CLOSE if in_pre else "") + ("\n" if size else "")
            added = len(prefix) + units
            reserve = len(_PRE_CLOSE) if line.pre else 0
            if size and size + added + reserve > limit:
                close()
                parts, size, in_pre, visible = [], 0, False, False
                prefix = _PRE_OPEN if line.pre else ""
                added = len(prefix) + units
            parts += (prefix, piece)
            size += added
            in_pre = line.pre
            if not visible:
                visible = any(raw.strip() for _, raw in line.segments)
    close()
    return chunks


def _pieces(line: _Line, budget: int) -> list[tuple[_Line, str, int]]:
    """The line (cut if over `budget`) with each piece's HTML and its length."""
    rendered = line.render()
    units = utf16_len(rendered)
    if units <= budget:
        return [(line, rendered, units)]
    pieces = [(piece, piece.render()) for piece in _hard_split(line, budget)]
    return [(piece, html, utf16_len(html)) for piece, html in pieces]


def _fit_caption(lines: Sequence[_Line]) -> str | None:
    """The lines as one caption if they fit Telegram's caption limit."""
    chunks = split_html(lines, limit=MAX_CAPTION)
    return chunks[0] if len(chunks) == 1 else (None if chunks else "")


# --- buttons -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyboardButton:
    """One inline button: what the user sees and the callback data Telegram returns."""

    label: str
    data: str


Keyboard = tuple[tuple[KeyboardButton, ...], ...]


class CallbackTokens:
    """In-memory map from short tokens to commands too long for callback data.

    Tokens are bound to the chat the button was sent to and forgotten oldest-first
    (and on restart); a press with an unknown token is "expired" and runs nothing.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[str, tuple[str, str]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def issue(self, command: str, chat_id: str) -> str:
        """A callback data string standing for `command` in `chat_id`."""
        token = secrets.token_urlsafe(12)  # 16 characters, 96 random bits
        self._entries[token] = (command, chat_id)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)
        return _TOKEN_PREFIX + token

    def lookup(self, data: str, chat_id: str) -> str | None:
        """The command behind token data pressed in `chat_id`, or None."""
        if not data.startswith(_TOKEN_PREFIX):
            return None
        token = data.removeprefix(_TOKEN_PREFIX)
        entry = self._entries.get(token)
        if entry is None or entry[1] != chat_id:
            return None
        self._entries.move_to_end(token)
        return entry[0]


def _command_text(command: str) -> str:
    """Button commands are chat commands; "kpi show cac" means "/kpi show cac"."""
    text = command.strip()
    return text if text.startswith(("/", "#")) else "/" + text


def callback_data(command: str, chat_id: str, tokens: CallbackTokens) -> str:
    """Callback data for a button: the command itself when it fits 64 bytes, else a token.

    Literal data always starts with "/" or "#" and token data with "t:", so a press
    can always be told apart. A literal press runs exactly what the user could type.
    """
    text = _command_text(command)
    if len(text.encode("utf-8")) <= MAX_CALLBACK_BYTES:
        return text
    return tokens.issue(text, chat_id)


def resolve_callback(data: str, chat_id: str, tokens: CallbackTokens) -> str | None:
    """The command text a pressed button stands for, or None if stale or forged."""
    if data.startswith(("/", "#")) and len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES:
        return data
    return tokens.lookup(data, chat_id)


def keyboard(buttons: Sequence[Button], data_for: Callable[[str], str]) -> Keyboard:
    """Up to three short buttons share a row; otherwise one button per row."""
    keys = [KeyboardButton(b.label or b.command, data_for(b.command)) for b in buttons]
    if len(keys) <= 3 and sum(len(k.label) for k in keys) <= 30:
        return (tuple(keys),) if keys else ()
    return tuple((k,) for k in keys)


# --- Reply → messages --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutMessage:
    """One Telegram message to send: text (sendMessage) or a photo with caption (sendPhoto)."""

    html: str
    photo: bytes | None = None
    filename: str = "image.png"
    keyboard: Keyboard = ()
    document: bytes | None = None  # a file (sendDocument), `filename` names it

    @property
    def plain(self) -> str:
        """The same text without markup."""
        return html_to_plain(self.html)


def render_reply(reply: Reply, data_for: Callable[[str], str]) -> list[OutMessage]:
    """Every message needed for `reply`, in sending order; buttons go on the last one.

    A picture carries the text as its caption when it fits 1024 units; otherwise the
    caption is the title (or alt text) and the text follows as separate messages.
    """
    keys = keyboard(reply.buttons, data_for)
    messages: list[OutMessage] = []
    if reply.image is not None:
        lines = reply_lines(reply)
        caption = _fit_caption(lines) or None
        rest: list[_Line] = []
        if caption is None:
            # Too long for a caption: the title (or alt text) goes under the picture,
            # everything else follows as ordinary messages. A picture without words (the
            # dashboard after /scorecard's table) gets its alt text, as Slack titles it.
            short = (reply.title or reply.image.alt).split("\n")[0]
            first = split_html(_styled("b", short), limit=MAX_CAPTION)
            caption = first[0] if first else ""
            rest = reply_lines(reply.model_copy(update={"title": None})) if reply.title else lines
        messages.append(OutMessage(caption, reply.image.data, reply.image.filename))
        messages += [OutMessage(chunk) for chunk in split_html(rest)]
    else:
        messages += [OutMessage(chunk) for chunk in _text_of(reply)]
        if not messages and keys:
            messages.append(OutMessage(escape(BUTTONS_ONLY_TEXT)))
    if reply.document is not None:  # the file follows its text, captioned with its name
        doc = reply.document
        messages.append(OutMessage(escape(doc.filename), filename=doc.filename, document=doc.data))
    if keys and messages:
        last = messages[-1]
        messages[-1] = OutMessage(last.html, last.photo, last.filename, keys, last.document)
    return messages


def _text_of(reply: Reply) -> Sequence[str]:
    """The messages of a reply without a picture, remembered when they can be (`_text_chunks`)."""
    if reply.document is not None:  # a file's bytes are not worth hashing or keeping
        return split_html(reply_lines(reply))
    try:
        return _text_chunks(reply)
    except TypeError:  # unhashable: a copy made without validation (`model_copy`) holds a list
        return split_html(reply_lines(reply))


@functools.lru_cache(maxsize=64)
def _text_chunks(reply: Reply) -> tuple[str, ...]:
    """The messages of a reply without a picture, kept for the last replies sent: a `/kpi`
    whose scorecard did not change is the same (frozen) reply again (handlers.kpi), and
    laying out and escaping its 50-row table was most of what the adapter did for it."""
    return tuple(split_html(reply_lines(reply)))


# --- command menu ------------------------------------------------------------------------


def bot_commands(specs: Iterable[CommandSpec]) -> list[tuple[str, str]]:
    """(name, description) pairs for setMyCommands: one per top-level command word.

    Names Telegram would reject are skipped; the description is the command's own
    summary, or a list of its subcommands when only those are registered.
    """
    summaries: dict[str, str] = {}
    subcommands: dict[str, list[str]] = {}
    for spec in specs:
        words = spec.path.split()
        if not words:
            continue
        name = words[0].lstrip("/").casefold()
        if not _COMMAND_NAME.match(name):
            continue
        subcommands.setdefault(name, [])
        if len(words) == 1:
            summaries.setdefault(name, spec.summary)
        elif words[1] not in subcommands[name]:
            subcommands[name].append(words[1])
    result: list[tuple[str, str]] = []
    for name, subs in subcommands.items():
        text = summaries.get(name) or (", ".join(subs) if subs else name)
        text = " ".join(text.split()) or name
        if len(text) > BotCommandLimit.MAX_DESCRIPTION:
            text = text[: BotCommandLimit.MAX_DESCRIPTION - 1].rstrip() + "…"
        result.append((name, text))
        if len(result) == BotCommandLimit.MAX_COMMAND_NUMBER:
            break
    return result
