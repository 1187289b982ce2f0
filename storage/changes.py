"""What a mutating step changed, item by item, so it can be audited and undone.

Repositories report every write of user data here (`note`: kind, key, document before and
after) and register, per kind, how to read and restore one item. Nothing is collected
between `start()` and `stop()`, which the router calls around each mutating command: so a
new command is audited by using the repositories, without code of its own, and undo is
generic (`revert`): every item goes back to its document before the step, through the
owning repository, provided nobody changed it since.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from storage.engine import copy_json
from storage.errors import StoreError

Doc = dict[str, Any]
Reader = Callable[[str, str], "Doc | None"]
Writer = Callable[[str, str, "Doc | None"], None]
#: Why putting back `doc` would break something stored since (None: it wouldn't).
Guard = Callable[[str, str, "Doc | None"], "str | None"]

MAX_CHANGES = 500  # a bigger step is audited by count only and can't be undone


class Change(BaseModel):
    """One item's document before and after a step (None: it did not exist)."""

    model_config = ConfigDict(frozen=True)

    kind: str  # "kpi", "value", "objective", "checkin", … (see the repositories)
    key: str
    before: Doc | None = None
    after: Doc | None = None


class UndoConflict(StoreError):
    """An item was changed again after the step being undone: undoing would lose that."""

    def __init__(self, change: Change, current: Doc | None, reason: str = "") -> None:
        super().__init__(reason or f"{change.kind} {change.key} changed since")
        self.change = change
        self.current = current
        self.reason = reason  # "" when the item itself changed again


@dataclass(slots=True)
class Collected:
    """The changes of one step, merged per item (first `before`, last `after`)."""

    chat: str
    entry_id: str = ""  # the audit entry this step becomes (an Undo button names it)
    items: dict[tuple[str, str], list[Doc | None]] = field(default_factory=dict)
    overflow: int = 0
    tags: dict[str, str] = field(default_factory=dict)
    #: Keys held per kind, gathered by `note_many` once the step is full (then fixed).
    held: dict[str, set[str]] = field(default_factory=dict)

    def change_docs(self) -> list[Doc]:
        """Items whose document really changed, in the order they were first touched, as
        the audit stores them (`Change` documents): built without the models, since a
        `/kpi set` audits one item and its model round trip was most of that."""
        return [
            {"kind": kind, "key": key, "before": before, "after": after}
            for (kind, key), (before, after) in self.items.items()
            if before != after
        ]

    @property
    def complete(self) -> bool:
        """False when the step was too big to keep every item (then it can't be undone)."""
        return self.overflow == 0


def _flat_copy(doc: Mapping[str, Any] | None) -> Doc | None:
    """A copy of a document holding no list or dict (`Changes.note(flat=True)`)."""
    return None if doc is None else dict(doc)


@dataclass(frozen=True, slots=True)
class _Kind:
    read: Reader
    write: Writer
    guard: Guard | None


class Changes:
    """The collector the repositories report to, and the registry of restorable kinds."""

    def __init__(self) -> None:
        self._kinds: dict[str, _Kind] = {}
        self._open: Collected | None = None

    def register(self, kind: str, read: Reader, write: Writer, guard: Guard | None = None) -> None:
        """How to read an item of `kind` and put back an earlier document (None: delete).

        `guard` refuses a restore that would orphan what was stored since (a KPI that got
        values can't be deleted by undoing its creation).
        """
        self._kinds[kind] = _Kind(read, write, guard)

    def note(
        self,
        chat: str,
        kind: str,
        key: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        *,
        flat: bool = False,
    ) -> None:
        """A repository changed one item (ignored outside `start`/`stop`, or for another chat).

        The step keeps its own copies. `flat`: both documents hold no list or dict, so a
        shallow copy is a whole one (a value, noted at every `/kpi set`)."""
        step = self._open
        if step is None or step.chat != chat:
            return
        copy = _flat_copy if flat else copy_json
        slot = step.items.get((kind, key))
        if slot is not None:
            slot[1] = copy(after)
        elif len(step.items) >= MAX_CHANGES:
            step.overflow += 1
        else:
            step.items[(kind, key)] = [copy(before), copy(after)]

    def note_many(
        self,
        chat: str,
        kind: str,
        keys: Sequence[str],
        docs: Callable[[int], tuple[Mapping[str, Any] | None, Doc | None]],
    ) -> None:
        """`note` for many items of one kind (an import): `docs(i)` gives the i-th item's
        documents before and after, asked only while the step has room for new items;
        past MAX_CHANGES the rest are only counted (items already held still follow)."""
        step = self._open
        if step is None or step.chat != chat:
            return
        for i, key in enumerate(keys):
            if len(step.items) >= MAX_CHANGES and (kind, key) not in step.items:
                break
            before, after = docs(i)
            self.note(chat, kind, key, None if before is None else dict(before), after)
        else:
            return
        # Full: the held items no longer change, so their keys of this kind are gathered
        # once per step and the rest of `keys` is matched against them at C speed.
        held = step.held.get(kind)
        if held is None:
            held = step.held[kind] = {k for held_kind, k in step.items if held_kind == kind}
        rest = keys[i:]
        if not held.intersection(rest):
            step.overflow += len(rest)
            return
        for j in range(i, len(keys)):
            if keys[j] in held:
                self.note(chat, kind, keys[j], None, docs(j)[1])  # updates `after` only
            else:
                step.overflow += 1

    def tag(self, name: str, value: str) -> None:
        """Attach a fact to the running step (an undo names the entry it reverted)."""
        if self._open is not None:
            self._open.tags[name] = value

    def entry_id(self) -> str | None:
        """The audit id the running step will be stored under (None outside a step)."""
        return None if self._open is None else self._open.entry_id

    def start(self, chat: str, entry_id: str = "") -> Collected:
        """Start collecting `chat`'s changes (not re-entrant; the router's audit block is
        the caller); `stop` ends it, whatever happened."""
        if self._open is not None:
            raise RuntimeError("changes are already being collected")
        step = self._open = Collected(chat, entry_id)
        return step

    def stop(self) -> None:
        """Stop collecting (see `start`)."""
        self._open = None

    def revert(self, chat: str, changes: Sequence[Change]) -> None:
        """Put every item back as it was before `changes`, or raise UndoConflict, changing nothing.

        An item that is no longer as the step left it was changed since (by anyone): undo
        would silently drop that later change, so it is refused.
        """
        self.check_revert(chat, changes)
        for change in reversed(changes):
            self._kinds[change.kind].write(chat, change.key, change.before)

    def check_revert(self, chat: str, changes: Sequence[Change]) -> None:
        """Raise the UndoConflict `revert` would raise, writing nothing (an Undo button is
        offered only for a change that can still be undone)."""
        for change in changes:
            kind = self._kinds.get(change.kind)
            if kind is None:
                raise UndoConflict(change, None)
            current = kind.read(chat, change.key)
            if current != change.after:
                raise UndoConflict(change, current)
            reason = kind.guard(chat, change.key, change.before) if kind.guard else None
            if reason:
                raise UndoConflict(change, current, reason)
