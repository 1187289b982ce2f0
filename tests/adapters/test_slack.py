"""The real Bolt AsyncApp in HTTP mode, driven by signed requests, against a fake Web API."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey

from bot.adapters import slack_format as fmt
from bot.adapters.base import DeliveryError, MemorySeenLog
from bot.adapters.slack import INVITE_ME, SlackAdapter, _UserDirectory
from handlers.contract import Actor, ChatRef, Command, Field, Image, Reply, Table
from tests.fakes.slack_api import (
    APP_TOKEN,
    BOT_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    CHANNEL,
    OTHER_USER_ID,
    OTHER_USER_NAME,
    SCOPES,
    SIGNING_SECRET,
    FakeSlackAPI,
    SlackSender,
    block_actions_body,
    event_callback,
    message_event,
    slash_body,
    slash_payload,
)
from tests.support import FakeTime, FixedClock

ROOT = Path(__file__).resolve().parents[2]
FORM = "application/x-www-form-urlencoded"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class StubDispatch:
    """Stands in for the router: records Commands, answers with canned Replies."""

    def __init__(self) -> None:
        self.commands: list[Command] = []
        self.answer: Callable[[Command], list[Reply]] = lambda cmd: [
            Reply(title="Done", text=f"ran {cmd.name} {cmd.text}".strip(), to=cmd.chat)
        ]
        self.gate: asyncio.Event | None = None  # set: dispatch waits for it
        self._changed = asyncio.Condition()

    async def __call__(self, cmd: Command) -> list[Reply]:
        self.commands.append(cmd)
        async with self._changed:
            self._changed.notify_all()
        if self.gate is not None:
            await self.gate.wait()
        return self.answer(cmd)

    async def wait_for(self, count: int) -> list[Command]:
        async with asyncio.timeout(5), self._changed:
            await self._changed.wait_for(lambda: len(self.commands) >= count)
        return self.commands


@pytest.fixture
async def api() -> AsyncIterator[FakeSlackAPI]:
    async with FakeSlackAPI() as fake:
        yield fake


@pytest.fixture
def dispatch() -> StubDispatch:
    return StubDispatch()


def make_adapter(
    api: FakeSlackAPI, dispatch: StubDispatch, time: FakeTime | None = None, **options: Any
) -> SlackAdapter:
    time = time or FakeTime()
    settings: dict[str, Any] = {
        "api_base_url": api.base_url,
        "port": 0,
        "seen": MemorySeenLog(),
        "clock": FixedClock(),
        "channel_interval": 0.0,
        "monotonic": time.monotonic,
        "sleep": time.sleep,  # retry waits are instant; tests read time.sleeps
    }
    return SlackAdapter(BOT_TOKEN, SIGNING_SECRET, dispatch, **(settings | options))


@pytest.fixture
async def adapter(api: FakeSlackAPI, dispatch: StubDispatch) -> AsyncIterator[SlackAdapter]:
    adapter = make_adapter(api, dispatch)
    await adapter.start()
    yield adapter
    await adapter.stop()


@pytest.fixture
async def slack(adapter: SlackAdapter) -> AsyncIterator[SlackSender]:
    async with SlackSender(f"http://127.0.0.1:{adapter.port}/slack/events") as sender:
        yield sender


def all_texts(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(re.findall(r'"text": "((?:[^"\\]|\\.)*)"', str(blocks).replace("'", '"')))


# --- slash commands ------------------------------------------------------------------------


async def test_slash_command_round_trip_answers_through_response_url(
    api: FakeSlackAPI, dispatch: StubDispatch, slack: SlackSender
) -> None:
    posted = await slack.slash("/kpi", "set cac 95", response_url=api.response_url("r1"))
    assert posted.status == 200

    [cmd] = await dispatch.wait_for(1)
    assert (cmd.name, cmd.text, cmd.via) == ("kpi", "set cac 95", "command")
    assert cmd.chat == ChatRef(platform="slack", chat_id=CHANNEL)
    assert (cmd.actor.user_id, cmd.actor.handle) == ("U0ANNA", "@anna")

    [answer] = await api.wait_for("response")
    assert answer.target == "r1"
    assert answer.params["text"] == "Done\nran kpi set cac 95"  # the notification fallback
    assert answer.params["response_type"] == "in_channel"
    assert [b["type"] for b in answer.params["blocks"]] == ["header", "section"]
    # Ours at start (fail fast on a bad token), then Bolt's own on the first dispatch.
    assert len(api.calls_to("auth.test")) == 2
    assert api.calls_to("chat.postMessage") == []


async def test_slash_command_is_acked_before_slow_work_finishes(
    api: FakeSlackAPI, dispatch: StubDispatch, slack: SlackSender
) -> None:
    dispatch.gate = asyncio.Event()
    posted = await slack.slash("/okr", "progress", response_url=api.response_url())
    assert posted.status == 200  # answered while the dispatch is still blocked
    await dispatch.wait_for(1)
    assert api.calls_to("response") == []
    dispatch.gate.set()
    await api.wait_for("response")


async def test_scorecard_help_reaches_the_help_command(
    api: FakeSlackAPI, dispatch: StubDispatch, slack: SlackSender
) -> None:
    await slack.slash("/scorecard", "help kpi set", response_url=api.response_url())
    [cmd] = await dispatch.wait_for(1)
    assert (cmd.name, cmd.text) == ("help", "kpi set")


async def test_errors_are_answered_only_to_the_sender(
    api: FakeSlackAPI, dispatch: StubDispatch, slack: SlackSender
) -> None:
    dispatch.answer = lambda cmd: [Reply(text="Unknown command /kpii.", kind="error", to=cmd.chat)]
    await slack.slash("/kpii", "", response_url=api.response_url())
    [answer] = await api.wait_for("response")
    assert answer.params["response_type"] == "ephemeral"


async def test_expired_response_url_falls_back_to_a_channel_post(
    api: FakeSlackAPI, slack: SlackSender
) -> None:
    api.fail_next("response", "expired_url")
    await slack.slash("/map", "", response_url=api.response_url())
    [post] = await api.wait_for("chat.postMessage")
    assert post.params["channel"] == CHANNEL
    assert post.params["text"] == "Done\nran map"


# --- signatures and retries ------------------------------------------------------------------


@pytest.mark.parametrize(
    "attack", [{"bad_signature": True}, {"age": 301.0}], ids=["bad-signature", "stale"]
)
async def test_unsigned_or_stale_request_is_refused_and_runs_nothing(
    api: FakeSlackAPI, dispatch: StubDispatch, slack: SlackSender, attack: dict[str, Any]
) -> None:
    posted = await slack.slash("/kpi", "set cac 1", response_url=api.response_url(), **attack)
    assert posted.status == 401
    assert dispatch.commands == []
    assert [c.method for c in api.calls] == ["auth.test"]  # only the start-up check


async def test_retried_slash_command_runs_once(
    api: FakeSlackAPI, adapter: SlackAdapter, dispatch: StubDispatch, slack: SlackSender
) -> None:
    body = slash_body("/kpi", "set cac 95", response_url=api.response_url(), trigger_id="t.same")
    assert (await slack.post(body, FORM)).status == 200
    assert (await slack.post(body, FORM, retry_num=1)).status == 200
    await adapter.idle()
    assert len(dispatch.commands) == 1
    assert len(api.calls_to("response")) == 1


async def test_duplicate_event_id_runs_once(
    api: FakeSlackAPI, adapter: SlackAdapter, dispatch: StubDispatch, slack: SlackSender
) -> None:
    event = message_event("#articles +1 published")
    assert (await slack.event(event, event_id="Ev0001")).status == 200
    assert (await slack.event(event, event_id="Ev0001", retry_num=1)).status == 200
    await api.wait_for("chat.postMessage")
    await adapter.idle()
    assert len(dispatch.commands) == 1


async def test_url_verification_challenge_is_answered(slack: SlackSender) -> None:
    body = b'{"type": "url_verification", "challenge": "c-123", "token": "x"}'
    posted = await slack.post(body, "application/json")
    assert posted.status == 200 and "c-123" in posted.text


# --- events and buttons ----------------------------------------------------------------------


async def test_hashtag_message_logs_progress_and_answers_in_thread(
    api: FakeSlackAPI, dispatch: StubDispatch, slack: SlackSender
) -> None:
    event = message_event("<#C0ART|articles> +1 published", ts="1767225600.000777")
    assert (await slack.event(event)).status == 200
    [cmd] = await dispatch.wait_for(1)
    assert (cmd.name, cmd.text, cmd.via) == ("log", "articles +1 published", "hashtag")
    [post] = await api.wait_for("chat.postMessage")
    assert post.params["channel"] == CHANNEL
    assert post.params["thread_ts"] == "1767225600.000777"


async def test_bot_messages_edits_and_chatter_are_ignored(
    adapter: SlackAdapter, dispatch: StubDispatch, slack: SlackSender
) -> None:
    ignored = [
        message_event("#articles +1", user=BOT_USER_ID),  # ourselves (Bolt drops these)
        message_event("#articles +1", bot_id=BOT_ID, user=None, subtype="bot_message"),
        message_event("#articles +1", bot_id="B0OTHER"),  # another bot
        message_event("#articles +1", subtype="message_changed"),
        message_event("lunch at 12?"),
    ]
    for event in ignored:
        assert (await slack.event(event)).status == 200
    await slack.event(message_event("#sentinel +1"))
    await dispatch.wait_for(1)
    await adapter.idle()
    assert [c.text for c in dispatch.commands] == ["sentinel +1"]


async def test_button_press_runs_its_command(
    api: FakeSlackAPI, dispatch: StubDispatch, slack: SlackSender
) -> None:
    posted = await slack.block_action("/kpi restore cac", response_url=api.response_url("b1"))
    assert posted.status == 200
    [cmd] = await dispatch.wait_for(1)
    assert (cmd.name, cmd.text, cmd.via) == ("kpi", "restore cac", "button")
    [answer] = await api.wait_for("response")
    assert answer.params["replace_original"] is False


async def test_retried_button_press_runs_once(
    api: FakeSlackAPI, adapter: SlackAdapter, dispatch: StubDispatch, slack: SlackSender
) -> None:
    body = block_actions_body("/kpi", response_url=api.response_url(), trigger_id="t.b")
    await slack.post(body, FORM)
    await slack.post(body, FORM, retry_num=1)
    await adapter.idle()
    assert len(dispatch.commands) == 1


# --- who wrote a message: users.info ----------------------------------------------------------


async def test_first_time_author_is_named_by_users_info_after_the_ack(
    api: FakeSlackAPI, dispatch: StubDispatch, slack: SlackSender
) -> None:
    held = api.hold("users.info")
    posted = await slack.event(message_event("#articles +1", user=OTHER_USER_ID))
    assert posted.status == 200  # acknowledged while the lookup is still unanswered
    await api.wait_asked("users.info")
    assert dispatch.commands == []
    held.set()
    [cmd] = await dispatch.wait_for(1)
    assert cmd.actor == Actor(
        platform="slack", user_id=OTHER_USER_ID, display_name="Ben Okafor", handle="@ben"
    )
    [lookup] = api.calls_to("users.info")
    assert lookup.params["user"] == OTHER_USER_ID
    await api.wait_for("chat.postMessage")


async def test_one_lookup_serves_every_message_of_an_author(
    api: FakeSlackAPI, adapter: SlackAdapter, dispatch: StubDispatch, slack: SlackSender
) -> None:
    held = api.hold("users.info")
    for n in range(2):  # both arrive while the first lookup is in flight
        await slack.event(message_event(f"#articles +{n + 1}", user=OTHER_USER_ID, ts=f"1.{n}"))
    await api.wait_asked("users.info")
    held.set()
    await dispatch.wait_for(2)
    await slack.event(message_event("#articles +3", user=OTHER_USER_ID, ts="1.3"))  # cached
    await dispatch.wait_for(3)
    await adapter.idle()
    assert api.asked("users.info") == 1
    assert {c.actor.handle for c in dispatch.commands} == {"@ben"}


async def test_a_name_from_a_slash_command_or_button_needs_no_lookup(
    api: FakeSlackAPI, adapter: SlackAdapter, dispatch: StubDispatch, slack: SlackSender
) -> None:
    await slack.slash("/initiatives", "", response_url=api.response_url())
    await slack.block_action(
        "/kpi", response_url=api.response_url(), user_id=OTHER_USER_ID, user_name=OTHER_USER_NAME
    )
    await dispatch.wait_for(2)
    await slack.event(message_event("#articles +1"))
    await slack.event(message_event("#articles +1", user=OTHER_USER_ID, ts="1.2"))
    commands = await dispatch.wait_for(4)
    await adapter.idle()
    assert [c.actor.handle for c in commands[2:]] == ["@anna", "@ben"]
    assert api.asked("users.info") == 0


def refuse_users_read(api: FakeSlackAPI) -> None:
    api.scopes.discard("users:read")


@pytest.mark.parametrize(
    ("user", "break_lookup"),
    [
        (OTHER_USER_ID, refuse_users_read),
        (OTHER_USER_ID, lambda api: api.fail_next("users.info", "ratelimited", retry_after=30)),
        (OTHER_USER_ID, lambda api: api.fail_next("users.info", "server_error")),
        ("U0GHOST", lambda api: None),  # user_not_found
    ],
    ids=["missing_scope", "ratelimited", "server_error", "user_not_found"],
)
async def test_a_failed_lookup_credits_the_id_and_is_not_retried_at_once(
    api: FakeSlackAPI,
    adapter: SlackAdapter,
    dispatch: StubDispatch,
    slack: SlackSender,
    user: str,
    break_lookup: Callable[[FakeSlackAPI], None],
) -> None:
    break_lookup(api)
    await slack.event(message_event("#articles +1", user=user, ts="1.1"))
    [cmd] = await dispatch.wait_for(1)
    assert (cmd.actor.user_id, cmd.actor.display_name, cmd.actor.handle) == (user, user, None)
    await api.wait_for("chat.postMessage")  # the progress is answered all the same
    [failed] = api.calls_to("users.info")
    assert not failed.ok
    await slack.event(message_event("#articles +2", user=user, ts="1.2"))
    await dispatch.wait_for(2)
    await adapter.idle()
    assert api.asked("users.info") == 1
    assert dispatch.commands[1].actor.user_id == user


async def test_a_slow_lookup_is_given_up_and_the_command_runs(
    api: FakeSlackAPI, dispatch: StubDispatch
) -> None:
    adapter = make_adapter(api, dispatch, name_lookup_timeout=0.05)
    await adapter.start()
    held = api.hold("users.info")  # never answered in time
    try:
        async with SlackSender(f"http://127.0.0.1:{adapter.port}/slack/events") as slack:
            await slack.event(message_event("#articles +1", user=OTHER_USER_ID))
            [cmd] = await dispatch.wait_for(1)
            assert (cmd.actor.display_name, cmd.actor.handle) == (OTHER_USER_ID, None)
            await api.wait_for("chat.postMessage")
    finally:
        held.set()
        await adapter.stop()


class StubUsersClient:
    """Answers users.info for any id, counting the calls."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def users_info(self, *, user: str) -> dict[str, Any]:
        self.asked.append(user)
        return {"ok": True, "user": {"id": user, "name": user.lower()}}


