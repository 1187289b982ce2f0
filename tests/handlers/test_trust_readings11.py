"""Readings a demanding user still tripped on after session 10 (probe11): each test first
failed with the reply the user got, then passed with the fix."""

from __future__ import annotations

import pytest

from tests.handlers.test_files import send_file
from tests.support import FakeChat

CAC = '/kpi add cac "CAC" baseline=120 target=80 unit=€ perspective=finance'


async def test_a_percent_glued_between_a_value_and_its_unit_gets_the_percent_line(
    chat: FakeChat,
) -> None:
    """`/kpi set cac 40%€` said "'40%€' is not a number": the `%` is what is wrong, so the
    `%` line is said, as for `40%`; nothing is saved."""
    await chat.ok(CAC)
    line = (
        "40% has a % sign, but CAC is counted in €: write 40, or make it a percentage first: "
        "/kpi edit cac unit=%"
    )
    assert await chat.error("/kpi set cac 40%€") == line
    assert await chat.error("/kpi set cac €40%") == line
    assert not chat.core.store.kpis.latest_docs(chat.chat.key, "cac")


@pytest.mark.parametrize(
    "typed, line",
    [
        (
            "11/30/2026",
            "'11/30/2026' is not a date: slashes put the day first in some countries and the "
            "month first in others, so write it as 2026-11-30",
        ),
        (
            "30/11/2026",
            "'30/11/2026' is not a date: slashes put the day first in some countries and the "
            "month first in others, so write it as 2026-11-30",
        ),
        (
            "11/05/2026",
            "'11/05/2026' is not a date: slashes put the day first in some countries and the "
            "month first in others, so write it as 2026-11-05 or 2026-05-11",
        ),
    ],
)
async def test_a_date_with_slashes_is_refused_with_the_date_it_can_be(
    chat: FakeChat, typed: str, line: str
) -> None:
    """`/kpi set cac 95 11/30/2026` got only the formats, though 30 cannot be a month: the
    refusal names the day(s) the slashes can mean, in the form that is read."""
    await chat.ok(CAC)
    assert await chat.error(f"/kpi set cac 95 {typed}") == line
    assert not chat.core.store.kpis.latest_docs(chat.chat.key, "cac")


async def test_a_repeat_with_a_decimal_mark_is_read_like_a_mute(chat: FakeChat) -> None:
    """`/alerts set repeat=1,5h` said "not a duration" while `/alerts mute cac 1,5 h`
    was read: a rule's length takes the decimal mark (either one) too."""
    whole = await chat.ok("/alerts set repeat=1h30m")
    for typed in ("1,5h", "1.5h", "90m"):
        assert await chat.ok(f"/alerts set repeat={typed}") == whole, typed


@pytest.mark.parametrize(
    "typed, line",
    [
        ("2,5 m", "'2,5 m' is 2.5 minutes: a length is kept in whole minutes, so write 2m or 3m."),
        (
            "1,999 h",
            "'1,999 h' is 119.94 minutes: a length is kept in whole minutes, so write 1h59m "
            "or 2h.",
        ),
        ("0.01h", "'0.01h' is 0.6 minutes: a length is kept in whole minutes, so write 1m."),
        (  # whole parts beside it count (`_refuse_part_minutes` reads them)
            "1h 2,5 m",
            "'1h 2,5 m' is 62.5 minutes: a length is kept in whole minutes, so write 1h2m "
            "or 1h3m.",
        ),
    ],
)
async def test_a_mute_length_that_is_not_whole_minutes_is_refused_not_rounded(
    chat: FakeChat, typed: str, line: str
) -> None:
    """`2,5 m` muted for 2 minutes (rounded half to even, without a word) and `1,999 h`
    said "Unexpected words: h": a length that is not whole minutes is refused with the two
    nearest; nothing is muted."""
    await chat.ok(CAC)
    assert await chat.error(f"/alerts mute cac {typed}") == line
    assert chat.core.store.alerts.settings(chat.chat.key).mutes == ()
    assert await chat.error("/alerts set repeat=1,999h") == (
        "'1,999h' is 119.94 minutes: a length is kept in whole minutes, so write 1h59m or 2h."
    )  # 7 196.4 seconds: not whole seconds either


