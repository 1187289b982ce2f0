"""The real PTB Application, long polling a fake Bot API on 127.0.0.1.

Dispatch is a stub that records Commands and returns canned Replies. Time for our own
pacing and RetryAfter waits is a fake that advances instantly; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import pytest

from bot.adapters.base import (
    EDITED_COMMAND,
    EDITED_INTO_COMMAND,
    ChatMoved,
    DeliveryError,
    MemorySeenLog,
    SeenLog,
    SendLater,
)
from bot.adapters.policy import TELEGRAM, DeliveryPolicy
from bot.adapters.telegram import NOT_ENABLED, TelegramAdapter
from bot.logging import reset_logging, setup_logging
from handlers.contract import Button, ChatRef, Command, CommandSpec, Image, Reply, Table
from tests.fakes.telegram_api import (
    TOKEN,
    FakeTelegramAPI,
    callback_query,
    group_chat,
    group_message,
    html_errors,
    migration_updates,
    private_message,
    user,
)
from tests.support import FakeTime

GROUP = -1001234567890
PRIVATE = 7001

Replies = Callable[[Command], list[Reply]]


class StubRouter:
    """Records every Command; answers with `replies(cmd)` (default: one short text)."""

    def __init__(self) -> None:
        self.commands: list[Command] = []
        self.replies: Replies = lambda cmd: [Reply(text=f"ok {cmd.name} {cmd.text}".strip())]
        self._changed = asyncio.Condition()

    async def __call__(self, cmd: Command) -> list[Reply]:
        async with self._changed:
            self.commands.append(cmd)
            self._changed.notify_all()
        return self.replies(cmd)

    async def wait(self, count: int, within: float = 5) -> list[Command]:
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.commands) >= count), within
            )
        return self.commands


AdapterFactory = Callable[..., Awaitable[TelegramAdapter]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        yield api


@pytest.fixture
def router() -> StubRouter:
    return StubRouter()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def start_adapter(
    fake: FakeTelegramAPI, router: StubRouter, fake_time: FakeTime
) -> AsyncIterator[AdapterFactory]:
    started: list[TelegramAdapter] = []

    async def start(
        *,
        dispatch: Any = None,
        seen: SeenLog | None = None,
        allowed_chats: Sequence[str | int] = (),
        specs: Sequence[CommandSpec] = (),
        on_chat_moved: ChatMoved | None = None,
        policy: DeliveryPolicy = TELEGRAM,
        later: SendLater | None = None,
    ) -> TelegramAdapter:
        adapter = TelegramAdapter(
            TOKEN,
            dispatch or router,
            base_url=fake.base_url,
            allowed_chats=allowed_chats,
            seen=seen or MemorySeenLog(),
            specs=specs,
            on_chat_moved=on_chat_moved,
            later=later,
            poll_timeout=1,
            policy=policy,
            monotonic=fake_time.monotonic,
            sleep=fake_time.sleep,
        )
        await adapter.start()
        started.append(adapter)
        return adapter

    yield start
    for adapter in reversed(started):
        await adapter.stop()


def to(chat_id: int, thread_id: str | None = None) -> ChatRef:
    return ChatRef(platform="telegram", chat_id=str(chat_id), thread_id=thread_id)


async def settle(fake: FakeTelegramAPI, router: StubRouter) -> None:
    """Wait until every update pushed so far has been processed.

    Updates are handled one at a time, in order; a final /ping that reaches dispatch
    proves everything before it has been dealt with (including ignored updates).
    """
    expected = len(router.commands) + 1
    fake.push_update(private_message("/ping", chat_id=99))
    await router.wait(expected)
    assert router.commands[-1].name == "ping"
    router.commands.pop()
    await fake.wait_for("sendMessage", where=lambda c: c.params["chat_id"] == "99")


# --- inbound round trips -------------------------------------------------------------------


async def test_private_command_reaches_dispatch_and_the_reply_comes_back(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    await start_adapter()
    sender = user("Anna", last_name="Lind", username="anna", user_id=PRIVATE)
    fake.push_update(private_message("/kpi show cac", chat_id=PRIVATE, sender=sender))

    (cmd,) = await router.wait(1)
    (sent,) = await fake.wait_for("sendMessage")

    assert (cmd.name, cmd.text, cmd.via) == ("kpi", "show cac", "command")
    assert cmd.chat == ChatRef(platform="telegram", chat_id=str(PRIVATE))
    assert (cmd.actor.user_id, cmd.actor.display_name) == (str(PRIVATE), "Anna Lind")
    assert cmd.actor.handle == "@anna"
    assert cmd.message_id is not None
    assert sent.params["chat_id"] == str(PRIVATE)
    assert sent.params["text"] == "ok kpi show cac"
    assert sent.params["parse_mode"] == "HTML"
    assert sent.content_type == "application/json"  # one C call, not a form quoted in Python


async def test_group_command_addressed_to_this_bot_is_handled(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    await start_adapter()
    fake.push_update(group_message("/kpi@ThisBot list", chat_id=GROUP))

    (cmd,) = await router.wait(1)
    (sent,) = await fake.wait_for("sendMessage")

    assert (cmd.name, cmd.text) == ("kpi", "list")
    assert cmd.chat.chat_id == str(GROUP)
    assert sent.params["chat_id"] == str(GROUP)


async def test_reply_in_a_forum_topic_goes_back_to_that_topic(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    await start_adapter()
    fake.push_update(group_message("/kpi", chat_id=GROUP, thread_id=77))

    (cmd,) = await router.wait(1)
    (sent,) = await fake.wait_for("sendMessage")

    assert cmd.chat.thread_id == "77"
    assert sent.params["message_thread_id"] == "77"


async def test_command_for_another_bot_and_plain_chatter_are_ignored(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    await start_adapter()
    fake.push_update(group_message("/kpi@OtherBot list", chat_id=GROUP))
    fake.push_update(group_message("nice work everyone", chat_id=GROUP))

    await settle(fake, router)

    assert router.commands == []
    assert {c.params["chat_id"] for c in fake.calls_of("sendMessage")} == {"99"}  # /ping only


async def test_hashtag_message_in_a_group_becomes_a_log_command(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    await start_adapter()
    fake.push_update(group_message("#articles +1 published the spring post", chat_id=GROUP))

    (cmd,) = await router.wait(1)

    assert (cmd.name, cmd.text, cmd.via) == (
        "log",
        "articles +1 published the spring post",
        "hashtag",
    )


# --- buttons -------------------------------------------------------------------------------


async def press_button_from_reply(
    fake: FakeTelegramAPI, router: StubRouter, buttons: tuple[Button, ...]
) -> dict[str, Any]:
    """Let /menu answer with `buttons`; return the inline keyboard Telegram received."""
    router.replies = lambda cmd: (
        [Reply(text="pick one", buttons=buttons)] if cmd.name == "menu" else [Reply(text="done")]
    )
    fake.push_update(private_message("/menu", chat_id=PRIVATE))
    (sent,) = await fake.wait_for("sendMessage")
    markup: dict[str, Any] = sent.params["reply_markup"]
    return markup


async def test_button_press_comes_back_as_a_button_command_and_is_answered(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    await start_adapter()
    markup = await press_button_from_reply(
        fake, router, (Button(label="Restore", command="/kpi restore cac"),)
    )
    (button,) = markup["inline_keyboard"][0]
    assert (button["text"], button["callback_data"]) == ("Restore", "/kpi restore cac")

    fake.push_update(
        callback_query(button["callback_data"], chat={"id": PRIVATE, "type": "private"})
    )
    commands = await router.wait(2)
    (answer,) = await fake.wait_for("answerCallbackQuery")

    cmd = commands[1]
    assert (cmd.name, cmd.text, cmd.via) == ("kpi", "restore cac", "button")
    assert cmd.chat.chat_id == str(PRIVATE)
    assert "text" not in answer.params


async def test_long_button_command_travels_as_a_token_and_still_works(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    await start_adapter()
    long_command = "/kpi note cac " + "a very long explanation " * 4
    markup = await press_button_from_reply(
        fake, router, (Button(label="Note", command=long_command),)
    )
    data = markup["inline_keyboard"][0][0]["callback_data"]
    assert len(data.encode()) <= 64

    fake.push_update(callback_query(data, chat={"id": PRIVATE, "type": "private"}))
    commands = await router.wait(2)

    assert commands[1].via == "button"
    assert f"/{commands[1].name} {commands[1].text}" == long_command.strip()


@pytest.mark.parametrize("data", ["t:stale-token-from-before", "rm -rf", "t:"])
async def test_stale_or_forged_button_runs_nothing_and_says_it_expired(
    data: str, fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    await start_adapter()
    fake.push_update(callback_query(data, chat={"id": PRIVATE, "type": "private"}))

    (answer,) = await fake.wait_for("answerCallbackQuery")
    await settle(fake, router)

    assert answer.params["text"] == "This button has expired"
    assert router.commands == []


# --- rendering through the wire ----------------------------------------------------------------


async def test_hostile_names_reach_telegram_escaped_and_as_valid_html(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    await start_adapter()
    router.replies = lambda cmd: [
        Reply(title=f"Hi {cmd.actor.display_name}", text=cmd.text, footer=cmd.actor.handle)
    ]
    sender = user("<script>&_*", last_name="<b>", username="x_y", user_id=PRIVATE)
    fake.push_update(private_message("/hi a<b && *c*", chat_id=PRIVATE, sender=sender))

    (cmd,) = await router.wait(1)
    (sent,) = await fake.wait_for("sendMessage")

    assert cmd.actor.display_name == "<script>&_* <b>"  # handlers get the raw name
    assert html_errors(sent.params["text"]) == []
    assert sent.params["text"] == (
        "<b>Hi &lt;script&gt;&amp;_* &lt;b&gt;</b>\na&lt;b &amp;&amp; *c*\n<i>@x_y</i>"
    )


async def test_a_long_reply_arrives_as_several_paced_messages(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory, fake_time: FakeTime
) -> None:
    await start_adapter()
    rows = tuple((f"kpi_{i}", "x" * 40, f"{i}") for i in range(150))
    text = "\n".join(f"line {i} " + "y" * 50 for i in range(60))
    reply = Reply(title="Digest", text=text, table=Table(columns=("k", "v", "n"), rows=rows))
    assert len(reply.plain()) > 10_000
    router.replies = lambda cmd: [reply]
    fake.push_update(private_message("/digest", chat_id=PRIVATE))

    await router.wait(1)
    await fake.wait_for("sendMessage", 3)
    await settle(fake, router)
    sent = [c for c in fake.calls_of("sendMessage") if c.params["chat_id"] == str(PRIVATE)]

    assert len(sent) >= 3
    for call in sent:
        body = call.params["text"]
        assert len(body.encode("utf-16-le")) // 2 <= 4096
        assert html_errors(body) == []
        assert body.count("<pre>") == body.count("</pre>")
    # Per-chat spacing: every message after the first waited for its 1 s slot.
    assert fake_time.sleeps[: len(sent) - 1] == [pytest.approx(1.0)] * (len(sent) - 1)


async def test_picture_reply_is_uploaded_with_its_caption(
    fake: FakeTelegramAPI, start_adapter: AdapterFactory
) -> None:
    adapter = await start_adapter()
    png = b"\x89PNG\r\n\x1a\n fake image bytes"

    await adapter.send(
        Reply(
            title="Trend",
            text="CAC, last 8 weeks",
            image=Image(data=png, filename="cac.png"),
            to=to(PRIVATE),
        )
    )

    (call,) = fake.calls_of("sendPhoto")
    assert call.content_type == "multipart/form-data"  # files cannot travel as JSON
    assert call.files["photo"] == png
    assert call.params["caption"] == "<b>Trend</b>\nCAC, last 8 weeks"
    assert call.params["parse_mode"] == "HTML"


async def test_refused_markup_is_resent_as_plain_text(
    fake: FakeTelegramAPI, start_adapter: AdapterFactory
) -> None:
    adapter = await start_adapter()
    fake.fail_next("sendMessage", "bad_html")

    await adapter.send(Reply(title="A & B", to=to(PRIVATE)))

    first, second = fake.calls_of("sendMessage")
    assert not first.ok and second.ok
    assert second.params["text"] == "A & B"
    assert "parse_mode" not in second.params


# --- errors and limits -----------------------------------------------------------------------


async def test_retry_after_is_waited_out_and_the_message_is_delivered_once(
    fake: FakeTelegramAPI, start_adapter: AdapterFactory, fake_time: FakeTime
) -> None:
    adapter = await start_adapter()
    fake.fail_next("sendMessage", "retry_after", retry_after=1)

    await adapter.send(Reply(text="alert: CAC is red", to=to(GROUP)))

    assert [c.status for c in fake.calls_of("sendMessage")] == [429, 200]
    assert fake_time.sleeps == [pytest.approx(1.0)]


async def test_flood_limit_that_persists_becomes_a_transient_delivery_error(
    fake: FakeTelegramAPI, start_adapter: AdapterFactory
) -> None:
    adapter = await start_adapter()
    fake.fail_next("sendMessage", "retry_after", count=5, retry_after=2)

    with pytest.raises(DeliveryError) as caught:
        await adapter.send(Reply(text="alert", to=to(GROUP)))

    assert caught.value.permanent is False
    assert caught.value.retry_after == pytest.approx(2.0)
    assert len(fake.calls_of("sendMessage")) == TELEGRAM.attempts  # bounded


async def test_bot_removed_from_group_is_a_permanent_error_logged_once(
    fake: FakeTelegramAPI, start_adapter: AdapterFactory, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = await start_adapter()
    fake.fail_next("sendMessage", "forbidden", chat_id=GROUP)

    for _ in range(2):
        with pytest.raises(DeliveryError) as caught:
            await adapter.send(Reply(text="alert", to=to(GROUP)))
        assert caught.value.permanent is True

    assert len(fake.calls_of("sendMessage")) == 1  # the second send did not even try
    gone = [r for r in caplog.records if "cannot send to this chat" in r.getMessage()]
    assert len(gone) == 1
    assert gone[0].chat == str(GROUP)  # type: ignore[attr-defined]
    await adapter.send(Reply(text="elsewhere", to=to(PRIVATE)))  # other chats still work


async def test_a_new_message_from_a_chat_we_were_removed_from_reenables_it(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    adapter = await start_adapter()
    fake.fail_next("sendMessage", "forbidden", chat_id=GROUP)
    with pytest.raises(DeliveryError):
        await adapter.send(Reply(text="alert", to=to(GROUP)))

    fake.push_update(group_message("/kpi", chat_id=GROUP))  # someone re-added the bot
    await router.wait(1)

    (reply,) = await fake.wait_for("sendMessage", where=lambda c: c.ok)
    assert reply.params["chat_id"] == str(GROUP)


async def test_unknown_chat_is_permanent_and_server_errors_are_transient(
    fake: FakeTelegramAPI, start_adapter: AdapterFactory
) -> None:
    adapter = await start_adapter()
    fake.fail_next("sendMessage", "chat_not_found", chat_id=-5)
    fake.fail_next("sendMessage", "server_error", chat_id=GROUP)

    with pytest.raises(DeliveryError) as missing:
        await adapter.send(Reply(text="x", to=to(-5)))
    with pytest.raises(DeliveryError) as broken:
        await adapter.send(Reply(text="x", to=to(GROUP)))

    assert missing.value.permanent is True
    assert broken.value.permanent is False


async def test_send_refuses_replies_without_a_telegram_destination(
    start_adapter: AdapterFactory,
) -> None:
    adapter = await start_adapter()
    with pytest.raises(DeliveryError):
        await adapter.send(Reply(text="x"))
    with pytest.raises(DeliveryError):
        await adapter.send(Reply(text="x", to=ChatRef(platform="slack", chat_id="C1")))


# --- group → supergroup ------------------------------------------------------------------------

OLD_GROUP = -4001


class Moves:
    """Records the adapter's on_chat_moved calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def __call__(self, old: ChatRef, new: ChatRef) -> bool:
        assert old.platform == new.platform == "telegram"
        self.calls.append((old.chat_id, new.chat_id))
        return True


