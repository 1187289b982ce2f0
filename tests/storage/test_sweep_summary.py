"""A chat's sweep summary is dropped with any change to its sources, in the same step:
a rolled-back step brings both back, a chat move carries a true one, and a chat key the
engine cannot split never stores one; and a store an older version wrote since has them
all rebuilt. The KPI definitions it carries are the ones their table holds."""

from __future__ import annotations

import dataclasses
import math
import sqlite3
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.models import Cadence, Initiative, Kpi, Measurement, ProgressLog, StagedTarget
from storage import Store, open_store, sweep_summary
from storage.kpis import KpiFact
from storage.sqlite import DB_FILE

AT = datetime(2026, 11, 21, 10, tzinfo=UTC)
CHAT = "telegram:-12"


def _filled() -> Store:
    store = open_store(None)
    store.kpis.put(CHAT, Kpi(key="cac", name="CAC", objective="o", target=80, every="week"))
    store.kpis.record(CHAT, Measurement(kpi="cac", value=90, day=date(2026, 11, 2), at=AT))
    store.initiatives.put(
        CHAT, Initiative(key="posts", name="Posts", cadence=Cadence(count=4, period="month"))
    )
    store.initiatives.log(CHAT, ProgressLog(initiative="posts", amount=1, at=AT))
    return store


def test_a_source_change_drops_the_summary_and_a_rollback_brings_it_back() -> None:
    store = _filled()
    store.sweeps.get(CHAT, AT)
    assert store.db.docs(f"sweep:{CHAT}")
    with pytest.raises(RuntimeError), store.atomic():
        store.initiatives.log(CHAT, ProgressLog(initiative="posts", amount=2, at=AT))
        assert not store.db.docs(f"sweep:{CHAT}")  # dropped in the same step
        raise RuntimeError("the command failed")
    assert store.db.docs(f"sweep:{CHAT}") and store.sweeps.check(CHAT, AT)
    store.kpis.record(CHAT, Measurement(kpi="cac", value=70, day=date(2026, 11, 20), at=AT))
    assert not store.db.docs(f"sweep:{CHAT}")
    assert store.sweeps.get(CHAT, AT).stale_candidates({"week": "2026-11-19"}) == []


def test_a_moved_chat_keeps_a_true_summary() -> None:
    store = _filled()
    before = store.sweeps.get(CHAT, AT)
    assert store.move_chat(CHAT, "telegram:-1005")
    assert store.sweeps.check("telegram:-1005", AT)
    assert store.sweeps.get("telegram:-1005", AT) == before


def test_a_chat_key_with_more_colons_never_stores_a_summary() -> None:
    store = open_store(None)
    store.kpis.put("slack:T1:C2", Kpi(key="cac", name="CAC", objective="o", target=80))
    store.sweeps.get("slack:T1:C2", AT)
    assert not store.db.table_names("sweep:")


def test_summaries_are_dropped_after_a_version_without_them_wrote_the_store(
    tmp_path: Path,
) -> None:
    """A rollback to a version that does not drop summaries, then this one again: a value
    that version recorded would leave the stored summary behind, so all are rebuilt."""
    store = open_store(tmp_path)
    store.kpis.put(CHAT, Kpi(key="cac", name="CAC", objective="o", target=80, every="week"))
    store.sweeps.get(CHAT, AT)
    store.close()
    again = open_store(tmp_path)  # this version again: summaries kept
    assert again.db.docs(f"sweep:{CHAT}")
    again.close()
    with sqlite3.connect(tmp_path / DB_FILE) as con:  # an older version's commit
        con.execute("UPDATE meta SET value = value + 1 WHERE key = 'commits'")
    con.close()
    later = open_store(tmp_path)
    assert not later.db.docs(f"sweep:{CHAT}")
    later.sweeps.get(CHAT, AT)  # rebuilt, and this version's commit makes them current
    later.close()
    assert open_store(tmp_path).db.docs(f"sweep:{CHAT}")


