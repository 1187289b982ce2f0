"""Text → Command and the argument grammar every handler shares.

People type numbers as `12,5`, `10 000`, `10k`, `1.2M` or `35%`, quote names with
typographic quotes, and mistype dates; each rule here turns that into a value or a
one-line `UsageError`.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from datetime import datetime
from decimal import Decimal
from typing import NoReturn

from handlers.contract import Actor, ChatRef, Command, UsageError, Via
from handlers.dates import FIRST_DAY as FIRST_DAY  # dates live in handlers.dates
from handlers.dates import in_range as in_range
from handlers.dates import parse_date as parse_date
from handlers.dates import starts_date
from handlers.dates import take_date as take_date
from handlers.numbers import format_number
from scoring.errors import MAX_QUOTE as MAX_QUOTE  # what error lines quote, for handlers
from scoring.errors import clip as clip

_COMMAND = re.compile(r"^/([^\s@/]+)(?:@(\S+))?(?:\s+(.*))?$", re.DOTALL)
#: Dashes people (or their phones and word processors) type as a minus: the minus sign the
#: bot writes (−), an en dash (–), a figure dash (‒), small and fullwidth hyphen-minus.
MINUSES = "−–‒﹣－"
#: `#articles +1 note`; the tag ends where a key does, so `#articles: +1`, `#articles+1` and
#: `#articles–1` (highlighted as `#articles` by Telegram and Slack) log too
_HASHTAG = re.compile(
    rf"^#([\w-]+(?:\.[\w-]+)*)(?:[:,;.!?]+|(?=[+{MINUSES}\s])|$)\s*(.*)$", re.DOTALL
)
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})
_APOSTROPHE = re.compile(r"(?<=\w)'(?=\w)|(?<=\w)'(?=\s|$)")
_HELD = "\x00"
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Marks nobody sees that come with pasted or right-to-left text: zero-width spaces and
#: joiners, direction marks and embeddings, word joiners, a byte-order mark. A number or key
#: is read without them (else "'12' is not a number" quotes one).
_INVISIBLE_RANGES = ((0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064), (0x2066, 0x2069))
_INVISIBLE_CHARS = (
    "".join(chr(c) for first, last in _INVISIBLE_RANGES for c in range(first, last + 1)) + "\ufeff"
)
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")
#: Those, the soft hyphen and control characters: what a command word is read without, and
#: what is trimmed from a message's ends with the spaces (a command pasted with a zero-width
#: space or a byte-order mark before it is still a command; `/kpi\u200b` is /kpi).
_UNSEEN_ENDS = _INVISIBLE_CHARS + "\u00ad" + "".join(map(chr, range(0x20))) + "\x7f"
_UNSEEN = re.compile(f"[{re.escape(_UNSEEN_ENDS)}]")
#: Control characters inside a message (a terminal escape, a bell, NUL, C1 controls): read
#: as spaces, so none is stored in a name or note and printed back (NUL was also the
#: splitter's mark for apostrophes). Tabs and line breaks stay: pasted lines are split by them.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Direction embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): dropped, as
#: one kept in a name turned the rest of every line showing it around (a right-to-left
#: override spoofs what follows). Direction marks (U+200E, U+200F) end with their word: kept.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_UNSAFE = re.compile(f"{_CONTROLS.pattern}|{_BIDI_CONTROLS.pattern}")
KEY_RE = re.compile(r"^[^\W\d_][\w.-]{0,39}$|^\d[\w.-]{0,39}$", re.UNICODE)

#: Longest message we read; longer ones are refused before any parsing.
MAX_MESSAGE = 20_000
#: Every number a user gives lies within ±MAX_VALUE (so percents and sums stay finite).
MAX_VALUE = 1e15
#: Longest note a value, check-in or log entry keeps (chat and ingest API alike).
MAX_NOTE = 500


def note_of(words: Sequence[str]) -> str:
    """The note the words after a value make; a longer one than a note keeps is refused
    whole rather than cut (what was typed would be half-saved)."""
    note = " ".join(words)
    if len(note) > MAX_NOTE:
        raise UsageError(
            f"The note is {len(note)} characters long; a note keeps at most {MAX_NOTE}. "
            "Nothing was saved."
        )
    return note


def _readable(text: str) -> str:
    """`text` with each lone surrogate (bytes that were not UTF-8 on a terminal, a broken
    `\\ud83d` escape in a platform's JSON) shown as �: such a string cannot be stored, so
    a name typed with one made every command that saved it fail."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _trimmed(raw: str) -> str:
    """`raw` without spaces or unseen marks at either end (one `strip` when there are none)."""
    text = raw.strip()
    while text and (text[0] in _UNSEEN_ENDS or text[-1] in _UNSEEN_ENDS):
        text = text.strip(_UNSEEN_ENDS).strip()
    return text


def controls_as_spaces(text: str) -> str:
    """`text` with each control character read as a space (see `_CONTROLS`) and direction
    overrides dropped (see `_BIDI_CONTROLS`)."""
    if not _UNSAFE.search(text):
        return text
    return _BIDI_CONTROLS.sub("", _CONTROLS.sub(" ", text))


def command_from_text(
    raw: str,
    *,
    actor: Actor,
    chat: ChatRef,
    received_at: datetime,
    via: Via = "command",
    bot_username: str | None = None,
    message_id: str | None = None,
) -> Command | None:
    """Turn a chat message into a Command, or None when it is not for us.

    `/kpi@OtherBot` is not for us; a message starting with a hashtag becomes
    `log <tag> <rest>` so `#articles +1 published` logs progress.
    """
    text = _readable(_trimmed(raw))
    match = _COMMAND.match(text)
    if match:
        name, addressed, rest = match.groups()
        if addressed and bot_username and addressed.casefold() != bot_username.casefold():
            return None
        if not name.isprintable():  # a mark inside the command word: `/kpi\u200b`, `/k\xadpi`
            name = _UNSEEN.sub("", name)
        return Command.of(
            name=name.casefold(),
            text=controls_as_spaces(rest or "").strip(),
            actor=actor,
            chat=chat,
            received_at=received_at,
            via=via,
            message_id=message_id,
        )
    text = controls_as_spaces(text)
    if text.startswith("/"):
        # `/`, `/ kpi`, `//`: meant as a command, so answered (the router says how one is
        # written) rather than ignored like chat text
        return Command.of(
            name="",
            text=text.lstrip("/").strip(),
            actor=actor,
            chat=chat,
            received_at=received_at,
            via=via,
            message_id=message_id,
        )
    tagged = hashtag_of(text)
    if tagged:
        tag, rest = tagged
        return Command.of(
            name="log",
            text=f"{tag} {rest or ''}".strip(),
            actor=actor,
            chat=chat,
            received_at=received_at,
            via="hashtag",
            message_id=message_id,
        )
    return None


def meant_word(
    word: str, options: Sequence[str], tried: Mapping[str, str] | None = None, cutoff: float = 0.6
) -> str | None:
    """The option a mistyped `word` stands for, behind every "Did you mean": what people try
    for one (`tried`, e.g. `delete` for `remove`), else the option spelled most alike."""
    if tried is not None and word in tried:
        return tried[word]
    return next(iter(difflib.get_close_matches(word, options, n=1, cutoff=cutoff)), None)


def hashtag_of(text: str) -> tuple[str, str] | None:
    """`#articles: +1 note` → ("articles", "+1 note"); None when `text` starts with no tag.

    Chat messages and the later tags of one message (`#a +1 #b +1`) are read by this rule.
    """
    match = _HASHTAG.match(text)
    return None if match is None else (match.group(1), match.group(2) or "")


#: A values sheet's column names, in the languages dates are read in, and what each holds:
#: `/kpi import` and `/scorecard import` read a sheet's header by them.
SHEET_COLUMNS = {
    **dict.fromkeys(("kpi", "key", "ключ", "показатель", "kennzahl", "nøgletal"), "kpi"),
    **dict.fromkeys(("value", "значение", "wert", "værdi"), "value"),
    **dict.fromkeys(("date", "day", "дата", "datum", "dato"), "day"),
    **dict.fromkeys(
        ("note", "notes", "comment", "comments", "заметка", "комментарий", "notiz", "bemærkning"),
        "note",
    ),
}
#: What a sheet that is not text we read is told, after its name ("v.csv", "the file").
NOT_UTF8 = "is not UTF-8 text: save it as CSV UTF-8 (Excel: Save As → CSV UTF-8) and send it again"


def sheet_text(data: bytes) -> str | None:
    """A sheet's bytes as text, for `/kpi import`, `/scorecard import` and scheduled pulls
    alike: UTF-8 (a byte-order mark dropped), or UTF-16 that starts with its mark (Excel's
    "Unicode Text"); None for anything else (Excel's "CSV" in a Windows code page), which is
    refused whole: read with replacement marks, its lines were refused one by one with the
    garbage quoted."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def sheet_delimiter(line: str) -> str | None:
    """The column mark of a spreadsheet line, for `/kpi import` and `/scorecard import` alike:
    `;` (a sheet saved where the decimal mark is a comma), a tab, or `,` (when the line has
    quotes or no spaces); None for words split by spaces (`cac 1,000 2026-11-01`)."""
    if ";" in line:
        return ";"
    if "\t" in line:
        return "\t"
    if '"' in line or ("," in line and " " not in line.strip()):
        return ","
    return None


_SPACE = re.compile(r"[ \t\r\n]*")
_PART = re.compile(r"[^ \t\r\n\"']+|\"[^\"]*\"|'[^']*'")
_WORD = re.compile(r"[^ \t\r\n]+")
#: What only the full splitter reads: quotes of every kind, and the mark it holds
#: apostrophes with. A text without any is just its words.
_QUOTING = re.compile("[\"'\x00" + "".join(map(chr, _QUOTES)) + "]")


def tokenize(text: str) -> tuple[str, ...]:
    """Shell-like split that accepts typographic quotes and explains unbalanced ones.

    An apostrophe inside or at the end of a word (`Anna's`, `we're`, `teams'`) is just
    an apostrophe; `'…'` around words still quotes them. One linear pass (a shell-style
    splitter that grows each token a character at a time is quadratic on a long word);
    a backslash is an ordinary character, as people type it in chat.
    """
    if _QUOTING.search(text) is None:  # `/kpi set cac 95`: words between spaces
        return tuple(_WORD.findall(text))
    return split_quoted(text)


class Quoted(str):
    """A word typed in quotes (`"Leads"`): the quotes say where a name ends, so a word after
    it is not one more word of the name (`name_of_words`)."""

    __slots__ = ()


def split_quoted(text: str) -> tuple[str, ...]:
    """`tokenize`'s full splitter (quotes, apostrophes); `tokenize` skips it for a text
    without any, as every command's words go through it."""
    held = _APOSTROPHE.sub(_HELD, text.translate(_QUOTES))
    tokens: list[str] = []
    pos, end = 0, len(held)
    while True:
        pos = _SPACE.match(held, pos).end()  # type: ignore[union-attr]
        if pos >= end:
            break
        parts: list[str] = []
        start = pos
        while pos < end and held[pos] not in " \t\r\n":
            part = _PART.match(held, pos)
            if part is None:  # an opening quote that is never closed
                raise UsageError(
                    'Unbalanced quote: close every " you open, '
                    'e.g. /kpi add cac "Customer cost" target=80'
                )
            piece = part.group()
            parts.append(piece[1:-1] if piece[0] in "\"'" else piece)
            pos = part.end()
        token = "".join(parts).replace(_HELD, "'")
        tokens.append(Quoted(token) if held[start] in "\"'" else token)
    return tuple(tokens)


def normalize_key(raw: str, what: str = "key") -> str:
    """Keys are case-insensitive, any script: `CAC` and `cac` are the same KPI."""
    key = unicodedata.normalize("NFC", _INVISIBLE.sub("", raw).strip()).casefold()
    if not KEY_RE.match(key):
        raise UsageError(
            f"'{clip(raw)}' is not a valid {what}: use letters, digits, '-', '_' or '.', "
            "up to 40 characters, e.g. cac or лиды"
        )
    return key


_SUFFIX = {
    "k": 1e3,
    "к": 1e3,
    "тыс": 1e3,
    "m": 1e6,
    "м": 1e6,
    "mln": 1e6,
    "млн": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "млрд": 1e9,
    # German and Danish (`1,5 Mio.`, `2 Mrd`, `250 Tsd`, `2 mia.`): `1,5 Mio` was 1.5,
    # with the note "Mio"
    "tsd": 1e3,
    "mio": 1e6,
    "mrd": 1e9,
    "mia": 1e9,
}
#: What may follow a number as a word of its own and still be the number's: a multiplier
#: (`1,1 млн`) or a percent sign (`12,5 %`).
_SPACED_SUFFIX = re.compile(r"(?:k|к|тыс|m|mln|млн|bn|млрд|tsd|mio|mrd|mia)\.?|%", re.IGNORECASE)
_TO_HYPHEN = str.maketrans(dict.fromkeys(MINUSES, "-"))
#: A sign before a number, any minus among them.
_SIGN = f"[+\\-{MINUSES}]"
_PLAIN_NUMBER = re.compile(r"[+-]?\d{1,18}(?:\.\d{1,18})?")
_NUMBER = re.compile(r"^([+-]?)(\d+(?:[.,]\d+)?|[.,]\d+)([a-zа-я]*)\.?(%?)$")
#: `1e3`, `2,5e-3`: scientific notation, which the README's number rules do not list.
_SCIENTIFIC = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)e[+-]?\d{1,4}")


