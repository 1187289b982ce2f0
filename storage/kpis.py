"""KPI definitions and their measurements.

Measurements live in one small table per chat, KPI and month (`m:<chat>:<kpi>:<YYYY-MM>`)
so recording a value rewrites a few kilobytes, never the whole history. A per-KPI index
document keeps the months that have data, the count and the two latest values, which is
all `/kpi` and `/scorecard` need.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from scoring.models import Kpi, Measurement
from storage.base import (
    KeyedTable,
    Tables,
    first_doc,
    from_docs,
    instant_text,
    register_keyed,
    save_single,
    to_doc,
)
from storage.changes import Changes, Doc
from storage.engine import Prepared

_DEFS = "kpi:"

T = TypeVar("T")
#: What readers remember of one table version: tag → (the other inputs, the result).
_Memo = dict[object, tuple[tuple[object, ...], object]]
#: A month shard's values as (day, value), oldest first (`KpiRepo.recent_shards`).
Points = tuple[tuple[date, float], ...]


class _Index(BaseModel):
    """Per-KPI summary: months with data, the count, the two latest values."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    months: tuple[str, ...] = ()
    count: int = 0
    latest: tuple[Measurement, ...] = ()


_EMPTY = _Index()


@dataclass(slots=True)
class KpiFact:
    """What the staleness sweep needs about one KPI, read without building models."""

    key: str
    name: str
    owner: str | None
    every: str
    last_day: date | None


def measurement_doc(m: Measurement) -> Doc:
    """`to_doc(m)`, built field by field: every `/kpi set` stores one, and the model's
    serialiser was its largest single cost (`test_record_path` checks both agree)."""
    return value_doc(m.kpi, m.value, m.day, m.at, m.by, m.by_id, m.note)


def value_doc(
    kpi: str, value: float, day: date, at: datetime, by: str, by_id: str, note: str
) -> Doc:
    """`measurement_doc` of the Measurement these fields make where `Measurement.exact`
    says it keeps them as they are: the quick `/kpi set` stores its value without the
    model (building it was a sixth of the quick set's own work)."""
    return {
        "kpi": kpi,
        "value": value,
        "day": day.isoformat(),
        "at": instant_text(at),
        "by": by,
        "by_id": by_id,
        "note": note,
    }


def _sort_key(m: Measurement) -> tuple[date, datetime]:
    """Oldest first: by day, then by when it was recorded (instants compare across offsets)."""
    return m.day, m.at


def _doc_order(doc: Mapping[str, Any]) -> tuple[str, datetime]:
    """`_sort_key` of a stored value's document: ISO days sort as dates, and the instant is
    parsed (`…Z` and `+03:00` instants compare as instants, not as text)."""
    return doc["day"], datetime.fromisoformat(doc["at"])


def _oldest_first(docs: Mapping[str, Mapping[str, Any]]) -> tuple[Measurement, ...]:
    """A shard's values in time order (cached per shard version by the database)."""
    return tuple(sorted(from_docs(Measurement, docs.values()), key=_sort_key))


def _newest(docs: Mapping[str, Mapping[str, Any]]) -> Measurement | None:
    """An index's newest value (`KpiRepo.newest`), once per index version."""
    index = next(iter(docs.values()), None)
    latest = () if index is None else index.get("latest", ())
    return Measurement.model_validate(latest[-1]) if latest else None


def values_of(docs: Iterable[Mapping[str, Any]]) -> list[float]:
    """The values of stored value documents (`KpiRepo.latest_docs`): what a typed value is
    compared with (`/kpi set`'s 100× question, the lone-dot line of `/kpi set`, `/kpi import`
    and the ingest API)."""
    return [float(d["value"]) for d in docs]


def _points(docs: Mapping[str, Mapping[str, Any]]) -> Points:
    """A shard's (day, value) pairs in time order, without models: tuples of a date and a
    float are not tracked by the garbage collector, so a dashboard's 50 KPIs × 60 points
    cached for every chat cost its full collections nothing."""
    ordered = sorted(docs.values(), key=lambda d: (d["day"], d["at"]))
    return tuple((date.fromisoformat(d["day"]), float(d["value"])) for d in ordered)


