"""The shared argument grammar: numbers, dates, keys, quotes and options."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.contract import Actor, ChatRef, Command, UsageError
from handlers.parsing import (
    command_from_text,
    dot_reading,
    normalize_key,
    parse_date,
    parse_number,
    split_options,
    split_quoted,
    take_number_tokens,
    tokenize,
)

ACTOR = Actor(platform="console", user_id="u", display_name="U")
CHAT = ChatRef(platform="console", chat_id="c")
NOW = datetime(2026, 11, 21, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw, value",
    [
        ("12.5", 12.5),
        ("12,5", 12.5),
        ("10 000", 10000),
        ("10\u00a0000", 10000),
        ("10k", 10000),
        ("1.2M", 1_200_000),
        ("35%", 35),
        ("-3", -3),
        ("–95", -95),  # an en dash
        ("−1 000", -1000),  # the minus sign replies use
        ("－2,5", -2.5),  # a fullwidth hyphen-minus
        ("+7", 7),
        ("0,125", 0.125),
        ("1,234.5", 1234.5),
        ("1,000", 1000),
        ("2bn", 2e9),
        ("1,5к", 1500),
    ],
)
def test_numbers_are_read_the_way_people_type_them(raw: str, value: float) -> None:
    assert parse_number(raw) == pytest.approx(value)


@settings(max_examples=300, deadline=None)
@given(raw=st.from_regex(r"[+-]?\d{1,18}(?:\.\d{1,18})?", fullmatch=True))
def test_a_plain_signed_number_reads_as_the_general_rules_read_it(raw: str) -> None:
    """`+1` (every hashtag's amount) takes the fast path; a trailing space forces the general
    rules, which must agree, refusals included."""
    try:
        fast: float | str = parse_number(raw)
    except UsageError as exc:
        fast = str(exc)
    try:
        general: float | str = parse_number(raw + " ")
    except UsageError as exc:
        general = str(exc).replace(f"'{raw} '", f"'{raw}'")
    assert fast == general


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "1e5", "abc", "", "12.5.1", "5x"])
def test_non_numbers_are_refused(raw: str) -> None:
    with pytest.raises(UsageError):
        parse_number(raw)


def test_space_grouped_numbers_are_glued_back() -> None:
    assert take_number_tokens(("10", "000", "2026-01-01"), 0) == ("10000", 2)
    assert take_number_tokens(("5", "note"), 0) == ("5", 1)


def test_typographic_and_unbalanced_quotes() -> None:
    assert tokenize("add x “Лиды за месяц” target=5") == ("add", "x", "Лиды за месяц", "target=5")
    with pytest.raises(UsageError, match="Unbalanced quote"):
        tokenize('add x "oops')


@pytest.mark.parametrize("raw", ["2026-02-30", "2026-13-01", "2026-1-1x", "yesterdayish"])
def test_bad_dates_are_refused(raw: str) -> None:
    with pytest.raises(UsageError):
        parse_date(raw, date(2026, 11, 21))


def test_relative_dates() -> None:
    assert parse_date("yesterday", date(2026, 11, 21)) == date(2026, 11, 20)


def test_keys_are_case_insensitive_and_any_script() -> None:
    assert normalize_key("CAC") == "cac"
    assert normalize_key("Лиды") == "лиды"
    with pytest.raises(UsageError):
        normalize_key("bad key!")


def test_unknown_option_suggests_the_closest() -> None:
    with pytest.raises(UsageError, match="Did you mean target"):
        split_options(["targte=5"], ["target", "baseline"])


def test_command_addressed_to_another_bot_is_ignored() -> None:
    def parse(text: str) -> Command | None:
        return command_from_text(
            text, actor=ACTOR, chat=CHAT, received_at=NOW, bot_username="ScoreBot"
        )

    assert parse("/kpi@OtherBot") is None
    cmd = parse("/KPI@scorebot set cac 5")
    assert cmd is not None and cmd.name == "kpi" and cmd.text == "set cac 5"


def test_hashtag_becomes_a_log_command() -> None:
    cmd = command_from_text("#articles +1 published", actor=ACTOR, chat=CHAT, received_at=NOW)
    assert cmd is not None and (cmd.name, cmd.text, cmd.via) == (
        "log",
        "articles +1 published",
        "hashtag",
    )
    assert command_from_text("just chatting", actor=ACTOR, chat=CHAT, received_at=NOW) is None


@pytest.mark.parametrize(
    ("raw", "name", "text"),
    [
        ("\u200b/kpi", "kpi", ""),  # pasted with a zero-width space before it
        ("\ufeff/kpi set cac 5", "kpi", "set cac 5"),  # a byte-order mark
        ("\u2060/help kpi\u200b", "help", "kpi"),  # a word joiner; a mark at the end
        ("/kpi\u200b set cac 5", "kpi", "set cac 5"),  # a mark inside the command word
        ("/k\u00adpi", "kpi", ""),  # a soft hyphen
        ("/kpi\x00", "kpi", ""),  # a control character
        ("/\x00", "", ""),  # nothing left: the router says how a command is written
    ],
)
def test_unseen_marks_around_and_inside_the_command_word_are_read_without(
    raw: str, name: str, text: str
) -> None:
    cmd = command_from_text(raw, actor=ACTOR, chat=CHAT, received_at=NOW)
    assert cmd is not None and (cmd.name, cmd.text) == (name, text)


def test_a_hashtag_pasted_after_a_zero_width_space_still_logs() -> None:
    cmd = command_from_text("\u200b#articles +1", actor=ACTOR, chat=CHAT, received_at=NOW)
    assert cmd is not None and (cmd.name, cmd.text) == ("log", "articles +1")


def test_an_emoji_ending_a_message_keeps_its_variation_selector() -> None:
    cmd = command_from_text('/kpi add love "Love ❤️"', actor=ACTOR, chat=CHAT, received_at=NOW)
    assert cmd is not None and cmd.text == 'add love "Love ❤️"'


_TYPED = st.text(
    alphabet=st.sampled_from(list("ab 1.,\t\n\r\x0b\u00a0\u2009\x00\"'“”„«»é")), max_size=30
)


@settings(max_examples=300)
@given(_TYPED)
def test_a_text_without_quotes_splits_as_the_full_splitter_splits_it(text: str) -> None:
    try:
        expected = split_quoted(text)
    except UsageError:
        with pytest.raises(UsageError):
            tokenize(text)
        return
    assert tokenize(text) == expected


@pytest.mark.parametrize(
    "raw, said",
    [
        (
            "14.000",
            "Read 14.000 as 14 (a lone dot is a decimal point): write 14000 if you meant 14 000.",
        ),
        (
            "-1.500",
            "Read -1.500 as −1.5 (a lone dot is a decimal point): "
            "write -1500 if you meant −1 500.",
        ),
        (
            "+2.250",
            "Read +2.250 as 2.25 (a lone dot is a decimal point): write 2250 if you meant 2 250.",
        ),
        (
            "–14.000",
            "Read –14.000 as −14 (a lone dot is a decimal point): "
            "write -14000 if you meant −14 000.",
        ),
        ("0.125", ""),  # a thousand is never written with a leading zero
        ("14.0001", ""),
        ("14.00", ""),
        ("1.000.000", ""),
        ("1 000", ""),
        ("1,000", ""),
    ],
)
def test_only_a_lone_dot_before_three_digits_says_how_it_was_read(raw: str, said: str) -> None:
    assert dot_reading(raw, parse_number(raw)) == said


@pytest.mark.parametrize(
    "tokens, options, positional",
    [
        (["target=5", "%"], {"target": "5%"}, []),
        (["target=-1,5", "млн"], {"target": "-1,5млн"}, []),
        (["staged=2027Q1:10", "k"], {"staged": "2027Q1:10k"}, []),
        (["name=Q4", "%"], {"name": "Q4"}, ["%"]),
        (["name=Q4", "k"], {"name": "Q4"}, ["k"]),
        (["unit=m2", "%"], {"unit": "m2"}, ["%"]),
    ],
)
def test_a_sign_typed_apart_joins_only_an_option_that_is_a_number(
    tokens: list[str], options: dict[str, str], positional: list[str]
) -> None:
    assert split_options(tokens, ("target", "staged", "name", "unit")) == (positional, options)


@pytest.mark.parametrize(
    "raw, recent, said",
    [
        ("14.000", [1200.0], True),  # 14 is 86× from 1 200, 14 000 only 12×
        ("14.000", [0.0], True),  # nothing to compare with but zeros
        ("15.500", [14.0], False),  # 15.5 is the nearer
        ("2.500", [2.4, 900.0], False),  # near one of them is enough
        ("-1.500", [-1400.0], True),  # sizes, whatever the sign
    ],
)
def test_a_lone_dot_reading_is_said_when_the_thousand_fits_the_recent_values_better(
    raw: str, recent: list[float], said: bool
) -> None:
    assert bool(dot_reading(raw, parse_number(raw), recent)) is said
