"""Every command through the real Bolt AsyncApp (HTTP mode) and the real router.

Slack's side is played by signed requests over loopback HTTP; answers go to the fake
Web API (response_url, chat.postMessage, files_upload_v2). The router and store are
the real ones (in memory, fixed clock).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.adapters import slack_format as slack_fmt
from tests.alerts.support import FakeSleep
from tests.fakes.slack_api import CHANNEL, USER_ID, block_actions_body
from tests.integration.harness import Said, SlackChat, slack_chat, slack_plain
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
FORM = "application/x-www-form-urlencoded"


def blocks_of(said: Said) -> list[list[dict[str, Any]]]:
    """The Block Kit payload of every message the command produced."""
    return [json.loads(shown.markup) for shown in said.shown if shown.image is None]


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    texts: list[str] = []
    for block in blocks:
        if block["type"] == "section":
            texts += [block["text"]["text"]] if "text" in block else []
            texts += [f["text"] for f in block.get("fields", [])]
        elif block["type"] == "context":
            texts += [e["text"] for e in block["elements"]]
    return texts


def assert_within_limits(blocks: list[dict[str, Any]]) -> None:
    assert 0 < len(blocks) <= slack_fmt.MAX_BLOCKS
    total = 0
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= slack_fmt.MAX_HEADER
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= slack_fmt.MAX_SECTION_TEXT
        for field in block.get("fields", []):
            assert len(field["text"]) <= slack_fmt.MAX_FIELD_TEXT
        total += sum(len(t) for t in mrkdwn_texts([block]))
    assert total <= slack_fmt.MAX_MESSAGE_TEXT


async def test_every_command_round_trips_through_slack(slack: SlackChat) -> None:
    for said in await slack.play(EVERY_COMMAND):
        for blocks in blocks_of(said):
            assert_within_limits(blocks)


async def test_scorecard_help_reaches_help_and_speaks_slack(slack: SlackChat) -> None:
    said = await slack.ok("/help", "Commands", "/kpi", "/timezone", "/scorecard help")
    [(cmd, _)] = slack.recorder.log
    assert (cmd.name, cmd.text) == ("help", "")
    assert "/help" not in said.plain.replace("/scorecard help", "")  # Slack keeps /help
    assert slack.api.calls_to("response")[0].params["response_type"] == "in_channel"
    await slack.ok("/help okr checkin", "/okr checkin <kr> <value>")
    (await slack.say("/kpii")).error("Unknown command /kpii", "Send /scorecard help")


async def test_hashtag_in_a_channel_message_logs_progress_in_its_thread(
    slack: SlackChat,
) -> None:
    await slack.seed(*BUTTON_SETUP)  # straight through the router: the adapter knows no one
    # Message events carry only a user id: a first-time author is named by users.info.
    await slack.ok("#articles +1 before any command", "Logged 1 on Publish articles")
    await slack.ok("/initiatives", "1 of 4")
    await slack.ok("#articles +1 published the spring post", "Logged 1 on Publish articles")

    posts = slack.api.calls_to("chat.postMessage")
    assert [(p.params["channel"], p.params["thread_ts"]) for p in posts] == [
        (CHANNEL, "1767225600.000001"),
        (CHANNEL, "1767225600.000003"),
    ]
    first, second = slack.core.store.initiatives.logs(slack.key, "articles")
    assert (first.by, first.note) == ("@anna", "before any command")
    assert (second.amount, second.by, second.note) == (1, "@anna", "published the spring post")
    [lookup] = slack.api.calls_to("users.info")
    assert lookup.params["user"] == USER_ID


async def test_a_first_time_hashtag_author_is_named_once_and_cached(slack: SlackChat) -> None:
    await slack.seed(*BUTTON_SETUP)
    await slack.ok("#articles +1 drafted the guide", "Logged 1 on Publish articles")
    await slack.ok("#articles +1 published the guide", "2 of 4")

    assert len(slack.api.calls_to("users.info")) == 1  # one lookup for two messages
    logs = slack.core.store.initiatives.logs(slack.key, "articles")
    assert [(e.by, e.note) for e in logs] == [
        ("@anna", "drafted the guide"),
        ("@anna", "published the guide"),
    ]
    hashtags = [cmd.actor for cmd, _ in slack.recorder.log if cmd.via == "hashtag"]
    assert {(a.user_id, a.display_name, a.handle) for a in hashtags} == {
        (USER_ID, "Anna", "@anna")  # the profile's display name, the username's handle
    }


async def test_a_name_learnt_from_a_command_needs_no_lookup(slack: SlackChat) -> None:
    await slack.seed(*BUTTON_SETUP)
    await slack.ok("/initiatives", "0 of 4")  # her slash command carries her username
    await slack.ok("#articles +1", "Logged 1 on Publish articles")
    [entry] = slack.core.store.initiatives.logs(slack.key, "articles")
    assert entry.by == "@anna"
    assert slack.api.calls_to("users.info") == []


async def test_without_users_read_the_author_is_credited_by_id_and_progress_still_logs(
    slack: SlackChat,
) -> None:
    await slack.seed(*BUTTON_SETUP)
    slack.api.scopes.discard("users:read")  # installed before the manifest asked for it
    await slack.ok("#articles +1 drafted", "Logged 1 on Publish articles")
    await slack.ok("#articles +1 published", "2 of 4")

    [refused] = slack.api.calls_to("users.info")  # refused once, then not asked again
    assert not refused.ok
    logs = slack.core.store.initiatives.logs(slack.key, "articles")
    assert [(e.by, e.note) for e in logs] == [(USER_ID, "drafted"), (USER_ID, "published")]


async def test_undo_button_restores_the_kpi_and_stale_or_forged_presses_change_nothing(
    slack: SlackChat,
) -> None:
    await slack.seed(*BUTTON_SETUP)
    store, chat = slack.core.store, slack.key
    removed = await slack.ok("/kpi remove leads", "Removed Leads per month (leads)")
    assert removed.buttons == [
        ("Undo", "/kpi restore leads"),
        ("Delete for good", "/kpi remove leads confirm"),
    ]
    undo, delete = (command for _label, command in removed.buttons)

    await slack.ok_press(undo, "Restored Leads per month (leads) with its history.")
    assert [k.key for k in store.kpis.all(chat)] == ["leads"]

    await slack.ok_press(undo, "is not removed; nothing to do")
    (await slack.press(delete)).error("not removed")
    assert store.kpis.count(chat, "leads") == 1

    # Forged: a bad signature or a stale timestamp is refused before anything runs;
    # an action that is not one of our buttons is not ours to run.
    before = len(slack.recorder.log)
    url = slack.api.response_url("forged")
    for attack in ({"bad_signature": True}, {"age": 301.0}):
        body = block_actions_body(delete, response_url=url)
        assert (await slack.sender.post(body, FORM, **attack)).status == 401
    foreign = block_actions_body(delete, response_url=url, action_id="someone_else:0")
    await slack.sender.post(foreign, FORM)
    await slack.adapter.idle()
    assert len(slack.recorder.log) == before
    assert [k.key for k in store.kpis.all(chat)] == ["leads"]
    assert store.kpis.count(chat, "leads") == 1


async def test_delete_for_good_button_purges_the_removed_kpi(slack: SlackChat) -> None:
    await slack.seed(*BUTTON_SETUP)
    removed = await slack.ok("/kpi remove leads")
    [(_, undo), (_, delete)] = removed.buttons
    await slack.ok_press(delete, "Deleted Leads per month (leads) and its 1 value")
    assert slack.core.store.kpis.count(slack.key, "leads") == 0
    (await slack.press(undo)).error("No KPI 'leads'")


async def test_log_button_under_initiatives_logs_progress_and_a_stale_one_does_not(
    slack: SlackChat,
) -> None:
    await slack.seed(*BUTTON_SETUP)
    listed = await slack.ok("/initiatives", "Publish articles (articles)", "0 of 4")
    assert listed.buttons == [("articles +1", "/log articles +1")]

    await slack.ok_press("/log articles +1", "Logged 1 on Publish articles. 1 of 4")
    [entry] = slack.core.store.initiatives.logs(slack.key, "articles")
    assert (entry.amount, entry.by) == (1, "@anna")

    await slack.ok("/initiative remove articles")
    (await slack.press("/log articles +1")).error("No initiative 'articles'")
    assert slack.core.store.initiatives.logs(slack.key, "articles") == []


async def test_kpi_chart_is_uploaded_with_files_upload_v2(slack: SlackChat) -> None:
    await slack.seed(*CHART_SETUP)
    said = await slack.ok("/kpi cac chart", "Customer acquisition cost (cac)", "latest 90 $")
    steps = [
        c.method
        for c in slack.api.calls
        if c.method in ("files.getUploadURLExternal", "upload", "files.completeUploadExternal")
    ]
    assert steps == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    [ask] = slack.api.calls_to("files.getUploadURLExternal")
    [upload] = slack.api.calls_to("upload")
    [complete] = slack.api.calls_to("files.completeUploadExternal")
    assert upload.body.startswith(PNG_SIGNATURE)
    assert (ask.params["filename"], int(ask.params["length"])) == ("cac.png", len(upload.body))
    assert complete.params["channel_id"] == CHANNEL
    assert complete.params["files"][0]["id"] == upload.target
    assert said.images == [upload.body]


async def test_hostile_names_show_verbatim_and_inert_in_slack_mrkdwn(slack: SlackChat) -> None:
    await slack.seed(*HOSTILE_SETUP)
    for text in HOSTILE_VIEWS:
        said = await slack.ok(text, HOSTILE)
        for blocks in blocks_of(said):
            for mrkdwn in mrkdwn_texts(blocks):
                assert "<" not in mrkdwn and ">" not in mrkdwn, mrkdwn
                if not mrkdwn.startswith("```"):
                    assert "*y*" not in mrkdwn and "_x_" not in mrkdwn, mrkdwn
        fallback = slack.api.calls_to("response")[-1].params["text"]
        assert "<" not in fallback and ">" not in fallback


async def test_a_long_kpi_list_stays_within_block_kit_limits(slack: SlackChat) -> None:
    await slack.seed(*many_kpis(200))
    said = await slack.ok("/kpi", "KPIs · index", "(k000)", "(k199)")
    [reply] = said.replies
    assert len(reply.plain()) > slack_fmt.MAX_MESSAGE_TEXT
    pages = blocks_of(said)
    assert len(pages) >= 2
    for blocks in pages:
        assert_within_limits(blocks)
    lines = [line for blocks in pages for line in slack_plain(blocks).split("\n")]
    assert lines == reply.plain().split("\n")  # nothing lost, nothing reordered


async def test_an_alert_from_a_command_is_delivered_through_the_outbox(
    clock: FixedClock, tmp_path: Path
) -> None:
    async with slack_chat(clock, tmp_path) as slack:  # a file-backed store
        await slack.core.start([slack.adapter], schedule=False, sleep=FakeSleep(clock))
        await slack.seed("/alerts set group=0", *CHART_SETUP[:1])
        await slack.ok("/kpi set cac 130", "red")
        [post] = await slack.api.wait_for("chat.postMessage")
        assert slack.core.delivery is not None
        await slack.core.delivery.wait_idle()
        assert post.params["channel"] == CHANNEL
        assert "130 $ vs target 80 $" in slack_plain(post.params["blocks"])
        [entry] = slack.core.store.outbox.entries(slack.key)
        assert entry.status == "delivered"


async def test_an_alert_whose_chart_failed_sends_only_the_chart_at_its_next_attempt(
    clock: FixedClock, tmp_path: Path
) -> None:
    """An alert's words were posted, its chart's upload met a 5xx, and the outbox's next
    attempt posted the words again with the chart: the channel read the alert twice (the
    README's third window). The outbox keeps how many parts arrived, and the picture as
    drawn, so the next attempt sends the chart alone."""
    async with slack_chat(clock, tmp_path) as slack:
        await slack.core.start([slack.adapter], schedule=False, sleep=FakeSleep(clock))
        await slack.seed("/alerts set group=0", *CHART_SETUP)
        assert slack.core.delivery is not None
        await slack.core.delivery.wait_idle()  # the first reading's alert
        mark = len(slack.api.calls)
        slack.api.fail_next("files.getUploadURLExternal", "server_error")
        await slack.ok("/kpi set cac 130", "red")
        await slack.core.delivery.wait_idle()
        calls = slack.api.calls[mark:]
        [post] = [c for c in calls if c.method == "chat.postMessage"]  # the words: once
        assert "130 $ vs target 80 $" in slack_plain(post.params["blocks"])
        asked = [c.ok for c in calls if c.method == "files.getUploadURLExternal"]
        assert asked == [False, True]
        entry = slack.core.store.outbox.entries(slack.key)[-1]
        assert (entry.status, entry.attempts) == ("delivered", 2)
