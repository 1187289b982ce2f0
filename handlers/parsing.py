"""Text → Command and the argument grammar every handler shares.

People type numbers as `12,5`, `10 000`, `10k`, `1.2M` or `35%`, quote names with
typographic quotes, and mistype dates; each rule here turns that into a value or a
one-line `UsageError`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Literal

from handlers.contract import Actor, ChatRef, Command, UsageError
from scoring.errors import MAX_QUOTE as MAX_QUOTE  # what error lines quote, for handlers
from scoring.errors import clip as clip

_COMMAND = re.compile(r"^/([^\s@/]+)(?:@(\S+))?(?:\s+(.*))?$", re.DOTALL)
_HASHTAG = re.compile(r"^#([^\s#]+)(?:\s+(.*))?$", re.DOTALL)
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})
_APOSTROPHE = re.compile(r"(?<=\w)'(?=\w)|(?<=\w)'(?=\s|$)")
_HELD = "\x00"
KEY_RE = re.compile(r"^[^\W\d_][\w.-]{0,39}$|^\d[\w.-]{0,39}$", re.UNICODE)

#: Longest message we read; longer ones are refused before any parsing.
MAX_MESSAGE = 20_000
#: Every number a user gives lies within ±MAX_VALUE (so percents and sums stay finite).
MAX_VALUE = 1e15
#: The first day a value may be recorded for (the last is today).
FIRST_DAY = date(2000, 1, 1)


def command_from_text(
    raw: str,
    *,
    actor: Actor,
    chat: ChatRef,
    received_at: datetime,
    via: Literal["command", "hashtag", "button", "schedule"] = "command",
    bot_username: str | None = None,
    message_id: str | None = None,
) -> Command | None:
    """Turn a chat message into a Command, or None when it is not for us.

    `/kpi@OtherBot` is not for us; a message starting with a hashtag becomes
    `log <tag> <rest>` so `#articles +1 published` logs progress.
    """
    text = raw.strip()
    match = _COMMAND.match(text)
    if match:
        name, addressed, rest = match.groups()
        if addressed and bot_username and addressed.casefold() != bot_username.casefold():
            return None
        return Command(
            name=name.casefold(),
            text=(rest or "").strip(),
            actor=actor,
            chat=chat,
            received_at=received_at,
            via=via,
            message_id=message_id,
        )
    match = _HASHTAG.match(text)
    if match:
        tag, rest = match.groups()
        return Command(
            name="log",
            text=f"{tag} {rest or ''}".strip(),
            actor=actor,
            chat=chat,
            received_at=received_at,
            via="hashtag",
            message_id=message_id,
        )
    return None


_SPACE = re.compile(r"[ \t\r\n]*")
_PART = re.compile(r"[^ \t\r\n\"']+|\"[^\"]*\"|'[^']*'")


def tokenize(text: str) -> tuple[str, ...]:
    """Shell-like split that accepts typographic quotes and explains unbalanced ones.

    An apostrophe inside or at the end of a word (`Anna's`, `we're`, `teams'`) is just
    an apostrophe; `'…'` around words still quotes them. One linear pass (a shell-style
    splitter that grows each token a character at a time is quadratic on a long word);
    a backslash is an ordinary character, as people type it in chat.
    """
    held = _APOSTROPHE.sub(_HELD, text.translate(_QUOTES))
    tokens: list[str] = []
    pos, end = 0, len(held)
    while True:
        pos = _SPACE.match(held, pos).end()  # type: ignore[union-attr]
        if pos >= end:
            break
        parts: list[str] = []
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
        tokens.append("".join(parts).replace(_HELD, "'"))
    return tuple(tokens)


def normalize_key(raw: str, what: str = "key") -> str:
    """Keys are case-insensitive, any script: `CAC` and `cac` are the same KPI."""
    key = unicodedata.normalize("NFC", raw.strip()).casefold()
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
}
#: Multipliers that may stand apart from the number (`1,1 млн`, `10 k`, `2 bn`).
_SPACED_SUFFIX = re.compile(r"(?:k|к|тыс|m|mln|млн|bn|млрд)\.?", re.IGNORECASE)
_PLAIN_NUMBER = re.compile(r"-?\d{1,18}(?:\.\d{1,18})?")
_NUMBER = re.compile(r"^([+-]?)(\d+(?:[.,]\d+)?|[.,]\d+)([a-zа-я]*)\.?(%?)$")


def parse_number(raw: str, what: str = "value") -> float:
    """Parse a number the way people type it: 12.5, 12,5, 10 000, 1,234.5, 10k, 1,1 млн, 35%.

    Every number lies within ±1e15: beyond that percents and sums overflow, and no
    marketing figure is that large.
    """
    if _PLAIN_NUMBER.fullmatch(raw):  # the common case, fast for 300 000-row imports
        value = float(raw)
        if abs(value) <= MAX_VALUE:
            return value
    text = raw.strip().replace("\u00a0", " ").replace("\u202f", " ").replace("_", "")
    compact = text.replace(" ", "").replace("'", "").replace("−", "-").lower()
    if "," in compact and "." in compact:
        # whichever comes last is the decimal mark: 1,234.5 and 1.234,5 are both 1234.5
        body = compact.rstrip(".")  # `5тыс.`: an abbreviation's dot is not a decimal mark
        grouping = "," if body.rfind(".") > body.rfind(",") else "."
        compact = body.replace(grouping, "").replace(",", ".")
    elif compact.count(",") > 1:
        compact = compact.replace(",", "")  # 1,234,567
    elif re.fullmatch(r"[+-]?\d{1,3},\d{3}", compact) and not compact.lstrip("+-").startswith("0"):
        compact = compact.replace(",", "")  # 1,000 reads as a thousand
    match = _NUMBER.match(compact)
    if not match:
        raise UsageError(
            f"'{clip(raw)}' is not a number for {what}: try 12.5, 12,5, 10 000, 10k or 35%"
        )
    sign, digits, suffix, _percent = match.groups()
    if suffix and suffix not in _SUFFIX:
        raise UsageError(
            f"'{clip(raw)}': unknown multiplier '{clip(suffix, 12)}' "
            "(use k, M, bn, тыс, млн or млрд)"
        )
    value = float(digits.replace(",", ".")) * _SUFFIX.get(suffix, 1.0)
    value = -value if sign == "-" else value
    if not math.isfinite(value) or abs(value) > MAX_VALUE:
        raise UsageError(
            f"'{clip(raw)}' is out of range for {what}: numbers go from −1e15 to 1e15."
        )
    return value


def _glue_multiplier(tokens: Sequence[str], raw: str, nxt: int) -> tuple[str, int]:
    """`1,1` + `млн` → `1,1млн`: a multiplier typed as its own word belongs to the number."""
    if nxt < len(tokens) and raw[-1:].isdigit() and _SPACED_SUFFIX.fullmatch(tokens[nxt]):
        return raw + tokens[nxt], nxt + 1
    return raw, nxt


_GROUP_HEAD = re.compile(r"[+-]?\d{1,3}")
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
    glued, after = _glue_multiplier(tokens, "".join(tokens[start:j]), j)
    # `10 000` is one number only when nothing but a date (or the end) follows it:
    # in `/kpi set x 5 100 new leads` the 100 starts the note
    if j > i and (after == len(tokens) or after > j or looks_like_date(tokens[after])):
        return glued, after
    return _glue_multiplier(tokens, raw, i)


def parse_date(raw: str, today: date) -> date:
    """YYYY-MM-DD (also `today` / `yesterday`), from 2000-01-01 on.

    A date in the future is left to the caller, which says what it means there.
    """
    low = raw.strip().casefold()
    if low in ("today", "сегодня"):
        return today
    if low in ("yesterday", "вчера"):
        return date.fromordinal(today.toordinal() - 1)
    parts = _date_parts(low)
    if parts is None:
        raise UsageError(
            f"'{clip(raw)}' is not a date: use YYYY-MM-DD (or DD.MM.YYYY), "
            f"e.g. {today.isoformat()}"
        )
    try:
        day = date(*parts)
    except ValueError as exc:
        raise UsageError(f"'{clip(raw)}' is not a real date (check the month and day).") from exc
    return in_range(day, raw, today)


def in_range(day: date, raw: str, today: date) -> date:
    """Refuse days before 2000-01-01 (charts and periods start there)."""
    if day < FIRST_DAY:
        raise UsageError(
            f"'{clip(raw)}' is out of range: dates go from {FIRST_DAY.isoformat()} "
            f"to today ({today.isoformat()})."
        )
    return day


_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november"
    r"|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
    r"|январ[ья]|феврал[ья]|марта?|апрел[ья]|ма[йя]|июн[ья]|июл[ья]|августа?|сентябр[ья]"
    r"|октябр[ья]|ноябр[ья]|декабр[ья]|янв|фев|мар|апр|авг|сен|сент|окт|ноя|дек)\.?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?,?"
#: A day and a month, with or without the year (`5 ноября`, `nov 3`, `Dec 5 2025`).
_DAY_MONTH = re.compile(
    rf"(?:{_DAY} (?:{_MONTH})|(?:{_MONTH}) {_DAY})(?: (\d{{4}}))?", re.IGNORECASE
)
_UNIT = r"(?:days?|weeks?|months?|years?)"
_UNIT_RU = r"(?:день|дн[яей]|недел[июья]|недель|месяц[аев]*|год[а]?|лет)"
_COUNT = r"(?:\d{1,4}|a|an|one)"
#: Other words after a value that are meant as a date (`tomorrow`, `2 days ago`, `in 2 days`,
#: `через 2 дня`), read by dateparser.
_WORDY_DATE = re.compile(
    r"tomorrow|завтра|послезавтра|позавчера|day before yesterday"
    # a month alone is half a date: refused rather than kept as a note (`may` is a word)
    rf"|(?!may\b)(?:{_MONTH})"
    rf"|{_COUNT} {_UNIT} ago|in {_COUNT} {_UNIT}"
    rf"|(?:\d{{1,4}} )?{_UNIT_RU} назад|через (?:\d{{1,4}} )?{_UNIT_RU}",
    re.IGNORECASE,
)
_WEEKDAY_NUMBER = {
    **dict.fromkeys(("monday", "mon", "понедельник"), 0),
    **dict.fromkeys(("tuesday", "tue", "tues", "вторник"), 1),
    **dict.fromkeys(("wednesday", "wed", "среда", "среду"), 2),
    **dict.fromkeys(("thursday", "thu", "thur", "thurs", "четверг"), 3),
    **dict.fromkeys(("friday", "fri", "пятница", "пятницу"), 4),
    **dict.fromkeys(("saturday", "sat", "суббота", "субботу"), 5),
    **dict.fromkeys(("sunday", "sun", "воскресенье"), 6),
}
_FULL_WEEKDAY = (
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|понедельник|вторник|сред[ау]|четверг|пятниц[ау]|суббот[ау]|воскресенье"
)
_SHORT_WEEKDAY = r"mon|tues?|wed|thu(?:rs?)?|fri|sat|sun"
#: A weekday, alone or with last/this/next (`last friday`, `в прошлую пятницу`); a short
#: name (`fri`) only after such a word, so `sun` alone stays a word of the note.
_WEEKDAY = re.compile(
    rf"(?:(?:on|last|past|this|next) )?(?P<full>{_FULL_WEEKDAY})"
    rf"|(?:last|past|this|next) (?P<short>{_SHORT_WEEKDAY})"
    r"|(?:(?:в|во) )?(?:(?:прошл(?:ый|ую|ое)|следующ(?:ий|ую|ее)|эт(?:от|у|о)) )?"
    rf"(?P<ru>{_FULL_WEEKDAY})",
    re.IGNORECASE,
)


def take_date(tokens: Sequence[str], start: int, today: date) -> tuple[date | None, int]:
    """A date right after a value, typed as digits or in words; returns it and the next index.

    `5 ноября`, `3 nov`, `tomorrow`, `2 days ago`, `in 2 days`, `last friday`, `в прошлую
    пятницу` are dates (the longest date-ish wording first); a phrase shaped like a date that
    is not one is refused, never kept as a note. A future date is returned for the caller to
    refuse, except a day and month without a year that is still ahead this year: that is
    refused here, saying how to mean last year's (it is never moved a year back unasked).
    No date: (None, start).
    """
    if start >= len(tokens):
        return None, start
    if looks_like_date(tokens[start]):
        return parse_date(tokens[start], today), start + 1
    for size in (4, 3, 2, 1):
        if start + size > len(tokens):
            continue
        phrase = " ".join(tokens[start : start + size])
        found = _phrase_to_date(phrase, today)
        if found is not None:
            return in_range(found, phrase, today), start + size
    return None, start


def _phrase_to_date(phrase: str, today: date) -> date | None:
    """The day a date-ish phrase means, or None when the phrase is not date-ish."""
    weekday = _WEEKDAY.fullmatch(phrase)
    if weekday:
        return _weekday_date(phrase, weekday, today)
    day_month = _DAY_MONTH.fullmatch(phrase)
    if day_month:
        day = _words_to_date(phrase, today)
        return day if day_month.group(1) else _this_years(day, phrase, today)
    if _WORDY_DATE.fullmatch(phrase):
        return _words_to_date(phrase, today)
    return None


def _weekday_date(phrase: str, match: re.Match[str], today: date) -> date:
    """`friday` and `в пятницу`: the latest Friday up to today; `last friday`: the latest
    before today; `this friday`: this week's (Monday to Sunday); `next friday`: the first
    after today (a future date, which the caller refuses)."""
    name = (match["full"] or match["short"] or match["ru"]).casefold()
    wanted = _WEEKDAY_NUMBER[name]
    low = phrase.casefold()
    back = (today.weekday() - wanted) % 7
    if low.startswith(("last ", "past ")) or "прошл" in low:
        back = back or 7
    elif low.startswith("this ") or re.search(r"\bэт[оуи]", low):
        back = today.weekday() - wanted  # negative: later this week
    elif low.startswith("next ") or "следующ" in low:
        back = -((wanted - today.weekday()) % 7 or 7)
    return date.fromordinal(today.toordinal() - back)


def _this_years(day: date, phrase: str, today: date) -> date:
    """`Dec 5` means this year's 5 December; still ahead of today, it is refused, not moved."""
    try:
        day = day.replace(year=today.year)
    except ValueError as exc:  # 29 February in a year without one
        raise UsageError(
            f"'{clip(phrase)}' is not a real date in {today.year} (check the month and day)."
        ) from exc
    if day > today:
        raise UsageError(
            f"'{clip(phrase)}' is {day.isoformat()}, in the future; values are recorded for "
            f"today or earlier. For last year's, add the year: {clip(phrase)} {today.year - 1}."
        )
    return day


