"""`instant_text` spells an instant as pydantic's serialiser does (what every stored document
holds, and exact lookups compare), without calling it for the usual offsets: any datetime,
naive or aware, at any offset, must give pydantic's text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from storage import base
from storage.base import instant_text

_PYDANTIC = TypeAdapter(datetime)

#: Fixed offsets down to the microsecond (pydantic cuts them to the minute), named zones.
_ZONES = st.one_of(
    st.none(),
    st.just(UTC),
    st.just(ZoneInfo("UTC")),
    st.sampled_from(
        ["Europe/London", "Europe/Copenhagen", "Asia/Kolkata", "America/St_Johns"]
    ).map(ZoneInfo),
    st.timedeltas(
        min_value=timedelta(hours=-23, minutes=59), max_value=timedelta(hours=23, minutes=59)
    ).map(timezone),
)
_INSTANTS = st.builds(lambda moment, zone: moment.replace(tzinfo=zone), st.datetimes(), _ZONES)


def _pydantic(at: datetime) -> str:
    return str(_PYDANTIC.dump_python(at, mode="json"))


def test_the_usual_instants_are_spelled_as_stored() -> None:
    assert instant_text(datetime(2026, 11, 23, 9, tzinfo=UTC)) == "2026-11-23T09:00:00Z"
    at = datetime(2026, 11, 23, 9, 0, 0, 1000, tzinfo=ZoneInfo("Europe/Copenhagen"))
    assert instant_text(at) == "2026-11-23T09:00:00.001000+01:00"


@settings(max_examples=300, deadline=None)
@given(_INSTANTS)
def test_an_instant_is_spelled_as_pydantic_spells_it(at: datetime) -> None:
    _check_through_module(at)


def test_the_property_catches_an_offset_with_seconds_spelled_by_isoformat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: every non-zero offset spelled by `isoformat`, seconds and all."""

    def whole(at: datetime) -> str:
        text = at.isoformat()
        return f"{text[:-6]}Z" if at.utcoffset() == timedelta(0) else text

    monkeypatch.setattr(base, "instant_text", whole)
    check = settings(max_examples=300, deadline=None, phases=[Phase.generate], derandomize=True)(
        given(_INSTANTS)(_check_through_module)
    )
    with pytest.raises(AssertionError):
        check()


def _check_through_module(at: datetime) -> None:
    assert base.instant_text(at) == _pydantic(at)


#: Instants in several zones, and how often each is spelled in a row or again later: the
#: same object again (answered from the last spelling) and an equal instant at another
#: offset (a different text) must both come out as pydantic spells them.
_SEQUENCES = st.lists(st.tuples(_INSTANTS, _ZONES, st.integers(0, 2)), min_size=1, max_size=8)


def _spell_sequence(seq: list[tuple[datetime, tzinfo | None, int]]) -> None:
    seen: list[datetime] = []
    for at, zone, again in seq:
        moved = at if at.tzinfo is None or zone is None else at.astimezone(zone)
        for instant in (at, moved, *seen[-1:]):
            for _ in range(1 + again):
                assert base.instant_text(instant) == _pydantic(instant)
        seen.append(at)


@settings(max_examples=200, deadline=None)
@given(_SEQUENCES)
def test_the_last_spelling_is_reused_only_for_the_same_object(
    seq: list[tuple[datetime, tzinfo | None, int]],
) -> None:
    _spell_sequence(seq)


def test_the_reuse_property_catches_a_spelling_kept_for_an_equal_instant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: the last spelling reused for any equal instant (14:00+02:00 is
    12:00Z: equal, spelled differently)."""
    spell = base.instant_text
    kept: list[tuple[datetime, str]] = []

    def by_equality(at: datetime) -> str:
        if kept and kept[-1][0] == at:
            return kept[-1][1]
        kept.append((at, spell(at)))
        return kept[-1][1]

    monkeypatch.setattr(base, "instant_text", by_equality)
    check = settings(max_examples=300, deadline=None, phases=[Phase.generate], derandomize=True)(
        given(_SEQUENCES)(_spell_sequence)
    )
    with pytest.raises(AssertionError):
        check()


def test_the_property_catches_orjson_spelling_utc_as_an_offset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: orjson's spelling without `OPT_UTC_Z` (`+00:00`, not `Z`)."""
    monkeypatch.setattr(orjson, "OPT_UTC_Z", 0)
    check = settings(max_examples=300, deadline=None, phases=[Phase.generate], derandomize=True)(
        given(_INSTANTS)(_check_through_module)
    )
    with pytest.raises(AssertionError):
        check()


class _Moment(datetime):
    """A datetime subclass, which orjson refuses to serialise."""


@settings(max_examples=100, deadline=None)
@given(_INSTANTS)
def test_a_datetime_subclass_is_spelled_as_pydantic_spells_it(at: datetime) -> None:
    moment = _Moment.fromisoformat(at.isoformat())
    assert base.instant_text(moment) == _pydantic(at)