async def test_a_percent_after_a_key_results_number_is_its_unit_or_refused(
    chat: FakeChat,
) -> None:
    """`/okr kr … start=40% target=60%` saved 40 → 60 without a unit, the `%` dropped
    without a word (and beside `unit=€` too): a key result follows the KPI's `%` rule. One
    without a unit takes `%` from it; one counted in another unit, or with one typed beside
    it, is refused and nothing is saved."""
    await chat.ok('/okr add grow "Grow"')
    assert await chat.ok('/okr kr grow nps "NPS" start=40% target=60%') == (
        "Saved key result NPS (nps) of grow: 40 → 60%."
    )
    assert await chat.error('/okr kr grow eur "Eur" start=40% target=60 unit=€') == (
        "start=40% has a % sign, but unit=€ is typed with it: write start=40, or unit=% if "
        "it is a percentage. Nothing was saved."
    )
    assert chat.core.store.okrs.key_result(chat.chat.key, "eur") is None
    await chat.ok('/okr kr grow eur "Eur" start=40 target=60 unit=€')
    assert await chat.error("/okr kr edit eur target=70%") == (
        "target=70% has a % sign, but Eur is counted in €: write target=70, or unit=% if "
        "it is a percentage now. Nothing was saved."
    )
    await chat.ok('/okr kr grow rate "Rate" start=40 target=60')
    assert await chat.ok("/okr kr edit rate start=45 %") == (
        "Updated key result Rate (rate): start=45, unit=% (from the % after 45)."
    )
    krs = {
        kr.key: (kr.start, kr.target, kr.unit)
        for kr in chat.core.store.okrs.key_results(chat.chat.key)
    }
    assert krs == {"nps": (40, 60, "%"), "eur": (40, 60, "€"), "rate": (45, 60, "%")}


async def test_a_percent_in_a_value_sheet_follows_the_value_rule(chat: FakeChat) -> None:
    """A hand-made value sheet with `40%` for a € KPI was read as 40 €, the `%` dropped
    without a word (`exchange_check._value`): the import is refused with the `%` line, as
    `/kpi set` and `/kpi import` refuse it, and nothing changes; on a `%` KPI it is the
    value."""
    await chat.ok(CAC)
    await chat.ok('/kpi add conv "Conversion" target=40 unit=% perspective=customers')
    sheet = b"kpi,date,value\ncac,2026-11-20,40%\nconv,2026-11-20,35 %\n"
    reply = (await send_file(chat, sheet, "values.csv"))[0]
    assert (reply.kind, reply.plain()) == (
        "error",
        "Import refused, nothing was changed: 1 problem\n"
        "line 2, value: 40% has a % sign, but CAC is counted in €: write 40, or make it a "
        "percentage first: /kpi edit cac unit=%",
    )
    reply = (await send_file(chat, sheet.replace(b"40%", b"40"), "values.csv"))[0]
    assert reply.kind == "answer", reply.plain()
    await chat.ok(reply.buttons[0].command)
    kpis = chat.core.store.kpis
    assert [m.value for key in ("cac", "conv") for m in kpis.history(chat.chat.key, key)] == [
        40,
        35,
    ]


@pytest.mark.parametrize(
    "zone, said",
    [
        (
            "EST",
            "Timezone set to EST: UTC−5 all year, without summer time. New York's clock is "
            "/timezone America/New_York.",
        ),
        (
            "mst",
            "Timezone set to MST: UTC−7 all year, without summer time. Denver's clock is "
            "/timezone America/Denver (Phoenix's is MST's).",
        ),
        (
            "Etc/GMT+3",
            "Timezone set to Etc/GMT+3: UTC−3 all year, without summer time (an Etc/GMT name "
            "counts the hours the other way round).",
        ),
        ("Europe/Berlin", "Timezone set to Europe/Berlin."),
        ("UTC", "Timezone set to UTC."),
        ("Asia/Kolkata", "Timezone set to Asia/Kolkata."),
    ],
)
async def test_a_zone_that_never_moves_its_clock_says_so(
    chat: FakeChat, zone: str, said: str
) -> None:
    """`/timezone EST` answered "Timezone set to EST.": a New York team's digests then ran an
    hour late all summer, as EST never moves (and `Etc/GMT+3` is UTC−3). A legacy or Etc/
    zone with a fixed offset other than UTC says so, and names the city's clock."""
    assert await chat.ok(f"/timezone {zone}") == said


async def test_a_rule_length_with_a_decimal_mark_may_be_whole_seconds(chat: FakeChat) -> None:
    """A rule's length takes seconds (`group=90s`), so `group=1,5m` is 90 seconds, not
    refused as "kept in whole minutes" as a mute's length is."""
    whole = await chat.ok("/alerts set group=90s")
    assert await chat.ok("/alerts set group=1,5m") == whole
    assert await chat.ok("/alerts set group=2,25m") == whole.replace("group 90s", "group 135s")
    assert await chat.error("/alerts set group=0,5m") == (
        "group lasts from 1 minute to 90 days, e.g. group=60s (group=0 sends at once)"
    )
    assert await chat.error("/alerts set group=0,0001m") == (
        "'0,0001m' is 0.0001 minutes: a length is kept in whole minutes, so write 1m."
    )