@pytest.mark.parametrize("before", [3, 4])
def test_a_summary_of_a_format_before_is_not_trusted_and_is_rebuilt(before: int) -> None:
    """Format 3 kept each KPI definition as an object, 4 as its JSON text and its facts as a
    list of five values per KPI, 5 by `every` as day-first texts: a stored summary of an
    older format is neither read (its parts would not parse as this one's) nor kept."""
    store = _filled()
    summary = store.sweeps.get(CHAT, AT)
    name = f"sweep:{CHAT}"
    doc = dict(next(iter(store.db.docs(name).values())))
    assert doc["format"] == sweep_summary.FORMAT == 5
    older = {**doc, "format": 4, "facts": summary.rows()}
    if before == 3:
        older.update(format=3, kpis={k: orjson.loads(v) for k, v in doc["kpis"].items()})
    store.db.put_single(name, older)
    assert store.sweeps.stored(CHAT) is None and store.sweeps.check(CHAT, AT)  # not trusted
    rebuilt = store.sweeps.get(CHAT, AT)
    assert next(iter(store.db.docs(name).values())) == doc
    assert rebuilt.kpi("cac") == summary.kpi("cac") == store.kpis.get(CHAT, "cac")


def test_a_cadence_total_is_sum_of_its_amounts_from_since_in_log_order() -> None:
    """As b4f5814 summed them, on any Python: from 3.12 `sum` compensates its rounding and
    adding one by one does not (1.9 against 1.9000000000000001 here), so the sweep could
    call a met cadence behind; `math.fsum` stands in for 3.12's `sum`."""
    amounts = [0.1, 0.2, 0.3, 0.1, 0.2, 0.7, 0.3]
    micros = sweep_summary.micros
    stored = [[micros(AT + timedelta(hours=h)), a] for h, a in enumerate(amounts)]
    stored.insert(0, [micros(AT - timedelta(hours=1)), 5.0])  # before the period
    facts = sweep_summary.CadenceFacts("posts", "week", 4, AT - timedelta(days=1), {}, stored)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sweep_summary, "sum", math.fsum, raising=False)
        assert facts.total(AT) == math.fsum(amounts)


_OFFSETS = st.sampled_from(
    [timedelta(hours=h) for h in (-14, -5, 0, 2, 14)] + [timedelta(hours=5, minutes=30)]
)
_ENTRIES = st.lists(
    st.tuples(
        st.integers(0, 3) | st.integers(0, 20 * 24 * 3600 * 10**6),  # µs after 1 Nov (UTC)
        _OFFSETS,
        st.sampled_from((1.0, 0.1, 0.2, 2.5, -1.0)),
    ),
    max_size=6,
)


def _totals_agree(entries: list[tuple[int, timedelta, float]], since: list[datetime]) -> None:
    """The summary's total from `since` on equals the amounts of the stored entries whose
    instant is not before `since`, added in log order (`logs` reads them in time order),
    for each `since` and each entry's own instant and a microsecond either side of it
    (log times in any offset)."""
    store = open_store(None)
    store.initiatives.put(
        CHAT, Initiative(key="posts", name="Posts", cadence=Cadence(count=4, period="month"))
    )
    start = datetime(2026, 11, 1, tzinfo=UTC)
    logged = []  # as stored, in log order
    for after, offset, amount in entries:
        at = (start + timedelta(microseconds=after)).astimezone(timezone(offset))
        entry = ProgressLog(initiative="posts", amount=amount, at=at)
        logged.append(store.initiatives.log(CHAT, entry))
    facts = store.sweeps.get(CHAT, AT).cadence[0]
    edges = [e.at + timedelta(microseconds=d) for e in logged for d in (-1, 0, 1)]
    for when in [*since, *edges]:
        if when >= facts.since:
            assert facts.total(when) == sum(e.amount for e in logged if e.at >= when), str(when)


@settings(max_examples=60, deadline=None)
@given(entries=_ENTRIES, offset=_OFFSETS, after=st.integers(0, 20 * 24 * 3600))
def test_a_cadence_total_counts_the_entries_from_since_on_whatever_their_offsets(
    entries: list[tuple[int, timedelta, float]], offset: timedelta, after: int
) -> None:
    """The summary keeps log times as microseconds since the epoch and compares numbers:
    the same entries count as comparing the instants would, at any offset, to the
    microsecond."""
    since = (datetime(2026, 11, 1, tzinfo=UTC) + timedelta(seconds=after)).astimezone(
        timezone(offset)
    )
    _totals_agree(entries, [since])