def _memo_slot(docs: Mapping[str, Mapping[str, Any]]) -> _Memo:
    """An empty memo, one per table version (`KpiRepo.memo`): the derived cache drops it
    with the version it belongs to, so nothing stale outlives a change."""
    return {}


def _placing(
    stored: Mapping[str, Mapping[str, Any]], placed: Sequence[Doc]
) -> tuple[dict[str, int], dict[int, Doc | None]]:
    """(the stored days' ids, the ids `placed` replaces, removed) of one month shard."""
    existing = {doc["day"]: int(i) for i, doc in stored.items()}
    return existing, {existing[d["day"]]: None for d in placed if d["day"] in existing}


@dataclass(frozen=True, slots=True)
class _Shard:
    """One month shard of prepared values: the documents, their audit keys, the table as
    it will be, and the ids of the days it held when prepared."""

    placed: list[Doc]
    keys: list[str]
    table: Prepared
    existing: dict[str, int]
    added: int  # days it did not hold when prepared


@dataclass(frozen=True, slots=True)
class PreparedValues:
    """A KPI's values laid out for writing (`KpiRepo.prepare_values`)."""

    key: str
    months: list[str]
    newest: list[Doc]  # the two latest given, for the index
    shards: list[_Shard]

    @property
    def size(self) -> int:
        """How many values (days) it holds."""
        return sum(len(shard.placed) for shard in self.shards)

    def last(self, count: int) -> list[Doc]:
        """The `count` latest values given, oldest first."""
        found: list[Doc] = []
        for shard in reversed(self.shards):
            found[:0] = sorted(shard.placed, key=lambda d: str(d["day"]))
            if len(found) >= count:
                break
        return found[-count:] if count > 0 else []