async def test_upgrade_service_messages_move_the_chat_and_run_no_command(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    moves = Moves()
    adapter = await start_adapter(on_chat_moved=moves)
    for update in migration_updates(OLD_GROUP, GROUP):
        fake.push_update(update)
    await settle(fake, router)

    assert router.commands == []
    # both service messages report it; moving is idempotent on the application side
    assert moves.calls == [(str(OLD_GROUP), str(GROUP))] * 2
    await adapter.send(Reply(text="late alert", to=to(OLD_GROUP)))  # goes to the new id
    [sent] = fake.calls_of("sendMessage", ok=True)[-1:]
    assert (sent.params["chat_id"], sent.params["text"]) == (str(GROUP), "late alert")


async def test_chat_migrated_on_send_moves_the_chat_and_delivers_there(
    fake: FakeTelegramAPI, start_adapter: AdapterFactory
) -> None:
    moves = Moves()
    adapter = await start_adapter(on_chat_moved=moves)
    fake.fail_next("sendMessage", "migrated", chat_id=OLD_GROUP, migrate_to_chat_id=GROUP)

    await adapter.send(Reply(text="alert", to=to(OLD_GROUP)))

    assert [(c.params["chat_id"], c.ok) for c in fake.calls_of("sendMessage")] == [
        (str(OLD_GROUP), False),
        (str(GROUP), True),
    ]
    assert moves.calls == [(str(OLD_GROUP), str(GROUP))]


async def test_a_failing_move_is_logged_and_delivery_still_goes_on(
    fake: FakeTelegramAPI, start_adapter: AdapterFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(old: ChatRef, new: ChatRef) -> None:
        raise RuntimeError("disk full")

    adapter = await start_adapter(on_chat_moved=broken)
    fake.fail_next("sendMessage", "migrated", chat_id=OLD_GROUP, migrate_to_chat_id=GROUP)
    await adapter.send(Reply(text="alert", to=to(OLD_GROUP)))
    assert fake.calls_of("sendMessage", ok=True)[0].params["chat_id"] == str(GROUP)
    assert any("could not move the chat" in r.getMessage() for r in caplog.records)


async def test_a_long_button_sent_before_the_upgrade_still_works_after_it(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    adapter = await start_adapter(on_chat_moved=Moves())
    long_command = "/kpi note cac " + "a very long explanation " * 4
    await adapter.send(
        Reply(text="pick", buttons=(Button(label="Note", command=long_command),), to=to(OLD_GROUP))
    )
    [sent] = fake.calls_of("sendMessage")
    data = sent.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    for update in migration_updates(OLD_GROUP, GROUP):
        fake.push_update(update)

    fake.push_update(callback_query(data, chat=group_chat(GROUP)))
    (cmd,) = await router.wait(1)

    assert (cmd.chat.chat_id, cmd.via) == (str(GROUP), "button")
    assert f"/{cmd.name} {cmd.text}" == long_command.strip()


async def test_an_allowed_group_stays_allowed_as_a_supergroup(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    await start_adapter(allowed_chats=[OLD_GROUP, 99], on_chat_moved=Moves())
    for update in migration_updates(OLD_GROUP, GROUP):
        fake.push_update(update)
    fake.push_update(group_message("/kpi", chat_id=GROUP))
    (cmd,) = await router.wait(1)
    assert cmd.chat.chat_id == str(GROUP)
    assert NOT_ENABLED not in [c.params["text"] for c in fake.calls_of("sendMessage")]


# --- access, dedupe, menu ----------------------------------------------------------------------


async def test_other_chats_get_one_polite_notice_and_nothing_runs(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    adapter = await start_adapter(allowed_chats=[GROUP, 99])
    stranger = -100555
    fake.push_update(group_message("/kpi", chat_id=stranger))
    fake.push_update(group_message("/kpi list", chat_id=stranger))
    fake.push_update(callback_query("/kpi", chat=group_chat(stranger)))

    await settle(fake, router)
    await adapter.idle()

    assert router.commands == []
    notices = [c for c in fake.calls_of("sendMessage") if c.params["chat_id"] == str(stranger)]
    assert [c.params["text"] for c in notices] == [NOT_ENABLED]
    (answer,) = fake.calls_of("answerCallbackQuery")
    assert answer.params["text"] == NOT_ENABLED

    fake.push_update(group_message("/kpi", chat_id=GROUP))
    (cmd,) = await router.wait(1)
    assert cmd.chat.chat_id == str(GROUP)


async def test_update_redelivered_after_a_restart_is_not_dispatched_twice(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    seen = MemorySeenLog()  # stands in for the durable log both runs share
    first = await start_adapter(seen=seen)
    update = private_message("/kpi set cac 95", chat_id=PRIVATE)
    update["update_id"] = 500
    fake.push_update(dict(update))
    await router.wait(1)
    await fake.wait_for("sendMessage")
    await first.stop()

    await start_adapter(seen=seen)
    fake.push_update(dict(update))  # the crash happened before Telegram saw the offset
    await settle(fake, router)

    assert [c.text for c in router.commands] == ["set cac 95"]


async def test_command_menu_is_published_from_the_specs(
    fake: FakeTelegramAPI, start_adapter: AdapterFactory
) -> None:
    specs = [
        CommandSpec("kpi", "Show and edit KPIs", "", "", "", False),
        CommandSpec("kpi set", "Record a value", "", "", "", True),
        CommandSpec("okr checkin", "Check in on a key result", "", "", "", True),
        CommandSpec("x-y", "not a Telegram command name", "", "", "", False),
    ]
    await start_adapter(specs=specs)

    (call,) = fake.calls_of("setMyCommands")
    assert call.params["commands"] == [
        {"command": "kpi", "description": "Show and edit KPIs"},
        {"command": "okr", "description": "checkin"},
    ]


async def test_polling_starts_with_the_bot_identity_and_no_webhook(
    fake: FakeTelegramAPI, start_adapter: AdapterFactory
) -> None:
    adapter = await start_adapter()
    await fake.wait_for("getUpdates")

    assert adapter.bot_username == "ThisBot"
    assert [c.method for c in fake.calls[:3]] == ["getMe", "deleteWebhook", "getUpdates"]
    assert fake.calls_of("getUpdates")[0].params["allowed_updates"] == [
        "message",
        "edited_message",
        "callback_query",
    ]


async def test_a_rejected_token_fails_start_without_quoting_it(router: StubRouter) -> None:
    async with FakeTelegramAPI(token="999999999:SomeOtherTokenThatTheFakeAccepts_x") as other:
        adapter = TelegramAdapter(TOKEN, router, base_url=other.base_url, seen=MemorySeenLog())
        with pytest.raises(RuntimeError) as caught:
            await adapter.start()
        await adapter.stop()

    assert TOKEN not in str(caught.value)
    assert caught.value.__suppress_context__


# --- logs ------------------------------------------------------------------------------------


async def test_the_bot_token_appears_nowhere_in_logs_even_at_debug(
    fake: FakeTelegramAPI,
    router: StubRouter,
    start_adapter: AdapterFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    stream = io.StringIO()
    caplog.set_level(logging.DEBUG)
    setup_logging(logging.DEBUG, secrets=[TOKEN], stream=stream)
    try:
        # Even if someone turns the URL-printing HTTP loggers up, the token stays hidden.
        logging.getLogger("httpx").setLevel(logging.DEBUG)
        logging.getLogger("httpcore").setLevel(logging.DEBUG)
        adapter = await start_adapter()
        fake.push_update(private_message("/kpi", chat_id=PRIVATE))
        await router.wait(1)
        await fake.wait_for("sendMessage")
        fake.fail_next("sendMessage", "forbidden", chat_id=GROUP)
        with pytest.raises(DeliveryError):
            await adapter.send(Reply(text="x", to=to(GROUP)))
        async with FakeTelegramAPI(token="111111111:TokenTheFakeWantsInsteadOfOurs_abc") as other:
            rejected = TelegramAdapter(
                TOKEN, router, base_url=other.base_url, seen=MemorySeenLog()
            )
            with pytest.raises(RuntimeError):
                await rejected.start()
        await adapter.stop()
    finally:
        reset_logging()

    assert "HTTP Request: POST" in caplog.text  # httpx's lines were captured...
    assert "getMe" in stream.getvalue()
    assert TOKEN not in caplog.text  # ...without the token in them
    assert TOKEN not in stream.getvalue()
    assert all(TOKEN not in record.getMessage() for record in caplog.records)
    assert all(TOKEN not in (record.exc_text or "") for record in caplog.records)


# --- chat semantics: forwards, captions, who is credited -----------------------------------


async def test_forwarded_commands_and_hashtags_run_nothing(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    await start_adapter()
    origin = {"type": "user", "sender_user": user("Ben"), "date": 1_767_225_000}
    for text in ("/kpi set cac 60", "#articles +1"):
        update = group_message(text, chat_id=GROUP)
        update["message"]["forward_origin"] = origin
        fake.push_update(update)

    await settle(fake, router)

    assert router.commands == []


async def test_an_edited_command_runs_nothing_and_says_to_send_it_again(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    """Editing `/kpi set cac 955` into `/kpi set cac 95` changed nothing and said nothing,
    so the person trusted a correction that never happened."""
    await start_adapter()
    for text in ("/kpi set cac 95", "#articles +2", "great work, team"):
        fake.push_update({"edited_message": group_message(text, chat_id=GROUP)["message"]})

    await settle(fake, router)

    assert router.commands == []
    [notice] = [c for c in fake.calls_of("sendMessage") if c.params["chat_id"] == str(GROUP)]
    assert notice.params["text"] == EDITED_INTO_COMMAND


async def test_an_edit_says_undo_only_when_the_first_version_ran(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    """Every edit was told "/undo takes back what the first one changed", also when the
    first version was chatter that ran nothing (`great work` edited into `/kpi set cac 95`):
    /undo would then take back someone's earlier change."""
    await start_adapter()
    first = group_message("/kpi set cac 955", chat_id=GROUP)
    fake.push_update(first)
    await router.wait(1)
    edited = first["message"] | {"text": "/kpi set cac 95", "edit_date": 1_767_225_900}
    fake.push_update({"edited_message": edited})
    await settle(fake, router)
    chatter = group_message("great work", chat_id=GROUP)["message"]
    fake.push_update({"edited_message": chatter | {"text": "/kpi set cac 95"}})
    await settle(fake, router)

    assert [c.name for c in router.commands] == ["kpi"]
    edits = await fake.wait_for(
        "sendMessage", 2, where=lambda c: c.params["text"].startswith("Edited")
    )
    assert [c.params["text"] for c in edits] == [EDITED_COMMAND, EDITED_INTO_COMMAND]
    assert EDITED_COMMAND == (
        "Edited messages are not read, so that edit changed nothing: send the corrected "
        "command as a new message (/undo takes back what the first one changed)."
    )
    assert EDITED_INTO_COMMAND == (
        "Edited messages are not read, so that edit ran nothing: send the command as a new "
        "message."
    )


async def test_an_edit_of_a_file_that_could_not_be_read_does_not_point_to_undo(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    """A file over the download limit, captioned `/scorecard import`, runs nothing (the bot
    says it is too big); an edit of its caption was told to /undo what it changed
    (review12: it was remembered as run before the download was tried)."""
    await start_adapter()
    update = group_message("", chat_id=GROUP)
    sent = update["message"]
    del sent["text"]
    sent["caption"] = "/scorecard import"
    sent["caption_entities"] = [{"type": "bot_command", "offset": 0, "length": 10}]
    sent["document"] = {"file_id": "big", "file_unique_id": "u-big", "file_size": 30 * 2**20}
    fake.push_update(update)
    await fake.wait_for("sendMessage", where=lambda c: "too big" in c.params["text"])
    fake.push_update({"edited_message": sent | {"caption": "/scorecard import now"}})
    await settle(fake, router)

    assert router.commands == []
    [edit] = await fake.wait_for("sendMessage", where=lambda c: "Edited" in c.params["text"])
    assert edit.params["text"] == EDITED_INTO_COMMAND


async def test_a_photo_caption_hashtag_is_logged_like_a_message(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    await start_adapter()
    update = group_message("", chat_id=GROUP)
    message = update["message"]
    del message["text"]
    message["photo"] = [{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90}]
    message["caption"] = "#articles +1 the launch photo"
    message["caption_entities"] = [{"type": "hashtag", "offset": 0, "length": 9}]
    fake.push_update(update)

    (cmd,) = await router.wait(1)

    assert (cmd.name, cmd.text, cmd.via) == ("log", "articles +1 the launch photo", "hashtag")


async def test_anonymous_admin_and_linked_channel_posts_are_credited_by_who_posted(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    await start_adapter()
    anonymous = group_message("#articles +1", chat_id=GROUP)
    anonymous["message"]["from"] = {
        "id": 1087968824,
        "is_bot": True,
        "first_name": "Group",
        "username": "GroupAnonymousBot",
    }
    anonymous["message"]["sender_chat"] = group_chat(GROUP)
    channel = {"id": -1009876, "type": "channel", "title": "Company News"}
    forwarded = group_message("#articles +2", chat_id=GROUP)
    forwarded["message"] |= {
        "from": {"id": 777000, "is_bot": False, "first_name": "Telegram"},
        "sender_chat": channel,
        "is_automatic_forward": True,
        "forward_origin": {"type": "channel", "chat": channel, "message_id": 5, "date": 1},
    }
    fake.push_update(anonymous)
    fake.push_update(forwarded)

    first, second = await router.wait(2)

    assert first.actor.display_name == "anonymous admin"
    assert (second.actor.display_name, second.text) == ("Company News", "articles +2")


# --- replies and deliveries under faults -----------------------------------------------------


async def test_a_reply_that_meets_a_server_error_is_sent_again(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory, fake_time: FakeTime
) -> None:
    adapter = await start_adapter()
    fake.fail_next("sendMessage", "server_error", chat_id=PRIVATE)
    fake.push_update(private_message("/kpi set cac 84", chat_id=PRIVATE))

    await router.wait(1)
    await adapter.idle()

    first, second = fake.calls_of("sendMessage")
    assert (first.status, second.status) == (500, 200)
    assert second.params["text"] == "ok kpi set cac 84"
    assert TELEGRAM.backoff[0] in fake_time.sleeps


async def test_reply_retries_are_bounded_and_the_give_up_is_logged(
    fake: FakeTelegramAPI,
    router: StubRouter,
    start_adapter: AdapterFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    adapter = await start_adapter()
    fake.fail_next("sendMessage", "server_error", count=99, chat_id=PRIVATE)
    fake.push_update(private_message("/kpi", chat_id=PRIVATE))

    await router.wait(1)
    await adapter.idle()

    assert len(fake.calls_of("sendMessage")) == TELEGRAM.attempts
    assert any(r.getMessage().startswith("reply not delivered") for r in caplog.records)


QUICK = dataclasses.replace(TELEGRAM, read_timeout=0.3)  # answers later than this "may" arrive


async def test_a_slow_accept_is_resent_at_most_once_after_a_longer_wait(
    fake: FakeTelegramAPI, start_adapter: AdapterFactory, fake_time: FakeTime
) -> None:
    adapter = await start_adapter(policy=QUICK)
    fake.answer_late("sendMessage", 0.6, count=2)  # accepted, answered after the timeout

    with pytest.raises(DeliveryError) as caught:
        await adapter.send(Reply(text="CAC is back to green", to=to(GROUP)))

    assert len(fake.calls_of("sendMessage")) == 2  # the one resend, never a third
    assert caught.value.permanent and caught.value.maybe_delivered
    assert QUICK.maybe_delivered_wait in fake_time.sleeps


async def test_an_accept_within_the_read_timeout_is_sent_once(
    fake: FakeTelegramAPI, start_adapter: AdapterFactory
) -> None:
    adapter = await start_adapter(policy=dataclasses.replace(TELEGRAM, read_timeout=2.0))
    fake.answer_late("sendMessage", 0.3)

    await adapter.send(Reply(text="CAC is back to green", to=to(GROUP)))

    assert len(fake.calls_of("sendMessage")) == 1
    # the production policy waits well past the 8 s accepts seen under load
    assert TELEGRAM.read_timeout >= 15


async def test_a_long_flood_wait_is_handed_back_and_holds_no_other_chat(
    fake: FakeTelegramAPI, start_adapter: AdapterFactory, fake_time: FakeTime
) -> None:
    adapter = await start_adapter()
    fake.fail_next("sendMessage", "retry_after", retry_after=117, chat_id=GROUP)

    with pytest.raises(DeliveryError) as caught:
        await adapter.send(Reply(text="alert", to=to(GROUP)))
    await adapter.send(Reply(text="meanwhile", to=to(PRIVATE)))

    assert caught.value.permanent is False
    assert caught.value.retry_after == pytest.approx(117)
    assert len(fake.calls_of("sendMessage", ok=False)) == 1  # given up at once, not waited
    assert fake_time.sleeps == []  # the other chat was not held


async def test_a_reply_told_to_wait_long_is_kept_for_after_the_wait(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    """A reply to a command that met a flood wait of 117 s was logged and dropped: the
    change was saved and the person saw nothing. It is handed to the durable outbox
    (`Core.send_later`), to its chat, with the wait."""
    kept: list[tuple[Reply, float]] = []
    done = asyncio.Event()

    async def later(reply: Reply, wait: float, why: str, sent: int) -> bool:
        kept.append((reply, wait))
        done.set()
        return True

    await start_adapter(later=later)
    fake.fail_next("sendMessage", "retry_after", retry_after=117, chat_id=GROUP)
    fake.push_update(group_message("/kpi set cac 95", chat_id=GROUP))
    await asyncio.wait_for(done.wait(), 5)

    [(reply, wait)] = kept
    assert (reply.text, reply.to) == ("ok kpi set cac 95", to(GROUP))
    assert wait == pytest.approx(117)
    assert fake.calls_of("sendMessage", ok=True) == []


async def test_a_reply_whose_first_message_arrived_is_kept_without_it(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    """A reply of two messages whose second met a flood wait of 117 s was kept for later
    whole, so the chat read the first message twice (probe12 left it noted). It is kept
    saying one message arrived, and the outbox's send skips that one."""
    kept: list[tuple[Reply, int]] = []
    done = asyncio.Event()

    async def later(reply: Reply, wait: float, why: str, sent: int) -> bool:
        kept.append((reply, sent))
        done.set()
        return True

    long = Reply(text="first " + "x" * 4000 + "\nsecond " + "y" * 100)
    router.replies = lambda cmd: [long]
    adapter = await start_adapter(later=later)
    fake.fail_next(
        "sendMessage", "retry_after", retry_after=117, when=lambda p: "second" in p["text"]
    )
    fake.push_update(group_message("/kpi", chat_id=GROUP))
    await asyncio.wait_for(done.wait(), 5)

    [(reply, sent)] = kept
    assert (reply.text, reply.to, sent) == (long.text, to(GROUP), 1)
    [first] = fake.calls_of("sendMessage", ok=True)
    assert first.params["text"].startswith("first ")
    await adapter.send(reply, sent)  # what the outbox does after the wait
    [_, rest] = fake.calls_of("sendMessage", ok=True)
    assert rest.params["text"].startswith("second ")


async def test_a_private_reply_told_to_wait_long_is_not_kept_for_a_public_post(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    """A private reply (a new API token) kept for later would go out through the outbox,
    which posts to the whole chat, and sit in the store meanwhile (review12): it is not
    kept; the person asks again."""
    kept: list[Reply] = []

    async def later(reply: Reply, wait: float, why: str, sent: int) -> bool:
        kept.append(reply)
        return True

    router.replies = lambda cmd: [Reply(text="Token: kt_secret", private=True)]
    await start_adapter(later=later)
    fake.fail_next("sendMessage", "retry_after", retry_after=117, chat_id=GROUP)
    fake.push_update(group_message("/scorecard token", chat_id=GROUP))
    await fake.wait_for("sendMessage", where=lambda c: c.params["chat_id"] == str(GROUP))
    await settle(fake, router)

    assert kept == []


async def test_a_second_chat_told_to_wait_means_the_bot_wide_limit_holds_every_chat(
    fake: FakeTelegramAPI, start_adapter: AdapterFactory, fake_time: FakeTime
) -> None:
    adapter = await start_adapter()
    for chat in (GROUP, PRIVATE):
        fake.fail_next("sendMessage", "retry_after", retry_after=90, chat_id=chat)
        with pytest.raises(DeliveryError):
            await adapter.send(Reply(text="alert", to=to(chat)))
    assert fake_time.sleeps == []  # the first wait held only its own chat

    await adapter.send(Reply(text="a third chat", to=to(-100777)))

    assert fake_time.sleeps == [pytest.approx(90)]


async def test_an_update_ptb_cannot_read_is_skipped_with_one_line_and_serving_goes_on(
    fake: FakeTelegramAPI,
    router: StubRouter,
    start_adapter: AdapterFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await start_adapter()
    note = "my private salary note"
    broken = {"message": {"message_id": 1, "text": note, "from": user()}}  # no chat, no date
    update_id = fake.push_update(broken)
    fake.push_update(private_message("/kpi", chat_id=PRIVATE))

    (cmd,) = await router.wait(1)

    assert cmd.name == "kpi"
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in problems] == [
        f"skipped update {update_id} that could not be read (KeyError)"
    ]
    assert all(note not in f"{r.getMessage()} {r.exc_text}" for r in caplog.records)
    assert len(fake.calls_of("getUpdates")) <= 4


async def test_a_poll_that_fails_before_any_answer_never_replays_the_last_batch(
    fake: FakeTelegramAPI, router: StubRouter, start_adapter: AdapterFactory
) -> None:
    adapter = await start_adapter()
    fake.push_update(private_message("/kpi", chat_id=PRIVATE))
    await router.wait(1)
    await adapter.stop()  # PTB closes its connections: the next call cannot be sent

    with pytest.raises(Exception, match="not initialized") as failed:
        await adapter._app.bot.get_updates()
    assert type(failed.value).__name__ == "NetworkError"  # PTB's, for the updater to retry


async def test_stopping_is_quiet_even_when_the_last_get_updates_fails(
    fake: FakeTelegramAPI, start_adapter: AdapterFactory, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = await start_adapter()
    fake.fail_next("getUpdates", "server_error", when=lambda params: params.get("timeout") == "0")

    await adapter.stop()

    assert [c.status for c in fake.calls_of("getUpdates") if c.params.get("timeout") == "0"] == [
        500
    ]
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert loud == []
