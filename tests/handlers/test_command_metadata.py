"""Command metadata lives beside each handler (`@command`); the router, /help and the
platform menus read it from there, and what it promises (read-only, admin-only) holds."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import Core, build_core
from bot.demo import load_demo
from handlers.contract import Command, CommandSpec, Context, Handler, Reply, UsageError, command
from handlers.router import Router
from tests.support import FakeChat, FixedClock

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"


def _digest(data: Path) -> dict[str, str]:
    """Every stored byte, by file: equal digests mean nothing was written."""
    return {
        str(path.relative_to(data)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(data.rglob("*"))
        if path.is_file() and not path.name.endswith((".lock", "-shm"))
    }


@pytest.fixture
def demo_core(tmp_path: Path, clock: FixedClock) -> Iterator[Core]:
    core = build_core(tmp_path / "data", clock=clock)
    load_demo(core.store, FakeChat(core).chat.key, clock())
    yield core
    core.close()


def _read_only_examples(core: Core) -> list[str]:
    examples: list[str] = []
    for spec in core.router.specs():
        if not spec.mutates:
            examples += [f"/{spec.path}", spec.example]
    return examples


async def test_every_read_only_command_leaves_the_store_untouched(
    demo_core: Core, tmp_path: Path
) -> None:
    chat = FakeChat(demo_core)
    await chat.say("/kpi")  # the first command may settle the freshly loaded demo
    await demo_core.store.commit()
    examples = _read_only_examples(demo_core)
    assert len(examples) >= 20
    for text in examples:
        before = _digest(tmp_path / "data")
        await chat.say(text)
        assert _digest(tmp_path / "data") == before, f"{text!r} wrote to the store"


def test_every_route_is_declared_by_its_handler(core: Core) -> None:
    specs = core.router.specs()
    for spec in specs:
        assert spec.usage.startswith(f"/{spec.path}"), spec
        assert spec.example.startswith(f"/{spec.path.split()[0]}"), spec
        assert spec.summary and " ".join(spec.doc.split()).startswith(spec.summary), spec


def test_no_usage_line_is_typed_a_second_time_inside_a_handler() -> None:
    # a usage belongs in @command; errors say `UsageError(..., usage=True)` instead
    for path in HANDLERS.glob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "UsageError(" in line or "need(" in line:
                assert not re.search(r"Usage: \{?/?[a-z]", line), f"{path.name}:{number}"


async def test_a_usage_mistake_ends_with_the_declared_usage(chat: FakeChat) -> None:
    assert await chat.error("/kpi set cac") == (
        "Missing arguments. Usage: /kpi set <key> <value> [YYYY-MM-DD] [note…]"
    )
    assert await chat.error("/perspective rename finance") == (
        'Missing arguments. Usage: /perspective rename <key> "<name>"'
    )


async def test_a_declared_usage_is_appended_only_when_asked(core: Core, chat: FakeChat) -> None:
    @command("strict", usage="/strict <n>", example="/strict 1")
    async def strict(cmd: Command, ctx: Context) -> Reply:
        """Refuse politely."""
        raise UsageError("Plain refusal." if cmd.args else "No number.", usage=not cmd.args)

    core.router.include(strict)
    assert await chat.error("/strict") == "No number. Usage: /strict <n>"
    assert await chat.error("/strict x") == "Plain refusal."


def test_a_path_cannot_be_declared_twice() -> None:
    @command("twice", usage="/twice", example="/twice")
    async def one(cmd: Command, ctx: Context) -> None:
        """One."""

    router = Router()
    router.include(one)
    with pytest.raises(ValueError, match="duplicate route 'twice'"):
        router.include(one)


def test_a_handler_without_metadata_is_refused() -> None:
    async def bare(cmd: Command, ctx: Context) -> None:
        """Bare."""

    with pytest.raises(TypeError, match="has no @command metadata"):
        Router().include(bare)


async def test_an_alias_answers_like_its_command_and_has_its_own_usage(
    core: Core, chat: FakeChat
) -> None:
    @command("plans", usage="/plans [all]", example="/plans", aliases=("plan",))
    async def plans(cmd: Command, ctx: Context) -> Reply:
        """List the plans."""
        return Reply(text=f"plans {' '.join(cmd.args)}".strip())

    core.router.include(plans)
    paths = {s.path: s for s in core.router.specs()}
    assert paths["plan"].usage == "/plan [all]"
    assert await chat.ok("/plan all") == await chat.ok("/plans all") == "plans all"
    # /initiative without a key still lists like /initiatives (with one, it shows that one)
    assert await chat.ok("/initiative") == await chat.ok("/initiatives")


@pytest.fixture
def guarded(clock: FixedClock) -> Iterator[Core]:
    core = build_core(None, clock=clock, admins=frozenset({"console:boss", "@lead"}))
    yield core
    core.close()


async def test_admin_commands_are_refused_to_others_and_change_nothing(guarded: Core) -> None:
    chat = FakeChat(guarded, user="boss")
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    assert await chat.error("/kpi remove cac", user="intern") == (
        "Only this chat's admins may use /kpi remove."
    )
    assert "CAC" in await chat.ok("/kpi")
    assert "Removed" in await chat.ok("/kpi remove cac")


async def test_admins_are_matched_by_platform_id_or_handle(guarded: Core) -> None:
    chat = FakeChat(guarded, user="boss")
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    # FakeChat users have the handle @<name>: "lead" is an admin by handle
    assert "Removed" in await chat.ok("/kpi remove cac", user="lead")


async def test_member_commands_stay_open_to_everyone(guarded: Core) -> None:
    chat = FakeChat(guarded, user="intern")
    assert "Saved KPI" in await chat.ok(
        '/kpi add cac "CAC" baseline=120 target=80 perspective=finance'
    )


async def test_without_configured_admins_everyone_is_an_admin(chat: FakeChat) -> None:
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    assert "Removed" in await chat.ok("/kpi remove cac", user="someone")


def test_help_marks_admin_commands_when_admins_are_configured(guarded: Core) -> None:
    admin_paths = {s.path for s in guarded.router.specs() if s.role == "admin"}
    assert {"kpi remove", "scorecard apply", "alerts off"} <= admin_paths


async def test_help_says_which_commands_are_for_admins(guarded: Core) -> None:
    text = await FakeChat(guarded).ok("/help kpi remove")
    assert "(admins only)" in text


def test_a_summary_is_the_whole_first_paragraph_even_when_it_wraps() -> None:
    @command("wrapped", usage="/wrapped", example="/wrapped")
    async def wrapped(cmd: Command, ctx: Context) -> None:
        """Show each stage, the conversion between stages, the change
        since last period and the biggest drop.

        Details that /help <command> shows.
        """

    [spec] = _specs(wrapped)
    assert spec.summary == (
        "Show each stage, the conversion between stages, the change since last period and the "
        "biggest drop."
    )


def _specs(handler: Handler) -> tuple[CommandSpec, ...]:
    router = Router()
    router.include(handler)
    return tuple(router.specs())
