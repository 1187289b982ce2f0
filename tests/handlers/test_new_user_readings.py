"""Values and dates typed as a new marketing team types them, read as they meant.

Each test reproduces one defect found by using the bot end to end (session 7, probe7):
first failing, then fixed.
"""

from __future__ import annotations

from tests.support import FakeChat

LEADS = '/kpi add leads "Leads" target=2000 perspective=customers'


async def test_a_space_grouped_value_before_a_date_in_words_is_one_number(
    chat: FakeChat,
) -> None:
    """`1 234,5 5 ноября` was saved as 1 for today, with `234,5 5 ноября` as its note."""
    await chat.ok(LEADS)
    assert await chat.ok("/kpi set leads 1 234,5 5 ноября") == (
        "Saved Leads = 1 234.5 for 2026-11-05 (🟡 yellow, progress 61%)."
    )
    assert "Saved Leads = 1 500 for 2026-11-03 (" in await chat.ok(
        "/kpi set leads 1 500 3 nov after the webinar"
    )
    assert "Saved Leads = 15 (" in await chat.ok("/kpi set leads 15 100 new leads")


async def test_a_danish_day_with_a_dot_before_the_month_name_is_a_date(chat: FakeChat) -> None:
    """`3. nov` (how Danes write 3 November) was kept as the note of a value saved for today."""
    await chat.ok(LEADS)
    assert await chat.ok("/kpi set leads 1200 3. nov") == (
        "Saved Leads = 1 200 for 2026-11-03 (🟡 yellow, progress 60%)."
    )
    assert "for 2026-11-05 (" in await chat.ok("/kpi set leads 1250 5. november efter kampagnen")
    assert "efter kampagnen" in await chat.ok("/kpi history leads")


async def test_a_percent_sign_typed_apart_from_the_number_belongs_to_it(chat: FakeChat) -> None:
    """`target=5 %` (a space before %, as Russians and Danes type it) put the `%` into the
    KPI's name, and `/okr checkin … 66 % после опроса` kept `%` in the check-in's note.
    (trust10: the `%` also makes the unit-less KPI a `%` KPI, and the reply says so.)"""
    assert (
        await chat.ok(
            '/kpi add ctr "Click-through rate" target=5 % baseline=2 perspective=customers'
        )
        == "Saved KPI Click-through rate (ctr): target=5, baseline=2, unit=% (from the % after 5)."
    )
    assert await chat.ok("/kpi set ctr 3,5 % после рассылки") == (
        "Saved Click-through rate = 3.5% (🟡 yellow, progress 50%)."
    )
    assert "после рассылки" in await chat.ok("/kpi history ctr")
    assert "% после" not in await chat.ok("/kpi history ctr")
    await chat.ok('/okr add delight "Delight our customers"')
    await chat.ok('/okr kr delight retention "Keep customers" start=60 target=75 unit=%')
    assert await chat.ok("/okr checkin retention 66 % после опроса") == (
        "Checked in Keep customers: 66% (target 75%).\nProgress: 40%\nGrade: 0.4"
    )
    assert "после опроса" in await chat.ok("/okr kr history retention")
    assert "% после" not in await chat.ok("/okr kr history retention")


async def test_an_edit_reply_shows_numbers_as_they_were_read(chat: FakeChat) -> None:
    """`/kpi edit … target=1.000` (a Dane's thousand; a lone dot is a decimal point here) was
    echoed as typed, `target=1.000`, hiding that 1 was stored: the reply now says `target=1`."""
    await chat.ok(LEADS)
    assert await chat.ok("/kpi edit leads target=1.000 weight=2,5 owner=anna") == (
        "Updated Leads (leads): target=1, weight=2.5, owner=anna."
    )
    assert await chat.ok("/kpi edit leads target=20 000") == (
        "Updated Leads (leads): target=20 000."
    )


async def test_a_multiplier_typed_apart_in_an_option_belongs_to_the_number(chat: FakeChat) -> None:
    """`target=10 k` saved a target of 10 and a KPI named "Reach k"; `baseline=1,5 млн` was
    refused as an unexpected word: a multiplier may stand apart, as in values."""
    assert await chat.ok('/kpi add reach "Reach" target=10 k perspective=customers') == (
        "Saved KPI Reach (reach): target=10 000."
    )
    assert "Target: 10 000\n" in await chat.ok("/kpi reach")
    assert await chat.ok("/kpi edit reach baseline=1,5 млн target=2 M") == (
        "Updated Reach (reach): baseline=1 500 000, target=2 000 000."
    )