async def test_the_name_cache_is_bounded_least_recently_used_first() -> None:
    client = StubUsersClient()
    users = _UserDirectory(client, timeout=1.0, monotonic=lambda: 0.0, size=2)  # type: ignore[arg-type]
    for user_id in ("U1", "U2", "U1", "U3"):  # U1 used again, so U2 is the one dropped
        await users.resolve(user_id)
    assert client.asked == ["U1", "U2", "U3"]
    assert list(users.names) == ["U1", "U3"]
    users.learn("U4", "dana")
    assert list(users.names) == ["U3", "U4"]
    assert await users.resolve("U4") == fmt.SlackUser("dana")
    assert client.asked == ["U1", "U2", "U3"]


# --- rendering on the wire -------------------------------------------------------------------


async def test_hostile_names_are_escaped_in_what_slack_receives(
    api: FakeSlackAPI, dispatch: StubDispatch, slack: SlackSender
) -> None:
    hostile = "<!channel> *boss* & _co_ <https://evil.example|click>"
    dispatch.answer = lambda cmd: [
        Reply(
            title=hostile,
            text=hostile,
            fields=(Field(label=hostile, value=hostile),),
            table=Table(columns=("name",), rows=((hostile,),)),
            footer=hostile,
            to=cmd.chat,
        )
    ]
    await slack.slash("/kpi", "", response_url=api.response_url())
    [answer] = await api.wait_for("response")
    mrkdwn = [answer.params["text"]] + [
        t["text"]
        for b in answer.params["blocks"]
        for t in ([b["text"]] if "text" in b and b["type"] != "header" else [])
        + b.get("fields", [])
        + b.get("elements", [])
    ]
    assert len(mrkdwn) == 5  # fallback, text, field, table, footer
    for text in mrkdwn:
        assert "<" not in text and ">" not in text, text
        assert "&lt;!channel&gt;" in text
        if not text.startswith("```"):
            assert "*boss*" not in text and "_co_" not in text


