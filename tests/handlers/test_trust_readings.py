"""Readings a demanding user still tripped on after session 8 (trust9): each test first
failed with the reply the user got, then passed with the fix."""

from __future__ import annotations

import re

from tests.support import FakeChat

LEADS = '/kpi add leads "Leads" target=2000 perspective=customers'


async def test_a_mute_length_in_mixed_short_and_spelled_parts_is_one_length(
    chat: FakeChat,
) -> None:
    """`/alerts mute cac 1h 30 min` was refused with "Unexpected words: 30 min": a length
    written in parts, short (`1h`) or spelled (`30 min`), in any mix, is one length."""
    await chat.ok(LEADS)
    whole = await chat.ok("/alerts mute leads 1h30m")
    assert whole == (
        "leads muted until 21 Nov 11:30 (UTC) by @anna. Changes are still evaluated and "
        "logged; /alerts unmute leads ends it early."
    )
    for words in ("1h 30 min", "1h 30m", "1 h 30 min", "1 hour 30m", "1ч 30 мин", "1 time 30 min"):
        assert await chat.ok(f"/alerts mute leads {words}") == whole, words
    assert (await chat.error("/alerts mute leads 1h 30 min please")).startswith(
        "Unexpected words: please."
    )


async def test_a_percent_or_a_group_typed_apart_never_joins_a_text_option(chat: FakeChat) -> None:
    """`name=2026 %` renamed the KPI `2026%` (and `unit=20 000` made a unit `20000`): only
    an option whose value is a number takes a `%`, a multiplier or a group typed apart."""
    await chat.ok(LEADS)
    assert await chat.error("/kpi edit leads name=2026 %") == (
        "Unexpected words: %. Usage: /kpi edit <key> field=value…"
    )
    assert (await chat.error("/kpi edit leads unit=20 000")).startswith("Unexpected words: 000.")
    assert (await chat.error("/kpi edit leads owner=2026 k")).startswith("Unexpected words: k.")
    assert "Leads (leads)" in await chat.ok("/kpi leads")
    assert await chat.ok('/kpi edit leads name="2026 %" target=20 000') == (
        "Updated 2026 % (leads): name=2026 %, target=20 000."
    )


async def test_a_word_beside_a_name_option_is_refused_not_taken_for_the_name(
    chat: FakeChat,
) -> None:
    """`/kpi add y name=2026 % target=5` saved a KPI named `%` and dropped `name=`, and
    without a target it suggested `/kpi add y "%" target=100`: `/kpi add` takes its name
    once, in quotes after the key or as `name=`, and refuses words beside the option."""
    assert await chat.error("/kpi add y name=2026 % target=5 perspective=customers") == (
        "Unexpected words: %. Give the KPI name once, in quotes after the key or as name= (in "
        'quotes if it has spaces: name="…"). Nothing was saved.'
    )
    assert await chat.error('/kpi add y "Leads" name=Other target=5') == (
        "Unexpected words: Leads. Give the KPI name once, in quotes after the key or as name= "
        '(in quotes if it has spaces: name="…"). Nothing was saved.'
    )
    assert (await chat.error("/kpi y")).startswith("No KPI 'y'")
    assert await chat.ok('/kpi add y name="2026 %" target=5 perspective=customers') == (
        "Saved KPI 2026 % (y): target=5."
    )


async def test_a_word_after_a_quoted_name_is_refused_not_joined(chat: FakeChat) -> None:
    """`/kpi add leads "Leads" x target=100` saved a KPI named "Leads x": the quotes say
    where the name ends, so a stray word after them is refused and nothing is saved."""
    assert await chat.error('/kpi add leads "Leads" x target=100 perspective=customers') == (
        '"x" follows the quoted name "Leads": put the whole name in quotes '
        '("Leads x") or leave the word out. Nothing was saved.'
    )
    assert (await chat.error("/kpi leads")).startswith("No KPI 'leads'")
    assert (
        await chat.error('/objective add reach "Reach more people" now perspective=customers')
    ).startswith('"now" follows the quoted name "Reach more people"')
    assert await chat.ok("/kpi add leads Leads per month target=100 perspective=customers") == (
        "Saved KPI Leads per month (leads): target=100."
    )


async def test_a_negative_log_may_not_take_a_count_below_zero(chat: FakeChat) -> None:
    """`/log articles -5` with nothing logged this month replied "−5 of 4 this month": a
    count of work done can't be negative, so a correction beyond what was logged is refused,
    saying the total, and nothing is logged."""
    await chat.ok('/initiative add articles "Articles" cadence=4/month')
    await chat.ok('/initiative add guest "Guest posts"')
    await chat.ok("/log articles +2")
    assert await chat.error("/log articles -5") == (
        "−5 would take Articles below zero: 2 logged this month. Nothing was logged; "
        "to take back an entry of an earlier month: /initiative unlog articles <#>."
    )
    assert await chat.error("#articles -1 #articles -2") == (
        "−2 would take Articles below zero: 1 logged this month. Nothing was logged; "
        "to take back an entry of an earlier month: /initiative unlog articles <#>."
    )
    assert await chat.error("/log guest −1") == (
        "−1 would take Guest posts below zero: 0 logged. Nothing was logged."
    )
    assert await chat.ok("/log articles -2 typo") == (
        "Logged −2 on Articles. 0 of 4 this month, 10 days left."
    )
    assert "2 of 4" not in await chat.ok("/initiatives")


