"""`KpiRepo.newest`, the one model of a KPI's newest value kept per index version (what the
sweep's red reminder reads), is `latest(...)[-1]` after any sequence of values recorded,
replaced, unset and rolled back, and across a reopen; a planted bug (the oldest of the
index's latest values) fails that."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from scoring.models import Measurement
from storage import kpis, open_store

CHAT = "console:c"
KEYS = ("a", "b")
FIRST = date(2026, 10, 1)

_ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(("set", "unset", "rollback", "reopen")),
        st.sampled_from(KEYS),
        st.integers(0, 40),  # days after FIRST
        st.integers(0, 9),
    ),
    max_size=25,
)


class _Boom(Exception):
    """Raised inside an atomic block to roll it back."""


def _replay(data: Path, actions: list[tuple[str, str, int, int]]) -> None:
    store = open_store(data)
    try:
        for action, key, days, value in actions:
            day = FIRST + timedelta(days=days)
            if action == "reopen":
                store.close()
                store = open_store(data)
            elif action == "unset":
                with store.atomic():
                    store.kpis.unset(CHAT, key, day)
            else:
                at = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
                value_at = Measurement(kpi=key, value=value, day=day, at=at + timedelta(hours=1))
                with contextlib.suppress(_Boom), store.atomic():
                    store.kpis.record(CHAT, value_at)
                    if action == "rollback":
                        raise _Boom
            for each in KEYS:
                latest = store.kpis.latest(CHAT, each)
                assert store.kpis.newest(CHAT, each) == (latest[-1] if latest else None), each
    finally:
        store.close()


@settings(max_examples=40, deadline=None)
@given(_ACTIONS)
def test_the_newest_value_is_the_last_of_the_latest_ones(
    actions: list[tuple[str, str, int, int]],
) -> None:
    _in_a_new_store(actions)


def test_the_property_catches_a_newest_value_read_from_the_wrong_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted bug: the first of the index's latest values is taken for the newest."""

    def oldest(docs: Mapping[str, Mapping[str, Any]]) -> Measurement | None:
        index = next(iter(docs.values()), None)
        latest = () if index is None else index.get("latest", ())
        return Measurement.model_validate(latest[0]) if latest else None

    monkeypatch.setattr(kpis, "_newest", oldest)
    unshrunk = settings(max_examples=40, deadline=None, phases=[Phase.generate], derandomize=True)
    with pytest.raises(AssertionError):
        unshrunk(given(_ACTIONS)(_in_a_new_store))()


def _in_a_new_store(actions: list[tuple[str, str, int, int]]) -> None:
    with tempfile.TemporaryDirectory(prefix="newest-") as tmp:
        _replay(Path(tmp) / "data", actions)