#: `14.000`: a lone dot before three digits, read as a decimal point (14) though a Dane or a
#: German means a thousand by it (14 000); `_LONE_DOT_GROUP` is the same once signs are `-`,
#: with a multiplier or a percent after it.
_DOT_BEFORE_THREE = re.compile(rf"{_SIGN}?[1-9]\d{{0,2}}\.\d{{3}}")
_LONE_DOT_GROUP = re.compile(r"[+-]?[1-9]\d{0,2}\.\d{3}(?:[a-zа-я]+\.?)?%?")
#: `1,250`, `1,250k`: a lone comma before three digits, which groups thousands unless the
#: chat's decimal mark is a comma; a multiplier after it multiplies the number as read alone
#: (`1,250k` is 1 250 000, not 1.25 thousand, where a comma groups thousands).
_LONE_COMMA_GROUP = re.compile(r"[+-]?\d{1,3},\d{3}(?:[a-zа-я]+\.?)?%?")

#: A dotted date (30.11.2026, 30.11.26, 30.11.) typed where a value goes is read as it was
#: before dots grouped thousands ("not a number"; a year-less one as a decimal, which the
#: 100× check then questions), not refused as "thousands go in groups of three".
_DOTTED_DATE = re.compile(r"\d{1,2}\.\d{1,2}\.(?:\d{2}|\d{4})?")