def test_log_times_compared_as_wall_clocks_are_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The planted bug: the times kept as their wall clocks, not their instants, so an
    entry logged at 10:00+02:00 (08:00 UTC) would count from 09:00 UTC on."""
    entries = [(8 * 3600 * 10**6, timedelta(hours=2), 1.0)]  # 10:00+02:00
    since = [datetime(2026, 11, 1, 9, tzinfo=UTC)]
    _totals_agree(entries, since)
    wall = datetime(1970, 1, 1)

    def wall_clock(at: datetime) -> int:
        return (at.replace(tzinfo=None) - wall) // timedelta(microseconds=1)

    monkeypatch.setattr(sweep_summary, "micros", wall_clock)
    with pytest.raises(AssertionError, match="09:00"):
        _totals_agree(entries, since)


def _kept_from_agrees(facts: sweep_summary.CadenceFacts, around: list[datetime]) -> None:
    """What the summary keeps is counted from its own `since` on, to the microsecond, at
    any offset: before it a total is None (the log itself is read), from it on a number;
    `total_from` of an instant's `micros` is `total` of the instant; and the parsed facts
    equal those the class builds from the same fields."""
    rebuilt = sweep_summary.CadenceFacts(
        facts.key, facts.period, facts.count, facts.since, facts.doc, facts.stored_logs
    )
    assert facts == rebuilt and facts.kept_from == rebuilt.kept_from
    for when in around:
        total = facts.total(when)
        assert (total is None) == (when < facts.since), str(when)
        assert facts.total_from(sweep_summary.micros(when)) == total, str(when)


@settings(max_examples=60, deadline=None)
@given(
    entries=_ENTRIES, offset=_OFFSETS, shift=st.integers(-3, 3) | st.integers(-(10**11), 10**11)
)
def test_a_cadence_total_starts_at_the_summarys_own_since_to_the_microsecond(
    entries: list[tuple[int, timedelta, float]], offset: timedelta, shift: int
) -> None:
    """`CadenceFacts` compares `micros` kept from its `since` (parsed once per text), not
    instants: the same answer as comparing them, either side of `since` and on it."""
    store = open_store(None)
    store.initiatives.put(
        CHAT, Initiative(key="posts", name="Posts", cadence=Cadence(count=4, period="month"))
    )
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for after, log_offset, amount in entries:
        at = (start + timedelta(microseconds=after)).astimezone(timezone(log_offset))
        store.initiatives.log(CHAT, ProgressLog(initiative="posts", amount=amount, at=at))
    facts = store.sweeps.get(CHAT, AT).cadence[0]
    when = (facts.since + timedelta(microseconds=shift)).astimezone(timezone(offset))
    edges = [facts.since + timedelta(microseconds=d) for d in (-1, 0, 1)]
    _kept_from_agrees(facts, [when, *edges])


def test_a_parsed_summary_is_the_one_its_class_builds_and_stays_frozen() -> None:
    """`parse` fills a summary's and its cadence facts' dicts directly: the same objects
    as their constructors build, as frozen, each with its own memo of validated KPIs."""
    summary = _filled().sweeps.get(CHAT, AT)
    built = sweep_summary.SweepSummary(summary.facts, summary.cadence, summary.definitions)
    assert summary == built and summary.cadence and summary.definitions
    assert summary.kpi("cac") == built.kpi("cac") and summary.kpi("nope") is None
    assert sweep_summary.parse(_stored_doc())._models is not summary._models
    for frozen in (summary, summary.cadence[0]):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(frozen, "facts" if frozen is summary else "key", ())


def _stored_doc() -> dict[str, Any]:
    store = _filled()
    store.sweeps.get(CHAT, AT)
    return dict(next(iter(store.db.docs(f"sweep:{CHAT}").values())))


def test_a_kept_from_a_microsecond_late_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The planted bug: the parsed `since` kept a microsecond late, so an instant on the
    summary's `since` would be sent to read the log."""
    sweep_summary._since.cache_clear()
    spelled = sweep_summary._since.__wrapped__

    def late(text: str) -> tuple[datetime, int]:
        since, kept = spelled(text)
        return since, kept + 1

    monkeypatch.setattr(sweep_summary, "_since", late)
    store = _filled()
    facts = store.sweeps.get(CHAT, AT).cadence[0]
    with pytest.raises(AssertionError):
        _kept_from_agrees(facts, [facts.since])


