"""Alert state, alert settings, the alert log and schedule bookkeeping of each chat.

The rules themselves are pure (scoring.alerts); this module only remembers what they
need across restarts. Tables are per chat and small, because every TinyDB write
re-serialises the table it touches:

- `al:<chat>`      one document per KPI: its AlertState, and whether the KPI was in test
                   mode when it was written (switching test mode off starts afresh)
- `alset:<chat>`   one document: AlertPolicy, alert channels, mutes, digest schedule
- `albatch:<chat>` one document: the Batcher (alerts waiting for their group or quiet hours)
- `alog:<chat>`    the last LOG_SIZE transitions, including suppressed (test, muted) ones
- `jobs:<chat>`    one document: reminders already sent, each schedule's last fire time,
                   missed runs waiting for the next digest, the last digest's snapshot
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from tinydb import Query
from tinydb.storages import Storage

from scoring.alerts import AlertPolicy, AlertState, Mute, Transition
from scoring.alerts_batch import Batcher
from scoring.models import Initiative, Kpi, Measurement, Status
from scoring.schedule import Schedule
from storage.base import KeyedTable, ModelT, Tables, from_docs, to_doc
from storage.kpis import KpiRepo

__all__ = [
    "LOG_SIZE",
    "AlertRepo",
    "AlertSettings",
    "Channel",
    "DigestSnapshot",
    "JobState",
    "KpiFact",
    "MissedRun",
    "StoredState",
]

#: Transitions kept per chat for `/alerts log` (pruned in steps of LOG_SLACK).
LOG_SIZE = 100
_LOG_SLACK = 20
_PROBE = "alerts:probe"  # a table name never written: a handle on the storage
_SCORECARD_PREFIXES = frozenset({"kpi:", "okr:", "ini:", "alset:", "albatch:"})
#: Every table's documents by table name and document id, as the storage holds them.
_Live = Mapping[str, Mapping[str, Mapping[str, Any]]]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Channel(_Frozen):
    """A chat (or thread in it) that receives a scorecard's alerts."""

    platform: str
    chat_id: str
    thread_id: str | None = None

    @property
    def key(self) -> str:
        """The chat key, as ChatRef.key spells it."""
        return f"{self.platform}:{self.chat_id}"


class AlertSettings(_Frozen):
    """A chat's alert rules, where its alerts go, who muted what, and its digest schedule."""

    policy: AlertPolicy = Field(default_factory=AlertPolicy)
    channels: tuple[Channel, ...] | None = None  # None: the scorecard's own chat
    mutes: tuple[Mute, ...] = ()
    digest: Schedule | None = None  # when the weekly review goes out


class MissedRun(_Frozen):
    """A scheduled run that did not happen on time (reported in the next digest)."""

    job: str  # "digest", "okr-checkin", "okr-cycle"
    at: AwareDatetime  # when it should have run
    reason: Literal["missed", "failed"] = "missed"
    count: int = 1  # runs rolled into this one report


class DigestSnapshot(_Frozen):
    """What the last scheduled digest showed, so the next one can say what changed."""

    at: AwareDatetime
    index: float | None
    performance: dict[str, float] = Field(default_factory=dict)


class JobState(_Frozen):
    """Schedule bookkeeping of one chat."""

    sent: dict[str, str] = Field(default_factory=dict)  # "stale:cac" -> "2026-11-02"
    last_fire: dict[str, AwareDatetime] = Field(default_factory=dict)
    missed: tuple[MissedRun, ...] = ()
    snapshot: DigestSnapshot | None = None


#: What a chat without stored settings or waiting alerts has (frozen, all the way down).
_NO_SETTINGS = AlertSettings()
_NO_BATCHER = Batcher()


@dataclass(frozen=True, slots=True)
class StoredState:
    """A KPI's persisted alert state and the test mode it was computed in."""

    state: AlertState
    test: bool


@dataclass(slots=True)
class KpiFact:
    """What the staleness sweep needs about one KPI, read without building models."""

    key: str
    name: str
    owner: str | None
    every: str
    last_day: date | None


