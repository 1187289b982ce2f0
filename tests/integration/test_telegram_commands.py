"""Every command through the real PTB Application and the real router, over loopback HTTP.

Anna talks to the bot through the fake Bot API (her private chat, or the team's
supergroup where that matters); the router and store are the real ones (in memory,
fixed clock). Each test reads what Telegram received.
"""

from __future__ import annotations

from pathlib import Path

from bot.adapters import telegram_format as tg_fmt
from tests.alerts.support import FakeSleep
from tests.fakes.telegram_api import html_errors
from tests.integration.harness import Said, TelegramChat, telegram_chat
from tests.integration.script import (
    BUTTON_SETUP,
    CHART_SETUP,
    EVERY_COMMAND,
    HOSTILE,
    HOSTILE_SETUP,
    HOSTILE_VIEWS,
    many_kpis,
)
from tests.support import FixedClock

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_valid_html(said: Said) -> None:
    for shown in said.shown:
        assert html_errors(shown.markup) == [], (said.text, shown.markup)
        assert tg_fmt.utf16_len(shown.markup) <= 4096


async def test_every_command_round_trips_through_telegram(telegram: TelegramChat) -> None:
    for said in await telegram.play(EVERY_COMMAND):
        assert_valid_html(said)


async def test_group_hashtag_and_addressed_commands_work_in_a_supergroup(
    telegram: TelegramChat,
) -> None:
    group = telegram.in_group()
    await group.seed(*BUTTON_SETUP)

    await group.ok("#articles +1 published the spring post", "Logged 1 on Publish articles")
    await group.ok("/kpi@ThisBot", "Leads per month (leads)", "150", "75%")
    await group.ok("/log@ThisBot articles +2", "Logged 2 on Publish articles. 3 of 4")

    [first, second] = telegram.core.store.initiatives.logs(group.key, "articles")
    assert (first.amount, first.by, first.note) == (1, "@anna", "published the spring post")
    assert second.amount == 2
    assert telegram.core.store.initiatives.logs(telegram.key, "articles") == []  # per chat


async def test_commands_for_another_bot_and_chatter_in_a_group_run_nothing(
    telegram: TelegramChat,
) -> None:
    group = telegram.in_group()
    await group.seed(*BUTTON_SETUP)
    before = len(telegram.recorder.log)
    for text in ("/kpi@OtherBot", "#nosuchinitiative +1", "great work, team"):
        group.push(text)
    await group.ok("/initiatives", "0 of 4 this month")  # handled after the three above
    ran = [(cmd.name, cmd.text) for cmd, _ in telegram.recorder.log[before:]]
    assert ran == [("log", "nosuchinitiative +1"), ("initiatives", "")]
    assert telegram.recorder.log[before][1] == []  # a hashtag naming nothing is just chat
    assert len(telegram.api.calls_of("sendMessage")) == 1


async def test_undo_button_restores_the_kpi_and_stale_presses_change_nothing(
    telegram: TelegramChat,
) -> None:
    await telegram.seed(*BUTTON_SETUP)
    store, chat = telegram.core.store, telegram.key
    removed = await telegram.ok("/kpi remove leads", "Removed Leads per month (leads)")
    assert removed.buttons == [
        ("Undo", "/kpi restore leads"),
        ("Delete for good", "/kpi remove leads confirm"),
    ]
    assert [k.key for k in store.kpis.all(chat)] == []
    undo, delete = removed.buttons

    await telegram.ok_press(undo[1], "Restored Leads per month (leads) with its history.")
    assert [k.key for k in store.kpis.all(chat)] == ["leads"]

    # The same message's buttons pressed again, after the undo: nothing changes.
    await telegram.ok_press(undo[1], "is not removed; nothing to do")
    stale = await telegram.press(delete[1])
    stale.error("not removed")
    assert [k.key for k in store.kpis.all(chat)] == ["leads"]
    assert store.kpis.count(chat, "leads") == 1

    # Forged or expired callback data runs nothing at all.
    for forged in ("t:forged-token", "rm -rf /"):
        assert await telegram.press_refused(forged) == tg_fmt.EXPIRED_BUTTON
    assert [k.key for k in store.kpis.all(chat)] == ["leads"]


async def test_delete_for_good_button_purges_the_removed_kpi(telegram: TelegramChat) -> None:
    await telegram.seed(*BUTTON_SETUP)
    removed = await telegram.ok("/kpi remove leads")
    [_undo, delete] = removed.buttons
    await telegram.ok_press(delete[1], "Deleted Leads per month (leads) and its 1 value")
    assert telegram.core.store.kpis.count(telegram.key, "leads") == 0
    (await telegram.press(_undo[1])).error("No KPI 'leads'")


