"""Alert state, alert settings, the alert log and schedule bookkeeping of each chat.

The rules themselves are pure (scoring.alert_rules); this module only remembers what they
need across restarts. Tables are per chat and small, because a write stores the whole
table it touches:

- `al:<chat>:<n>`  alert state in STATE_BUCKETS buckets (by KPI): one document per KPI,
                   its AlertState and whether the KPI was in test mode when written
- `alset:<chat>`   one document: AlertPolicy, alert channels, mutes, digest schedule
- `albatch:<chat>` one document: the Batcher (alerts waiting for their group or quiet hours)
- `alog:<chat>:<n>` the last LOG_SIZE transitions (suppressed ones too) in blocks
- `jobs:<chat>`    one document: reminders already sent, each schedule's last fire time,
                   missed runs waiting for the next digest, the last digest's snapshot

What the sweep needs from KPIs and initiatives comes from their repositories.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from scoring.alert_rules import AlertPolicy, AlertState, Mute, Transition
from scoring.alerts_batch import Batcher
from scoring.models import Kpi, Measurement, Status
from scoring.schedule import Schedule
from storage.base import (
    AppendLog,
    Tables,
    WholeTable,
    first_doc,
    register_whole,
    save_single,
    single,
    to_doc,
)
from storage.changes import Changes
from storage.initiatives import InitiativeRepo
from storage.kpis import KpiRepo
from storage.okrs import OkrRepo

__all__ = [
    "LOG_SIZE",
    "AlertRepo",
    "AlertSettings",
    "Channel",
    "DigestSnapshot",
    "JobState",
    "MissedRun",
    "StoredState",
]

#: Transitions kept per chat for `/alerts log` (pruned a block at a time).
LOG_SIZE = 100
_LOG_BLOCK = 20
#: Buckets of a chat's alert state: a state write stores one bucket (~1/8 of the KPIs).
STATE_BUCKETS = 8


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
    charts: bool = True  # alerts and digests carry a small chart (`/alerts set charts=off`)


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


class AlertRepo:
    """Alert state and settings of every chat."""

    #: Table kinds the sweep reads for every chat (`Store.sweep_preload`).
    SWEPT: ClassVar[tuple[str, ...]] = ("alset:", "albatch:", "jobs:", "alogix:", "al:")

    def __init__(
        self,
        db: Tables,
        kpis: KpiRepo | None = None,
        initiatives: InitiativeRepo | None = None,
        okrs: OkrRepo | None = None,
        changes: Changes | None = None,
    ) -> None:
        self._db = db
        self._changes = changes or Changes()
        register_whole(db, self._changes, "alset")  # settings are audited; state is not
        self._kpis = kpis or KpiRepo(db)
        self._initiatives = initiatives or InitiativeRepo(db)
        self._okrs = okrs or OkrRepo(db)

    # settings ---------------------------------------------------------------------------

    def settings(self, chat: str) -> AlertSettings:
        """The chat's alert settings (defaults until changed)."""
        return single(self._db, f"alset:{chat}", AlertSettings) or _NO_SETTINGS

    def save_settings(self, chat: str, settings: AlertSettings) -> None:
        """Replace the chat's alert settings."""
        WholeTable(self._db, "alset", chat, self._changes).replace([to_doc(settings)])

    # state ------------------------------------------------------------------------------

    def _bucket(self, chat: str, kpi: str) -> str:
        return f"al:{chat}:{zlib.crc32(kpi.encode()) % STATE_BUCKETS}"

    def state(self, chat: str, kpi: str) -> StoredState | None:
        """One KPI's alert state."""
        for doc in self._db.docs(self._bucket(chat, kpi)).values():
            if doc.get("key") == kpi:
                return _stored(doc)
        return None

    def states(self, chat: str, *, status: Status | None = None) -> list[StoredState]:
        """Every KPI's alert state (only those told `status`, checked before parsing; the
        red ones, which the sweep reads for every chat, parsed once per bucket version)."""
        self._db.prefetch(f"al:{chat}:")
        if status is Status.RED:
            derived = self._db.derived
            return [s for n in range(STATE_BUCKETS) for s in derived(f"al:{chat}:{n}", _red)]
        docs = [
            doc for n in range(STATE_BUCKETS) for doc in self._db.docs(f"al:{chat}:{n}").values()
        ]
        if status is not None:
            wanted = status.value
            docs = [d for d in docs if d["state"].get("status") == wanted]
        return [_stored(d) for d in docs]

    def put_state(self, chat: str, state: AlertState, *, test: bool) -> None:
        """Persist one KPI's alert state (its document replaced or added in one edit of the
        bucket: ids and order kept as TinyDB's insert and update would; the fresh document
        is handed over, so neither it nor the bucket's other documents are copied)."""
        doc = {"key": state.kpi, "test": test, "state": to_doc(state)}
        name = self._bucket(chat, state.kpi)
        docs = self._db.docs(name)
        found = next((i for i, d in docs.items() if d.get("key") == state.kpi), None)
        if found is None:
            self._db.edit(name, added=[doc], handed_over=True)
        elif docs[found] != doc:
            self._db.edit(name, {int(found): doc}, handed_over=True)

    def drop_state(self, chat: str, kpi: str) -> None:
        """Forget a KPI's alert state (KPI removed, test mode switched off)."""
        name = self._bucket(chat, kpi)
        ids = [int(i) for i, d in self._db.docs(name).items() if d.get("key") == kpi]
        if ids:
            self._db.table(name).remove(doc_ids=ids)

    # batcher ----------------------------------------------------------------------------

    def batcher(self, chat: str) -> Batcher:
        """Alerts of the chat still waiting to go out."""
        return single(self._db, f"albatch:{chat}", Batcher) or _NO_BATCHER

    def next_flush(self, chat: str) -> datetime | None:
        """When the chat's waiting alerts are next due (`batcher(chat).next_due()`, unparsed)."""
        first = first_doc(self._db, f"albatch:{chat}")
        queued = first.get("queued") if first is not None else None
        if not queued:
            return None
        return min(datetime.fromisoformat(q["ready_at"]) for q in queued)

    def save_batcher(self, chat: str, batcher: Batcher) -> None:
        """Replace the waiting alerts."""
        name = f"albatch:{chat}"
        if not batcher.queued:
            if self._db.docs(name):
                self._db.table(name).truncate()
            return
        save_single(self._db, name, to_doc(batcher))

    def chats_with_queued_alerts(self) -> list[str]:
        """Chats whose batcher holds something (to re-arm their flush timers at start)."""
        prefix = "albatch:"
        return sorted(
            name[len(prefix) :] for name in self._db.table_names(prefix) if self._db.docs(name)
        )

    # log --------------------------------------------------------------------------------

    def _log(self, chat: str) -> AppendLog:
        return AppendLog(self._db, "alog", chat, block=_LOG_BLOCK, stamp="at")

    def log(self, chat: str, transitions: list[Transition]) -> None:
        """Append transitions (sent, held or suppressed) to the chat's alert log."""
        if not transitions:
            return
        log = self._log(chat)
        log.append([to_doc(t) for t in transitions], handed_over=True)
        log.keep(LOG_SIZE)

    def recent_log(self, chat: str, limit: int = 20) -> list[Transition]:
        """The latest `limit` transitions, oldest first."""
        return self._log(chat).tail(Transition, limit)

    # schedules --------------------------------------------------------------------------

    def jobstate(self, chat: str) -> JobState:
        """The chat's schedule bookkeeping."""
        return single(self._db, f"jobs:{chat}", JobState) or JobState()

    def save_jobstate(self, chat: str, state: JobState) -> None:
        """Replace the chat's schedule bookkeeping."""
        save_single(self._db, f"jobs:{chat}", to_doc(state))

    def sent_marks(self, chat: str) -> dict[str, str]:
        """`jobstate(chat).sent` (a copy to change), read without building the JobState."""
        first = first_doc(self._db, f"jobs:{chat}")
        return dict(first.get("sent") or {}) if first is not None else {}

    def save_sent_marks(self, chat: str, sent: Mapping[str, str]) -> None:
        """Replace `jobstate(chat).sent`, keeping the rest of the bookkeeping as stored."""
        name = f"jobs:{chat}"
        first = first_doc(self._db, name)
        if first is None:
            self.save_jobstate(chat, JobState(sent=dict(sent)))
        elif first.get("sent") != sent:
            save_single(self._db, name, {**first, "sent": dict(sent)})

    # sweeps -----------------------------------------------------------------------------

    def chats(self) -> list[str]:
        """Every chat that has a scorecard, OKRs, initiatives or alert settings."""
        found = {*self._kpis.chats(), *self._okrs.chats(), *self._initiatives.chats()}
        for prefix in ("alset:", "albatch:"):
            found.update(name[len(prefix) :] for name in self._db.table_names(prefix))
        return sorted(found)

    def kpi_reading(self, chat: str, key: str) -> tuple[Kpi | None, Measurement | None]:
        """A KPI (removed or not) and its latest value, as KpiRepo.get and .latest give them."""
        return self._kpis.reading(chat, key)

    def progress_total(self, chat: str, key: str, since: datetime) -> float:
        """An initiative's logged amount from `since` on (as InitiativeRepo.logs would sum)."""
        return self._initiatives.progress_total(chat, key, since)


def _red(docs: Mapping[str, Mapping[str, Any]]) -> tuple[StoredState, ...]:
    """A state bucket's red states (`AlertRepo.states(status=RED)`), in document order."""
    red = Status.RED.value
    return tuple(_stored(d) for d in docs.values() if d["state"].get("status") == red)


def _stored(doc: Mapping[str, Any]) -> StoredState:
    return StoredState(AlertState.model_validate(doc["state"]), bool(doc.get("test", False)))
