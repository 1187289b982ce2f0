"""OKR objectives, their key results and check-ins."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from scoring.models import CheckIn, KeyResult, Okr
from storage.base import AppendLog, KeyedTable, Tables, TimedLog, instant_text, register_keyed
from storage.changes import Changes, Doc

_DEFS = "okr:"
_KRS = "kr:"  # a chat's key results: the keyed table, and what `kpis_driving` derives from
CHECKIN_BLOCK = 64


class OkrRepo:
    """OKRs of a chat; key-result keys are unique per chat so check-ins need only the KR.

    Audited kinds: `okr`, `kr` (by key) and `checkin` (key `<kr>@<at>`; a KR's check-ins
    never share an instant).
    """

    def __init__(self, db: Tables, changes: Changes | None = None) -> None:
        self._db = db
        self._changes = changes or Changes()
        register_keyed(db, self._changes, "okr")
        register_keyed(db, self._changes, "kr", self._keeps_check_ins)
        self._changes.register("checkin", self._checkin_doc, self._restore_checkin)

    def _okrs(self, chat: str) -> KeyedTable:
        return KeyedTable(self._db, f"{_DEFS}{chat}", self._changes)

    def _krs(self, chat: str) -> KeyedTable:
        return KeyedTable(self._db, f"{_KRS}{chat}", self._changes)

    def _check_ins(self, chat: str, kr: str) -> AppendLog:
        return AppendLog(self._db, "ci", f"{chat}:{kr}", block=CHECKIN_BLOCK, stamp="at")

    def _timed(self, chat: str, kr: str) -> TimedLog:
        return TimedLog(self._check_ins(chat, kr), self._changes, chat, "checkin", kr)

    def _keeps_check_ins(self, chat: str, key: str, doc: Doc | None) -> str | None:
        if doc is None and self._check_ins(chat, key).count():
            return f"{key} has check-ins now; remove it with /okr kr remove {key}"
        return None

    def chats(self) -> list[str]:
        """Chats that have OKRs."""
        return [name[len(_DEFS) :] for name in sorted(self._db.table_names(_DEFS))]

    def okrs(self, chat: str, cycle: str | None = None) -> list[Okr]:
        """OKR objectives, optionally of one cycle."""
        okrs = self._okrs(chat).all(Okr)
        return okrs if cycle is None else [o for o in okrs if o.cycle == cycle]

    def okr(self, chat: str, key: str) -> Okr | None:
        """One OKR objective."""
        return self._okrs(chat).get(Okr, key)

    def put_okr(self, chat: str, okr: Okr) -> None:
        """Create or replace an OKR objective."""
        self._okrs(chat).put(okr)

    def remove_okr(self, chat: str, key: str) -> None:
        """Delete an OKR objective with its key results and their check-ins."""
        for kr in self.key_results(chat, key):
            self.remove_key_result(chat, kr.key)
        self._okrs(chat).remove(key)

    def key_results(self, chat: str, okr: str | None = None) -> list[KeyResult]:
        """Key results, optionally of one OKR."""
        krs = self._krs(chat).all(KeyResult)
        return krs if okr is None else [k for k in krs if k.okr == okr]

    def kpis_driving(self, chat: str) -> frozenset[str]:
        """The KPIs some key result follows (`kpi=`), read once per version of the chat's
        key results: a `/kpi set` of any other KPI has no key result to bring along."""
        return self._db.derived(f"{_KRS}{chat}", _driving)

    def key_result(self, chat: str, key: str) -> KeyResult | None:
        """One key result."""
        return self._krs(chat).get(KeyResult, key)

    def put_key_result(self, chat: str, kr: KeyResult) -> None:
        """Create or replace a key result."""
        self._krs(chat).put(kr)

    def remove_key_result(self, chat: str, key: str) -> None:
        """Delete a key result and its check-ins."""
        self._timed(chat, key).drop()
        self._krs(chat).remove(key)

    def check_in(self, chat: str, checkin: CheckIn) -> KeyResult:
        """Record a check-in and move the KR's current value; returns the updated KR."""
        kr = self.key_result(chat, checkin.kr)
        if kr is None:
            raise KeyError(checkin.kr)
        self._timed(chat, checkin.kr).append(checkin)
        updated = kr.model_copy(update={"current": checkin.value})
        self.put_key_result(chat, updated)
        return updated

    def check_ins(self, chat: str, kr: str) -> list[CheckIn]:
        """Every check-in of a key result, oldest first."""
        return sorted(self._check_ins(chat, kr).entries(CheckIn), key=lambda c: c.at)

    def remove_check_in(self, chat: str, kr: str, at: datetime) -> CheckIn | None:
        """Delete one check-in (the KR's current value is the caller's to set)."""
        found = self._timed(chat, kr).remove(instant_text(at))
        return None if found is None else CheckIn.model_validate(found)

    def _checkin_doc(self, chat: str, item: str) -> Doc | None:
        kr, _, at = item.rpartition("@")
        return self._timed(chat, kr).get(at)

    def _restore_checkin(self, chat: str, item: str, doc: Doc | None) -> None:
        kr, _, at = item.rpartition("@")
        if doc is None:
            self._timed(chat, kr).remove(at)
        else:
            self._timed(chat, kr).put_back(doc)


def _driving(docs: Mapping[str, Mapping[str, Any]]) -> frozenset[str]:
    """`kpis_driving` of the key results' documents (a chat without key results, whose
    table `derived` keeps nothing for, asks this at every `/kpi set`: no comprehension)."""
    if not docs:
        return _NONE
    return frozenset(kpi for doc in docs.values() if (kpi := doc.get("kpi")))


_NONE: frozenset[str] = frozenset()
