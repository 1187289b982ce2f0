"""Initiatives (the action plan) and the progress logged against them."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping
from datetime import datetime
from operator import itemgetter, methodcaller
from typing import Any, ClassVar, NamedTuple

from scoring.models import Initiative, ProgressLog, replaced
from storage.base import (
    AppendLog,
    Block,
    KeyedTable,
    Tables,
    TimedLog,
    first_doc,
    instant_text,
    register_keyed,
    save_single,
    to_doc,
)
from storage.changes import Changes, Doc
from storage.engine import follows_appends

_DEFS = "ini:"
#: `inum:<chat>:<initiative>`: the last entry number given (never reused), written only when
#: the newest entries can no longer tell it (before one is removed), so a log writes one block.
_LAST = "inum"
_NUMBER = methodcaller("get", "number")  # an entry's number (None: stored before numbers)
_AMOUNT: Callable[[tuple[datetime, float]], float] = itemgetter(1)  # a pair's amount
#: Progress logs per stored block: a hashtag rewrites at most this many. Twenty (~150 bytes
#: each) fit one 4 KB SQLite page; a block of 64 spilled into an overflow page from ~28 on,
#: which SQLite frees and takes again at each rewrite (with page 1 and the freelist's page,
#: three more WAL frames a hashtag).
LOG_BLOCK = 20


def progress_doc(entry: ProgressLog) -> Doc:
    """`to_doc(entry)`, built field by field (every hashtag stores one; see `measurement_doc`);
    an amount JSON does not hold as it is (inf, nan) takes the model's way."""
    if not math.isfinite(entry.amount):
        return to_doc(entry)
    return {
        "initiative": entry.initiative,
        "amount": entry.amount,
        "at": instant_text(entry.at),
        "by": entry.by,
        "by_id": entry.by_id,
        "note": entry.note,
        "number": entry.number,
    }


