"""A command typed after mentioning the bot in a Slack channel or thread, and an alert
the bot could not post (probe11).

Slack runs no slash command in a thread ("/kpi is not supported in threads"), so people
address the bot there: `@scorecard /kpi set cac 95`. That message was read only for a
hashtag and otherwise dropped without a word. It now runs like the slash command, answered
in the message's thread; a leading mention of someone else is still chatter."""

from __future__ import annotations

import functools
import itertools
from datetime import timedelta
from pathlib import Path

from tests.alerts.support import FakeSleep
from tests.fakes.slack_api import BOT_USER_ID, CHANNEL, USER_ID, message_event
from tests.integration.harness import Said, SlackChat, slack_chat, slack_escape, slack_plain
from tests.integration.script import CHART_SETUP
from tests.support import FixedClock

_TS = itertools.count(1)


async def _message(slack: SlackChat, text: str, thread: str | None = None) -> Said:
    """A person's channel message (a reply in `thread` if given), sent as Slack sends it."""
    ts = f"1767225700.{next(_TS):06d}"
    extra = {"thread_ts": thread} if thread else {}
    event = message_event(
        slack_escape(text).replace("@scorecard", f"<@{BOT_USER_ID}>"), ts=ts, **extra
    )
    return await slack._exchange(text, functools.partial(slack.sender.event, event))


async def test_a_command_after_mentioning_the_bot_runs_and_answers_in_the_thread(
    slack: SlackChat,
) -> None:
    await slack.seed(*CHART_SETUP[:1])
    other = message_event("<@U0OTHER> /kpi set cac 99", ts="1767225600.000041")
    assert (await slack.sender.event(other)).status == 200  # said to someone else: chatter
    said = await _message(slack, "@scorecard /kpi set cac 95", thread="1767225600.000042")
    assert [cmd.text for cmd, _ in slack.recorder.log] == ["set cac 95"]
    assert [shown.plain for shown in said.shown] == [
        "Saved Customer acquisition cost = 95 $ (🟡 yellow, progress 62%)."
    ]
    [post] = slack.api.calls_to("chat.postMessage")
    assert (post.params["channel"], post.params["thread_ts"]) == (CHANNEL, "1767225600.000042")
    [value] = slack.core.store.kpis.history(slack.key, "cac")
    assert (value.value, value.by) == (95, "@anna")


async def test_words_after_mentioning_the_bot_are_read_as_a_command(slack: SlackChat) -> None:
    """`@scorecard kpi cac` (no slash) is the same command; words that are none get the
    router's line, in the thread of the message; the bare mention gets the help."""
    await slack.seed(*CHART_SETUP[:1])
    said = await _message(slack, "@scorecard help kpi set")
    assert said.shown[0].plain.startswith("/kpi set"), said.shown[0].plain
    said = await _message(slack, "@scorecard")
    assert said.shown[0].plain.startswith("Commands\n"), said.shown[0].plain
    said = await _message(slack, "@scorecard import")  # with a file it imports; without, how
    assert [shown.plain for shown in said.shown] == [
        "Attach the file: post it in the channel with the message: scorecard import"
    ]
    said = await _message(slack, "@scorecard /thanks")  # a slash typed: a command it is not
    assert [shown.plain for shown in said.shown] == [
        "Unknown command /thanks. Send /scorecard help for the list."
    ]


async def test_words_after_a_mention_that_are_no_command_are_not_called_one(
    slack: SlackChat,
) -> None:
    """`@scorecard thanks!` and `@scorecard how are we doing?` were answered "Unknown command
    /thanks!" and "Unknown command /how.", a slash the person never typed: the line now
    says what is read after a mention; a word close to a command still gets the guess."""
    await slack.seed(*CHART_SETUP[:1])
    said = await _message(slack, "@scorecard thanks!")
    assert [shown.plain for shown in said.shown] == [
        "'thanks!' is not a command: after a mention I read one, like kpi or kpi set cac 95. "
        "Send /scorecard help for the list."
    ]
    said = await _message(slack, "@scorecard how are we doing?")
    assert [shown.plain for shown in said.shown] == [
        "'how' is not a command: after a mention I read one, like kpi or kpi set cac 95. "
        "Send /scorecard help for the list."
    ]
    said = await _message(slack, "@scorecard kpo cac")
    assert [shown.plain for shown in said.shown] == [
        "'kpo' is not a command. Did you mean /kpi? Send /scorecard help for the list."
    ]
    said = await _message(slack, "@scorecard kpis")  # an alias is a command
    assert said.shown[0].plain.startswith("KPIs"), said.shown[0].plain


