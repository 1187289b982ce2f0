"""The sweep's summary of a chat: what its staleness and cadence reminders need, in one
small document (`sweep:<chat>`) instead of a table per KPI and per initiative log.

Per KPI people type values for: key, name, owner, `every` and the day of its latest
value, grouped by `every` and kept as one text each that starts with that day, oldest
first (`_grouped`): a sweep finds the stale ones by comparing the texts' first ten
characters and stops at the first fresh one, and parses only the stale ones (parsing
every KPI's five values was the largest part of loading a summary). Per open initiative
with a cadence: the initiative and the (time, amount) of each entry logged since shortly
before its current period began, the time as whole microseconds since the epoch
(`micros`), so a sweep compares numbers and parses no time. Per KPI
defined (removed, in test mode or calculated too): its definition, without the fields
that hold their defaults, which is what a red KPI's reminder reads of it: a cold sweep
then loads no table of KPI definitions (6 KB a chat, three quarters of what it loaded)
to judge one red KPI in each chat. Each definition is kept as its JSON text, parsed when
its KPI is read: loading every chat's summary built every definition's objects (half of
parsing a summary) for the one or two a sweep reads.

Correct whoever writes: the engine drops a chat's summary in the same step as any change
to a table it summarises (`Tables.summarises`: KPI definitions, KPI indexes, initiatives
and their logs), so a summary found stored is never older than its sources, whichever
write path (a command, an import, an undo, a move, a restore) changed them. A missing or
older-format summary is rebuilt from the source tables on its next read and stored (one
write); `check` compares a stored one with a fresh build (`doctor`, tests).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import compress
from operator import itemgetter
from typing import Any, ClassVar, Final, get_args

import orjson

from scoring.models import (
    CadencePeriod,
    Direction,
    Initiative,
    Interval,
    Kpi,
    TimeAggregate,
    assembled,
    field_defaults,
)
from scoring.periods import period_containing
from storage.base import Tables, first_doc, save_single, to_doc
from storage.initiatives import InitiativeRepo
from storage.kpis import KpiFact, KpiRepo
from storage.migrations import SCHEMA_VERSION

__all__ = ["KIND", "SOURCES", "CadenceFacts", "SweepSummary", "SweepSummaryRepo", "parse"]

KIND: Final = "sweep:"
#: Table kinds a summary is built from: a change to any of them drops the chat's summary.
SOURCES: Final = (*KpiRepo.SUMMARISED, *InitiativeRepo.SUMMARISED)
#: The document's format; a stored summary of another format is rebuilt (5: the facts
#: grouped by `every` as day-first texts, 4 had a list of five values per KPI; 4: each KPI
#: definition as its JSON text, 3 had them as objects; 3: log times as `micros`, 2 had them
#: as ISO text).
FORMAT: Final = 5
#: What a fact's text starts with when its KPI has no value yet: ten characters after
#: every ISO day (`~` sorts after the digits), so it is never on or before a cutoff day.
_NO_DAY: Final = "~" * 10
#: A KPI definition's fields that have defaults, as `to_doc` writes those defaults: a
#: definition in the summary leaves out each field that holds its default, and validating
#: it fills the same value back in (`test_sweep_summary` holds the two models equal).
_KPI_DEFAULTS: Final = {
    name: to_doc(Kpi(key="k", name="k", objective="o", target=0.0))[name]
    for name, field in Kpi.model_fields.items()
    if not field.is_required()
}
_TIME: Callable[[Sequence[Any]], int] = itemgetter(0)
_AMOUNT: Callable[[Sequence[Any]], float] = itemgetter(1)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


def micros(at: datetime) -> int:
    """An aware instant as whole microseconds since the epoch: ordered exactly as the
    instants are (a datetime holds whole microseconds), whatever their offsets."""
    return (at - _EPOCH) // _MICROSECOND


@dataclass(frozen=True)
class CadenceFacts:
    """An open initiative with a cadence and what was logged for it from `since` on.

    Kept as stored (`doc`, `stored_logs`: [`micros` of its time, amount] per entry): the
    initiative is validated only when a sweep gets that far, and no log time is parsed.
    `kept_from` is `micros(since)`, so a sweep compares whole numbers, not instants.
    """

    key: str
    period: CadencePeriod
    count: int
    since: datetime
    doc: Mapping[str, Any]
    stored_logs: Sequence[Sequence[Any]]
    kept_from: int = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kept_from", micros(self.since))

    @functools.cached_property
    def initiative(self) -> Initiative:
        """The initiative itself."""
        return Initiative.model_validate(self.doc)

    def total(self, since: datetime) -> float | None:
        """The amount logged from `since` on, or None when `since` is before what is kept."""
        return self.total_from(micros(since))

    def total_from(self, at: int) -> float | None:
        """`total` of the instant whose `micros` is `at` (a sweep's period start, spelled
        once per period: `micros` and comparing instants were half of a total)."""
        if at < self.kept_from:
            return None
        logs = self.stored_logs
        # sum() of those amounts in log order as b4f5814 added them (from Python 3.12 sum()
        # compensates its rounding, a loop would not), picked at C speed: no call per entry
        return sum(compress(map(float, map(_AMOUNT, logs)), map(at.__le__, map(_TIME, logs))))


@dataclass(frozen=True)
class SweepSummary:
    """What a sweep reads of one chat's KPIs and initiatives (no slots: `parse` puts the
    fields into the instance's dict at once, as it does a `CadenceFacts`'s)."""

    #: Per `every`, its KPIs as stored (`_grouped`): each one text, its latest value's ISO
    #: day (or `_NO_DAY`) then the JSON of [its place among the KPIs, key, name, owner],
    #: oldest day first.
    facts: Mapping[str, Sequence[str]]
    cadence: tuple[CadenceFacts, ...]
    #: Every KPI's definition by key, as stored without its key and default fields
    #: (`compact`), as JSON text (`spell`).
    definitions: Mapping[str, str]
    #: The definitions validated so far (the summary is parsed once per table version).
    _models: dict[str, Kpi | None] = dataclasses.field(default_factory=dict, compare=False)

    def kpi(self, key: str) -> Kpi | None:
        """KPI `key`, removed or not, as `KpiRepo.get` reads it from its table (None: no
        such KPI); validated once per summary."""
        models = self._models
        if key not in models:
            text = self.definitions.get(key)
            models[key] = None if text is None else definition(key, orjson.loads(text))
        return models[key]

    def stale_candidates(self, cutoffs: Mapping[str, str]) -> list[KpiFact]:
        """KPIs whose latest value is on or before their `every`'s cutoff day (`cutoffs`:
        ISO days, the same for every chat of a sweep): the stale candidates, in the
        KPIs' order. ISO days compare as strings and each `every`'s KPIs are kept oldest
        first, so a fresh one ends its group, and only the candidates are parsed."""
        found: list[tuple[list[Any], str, str]] = []
        for every, texts in self.facts.items():
            cutoff = cutoffs.get(every)
            if cutoff is not None:
                for text in texts:
                    if text[:10] > cutoff:
                        break
                    found.append((orjson.loads(text[10:]), every, text[:10]))
        found.sort()  # by place: each a different number, nothing after it is compared
        return [
            KpiFact(key, name, owner, every, date.fromisoformat(day))
            for (_, key, name, owner), every, day in found
        ]

    def rows(self) -> list[list[Any]]:
        """Every KPI's facts in the KPIs' order, each [key, name, owner, `every`, its
        latest value's ISO day or None], as `build` had them (tests, debugging)."""
        found: list[tuple[int, list[Any]]] = []
        for every, texts in self.facts.items():
            for text in texts:
                place, key, name, owner = orjson.loads(text[10:])
                day = text[:10]
                found.append((place, [key, name, owner, every, None if day == _NO_DAY else day]))
        found.sort()  # by place, as above
        return [row for _, row in found]


#: Per Kpi field a stored definition's value may be kept as it is (`definition`): the exact
#: types validation keeps as they are, and for a Literal field the values it admits. The
#: dated fields (`removed_at`, `due`, `due_from`, `staged`) are parsed, so not here.
_KEPT: Final[Mapping[str, tuple[tuple[type, ...], tuple[str, ...] | None]]] = {
    **dict.fromkeys(("name", "objective", "unit"), ((str,), None)),
    **dict.fromkeys(("target", "baseline", "weight"), ((float,), None)),
    **dict.fromkeys(("min", "max", "tolerance", "warn", "crit"), ((float, type(None)), None)),
    **dict.fromkeys(("owner", "formula"), ((str, type(None)), None)),
    "test": ((bool,), None),
    "direction": ((str,), get_args(Direction)),
    "every": ((str,), get_args(Interval)),
    "agg": ((str,), get_args(TimeAggregate)),
}
_REQUIRED: Final = frozenset(n for n, f in Kpi.model_fields.items() if f.is_required())
#: Every Kpi field in field order, at its default (the required ones at None, always given).
_BLANK: Final = field_defaults(Kpi)


def definition(key: str, doc: Mapping[str, Any]) -> Kpi:
    """`Kpi.model_validate({"key": key, **doc})` of a summary's definition (`doc`, parsed
    from its text): assembled without validation when every value is one validation keeps
    as it is (`_KEPT`), else validated. A red reminder reads one in each chat it looks at,
    and validating it was 20 k instructions (`test_sweep_summary` holds both the same)."""
    given = {"key", *doc}
    plain = type(key) is str and given >= _REQUIRED
    for name, value in doc.items():  # a `key` in `doc` (none is stored) is validated
        rule = _KEPT.get(name)
        if rule is None or type(value) not in rule[0] or (rule[1] and value not in rule[1]):
            plain = False
            break
    if not plain:
        return Kpi.model_validate({"key": key, **doc})
    state = dict(_BLANK)
    state.update(doc)
    state["key"] = key
    return assembled(Kpi, state, given)


def summary_of(name: str) -> str:
    """The summary a source table belongs to: `<kind>:<platform>:<id>…` → `sweep:<platform>:<id>`.

    A chat id with a `:` in it would be read as a shorter chat here, so such chats never
    store a summary (`SweepSummaryRepo.get` builds theirs afresh every time).
    """
    parts = name.split(":", 3)
    return f"{KIND}{parts[1]}:{parts[2]}" if len(parts) >= 3 else f"{KIND}{name}"


class SweepSummaryRepo:
    """Builds, stores and reads each chat's sweep summary."""

    #: Table kinds the sweep reads for every chat (`Store.sweep_preload`): the summaries
    #: (a red reminder reads its KPI's definition there; a chat without one reads its
    #: KPIs' table of definitions).
    SWEPT: ClassVar[tuple[str, ...]] = (KIND,)

    def __init__(
        self, db: Tables, kpis: KpiRepo, initiatives: InitiativeRepo, *, current: bool = True
    ) -> None:
        """`current=False`: a version that does not drop summaries wrote the store since
        (a rollback, then this version again): every stored summary is dropped, to be
        rebuilt."""
        self._db = db
        self._kpis = kpis
        self._initiatives = initiatives
        db.summarises(SOURCES, summary_of)
        if not current:
            for name in sorted(db.table_names(KIND)):
                db.drop_table(name)

    def stored(self, chat: str) -> SweepSummary | None:
        """The chat's stored summary when it is current (built in this format, under this
        store schema: a migration's rewrite is never trusted); None: there is none, and
        nothing is built (a red reminder reads its KPI from the definitions then)."""
        if chat.count(":") != 1:
            return None
        found = self._db.derived(f"{KIND}{chat}", _parsed)
        return found[1] if found is not None and found[0] == SCHEMA_VERSION else None

    def get(self, chat: str, now: datetime) -> SweepSummary:
        """The chat's summary: the stored one when it is current (`stored`), else built
        from the sources and stored."""
        name = f"{KIND}{chat}"
        found = self.stored(chat)
        if found is not None:
            return found
        doc = self.build(chat, now)
        if chat.count(":") == 1:
            save_single(self._db, name, {"format": FORMAT, "schema": SCHEMA_VERSION, **doc})
            parsed = self._db.derived(name, _parsed)
            assert parsed is not None
            return parsed[1]
        return parse(doc)

    def build(self, chat: str, now: datetime) -> dict[str, Any]:
        """The chat's summary document, from the source tables."""
        facts = _grouped(
            [
                [
                    f.key,
                    f.name,
                    f.owner,
                    f.every,
                    None if f.last_day is None else f.last_day.isoformat(),
                ]
                for f in self._kpis.facts(chat)
            ]
        )
        cadence = []
        for item in self._initiatives.cadence_initiatives(chat):
            assert item.cadence is not None
            since = _window(item.cadence.period, now)
            logs = self._initiatives.amounts(chat, item.key, since)
            cadence.append(
                {
                    "initiative": to_doc(item),
                    "since": since.isoformat(),
                    "logs": [[micros(at), amount] for at, amount in logs],
                }
            )
        definitions: dict[str, str] = {}
        for doc in self._db.docs(f"{KpiRepo.DEFINITIONS}{chat}").values():
            key = doc.get("key")
            if isinstance(key, str) and key not in definitions:  # the first, as `get` finds
                definitions[key] = spell(compact(doc))
        return {"facts": facts, "cadence": cadence, "kpis": definitions}

    def check(self, chat: str, now: datetime) -> bool:
        """Whether the stored summary equals one built from the sources now (True when
        there is none, or one the sweep would not trust and so rebuilds)."""
        stored = first_doc(self._db, f"{KIND}{chat}")
        if stored is None or (stored.get("format"), stored.get("schema")) != (
            FORMAT,
            SCHEMA_VERSION,
        ):
            return True
        fresh = self.build(chat, now)
        return (
            stored.get("facts") == fresh["facts"]
            and stored.get("kpis") == fresh["kpis"]
            and _same_cadence(parse(stored), parse(fresh))
        )


def _grouped(rows: Sequence[Sequence[Any]]) -> dict[str, list[str]]:
    """KPIs' facts ([key, name, owner, `every`, latest ISO day or None] each, in the
    KPIs' order) as a summary stores them: by `every`, each one text, its day (or
    `_NO_DAY`) then the JSON of [its place, key, name, owner], oldest day first, then by
    place (`SweepSummary.stale_candidates` stops at the first text after a cutoff)."""
    groups: dict[str, list[tuple[str, int, str]]] = {}
    for place, (key, name, owner, every, day) in enumerate(rows):
        start = _NO_DAY if day is None else day
        text = f"{start}{orjson.dumps([place, key, name, owner]).decode()}"
        groups.setdefault(every, []).append((start, place, text))
    return {every: [text for *_, text in sorted(kept)] for every, kept in groups.items()}


def compact(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A KPI definition as stored, without its key (the summary keeps it by key) and the
    fields that hold their defaults."""
    return {
        name: value
        for name, value in doc.items()
        if name != "key" and (name not in _KPI_DEFAULTS or value != _KPI_DEFAULTS[name])
    }


def spell(definition: Mapping[str, Any]) -> str:
    """A definition as the summary keeps it: its JSON text."""
    return orjson.dumps(definition).decode()


def _window(period: Any, now: datetime) -> datetime:
    """From when an initiative's logs are kept: a day before the period that held
    yesterday (UTC) began, so any later sweep's period, in any time zone, starts after it."""
    start = period_containing(period, now.astimezone(UTC).date() - timedelta(days=1)).start
    return datetime.combine(start - timedelta(days=1), datetime.min.time(), tzinfo=UTC)


def _same_cadence(a: SweepSummary, b: SweepSummary) -> bool:
    """Equal for every sweep from now on: the same initiatives and the same logs from the
    later of the two windows on."""
    if [c.initiative for c in a.cadence] != [c.initiative for c in b.cadence]:
        return False
    return all(
        x.total(max(x.since, y.since)) == y.total(max(x.since, y.since))
        for x, y in zip(a.cadence, b.cadence, strict=True)
    )


def parse(doc: Mapping[str, Any]) -> SweepSummary:
    """A summary document (`SweepSummaryRepo.build`'s) as the sweep reads it."""
    facts = doc["facts"]  # read-only, as stored: never changed
    cadence = tuple([_cadence(c) for c in doc["cadence"]])
    summary: SweepSummary = _NEW(SweepSummary)
    summary.__dict__.update(facts=facts, cadence=cadence, definitions=doc["kpis"], _models={})
    return summary


_NEW = object.__new__


def _cadence(part: Mapping[str, Any]) -> CadenceFacts:
    """A stored summary's cadence part as `CadenceFacts(...)` builds it, its fields put into
    the instance's dict at once: the frozen class's `__init__` sets each one through
    `object.__setattr__`, half the cost of a part, and every sweep after a start parses
    each chat's summary once (`parse` builds the summary so too). `since` is the same few
    texts for every chat (`_since`)."""
    item = part["initiative"]
    cadence = item["cadence"]
    since, kept_from = _since(part["since"])
    facts: CadenceFacts = _NEW(CadenceFacts)
    facts.__dict__.update(
        key=item["key"],
        period=cadence["period"],
        count=cadence["count"],
        since=since,
        doc=item,
        stored_logs=part["logs"],
        kept_from=kept_from,
    )
    return facts


@functools.lru_cache(maxsize=64)
def _since(text: str) -> tuple[datetime, int]:
    """A cadence part's `since` and its `micros`: a day before a period began (`_window`),
    so the same text for every summary built on the same day."""
    since = datetime.fromisoformat(text)
    return since, micros(since)


def _parsed(docs: Mapping[str, Mapping[str, Any]]) -> tuple[int, SweepSummary] | None:
    """(the store schema it was built under, the summary), per table version; None when
    missing or of another format."""
    doc = next(iter(docs.values()), None)
    if doc is None or doc.get("format") != FORMAT:
        return None
    return int(doc["schema"]), parse(doc)
