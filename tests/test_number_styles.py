"""Property (trust9): any number written in any supported style reads back as that number,
in a chat whose dots are decimal points and in one whose dots group thousands
(`/numbers 1.234,5`); a lone dot or a lone comma before three digits is the one reading
they differ on."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from handlers.parsing import MINUSES, chat_numbers, dot_reading, parse_number

NBSP = "\u00a0"


def _groups(whole: int, mark: str) -> str:
    """`1234567` grouped in threes with `mark`."""
    return f"{whole:,}".replace(",", mark)


def styles(whole: int, cents: int | None, dots_group: bool) -> list[str]:
    """`whole`.`cents` in every way the README says people type it (and the chat reads)."""
    decimals = "" if cents is None else f"{cents:02d}"
    point, comma = (f".{decimals}", f",{decimals}") if decimals else ("", "")
    out = [
        f"{whole}{point}",  # 1234.5
        f"{_groups(whole, ' ')}{comma}",  # 1 234,5
        f"{_groups(whole, ' ')}{point}",  # 1 234.5
        _groups(whole, NBSP) + comma,  # a no-break space, as spreadsheets copy it
    ]
    if decimals:
        out.append(f"{whole}{comma}")  # 1234,5: a lone comma before two digits is decimal
    if whole >= 1000 and (decimals or whole >= 1_000_000 or dots_group):
        out.append(f"{_groups(whole, '.')}{comma}")  # 1.234,5; `1.234` alone groups only
    if whole >= 1000 and (
        decimals or whole >= 1_000_000 or (whole % 1000 >= 100 and not dots_group)
    ):
        # 1,234.5; `1,023` alone is 1 023 too, but not where a comma is the decimal mark
        out.append(f"{_groups(whole, ',')}{point}")
    return out


numbers = st.tuples(
    st.integers(0, 10**12),
    st.one_of(st.none(), st.integers(1, 99)),
    st.sampled_from(["", "+", "-", *MINUSES]),
)


@given(numbers, st.booleans())
def test_any_number_in_any_supported_style_reads_back(
    number: tuple[int, int | None, str], dots: bool
) -> None:
    whole, cents, sign = number
    exact = Decimal(whole) + (Decimal(cents or 0) / 100)
    expected = float(-exact if sign and sign != "+" else exact)
    with chat_numbers(lambda: dots):
        for text in styles(whole, cents, dots):
            assert parse_number(f"{sign}{text}") == expected, (sign, text, dots)


def _decimal_and_thousand(head: int, tail: int, sign: str) -> tuple[float, float]:
    """`head` and three digits of `tail` read with a decimal mark between them, and as one
    number whose thousands they group; negative with any minus `sign`."""
    unit = -1 if sign else 1
    return float(Decimal(f"{head}.{tail:03d}")) * unit, float(head * 1000 + tail) * unit


@given(st.integers(1, 999), st.integers(0, 999), st.sampled_from(["", "-", "−"]))
def test_a_lone_dot_before_three_digits_reads_as_the_chat_groups_thousands(
    head: int, tail: int, sign: str
) -> None:
    """`14.000` is 14 where dots are decimal points (and the reply says how it was read),
    14 000 where they group thousands (and nothing needs saying)."""
    raw = f"{sign}{head}.{tail:03d}"
    decimal, thousand = _decimal_and_thousand(head, tail, sign)
    with chat_numbers(lambda: False):
        assert parse_number(raw) == decimal
        assert dot_reading(raw, decimal).startswith(f"Read {raw} as ")
    with chat_numbers(lambda: True):
        assert parse_number(raw) == thousand
        assert dot_reading(raw, thousand) == ""


@given(st.integers(1, 999), st.integers(0, 999), st.sampled_from(["", "-", "−"]))
def test_a_lone_comma_before_three_digits_is_a_decimal_mark_where_dots_group(
    head: int, tail: int, sign: str
) -> None:
    """`1,250` is 1 250 where a comma groups thousands, and 1.25 where the chat said a comma
    is its decimal mark (`/numbers 1.234,5`): a Danish team's `2,500` was read as 2 500."""
    raw = f"{sign}{head},{tail:03d}"
    decimal, thousand = _decimal_and_thousand(head, tail, sign)
    with chat_numbers(lambda: False):
        assert parse_number(raw) == thousand
    with chat_numbers(lambda: True):
        assert parse_number(raw) == decimal


MULTIPLIERS = {"k": 1e3, "K": 1e3, "M": 1e6, "млн": 1e6, "bn": 1e9, "%": 1.0}


@given(
    st.one_of(
        numbers.map(lambda n: (n[0] % 10**6, n[1], n[2])),
        st.tuples(st.integers(1, 999), st.integers(0, 999), st.just("")).map(
            lambda n: (n[0], n[1], "lone")
        ),
    ),
    st.booleans(),
    st.sampled_from(sorted(MULTIPLIERS)),
)
def test_a_multiplier_multiplies_the_number_as_the_chat_reads_it(
    number: tuple[int, int | None, str], dots: bool, suffix: str
) -> None:
    """`1,250k` was 1 250 in both styles (the comma read as a decimal mark once a `k`
    followed): a multiplier or a percent sign after a number multiplies it as the chat
    reads the number alone, so `1,250k` is 1 250 000 where a comma groups thousands and
    1 250 where it is the decimal mark (`/numbers 1.234,5`); `1.250k` the other way round."""
    whole, cents, sign = number
    if sign == "lone":
        texts = [f"{whole},{cents:03d}", f"{whole}.{cents:03d}"]
        sign = ""
    else:
        texts = styles(whole, cents, dots)
    with chat_numbers(lambda: dots):
        for text in texts:
            alone = parse_number(f"{sign}{text}")
            assert parse_number(f"{sign}{text}{suffix}") == alone * MULTIPLIERS[suffix], (
                sign,
                text,
                suffix,
                dots,
            )
