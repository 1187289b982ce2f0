"""Dates as people type them: ISO and day-first, today/yesterday, weekdays, `3 days ago`,
month names (English, Russian, Danish and German); nothing before 2000-01-01."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from handlers.contract import UsageError
from scoring.alert_policy import parse_duration
from scoring.errors import clip

#: The first day a value may be recorded for (the last is today).
FIRST_DAY = date(2000, 1, 1)


def parse_date(raw: str, today: date, *, ahead: bool = False) -> date:
    """YYYY-MM-DD (also `today` / `yesterday`), from 2000-01-01 on.

    A date in the future is left to the caller (a value's day is refused by `not_ahead`,
    in one wording); `ahead` says the field is about days to come (due=, staged=), so a
    refusal does not say the dates end today.
    """
    low = raw.strip().casefold()
    if low in ("today", "сегодня"):
        return today
    if low in ("yesterday", "вчера"):
        return date.fromordinal(today.toordinal() - 1)
    parts = _date_parts(low)
    if parts is None:
        _refuse_slashes(raw)
        raise UsageError(
            f"'{clip(raw)}' is not a date: use YYYY-MM-DD (or DD.MM.YYYY), "
            f"e.g. {today.isoformat()}"
        )
    try:
        day = date(*parts)
    except ValueError as exc:
        raise UsageError(f"'{clip(raw)}' is not a real date (check the month and day).") from exc
    return in_range(day, raw, None if ahead else today)


def not_ahead(day: date, today: date) -> date:
    """`day`, refused when it is after `today` (the chat's): a value, a logged amount or an
    imported row is for a day that has come. One wording for every entry point."""
    if day > today:
        raise UsageError(f"{ahead_said(day, today)}.")
    return day


def ahead_said(day: date, today: date, typed: str = "") -> str:
    """Why `day` is refused, naming the chat's today (a chat whose timezone moved, or a
    user a day ahead of it, sees why): `2026-12-05 is in the future (today is 2026-12-02
    in this chat's timezone); only today or earlier can be recorded`, `'Dec 5' is
    2026-12-05, in the future (…)` when it was typed in words."""
    said = f"'{clip(typed)}' is {day.isoformat()}," if typed else f"{day.isoformat()} is"
    return (
        f"{said} in the future (today is {today.isoformat()} in this chat's timezone); "
        "only today or earlier can be recorded"
    )


def _refuse_slashes(raw: str) -> None:
    """`11/30/2026` and `30/11/2026` are read by neither order, since `11/05/2026` is 5
    November in one country and 11 May in another: the refusal names the day (or both
    days) they can be, as it is read."""
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", raw.strip())
    if match is None:
        return
    first, second, year = int(match[1]), int(match[2]), int(match[3])
    days = []
    for month, day in ((first, second), (second, first)):
        with suppress(ValueError):
            if (found := date(year, month, day).isoformat()) not in days:
                days.append(found)
    if days:
        raise UsageError(
            f"'{clip(raw)}' is not a date: slashes put the day first in some countries and "
            f"the month first in others, so write it as {' or '.join(days)}"
        )


def in_range(day: date, raw: str, today: date | None) -> date:
    """Refuse days before 2000-01-01 (charts and periods start there).

    `today` is named as the last day where the field takes no future (values, history).
    """
    if day < FIRST_DAY:
        last = f" to today ({today.isoformat()})" if today is not None else " on"
        raise UsageError(
            f"'{clip(raw)}' is out of range: dates go from {FIRST_DAY.isoformat()}{last}."
        )
    return day


#: Danish and German month names English does not share (`3. juni`, `5. März`), each with
#: the English one dateparser (run with English and Russian only) is given instead.
_DA_DE_MONTHS = {
    "januar": "january",
    "februar": "february",
    "marts": "march",
    "märz": "march",
    "mär": "march",
    "mrz": "march",
    "maj": "may",
    "mai": "may",
    "juni": "june",
    "juli": "july",
    "oktober": "october",
    "okt": "october",
    "dezember": "december",
    "dez": "december",
}
_DA_DE_MONTH = re.compile(rf"\b(?:{'|'.join(_DA_DE_MONTHS)})\b", re.IGNORECASE)
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november"
    r"|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
    rf"|{'|'.join(_DA_DE_MONTHS)}"
    r"|январ[ья]|феврал[ья]|марта?|апрел[ья]|ма[йя]|июн[ья]|июл[ья]|августа?|сентябр[ья]"
    r"|октябр[ья]|ноябр[ья]|декабр[ья]|янв|фев|мар|апр|авг|сен|сент|окт|ноя|дек)\.?"
)
#: A day: `3`, `3rd`, `3,` or `3.` (Danes and Germans write `3. nov`).
_DAY = r"\d{1,2}(?:st|nd|rd|th|\.)?,?"
#: A day and a month, with or without the year (`5 ноября`, `nov 3`, `3. nov`, `Dec 5 2025`).
_DAY_MONTH = re.compile(
    rf"(?:{_DAY} (?:{_MONTH})|(?:{_MONTH}) {_DAY})(?: (\d{{4}}))?", re.IGNORECASE
)
#: A day and month, day first, with a dot (`30.11`, `5.11.`): this year's. Two digits of
#: month, so a decimal such as `2.5` after a value stays in the note.
_DAY_DOT_MONTH = re.compile(r"(\d{1,2})\.(\d{2})\.?")
#: `30/11`, `1/12`: a day and month in an order that can't be told, refused (not a note).
_SLASHED = re.compile(r"(?:[1-9]|[0-2]\d|3[01])/(?:[1-9]|[0-2]\d|3[01])")
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
#: A weekday's number (0 = Monday) by its names; `пн` … `вс` are read by `weekday_number`
#: (schedules) only: `_WEEKDAY` never takes them for a date.
_WEEKDAY_NUMBER = {
    **dict.fromkeys(("monday", "mon", "понедельник", "пн"), 0),
    **dict.fromkeys(("tuesday", "tue", "tues", "вторник", "вт"), 1),
    **dict.fromkeys(("wednesday", "wed", "среда", "среду", "ср"), 2),
    **dict.fromkeys(("thursday", "thu", "thur", "thurs", "четверг", "чт"), 3),
    **dict.fromkeys(("friday", "fri", "пятница", "пятницу", "пт"), 4),
    **dict.fromkeys(("saturday", "sat", "суббота", "субботу", "сб"), 5),
    **dict.fromkeys(("sunday", "sun", "воскресенье", "вс"), 6),
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
#: `today` and `yesterday` as a phrase: what a Danish or German day word becomes.
_TODAY_WORD = re.compile(r"today|yesterday", re.IGNORECASE)
#: The phrases a date in words takes, each turned into a day by `_phrase_to_date`.
_PHRASES = (_WEEKDAY, _DAY_MONTH, _WORDY_DATE, _TODAY_WORD)
_DA_WEEKDAYS = {
    "mandag": "monday",
    "tirsdag": "tuesday",
    "onsdag": "wednesday",
    "torsdag": "thursday",
    "fredag": "friday",
    "lørdag": "saturday",
    "søndag": "sunday",
}
#: Danish and German words for days, each read as the English words it stands for
#: (`i går`, `gestern`, `fredag`, `sidste fredag`, `i fredags`, `på fredag`, `letzten Freitag`,
#: `am Freitag`).
_DA_DE_DAYS = {
    **dict.fromkeys(("i dag", "idag", "heute"), "today"),
    **dict.fromkeys(("i går", "igår", "gestern"), "yesterday"),
    **dict.fromkeys(("i forgårs", "vorgestern"), "day before yesterday"),
    "i morgen": "tomorrow",  # refused as the future, as `tomorrow` is
    **_DA_WEEKDAYS,
    "montag": "monday",
    "dienstag": "tuesday",
    "mittwoch": "wednesday",
    "donnerstag": "thursday",
    "freitag": "friday",
    "samstag": "saturday",
    "sonntag": "sunday",
    **dict.fromkeys(("sidste", "letzten", "letzter", "letzte", "vorigen"), "last"),
    "am": "on",
    # `i fredags` is the Danish "last Friday"; `på fredag` the coming one (the future)
    **{f"i {day}s": f"last {english}" for day, english in _DA_WEEKDAYS.items()},
    "på": "next",
}
_DA_DE_DAY = re.compile(
    rf"(?<!\S)(?:{'|'.join(sorted(_DA_DE_DAYS, key=len, reverse=True))})(?!\S)", re.IGNORECASE
)


def weekday_number(word: str) -> int | None:
    """A weekday named as a date names it (0 = Monday; None: not one), for schedules: English
    (`mon`, `monday`, and `mondays`), Russian (`пн`, `понедельник`), Danish (`mandag`) and
    German (`Montag`, `montags`). `/digest every` knew English and Russian only."""
    name = word.casefold()
    for candidate in (name, name[:-1] if name.endswith("s") else ""):
        number = _WEEKDAY_NUMBER.get(_DA_DE_DAYS.get(candidate, candidate))
        if number is not None:
            return number
    return None


def take_date(tokens: Sequence[str], start: int, today: date) -> tuple[date | None, int]:
    """A date right after a value, typed as digits or in words; returns it and the next index.

    `30.11`, `5 ноября`, `3 nov`, `tomorrow`, `2 days ago`, `in 2 days`, `last friday`, `в прошлую
    пятницу` are dates (the longest date-ish wording first); a phrase shaped like a date that
    is not one is refused, never kept as a note. A future date is returned for the caller to
    refuse, except a day and month without a year that is still ahead this year: that is
    refused here, saying how to mean last year's (it is never moved a year back unasked).
    No date: (None, start).
    """
    if start >= len(tokens):
        return None, start
    if _SLASHED.fullmatch(tokens[start]):
        raise UsageError(
            f"'{clip(tokens[start])}' could be day/month or month/day: type the day first "
            f"with a dot ({today:%d.%m}) or the whole date ({today.isoformat()})."
        )
    dotted = _day_dot_month(tokens[start])
    if dotted is not None:
        raw = tokens[start].rstrip(".")
        try:
            day = date(today.year, dotted[1], dotted[0])
        except ValueError as exc:  # 31.02, or 29.02 in a year without one
            raise _not_this_year(raw, today) from exc
        return _this_years(day, raw, today, f"{raw}.{today.year - 1}"), start + 1
    if looks_like_date(tokens[start]):
        return parse_date(tokens[start], today), start + 1
    for size, phrase in _phrases(tokens, start):
        found = _phrase_to_date(phrase, today)
        if found is not None:
            return in_range(found, phrase, today), start + size
    return None, start


def starts_date(tokens: Sequence[str], start: int) -> bool:
    """True when a date (digits or words, as `take_date` reads them) begins at `start`, so
    `1 234,5 5 ноября` is one number and a date, not 1 with a note."""
    if start >= len(tokens):
        return False
    if looks_like_date(tokens[start]) or _SLASHED.fullmatch(tokens[start]):
        return True
    return any(
        pattern.fullmatch(phrase) for _, phrase in _phrases(tokens, start) for pattern in _PHRASES
    )


def take_stated_date(tokens: Sequence[str], start: int, today: date) -> tuple[date | None, int]:
    """`take_date` of words that may as well be a note (`/log`, hashtags): a date only when
    it is stated, in digits or as `yesterday`, `3 nov`, `last friday`; a month or weekday
    name alone (`#articles +1 march issue`, `+1 sunday edition`) and words shaped like a
    date that is none stay the note, never refused. A date in digits is read, or refused,
    as `take_date` does (`30.12` ahead this year)."""
    try:
        day, nxt = take_date(tokens, start, today)
    except UsageError:
        if any(c.isdigit() for c in tokens[start]):
            raise
        return None, start
    if day is not None and nxt == start + 1 and _WEEKDAY.fullmatch(_english_days(tokens[start])):
        return None, start
    return day, nxt


def no_date_at(tokens: Sequence[str], start: int) -> bool:
    """`not starts_date`, remembered for the words it reads: a hashtag's note (`bench`,
    `published the guide`) is looked at once, not per message (`take_date` of words
    that start no date is (None, start), so a caller may skip it)."""
    return _dateless(tuple(tokens[start : start + 4]))


@lru_cache(maxsize=4096)
def _dateless(words: tuple[str, ...]) -> bool:
    return not starts_date(words, 0)


def _phrases(tokens: Sequence[str], start: int) -> Iterator[tuple[int, str]]:
    """The words from `start` as phrases of 4 words down to 1 (the longest wording first),
    with how many words each takes."""
    for size in (4, 3, 2, 1):
        if start + size <= len(tokens):
            yield size, _english_days(" ".join(tokens[start : start + size]))


def _english_days(phrase: str) -> str:
    """`phrase` with its Danish and German day words in English (`i går` → `yesterday`),
    so one set of patterns reads them all (a phrase that is then no date stays a note)."""
    if not _DA_DE_DAY.search(phrase):
        return phrase
    return _DA_DE_DAY.sub(lambda m: _DA_DE_DAYS[m.group().casefold()], phrase)


def _phrase_to_date(phrase: str, today: date) -> date | None:
    """The day a date-ish phrase means, or None when the phrase is not date-ish."""
    if _TODAY_WORD.fullmatch(phrase):
        return parse_date(phrase, today)
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


def due_day(raw: str, today: date) -> date:
    """A due date as typed (`due=`): a day to come, so words read forward where a value's
    date reads back. `YYYY-MM-DD`, `DD.MM.YYYY`, `today` as `parse_date` reads them; a
    weekday alone (`friday`, `fri`) is the next one, today's on that day (`next friday`, `this
    friday` as after a value); a day and month without a year (`1 march`, `30.11`) the next
    such day; `tomorrow`, `in 2 weeks`, `через 2 недели` what they say. Words that name no
    day (`next month`, `march`) are refused with what to type."""
    text = " ".join(raw.split())
    dotted = _day_dot_month(text)
    if dotted is None and (looks_like_date(text) or _TODAY_WORD.fullmatch(text)):
        return parse_date(text, today, ahead=True)
    phrase = _english_days(text)
    weekday = _WEEKDAY.fullmatch(phrase)
    day_month = _DAY_MONTH.fullmatch(phrase)
    if dotted is not None or (day_month is not None and not day_month.group(1)):
        try:
            day = (
                date(today.year, dotted[1], dotted[0])
                if dotted is not None
                else _words_to_date(phrase, today).replace(year=today.year)
            )
        except ValueError as exc:  # 31.02
            raise UsageError(
                f"'{clip(text)}' is not a real date (check the month and day)."
            ) from exc
        return day if day >= today else _next_years(day, text)
    if weekday is not None and _NAMED_WEEK.search(phrase):  # `next friday`, `last friday`
        return _weekday_date(phrase, weekday, today)
    name = phrase.casefold() if weekday is None else weekday["full"] or weekday["ru"] or ""
    wanted = _WEEKDAY_NUMBER.get(name.casefold())
    if wanted is not None:  # `friday`, `fri`, `в пятницу`: the coming one
        return date.fromordinal(today.toordinal() + (wanted - today.weekday()) % 7)
    if day_month is not None or (
        _WORDY_DATE.fullmatch(phrase) and not re.fullmatch(_MONTH, phrase, re.IGNORECASE)
    ):
        return _words_to_date(phrase, today)
    raise UsageError(
        f"'{clip(text)}' names no day: type one, e.g. due={today.year + 1}-03-31, "
        'due="31 march" or due=friday.'
    )


#: A weekday phrase that names its week (`last friday`, `this friday`, `в следующую пятницу`).
_NAMED_WEEK = re.compile(r"\b(?:last|past|this|next)\b|прошл|следующ|\bэт", re.IGNORECASE)


def _next_years(day: date, typed: str) -> date:
    """`day` a year on: a due day and month already past this year (`30.11` on 2 December)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError as exc:  # 29 February
        raise UsageError(f"'{clip(typed)}' is not a real date next year.") from exc


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


def _this_years(day: date, phrase: str, today: date, last_year: str = "") -> date:
    """`Dec 5` means this year's 5 December; still ahead of today, it is refused, not moved
    (`last_year`: how to type last year's, `Dec 5 2025` unless given)."""
    try:
        day = day.replace(year=today.year)
    except ValueError as exc:  # 29 February in a year without one
        raise _not_this_year(phrase, today) from exc
    if day > today:
        last_year = last_year or f"{phrase} {today.year - 1}"
        raise UsageError(
            f"{ahead_said(day, today, phrase)}. For last year's, add the year: {clip(last_year)}."
        )
    return day


def _not_this_year(phrase: str, today: date) -> UsageError:
    return UsageError(
        f"'{clip(phrase)}' is not a real date in {today.year} (check the month and day)."
    )


def _words_to_date(phrase: str, today: date) -> date:
    """dateparser, restricted to English and Russian (fast, and no guessing at languages);
    a Danish or German month name is given to it in English."""
    import dateparser  # imported on first use: most messages carry no date in words

    english = _DA_DE_MONTH.sub(lambda m: _DA_DE_MONTHS[m.group().casefold()], phrase)
    found = dateparser.parse(
        english,
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


def _day_dot_month(raw: str) -> tuple[int, int] | None:
    """Day and month of `30.11` (a day 1–31 and a month 01–12), else None."""
    match = _DAY_DOT_MONTH.fullmatch(raw.strip())
    if match and 1 <= int(match[1]) <= 31 and 1 <= int(match[2]) <= 12:
        return int(match[1]), int(match[2])
    return None


def looks_like_date(raw: str) -> bool:
    """True for tokens that are meant as a date (so a bad one gets a date error)."""
    # anything shaped like a date, so a wrong one gets a date error instead of becoming a note
    shaped = re.fullmatch(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}", raw.strip())
    return (
        bool(shaped)
        or _day_dot_month(raw) is not None
        or raw.casefold()
        in (
            "today",
            "yesterday",
            "сегодня",
            "вчера",
        )
    )


#: Unit words a duration is written with in English, Russian, Danish and German, and the short
#: units a mute takes (`h`, `ч`), each as the short unit (`3 дня`, `3 dage`, `3 Tage` are `3d`).
_DURATION_WORDS = {
    "m": r"minutes?|mins?|m|минут[аы]?|мин|м|minutter|minut|minuten?",
    "h": r"hours?|hrs?|h|час(?:а|ов)?|ч|timer|time|stunden?|std",
    "d": r"days?|d|день|дн(?:я|ей)|д|сутки|суток|dage?|tage?n?",
    "w": r"weeks?|w|недел[яиюь]|недель|н|uger?|wochen?",
}
_DURATION_WORD = "|".join(f"(?P<{unit}>{words})" for unit, words in _DURATION_WORDS.items())
#: One part of a length: a number and its unit, apart or not, ending where a letter does not
#: follow (`1h30m` is two parts, `1hour` one, `1hx` none).
_SPELLED_PART = re.compile(
    rf"(\d{{1,15}}(?:[.,]\d{{1,6}})?)\s*(?:{_DURATION_WORD})(?![^\W\d_])\s*", re.IGNORECASE
)
#: Minutes in each short unit: a part with a decimal mark (`1,5 h`) is written in minutes.
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 1440, "w": 10080}


def take_duration(words: Sequence[str], *, seconds: bool = False) -> tuple[str, list[str]]:
    """The duration `words` start with, in the short form a mute takes (`3 дня` → `3d`,
    `2 hours 30 min` → `2h30m`, `1h 30 min` → `1h30m`: parts short or spelled, in any mix;
    `1,5 h` → `90m`; one that is not whole minutes is refused, or with `seconds`, where the
    length may be seconds, is `90s` when whole seconds), and the words after it; no length at
    all leaves the first word as typed, to be refused."""
    text, short, end, minutes = " ".join(words), "", 0, Decimal(0)
    while part := _SPELLED_PART.match(text, end):
        unit = next(unit for unit in _DURATION_WORDS if part[unit])
        if part[1].isdigit():
            short += part[1] + unit
        else:  # `1,5 h`, `1.5h`: either decimal mark, in whole minutes
            minutes += Decimal(part[1].replace(",", ".")) * _UNIT_MINUTES[unit]
        end = part.end()
    if (not short and not minutes) or (end < len(text) and not text[end - 1].isspace()):
        return (words[0] if words else ""), list(words[1:])
    if minutes:
        if minutes != int(minutes):
            if seconds and (total := _minutes_of(short) + minutes) * 60 == int(total * 60):
                return f"{int(total * 60)}s", text[end:].split()  # `group=1,5m`: 90 seconds
            _refuse_part_minutes(text[:end].strip(), short, minutes)
        short += f"{int(minutes)}m"
    return short, text[end:].split()


def _refuse_part_minutes(typed: str, short: str, minutes: Decimal) -> None:
    """`2,5 m` muted for 2 minutes without a word (rounded half to even): a length is kept in
    whole minutes, so one that is not is refused with the whole ones either side of it."""
    total = _minutes_of(short) + minutes
    near = [_short_length(int(total)), _short_length(int(total) + 1)]
    shown = " or ".join(near if int(total) else near[1:])
    raise UsageError(
        f"'{clip(typed)}' is {total.normalize():f} minutes: a length is kept in whole "
        f"minutes, so write {shown}."
    )


def _minutes_of(short: str) -> int:
    """Minutes in a short length (`1h30m` → 90; `` → 0), as a mute reads it."""
    return parse_duration(short) // timedelta(minutes=1) if short else 0


def _short_length(minutes: int) -> str:
    """`119` → `1h59m`: a length in the short form, largest unit first."""
    out = ""
    for unit in ("w", "d", "h", "m"):
        count, minutes = divmod(minutes, _UNIT_MINUTES[unit])
        out += f"{count}{unit}" if count else ""
    return out or "0m"