class InitiativeRepo:
    """Initiatives of a chat; logs kept in small blocks per initiative.

    Audited kinds: `ini` (by key) and `log` (key `<initiative>@<at>`; an initiative's log
    entries never share an instant).

    Each entry gets a number when logged (the last one given + 1, kept per initiative and
    never reused, so removing an entry or undoing a /log leaves gaps, not shifts). Entries
    stored before numbers were kept are numbered by their position, and get that number
    written before any entry is removed.
    """

    #: Table kinds of definitions and logs (what a chat's sweep summary is built from).
    SUMMARISED: ClassVar[tuple[str, ...]] = (_DEFS, "ilog:", "ilogix:")

    def __init__(self, db: Tables, changes: Changes | None = None) -> None:
        self._db = db
        self._changes = changes or Changes()
        register_keyed(db, self._changes, "ini", self._keeps_logs)
        self._changes.register("log", self._log_doc, self._restore_log)

    def _defs(self, chat: str) -> KeyedTable:
        return KeyedTable(self._db, f"{_DEFS}{chat}", self._changes)

    def _log(self, chat: str, key: str) -> AppendLog:
        return AppendLog(self._db, "ilog", f"{chat}:{key}", block=LOG_BLOCK, stamp="at")

    def _timed(self, chat: str, key: str) -> TimedLog:
        return TimedLog(self._log(chat, key), self._changes, chat, "log", key)

    def _keeps_logs(self, chat: str, key: str, doc: Doc | None) -> str | None:
        if doc is None and self._log(chat, key).count():
            return f"{key} has logged progress now; remove it with /initiative remove {key}"
        return None

    def chats(self) -> list[str]:
        """Chats that have initiatives."""
        return [name[len(_DEFS) :] for name in sorted(self._db.table_names(_DEFS))]

    def all(self, chat: str) -> list[Initiative]:
        """Every initiative."""
        return self._defs(chat).all(Initiative)

    def get(self, chat: str, key: str) -> Initiative | None:
        """One initiative."""
        return self._defs(chat).get(Initiative, key)

    def put(self, chat: str, initiative: Initiative) -> None:
        """Create or replace an initiative."""
        self._defs(chat).put(initiative)

    def remove(self, chat: str, key: str) -> None:
        """Delete an initiative and its logs."""
        self._timed(chat, key).drop()
        self._db.drop_table(f"{_LAST}:{chat}:{key}")
        self._defs(chat).remove(key)

    def log(self, chat: str, entry: ProgressLog) -> ProgressLog:
        """Record progress (`/log articles +1 …` or a hashtag message); returns it as stored,
        with its number (an imported entry keeps its own when no other entry has it)."""
        key, number = entry.initiative, entry.number
        # the newest block, read once for the number, the free instant and the write
        newest = self._log(chat, key).newest_block()
        last, told = self._last_number(chat, key, newest)
        if number is None or number in {e.number for e in self.logs(chat, key)}:
            number = last + 1
        if not told:  # entries stored before numbers were kept: remember it once
            self._set_last_number(chat, key, last)
        numbered = replaced(entry, {"number": number})
        return self._timed(chat, key).append(numbered, newest, progress_doc(numbered))

    def _last_number(self, chat: str, key: str, newest: Block | None = None) -> tuple[int, bool]:
        """(the last number given, whether the stored mark and the newest block tell it).

        The newest entry carries the newest number, so only a removal needs the mark
        (`_remember_last_number` first). Entries stored before numbers were kept count by
        position (reading the whole log: once, then the mark is written). `newest`: the
        log's newest block as the caller just read it (None: read here).
        """
        doc = first_doc(self._db, f"{_LAST}:{chat}:{key}")
        if newest is None:
            newest = self._log(chat, key).newest_block()
        # the newest block's (derived once per block version, carried over appends)
        top, unnumbered = (0, False) if newest is None else self._db.derived(newest[0], _numbered)
        if doc is None and unnumbered:
            return max((e.number or 0 for e in self.logs(chat, key)), default=0), False
        marked = int(doc["last"]) if doc is not None else 0
        return max(marked, top), True

    def _remember_last_number(self, chat: str, key: str) -> None:
        """Store the last number given before an entry goes (it may be the newest)."""
        self._set_last_number(chat, key, self._last_number(chat, key)[0])

    def _set_last_number(self, chat: str, key: str, last: int) -> None:
        save_single(self._db, f"{_LAST}:{chat}:{key}", {"last": last})

    def unlog(self, chat: str, key: str, at: datetime) -> ProgressLog | None:
        """Delete the log entry made at `at`; returns it (None when there is none).

        Entries stored before numbers were kept get their positions written first, so
        the later ones keep the numbers people saw.
        """
        log = self._log(chat, key)
        self._remember_last_number(chat, key)
        if any(doc.get("number") is None for doc in log.docs()):
            for entry in self.logs(chat, key):
                match = {"at": instant_text(entry.at), "number": None}
                log.update_where(match, {"number": entry.number})
        found = self._timed(chat, key).remove(instant_text(at))
        return None if found is None else ProgressLog.model_validate(found)

    def _log_doc(self, chat: str, item: str) -> Doc | None:
        key, _, at = item.rpartition("@")
        return self._timed(chat, key).get(at)

    def _restore_log(self, chat: str, item: str, doc: Doc | None) -> None:
        key, _, at = item.rpartition("@")
        if doc is None:
            self._remember_last_number(chat, key)  # undoing a /log leaves a gap
            self._timed(chat, key).remove(at)
        else:
            self._timed(chat, key).put_back(doc)

    def log_many(self, chat: str, key: str, entries: list[ProgressLog]) -> None:
        """Record many progress entries of one initiative at once (imports), numbered on."""
        first = self._last_number(chat, key)[0] + 1
        numbered = [e.model_copy(update={"number": first + i}) for i, e in enumerate(entries)]
        self._log(chat, key).append(to_doc(entry) for entry in numbered)
        self._set_last_number(chat, key, first + len(entries) - 1)

    def logs(self, chat: str, key: str, since: datetime | None = None) -> list[ProgressLog]:
        """Logged progress oldest first, optionally only from `since` on (then an entry
        stored before numbers were kept has none)."""
        items = self._log(chat, key).entries(ProgressLog, since)
        if since is not None:
            return sorted((i for i in items if i.at >= since), key=lambda i: i.at)
        items.sort(key=lambda i: i.at)
        return [
            i if i.number is not None else i.model_copy(update={"number": position})
            for position, i in enumerate(items, start=1)
        ]

    def cadence_initiatives(self, chat: str) -> list[Initiative]:
        """Open initiatives that have a cadence target (for the sweep)."""
        return [i for i in self.all(chat) if i.cadence is not None and not i.done]

    def progress_total(
        self, chat: str, key: str, since: datetime, until: datetime | None = None
    ) -> float:
        """An initiative's logged amount from `since` on (and before `until`, if given).

        Read from the blocks that may hold such entries only, each summarised once per
        block version (`_Span`): a block wholly inside the period adds its total, so a
        hashtag on a cadence initiative costs O(blocks in the period) plus the one or two
        blocks the period's edges cut, not O(entries); the sweep asks it of every
        initiative with a cadence, so no ProgressLog models either. A block the period cuts
        adds the entries the period holds (a slice of its sorted times found by bisection
        and summed at C speed, when its times never go back). Amounts are added in log
        order within each block, then block by block: the same total as summing every entry
        for whole-number amounts (fractions may differ in the last binary digit, which no
        reply shows: "met" is judged at `scoring.initiatives.DONE_DIGITS` decimals).
        """
        total = 0.0
        for span in self._log(chat, key).derived_from(since, _span):
            if span is None:
                continue  # an empty block
            if since <= span.times[0] and (until is None or span.times[-1] < until):
                total += span.total
            else:
                total += span.between(since, until)
        return total

    def amounts(self, chat: str, key: str, since: datetime) -> list[tuple[datetime, float]]:
        """(time, amount) of each entry logged from `since` on, in log order."""
        spans = self._log(chat, key).derived_from(since, _span)
        return [
            pair for span in spans if span is not None for pair in span.pairs if pair[0] >= since
        ]