def _words_to_date(phrase: str, today: date) -> date:
    """dateparser, restricted to English and Russian (fast, and no guessing at languages)."""
    import dateparser  # imported on first use: most messages carry no date in words

    found = dateparser.parse(
        phrase,
        languages=["en", "ru"],
        settings={
            "PREFER_DATES_FROM": "past",
            "RELATIVE_BASE": datetime(today.year, today.month, today.day, 12, tzinfo=UTC),
            "REQUIRE_PARTS": ["day"],
            "PREFER_DAY_OF_MONTH": "first",
        },
    )
    if found is None:
        raise UsageError(
            f"'{clip(phrase)}' looks like a date but isn't one: use YYYY-MM-DD, "
            f"e.g. {today.isoformat()}."
        )
    return found.date()


def _date_parts(text: str) -> tuple[int, int, int] | None:
    """Year, month, day of `2026-11-05`, `2026/11/05` or `05.11.2026` (day first)."""
    match = re.fullmatch(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", text)
    if match:
        return int(match[1]), int(match[2]), int(match[3])
    match = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)
    if match:
        return int(match[3]), int(match[2]), int(match[1])
    return None


def looks_like_date(raw: str) -> bool:
    """True for tokens that are meant as a date (so a bad one gets a date error)."""
    # anything shaped like a date, so a wrong one gets a date error instead of becoming a note
    shaped = re.fullmatch(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}", raw.strip())
    return bool(shaped) or raw.casefold() in (
        "today",
        "yesterday",
        "сегодня",
        "вчера",
    )