_NUMBERS = st.floats(-1e6, 1e6, allow_nan=False)
_MAYBE = st.none() | _NUMBERS
_DAYS = st.dates(date(2025, 1, 1), date(2027, 12, 31))
_KPIS = st.lists(
    st.builds(
        Kpi,
        key=st.sampled_from(("cac", "nps", "mrr")),
        name=st.sampled_from(("CAC", "", "Net promoter score")),
        objective=st.sampled_from(("o", "grow")),
        target=_NUMBERS,
        baseline=st.sampled_from((0.0, 0, 5.5)),
        direction=st.sampled_from(("up", "down", "range")),
        min=_MAYBE,
        max=_MAYBE,
        tolerance=_MAYBE,
        unit=st.sampled_from(("", "$", "%")),
        weight=st.sampled_from((1.0, 1, 2.0)),
        owner=st.none() | st.just("@anna"),
        every=st.sampled_from(("day", "week", "month", "quarter")),
        warn=_MAYBE,
        crit=_MAYBE,
        test=st.booleans(),
        removed_at=st.none() | st.just(AT),
        formula=st.none() | st.just("nps * 2"),
        agg=st.sampled_from(("last", "sum", "avg", "max", "min")),
        due=st.none() | _DAYS,
        due_from=st.none() | _DAYS,
        staged=st.lists(st.builds(StagedTarget, until=_DAYS, target=_NUMBERS), max_size=2).map(
            tuple
        ),
    ),
    max_size=3,
)


def _definitions_agree(kpis: list[Kpi]) -> None:
    store = open_store(None)
    for kpi in kpis:
        store.kpis.put(CHAT, kpi)
    store.sweeps.get(CHAT, AT)
    summary = store.sweeps.stored(CHAT)
    assert summary is not None and store.sweeps.check(CHAT, AT)
    for key in ("cac", "nps", "mrr", "absent"):
        assert summary.kpi(key) == store.kpis.get(CHAT, key), key


@settings(max_examples=60, deadline=None)
@given(kpis=_KPIS)
def test_a_kpi_read_from_the_summary_is_the_one_its_table_holds(kpis: list[Kpi]) -> None:
    """The summary keeps each KPI's definition without the fields at their defaults (and
    without its key): validated, it is the model `KpiRepo.get` reads, removed, in test
    mode or calculated alike, and a KPI not defined is not in it."""
    _definitions_agree(kpis)


def test_a_definition_missing_a_field_in_the_summary_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The planted bug: the summary leaves out when a KPI was removed, so the sweep would
    remind people of a removed KPI."""
    removed = [Kpi(key="cac", name="CAC", objective="o", target=80, removed_at=AT)]
    _definitions_agree(removed)
    compact = sweep_summary.compact

    def forgetful(doc: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in compact(doc).items() if k != "removed_at"}

    monkeypatch.setattr(sweep_summary, "compact", forgetful)
    with pytest.raises(AssertionError, match="cac"):
        _definitions_agree(removed)


_ISO = st.one_of(
    st.dates(date(2026, 10, 25), date(2026, 11, 30)), st.dates(date(1, 1, 1), date(9999, 12, 31))
).map(date.isoformat)
_ROWS = st.lists(
    st.tuples(
        st.text(max_size=6),
        st.text(max_size=8),  # quotes, backslashes, control characters, any script
        st.none() | st.text(max_size=6),
        st.sampled_from(("day", "week", "month", "quarter", "year")),
        st.none() | _ISO,
    ).map(list),
    max_size=12,
)
_CUTOFFS = st.dictionaries(st.sampled_from(("day", "week", "month", "quarter", "hour")), _ISO)


def _listed_candidates(rows: list[list[Any]], cutoffs: Mapping[str, str]) -> list[KpiFact]:
    """Format 4's rule over its list of facts (one [key, name, owner, every, day] each)."""
    return [
        KpiFact(key, name, owner, every, date.fromisoformat(last))
        for key, name, owner, every, last in rows
        if last is not None and every in cutoffs and last <= cutoffs[every]
    ]


