"""`Measurement.of`, `ProgressLog.of` and `Reply.of` are the models' own constructors of the
same fields, checked by hand for values of the exact types: the same state (each field's
value and type, which were set, extra and private parts, the dump, the repr), or refused
the same way, for any values, of any type."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

import handlers.contract as contract
import scoring.models as models
from handlers.contract import ChatRef, Reply
from scoring.models import Measurement, ProgressLog
from storage.base import to_doc
from storage.kpis import value_doc

WORDS = st.text(max_size=8)
ZONES = st.sampled_from(
    [
        None,
        UTC,
        ZoneInfo("Europe/Moscow"),
        timezone(timedelta(hours=3)),
        timezone(timedelta(hours=-5, seconds=7)),
    ]
)


class _Moment(datetime):
    """A datetime subclass."""


class _Day(date):
    """A date subclass."""


class _Word(str):
    """A str subclass (pydantic hands back a plain str)."""


class _Number(float):
    """A float subclass."""


class _Chat(ChatRef):
    """A ChatRef subclass: pydantic keeps it as it is, but it is not the exact type."""


def _words() -> st.SearchStrategy[Any]:
    return st.one_of(WORDS, WORDS.map(_Word), st.integers(), st.none())


def _numbers() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.floats(),
        st.floats(allow_nan=False).map(_Number),
        st.integers(),
        st.booleans(),
        st.floats(allow_nan=False).map(str),
    )


def _instants() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.datetimes(timezones=ZONES),
        st.datetimes(timezones=ZONES).map(lambda at: _Moment.fromisoformat(at.isoformat())),
        st.datetimes(timezones=ZONES).map(datetime.isoformat),  # a string pydantic parses
        st.dates(),
    )


def _days() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.dates(),
        st.dates().map(lambda d: _Day(d.year, d.month, d.day)),
        st.dates().map(date.isoformat),
        st.datetimes(),  # midnight or not: pydantic decides
    )


@st.composite
def measurements(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):  # what a `/kpi set` hands over: the exact types (aware or not)
        return {
            "kpi": draw(WORDS),
            "value": draw(st.floats()),
            "day": draw(st.dates()),
            "at": draw(st.datetimes(timezones=ZONES)),
            "by": draw(WORDS),
            "by_id": draw(WORDS),
            "note": draw(WORDS),
        }
    return {
        "kpi": draw(_words()),
        "value": draw(_numbers()),
        "day": draw(_days()),
        "at": draw(_instants()),
        "by": draw(_words()),
        "by_id": draw(_words()),
        "note": draw(_words()),
    }


@st.composite
def typed_values(draw: st.DrawFn) -> dict[str, Any]:
    """A `/kpi set`'s fields, any number (of any type) for its value."""
    return {
        "kpi": draw(WORDS),
        "value": draw(_numbers()),
        "day": draw(st.dates()),
        "at": draw(st.datetimes(timezones=ZONES)),
        "by": draw(WORDS),
        "by_id": draw(WORDS),
        "note": draw(WORDS),
    }


@st.composite
def progress_logs(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):  # what a hashtag hands over
        return {
            "initiative": draw(WORDS),
            "amount": draw(st.floats()),
            "at": draw(st.datetimes(timezones=ZONES)),
            "by": draw(WORDS),
            "by_id": draw(WORDS),
            "note": draw(WORDS),
        }
    return {
        "initiative": draw(_words()),
        "amount": draw(_numbers()),
        "at": draw(_instants()),
        "by": draw(_words()),
        "by_id": draw(_words()),
        "note": draw(_words()),
    }


@st.composite
def replies(draw: st.DrawFn) -> dict[str, Any]:
    chat = ChatRef(platform="console", chat_id=draw(WORDS), thread_id=draw(st.none() | WORDS))
    return {
        "text": draw(_words()),
        "to": draw(
            st.sampled_from(
                [chat, None, _Chat(**chat.model_dump()), chat.model_dump(), "console:c"]
            )
        ),
    }


def _state(made: BaseModel) -> tuple[Any, ...]:
    with warnings.catch_warnings():  # a planted bug's model may hold a value of a wrong type
        warnings.simplefilter("ignore")
        dumped = made.model_dump_json()
    return (
        type(made),
        [(k, type(v), repr(v)) for k, v in made.__dict__.items()],  # in order, exactly
        made.__pydantic_fields_set__,
        made.__pydantic_extra__,
        made.__pydantic_private__,
        dumped,
        repr(made),
    )