async def test_an_alert_the_bot_could_not_post_says_how_to_let_it_in(
    clock: FixedClock, tmp_path: Path
) -> None:
    """An alert to a channel the bot was not invited to showed in /alerts as "Slack refused:
    not_in_channel", Slack's code: the line now says what to do."""
    async with slack_chat(clock, tmp_path) as slack:
        await slack.core.start([slack.adapter], schedule=False, sleep=FakeSleep(clock))
        await slack.seed("/alerts set group=0", *CHART_SETUP[:1])
        slack.api.fail_next("chat.postMessage", "not_in_channel")
        await slack.ok("/kpi set cac 130", "red")
        assert slack.core.delivery is not None
        await slack.core.delivery.wait_idle()
        said = await slack.say("/alerts")
        [line] = [ln for ln in said.shown[0].plain.splitlines() if "Not delivered" in ln]
        assert line == (
            "⚠ Not delivered: 🔴 Customer acquisition cost is red (21 Nov 10:00): Slack refused: "
            "not_in_channel (the bot is not in the channel: /invite it there)"
        )


def _edited(text: str, before: str, ts: str) -> dict[str, object]:
    """A `message_changed` event as Slack sends it: the message as it is now, and before."""
    now = {"type": "message", "user": USER_ID, "text": text, "ts": ts, "edited": {"ts": "1"}}
    return message_event(
        "",
        user=None,
        ts="1767225900.000001",
        subtype="message_changed",
        hidden=True,
        message=now,
        previous_message={"type": "message", "user": USER_ID, "text": before, "ts": ts},
    )


async def test_an_edited_command_to_the_bot_is_answered_not_run(slack: SlackChat) -> None:
    """An edited `@scorecard /kpi set cac 95` was not run, and said nothing: silence read
    as the correction having been made. As on Telegram, the thread is told; nothing runs.
    An edit that leaves the text as it was (Slack unfurling a link) says nothing."""
    await slack.seed(*CHART_SETUP[:1])
    await _message(slack, "@scorecard /kpi set cac 95")
    ts = slack.api.calls_to("chat.postMessage")[-1].params["thread_ts"]
    mention = f"<@{BOT_USER_ID}>"
    same = _edited(f"{mention} /kpi set cac 96", f"{mention} /kpi set cac 96", ts)
    assert (await slack.sender.event(same)).status == 200
    edit = _edited(f"{mention} /kpi set cac 96", f"{mention} /kpi set cac 95", ts)
    assert (await slack.sender.event(edit)).status == 200
    await slack.adapter.idle()
    posts = slack.api.calls_to("chat.postMessage")[1:]
    assert [(p.params["thread_ts"], slack_plain(p.params["blocks"])) for p in posts] == [
        (
            ts,
            "Edited messages are not read, so that edit changed nothing: send the corrected "
            "command as a new message (/undo takes back what the first one changed).",
        )
    ]
    [value] = slack.core.store.kpis.history(slack.key, "cac")
    assert value.value == 95


async def test_an_edit_into_a_command_says_it_ran_nothing(slack: SlackChat) -> None:
    """A chatter line edited into `@scorecard /kpi set cac 95` was told "/undo takes back
    what the first one changed", though the first version ran nothing: /undo would take
    back someone's earlier change. The first version is in the event, so the line fits."""
    await slack.seed(*CHART_SETUP[:1])
    mention = f"<@{BOT_USER_ID}>"
    edit = _edited(f"{mention} /kpi set cac 95", "great work, team", "1767225800.000001")
    assert (await slack.sender.event(edit)).status == 200
    await slack.adapter.idle()
    posts = slack.api.calls_to("chat.postMessage")
    assert [slack_plain(p.params["blocks"]) for p in posts] == [
        "Edited messages are not read, so that edit ran nothing: send the command as a new "
        "message."
    ]
    assert not slack.core.store.kpis.history(slack.key, "cac")


