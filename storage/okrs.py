"""OKR objectives, their key results and check-ins."""

from __future__ import annotations

from scoring.models import CheckIn, KeyResult, Okr
from storage.base import AppendLog, KeyedTable, Tables, to_doc

_DEFS = "okr:"
CHECKIN_BLOCK = 64


class OkrRepo:
    """OKRs of a chat; key-result keys are unique per chat so check-ins need only the KR."""

    def __init__(self, db: Tables) -> None:
        self._db = db

    def _okrs(self, chat: str) -> KeyedTable:
        return KeyedTable(self._db, f"{_DEFS}{chat}")

    def _krs(self, chat: str) -> KeyedTable:
        return KeyedTable(self._db, f"kr:{chat}")

    def _check_ins(self, chat: str, kr: str) -> AppendLog:
        return AppendLog(self._db, "ci", f"{chat}:{kr}", block=CHECKIN_BLOCK, stamp="at")

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

    def key_result(self, chat: str, key: str) -> KeyResult | None:
        """One key result."""
        return self._krs(chat).get(KeyResult, key)

    def put_key_result(self, chat: str, kr: KeyResult) -> None:
        """Create or replace a key result."""
        self._krs(chat).put(kr)

    def remove_key_result(self, chat: str, key: str) -> None:
        """Delete a key result and its check-ins."""
        self._krs(chat).remove(key)
        self._check_ins(chat, key).drop()

    def check_in(self, chat: str, checkin: CheckIn) -> KeyResult:
        """Record a check-in and move the KR's current value; returns the updated KR."""
        kr = self.key_result(chat, checkin.kr)
        if kr is None:
            raise KeyError(checkin.kr)
        self._check_ins(chat, checkin.kr).append([to_doc(checkin)])
        updated = kr.model_copy(update={"current": checkin.value})
        self.put_key_result(chat, updated)
        return updated

    def check_ins(self, chat: str, kr: str) -> list[CheckIn]:
        """Every check-in of a key result, oldest first."""
        return sorted(self._check_ins(chat, kr).entries(CheckIn), key=lambda c: c.at)
