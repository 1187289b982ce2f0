"""The router's promises: help from docstrings, friendly errors, reference ids."""

from __future__ import annotations

import logging

import pytest

from bot.app import Core
from handlers.contract import Actor, Command, Context, Reply, command
from handlers.parsing import command_from_text
from tests.support import FakeChat

ACTOR = Actor(platform="slack", user_id="U1", display_name="Anna", handle="@anna")


async def test_help_lists_every_command_family(chat: FakeChat, core: Core) -> None:
    text = await chat.ok("/help")
    for name in core.router.top_level():
        assert f"/{name}" in text


async def test_help_for_a_command_shows_usage_doc_and_example(chat: FakeChat) -> None:
    text = await chat.ok("/help kpi set")
    assert "/kpi set <key> <value>" in text
    assert "Record a measurement" in text
    assert "e.g. /kpi set cac 95" in text


async def test_every_command_has_help_text_and_an_example(core: Core) -> None:
    for spec in core.router.specs():
        assert spec.summary and spec.summary != spec.path, spec.path
        assert spec.example.startswith("/"), spec.path


async def test_unknown_command_suggests_the_closest(chat: FakeChat) -> None:
    assert "Did you mean /kpi" in await chat.error("/kpo")


@pytest.mark.parametrize("text", ["/", "/ ", "//", "/ hello", "/\n/kpi"])
async def test_a_slash_without_a_command_word_says_how_a_command_is_written(
    chat: FakeChat, text: str
) -> None:
    assert await chat.error(text) == (
        "Type a command right after the slash, like /kpi. Send /help for the list."
    )


@pytest.mark.parametrize("text", ["/ kpi", "/ KPI set cac 5", "// kpi"])
async def test_a_space_after_the_slash_is_pointed_out_with_the_command_meant(
    chat: FakeChat, text: str
) -> None:
    assert await chat.error(text) == ("A command has no space after the slash: did you mean /kpi?")


async def test_unexpected_error_is_logged_with_a_reference(
    chat: FakeChat, core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    @command("boom", usage="/boom", example="/boom")
    async def broken(cmd: Command, ctx: Context) -> Reply:
        """Break."""
        raise RuntimeError("boom")

    core.router.include(broken)
    with caplog.at_level(logging.ERROR):
        text = await chat.error("/boom")
    ref = text.split("ref ")[1].split(")")[0]
    assert "Nothing was changed" in text
    assert ref in caplog.text and "boom" in caplog.text


async def test_failing_mutation_changes_nothing(chat: FakeChat, core: Core) -> None:
    @command("half", usage="/half", example="/half", mutates=True)
    async def half_write(cmd: Command, ctx: Context) -> Reply:
        """Write, then fail."""
        ctx.store.chats.save(
            cmd.chat.key,
            ctx.store.chats.settings(cmd.chat.key).model_copy(update={"timezone": "Asia/Tokyo"}),
        )
        raise RuntimeError("after the write")

    core.router.include(half_write)
    assert "Nothing was changed" in await chat.error("/half")
    assert "Timezone: UTC" in await chat.ok("/timezone")


async def test_mutating_handler_that_suspends_is_refused(chat: FakeChat, core: Core) -> None:
    import asyncio

    @command("sleepy", usage="/sleepy", example="/sleepy", mutates=True)
    async def sleepy(cmd: Command, ctx: Context) -> Reply:
        """Suspend inside a mutation."""
        ctx.store.chats.save(
            cmd.chat.key,
            ctx.store.chats.settings(cmd.chat.key).model_copy(update={"timezone": "Asia/Tokyo"}),
        )
        await asyncio.sleep(0)
        return Reply(text="never")

    core.router.include(sleepy)
    assert "Nothing was changed" in await chat.error("/sleepy")
    assert "Timezone: UTC" in await chat.ok("/timezone")


@pytest.mark.parametrize(
    "command, expected",
    [
        ("/timezone Europe/Moscwo", "Did you mean Europe/Moscow"),
        ("/help kpi st", "Did you mean /kpi set"),
    ],
)
async def test_near_misses_get_a_suggestion(chat: FakeChat, command: str, expected: str) -> None:
    assert expected in await chat.error(command)


async def test_help_is_spelled_the_way_the_platform_asks_for_it(core: Core) -> None:
    chat = FakeChat(core)

    async def on_slack(text: str) -> str:
        cmd = command_from_text(text, actor=ACTOR, chat=chat.chat, received_at=core.ctx.clock())
        assert cmd is not None
        [reply] = await core.dispatch(cmd.model_copy(update={"help_command": "/scorecard help"}))
        return reply.plain()

    assert "Send /scorecard help for the list." in await on_slack("/kpii")
    listing = await on_slack("/help")
    assert "/scorecard help <command>, e.g. /scorecard help kpi" in listing
    assert "/help" not in listing.replace("/scorecard help", "")
    assert (await on_slack("/help help")).startswith("/scorecard help\n/scorecard help [command]")
    assert "or /scorecard help okr" in await on_slack("/okr nonsense")


async def test_kpi_set_help_names_the_key_equals_value_form_and_the_fraction_question(
    chat: FakeChat,
) -> None:
    """`/kpi set`'s help told neither of `cac=95` nor of the question a `0.031` on a `%`
    KPI gets, so a team met both first in a reply."""
    assert await chat.ok("/help kpi set") == (
        "/kpi set\n"
        "/kpi set <key> <value> [YYYY-MM-DD] [note…]\n"
        "  Record a measurement (date defaults to today in the chat's timezone).\n"
        "\n"
        "`/kpi set cac=95` is `/kpi set cac 95`; one KPI per message.\n"
        "The date may be typed in words (`5 ноября`, `3 nov`, `yesterday`, `last friday`); a day\n"
        "and month without a year are this year's, and a future date is refused. A value more\n"
        "than 100× away from the KPI's recent values is only saved after you confirm it. On a\n"
        "`%` KPI, a share written as a fraction (`0.031` for 3.1 %) is asked about first, with\n"
        "both readings as buttons; `3.1` or `0.031%` is saved at once.\n"
        "  e.g. /kpi set cac 95 2026-03-31 after the spring campaign"
    )


async def test_log_help_names_the_times_amount(chat: FakeChat) -> None:
    """`/log`'s help read only `[+N]` after `#articles x2` came to log 2 (c216018), so a
    team met `xN` first by accident."""
    assert await chat.ok("/help log") == (
        "/log\n"
        "/log <initiative> [+N|xN] [YYYY-MM-DD] [note…]\n"
        "  Log progress on an initiative (default +1); `#articles +1 note` in chat does the "
        "same.\n"
        "\n"
        "The amount may be written `+3`, `x3` or `×3` (`-1` corrects). Each later tag naming an\n"
        "initiative logs too: `#articles +1 #calls +3` logs both (at most 20 tags a message).\n"
        "  e.g. /log articles +1 published the BSC guide"
    )