async def test_a_reply_told_to_wait_over_a_minute_is_sent_after_the_wait(
    clock: FixedClock, tmp_path: Path
) -> None:
    """A 429 with Retry-After: 70 on the answer to `@scorecard /kpi set cac 95` dropped it
    (only a minute is waited in place): the value was saved and nobody was told. It is
    kept in the durable outbox and posted in the thread once the wait is over."""
    sleep = FakeSleep(clock)
    async with slack_chat(clock, tmp_path, sleep) as slack:
        await slack.core.start([slack.adapter], schedule=False, sleep=sleep)
        await slack.seed(*CHART_SETUP[:1])
        slack.api.fail_next("chat.postMessage", "ratelimited", retry_after=70)
        start = clock.now
        await _message(slack, "@scorecard /kpi set cac 95", thread="1767225600.000042")
        assert slack.core.delivery is not None
        await slack.core.delivery.wait_idle()
        [failed, post] = slack.api.calls_to("chat.postMessage")
        assert not failed.ok and post.ok
        assert slack_plain(post.params["blocks"]) == (
            "Saved Customer acquisition cost = 95 $ (🟡 yellow, progress 62%)."
        )
        assert post.params["thread_ts"] == "1767225600.000042"
        assert clock.now - start >= timedelta(seconds=70)  # not before the wait was over


async def test_a_token_or_a_refusal_asked_for_after_a_mention_reaches_only_its_author(
    slack: SlackChat,
) -> None:
    """`@scorecard scorecard token` in a thread posted the new API token to the channel
    for everyone to read (the README promises that on Slack only the asker sees it), and a
    refusal went to the thread too, though a slash command's goes to its author alone.
    Both now go as chat.postEphemeral to the author, in the thread."""
    await slack.seed(*CHART_SETUP[:1])
    thread = "1767225600.000042"
    said = await _message(slack, "@scorecard scorecard token", thread=thread)
    assert said.shown[0].plain.startswith("API token for this scorecard\n"), said.shown
    said = await _message(slack, "@scorecard kpi set cac lots", thread=thread)
    assert [shown.plain for shown in said.shown] == [
        "'lots' is not a number for cac: try 12.5, 12,5, 10 000, 10k or 35%"
    ]
    assert slack.api.calls_to("chat.postMessage") == []  # nothing in the channel
    alone = slack.api.calls_to("chat.postEphemeral")
    assert [(c.params["user"], c.params["thread_ts"]) for c in alone] == [(USER_ID, thread)] * 2
    said = await _message(slack, "@scorecard kpi set cac 95", thread=thread)
    assert [c.method for c in slack.api.calls[-1:]] == ["chat.postMessage"]  # an answer: all


async def test_a_reply_whose_first_part_arrived_is_finished_after_the_wait_not_repeated(
    clock: FixedClock, tmp_path: Path
) -> None:
    """`@scorecard /digest` posted the review's words, then Slack told the chart's upload
    to wait 70 s: the reply was kept for after the wait whole, so the thread read the
    review twice (probe12 left it noted). Only what had not arrived is sent after the wait."""
    sleep = FakeSleep(clock)
    async with slack_chat(clock, tmp_path, sleep) as slack:
        await slack.core.start([slack.adapter], schedule=False, sleep=sleep)
        await slack.seed(*CHART_SETUP)
        slack.api.fail_next("files.getUploadURLExternal", "ratelimited", retry_after=70)
        start = clock.now
        await _message(slack, "@scorecard /digest", thread="1767225600.000042")
        assert slack.core.delivery is not None
        await slack.core.delivery.wait_idle()
        [post] = slack.api.calls_to("chat.postMessage")  # the words: once
        assert post.ok and slack_plain(post.params["blocks"]).startswith("Weekly review")
        [failed, ask] = slack.api.calls_to("files.getUploadURLExternal")
        assert not failed.ok and ask.ok
        [complete] = slack.api.calls_to("files.completeUploadExternal")
        assert complete.ok and complete.params["thread_ts"] == "1767225600.000042"
        assert clock.now - start >= timedelta(seconds=70)