#: Whether the chat of the command being answered groups thousands with dots (`/numbers
#: 1.234,5`): asked, through the function the router puts here, only when a number has a
#: lone dot before three digits, so no other number costs a settings read.
DOTS_GROUP: ContextVar[Callable[[], bool] | None] = ContextVar("dots_group", default=None)


@contextmanager
def chat_numbers(dots: Callable[[], bool]) -> Iterator[None]:
    """Numbers read inside are read as a chat writes them: `dots()` says whether a dot
    groups thousands there (called only if a number such as `1.200` comes up). The router
    sets it for each command, the ingest API for each batch."""
    token = DOTS_GROUP.set(dots)
    try:
        yield
    finally:
        DOTS_GROUP.reset(token)


def dots_group() -> bool:
    """True where a dot groups thousands (the chat said `/numbers 1.234,5`)."""
    asked = DOTS_GROUP.get()
    return asked is not None and asked()


def parse_number(raw: str, what: str = "value") -> float:
    """Parse a number the way people type it: 12.5, 12,5, 10 000, 1,234.5, 10k, 1,1 млн, 35%.

    Every number lies within ±1e15: beyond that percents and sums overflow, and no
    marketing figure is that large. A lone dot before three digits (`1.200`) is a decimal
    point, and a lone comma before three digits (`1,200`) groups thousands, unless the chat
    groups thousands with dots (`dots_group`): there it is the other way round.
    """
    if _PLAIN_NUMBER.fullmatch(raw) and not (
        "." in raw and _DOT_BEFORE_THREE.fullmatch(raw) and dots_group()
    ):  # the common case, fast for 300 000-row imports
        value = float(raw)
        if abs(value) <= MAX_VALUE:
            return value
    text = _INVISIBLE.sub("", raw).strip().replace("\u00a0", " ").replace("\u202f", " ")
    text = text.replace("_", "")
    compact = text.replace(" ", "").replace("'", "").translate(_TO_HYPHEN).lower()
    if "," not in compact and _LONE_DOT_GROUP.fullmatch(compact) and dots_group():
        compact = compact.replace(".", "", 1)  # `1.200` where dots group thousands
    if "," in compact and "." in compact:
        # whichever comes last is the decimal mark: 1,234.5 and 1.234,5 are both 1234.5
        body = compact.rstrip(".")  # `5тыс.`: an abbreviation's dot is not a decimal mark
        grouping = "," if body.rfind(".") > body.rfind(",") else "."
        compact = _ungrouped(raw, body, grouping, what).replace(",", ".")
    elif compact.count(",") > 1:
        compact = _ungrouped(raw, compact, ",", what)  # 1,234,567
    elif compact.count(".") > 1 and not _DOTTED_DATE.fullmatch(compact):
        compact = _ungrouped(raw, compact, ".", what)  # 1.234.567, as Danes and Germans group
    elif (
        _LONE_COMMA_GROUP.fullmatch(compact)
        and not compact.lstrip("+-").startswith("0")
        and not dots_group()  # `/numbers 1.234,5`: the comma is the chat's decimal mark
    ):
        compact = compact.replace(",", "")  # 1,000 reads as a thousand
    match = _NUMBER.match(compact)
    if not match:
        if _SCIENTIFIC.fullmatch(compact):
            _refuse_scientific(raw, compact, what)
        raise UsageError(
            f"'{clip(raw)}' is not a number for {what}: try 12.5, 12,5, 10 000, 10k or 35%"
        )
    sign, digits, suffix, _percent = match.groups()
    if suffix and suffix not in _SUFFIX:
        raise UsageError(
            f"'{clip(raw)}': unknown multiplier '{clip(suffix, 12)}' "
            "(use k, M, bn, тыс, млн, млрд, Tsd, Mio, Mrd or mia)"
        )
    value = float(digits.replace(",", ".")) * _SUFFIX.get(suffix, 1.0)
    value = -value if sign == "-" else value
    if not math.isfinite(value) or abs(value) > MAX_VALUE:
        _refuse_out_of_range(raw, what)
    return value