async def test_picture_reply_uploads_with_files_upload_v2(
    api: FakeSlackAPI, dispatch: StubDispatch, slack: SlackSender
) -> None:
    dispatch.answer = lambda cmd: [
        Reply(
            title="Strategy map", image=Image(data=PNG, filename="map.png", alt="map"), to=cmd.chat
        )
    ]
    await slack.slash("/map", "", response_url=api.response_url())
    [complete] = await api.wait_for("files.completeUploadExternal")
    [ask] = api.calls_to("files.getUploadURLExternal")
    [upload] = api.calls_to("upload")
    assert (ask.params["filename"], int(ask.params["length"])) == ("map.png", len(PNG))
    assert upload.body == PNG
    assert complete.params["channel_id"] == CHANNEL
    assert complete.params["initial_comment"] == "Strategy map"
    assert complete.params["files"][0]["id"] == upload.target


async def test_picture_in_a_channel_without_the_bot_asks_to_invite_it(
    api: FakeSlackAPI, dispatch: StubDispatch, slack: SlackSender
) -> None:
    dispatch.answer = lambda cmd: [Reply(image=Image(data=PNG), to=cmd.chat)]
    api.fail_next("files.completeUploadExternal", "not_in_channel")
    await slack.slash("/map", "", response_url=api.response_url())
    [hint] = await api.wait_for("response")
    assert (hint.params["text"], hint.params["response_type"]) == (INVITE_ME, "ephemeral")


