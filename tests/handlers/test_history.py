"""Correcting mistakes: value histories, removing a value or log entry, the audit, undo."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.app import Core, build_core
from bot.demo import load_demo
from handlers.contract import ChatRef
from scoring.models import Measurement
from storage.initiatives import LOG_BLOCK
from tests.alerts.support import queued
from tests.support import FakeChat, FixedClock, posted

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CAC = '/kpi add cac "CAC" baseline=120 target=80 unit=$ perspective=finance'


async def _cac_with_values(chat: FakeChat, clock: FixedClock) -> None:
    await chat.ok(CAC)
    await chat.ok("/kpi set cac 100 2026-11-19")
    await chat.ok("/kpi set cac 95 2026-11-20 after the spring campaign")
    clock.advance(minutes=5)
    await chat.ok("/kpi set cac 9000", user="ivan")
    clock.advance(minutes=5)
    await chat.ok("/kpi set cac 90")


async def test_kpi_history_lists_every_value_with_date_author_and_note(
    chat: FakeChat, clock: FixedClock
) -> None:
    await _cac_with_values(chat, clock)
    assert await chat.ok("/kpi history cac") == (
        "CAC (cac): 3 values\n"
        "date        value  by     note\n"
        "2026-11-21   90 $  @anna\n"
        "2026-11-20   95 $  @anna  after the spring campaign\n"
        "2026-11-19  100 $  @anna\n"
        "Remove a wrong value: /kpi unset cac <date>"
    )


async def test_kpi_history_on_a_chat_platform_shows_a_page_with_a_more_button(
    chat: FakeChat, clock: FixedClock
) -> None:
    chat.chat = ChatRef(platform="telegram", chat_id="-100")
    await chat.ok(CAC)
    for day in range(1, 26):
        await chat.ok(f"/kpi set cac {100 + day} 2026-10-{day:02d}")
    text = await chat.ok("/kpi history cac")
    lines = text.splitlines()
    assert lines[0] == "CAC (cac): 25 values"
    assert lines[2].startswith("2026-10-25") and lines[21].startswith("2026-10-06")
    assert lines[-2:] == [
        "Showing the latest 20 of 25. More: /kpi history cac 25 · everything: "
        "/kpi history cac all",
        "[More: /kpi history cac 25]",
    ]
    assert (await chat.ok("/kpi history cac all")).count("2026-10-") == 25
    assert (await chat.ok("/kpi history cac 3")).count("2026-10-") == 3


async def test_console_prints_the_whole_history(chat: FakeChat) -> None:
    await chat.ok(CAC)
    for day in range(1, 26):
        await chat.ok(f"/kpi set cac {100 + day} 2026-10-{day:02d}")
    assert (await chat.ok("/kpi history cac")).count("2026-10-") == 25


async def test_unset_removes_one_value_and_the_latest_value_and_scores_follow(
    chat: FakeChat, clock: FixedClock
) -> None:
    await _cac_with_values(chat, clock)
    assert await chat.ask("/kpi unset cac 2026-11-21") == (
        "Removed CAC = 90 $ for 2026-11-21 by @anna. "
        "Latest: 95 $ on 2026-11-20 (🟡 yellow, progress 62%).\n"
        "[Undo: /undo 2611-6]"
    )
    listing = await chat.ok("/kpi")
    assert "🟡 CAC (cac)   95 $    80 $       62%" in listing
    assert "1d ago" in listing
    assert "/kpi unset cac 2026-11-21" in await chat.ok("/history cac 1")


async def test_unsetting_the_red_typo_sends_the_colour_change_through_the_alert_pipeline(
    chat: FakeChat, clock: FixedClock
) -> None:
    await chat.ok(CAC)
    await chat.ok("/kpi set cac 95 2026-11-20")
    await chat.ok("/kpi set cac 9000")
    assert "yellow → red" in await chat.ok("/alerts log")
    clock.advance(minutes=1)
    await chat.ok("/kpi unset cac today")
    newest = (await chat.ok("/alerts log")).splitlines()[2]
    assert newest.split() == [
        "21",
        "Nov",
        "10:01",
        "cac",
        "🟡",
        "red",
        "→",
        "yellow",
        "95",
        "$",
        "by",
        "@anna",
    ]


async def test_the_undo_button_of_an_unset_puts_the_value_back_with_its_author(
    chat: FakeChat, clock: FixedClock
) -> None:
    await _cac_with_values(chat, clock)
    await chat.ok("/kpi unset cac 2026-11-20")
    assert await chat.ok("/undo 2611-6") == (
        "Undone 2611-6 (@anna, /kpi unset cac 2026-11-20)\ncac 2026-11-20: — → 95 (@anna)"
    )
    assert "2026-11-20   95 $  @anna  after the spring campaign" in await chat.ok(
        "/kpi history cac"
    )


async def test_a_replaced_value_keeps_its_author_in_the_audit(
    chat: FakeChat, clock: FixedClock
) -> None:
    await _cac_with_values(chat, clock)
    assert await chat.ok("/history cac 2") == (
        "Changes to cac\n"
        "2611-5 · 2026-11-21 10:10 · @anna · /kpi set cac 90\n"
        "  cac 2026-11-21: 9 000 (@ivan) → 90 (@anna)\n"
        "2611-4 · 2026-11-21 10:05 · @ivan · /kpi set cac 9000\n"
        "  cac 2026-11-21: — → 9 000 (@ivan)\n"
        "Showing the latest 2. More: /history cac 4 · everything: /history cac all\n"
        "[More: /history cac 4]"
    )


async def test_every_mutating_command_is_audited_without_code_of_its_own(
    chat: FakeChat,
) -> None:
    await chat.ok('/objective add o "Grow" perspective=finance')
    await chat.ok("/objective edit o weight=2")
    await chat.ok("/timezone Europe/Moscow")
    await chat.ok("/scorecard thresholds green=85 yellow=60")
    await chat.ok("/alerts mute all 1d")
    await chat.ok('/perspective add service "Service"')
    await chat.ok("/kpi")  # read-only: leaves no entry
    assert await chat.ok("/history") == (
        "Changes: 6 changes\n"
        '2611-6 · 2026-11-21 13:00 · @anna · /perspective add service "Service"\n'
        "  perspectives: added service\n"
        "2611-5 · 2026-11-21 13:00 · @anna · /alerts mute all 1d\n"
        "  alert settings: mutes — → all\n"
        "2611-4 · 2026-11-21 13:00 · @anna · /scorecard thresholds green=85 yellow=60\n"
        "  colour thresholds: green 80% → 85%, yellow 50% → 60%\n"
        "2611-3 · 2026-11-21 13:00 · @anna · /timezone Europe/Moscow\n"
        "  chat settings: timezone UTC → Europe/Moscow\n"
        "2611-2 · 2026-11-21 13:00 · @anna · /objective edit o weight=2\n"
        "  objective o: weight 1 → 2\n"
        '2611-1 · 2026-11-21 13:00 · @anna · /objective add o "Grow" perspective=finance\n'
        "  objective o: added\n"
        "Undo your last change: /undo"
    )


async def test_undo_asks_first_then_reverts_the_callers_last_change(
    chat: FakeChat, clock: FixedClock
) -> None:
    await _cac_with_values(chat, clock)
    await chat.ok('/okr add d "Delight"', user="ivan")
    assert await chat.ok("/undo") == (
        "Undo your last change (2026-11-21 10:10)?\n"
        "/kpi set cac 90\n"
        "cac 2026-11-21: 9 000 (@ivan) → 90 (@anna)\n"
        "[Undo: /undo 2611-5]"
    )
    assert "90 $" in await chat.ok("/kpi")  # asking changed nothing
    await chat.ok("/undo 2611-5")
    assert "2026-11-21  9 000 $  @ivan" in await chat.ok("/kpi history cac")
    assert "(undone)" in await chat.ok("/history cac 2")
    assert "/kpi set cac 95 2026-11-20" in await chat.ok("/undo")  # the one before


async def test_undo_is_refused_when_someone_changed_the_item_since(
    chat: FakeChat, clock: FixedClock
) -> None:
    await _cac_with_values(chat, clock)
    assert await chat.error("/undo 2611-4", user="ivan") == (
        "Can't undo 2611-4: cac was changed again since by @anna (2611-5). "
        "Undo that first or fix it by hand; see /history cac"
    )
    assert "90 $" in await chat.ok("/kpi")


async def test_undoing_a_kpi_creation_is_refused_once_it_has_values(
    chat: FakeChat, clock: FixedClock
) -> None:
    await chat.ok(CAC)
    await chat.ok("/kpi set cac 100", user="ivan")
    assert await chat.error("/undo 2611-1") == (
        "Can't undo 2611-1: cac has values now; remove it with /kpi remove cac."
    )


async def test_kr_history_shows_check_ins_with_confidence(
    chat: FakeChat, clock: FixedClock
) -> None:
    await chat.ok('/okr add d "Delight"')
    await chat.ok('/okr kr d nps "NPS" start=30 target=50')
    await chat.ok("/okr checkin nps 38 confidence=7 after the survey")
    clock.advance(days=7)
    await chat.ok("/okr checkin nps 41", user="ivan")
    assert await chat.ok("/okr kr history nps") == (
        "NPS (nps): 2 check-ins\n"
        "when              value  confidence  by     note\n"
        "2026-11-28 10:00     41           —  @ivan\n"
        "2026-11-21 10:00     38        7/10  @anna  after the survey"
    )


async def test_initiative_shows_its_log_and_a_wrong_entry_can_be_removed_and_restored(
    chat: FakeChat, clock: FixedClock
) -> None:
    await chat.ok('/initiative add articles "Articles" cadence=4/month owner=@anna')
    await chat.ok("/log articles +1 the BSC guide")
    await chat.ok("/log articles +1 oops, twice")  # same instant: still two entries
    assert await chat.ok("/initiative articles") == (
        "Articles (articles): 2 entries\n"
        "Owner: @anna\n"
        "Progress: 2 of 4 this month, 10 days left\n"
        "#  when              amount  by     note\n"
        "2  2026-11-21 10:00      +1  @anna  oops, twice\n"
        "1  2026-11-21 10:00      +1  @anna  the BSC guide\n"
        "Remove a wrong entry: /initiative unlog articles <#>"
    )
    assert await chat.ok("/initiative unlog articles 2") == (
        "Removed entry #2 of Articles: +1 by @anna on 2026-11-21 10:00 (oops, twice).\n"
        "[Undo: /undo 2611-4]"
    )
    assert "1 of 4 this month" in await chat.ok("/initiative articles")
    assert (await chat.ok("/history articles 1")).splitlines()[2] == (
        "  articles progress #2 2026-11-21 10:00: 1 (@anna) → —"
    )
    await chat.ok("/undo 2611-4")
    assert "2 of 4 this month" in await chat.ok("/initiative articles")


@pytest.mark.parametrize(
    "text, line",
    [
        ("/kpi history", "Missing arguments. Usage: /kpi history <key> [all|<n>]"),
        ("/kpi history nope", "No KPI 'nope'."),
        ("/kpi history cac 0", "Show how many? 'all' or a number, e.g. /kpi history cac 50"),
        ("/kpi history cac 5 6", "Unexpected words: 6. Usage: /kpi history <key> [all|<n>]"),
        ("/kpi unset cac", "Missing arguments. Usage: /kpi unset <key> <YYYY-MM-DD>"),
        (
            "/kpi unset cac 2026-02-30",
            "'2026-02-30' is not a real date (check the month and day).",
        ),
        ("/kpi unset cac 2026-11-01", "cac has no value for 2026-11-01. See /kpi history cac"),
        (
            "/kpi unset cac someday",
            "'someday' is not a date: use YYYY-MM-DD (or DD.MM.YYYY), e.g. 2026-11-21",
        ),
        ("/okr kr history", "Missing arguments. Usage: /okr kr history <kr-key> [all|<n>]"),
        ("/okr kr history nps", "No key result 'nps'."),
        ("/initiative nope", "No initiative 'nope'."),
        ("/initiative unlog articles", "Missing arguments. Usage: /initiative unlog <key> <#>"),
        (
            "/initiative unlog articles 9",
            "No entry #9 in articles (entries: 1 to 1). See /initiative articles",
        ),
        (
            "/initiative unlog articles x",
            "No entry #x in articles (entries: 1 to 1). See /initiative articles",
        ),
        ("/history cac 0", "Show how many? 'all' or a number, e.g. /history cac 30"),
        ("/history a b", "Unexpected words: b. Usage: /history [key] [all|<n>]"),
        ("/undo 2611-99", "No change '2611-99'. Did you mean '2611-4', '2611-3', '2611-2'?"),
        ("/undo nonsense", "No change 'nonsense'."),
        ("/undo a b", "Give one change id from /history, or none. Usage: /undo [<id>]"),
    ],
)
async def test_every_bad_input_gets_one_friendly_line_and_changes_nothing(
    chat: FakeChat, text: str, line: str
) -> None:
    await chat.ok(CAC)
    await chat.ok("/kpi set cac 95")
    await chat.ok('/initiative add articles "Articles"')
    await chat.ok("/log articles +1")
    before = await chat.ok("/history all")
    assert await chat.error(text) == line
    assert await chat.ok("/history all") == before


async def test_an_undo_cannot_be_undone_twice_or_itself(chat: FakeChat) -> None:
    await chat.ok(CAC)
    await chat.ok("/kpi set cac 95")
    await chat.ok("/undo 2611-2")
    assert await chat.error("/undo 2611-2") == "Change 2611-2 was already undone."
    assert await chat.error("/undo 2611-3") == (
        "Change 2611-3 is itself an undo; repeat the change instead."
    )
    assert await chat.ok("/undo") == (
        "Undo your last change (2026-11-21 10:00)?\n"
        '/kpi add cac "CAC" baseline=120 target=80 unit=$ perspective=finance\n'
        "objective finance-general: added\n"
        "KPI cac: added\n"
        "[Undo: /undo 2611-1]"
    )


async def test_nothing_to_undo_says_so(chat: FakeChat) -> None:
    assert await chat.ok("/undo") == "Nothing of yours to undo in this chat (see /history)."
    assert await chat.ok("/history") == "No changes recorded yet."


README = Path(__file__).resolve().parents[2] / "README.md"


async def test_the_readme_correction_example_runs_as_written_on_the_demo(
    core: Core, chat: FakeChat
) -> None:
    section = README.read_text().split("### Correct a mistake", 1)[1]
    block = section.split("```text\n", 1)[1].split("```", 1)[0]
    assert load_demo(core.store, chat.chat.key, core.ctx.clock())
    replies = [await chat.ask(line) for line in block.splitlines()]
    assert replies == [
        "Saved Customer acquisition cost = 89 $ for 2026-11-20 (🟡 yellow, progress 77%).",
        "Customer acquisition cost (cac): 14 values\n"
        "date        value  by     note\n"
        "2026-11-20   89 $  @anna\n"
        "2026-11-15   98 $  @anna\n"
        "2026-11-08   99 $  @anna\n"
        "Showing the latest 3 of 14. More: /kpi history cac 6 · everything: /kpi history cac all\n"
        "[More: /kpi history cac 6]",
        "Removed Customer acquisition cost = 89 $ for 2026-11-20 by @anna. "
        "Latest: 98 $ on 2026-11-15 (🟡 yellow, progress 55%).\n"
        "[Undo: /undo 2611-2]",
        "Changes to cac\n"
        "2611-2 · 2026-11-21 10:00 · @anna · /kpi unset cac 2026-11-20\n"
        "  cac 2026-11-20: 89 (@anna) → —\n"
        "2611-1 · 2026-11-21 10:00 · @anna · /kpi set cac 89 2026-11-20\n"
        "  cac 2026-11-20: — → 89 (@anna)\n"
        "Undo your last change: /undo",
        "Undo your last change (2026-11-21 10:00)?\n"
        "/kpi unset cac 2026-11-20\n"
        "cac 2026-11-20: 89 (@anna) → —\n"
        "[Undo: /undo 2611-2]",
    ]


async def test_values_from_the_ingest_api_are_audited_and_can_be_undone(
    core: Core, chat: FakeChat
) -> None:
    await chat.ok(CAC)
    status, _ = await posted(chat, [{"kpi": "cac", "value": 97}])
    assert status == 200
    assert (await chat.ok("/history cac 1")).splitlines()[1:3] == [
        "2611-3 · 2026-11-21 10:00 · ingest API · POST ingest: 1 value",
        "  cac 2026-11-21: — → 97 (api)",
    ]
    await chat.ok("/undo 2611-3")
    assert await chat.ok("/kpi history cac") == "CAC has no values yet: /kpi set cac <value>"


async def test_with_admins_only_the_author_or_an_admin_may_undo_a_change_by_id(
    clock: FixedClock,
) -> None:
    core = build_core(None, clock=clock, admins=frozenset({"console:boss"}))
    try:
        chat = FakeChat(core)
        await chat.ok(CAC, user="boss")
        await chat.ok("/kpi set cac 95", user="intern")
        await chat.ok("/kpi set cac 96 2026-11-20", user="anna")
        assert await chat.error("/undo 2611-2", user="anna") == (
            "Change 2611-2 was made by @intern; only they or an admin can undo it."
        )
        assert "Undone 2611-3" in await chat.ok("/undo 2611-3", user="anna")
        assert "Undone 2611-2" in await chat.ok("/undo 2611-2", user="boss")
        assert await chat.ok("/kpi history cac") == "CAC has no values yet: /kpi set cac <value>"
    finally:
        core.close()


async def test_the_audit_moves_with_a_chat_that_gets_a_new_id(core: Core, chat: FakeChat) -> None:
    await chat.ok(CAC)
    await chat.ok("/kpi set cac 95")
    before = await chat.ok("/history")
    new = ChatRef(platform="console", chat_id="team-2")
    assert await core.move_chat(chat.chat, new)
    chat.chat = new
    assert await chat.ok("/history") == before
    assert "Undone 2611-2" in await chat.ok("/undo 2611-2")


async def test_a_value_stored_with_a_year_1_typo_before_dates_were_checked_can_be_removed(
    core: Core, chat: FakeChat
) -> None:
    await chat.ok(CAC)
    typo = Measurement(kpi="cac", value=95, day=date(1, 1, 1), at=NOW, by="@old")
    with core.store.atomic():
        core.store.kpis.record(chat.chat.key, typo)  # as an older version stored it
    assert "0001-01-01   95 $  @old" in await chat.ok("/kpi history cac")
    assert await chat.ask("/kpi unset cac 0001-01-01") == (
        "Removed CAC = 95 $ for 0001-01-01 by @old. CAC has no values now.\n[Undo: /undo 2611-2]"
    )
    assert await chat.error("/kpi set cac 95 0001-01-01") == (
        "'0001-01-01' is out of range: dates go from 2000-01-01 to today (2026-11-21)."
    )


async def test_a_repository_that_opts_in_is_audited_with_no_handler_code(chat: FakeChat) -> None:
    await chat.ok('/kpi add visits "Visits" target=1000 perspective=customers')
    await chat.ok('/kpi add leads "Leads" target=100 perspective=customers')
    await chat.ok('/funnel add mkt "Marketing" stages=visits,leads')
    assert (await chat.ok("/history 1")).splitlines()[1:3] == [
        '2611-3 · 2026-11-21 10:00 · @anna · /funnel add mkt "Marketing" stages=visits,leads',
        "  funnel mkt: added",
    ]
    await chat.ok("/undo 2611-3")
    assert await chat.error("/funnel mkt") == "No funnel 'mkt'."


async def test_undo_says_up_front_when_the_last_change_was_changed_again_since(
    chat: FakeChat, clock: FixedClock
) -> None:
    await chat.ok(CAC, user="ivan")
    await chat.ok("/kpi set cac 95")
    clock.advance(minutes=1)
    await chat.ok("/kpi set cac 96", user="ivan")
    assert await chat.ask("/undo") == (
        "Can't undo your last change, 2611-2 (/kpi set cac 95): cac was changed again since "
        "by @ivan (2611-3). Undo that first or fix it by hand; see /history cac"
    )
    assert "96 $" in await chat.ok("/kpi")


async def test_undo_says_up_front_when_undoing_would_orphan_what_was_stored_since(
    chat: FakeChat,
) -> None:
    await chat.ok(CAC)
    await chat.ok("/kpi set cac 100", user="ivan")
    assert await chat.ask("/undo") == (
        'Can\'t undo your last change, 2611-1 (/kpi add cac "CAC" baseline=120 target=80 '
        "unit=$ perspective=finance): cac has values now; remove it with /kpi remove cac."
    )


async def test_initiative_entry_numbers_stay_put_after_an_entry_is_removed(
    chat: FakeChat, clock: FixedClock
) -> None:
    await chat.ok('/initiative add articles "Articles"')
    for note in ("a", "b", "c"):
        await chat.ok(f"/log articles +1 {note}")
    await chat.ok("/initiative unlog articles 2")
    assert await chat.ok("/initiative articles") == (
        "Articles (articles): 2 entries\n"
        "Owner: —\n"
        "#  when              amount  by     note\n"
        "3  2026-11-21 10:00      +1  @anna  c\n"
        "1  2026-11-21 10:00      +1  @anna  a\n"
        "Remove a wrong entry: /initiative unlog articles <#>"
    )
    # a teammate reusing the number they saw earlier removes nothing else
    assert await chat.error("/initiative unlog articles 2") == (
        "No entry #2 in articles (entries: 1 to 3). See /initiative articles"
    )
    assert "Removed entry #3 of Articles: +1 by @anna on 2026-11-21 10:00 (c)." in (
        await chat.ok("/initiative unlog articles 3")
    )


async def test_undo_puts_an_entry_back_under_its_number_and_numbers_are_never_reused(
    chat: FakeChat,
) -> None:
    await chat.ok('/initiative add articles "Articles"')
    for note in ("a", "b", "c"):
        await chat.ok(f"/log articles +1 {note}")
    await chat.ok("/initiative unlog articles 2")
    await chat.ok("/undo 2611-5")
    await chat.ok("/log articles +1 d")
    await chat.ok("/undo 2611-7")  # the /log of d: its number 4 is not given again
    await chat.ok("/log articles +1 e")
    rows = (await chat.ok("/initiative articles")).splitlines()[3:-1]
    assert [(r.split()[0], r.split()[-1]) for r in rows] == [
        ("5", "e"),
        ("3", "c"),
        ("2", "b"),
        ("1", "a"),
    ]


async def test_entries_stored_before_numbers_keep_their_positions_when_one_is_removed(
    core: Core, chat: FakeChat, clock: FixedClock
) -> None:
    await chat.ok('/initiative add articles "Articles"')
    for note in ("a", "b", "c"):
        await chat.ok(f"/log articles +1 {note}")
    key = chat.chat.key
    with core.store.atomic():  # as an older version stored them: no numbers
        for name in core.store.db.table_names(f"ilog:{key}:articles:"):
            ids = [int(i) for i in core.store.db.docs(name)]
            core.store.db.table(name).update(lambda doc: doc.pop("number", None), doc_ids=ids)
        core.store.db.drop_table(f"inum:{key}:articles")
    assert "1  2026-11-21 10:00" in await chat.ok("/initiative articles")
    await chat.ok("/initiative unlog articles 1")
    clock.advance(minutes=1)
    await chat.ok("/log articles +1 d")
    rows = (await chat.ok("/initiative articles")).splitlines()[3:-1]
    assert [(r.split()[0], r.split()[-1]) for r in rows] == [("4", "d"), ("3", "c"), ("2", "b")]


async def test_history_shows_settings_and_fields_as_people_type_them_never_stored_forms(
    chat: FakeChat,
) -> None:
    await chat.ok(CAC)
    await chat.ok('/initiative add articles "Articles" cadence=4/month')
    await chat.ok('/objective add o "Grow" perspective=finance')
    commands = [
        "/kpi edit cac due=2027-03-31 staged=2027Q1:90",
        "/kpi remove cac",
        "/kpi restore cac",
        "/initiative edit articles cadence=6/month",
        "/alerts set repeat=2h group=0 hysteresis=10%",
        "/alerts quiet 22:00-07:00",
        "/digest every mon 09:00",
        "/objective link o finance-general",
    ]
    for text in commands:
        await chat.ok(text)
    body = (await chat.ok(f"/history {len(commands)}")).splitlines()[1:-2]
    assert body[1::2] == [
        "  objective links: added o→finance-general",
        "  alert settings: digest — → every mon 09:00",
        "  alert settings: quiet — → 22:00-07:00",
        "  alert settings: hysteresis 5% → 10%, repeat 1d → 2h, group 1m → 0 (off)",
        "  initiative articles: cadence 4/month → 6/month",
        "  KPI cac: restored",
        "  KPI cac: removed from the scorecard",
        "  KPI cac: due — → 2027-03-31, from — → 2026-11-21, staged — → 90 by 2027-03-31",
    ]


async def test_unsetting_the_only_value_closes_the_alert_people_heard_of_with_a_message(
    core: Core, chat: FakeChat, clock: FixedClock
) -> None:
    await chat.ok("/alerts set group=0")
    await chat.ok(CAC)
    await chat.ok("/kpi set cac 9000")
    assert [r.plain() for r in queued(core)][-1].startswith("🔴 CAC is red")
    clock.advance(minutes=1)
    await chat.ok("/kpi unset cac today", user="ivan")
    assert queued(core)[-1].plain() == (
        "⚪ CAC has no values now\n"
        "red → no data: its values were removed, so the red alert is closed\n"
        "removed by @ivan\n"
        "[Explain: /kpi cac explain]  [Mute 1 day: /alerts mute cac 1d]"
    )
    assert (await chat.ok("/alerts log")).splitlines()[2].split() == [
        "21",
        "Nov",
        "10:01",
        "cac",
        "⚪",
        "red",
        "→",
        "no",
        "data",
        "9",
        "000",
        "$",
        "by",
        "@ivan",
    ]
    await chat.ok("/kpi set cac 9000")  # a new first reading, announced as one
    assert "first reading is red" in queued(core)[-1].plain()


async def test_unsetting_the_only_value_of_a_kpi_nobody_was_alerted_about_says_nothing(
    core: Core, chat: FakeChat
) -> None:
    await chat.ok("/alerts set group=0")
    await chat.ok(CAC)
    await chat.ok("/kpi set cac 75")  # green: nothing to say
    await chat.ok("/kpi unset cac today")
    assert queued(core) == []


async def test_three_tags_in_one_message_across_a_log_block_stay_three_entries(
    chat: FakeChat, clock: FixedClock
) -> None:
    """A message's tags share one instant; an entry landing in a new block of 64 (the block
    size then) was put at the instant of one in the block before, so undo refused ("changed
    again since") and unlogging one removed both. The boundary at today's `LOG_BLOCK`:
    the test below."""
    await chat.ok('/initiative add articles "Articles"')
    for _ in range(63):
        await chat.ok("/log articles +1")
    clock.advance(minutes=1)
    await chat.ok("#articles +1 a #articles +1 b #articles +1 c")
    assert (await chat.ok("/initiative articles 3")).splitlines()[3:6] == [
        "66  2026-11-21 10:01      +1  @anna  c",
        "65  2026-11-21 10:01      +1  @anna  b",
        "64  2026-11-21 10:01      +1  @anna  a",
    ]
    assert (await chat.ok("/undo")).splitlines()[:2] == [
        "Undo your last change (2026-11-21 10:01)?",
        "#articles +1 a #articles +1 b #articles +1 c",
    ]
    assert await chat.ok("/initiative unlog articles 66") == (
        "Removed entry #66 of Articles: +1 by @anna on 2026-11-21 10:01 (c).\n"
        "[Undo: /undo 2611-66]"
    )
    assert (await chat.ok("/initiative articles 2")).splitlines()[:5] == [
        "Articles (articles): 65 entries",
        "Owner: —",
        " #  when              amount  by     note",
        "65  2026-11-21 10:01      +1  @anna  b",
        "64  2026-11-21 10:01      +1  @anna  a",
    ]


async def test_three_tags_across_todays_log_block_boundary_stay_three_entries(
    chat: FakeChat, clock: FixedClock
) -> None:
    """The test above at the block size logs have now (`LOG_BLOCK`): the message's second
    tag opens a new block, and each tag is an entry of its own that unlogs alone."""
    await chat.ok('/initiative add articles "Articles"')
    for _ in range(LOG_BLOCK - 1):
        await chat.ok("/log articles +1")
    clock.advance(minutes=1)
    await chat.ok("#articles +1 a #articles +1 b #articles +1 c")
    numbers = [line.split()[0] for line in (await chat.ok("/initiative articles 3")).splitlines()]
    assert numbers[3:6] == [str(LOG_BLOCK + n) for n in (2, 1, 0)]
    await chat.ok(f"/initiative unlog articles {LOG_BLOCK + 1}")
    assert (await chat.ok("/initiative articles 2")).splitlines()[0] == (
        f"Articles (articles): {LOG_BLOCK + 1} entries"
    )


async def test_history_of_a_perspective_rename_or_weight_says_what_changed(
    chat: FakeChat,
) -> None:
    """The perspectives are one ordered list: a rename or a new weight was shown as the
    same order before and after ("finance, customers, … → finance, customers, …")."""
    await chat.ok('/perspective rename finance "Money"')
    await chat.ok("/perspective weight customers 2")
    await chat.ok("/perspective move learning 1")
    body = (await chat.ok("/history 3")).splitlines()[1:-1]
    assert body[1::2] == [
        "  perspectives: finance, customers, processes, learning → "
        "learning, finance, customers, processes",
        "  perspectives: customers weight 1 → 2",
        "  perspectives: finance name Finance → Money",
    ]