def parse_value(
    raw: str, key: str, name: str, unit: str, *, what: str = "", edit: str = "/kpi edit"
) -> float:
    """A value typed for `key` (called `name`, counted in `unit`): a number as
    `parse_number` reads it, and the one rule for a `%` typed after a value, which every
    path that reads one (`/kpi set`, `/kpi import`, the ingest API, scheduled pulls, `/okr
    checkin`) keeps. It was dropped without a word (`40%` saved as 40 € on a € KPI). On a
    percent KPI it is the value; anywhere else it is refused with how to write it, `edit`
    naming the command that makes `key` a percent one (`what`: the number's name in a
    "not a number" line, `key` unless told): a value never changes what a KPI is
    counted in (a pull or the API would do it unseen), and 40 € or 40 read from `40%` is
    a guess."""
    value = parse_number(raw, what or key)
    if "%" in raw and unit != "%" and _INVISIBLE.sub("", raw).rstrip().endswith("%"):
        counted = f"is counted in {clip(unit)}" if unit else "has no unit"
        raise UsageError(
            f"{clip(raw)} has a % sign, but {name} {counted}: write "
            f"{clip(raw.rstrip('% '))}, or make it a percentage first: {edit} {key} unit=%"
        )
    return value


def _percent_joins(unit: str) -> bool:
    """Whether a `%` typed right after this unit joins the value (`40 € %`, `40€%` read as
    `40%€`, which gets the `%` line): not for a `%` KPI, whose own unit is the `%`, nor
    where there is no unit."""
    return unit not in ("", "%")


