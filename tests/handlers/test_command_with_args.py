"""`Command.with_args` is `model_copy(update={"args": ...})`: the router's cheap copy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from handlers.contract import Actor, Attachment, ChatRef, Command

WORDS = st.text(max_size=8)
ARGS = st.lists(WORDS, max_size=4).map(tuple)
PLATFORMS = st.sampled_from(["console", "telegram", "slack"])
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-5))])

#: Each optional field given or left to its default, so the fields set vary too.
OPTIONAL: dict[str, st.SearchStrategy[Any]] = {
    "args": ARGS,
    "text": WORDS,
    "via": st.sampled_from(["command", "hashtag", "button", "schedule", "mention"]),
    "message_id": st.none() | WORDS,
    "help_command": st.sampled_from(["/help", "/scorecard help"]),
    "attachment": st.none() | st.builds(Attachment, filename=WORDS, data=st.binary(max_size=4)),
}


@st.composite
def commands(draw: st.DrawFn) -> Command:
    given_fields = {k: draw(v) for k, v in OPTIONAL.items() if draw(st.booleans())}
    platform = draw(PLATFORMS)
    return Command(
        name=draw(WORDS),
        actor=Actor(platform=platform, user_id=draw(WORDS), display_name=draw(WORDS)),
        chat=ChatRef(platform=platform, chat_id=draw(WORDS), thread_id=draw(st.none() | WORDS)),
        received_at=draw(st.datetimes(timezones=ZONES)),
        **given_fields,
    )


def _state(cmd: Command) -> tuple[Any, ...]:
    """Everything a copy carries: fields, which were set, extra and private parts."""
    return (
        type(cmd),
        cmd.__dict__,
        cmd.__pydantic_fields_set__,
        cmd.__pydantic_extra__,
        cmd.__pydantic_private__,
        cmd.model_dump(exclude_unset=True),
    )


def _same_as_model_copy(
    copy: Callable[[Command, tuple[str, ...]], Command], *, shrink: bool = True
) -> None:
    phases = tuple(Phase) if shrink else (Phase.generate,)

    @settings(max_examples=60, deadline=None, phases=phases, derandomize=not shrink)
    @given(commands(), ARGS)
    def check(cmd: Command, args: tuple[str, ...]) -> None:
        copied = copy(cmd, args)
        assert _state(copied) == _state(cmd.model_copy(update={"args": args}))
        assert copied.args == args
        assert copied is not cmd

    check()


def test_with_args_is_model_copy_with_the_args_updated_for_any_command() -> None:
    _same_as_model_copy(Command.with_args)


def test_the_comparison_catches_a_copy_that_forgets_the_args_were_set() -> None:
    def forgets(cmd: Command, args: tuple[str, ...]) -> Command:
        return Command.model_construct(
            _fields_set=set(cmd.__pydantic_fields_set__), **{**cmd.__dict__, "args": args}
        )

    try:
        _same_as_model_copy(forgets, shrink=False)
    except AssertionError:
        return
    raise AssertionError("a copy that leaves `args` out of the fields set passed")


def test_a_copy_is_frozen_and_leaves_the_original_as_it_was() -> None:
    cmd = Command(
        name="kpi",
        text="set cac 95",
        actor=Actor(platform="console", user_id="1", display_name="Anna"),
        chat=ChatRef(platform="console", chat_id="c"),
        received_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    copied = cmd.with_args(("cac", "95"))
    assert (copied.args, cmd.args) == (("cac", "95"), ())
    try:
        copied.name = "okr"  # type: ignore[misc]
    except Exception as exc:  # pydantic's ValidationError for a frozen instance
        assert "frozen" in str(exc)
    else:
        raise AssertionError("the copy is not frozen")