async def test_danish_and_german_month_names_are_dates(chat: FakeChat) -> None:
    """`/kpi set leads 1 200 3. juni` saved 1 for today with the note "200 3. juni": only the
    month names English shares with Danish and German (`3. nov`) were read."""
    await chat.ok(LEADS)
    assert await chat.ok("/kpi set leads 1 200 3. juni") == (
        "Saved Leads = 1 200 for 2026-06-03 (🟡 yellow, progress 60%)."
    )
    assert "for 2026-03-05 (" in await chat.ok("/kpi set leads 1300 5. März nach der Aktion")
    assert "for 2025-12-24 (" in await chat.ok("/kpi set leads 1 400 24. dez. 2025")
    assert "for 2026-10-01 (" in await chat.ok("/kpi set leads 1500 1. okt efter kampagne")
    assert "for 2026-05-07 (" in await chat.ok("/kpi set leads 1600 7. maj")
    history = await chat.ok("/kpi history leads")
    assert "nach der Aktion" in history and "efter kampagne" in history
    assert await chat.error("/kpi set leads 1700 juni") == (
        "'juni' looks like a date but isn't one: use YYYY-MM-DD, e.g. 2026-11-21."
    )


FOLLOWERS = '/okr kr social followers "Followers" start=10000 target=12000'


async def test_a_checkin_far_from_the_key_results_numbers_asks_first(chat: FakeChat) -> None:
    """`/okr checkin followers 11 500 confidence=6 efter kampagne` stored 11 with the note
    "500 efter kampagne" (−499 % progress): a check-in now asks first, as `/kpi set` does,
    when its value is more than 100× away from the key result's numbers, saying what it read."""
    await chat.ok('/okr add social "Grow social presence"')
    await chat.ok(FOLLOWERS)
    [ask] = await chat.say("/okr checkin followers 11 500 confidence=6 efter kampagne")
    assert ask.kind == "answer" and ask.text == (
        "11 (note: 500 efter kampagne) is more than 100× away from the start and target of "
        "Followers (10 000 to 12 000). Record it anyway? Nothing is saved until you confirm."
    )
    assert [b.label for b in ask.buttons] == ["Record 11", "Cancel"]
    assert await chat.ok(ask.buttons[1].command) == "Cancelled; nothing was saved."
    assert "has no check-ins yet" in await chat.ok("/okr kr history followers")
    assert await chat.ok("/okr checkin followers 11500 confidence=6 efter kampagne") == (
        "Checked in Followers: 11 500 (target 12 000).\nProgress: 75%\nGrade: 0.8\n"
        "Confidence: 6/10"
    )
    [ask] = await chat.say("/okr checkin followers 50")
    assert ask.text.startswith(
        "50 is more than 100× away from the start, target and latest check-in of Followers "
        "(10 000 to 12 000). "
    )
    assert await chat.ok(ask.buttons[0].command) == (
        "Checked in Followers: 50 (target 12 000).\nProgress: −497%\nGrade: 0.0"
    )
    assert "already" in await chat.error(ask.buttons[0].command)


async def test_a_first_value_with_a_lone_dot_and_three_digits_says_how_it_was_read(
    chat: FakeChat,
) -> None:
    """`14.000` as a KPI's first value was saved as 14 with no word (a lone dot is a decimal
    point; the 100× question needs earlier values): the reply now says how it was read, and
    also after earlier values when the thousand is nearer to them (under the 100× question)."""
    await chat.ok(LEADS)
    assert await chat.ok("/kpi set leads 14.000 2026-11-19") == (
        "Saved Leads = 14 for 2026-11-19 (🔴 red, progress 0%).\n"
        "Read 14.000 as 14 (a lone dot is a decimal point): write 14000 if you meant 14 000."
    )
    assert await chat.ok("/kpi set leads 15.500") == (
        "Saved Leads = 15.5 (🔴 red, progress 0%)."
    )  # an earlier value to compare with: the 100× question does the rest
    await chat.ok('/kpi add visits "Visits" target=20000 perspective=customers')
    await chat.ok("/kpi set visits 1200 2026-11-19")
    # 14 is 86× away from 1 200, under the 100× question, and 14 000 is nearer: said
    assert await chat.ok("/kpi set visits 14.000") == (
        "Saved Visits = 14 (🔴 red, progress 0%).\n"
        "Read 14.000 as 14 (a lone dot is a decimal point): write 14000 if you meant 14 000."
    )
    await chat.ok('/kpi add cpc "Cost per click" target=0.5 unit=$ perspective=finance')
    assert await chat.ok("/kpi set cpc 0.125") == (
        "Saved Cost per click = 0.12 $ (🔴 red, progress 25%)."
    )