def unit_left_out(words: tuple[str, ...], unit: str) -> tuple[str, ...]:
    """`words` (a key, its value, more), more than two, without the value's own `unit` right
    before or after it (`$ 95`, `95 $ 2026-11-20`, `14 000 visits`): a unit is no note, and a
    date after it still counts (`/kpi set`, `/okr checkin`). A `%` after the unit (`40 € %`,
    `40€ %`) joins the value, as in `40%€`: it was kept as the note, with a date after it.
    Two words or fewer are answered as they are (the common set: a key and a value)."""
    if len(words) < 3:
        return words
    if unit and words[1].casefold() == unit.casefold():
        return (words[0], *words[2:])
    other = _percent_joins(unit)
    if other and words[2] == "%" and words[1].casefold().endswith(unit.casefold()):
        return (words[0], words[1] + "%", *words[3:])  # `parse_unit_value` reads `40€%`
    for i, word in enumerate(words[2:], start=2):
        if unit and word.casefold() in (unit.casefold(), f"{unit.casefold()}%"):
            joined = other and word.casefold() != unit.casefold()  # `40 €%`
            rest = (*words[:i], *("%" if joined else ()), *words[i + 1 :])
            end = take_number_tokens(rest, 1)[1]  # after the number, or a `%` that joined it
            return rest if end == i or (end == i + 1 and rest[i] == "%") else words
    return words


def other_currency(
    raw: str, after: str, key: str, name: str, unit: str, *, edit: str = "/kpi edit"
) -> None:
    """Refuse a value whose next word `after` is a currency sign that `key` (called
    `name`, counted in `unit`) is not counted in (`/kpi set cac 40 $` on a € KPI): it was
    saved as 40 € with the note "$", and a date after the sign was lost into the note. A
    value never changes what a KPI is counted in, and converting it is a guess."""
    if not after or not all(unicodedata.category(c) == "Sc" for c in after):
        return
    if after.casefold() == unit.casefold():
        return  # its own unit: `unit_left_out` leaves that out before a value is read
    typed = f"{clip(raw)} {clip(after)}"
    fix = f"{edit} {key} unit={clip(after)}"
    if unit:
        raise UsageError(
            f"{typed}: {name} is counted in {clip(unit)}, not {clip(after)}: convert the "
            f"value to {clip(unit)} first, or change what it is counted in: {fix}"
        )
    raise UsageError(
        f"{typed}: {name} has no unit, so {clip(after)} can't be read: send the number "
        f"alone, or give it its unit first: {fix}"
    )


def words_after_value(
    raw: str,
    value: float,
    rest: Sequence[str],
    key: str,
    name: str,
    unit: str,
    *,
    edit: str = "/kpi edit",
) -> None:
    """Refuse a value the words `rest` right after it (at least one) say is not what was
    read: another currency's sign (`other_currency`), or a second, smaller part of a time
    (`3 min 20 s` on a KPI counted in min was saved as 3 min with the note "20 s"). The one
    check of `/kpi set`, `/okr checkin` and a `/kpi import` line; no words: nothing to
    check (the common set)."""
    if not rest:
        return
    other_currency(raw, rest[0], key, name, unit, edit=edit)
    size = _TIME_UNITS.get(unit.casefold())
    part = _TIME_PART.fullmatch(rest[0]) if size is not None else None
    if size is None or part is None:
        return
    word = part[2] or (rest[1] if len(rest) > 1 else "")
    smaller = _TIME_UNITS.get(word.casefold())
    if smaller is None or smaller >= size:
        return  # a count in the note (`20 sessions`), or a date (`2 days ago`)
    total = value + float(part[1].replace(",", ".")) * smaller / size
    second = part[0] if part[2] else f"{part[1]} {word}"
    typed = f"{format_number(value)} {clip(unit)} {clip(second)}"
    raise UsageError(
        f"{typed}: {name} is counted in {clip(unit)}: write it as one number, "
        f"{format_number(total)}"
    )