async def test_log_button_under_initiatives_logs_progress_and_a_stale_one_does_not(
    telegram: TelegramChat,
) -> None:
    await telegram.seed(*BUTTON_SETUP)
    listed = await telegram.ok("/initiatives", "Publish articles (articles)", "0 of 4")
    assert listed.buttons == [("articles +1", "/log articles +1")]

    await telegram.ok_press("/log articles +1", "Logged 1 on Publish articles. 1 of 4")
    [entry] = telegram.core.store.initiatives.logs(telegram.key, "articles")
    assert (entry.amount, entry.by) == (1, "@anna")

    await telegram.ok("/initiative remove articles")
    (await telegram.press("/log articles +1")).error("No initiative 'articles'")
    assert telegram.core.store.initiatives.logs(telegram.key, "articles") == []


async def test_kpi_chart_arrives_as_a_photo_with_its_caption(telegram: TelegramChat) -> None:
    await telegram.seed(*CHART_SETUP)
    said = await telegram.ok("/kpi cac chart", "Customer acquisition cost (cac)", "latest 90 $")
    [photo] = telegram.api.calls_of("sendPhoto")
    assert photo.files["photo"].startswith(PNG_SIGNATURE)
    assert said.images == [photo.files["photo"]]
    assert photo.params["caption"].startswith("<b>Customer acquisition cost (cac)</b>")
    assert photo.params["parse_mode"] == "HTML"
    assert telegram.api.calls_of("sendMessage") == []  # the text rides along as the caption


async def test_a_chart_with_one_value_is_explained_not_drawn(telegram: TelegramChat) -> None:
    await telegram.seed(*CHART_SETUP[:2])
    await telegram.ok("/kpi cac chart", "needs at least two values for a chart")
    assert telegram.api.calls_of("sendPhoto") == []


async def test_hostile_names_show_verbatim_in_valid_telegram_html(telegram: TelegramChat) -> None:
    await telegram.seed(*HOSTILE_SETUP)
    for text in HOSTILE_VIEWS:
        said = await telegram.ok(text, HOSTILE)
        assert_valid_html(said)
        assert "<b>Sales" not in said.shown[0].markup  # escaped, not bold


async def test_a_kpi_list_over_4096_characters_is_split_at_line_boundaries(
    telegram: TelegramChat,
) -> None:
    await telegram.seed(*many_kpis(120))
    said = await telegram.ok("/kpi", "KPIs · index", "(k000)", "(k119)")
    [reply] = said.replies
    assert len(reply.plain()) > 2 * 4096
    assert len(said.shown) >= 3
    for shown in said.shown:
        assert tg_fmt.utf16_len(shown.markup) <= 4096
        assert html_errors(shown.markup) == []
        assert shown.markup.count("<pre>") == shown.markup.count("</pre>") >= 1
    lines = [line for shown in said.shown for line in shown.plain.split("\n")]
    assert lines == reply.plain().split("\n")  # every line whole, in order, none lost


async def test_the_command_menu_lists_every_top_level_command_with_its_summary(
    telegram: TelegramChat,
) -> None:
    [call] = telegram.api.calls_of("setMyCommands")
    router = telegram.core.router
    summaries = {s.path: s.summary for s in router.specs()}
    assert call.params["commands"] == [
        {"command": name, "description": summaries[name]} for name in router.top_level()
    ]


async def test_an_alert_from_a_command_is_delivered_through_the_outbox(
    clock: FixedClock, tmp_path: Path
) -> None:
    async with telegram_chat(clock, tmp_path) as telegram:  # a file-backed store
        await telegram.core.start([telegram.adapter], schedule=False, sleep=FakeSleep(clock))
        await telegram.seed("/alerts set group=0", *CHART_SETUP[:1])
        await telegram.ok("/kpi set cac 130", "red")
        await telegram.api.wait_until(
            lambda: any("is red" in str(c.params.get("text")) for c in telegram.api.calls)
        )
        assert telegram.core.delivery is not None
        await telegram.core.delivery.wait_idle()
        sent = telegram.api.calls_of("sendMessage")
        [alert] = [c for c in sent if "is red" in c.params["text"]]
        assert alert.params["chat_id"] == str(telegram.chat_id)
        assert "130 $ vs target 80 $" in tg_fmt.html_to_plain(alert.params["text"])
        [entry] = telegram.core.store.outbox.entries(telegram.key)
        assert entry.status == "delivered"


async def test_scorecard_words_arrive_first_and_the_dashboard_photo_after(
    telegram: TelegramChat,
) -> None:
    await telegram.seed(*CHART_SETUP)
    said = await telegram.ok("/scorecard", "Scorecard index")
    [words] = telegram.api.calls_of("sendMessage")
    [photo] = telegram.api.calls_of("sendPhoto")
    assert words.params["text"].startswith("<b>") and "Scorecard index" in words.params["text"]
    assert telegram.api.calls.index(words) < telegram.api.calls.index(photo)
    assert photo.files["photo"].startswith(PNG_SIGNATURE)
    assert said.images == [photo.files["photo"]]
    assert photo.params["caption"] == "<b>Scorecard dashboard</b>"  # never a bare picture
