"""`AuditRepo.next_entry` keeps each chat's month names instead of spelling them at every
mutating command, a log index's sealed count is summed at C speed, and an audited step in
a UTC chat takes a UTC instant as its own local time: after any sequence of audited steps
across chats and their zones, months (a zone moved back across a month's end included)
and full blocks, with the kept names dropped and spelled again, each must give what the
rule it replaced gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from storage import AuditEntry, ChatSettings, Store, open_store
from storage.audit import AUDIT_BLOCK, AuditRepo
from storage.base import AppendLog, _sealed

START = datetime(2026, 10, 31, 20, tzinfo=UTC)


def _replaced_next_entry(repo: AuditRepo, chat: str, at: datetime) -> tuple[Any, ...]:
    """The rule `next_entry` followed before it kept the month names (session 15)."""
    months = repo._months(chat)
    month = "%04d-%02d" % (at.year, at.month)  # noqa: UP031 - as it was
    if months and months[-1] > month:
        month = months[-1]
    log = AppendLog(repo._db, "audit", f"{chat}:{month}", block=AUDIT_BLOCK, stamp="at")
    count, newest = log.count_and_newest()
    entry_id = f"{month[2:4]}{month[5:]}-{count + 1}"
    if newest is None or len(newest[1]) >= AUDIT_BLOCK or month not in months:
        return (entry_id, None, ())
    return (entry_id, newest[0], (f"auditm:{chat}", log.index_name, newest[0]))


def _replaced_sealed(docs: dict[str, dict[str, Any]]) -> tuple[int, int | None]:
    """`_sealed` before it summed at C speed."""
    doc = next(iter(docs.values()), None)
    blocks = doc["blocks"] if doc else []
    if not blocks:
        return 0, None
    return sum(int(b[1]) for b in blocks[:-1]), int(blocks[-1][0])


def _step(store: Store, chat: str, at: datetime, own: int) -> None:
    """An audited step with one change, and `own` entries added in it (blocks fill up,
    and an entry of another month lists that month)."""
    audited = store.audited(chat, actor_id="console:1", actor="@a", command="/x", at=at)
    with store.atomic(), audited:
        store.changes.note(chat, "kpi", "k", None, {"n": at.isoformat()})
        for i in range(own):
            month = at.isoformat()[2:7].replace("-", "")
            entry = AuditEntry(id=f"{month}-9{i}", at=at, actor_id="x", actor="@x", command="/x")
            store.audit.add(chat, entry)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.integers(0, 3),  # entries of its own the step adds
            st.integers(0, 600),  # minutes on since the last step (crosses months' ends)
            st.sampled_from([1, 0, -300, 330]),  # the instant's zone: UTC, or minutes off it
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(1, 4),  # names kept before all are dropped
)
def test_next_entry_is_the_rule_it_replaced(
    steps: list[tuple[str, int, int, int]], kept: int
) -> None:
    store = open_store(None)
    zones = {"a": "UTC", "b": "America/New_York", "c": "Asia/Kolkata"}
    for who, zone in zones.items():
        store.chats.save(who, ChatSettings(timezone=zone))
    at = START
    with mock.patch("storage.audit._NAMES_KEPT", kept):
        for chat, own, minutes, offset in steps:
            at = at + timedelta(minutes=minutes)
            # UTC itself (the clock's), or an offset: a zero one named, as timezone(0) is UTC
            tz = UTC if offset == 1 else timezone(timedelta(minutes=offset), f"{offset:+}")
            at = at.astimezone(tz)
            for who in zones:
                assert tuple(store.audit.next_entry(who, at)) == _replaced_next_entry(
                    store.audit, who, at
                )
            local = at.astimezone(ZoneInfo(zones[chat]))  # the step's month, as it was
            expected = _replaced_next_entry(store.audit, chat, local)[0]
            _step(store, chat, at, own)
            stored = next(e for e in store.audit.newest(chat) if e.actor_id == "console:1")
            assert stored.id == expected


@given(
    st.lists(
        st.tuples(st.integers(1, 10_000), st.integers(0, 64), st.just("2026-11-23")),
        max_size=30,
    )
)
def test_sealed_is_the_sum_it_replaced(blocks: list[tuple[int, int, str]]) -> None:
    for docs in ({}, {"1": {"blocks": [list(b) for b in blocks]}}):
        assert _sealed(docs) == _replaced_sealed(docs)