#: Seconds in each time unit a value may be counted in (`s`, `min`, `h` and their words).
_TIME_UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds", "сек"), 1),
    **dict.fromkeys(("min", "mins", "minute", "minutes", "мин", "минут", "минуты"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours", "ч", "час", "часа", "часов"), 3600),
}
#: A number, and the unit word glued to it if any (`20`, `20s`).
_TIME_PART = re.compile(r"(\d+(?:[.,]\d+)?)([^\W\d_]*)")


def parse_unit_value(
    raw: str, key: str, name: str, unit: str, *, edit: str = "/kpi edit"
) -> float:
    """`parse_value` of a value also glued to its unit (`95$`, `3min`, `$95`); a `%` glued
    between them (`40%€`) gets the `%` line, not "not a number"."""
    try:
        return parse_value(raw, key, name, unit, edit=edit)
    except UsageError:
        folded, typed = unit.casefold(), raw.casefold()
        bare = ""
        if folded and typed.endswith(folded):
            bare = raw[: -len(folded)]
        elif _percent_joins(folded) and typed.endswith(f"{folded}%"):  # `40€%`: the % line
            bare = f"{raw[: -len(folded) - 1]}%"
        elif folded and typed.startswith(folded):
            bare = raw[len(folded) :]
        if bare.rstrip().endswith("%"):
            return parse_value(bare, key, name, unit, edit=edit)  # the `%` line, or its value
        with suppress(UsageError):
            if bare:
                return parse_value(bare, key, name, unit, edit=edit)
        raise  # the line names what was typed


#: The whole part of a grouped number, per grouping mark: threes (1,234,567) or the Indian
#: lakh grouping (12,34,567); `9,5,0` is neither.
_GROUPED = {
    mark: re.compile(rf"\d{{1,3}}(?:{m}\d{{3}})*|\d{{1,2}}(?:{m}\d{{2}})*{m}\d{{3}}")
    for mark, m in ((",", ","), (".", r"\."))
}


def _ungrouped(raw: str, text: str, mark: str, what: str) -> str:
    """`text` without its grouping `mark`s, once the whole part is grouped as people group
    thousands; anything else (`9,5,0`, `12,34.5`) is refused rather than guessed."""
    whole = re.match(rf"[+-]?([\d{re.escape(mark)}]*)", text).group(1)  # type: ignore[union-attr]
    if not _GROUPED[mark].fullmatch(whole):
        raise UsageError(
            f"'{clip(raw)}' is not a number for {what}: thousands go in groups of three "
            "(1,234,567 or 1 234 567); decimals take one mark (12.5 or 12,5)"
        )
    return text.replace(mark, "")


#: A word shaped like a number (`12`, `−1,5`, `40%`): what a check-in on a KPI-driven key
#: result refuses as a value typed where the KPI's value goes.
_NUMBER_SHAPED = re.compile(rf"{_SIGN}?[\d.,]+%?")


def number_shaped(word: str) -> bool:
    """True for a word shaped like a number, whatever minus sign it is typed with."""
    return _NUMBER_SHAPED.fullmatch(word) is not None


def dot_reading(
    raw: str, value: float, recent: Sequence[float] | Callable[[], Sequence[float]] = ()
) -> str:
    """How a number typed as `14.000` was read, and how to write the thousand instead; ""
    for any other. Said when nothing else would question it: `recent` (the KPI's recent
    values) has none to compare with, or the thousand is nearer to one of them than what
    was read (`14.000` after 1 200: 14 is 86× away, 14 000 only 12×; the 100× question
    asks only beyond 100×). `15.500` after 14 says nothing: 15.5 is the nearer. The one
    home of this line: `/kpi set`, `/kpi import`, the ingest API, `/okr checkin`, `/log` and
    hashtags, and scheduled pulls all say it (`recent` may be a function, called only for
    such a number)."""
    if not _DOT_BEFORE_THREE.fullmatch(raw) or dots_group():
        return ""
    whole = raw.replace(".", "").translate(_TO_HYPHEN)
    thousand = float(whole)
    sizes = [abs(v) for v in (recent() if callable(recent) else recent) if v != 0]
    if sizes and farness(abs(value), sizes) <= farness(abs(thousand), sizes):
        return ""
    return (
        f"Read {raw} as {format_number(value)} (a lone dot is a decimal point): "
        f"write {whole.lstrip('+')} if you meant {format_number(thousand)}."
    )


def farness(size: float, sizes: Sequence[float]) -> float:
    """How many times away from the nearest of `sizes` (all above 0) `size` is."""
    return min(max(size, s) / min(size, s) for s in sizes)


def _refuse_scientific(raw: str, compact: str, what: str) -> NoReturn:
    """`1e3` is refused with the number written out (`1000`), so people see what to type;
    one beyond ±1e15 gets the range line every number gets."""
    exact = Decimal(compact.replace(",", "."))
    if abs(exact) > Decimal(MAX_VALUE):
        _refuse_out_of_range(raw, what)
    written = clip(format(exact, "f"))
    raise UsageError(
        f"'{clip(raw)}' uses scientific notation; write the number out for {what}: "
        f"{written} instead of {clip(raw)}."
    )


def _refuse_out_of_range(raw: str, what: str) -> NoReturn:
    """The one line for a number beyond ±1e15, however it was written."""
    raise UsageError(f"'{clip(raw)}' is out of range for {what}: numbers go from −1e15 to 1e15.")


def _glue_multiplier(tokens: Sequence[str], raw: str, nxt: int) -> tuple[str, int]:
    """`1,1` + `млн` → `1,1млн`, `12,5` + `%` → `12,5%`: a multiplier or a percent sign
    typed as its own word belongs to the number (a `%` left over became a note or a name)."""
    if nxt < len(tokens) and raw[-1:].isdigit() and _SPACED_SUFFIX.fullmatch(tokens[nxt]):
        return raw + tokens[nxt], nxt + 1
    return raw, nxt


_GROUP_HEAD = re.compile(rf"{_SIGN}?\d{{1,3}}")
_GROUP = re.compile(r"\d{3}")
_LAST_GROUP = re.compile(r"\d{3}(?:[.,]\d+)?(?:[a-zа-я]+|%)?")


def take_number_tokens(tokens: Sequence[str], start: int) -> tuple[str, int]:
    """Read a number that may be typed with space-separated groups (`10 000`, `1 200 000`)
    or a multiplier of its own (`1,1 млн`, `10 k`).

    Returns the glued text and the index of the first token after it.
    """
    if start >= len(tokens):
        return "", start
    raw, i = tokens[start], start + 1
    if not _GROUP_HEAD.fullmatch(raw):
        return _glue_multiplier(tokens, raw, i)
    j = i
    while j < len(tokens) and _GROUP.fullmatch(tokens[j]):
        j += 1
    if j < len(tokens) and _LAST_GROUP.fullmatch(tokens[j]):
        j += 1  # the last group may carry decimals, a suffix or %
    # `10 000` is one number only when nothing but a date (or the end) follows it: in
    # `/kpi set x 5 100 new leads` the 100 starts the note. The most groups that do are the
    # number's, so in `1 200 995 days ago` the 995 starts the date.
    for end in range(j, i, -1):
        glued, after = _glue_multiplier(tokens, "".join(tokens[start:end]), end)
        if after == len(tokens) or after > end or starts_date(tokens, after):
            return glued, after
    return _glue_multiplier(tokens, raw, i)


#: An option's value that is a number so far (or ends in one after a colon, as a stage of
#: `staged=2027Q1:10` does), which a `%` or a multiplier typed apart joins.
_OPTION_NUMBER = re.compile(rf"(?:\S*:)?{_SIGN}?[\d.,]*\d")
#: An option value ending in the first group of a space-grouped number, its own or its last
#: stage's (`target=20`, `staged=2027-03-31:10`, as the `/kpi add` reply shows a stage), and
#: a group that continues it (`000`, `500,2027-06-30:11`: a group, then the next stage
#: up to its first group).
_OPTION_GROUP_HEAD = re.compile(rf"(?:\S*:)?{_SIGN}?\d{{1,3}}")
_OPTION_GROUP = re.compile(rf"\d{{3}}(?:[.,]\d+)?%?|\d{{3}},\S*:{_SIGN}?\d{{1,3}}")
#: Options whose value is text (a name, a handle, a unit, a key, a word of a choice): a `%`,
#: a multiplier or a group typed apart after one is a word of its own, never glued to it
#: (`name=2026 %` is not a KPI named `2026%`, `unit=20 000` not a unit `20000`).
TEXT_OPTIONS = frozenset(
    {
        "name", "unit", "owner", "objective", "perspective", "formula", "align", "cycle",
        "kpi", "kpis", "stages", "touchpoint", "pain", "map", "every", "agg", "aggregate",
        "direction", "cadence", "due", "from", "test", "done",
    }
)  # fmt: skip


def key_equals_value(args: tuple[str, ...]) -> tuple[str, ...]:
    """`cac=95 …`, `cac = 95`, `cac =95`, `cac= 95` read as `cac 95 …`: a value typed the
    way `/kpi edit cac target=80` takes a field; other words are left as typed."""
    words = list(args)
    if words and "=" in words[0]:
        key, _, rest = words[0].partition("=")
        words[:1] = [w for w in (key, rest) if w]
    if len(words) > 1 and words[1].startswith("="):
        words[1:2] = [words[1][1:]] if words[1] != "=" else []
    return tuple(words)


def split_options(
    tokens: Iterable[str], allowed: Iterable[str]
) -> tuple[list[str], dict[str, str]]:
    """Separate positional words from `field=value` options; unknown fields are refused,
    listing the allowed ones in the caller's order (its usage's), as "Nothing to change" does."""
    allowed_set = list(allowed)
    positional: list[str] = []
    options: dict[str, str] = {}
    items = list(tokens)
    index = 0
    while index < len(items):
        tok = items[index]
        index += 1
        name, eq, value = tok.partition("=")
        numeric = bool(eq) and name.lower() not in TEXT_OPTIONS  # `name=2026 %`: nothing glued
        if numeric and _OPTION_GROUP_HEAD.fullmatch(value):  # target=20 000, staged=…:10 500
            while index < len(items) and _OPTION_GROUP.fullmatch(items[index]):
                value += items[index]
                index += 1
        spaced = index < len(items) and _SPACED_SUFFIX.fullmatch(items[index])
        if numeric and spaced and _OPTION_NUMBER.fullmatch(value):  # target=5 %, =1,5 млн: the
            value += items[index]  # sign is the number's, not a word of the name; a text
            index += 1  # option's (`name=Q4 %`) stays a word of its own
        if eq and name and re.fullmatch(r"[A-Za-z_]+", name):
            field = name.lower()
            if field not in allowed_set:
                close = meant_word(field, allowed_set)
                hint = f" Did you mean {close}=?" if close is not None else ""
                raise UsageError(
                    f"Unknown field '{clip(name)}'.{hint} Fields: {', '.join(allowed_set)}"
                )
            if field in options:
                raise UsageError(f"'{field}=' is given twice.")
            options[field] = value
        else:
            positional.append(tok)
    return positional, options


FieldParser = Callable[[str], object]


def parse_fields(
    options: Mapping[str, str], parsers: Mapping[str, FieldParser]
) -> dict[str, object]:
    """Typed model values for `field=value` options, each through its field's parser."""
    return {field: parsers[field](raw) for field, raw in options.items() if field in parsers}


def parse_choice(raw: str, field: str, choices: Mapping[str, str]) -> str:
    """Map a typed word to one of `choices` (aliases allowed) or explain the options."""
    value = choices.get(raw.strip().casefold())
    if value is None:
        options = ", ".join(sorted(set(choices.values())))
        raise UsageError(f"{field}={clip(raw)} is not allowed: use one of {options}.")
    return value


def parse_bool(raw: str, field: str) -> bool:
    """yes/no, true/false, on/off, 1/0, да/нет."""
    truthy = {"yes", "y", "true", "on", "1", "да"}
    falsy = {"no", "n", "false", "off", "0", "нет"}
    low = raw.strip().casefold()
    if low in truthy:
        return True
    if low in falsy:
        return False
    raise UsageError(f"{field}={clip(raw)}: use yes or no.")


def parse_weight(raw: str, field: str = "weight") -> float:
    """A weight is a finite number ≥ 0."""
    value = parse_number(raw, field)
    if value < 0:
        raise UsageError(f"{field} must not be negative (got {clip(raw)}).")
    return value


def parse_owner(raw: str) -> str | None:
    """Owners are chat handles: `@anna` (the @ is added when missing); `none` or `-` clears
    it. An empty `owner=` is refused: it is more likely a handle left out than a clear."""
    handle = raw.strip()
    if not handle:
        raise UsageError("owner= needs a chat handle, e.g. owner=@anna (owner=none clears it)")
    if handle.casefold() in ("none", "-", "nobody"):
        return None
    if handle == "@" or not re.fullmatch(r"@?[\w.-]{1,64}", handle):
        raise UsageError("owner= is one chat handle, e.g. owner=@anna (owner=none clears it)")
    return handle if handle.startswith("@") else "@" + handle


#: A unit's length (`€`, `visits`, `customers/mo`): refused beyond it, never cut.
MAX_UNIT = 16


def parse_unit(raw: str) -> str:
    """A KPI's or key result's unit; `none` or `-` clears it, as they clear an owner (the
    unit "none" was stored). One reader for both: a key result's long unit was cut where a
    KPI's was refused."""
    unit = raw.strip()
    if unit.casefold() in ("none", "-"):
        return ""
    if len(unit) > MAX_UNIT:
        raise UsageError(f"unit is too long (at most {MAX_UNIT} characters).")
    return unit


MAX_NAME = 120


def name_of_words(words: Sequence[str], what: str = "name", option: str | None = None) -> str:
    """The name the words after a key make (`Leads per month` unquoted, or `"Leads"`); a word
    before or after a quoted name is refused rather than joined to it (`"Leads" x`).
    `option`: the `name=` option of a command that takes one; words beside it are refused
    (`name=2026 %` would otherwise name the KPI `%` and drop the option)."""
    if option is not None:
        if words:
            raise UsageError(
                f"Unexpected words: {clip(' '.join(words), 60)}. Give the {what} once, in "
                'quotes after the key or as name= (in quotes if it has spaces: name="…"). '
                "Nothing was saved."
            )
        words = (option,)
    at = next((i for i, w in enumerate(words) if isinstance(w, Quoted)), None)
    if at is not None and len(words) > 1:
        stray = 1 if at == 0 else 0
        where = "follows" if stray > at else "comes before"
        raise UsageError(
            f'"{clip(words[stray], 30)}" {where} the quoted name "{clip(words[at], 60)}": put '
            f'the whole name in quotes ("{clip(" ".join(words), 60)}") or leave the word out. '
            "Nothing was saved."
        )
    return parse_name(" ".join(words), what)


def parse_name(raw: str, what: str = "name") -> str:
    """A display name: not empty, at most 120 characters, any language."""
    name = " ".join(raw.split())
    if not name:
        raise UsageError(f'The {what} can\'t be empty: put it in quotes, e.g. "Leads per month".')
    if len(name) > MAX_NAME:
        raise UsageError(f"The {what} is too long ({len(name)} characters; at most {MAX_NAME}).")
    return name
