"""A number whose thousands groups are not groups of three (`9,5,0`) is refused, not read as 950.

Well-formed groupings keep working: `1,000`, `1,234,567`, `1.234,5`, `1,234.5`, and the
Indian `1,00,000`; dots group as commas do (`1.234.567`, as Danes and Germans write it).
"""

from __future__ import annotations

import pytest

from handlers.contract import UsageError
from handlers.parsing import parse_number
from tests.support import FakeChat


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("1,000", 1000.0),
        ("1,234,567", 1234567.0),
        ("-1,234,567.5", -1234567.5),
        ("1,234.5", 1234.5),
        ("1.234,5", 1234.5),
        ("1.234.567,25", 1234567.25),
        ("12,345.5k", 12345500.0),
        ("1,00,000", 100000.0),
        ("12,34,567", 1234567.0),
        ("1,5", 1.5),
        ("0,500", 0.5),
        ("1.234.567", 1234567.0),
        ("-12.000.000", -12000000.0),
        ("1.00.000", 100000.0),
    ],
)
def test_well_formed_groupings_read_as_before(typed: str, value: float) -> None:
    assert parse_number(typed) == value


@pytest.mark.parametrize(
    "typed",
    [
        *("9,5,0", "1,2345,678", "12,34.5", "1,23,45", "1.23,5", "1,0000.5", ",123,456"),
        *("9.5.0", "1.2345.678", "1.234.56"),
    ],
)
def test_a_malformed_grouping_is_refused_with_the_rule(typed: str) -> None:
    with pytest.raises(UsageError) as refused:
        parse_number(typed, "cac")
    assert str(refused.value) == (
        f"'{typed}' is not a number for cac: thousands go in groups of three "
        "(1,234,567 or 1 234 567); decimals take one mark (12.5 or 12,5)"
    )


async def test_the_chat_refuses_it_and_keeps_the_value(chat: FakeChat) -> None:
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 unit=$ perspective=finance')
    await chat.ok("/kpi set cac 95")
    assert await chat.error("/kpi set cac 9,5,0") == (
        "'9,5,0' is not a number for cac: thousands go in groups of three "
        "(1,234,567 or 1 234 567); decimals take one mark (12.5 or 12,5)"
    )
    assert "2026-11-21   95 $  @anna" in await chat.ok("/kpi history cac")


@pytest.mark.parametrize("typed", ["30.11.2026", "30.11.26"])
def test_a_date_where_the_value_goes_is_not_a_number_as_before(typed: str) -> None:
    """A dotted date typed without a value is refused as not a number, not as a bad grouping."""
    with pytest.raises(UsageError) as refused:
        parse_number(typed, "traffic")
    assert str(refused.value) == (
        f"'{typed}' is not a number for traffic: try 12.5, 12,5, 10 000, 10k or 35%"
    )


async def test_a_dotted_grouping_is_saved_as_the_whole_number(chat: FakeChat) -> None:
    await chat.ok('/kpi add reach "Reach" target=2000000 unit=people perspective=customers')
    assert await chat.ok("/kpi set reach 1.234.567") == (
        "Saved Reach = 1 234 567 people (🟡 yellow, progress 61%)."
    )
