"""Any day, written in any style the README lists, reads as that same day after a value.

People type dates the way their language does (`2026-06-03`, `03.06.2026`, `3 June 2026`,
`June 3, 2026`, `3 июня 2026`, `3. juni 2026`, `3. Juni 2026`, `3 days ago`); whatever the
style, a value typed with grouped digits before it (`1 200`) stays one number and the date
ends where the style's words end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from handlers.parsing import take_date, take_number_tokens

TODAY = date(2026, 11, 21)


def _twelve(names: str) -> tuple[str, ...]:
    """The twelve month names of a language, January first."""
    months = tuple(names.split())
    assert len(months) == 12
    return months


ENGLISH = _twelve(
    "January February March April May June July August September October November December"
)
ENGLISH_SHORT = _twelve("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec")
RUSSIAN = _twelve(
    "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"
)
RUSSIAN_SHORT = _twelve("янв фев мар апр мая июня июля авг сен окт ноя дек")
DANISH = _twelve(
    "januar februar marts april maj juni juli august september oktober november december"
)
DANISH_SHORT = _twelve("jan. feb. mar. apr. maj jun. jul. aug. sep. okt. nov. dec.")
GERMAN = _twelve(
    "Januar Februar März April Mai Juni Juli August September Oktober November Dezember"
)
GERMAN_SHORT = _twelve("Jan. Feb. Mär. Apr. Mai Jun. Jul. Aug. Sep. Okt. Nov. Dez.")
ORDINAL = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}
Style = Callable[[date], str]


def _named(names: Sequence[str], shape: str) -> Style:
    """A style that writes the month by name: `shape` has {d}, {month}, {th} and {y}."""
    return lambda day: shape.format(
        d=day.day, month=names[day.month - 1], th=ORDINAL.get(day.day, "th"), y=day.year
    )


#: Every style a value's date may take, with its year.
WITH_YEAR: dict[str, Style] = {
    "iso": date.isoformat,
    "slashes": lambda day: f"{day:%Y/%m/%d}",
    "dots": lambda day: f"{day:%d.%m.%Y}",
    "english": _named(ENGLISH, "{d} {month} {y}"),
    "english month first": _named(ENGLISH, "{month} {d} {y}"),
    "english with a comma": _named(ENGLISH, "{month} {d}, {y}"),
    "english ordinal": _named(ENGLISH, "{d}{th} {month} {y}"),
    "english short": _named(ENGLISH_SHORT, "{d} {month} {y}"),
    "english short month first": _named(ENGLISH_SHORT, "{month} {d}, {y}"),
    "russian": _named(RUSSIAN, "{d} {month} {y}"),
    "russian short": _named(RUSSIAN_SHORT, "{d} {month} {y}"),
    "danish": _named(DANISH, "{d}. {month} {y}"),
    "danish without the dot": _named(DANISH, "{d} {month} {y}"),
    "danish short": _named(DANISH_SHORT, "{d}. {month} {y}"),
    "german": _named(GERMAN, "{d}. {month} {y}"),
    "german short": _named(GERMAN_SHORT, "{d}. {month} {y}"),
}
#: The styles a day of this year (up to today) may also take without its year.
THIS_YEAR: dict[str, Style] = {
    "day and month with a dot": lambda day: f"{day:%d.%m}",
    "english": _named(ENGLISH, "{d} {month}"),
    "english short month first": _named(ENGLISH_SHORT, "{month} {d}"),
    "russian": _named(RUSSIAN, "{d} {month}"),
    "danish": _named(DANISH, "{d}. {month}"),
    "german": _named(GERMAN, "{d}. {month}"),
    "german short": _named(GERMAN_SHORT, "{d}. {month}"),
}


def read_after_a_value(written: str) -> tuple[str, date | None, list[str]]:
    """What `1 200 <written> efter kampagne` reads as: the number, the day, the note words."""
    tokens = ["1", "200", *written.split(), "efter", "kampagne"]
    number, after = take_number_tokens(tokens, 0)
    day, after = take_date(tokens, after, TODAY)
    return number, day, tokens[after:]


DAYS = st.dates(min_value=date(2000, 1, 1), max_value=TODAY)


@pytest.mark.parametrize("style", list(WITH_YEAR))
@settings(max_examples=8, deadline=None)
@given(day=DAYS)
def test_any_day_in_any_style_reads_as_that_day(style: str, day: date) -> None:
    written = WITH_YEAR[style](day)
    assert read_after_a_value(written) == ("1200", day, ["efter", "kampagne"]), written


@pytest.mark.parametrize("style", list(THIS_YEAR))
@settings(max_examples=8, deadline=None)
@given(day=st.dates(min_value=date(TODAY.year, 1, 1), max_value=TODAY))
def test_a_day_of_this_year_reads_the_same_without_its_year(style: str, day: date) -> None:
    written = THIS_YEAR[style](day)
    assert read_after_a_value(written) == ("1200", day, ["efter", "kampagne"]), written


@settings(max_examples=15, deadline=None)
@given(back=st.integers(2, (TODAY - date(2000, 1, 1)).days))
@example(back=995)  # three digits: a group of the number, were no date read after it
def test_a_day_counted_back_reads_as_that_day(back: int) -> None:
    day, written = TODAY - timedelta(days=back), f"{back} days ago"
    assert read_after_a_value(written) == ("1200", day, ["efter", "kampagne"]), written


#: Danish and German day words, each beside the English words it means.
DAY_WORDS = (
    ("i dag", "today"),
    ("heute", "today"),
    ("i går", "yesterday"),
    ("gestern", "yesterday"),
    ("i forgårs", "day before yesterday"),
    ("vorgestern", "day before yesterday"),
    ("fredag", "friday"),
    ("Freitag", "friday"),
    ("sidste mandag", "last monday"),
    ("letzten Montag", "last monday"),
    ("am Sonntag", "on sunday"),
    ("søndag", "sunday"),
    ("lørdag", "saturday"),
    ("Mittwoch", "wednesday"),
    ("i morgen", "tomorrow"),  # a future day: the caller refuses it as it refuses `tomorrow`
)


@settings(max_examples=60, deadline=None)
@given(pair=st.sampled_from(DAY_WORDS), today=st.dates(date(2001, 1, 1), TODAY))
def test_a_danish_or_german_day_word_reads_as_its_english_words(
    pair: tuple[str, str], today: date
) -> None:
    """`/kpi set leads 1 200 i går` saved 1 with the note "200 i går": only English and
    Russian day words were read. Now each reads as its English words, on any day."""

    def read(written: str) -> tuple[str, date | None, list[str]]:
        tokens = ["1", "200", *written.split(), "efter", "kampagne"]
        number, after = take_number_tokens(tokens, 0)
        day, after = take_date(tokens, after, today)
        return number, day, tokens[after:]

    theirs, english = read(pair[0]), read(pair[1])
    assert theirs == english, pair
    assert theirs[0] == "1200" and theirs[1] is not None and theirs[2] == ["efter", "kampagne"]


@pytest.mark.parametrize("words", ["am", "sidste", "letzten", "i", "am Ende", "idagens"])
def test_a_day_word_that_names_no_day_stays_in_the_note(words: str) -> None:
    """With no date after it, `1 200` is 1 and the rest its note (the documented rule)."""
    assert read_after_a_value(words) == ("1", None, ["200", *words.split(), "efter", "kampagne"])
