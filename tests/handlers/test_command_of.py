"""`Command.of` is `Command(...)` of the seven fields a parsed message gives, checked by hand
for values of the exact types: the same state (fields, which were set, extra and private
parts, the dump), or refused the same way, for any values, of any type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, get_args

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import handlers.contract as contract
from handlers.contract import Actor, ChatRef, Command, Via

WORDS = st.text(max_size=8)
PLATFORMS = st.sampled_from(["console", "telegram", "slack"])
ZONES = st.sampled_from(
    [None, UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-5, seconds=7))]
)


class _Actor(Actor):
    """A subclass: pydantic keeps it as it is too, but it is not the exact type."""


class _Moment(datetime):
    """A datetime subclass."""


class _Word(str):
    """A str subclass (pydantic hands back a plain str)."""


def _actors(platform: str) -> st.SearchStrategy[Any]:
    fields = st.fixed_dictionaries(
        {"platform": st.just(platform), "user_id": WORDS, "display_name": WORDS}
    )
    return st.one_of(
        fields.map(lambda f: Actor(**f)),
        fields.map(lambda f: _Actor(**f)),
        fields,  # a dict: pydantic builds the model
    )


_INSTANTS = st.one_of(
    st.datetimes(timezones=ZONES),
    st.datetimes(timezones=ZONES).map(lambda at: _Moment.fromisoformat(at.isoformat())),
    st.datetimes(timezones=ZONES).map(datetime.isoformat),  # a string pydantic parses
)


@st.composite
def fields(draw: st.DrawFn) -> dict[str, Any]:
    platform = draw(PLATFORMS)
    chat = ChatRef(platform=platform, chat_id=draw(WORDS), thread_id=draw(st.none() | WORDS))
    if draw(st.booleans()):  # what parsing hands over: the exact types (the instant aware or not)
        return {
            "name": draw(WORDS),
            "text": draw(WORDS),
            "actor": Actor(platform=platform, user_id=draw(WORDS), display_name=draw(WORDS)),
            "chat": chat,
            "received_at": draw(st.datetimes(timezones=ZONES)),
            "via": draw(st.sampled_from([*get_args(Via), "other"])),
            "message_id": draw(st.none() | WORDS),
        }
    return {
        "name": draw(st.one_of(WORDS, WORDS.map(_Word))),
        "text": draw(st.one_of(WORDS, WORDS.map(_Word), st.integers())),
        "actor": draw(_actors(platform)),
        "chat": draw(st.one_of(st.just(chat), st.just(chat.model_dump()))),
        "received_at": draw(_INSTANTS),
        "via": draw(
            st.sampled_from([*get_args(Via), "other"]).flatmap(
                lambda via: st.sampled_from([via, _Word(via)])
            )
        ),
        "message_id": draw(st.one_of(st.none(), WORDS, WORDS.map(_Word), st.integers())),
    }


def _state(cmd: Command) -> tuple[Any, ...]:
    return (
        type(cmd),
        list(cmd.__dict__.items()),  # in order
        cmd.__pydantic_fields_set__,
        cmd.__pydantic_extra__,
        cmd.__pydantic_private__,
        cmd.model_dump(),
        repr(cmd),
    )


def _made(how: Any, values: dict[str, Any]) -> Any:
    try:
        return _state(how(**values))
    except ValidationError as exc:
        return ValidationError, exc.error_count()


def _same(values: dict[str, Any]) -> None:
    assert _made(Command.of, values) == _made(Command, values)


@settings(max_examples=400, deadline=None)
@given(fields())
def test_of_is_the_validated_command_for_any_values(values: dict[str, Any]) -> None:
    _same(values)


def test_a_command_made_by_of_is_frozen_and_its_fields_set_its_own() -> None:
    made = Command.of(
        name="kpi",
        text="set cac 95",
        actor=Actor(platform="console", user_id="1", display_name="Anna"),
        chat=ChatRef(platform="console", chat_id="c"),
        received_at=datetime(2026, 12, 1, tzinfo=UTC),
        via="command",
        message_id=None,
    )
    with pytest.raises(ValidationError, match="frozen"):
        made.name = "okr"  # type: ignore[misc]
    made.__pydantic_fields_set__.add("args")  # what another command's set holds is not shared
    assert "args" not in contract._OF


def _caught(values_check: Any) -> None:
    check = settings(max_examples=400, deadline=None, phases=[Phase.generate], derandomize=True)(
        given(fields())(values_check)
    )
    with pytest.raises(AssertionError):
        check()


def test_the_property_catches_an_unknown_via_let_by(monkeypatch: pytest.MonkeyPatch) -> None:
    """A planted bug: the `via` check lets a value the field's Literal refuses by."""
    monkeypatch.setattr(contract, "_VIAS", {**contract._VIAS, "other": "other"})
    _caught(_same)


def test_the_property_catches_a_default_out_of_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """A planted bug: a field's default in `Command.of` not the model's."""
    monkeypatch.setattr(contract, "_DEFAULTS", {**contract._DEFAULTS, "help_command": "/start"})
    _caught(_same)
