"""Review of the per-chat sweep summary: whatever happens to a chat's KPIs and initiatives
(values, unsets, edits, removes, logs and unlogs, cadence and done changes, chat moves back
and forth, failed steps rolled back, sweeps storing summaries, restarts, days passing), a
summary found stored equals one built from the chat's tables now."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.models import Cadence, Initiative, Kpi, Measurement, ProgressLog
from storage import ChatMoveConflict, Store, open_store

START = datetime(2026, 11, 21, 10, tzinfo=UTC)
CHATS = ("telegram:-1", "telegram:-2")
_N = st.integers(min_value=0, max_value=40)
ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(
            (
                "kpi",
                "value",
                "unset",
                "remove_kpi",
                "initiative",
                "log",
                "unlog",
                "sweep",
                "move",
                "failed",
                "restart",
                "days",
            )
        ),
        st.sampled_from(CHATS),
        _N,
        _N,
    ),
    max_size=25,
)


class _Run:
    """One store on disk and the clock, driven by the actions."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store: Store = open_store(root)
        self.now = START
        self.logged: dict[tuple[str, str], list[datetime]] = {}

    def do(self, action: str, chat: str, a: int, b: int) -> None:
        store, key = self.store, f"k{a % 3}"
        if action == "kpi":
            every = ("day", "week", "month")[b % 3]
            store.kpis.put(
                chat,
                Kpi(
                    key=key, name=f"K {b}", objective="o", target=10, every=every, test=b % 7 == 0
                ),
            )
        elif action == "value" and store.kpis.get(chat, key) is not None:
            day = self.now.date() - timedelta(days=b)
            store.kpis.record(chat, Measurement(kpi=key, value=b, day=day, at=self.now))
        elif action == "unset" and store.kpis.get(chat, key) is not None:
            store.kpis.unset(chat, key, self.now.date() - timedelta(days=b))
        elif action == "remove_kpi" and (kpi := store.kpis.get(chat, key)) is not None:
            removed = None if kpi.removed_at else self.now
            store.kpis.put(chat, kpi.model_copy(update={"removed_at": removed}))
        elif action == "initiative":
            period = ("week", "month", "quarter")[b % 3]
            store.initiatives.put(
                chat,
                Initiative(
                    key=f"i{a % 2}",
                    name="I",
                    cadence=None if b % 5 == 0 else Cadence(count=1 + b % 4, period=period),
                    done=b % 6 == 0,
                ),
            )
        elif action == "log" and store.initiatives.get(chat, f"i{a % 2}") is not None:
            at = self.now - timedelta(hours=b * 7, minutes=a)
            entry = store.initiatives.log(
                chat, ProgressLog(initiative=f"i{a % 2}", amount=1 + b % 3, at=at)
            )
            self.logged.setdefault((chat, f"i{a % 2}"), []).append(entry.at)
        elif action == "unlog" and (times := self.logged.get((chat, f"i{a % 2}"))):
            store.initiatives.unlog(chat, f"i{a % 2}", times.pop(b % len(times)))
        elif action == "sweep":
            store.sweeps.get(chat, self.now)
        elif action == "move":
            other = CHATS[1 - CHATS.index(chat)]
            try:
                moved = store.move_chat(chat, other)
            except ChatMoveConflict:
                moved = False
            if moved:
                self.logged = {
                    (other if c == chat else c, k): v for (c, k), v in self.logged.items()
                }
        elif action == "failed":
            try:
                with store.atomic():
                    self.do(("value", "log", "kpi", "unset")[b % 4], chat, a, b)
                    raise _Failed
            except _Failed:
                pass
        elif action == "restart":
            store.close()
            self.store = open_store(self.root)
        elif action == "days":
            self.now += timedelta(days=1 + b % 20, hours=a)

    def check(self, step: Any) -> None:
        for chat in CHATS:
            assert self.store.sweeps.check(chat, self.now), (step, chat)


class _Failed(Exception):
    """A command that failed half-way."""


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(actions=ACTIONS)
def test_a_stored_sweep_summary_always_equals_one_built_from_its_chats_tables(
    actions: list[tuple[str, str, int, int]],
) -> None:
    with tempfile.TemporaryDirectory() as root:
        run = _Run(Path(root))
        try:
            for step in actions:
                run.do(*step)
                run.check(step)
        finally:
            run.store.close()


def test_the_review_catches_a_summary_its_sources_left_behind() -> None:
    """Planted: a value recorded without dropping the summary is seen by the check."""
    with tempfile.TemporaryDirectory() as root:
        run = _Run(Path(root))
        try:
            run.do("kpi", CHATS[0], 0, 1)
            run.do("sweep", CHATS[0], 0, 0)
            run.store.db._summarised = ()  # the planted bug
            run.do("value", CHATS[0], 0, 1)
            assert not run.store.sweeps.check(CHATS[0], run.now)
        finally:
            run.store.close()