def split_options(
    tokens: Iterable[str], allowed: Iterable[str]
) -> tuple[list[str], dict[str, str]]:
    """Separate positional words from `field=value` options; unknown fields are refused."""
    allowed_set = list(allowed)
    positional: list[str] = []
    options: dict[str, str] = {}
    items = list(tokens)
    index = 0
    while index < len(items):
        tok = items[index]
        index += 1
        name, eq, value = tok.partition("=")
        if eq and re.fullmatch(r"[+-]?\d{1,3}", value):  # target=20 000
            while index < len(items) and re.fullmatch(r"\d{3}(?:[.,]\d+)?%?", items[index]):
                value += items[index]
                index += 1
        if eq and name and re.fullmatch(r"[A-Za-z_]+", name):
            field = name.lower()
            if field not in allowed_set:
                import difflib

                close = difflib.get_close_matches(field, allowed_set, n=1)
                hint = f" Did you mean {close[0]}=?" if close else ""
                raise UsageError(
                    f"Unknown field '{clip(name)}'.{hint} Fields: {', '.join(sorted(allowed_set))}"
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


MAX_NAME = 120


def parse_name(raw: str, what: str = "name") -> str:
    """A display name: not empty, at most 120 characters, any language."""
    name = " ".join(raw.split())
    if not name:
        raise UsageError(f'The {what} can\'t be empty: put it in quotes, e.g. "Leads per month".')
    if len(name) > MAX_NAME:
        raise UsageError(f"The {what} is too long ({len(name)} characters; at most {MAX_NAME}).")
    return name