def _numbered(docs: Mapping[str, Mapping[str, Any]]) -> tuple[int, bool]:
    """(the highest entry number in a log block, 0 for none; whether an entry has none:
    stored before numbers were kept), at C speed over the block."""
    numbers = list(map(_NUMBER, docs.values()))
    return int(max(filter(None, numbers), default=0)), None in numbers


def _numbered_appended(
    value: tuple[int, bool], added: Mapping[str, Mapping[str, Any]]
) -> tuple[int, bool]:
    """`_numbered` of a block after `added` were appended to it, from its `_numbered`
    before: a hashtag reads its own entry's number, not every entry of the newest block."""
    top, unnumbered = _numbered(added)
    return max(value[0], top), value[1] or unnumbered


follows_appends(_numbered, _numbered_appended)


class _Span(NamedTuple):
    """A log block summarised for sums over a period: its (time, amount) pairs in log
    order, their times sorted (equal ones in log order) with the amounts in that order,
    their total in log order, and whether its times never go back in log order."""

    pairs: tuple[tuple[datetime, float], ...]
    times: tuple[datetime, ...]
    amounts: tuple[float, ...]
    total: float
    in_order: bool

    def between(self, since: datetime, until: datetime | None) -> float:
        """The amounts logged from `since` on and before `until` (None: no end), added in
        log order as reading each entry adds them, so totals stay identical to those of
        b4f5814 on any Python (fractions added in another order can differ in the last
        digit; since "met" is judged at `DONE_DIGITS` decimals that no longer changes a
        reply). In order (nearly always) the period's entries are a run of the sorted
        ones: bisected."""
        if not self.in_order:  # an older entry put back (an undone unlog), a clock set back
            return sum(a for at, a in self.pairs if at >= since and (until is None or at < until))
        times = self.times
        end = len(times) if until is None else bisect_left(times, until)
        return sum(self.amounts[bisect_left(times, since) : end])


def _span(docs: Mapping[str, Mapping[str, Any]]) -> _Span | None:
    """A log block's `_Span`, None when it is empty (derived once per block version, see
    `Tables.derived`, and carried over appends by `_span_appended`)."""
    pairs = tuple((datetime.fromisoformat(d["at"]), float(d["amount"])) for d in docs.values())
    if not pairs:
        return None
    ordered = tuple(sorted(pairs, key=itemgetter(0)))  # stable: equal times keep log order
    return _Span(
        pairs,
        tuple(at for at, _ in ordered),
        tuple(amount for _, amount in ordered),
        _total(pairs),
        ordered == pairs,
    )


def _total(pairs: tuple[tuple[datetime, float], ...]) -> float:
    """`sum` of the amounts in log order, at C speed, afresh and carried over alike: from
    Python 3.12 `sum` compensates its rounding, and adding one by one would differ."""
    return sum(map(_AMOUNT, pairs))


def _span_appended(span: _Span | None, added: Mapping[str, Mapping[str, Any]]) -> _Span | None:
    """`_span` of a block after `added` were appended to it, from its `_span` before: a
    hashtag on a cadence initiative parses its own entry, not every entry of the newest block. The
    total is summed again over every pair (`_total`, as `_span`'s); each new time goes
    after the equal ones already there, as the stable sort puts it."""
    more = _span(added)
    if span is None or more is None:
        return more if span is None else span
    times, amounts = list(span.times), list(span.amounts)
    for at, amount in more.pairs:
        place = bisect_right(times, at)
        times.insert(place, at)
        amounts.insert(place, amount)
    in_order = span.in_order and more.in_order and span.pairs[-1][0] <= more.pairs[0][0]
    pairs = span.pairs + more.pairs
    return _Span(pairs, tuple(times), tuple(amounts), _total(pairs), in_order)


follows_appends(_span, _span_appended)
