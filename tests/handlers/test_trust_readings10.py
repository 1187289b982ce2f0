"""Readings a demanding user still tripped on after session 9 (trust10): each test first
failed with the reply the user got, then passed with the fix."""

from __future__ import annotations

from tests.support import FakeChat

CONV = '/kpi add conv "Conversion" baseline=10 perspective=customers target=40'


async def test_a_percent_after_a_kpi_number_makes_a_kpi_without_a_unit_a_percent_kpi(
    chat: FakeChat,
) -> None:
    """`target=40 %` saved target=40 and dropped the `%` without a word: a KPI without a
    unit takes `%` from it, and the reply says so."""
    assert await chat.ok(f"{CONV} %") == (
        "Saved KPI Conversion (conv): baseline=10, target=40, unit=% (from the % after 40)."
    )
    assert chat.core.store.kpis.get(chat.chat.key, "conv").unit == "%"  # type: ignore[union-attr]
    assert await chat.ok("/kpi edit conv target=45%") == "Updated Conversion (conv): target=45."
    await chat.ok('/kpi add leads "Leads" target=200 perspective=customers')
    assert await chat.ok("/kpi edit leads target=50 %") == (
        "Updated Leads (leads): target=50, unit=% (from the % after 50)."
    )


async def test_a_percent_after_a_number_of_a_kpi_in_another_unit_is_refused(
    chat: FakeChat,
) -> None:
    """A `%` on a KPI counted in € can't be read as its unit: refused, nothing saved."""
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 unit=€ perspective=finance')
    refusal = (
        "target=70% has a % sign, but CAC is counted in €: write target=70, or unit=% if "
        "it is a percentage now. Nothing was saved."
    )
    assert await chat.error("/kpi edit cac target=70%") == refusal
    assert await chat.error('/kpi add cac2 "CAC" target=70% unit=€ perspective=finance') == (
        refusal.replace("CAC is counted", "the KPI is counted")
    )
    cac = chat.core.store.kpis.get(chat.chat.key, "cac")
    assert cac is not None and cac.target == 80
    assert chat.core.store.kpis.get(chat.chat.key, "cac2") is None


async def test_a_mute_length_with_a_decimal_mark_is_read(chat: FakeChat) -> None:
    """`/alerts mute a 1,5 h` said "Unexpected words: h" and `1.5h` "not a duration": a
    length with a decimal mark (either one) is read, to the minute."""
    await chat.ok('/kpi add leads "Leads" target=200 perspective=customers')
    whole = await chat.ok("/alerts mute leads 1h30m")
    for words in ("1,5 h", "1.5h", "1,5h", "1.5 hours", "1,5 timer", "0,25 h 1 h 15 min"):
        assert await chat.ok(f"/alerts mute leads {words}") == whole, words
    assert await chat.error("/alerts mute leads 1,5 h x") == (
        "Unexpected words: x. Usage: /alerts mute <kpi|all> <duration: 30m, 2h, 1d, 1w>"
    )


async def test_1_250k_is_a_million_and_a_quarter_where_a_comma_groups_thousands(
    chat: FakeChat,
) -> None:
    """`1,250k` read as 1 250 in both number styles: it is 1 250 000 where a comma groups
    thousands, and 1 250 where the comma is the chat's decimal mark."""
    assert await chat.ok('/kpi add rev "Revenue" target=1,250k perspective=finance') == (
        "Saved KPI Revenue (rev): target=1 250 000."
    )
    await chat.ok("/numbers 1.234,5")
    assert await chat.ok('/kpi add leads "Leads" target=1,250k perspective=finance') == (
        "Saved KPI Leads (leads): target=1 250."
    )


async def test_a_check_in_says_how_it_read_a_lone_dot_value(chat: FakeChat) -> None:
    """`/okr checkin` read `14.000` as 14 without a word, where `/kpi set` says how it read
    it: the same line, from the same rule (parsing.dot_reading), and none where the chat's
    dots group thousands."""
    await chat.ok('/okr add grow "Grow"')
    await chat.ok('/okr kr grow subs "Subscribers" start=0 target=1000')
    assert await chat.ok("/okr checkin subs 14.000") == (
        "Checked in Subscribers: 14 (target 1 000).\n"
        "Read 14.000 as 14 (a lone dot is a decimal point): write 14000 if you meant 14 000.\n"
        "Progress: 1%\nGrade: 0.0"
    )
    assert await chat.ok("/okr checkin subs 15.500") == (
        "Checked in Subscribers: 15.5 (target 1 000).\nProgress: 1%\nGrade: 0.0"
    )  # after 14, 15.5 is the nearer reading: nothing to say
    await chat.ok("/numbers 1.234,5")
    assert await chat.ok("/okr checkin subs 1.000") == (
        "Checked in Subscribers: 1 000 (target 1 000).\nProgress: 100%\nGrade: 1.0"
    )