async def test_reply_for_another_platform_is_not_sent_here(
    api: FakeSlackAPI, adapter: SlackAdapter, dispatch: StubDispatch, slack: SlackSender
) -> None:
    elsewhere = ChatRef(platform="telegram", chat_id="42")
    dispatch.answer = lambda cmd: [Reply(text="x", to=elsewhere)]
    await slack.slash("/kpi", "", response_url=api.response_url())
    await dispatch.wait_for(1)
    await adapter.idle()
    assert api.calls_to("response") == [] and api.calls_to("chat.postMessage") == []


# --- send() for the outbox -------------------------------------------------------------------

TEAM = ChatRef(platform="slack", chat_id=CHANNEL)


async def test_send_posts_blocks_with_a_text_fallback_into_the_thread(
    api: FakeSlackAPI, adapter: SlackAdapter
) -> None:
    target = TEAM.model_copy(update={"thread_id": "1767225600.000100"})
    await adapter.send(Reply(title="CAC above target", text="95 > 80", kind="alert", to=target))
    [post] = api.calls_to("chat.postMessage")
    assert post.params["text"] == "CAC above target\n95 &gt; 80"
    assert post.params["thread_ts"] == "1767225600.000100"
    assert post.params["blocks"][0]["type"] == "header"


@pytest.mark.parametrize(
    "error",
    ["channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "account_inactive"],
)
async def test_send_reports_permanent_failures(
    api: FakeSlackAPI, adapter: SlackAdapter, error: str
) -> None:
    api.fail_next("chat.postMessage", error)
    with pytest.raises(DeliveryError) as info:
        await adapter.send(Reply(text="digest", to=TEAM))
    assert info.value.permanent
    assert error in str(info.value)


async def test_send_reports_rate_limit_as_transient_with_retry_after(
    api: FakeSlackAPI, adapter: SlackAdapter
) -> None:
    api.fail_next("chat.postMessage", "ratelimited", retry_after=70)
    with pytest.raises(DeliveryError) as info:
        await adapter.send(Reply(text="digest", to=TEAM))
    assert not info.value.permanent and info.value.retry_after == 70.0


@pytest.mark.parametrize("method", ["chat.postMessage", "upload"])
async def test_send_reports_server_errors_as_transient(
    api: FakeSlackAPI, adapter: SlackAdapter, method: str
) -> None:
    api.fail_next(method, "server_error")
    reply = (
        Reply(text="x", to=TEAM)
        if method == "chat.postMessage"
        else Reply(image=Image(data=PNG), to=TEAM)
    )
    with pytest.raises(DeliveryError) as info:
        await adapter.send(reply)
    assert not info.value.permanent


async def test_send_refuses_a_reply_without_a_slack_destination(adapter: SlackAdapter) -> None:
    with pytest.raises(DeliveryError) as info:
        await adapter.send(Reply(text="x", to=ChatRef(platform="telegram", chat_id="1")))
    assert info.value.permanent


async def test_long_table_is_split_across_messages_within_limits(
    api: FakeSlackAPI, adapter: SlackAdapter
) -> None:
    rows = tuple((f"kpi-{i:04d}", "n" * 70, str(i)) for i in range(1200))
    await adapter.send(
        Reply(title="KPIs", table=Table(columns=("key", "name", "v"), rows=rows), to=TEAM)
    )
    posts = api.calls_to("chat.postMessage")
    assert len(posts) > 1
    shown = ""
    for post in posts:
        blocks = post.params["blocks"]
        assert 0 < len(blocks) <= 50 and post.params["text"]
        for block in blocks:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= 3000
                shown += block["text"]["text"]
    assert all(f"kpi-{i:04d}" in shown for i in range(1200))


async def test_posts_to_one_channel_are_spaced(api: FakeSlackAPI, dispatch: StubDispatch) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    adapter = make_adapter(
        api, dispatch, channel_interval=1.0, monotonic=lambda: 100.0, sleep=sleep
    )
    await adapter.send(Reply(text="one", to=TEAM))
    await adapter.send(Reply(text="two", to=TEAM))
    await adapter.send(Reply(text="elsewhere", to=ChatRef(platform="slack", chat_id="C0OTHER")))
    assert waits == [1.0]
    assert len(api.calls_to("chat.postMessage")) == 3


# --- lifecycle -------------------------------------------------------------------------------


async def test_stop_lets_acknowledged_commands_finish(
    api: FakeSlackAPI, dispatch: StubDispatch
) -> None:
    adapter = make_adapter(api, dispatch)
    await adapter.start()
    dispatch.gate = asyncio.Event()
    async with SlackSender(f"http://127.0.0.1:{adapter.port}/slack/events") as slack:
        await slack.slash("/kpi", "", response_url=api.response_url())
    await dispatch.wait_for(1)
    stopping = asyncio.create_task(adapter.stop())
    dispatch.gate.set()
    await stopping
    assert len(api.calls_to("response")) == 1


async def test_http_mode_needs_a_signing_secret(dispatch: StubDispatch) -> None:
    with pytest.raises(ValueError, match="signing secret"):
        SlackAdapter(BOT_TOKEN, None, dispatch, seen=MemorySeenLog())


async def test_start_refuses_a_bot_token_slack_rejects(
    api: FakeSlackAPI, dispatch: StubDispatch
) -> None:
    adapter = make_adapter(api, dispatch)
    adapter.client.token = "xoxb-revoked"
    with pytest.raises(RuntimeError, match=r"bot_token: Slack refused: invalid_auth") as info:
        await adapter.start()
    assert "xoxb-revoked" not in str(info.value)


def socket_adapter(api: FakeSlackAPI, dispatch: StubDispatch, app_token: str) -> SlackAdapter:
    return SlackAdapter(
        BOT_TOKEN,
        None,
        dispatch,
        app_token=app_token,
        api_base_url=api.base_url,
        seen=MemorySeenLog(),
        clock=FixedClock(),
        channel_interval=0.0,
    )


async def test_socket_mode_start_fails_fast_when_slack_refuses_the_app_token(
    api: FakeSlackAPI, dispatch: StubDispatch
) -> None:
    adapter = socket_adapter(api, dispatch, "xapp-1-A0-1-wrong")
    with pytest.raises(RuntimeError, match="app_token: Slack refused: invalid_auth"):
        await adapter.start()
    [call] = api.calls_to("apps.connections.open")
    assert call.headers["Authorization"] == "Bearer xapp-1-A0-1-wrong"
    assert api.calls_to("socket_open") == []


@pytest.fixture
async def socket_mode(api: FakeSlackAPI, dispatch: StubDispatch) -> AsyncIterator[SlackAdapter]:
    adapter = socket_adapter(api, dispatch, APP_TOKEN)
    await adapter.start()
    yield adapter
    await adapter.stop()


async def test_socket_mode_slash_command_is_acked_and_answered(
    api: FakeSlackAPI, dispatch: StubDispatch, socket_mode: SlackAdapter
) -> None:
    assert socket_mode.socket_mode
    payload = slash_payload("/kpi", "set cac 95", response_url=api.response_url())
    envelope = await api.push_envelope("slash_commands", payload)
    [ack] = await api.wait_for("socket_ack")
    assert ack.target == envelope
    [cmd] = await dispatch.wait_for(1)
    assert (cmd.name, cmd.text) == ("kpi", "set cac 95")
    await api.wait_for("response")
    assert len(api.calls_to("apps.connections.open")) == 1


async def test_socket_mode_retried_event_runs_once(
    api: FakeSlackAPI, dispatch: StubDispatch, socket_mode: SlackAdapter
) -> None:
    payload = event_callback(message_event("#articles +1"), event_id="Ev0042")
    await api.push_envelope("events_api", payload)
    await api.push_envelope("events_api", payload, retry_attempt=1)
    await api.wait_for("socket_ack", 2)
    await dispatch.wait_for(1)
    await socket_mode.idle()
    assert len(dispatch.commands) == 1


# --- manifest --------------------------------------------------------------------------------


def manifest_slash_commands() -> dict[str, dict[str, str]]:
    """`features.slash_commands` of slack-manifest.yml (the simple YAML subset we write)."""
    commands: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    text = (ROOT / "slack-manifest.yml").read_text(encoding="utf-8")
    block = text.split("  slash_commands:\n", 1)[1]
    for line in block.splitlines():
        if not line.startswith("    "):
            break
        match = re.match(r"\s+(?:- )?(\w+): (.*)$", line)
        assert match, line
        key, value = match.group(1), match.group(2).strip().strip('"')
        if line.lstrip().startswith("- "):
            current = commands.setdefault(value, {})
        assert current is not None
        current[key] = value
    return commands


def test_manifest_slash_commands_are_the_real_routers_top_level_commands() -> None:
    from handlers import build_router

    router = build_router()
    expected = [f"/{name}" for name in router.top_level() if name != "help"]
    commands = manifest_slash_commands()
    assert list(commands) == expected  # /help is `/scorecard help` on Slack
    assert [c.command for c in fmt.slash_commands(router.specs())] == expected
    for name, entry in commands.items():
        assert entry["url"] == "https://YOUR-HOST/slack/events", name
        assert 0 < len(entry["description"]) <= 100, name
        assert entry["should_escape"] == "false", name


def test_manifest_usage_hints_name_every_subcommand() -> None:
    from handlers import build_router

    commands = manifest_slash_commands()
    for spec in build_router().specs():
        word, *sub = spec.path.split()
        if word == "help" or not sub:
            continue
        hint = commands[f"/{word}"].get("usage_hint", "")
        assert sub[0] in hint, f"/{word} usage_hint lacks {sub[0]!r}: {hint!r}"
    assert "help" in commands["/scorecard"]["usage_hint"]


def test_manifest_asks_for_the_needed_scopes_events_and_interactivity() -> None:
    text = (ROOT / "slack-manifest.yml").read_text(encoding="utf-8")
    scopes = re.findall(
        r"^      - ([\w:.]+)", text.split("    bot:\n", 1)[1].split("settings:")[0], re.MULTILINE
    )
    assert scopes == [
        "commands",
        "chat:write",
        "files:write",
        "channels:history",
        "groups:history",
        "users:read",  # users.info: who wrote a hashtag line
        "files:read",  # a file posted with "scorecard import" is downloaded
    ]
    assert tuple(scopes) == SCOPES  # the fake Web API grants what the manifest asks for
    events = re.findall(r"^      - (message\.\w+)", text, re.MULTILINE)
    assert events == ["message.channels", "message.groups"]
    assert "  interactivity:\n    is_enabled: true\n" in text
    assert text.count("request_url: https://YOUR-HOST/slack/events") == 2


# --- chat semantics ---------------------------------------------------------------------------


async def test_a_hashtag_after_mentioning_the_bot_is_logged(
    dispatch: StubDispatch, slack: SlackSender
) -> None:
    event = message_event(f"<@{BOT_USER_ID}> #articles +1 published")
    assert (await slack.event(event)).status == 200
    [cmd] = await dispatch.wait_for(1)
    assert (cmd.name, cmd.text, cmd.via) == ("log", "articles +1 published", "hashtag")


async def test_the_text_fallback_carries_the_whole_reply_not_just_its_title(
    api: FakeSlackAPI, adapter: SlackAdapter
) -> None:
    reply = Reply(
        title="CAC",
        fields=(Field(label="Value", value="84"), Field(label="Target", value="80")),
        table=Table(columns=("week", "value"), rows=(("47", "84"),)),
        footer="updated by Anna",
        to=TEAM,
    )
    await adapter.send(reply)
    [post] = api.calls_to("chat.postMessage")
    assert post.params["text"] == (
        "CAC\nValue: 84\nTarget: 80\n" + reply.table.render() + "\nupdated by Anna"  # type: ignore[union-attr]
    )


# --- replies under faults ------------------------------------------------------------------------


async def test_a_hashtag_confirmation_that_meets_a_server_error_is_sent_again(
    api: FakeSlackAPI, dispatch: StubDispatch, adapter: SlackAdapter, slack: SlackSender
) -> None:
    api.fail_next("chat.postMessage", "server_error")
    await slack.event(message_event("#articles +1"))
    await dispatch.wait_for(1)
    await adapter.idle()
    assert [c.status for c in api.calls_to("chat.postMessage")] == [500, 200]


async def test_a_signed_command_without_response_url_is_answered_in_the_channel(
    api: FakeSlackAPI,
    dispatch: StubDispatch,
    adapter: SlackAdapter,
    slack: SlackSender,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fields = slash_payload("/kpi", "list", response_url="")
    del fields["response_url"]
    posted = await slack.post(urlencode(fields).encode(), FORM)
    assert posted.status == 200
    await dispatch.wait_for(1)
    await adapter.idle()
    [post] = api.calls_to("chat.postMessage")
    assert post.params["channel"] == CHANNEL
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


# --- the HTTP endpoint -------------------------------------------------------------------------

DEEP = b'{"a":' * 100_000 + b"1" + b"}" * 100_000


@pytest.mark.parametrize(
    ("body", "content_type", "options", "status"),
    [
        (b"\xff\xfe not utf-8", FORM, {"bad_signature": True}, 401),
        (b"{not json", "application/json", {"bad_signature": True}, 401),
        (b"token=x", FORM, {"timestamp_header": "soon"}, 401),
        (b"\xff\xfe not utf-8", FORM, {}, 400),
        (b"{not json", "application/json", {}, 400),
        (DEEP, "application/json", {}, 400),
        (b"payload=%7Bnot+json", FORM, {}, 400),
        (b"[1, 2]", "application/json", {}, 400),
    ],
    ids=[
        "unsigned-binary",
        "unsigned-not-json",
        "non-numeric-timestamp",
        "signed-not-utf8",
        "signed-not-json",
        "signed-too-deep",
        "signed-payload-not-json",
        "signed-json-not-object",
    ],
)
async def test_a_bad_request_gets_401_or_400_one_short_line_and_runs_nothing(
    dispatch: StubDispatch,
    slack: SlackSender,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    content_type: str,
    options: dict[str, Any],
    status: int,
) -> None:
    caplog.set_level(logging.DEBUG)
    posted = await slack.post(body, content_type, **options)
    assert posted.status == status
    assert dispatch.commands == []
    logged = [r for r in caplog.records if r.name.startswith(("bot", "slack", "aiohttp"))]
    assert len(logged) == 1, [r.getMessage() for r in logged]
    assert logged[0].exc_info is None and len(logged[0].getMessage()) < 120


async def test_events_and_actions_the_app_does_not_handle_are_acked_quietly(
    api: FakeSlackAPI,
    dispatch: StubDispatch,
    slack: SlackSender,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mention: dict[str, Any] = {"type": "app_mention", "user": "U0ANNA", "ts": "1.2"}
    mention |= {"text": f"<@{BOT_USER_ID}> hi", "channel": CHANNEL, "event_ts": "1.2"}
    reaction: dict[str, Any] = {"type": "reaction_added", "user": "U0ANNA", "reaction": "tada"}
    reaction |= {"item": {"type": "message", "channel": CHANNEL, "ts": "1.2"}, "event_ts": "1.3"}
    answers = [
        await slack.event(mention),
        await slack.event(reaction),
        await slack.block_action(
            "/kpi", response_url=api.response_url(), action_id="another_app_button"
        ),
    ]
    assert [a.status for a in answers] == [200, 200, 200]
    assert dispatch.commands == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


REFUSED_AT = ConnectionKey("127.0.0.1", 9, False, True, None, None, None)


@pytest.mark.parametrize(
    ("error", "maybe"),
    [
        (aiohttp.ServerDisconnectedError(), True),  # written, then the connection dropped
        (TimeoutError(), True),  # slack_sdk's one total timeout: may be after the write
        (aiohttp.ClientConnectorError(REFUSED_AT, OSError(111, "refused")), False),
    ],
    ids=["disconnected", "timeout", "refused"],
)
async def test_a_lost_answer_is_maybe_delivered_and_a_refused_connection_is_not(
    api: FakeSlackAPI, adapter: SlackAdapter, error: Exception, maybe: bool
) -> None:
    async def fail() -> None:
        raise error

    with pytest.raises(DeliveryError) as info:
        await adapter._call(TEAM, fail())
    assert info.value.maybe_delivered is maybe and not info.value.permanent