class AlertRepo:
    """Alert state and settings of every chat."""

    def __init__(self, db: Tables) -> None:
        self._db = db
        self._storage: Storage | None = None

    def _live(self) -> _Live:
        """Every table's live documents, without copies: read-only, for the hot paths.

        TinyDB tables read through their storage's `read()`, which our journal engine
        answers with the live in-memory dict; callers must never mutate what it returns.
        """
        if self._storage is None:
            self._storage = self._db.table(_PROBE).storage
        tables = self._storage.read()
        return tables if tables is not None else {}

    # settings ---------------------------------------------------------------------------

    def settings(self, chat: str) -> AlertSettings:
        """The chat's alert settings (defaults until changed)."""
        return _single(self._live(), f"alset:{chat}", AlertSettings) or _NO_SETTINGS

    def save_settings(self, chat: str, settings: AlertSettings) -> None:
        """Replace the chat's alert settings."""
        _save_single(self._db, self._live(), f"alset:{chat}", settings)

    # state ------------------------------------------------------------------------------

    def _states(self, chat: str) -> KeyedTable:
        return KeyedTable(self._db, f"al:{chat}")

    def state(self, chat: str, kpi: str) -> StoredState | None:
        """One KPI's alert state."""
        doc = self._states(chat).table.get(_key_is(kpi))
        return None if doc is None else _stored(doc)

    def states(self, chat: str, *, status: Status | None = None) -> list[StoredState]:
        """Every KPI's alert state (only those told `status`, checked before parsing)."""
        docs = list(self._live().get(f"al:{chat}", {}).values())
        if status is not None:
            wanted = status.value
            docs = [d for d in docs if d["state"].get("status") == wanted]
        return [_stored(d) for d in docs]

    def put_state(self, chat: str, state: AlertState, *, test: bool) -> None:
        """Persist one KPI's alert state."""
        doc = {"key": state.kpi, "test": test, "state": to_doc(state)}
        name = f"al:{chat}"
        # Found on the live documents: a TinyDB query per call costs more than the write.
        found = [
            (int(doc_id), existing)
            for doc_id, existing in self._live().get(name, {}).items()
            if existing.get("key") == state.kpi
        ]
        table = self._db.table(name)
        if not found:
            table.insert(doc)
        elif found[0][1] != doc:
            table.update(_replace(doc), doc_ids=[found[0][0]])

    def drop_state(self, chat: str, kpi: str) -> None:
        """Forget a KPI's alert state (KPI removed, test mode switched off)."""
        self._states(chat).remove(kpi)

    # batcher ----------------------------------------------------------------------------

    def batcher(self, chat: str) -> Batcher:
        """Alerts of the chat still waiting to go out."""
        return _single(self._live(), f"albatch:{chat}", Batcher) or _NO_BATCHER

    def next_flush(self, chat: str) -> datetime | None:
        """When the chat's waiting alerts are next due (`batcher(chat).next_due()`, unparsed)."""
        docs = self._live().get(f"albatch:{chat}")
        first = next(iter(docs.values()), None) if docs else None
        queued = first.get("queued") if first is not None else None
        if not queued:
            return None
        return min(datetime.fromisoformat(q["ready_at"]) for q in queued)

    def save_batcher(self, chat: str, batcher: Batcher) -> None:
        """Replace the waiting alerts."""
        name = f"albatch:{chat}"
        if not batcher.queued:
            if self._db.table(name).all():
                self._db.table(name).truncate()
            return
        _save_single(self._db, self._live(), name, batcher)

    def chats_with_queued_alerts(self) -> list[str]:
        """Chats whose batcher holds something (to re-arm their flush timers at start)."""
        prefix = "albatch:"
        return sorted(
            name[len(prefix) :]
            for name in self._db.table_names()
            if name.startswith(prefix) and self._db.table(name).all()
        )

    # log --------------------------------------------------------------------------------

    def log(self, chat: str, transitions: list[Transition]) -> None:
        """Append transitions (sent, held or suppressed) to the chat's alert log."""
        if not transitions:
            return
        table = self._db.table(f"alog:{chat}")
        table.insert_multiple(to_doc(t) for t in transitions)
        if len(table) > LOG_SIZE + _LOG_SLACK:
            ids = [doc.doc_id for doc in table.all()]
            table.remove(doc_ids=ids[: len(ids) - LOG_SIZE])

    def recent_log(self, chat: str, limit: int = 20) -> list[Transition]:
        """The latest `limit` transitions, oldest first."""
        docs = self._db.table(f"alog:{chat}").all()
        return from_docs(Transition, docs[-limit:])

    # schedules --------------------------------------------------------------------------

    def jobstate(self, chat: str) -> JobState:
        """The chat's schedule bookkeeping."""
        return _single(self._live(), f"jobs:{chat}", JobState) or JobState()

    def save_jobstate(self, chat: str, state: JobState) -> None:
        """Replace the chat's schedule bookkeeping."""
        _save_single(self._db, self._live(), f"jobs:{chat}", state)

    def sent_marks(self, chat: str) -> dict[str, str]:
        """`jobstate(chat).sent` (a copy to change), read without building the JobState."""
        docs = self._live().get(f"jobs:{chat}")
        first = next(iter(docs.values()), None) if docs else None
        return dict(first.get("sent") or {}) if first is not None else {}

    def save_sent_marks(self, chat: str, sent: Mapping[str, str]) -> None:
        """Replace `jobstate(chat).sent`, keeping the rest of the bookkeeping as stored."""
        name = f"jobs:{chat}"
        docs = self._live().get(name)
        first = next(iter(docs.items()), None) if docs else None
        if first is None:
            self.save_jobstate(chat, JobState(sent=dict(sent)))
        elif first[1].get("sent") != sent:
            doc = {**first[1], "sent": dict(sent)}
            self._db.table(name).update(_replace(doc), doc_ids=[int(first[0])])

    # sweeps -----------------------------------------------------------------------------

    def chats(self) -> list[str]:
        """Every chat that has a scorecard, OKRs, initiatives or alert settings."""
        found: set[str] = set()
        for name in self._live():
            cut = name.find(":") + 1
            if 4 <= cut <= 8 and name[:cut] in _SCORECARD_PREFIXES:
                found.add(name[cut:])
        return sorted(found)

    # The sweep's read model. The sweep looks at every KPI and initiative of every chat;
    # building models (or even TinyDB's Document copies) for 10 000 KPIs would cost more
    # than the whole sweep may take, so these read the live documents KpiRepo and
    # InitiativeRepo write, never write them, and build only what is needed.

    def kpi_facts(
        self, chat: str, *, last_on_or_before: Mapping[str, date] | None = None
    ) -> list[KpiFact]:
        """Live, non-test KPIs with their latest value's day.

        With `last_on_or_before` (every → date), only KPIs with a value whose latest day
        is on or before their `every`'s date: the stale candidates, found without
        parsing a date for the fresh ones (ISO dates compare as strings).
        """
        live = self._live()
        cutoffs = (
            None
            if last_on_or_before is None
            else {every: day.isoformat() for every, day in last_on_or_before.items()}
        )
        index_prefix = KpiRepo._index_name(chat, "")
        table = live.get
        facts = []
        for doc in live.get(f"kpi:{chat}", {}).values():
            if doc.get("removed_at") is not None or doc.get("test"):
                continue
            key, every = doc["key"], doc.get("every", "month")
            last = None
            index = table(index_prefix + key)
            if index:
                for index_doc in index.values():  # the index table holds one document
                    latest = index_doc.get("latest")
                    last = latest[-1]["day"] if latest else None
                    break
            if cutoffs is not None and (last is None or last > cutoffs.get(every, "")):
                continue
            facts.append(
                KpiFact(
                    key=key,
                    name=doc.get("name", key),
                    owner=doc.get("owner"),
                    every=every,
                    last_day=date.fromisoformat(last) if last else None,
                )
            )
        return facts

    def kpi_reading(self, chat: str, key: str) -> tuple[Kpi | None, Measurement | None]:
        """A KPI (removed or not) and its latest value, as KpiRepo.get and .latest give them."""
        live = self._live()
        doc = next((d for d in live.get(f"kpi:{chat}", {}).values() if d.get("key") == key), None)
        index = live.get(KpiRepo._index_name(chat, key))
        latest = next(iter(index.values())).get("latest") if index else None
        return (
            None if doc is None else Kpi.model_validate(doc),
            Measurement.model_validate(latest[-1]) if latest else None,
        )

    def cadence_initiatives(self, chat: str) -> list[Initiative]:
        """Open initiatives that have a cadence target."""
        docs = self._live().get(f"ini:{chat}", {}).values()
        return [
            Initiative.model_validate(dict(doc))
            for doc in docs
            if doc.get("cadence") is not None and not doc.get("done")
        ]

    def progress_total(self, chat: str, key: str, since: datetime) -> float:
        """An initiative's logged amount from `since` on (as InitiativeRepo.logs would sum)."""
        live = self._live()
        total = 0.0
        for year_doc in live.get(f"iyears:{chat}:{key}", {}).values():
            year = int(year_doc["year"])
            if year < since.year - 1:
                continue
            for doc in live.get(f"ilog:{chat}:{key}:{year}", {}).values():
                if datetime.fromisoformat(doc["at"]) >= since:
                    total += float(doc["amount"])
        return total


def _key_is(key: str) -> Any:
    return Query().key == key


def _stored(doc: Mapping[str, Any]) -> StoredState:
    return StoredState(AlertState.model_validate(doc["state"]), bool(doc.get("test", False)))


def _single(live: _Live, name: str, model: type[ModelT]) -> ModelT | None:
    docs = live.get(name)
    first = next(iter(docs.values()), None) if docs else None
    return None if first is None else model.model_validate(first)


def _save_single(db: Tables, live: _Live, name: str, item: BaseModel) -> None:
    doc = to_doc(item)
    docs = live.get(name)
    first = next(iter(docs.items()), None) if docs else None
    if first is None:
        db.table(name).insert(doc)
    elif first[1] != doc:  # unchanged: no write, no journal record
        db.table(name).update(_replace(doc), doc_ids=[int(first[0])])


def _replace(doc: dict[str, Any]) -> Any:
    def transform(current: dict[str, Any]) -> None:
        current.clear()
        current.update(doc)

    return transform