def _made(how: Any, values: dict[str, Any]) -> Any:
    try:
        return _state(how(**values))
    except ValidationError as exc:
        return ValidationError, exc.error_count()


def _same_measurement(values: dict[str, Any]) -> None:
    assert _made(Measurement.of, values) == _made(Measurement, values)


def _stored_alike(values: dict[str, Any]) -> None:
    """Where `Measurement.exact` takes the fields as they are, the quick `/kpi set`'s
    `value_doc` of them stores what the validated model's document does, byte for byte."""
    if Measurement.exact(**values):
        assert orjson.dumps(value_doc(**values)) == orjson.dumps(to_doc(Measurement(**values)))


def _same_log(values: dict[str, Any]) -> None:
    assert _made(ProgressLog.of, values) == _made(ProgressLog, values)


def _same_reply(values: dict[str, Any]) -> None:
    assert _made(Reply.of, values) == _made(Reply, values)


@settings(max_examples=400, deadline=None)
@given(measurements())
def test_measurement_of_is_the_validated_model_for_any_values(values: dict[str, Any]) -> None:
    _same_measurement(values)


@settings(max_examples=400, deadline=None)
@given(st.one_of(measurements(), typed_values()))
def test_a_value_taken_as_it_is_is_stored_as_its_model(values: dict[str, Any]) -> None:
    _stored_alike(values)


@settings(max_examples=400, deadline=None)
@given(progress_logs())
def test_progress_log_of_is_the_validated_model_for_any_values(values: dict[str, Any]) -> None:
    _same_log(values)


@settings(max_examples=200, deadline=None)
@given(replies())
def test_reply_of_is_the_validated_reply_for_any_values(values: dict[str, Any]) -> None:
    _same_reply(values)


def test_models_made_by_of_are_frozen_and_own_their_fields_set() -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    made: list[BaseModel] = [
        Measurement.of(kpi="cac", value=1.0, day=at.date(), at=at, by="", by_id="", note=""),
        ProgressLog.of(initiative="a", amount=1.0, at=at, by="", by_id="", note=""),
        Reply.of("hi", None),
    ]
    for model in made:
        with pytest.raises(ValidationError, match="frozen"):
            model.__setattr__("note", "x")
        model.__pydantic_fields_set__.add("extra")  # another model's set is not shared
    assert "extra" not in models._MEASURED | models._LOGGED | contract._TEXT_TO


def _caught(strategy: st.SearchStrategy[dict[str, Any]], check: Any) -> None:
    run = settings(max_examples=400, deadline=None, phases=[Phase.generate], derandomize=True)(
        given(strategy)(check)
    )
    with pytest.raises(AssertionError):
        run()


def test_the_property_catches_a_naive_instant_let_by(monkeypatch: pytest.MonkeyPatch) -> None:
    """A planted bug: the `AwareDatetime` check lets a datetime without an offset by."""
    monkeypatch.setattr(models, "_aware", lambda at: type(at) is datetime)
    _caught(measurements(), _same_measurement)
    _caught(progress_logs(), _same_log)


def test_the_property_catches_a_number_taken_as_a_float(monkeypatch: pytest.MonkeyPatch) -> None:
    """A planted bug: `exact` takes any number as it is (pydantic stores `5` as `5.0`)."""
    real = Measurement.exact

    def loose(**fields: Any) -> bool:
        if type(fields["value"]) is int:
            fields["value"] = float(fields["value"])
        return real(**fields)

    monkeypatch.setattr(Measurement, "exact", staticmethod(loose))
    _caught(typed_values(), _stored_alike)


def test_the_property_catches_any_chat_let_by(monkeypatch: pytest.MonkeyPatch) -> None:
    """A planted bug: `to` let by unchecked (pydantic makes a ChatRef of a dict, refuses a
    string)."""

    def loose(text: str, to: Any) -> Reply:
        if type(text) is str:
            state = contract._REPLY_DEFAULTS.copy()
            state.update(text=text, to=to)
            return models.assembled(Reply, state, set(contract._TEXT_TO))
        return Reply(text=text, to=to)

    monkeypatch.setattr(Reply, "of", staticmethod(loose))
    _caught(replies(), _same_reply)