def _candidates_agree(rows: list[list[Any]], cutoffs: Mapping[str, str]) -> None:
    stored = {"facts": sweep_summary._grouped(rows), "cadence": [], "kpis": {}}
    summary = sweep_summary.parse(orjson.loads(orjson.dumps(stored)))  # as read back
    assert summary.stale_candidates(cutoffs) == _listed_candidates(rows, cutoffs)
    assert summary.rows() == rows


@settings(max_examples=400, deadline=None)
@given(rows=_ROWS, cutoffs=_CUTOFFS)
def test_stale_candidates_of_the_grouped_facts_are_the_ones_the_list_gave(
    rows: list[list[Any]], cutoffs: dict[str, str]
) -> None:
    """Format 5 keeps the facts by `every`, oldest day first, each one day-first text, and
    reads only up to the first fresh one: the same candidates, in the KPIs' order, as
    format 4's test of every KPI of its list, for any names, owners, `every`s and days
    (none yet, on a cutoff, either side of it); and the rows read back are the ones built."""
    _candidates_agree(rows, cutoffs)


def test_a_group_not_kept_oldest_first_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The planted bug: a group kept in the KPIs' order, so a stale KPI after a fresh one of
    its `every` would never be reminded."""
    rows: list[list[Any]] = [
        ["a", "A", None, "week", "2026-11-20"],
        ["b", "B", "@anna", "week", "2026-11-01"],
    ]
    cutoffs = {"week": "2026-11-10"}
    _candidates_agree(rows, cutoffs)
    grouped = sweep_summary._grouped

    def unsorted(facts: Any) -> dict[str, list[str]]:
        kept = grouped(facts)
        return {
            every: sorted(texts, key=lambda t: orjson.loads(t[10:])[0])
            for every, texts in kept.items()
        }

    monkeypatch.setattr(sweep_summary, "_grouped", unsorted)
    with pytest.raises(AssertionError):
        _candidates_agree(rows, cutoffs)


# --- a definition assembled without validation (`sweep_summary.definition`) ---------------

_ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False),
    st.sampled_from(["up", "down", "range", "day", "week", "month", "sum", "last", "", "x"]),
    st.sampled_from(["2026-11-01", "2026-11-01T10:00:00Z", "2026-11-01T10:00:00"]),
    st.lists(st.fixed_dictionaries({"until": st.just("2026-12-31"), "target": st.floats(0, 9)})),
)
_DEFINITIONS = st.dictionaries(
    st.sampled_from([*(n for n in Kpi.model_fields if n != "key"), "extra"]), _ANY_VALUE
).map(lambda d: {"name": "N", "objective": "o", "target": 1.0, **d})


def _state(kpi: Kpi) -> list[tuple[str, type, Any]]:
    """A model's whole state, each value with its exact type (100 == 100.0 is not enough)."""
    return [
        *((n, type(v), v) for n, v in kpi.__dict__.items()),
        ("fields_set", set, sorted(kpi.__pydantic_fields_set__)),
        ("extra", type(kpi.__pydantic_extra__), kpi.__pydantic_extra__),
        ("private", type(kpi.__pydantic_private__), kpi.__pydantic_private__),
    ]


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        _DEFINITIONS, st.dictionaries(st.sampled_from(["name", "target", "unit"]), _ANY_VALUE)
    ),
    st.sampled_from(["k1", "cac"]),
)
def test_a_definition_is_the_validated_kpi(doc: dict[str, Any], key: str) -> None:
    """`definition` makes exactly what validating `{"key": key, **doc}` makes (every field's
    value and type, the fields given, in field order), or fails as validation does."""
    try:
        expected: Kpi | type[Exception] = Kpi.model_validate({"key": key, **doc})
    except ValueError as exc:
        expected = type(exc)
    try:
        found: Kpi | type[Exception] = sweep_summary.definition(key, doc)
    except ValueError as exc:
        found = type(exc)
    if isinstance(expected, Kpi):
        assert isinstance(found, Kpi)
        assert _state(found) == _state(expected)
        assert found.model_dump(mode="json") == expected.model_dump(mode="json")
    else:
        assert found is expected