class KpiRepo:
    """KPIs of a chat and their history.

    Audited kinds: `kpi` (definitions, by key) and `value` (one value, key `<kpi>@<day>`).
    """

    #: The kind of a chat's KPI definitions table (a red reminder reads its KPI there).
    DEFINITIONS: ClassVar[str] = _DEFS
    #: Table kinds of definitions and value indexes (what a chat's sweep summary is built
    #: from: a change to any drops it).
    SUMMARISED: ClassVar[tuple[str, ...]] = (_DEFS, "mix:")

    def __init__(self, db: Tables, changes: Changes | None = None) -> None:
        self._db = db
        self._changes = changes or Changes()
        register_keyed(db, self._changes, "kpi", self._keeps_values)
        self._changes.register("value", self._value_doc, self._restore_value)

    def _keeps_values(self, chat: str, key: str, doc: Doc | None) -> str | None:
        if doc is None and self.count(chat, key):
            return f"{key} has values now; remove it with /kpi remove {key}"
        return None

    def _defs(self, chat: str) -> KeyedTable:
        return KeyedTable(self._db, f"{_DEFS}{chat}", self._changes)

    def chats(self) -> list[str]:
        """Chats that have KPI definitions."""
        return [name[len(_DEFS) :] for name in sorted(self._db.table_names(_DEFS))]

    def all(self, chat: str, *, include_removed: bool = False) -> list[Kpi]:
        """Every KPI of the chat (soft-removed ones only when asked)."""
        self._db.prefetch(self._index_name(chat, ""))  # their latest values come next
        kpis = self._defs(chat).all(Kpi)
        return kpis if include_removed else [k for k in kpis if k.removed_at is None]

    def get(self, chat: str, key: str) -> Kpi | None:
        """One KPI by key, removed or not (`KeyedTable.get`, asked of the table itself: every
        command naming a KPI looks it up)."""
        return self._db.model_by_key(f"{_DEFS}{chat}", Kpi, key)

    def put(self, chat: str, kpi: Kpi) -> None:
        """Create or replace a KPI definition."""
        self._defs(chat).put(kpi)

    def purge(self, chat: str, key: str) -> int:
        """Delete a KPI and its whole history for good; returns how many values went."""
        index = self._index(chat, key)
        for month in index.get("months", []):
            shard = self._shard(chat, key, month)
            for doc in self._db.docs(shard).values():
                self._note_value(chat, key, dict(doc), None)
            self._db.drop_table(shard)
        self._db.drop_table(self._index_name(chat, key))
        self._defs(chat).remove(key)
        return int(index.get("count", 0))

    # measurements ---------------------------------------------------------------------

    @staticmethod
    def _shard(chat: str, key: str, month: str) -> str:
        return f"m:{chat}:{key}:{month}"

    @staticmethod
    def _index_name(chat: str, key: str) -> str:
        return f"mix:{chat}:{key}"

    def _index(self, chat: str, key: str) -> Mapping[str, Any]:
        return first_doc(self._db, self._index_name(chat, key)) or {}

    def _summary(self, chat: str, key: str) -> _Index:
        """The index as a model, validated once per change of the KPI's values."""
        return self._db.first_model(self._index_name(chat, key), _Index) or _EMPTY

    def record(self, chat: str, m: Measurement) -> Measurement | None:
        """Store a value; a value for the same day replaces it. Returns the replaced one."""
        old = self.record_doc(chat, m)
        return None if old is None else Measurement.model_validate(old)

    def record_doc(self, chat: str, m: Measurement) -> Mapping[str, Any] | None:
        """`record`, returning the replaced value's stored document (read-only), not a model:
        a `/kpi set` needs only its value, and nearly every one replaces today's."""
        return self.record_value(chat, measurement_doc(m))

    def record_value(self, chat: str, new_doc: Doc) -> Mapping[str, Any] | None:
        """`record_doc` of the value's stored document (`value_doc`), built for this and
        never touched again (kept without a copy)."""
        day = new_doc["day"]
        month = day[:7]
        kpi = new_doc["kpi"]
        name = self._shard(chat, kpi, month)
        # A day's value is stored last when recorded (a replaced one moves to the end), so
        # the day typed most often, today, is found at the first look from the end.
        docs = self._db.docs(name)
        old_id = old = None
        for doc_id in reversed([*docs]):
            if docs[doc_id].get("day") == day:
                old_id, old = doc_id, docs[doc_id]
                break
        # a value's documents are flat (`value_doc`): the step copies them shallowly
        self._changes.note(chat, "value", f"{kpi}@{day}", old, new_doc, flat=True)
        # one write of the shard: the old value out, the new one in under the next id
        self._db.edit(
            name, None if old_id is None else {int(old_id): None}, [new_doc], handed_over=True
        )
        self._update_index(chat, kpi, new_doc, month, added=old is None)
        return old

    def unset(self, chat: str, key: str, day: date) -> Measurement | None:
        """Remove the value of `day`; returns it (None when there was none).

        The index follows: count, months with data, and the latest two values (read back
        from the newest shards when the removed value was one of them).
        """
        month = day.isoformat()[:7]
        name = self._shard(chat, key, month)
        old = [(int(i), d) for i, d in self._db.docs(name).items() if d.get("day") == str(day)]
        if not old:
            return None
        removed = Measurement.model_validate(old[0][1])
        self._note_value(chat, key, dict(old[0][1]), None)
        self._db.table(name).remove(doc_ids=[old[0][0]])
        summary = self._summary(chat, key)
        months = list(summary.months)
        if not self._db.docs(name):
            self._db.drop_table(name)
            months = [m for m in months if m != month]
        latest = list(summary.latest)
        if any(x.day == day for x in latest):
            latest = self._newest(chat, key, months)
        if months:
            doc = {
                "months": months,
                "count": max(summary.count - 1, 0),
                "latest": [to_doc(x) for x in latest],
            }
            save_single(self._db, self._index_name(chat, key), doc)
        else:
            self._db.drop_table(self._index_name(chat, key))
        return removed

    def _newest(self, chat: str, key: str, months: list[str]) -> list[Measurement]:
        found: list[Measurement] = []
        for month in sorted(months, reverse=True):
            found.extend(self._db.models(self._shard(chat, key, month), Measurement))
            if len(found) >= 2:
                break
        return sorted(found, key=_sort_key)[-2:]

    def _value_doc(self, chat: str, item: str) -> Doc | None:
        key, _, day = item.rpartition("@")
        for doc in self._db.docs(self._shard(chat, key, day[:7])).values():
            if doc.get("day") == day:
                return dict(doc)
        return None

    def _restore_value(self, chat: str, item: str, doc: Doc | None) -> None:
        if doc is not None:
            self.record(chat, Measurement.model_validate(doc))
        else:
            key, _, day = item.rpartition("@")
            self.unset(chat, key, date.fromisoformat(day))

    def _note_value(self, chat: str, key: str, before: Doc | None, after: Doc | None) -> None:
        day = str((after or before or {})["day"])
        self._changes.note(chat, "value", f"{key}@{day}", before, after)

    def record_many(self, chat: str, key: str, values: Sequence[Measurement]) -> int:
        """Import a KPI's history in bulk (one write per month shard); returns values added.

        Values for days that already have one replace it, as with `record`.
        """
        return self.record_docs(chat, key, [to_doc(m) for m in values])

    def record_docs(self, chat: str, key: str, docs: Sequence[Doc]) -> int:
        """`record_many` of values already in their stored form (`to_doc` of a Measurement
        of KPI `key`), handed over (never touched again by the caller). A repeated day:
        the last one wins, as on disk."""
        return self.record_prepared(chat, self.prepare_values(chat, key, docs))

    def prepare_values(self, chat: str, key: str, docs: Sequence[Doc]) -> PreparedValues:
        """`record_docs`' work short of writing: the values laid out in their month shards,
        each shard built and serialised (`Tables.prepare`). A big import prepares KPI by KPI
        in slices, other commands running in between; `record_prepared` then writes."""
        by_month: dict[str, dict[str, Doc]] = {}
        for doc in docs:
            by_month.setdefault(doc["day"][:7], {})[doc["day"]] = doc
        if len(by_month) > 3:  # one query for the KPI's shards, not one per month
            self._db.prefetch(self._shard(chat, key, ""))
        shards = []
        for month, days in sorted(by_month.items()):
            name = self._shard(chat, key, month)
            placed = list(days.values())
            existing, stale = _placing(self._db.docs(name), placed)
            shards.append(
                _Shard(
                    placed,
                    [f"{key}@{day}" for day in days],
                    self._db.prepare(name, stale, placed, handed_over=True),
                    existing,
                    len(placed) - len(stale),
                )
            )
        newest = [d for _, days in sorted(by_month.items())[-2:] for _, d in sorted(days.items())]
        return PreparedValues(key, sorted(by_month), newest[-2:], shards)

    def history_after(self, chat: str, prepared: PreparedValues, limit: int) -> list[Measurement]:
        """The last `limit` values, oldest first, as `history` will give them once
        `prepared` is recorded (if nothing else changes the KPI's values before)."""
        given = [Measurement.model_validate(d) for d in prepared.last(limit)]
        merged = {m.day: m for m in [*self.history(chat, prepared.key, limit=limit), *given]}
        return sorted(merged.values(), key=_sort_key)[-limit:]

    def record_prepared(self, chat: str, prepared: PreparedValues) -> int:
        """Write prepared values (one atomic step's work): each shard as prepared if nobody
        changed it meanwhile, else placed afresh; returns how many values were added."""
        key, added = prepared.key, 0
        for shard in prepared.shards:
            name = shard.table.name
            stored = self._db.docs(name)
            existing, shard_added = shard.existing, shard.added
            if not self._db.install(shard.table):  # changed since: place the values again
                existing, stale = _placing(stored, shard.placed)
                self._db.edit(name, stale, shard.placed, handed_over=True)
                shard_added = len(shard.placed) - len(stale)
            placed, found = shard.placed, existing

            def before_after(i: int) -> tuple[Mapping[str, Any] | None, Doc]:
                old = found.get(placed[i]["day"])  # noqa: B023 - called right here
                return (None if old is None else stored[str(old)]), placed[i]  # noqa: B023

            self._changes.note_many(chat, "value", shard.keys, before_after)
            added += shard_added
        index = self._index(chat, key)
        candidates = [
            *zip(self._summary(chat, key).latest, index.get("latest", ()), strict=False),
            *((Measurement.model_validate(d), d) for d in prepared.newest),
        ]
        merged = {m.day: (m, d) for m, d in candidates}  # a day given again: the new value
        latest = sorted(merged.values(), key=lambda pair: _sort_key(pair[0]))[-2:]
        doc = {
            "months": sorted({*index.get("months", []), *prepared.months}),
            "count": int(index.get("count", 0)) + added,
            "latest": [d for _, d in latest],
        }
        save_single(self._db, self._index_name(chat, key), doc)
        return added

    def _update_index(self, chat: str, key: str, m_doc: Doc, month: str, *, added: bool) -> None:
        """The index after recording `m_doc`: the latest values are its stored documents,
        ordered by day and instant as the models would be (nothing is validated)."""
        name = self._index_name(chat, key)
        index = first_doc(self._db, name) or {}
        months = index.get("months", ())
        day = m_doc["day"]
        latest = [d for d in index.get("latest", ()) if d["day"] != day]
        # Stored in order (every write sorts them): a value of a later day than the last one
        # (today's, nearly every set) goes last as it is, no instant parsed.
        later = not latest or latest[-1]["day"] < day
        latest.append(m_doc)
        if not later:
            latest.sort(key=_doc_order)
        doc = {
            "months": [*months] if month in months else sorted([*months, month]),
            "count": int(index.get("count", 0)) + (1 if added else 0),
            "latest": [dict(d) for d in latest[-2:]],  # flat documents: own copies
        }
        # The index is its one document under id 1 (`save_single`), built here of copies
        # and never touched again: handed over, not serialised and parsed back.
        self._db.put_single(name, doc)

    def latest_docs(self, chat: str, key: str) -> Sequence[Mapping[str, Any]]:
        """`latest` as the stored documents (read-only, never mutate): what a `/kpi set`
        compares a new value with, without building the models."""
        index = first_doc(self._db, self._index_name(chat, key))
        return () if index is None else index.get("latest", ())

    def recent_values(self, chat: str, key: str) -> list[float]:
        """`latest_docs`' values (`values_of`): the KPI's recent values, oldest first."""
        return values_of(self.latest_docs(chat, key))

    def latest(self, chat: str, key: str) -> list[Measurement]:
        """Up to the two most recent values, oldest first (for value and trend)."""
        return list(self._summary(chat, key).latest)

    def newest(self, chat: str, key: str) -> Measurement | None:
        """`latest(chat, key)[-1]` (None: no values), the one model validated per version of
        the index: the sweep reads one KPI's newest value in each of 500 chats, and the
        index's model (its months and both latest values) was most of that read."""
        return self._db.derived(self._index_name(chat, key), _newest)

    def count(self, chat: str, key: str) -> int:
        """How many values the KPI has."""
        return self._summary(chat, key).count

    def history(self, chat: str, key: str, limit: int | None = None) -> list[Measurement]:
        """Values oldest first; with `limit`, only the most recent ones (reads few shards)."""
        months = sorted(self._summary(chat, key).months, reverse=True)
        newest_first: list[tuple[Measurement, ...]] = []
        count = 0
        for month in months:
            # Months do not overlap: each shard in order (sorted once per version) is enough.
            shard = self._db.derived(self._shard(chat, key, month), _oldest_first)
            newest_first.append(shard)
            count += len(shard)
            if limit is not None and count >= limit:
                break
        found = [m for shard in reversed(newest_first) for m in shard]
        return found[-limit:] if limit is not None else found

    def recent_shards(self, chat: str, key: str, limit: int) -> tuple[Points, ...]:
        """The newest month shards holding the latest `limit` values, oldest first, as
        (day, value) tuples cached per shard version: the same objects until a value of
        theirs changes, so a reader can remember what it made of them (the dashboard)."""
        found: list[Points] = []
        count = 0
        for month in sorted(self._summary(chat, key).months, reverse=True):
            shard = self._db.derived(self._shard(chat, key, month), _points)
            found.append(shard)
            count += len(shard)
            if count >= limit:
                break
        return tuple(reversed(found))

    def memo(
        self,
        chat: str,
        key: str | None,
        tag: object,
        args: tuple[object, ...],
        compute: Callable[[], T],
        *,
        update: Callable[[tuple[object, ...], T], T] | None = None,
    ) -> T:
        """`compute()` remembered with the version of KPI `key`'s values index (with None:
        of the chat's KPI definitions) and `args`, compared with `==`.

        What `compute` reads besides that table must be in `args`: `/kpi` then pays only
        for the KPIs whose values, definition or settings changed since it last ran.
        `tag` names the derivation (one result kept per tag); never mutate the result.
        `update(old args, old result)`, when given, is used instead of `compute` when this
        version remembers a result for other `args`: it must give what `compute` would.
        """
        table = f"{_DEFS}{chat}" if key is None else self._index_name(chat, key)
        slot = self._db.derived(table, _memo_slot)
        found = slot.get(tag)
        # (no typing.cast: a Python call, at every `/kpi set` that asks for readers)
        if found is not None and found[0] == args:
            return found[1]  # type: ignore[return-value]
        if found is not None and update is not None:
            result = update(found[0], found[1])  # type: ignore[arg-type]
        else:
            result = compute()
        slot[tag] = (args, result)
        return result

    # the sweep's read model ---------------------------------------------------------------

    def facts(self, chat: str) -> list[KpiFact]:
        """Live, non-test KPIs people type values for, with their latest value's day, read
        without building models: what a chat's sweep summary is built from."""
        facts = []
        self._db.prefetch(self._index_name(chat, ""))
        docs = self._db.docs  # a summary build reads every KPI's index: inline
        for key, name, owner, every in self._db.derived(f"{_DEFS}{chat}", _typed_kpis):
            index = next(iter(docs(self._index_name(chat, key)).values()), None)
            latest = index.get("latest") if index is not None else None
            last = latest[-1]["day"] if latest else None
            facts.append(
                KpiFact(
                    key=key,
                    name=name,
                    owner=owner,
                    every=every,
                    last_day=date.fromisoformat(last) if last else None,
                )
            )
        return facts

    # calculated KPIs: one period's values -----------------------------------------------

    def between(self, chat: str, key: str, first: date, last: date) -> list[Measurement]:
        """Values from `first` to `last` (both included), oldest first; reads only those months."""
        lo, hi = first.isoformat(), last.isoformat()
        found: list[Measurement] = []
        for month in self._summary(chat, key).months:
            if lo[:7] <= month <= hi[:7]:
                found.extend(
                    m
                    for m in self._db.models(self._shard(chat, key, month), Measurement)
                    if first <= m.day <= last
                )
        found.sort(key=_sort_key)
        return found

    def clear_between(self, chat: str, key: str, first: date, last: date) -> int:
        """Delete the values from `first` to `last` (a calculated KPI's stale period value).

        Each goes through `unset`, so the index follows and undo can put it back.
        """
        gone = self.between(chat, key, first, last)
        for m in gone:
            self.unset(chat, key, m.day)
        return len(gone)


def _typed_kpis(
    docs: Mapping[str, Mapping[str, Any]],
) -> tuple[tuple[str, str, str | None, str], ...]:
    """(key, name, owner, every) of the live, non-test KPIs people type values for (a
    calculated KPI's inputs get the reminders), per definitions version: the sweep's
    staleness read, without re-filtering every definition of every chat each sweep."""
    return tuple(
        (d["key"], d.get("name", d["key"]), d.get("owner"), d.get("every", "month"))
        for d in docs.values()
        if d.get("removed_at") is None and not d.get("test") and not d.get("formula")
    )