async def test_an_add_reply_shows_numbers_as_they_were_read(chat: FakeChat) -> None:
    """`/kpi add … target=1.000` replied "Saved KPI …" without the target, hiding that 1 was
    stored, and `/kpi edit … staged=2026-12-31:1.000` echoed the stage as typed: both replies
    now show each number (and each date) as it was read, as `/kpi edit` does for a target."""
    assert (
        await chat.ok(
            '/kpi add reach "Reach" target=1.000 baseline=5,5 k owner=anna perspective=customers'
        )
        == "Saved KPI Reach (reach): target=1, baseline=5 500."
    )
    assert await chat.ok(
        "/kpi edit reach target=12 000 baseline=0 direction=up due=30.09.2027 "
        "from=01.10.2026 staged=2026-12-31:1.000,2027Q2:11.000 weight=1,5"
    ) == (
        "Updated Reach (reach): target=12 000, baseline=0, direction=up, due=2027-09-30, "
        "from=2026-10-01, staged=2026-12-31:1,2027-06-30:11, weight=1.5."
    )


async def test_a_percent_typed_apart_joins_a_number_not_a_text_option(chat: FakeChat) -> None:
    """`name=Q4 %` renamed the KPI `Q4%`: a `%` or a multiplier typed apart belongs to the
    option before it only when that option's value is a number (`target=5 %`)."""
    await chat.ok(LEADS)
    assert (await chat.error("/kpi edit leads name=Q4 %")).startswith("Unexpected words: %.")
    assert (await chat.error("/kpi edit leads owner=anna k")).startswith("Unexpected words: k.")
    assert "Leads (leads)" in await chat.ok("/kpi leads")
    assert await chat.ok('/kpi edit leads name="Q4 %" target=5 %') == (
        "Updated Q4 % (leads): name=Q4 %, target=5, unit=% (from the % after 5)."
    )


async def test_an_en_dash_or_a_minus_sign_before_a_number_is_a_minus(chat: FakeChat) -> None:
    """`–95` (an en dash, as word processors and phones turn a typed `-` into) was refused as
    not a number; `−95` (the minus sign the bot itself writes) is read too, grouped or not."""
    await chat.ok('/kpi add margin "Margin" baseline=-50 target=10 perspective=finance')
    assert await chat.ok("/kpi set margin –45 2026-11-19") == (
        "Saved Margin = −45 for 2026-11-19 (🔴 red, progress 8%)."
    )
    assert await chat.ok("/kpi set margin −1 000 2026-11-20") == (
        "Saved Margin = −1 000 for 2026-11-20 (🔴 red, progress −1 583%)."
    )
    assert await chat.ok("/kpi edit margin baseline=–60 crit=−55") == (
        "Updated Margin (margin): baseline=−60, crit=−55."
    )


async def test_a_mute_for_days_in_words_is_read_like_the_short_form(chat: FakeChat) -> None:
    """`/alerts mute cac 3 дня` (and the Danish `3 dage`) was refused with the usage line,
    though `3д` works: a number and a unit word are a duration in English, Russian, Danish
    and German."""
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    short = await chat.ok("/alerts mute cac 3д")
    assert short == (
        "cac muted until 24 Nov 10:00 (UTC) by @anna. Changes are still evaluated and logged; "
        "/alerts unmute cac ends it early."
    )
    for words in ("3 дня", "3 dage", "3 days", "3 Tage", "2 days 24 hours", "72 часа"):
        assert await chat.ok(f"/alerts mute cac {words}") == short, words
    assert (await chat.ok("/alerts mute all 1 неделю")).startswith("All KPIs muted until 28 Nov")
    assert (await chat.error("/alerts mute cac 3 лет")).startswith("Unexpected words: лет.")
    assert (await chat.error("/alerts mute cac 2 days please")).startswith(
        "Unexpected words: please."
    )


async def test_an_en_dash_before_a_logged_amount_is_a_minus(chat: FakeChat) -> None:
    """`/log articles –1 oops` logged +1 with the note "–1 oops": an amount may start with
    an en dash or a minus sign as with `-` (`#articles −1` already did)."""
    await chat.ok('/initiative add articles "Articles" cadence=4/month')
    await chat.ok("/log articles +3")
    assert await chat.ok("/log articles –1 oops") == (
        "Logged −1 on Articles. 2 of 4 this month, 10 days left."
    )
    assert await chat.ok("#articles–1 again") == (
        "Logged −1 on Articles. 1 of 4 this month, 10 days left."
    )
    assert "−1  @anna  oops" in await chat.ok("/initiative articles")