async def test_removing_an_entry_may_not_take_a_count_below_zero_either(chat: FakeChat) -> None:
    """`/log` refuses a correction below zero, yet `/initiative unlog` of the +2 a later −2
    corrected left Articles at −2 logged (reread9): the same rule now refuses the removal,
    over the entry's own period, and nothing is removed; the correction goes first."""
    await chat.ok('/initiative add articles "Articles" cadence=4/month')
    await chat.ok('/initiative add guest "Guest posts"')
    await chat.ok("/log articles +2")
    await chat.ok("/log articles -2 typo")
    await chat.ok("/log guest +1")
    await chat.ok("/log guest -1")
    assert await chat.error("/initiative unlog articles 1") == (
        "Removing #1 (+2) would take Articles below zero: 0 logged this month, −2 without "
        "it. Nothing was removed; remove the correction first (/initiative articles)."
    )
    assert await chat.error("/initiative unlog guest 1") == (
        "Removing #1 (+1) would take Guest posts below zero: 0 logged, −1 without it. "
        "Nothing was removed; remove the correction first (/initiative guest)."
    )
    assert "+2" in await chat.ok("/initiative articles")
    assert (await chat.ok("/initiative unlog articles 2")).startswith("Removed entry #2")
    assert (await chat.ok("/initiative unlog articles 1")).startswith("Removed entry #1")


async def test_danish_i_fredags_is_last_friday_and_paa_fredag_the_coming_one(
    chat: FakeChat,
) -> None:
    """`/kpi set leads 5 i fredags` (Danish for "last Friday") saved 5 for today with the note
    "i fredags", and `på fredag` (the coming Friday) was kept as a note too: both are read,
    the coming Friday refused as the future; German `morgen` stays a word (it is also
    "morning")."""
    await chat.ok(LEADS)  # today is Saturday 2026-11-21
    assert await chat.ok("/kpi set leads 5 i fredags efter kampagnen") == (
        "Saved Leads = 5 for 2026-11-20 (🔴 red, progress 0%)."
    )
    assert "for 2026-11-16 (" in await chat.ok("/kpi set leads 6 i mandags")
    assert await chat.error("/kpi set leads 7 på fredag") == (
        "2026-11-27 is in the future"
        " (today is 2026-11-21 in this chat's timezone); only today or earlier can be recorded."
    )
    assert await chat.ok("/kpi set leads 8 morgen") == ("Saved Leads = 8 (🔴 red, progress 0%).")
    assert "efter kampagnen" in await chat.ok("/kpi history leads")


async def test_an_import_says_how_it_read_a_lone_dot_value(chat: FakeChat) -> None:
    """`/kpi import` read `leads 14.000` as 14 with no word, where `/kpi set` says how: the
    preview now lists each such line with the same sentence (one rule, parsing.dot_reading),
    unless the KPI's other values say the reading fits."""
    await chat.ok(LEADS)
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    preview = await chat.ok(
        "/kpi import\nleads 14.000 2026-11-01\ncac 95.500 2026-11-02\ncac 90 2026-11-03\n"
        "leads 1200 2026-11-04\nleads 15.000 2026-11-05"
    )
    assert re.sub("[0-9a-f]{8}]", "00000000]", preview) == (
        "Import preview: 5 values for 2 KPIs\n"
        "Leads (leads) ×3: 14 (2026-11-01), 1 200 (2026-11-04), 15 (2026-11-05)\n"
        "CAC (cac) ×2: 95.5 (2026-11-02), 90 (2026-11-03)\n"
        "Line 1: read 14.000 as 14 (a lone dot is a decimal point): write 14000 if you "
        "meant 14 000.\n"
        "Line 5: read 15.000 as 15 (a lone dot is a decimal point): write 15000 if you "
        "meant 15 000.\n"
        "Nothing is saved until you apply (valid for a day).\n"
        "[Apply import: /kpi import apply 00000000]  [Cancel: /kpi import cancel 00000000]"
    )


async def test_a_chat_that_groups_thousands_with_dots_reads_1_200_as_1200(chat: FakeChat) -> None:
    """A Danish team's `1.200` was read as 1.2 whatever the chat: there was no setting to
    say how it writes numbers. `/numbers 1.234,5` says a dot groups thousands there: a lone
    dot before three digits is a thousand (`1.200` is 1 200), in values and options alike;
    a dot before any other number of digits is still a decimal point."""
    await chat.ok(LEADS)
    assert await chat.ok("/numbers") == (
        "Numbers here: a dot is the decimal point (1,234.5), so 1.200 is 1.2. Where a dot "
        "groups thousands: /numbers 1.234,5"
    )
    assert await chat.ok("/numbers 1.234,5") == (
        "Numbers here: a dot groups thousands and a comma is the decimal mark (1.234,5), so "
        "1.200 is 1 200."
    )
    assert await chat.ok("/kpi set leads 1.200") == (
        "Saved Leads = 1 200 (🟡 yellow, progress 60%)."
    )
    assert await chat.ok("/kpi edit leads target=2.500 baseline=12.5") == (
        "Updated Leads (leads): target=2 500, baseline=12.5."
    )
    assert await chat.ok("/kpi edit leads baseline=1,250") == (  # the comma: decimal mark
        "Updated Leads (leads): baseline=1.25."
    )
    assert (await chat.error("/numbers danish")).startswith(
        "'danish' is not a number style: use /numbers 1.234,5"
    )
    assert "1,234.5" in await chat.ok("/numbers 1,234.5")
    assert await chat.ok("/kpi set leads 14.000 2026-11-20") == (
        "Saved Leads = 14 for 2026-11-20 (🔴 red, progress 0%). An older date: the latest "
        "value is unchanged.\n"
        "Read 14.000 as 14 (a lone dot is a decimal point): write 14000 if you meant 14 000."
    )
