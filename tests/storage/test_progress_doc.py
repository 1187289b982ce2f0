"""A hashtag's entry is numbered by `replaced` (pydantic's `model_copy(update=…)` without its
generic copy) and stored as `progress_doc` (`to_doc` built field by field): for any entry
and number, the same model state and the same document, byte for byte, as the model's own
ways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import storage.initiatives as initiatives
from scoring.models import ProgressLog, replaced
from storage.base import to_doc
from storage.initiatives import progress_doc

ZONES = st.sampled_from(
    [
        UTC,
        ZoneInfo("Europe/Moscow"),
        ZoneInfo("America/St_Johns"),
        timezone(timedelta(hours=3)),
        timezone(timedelta(hours=-5, seconds=7)),
        timezone(timedelta(minutes=30, microseconds=5)),
    ]
)
WORDS = st.text(max_size=8)
NUMBERS = st.none() | st.integers(min_value=-(2**40), max_value=2**40)


@st.composite
def entries(draw: st.DrawFn) -> ProgressLog:
    made = ProgressLog(
        initiative=draw(WORDS),
        amount=draw(st.floats() | st.integers(min_value=-(10**15), max_value=10**15)),
        at=draw(st.datetimes(timezones=ZONES)),
        by=draw(WORDS),
        by_id=draw(WORDS),
        note=draw(WORDS),
        number=draw(NUMBERS),
    )
    if draw(st.booleans()):
        return made.model_copy(update={"number": draw(NUMBERS)})  # fields set differ
    return made


def _state(made: ProgressLog) -> tuple[Any, ...]:
    return (
        type(made),
        [(k, type(v), repr(v)) for k, v in made.__dict__.items()],
        made.__pydantic_fields_set__,
        made.__pydantic_extra__,
        made.__pydantic_private__,
        repr(made),
    )


def _same(entry: ProgressLog, number: int | None) -> None:
    numbered = replaced(entry, {"number": number})
    assert _state(numbered) == _state(entry.model_copy(update={"number": number}))
    assert numbered.__pydantic_fields_set__ is not entry.__pydantic_fields_set__
    doc, expected = progress_doc(numbered), to_doc(numbered)
    assert [(k, type(v)) for k, v in doc.items()] == [(k, type(v)) for k, v in expected.items()]
    assert orjson.dumps(doc) == orjson.dumps(expected)


@settings(max_examples=400, deadline=None)
@given(entries(), NUMBERS)
def test_numbered_and_stored_as_the_model_would(entry: ProgressLog, number: int | None) -> None:
    _same(entry, number)


def test_an_entry_with_the_newest_instant_spelled_as_pydantic_does() -> None:
    at = datetime(2026, 11, 23, 9, 0, 0, 1, tzinfo=UTC)
    entry = ProgressLog(initiative="articles", amount=1.0, at=at, by="@a", by_id="t:1")
    _same(entry, 7)
    assert progress_doc(replaced(entry, {"number": 7}))["at"] == "2026-11-23T09:00:00.000001Z"


def test_the_property_catches_an_offset_spelled_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """A planted bug: the instant spelled by `isoformat` (`+00:00`, not `Z` as stored)."""
    monkeypatch.setattr(initiatives, "instant_text", datetime.isoformat)
    check = settings(max_examples=400, deadline=None, phases=[Phase.generate], derandomize=True)(
        given(entries(), NUMBERS)(_same)
    )
    with pytest.raises(AssertionError):
        check()
