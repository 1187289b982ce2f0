"""One chat's outgoing alerts, grouped so an import of ten KPIs is one message (pure).

Like Alertmanager's `group_wait`: the first alert of a group waits `window` for
company; alerts arriving meanwhile join it; `window` 0 sends at the next flush, so
the caller still groups everything it adds before flushing (one import, one sweep).
Quiet-hours alerts wait for their `held_until` and go out together when the window
ends. Alerts of one KPI still waiting are merged into the net change (red then green
within the window says nothing, like Alertmanager dropping alerts resolved during
`group_wait`). Suppressed transitions (test, muted) are never queued.

The caller persists the `Batcher` (it is a frozen model), schedules a flush at
`next_due()`, and calls `due(now)` then.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    model_serializer,
)

from scoring.alert_rules import Transition, transition_kind
from scoring.models import Status

_ORDER = {Status.RED: 0, Status.YELLOW: 1, Status.GREEN: 2}
_INSTANT: TypeAdapter[datetime] = TypeAdapter(AwareDatetime)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Queued(_Frozen):
    """A transition waiting to go out, and the earliest instant it may."""

    transition: Transition
    ready_at: AwareDatetime
    #: Held back for a calculated KPI's missing input (`Batcher.add`'s `not_before`): no
    #: group for other alerts to join. Stored only when set, so every other waiting alert's
    #: document is as it was.
    waits: bool = False

    @model_serializer(mode="wrap")
    def _stored(self, dump: SerializerFunctionWrapHandler) -> dict[str, Any]:
        doc: dict[str, Any] = dump(self)
        if not self.waits:
            del doc["waits"]
        return doc


class Batch(_Frozen):
    """Transitions to send to the chat as one message, most severe first."""

    at: AwareDatetime
    items: tuple[Transition, ...]

    @property
    def critical(self) -> bool:
        """Whether any item is a change to red (renderers may mention it first)."""
        return any(item.critical for item in self.items)


class Batcher(_Frozen):
    """The transitions a chat has not been sent yet."""

    queued: tuple[Queued, ...] = ()

    def add(
        self,
        transition: Transition,
        *,
        now: datetime,
        window: timedelta,
        not_before: datetime | None = None,
    ) -> Batcher:
        """Queue a transition (suppressed ones are dropped: they are only for the log).

        `not_before`: it goes out no earlier (a calculated KPI waiting for an input of its
        day), so a change that reverts meanwhile merges away unsent; a change merged into one
        already waiting keeps the first wait's end (the wait is counted from the first change)."""
        if transition.suppressed is not None:
            return self
        earlier = next((q for q in self.queued if q.transition.kpi == transition.kpi), None)
        rest = tuple(q for q in self.queued if q is not earlier)
        if earlier is not None:
            merged = _merge(earlier.transition, transition)
            if merged is None:
                return Batcher(queued=rest)
            transition = merged
            if earlier.waits and not_before is not None:
                not_before = min(not_before, earlier.ready_at)
        if transition.held_until is not None:
            ready_at = transition.held_until
        else:
            # join the group still collecting (a merged alert keeps its place), else open
            # one; an alert waiting for an input is no group: the others, and its own next
            # change once the input is in, go out on their own time
            open_groups = [
                q.ready_at
                for q in self.queued
                if q.transition.held_until is None and q.ready_at > now and not q.waits
            ]
            ready_at = min(open_groups, default=now + window)
        waits = not_before is not None and not_before > ready_at
        if waits:
            assert not_before is not None
            ready_at = not_before
        return Batcher(
            queued=(*rest, Queued(transition=transition, ready_at=ready_at, waits=waits))
        )

    def settle(self, kpis: Collection[str], *, now: datetime, window: timedelta) -> Batcher:
        """The alerts of `kpis` that waited for a missing input (`not_before`), now that their
        day is whole: each is queued again as if it came now, without the wait, so it goes
        out with the group still collecting or one window from now, not when the wait ends."""
        settled = [q for q in self.queued if q.waits and q.transition.kpi in kpis]
        batcher = Batcher(queued=tuple(q for q in self.queued if q not in settled))
        for q in settled:
            batcher = batcher.add(q.transition, now=now, window=window)
        return batcher if settled else self

    def due(self, now: datetime) -> tuple[Batcher, Batch | None]:
        """Take everything ready at `now` as one batch; the rest stays queued."""
        ready = [q.transition for q in self.queued if q.ready_at <= now]
        if not ready:
            return self, None
        waiting = tuple(q for q in self.queued if q.ready_at > now)
        items = sorted(ready, key=lambda t: (_ORDER.get(t.new, 3), t.kind, t.kpi))
        return Batcher(queued=waiting), Batch(at=now, items=tuple(items))

    def next_due(self) -> datetime | None:
        """When the caller should flush next (None: nothing queued)."""
        return min((q.ready_at for q in self.queued), default=None)


def add_doc(
    queued: Sequence[Mapping[str, Any]],
    transition: Mapping[str, Any],
    *,
    now: datetime,
    window: timedelta,
    not_before: datetime | None = None,
) -> list[Mapping[str, Any]]:
    """`Batcher.add` on documents: `queued` is `to_doc` of a Batcher's `queued`, `transition`
    `to_doc` of the Transition; the answer is `to_doc` of what `add` returns, byte for byte.
    A `/kpi set` that changes a colour queues it here, so the chat's other waiting alerts
    are neither parsed nor serialised again (with a group window they pile up: a busy
    chat had ~35, and their round trip was most of such a set's alert step)."""
    if transition["suppressed"] is not None:
        return list(queued)
    kpi = transition["kpi"]
    earlier = next((q for q in queued if q["transition"]["kpi"] == kpi), None)
    rest = [q for q in queued if q is not earlier]
    if earlier is not None:
        merged = _merge_doc(earlier["transition"], transition)
        if merged is None:
            return rest
        transition = merged
        if earlier.get("waits") and not_before is not None:
            not_before = min(not_before, datetime.fromisoformat(earlier["ready_at"]))
    held = transition["held_until"]
    if held is not None:
        ready_at, text = datetime.fromisoformat(held), held
    else:
        # waiting alerts of one group share its instant: each spelling is parsed once
        spelled = dict.fromkeys(
            q["ready_at"]
            for q in queued
            if q["transition"]["held_until"] is None and not q.get("waits")
        )
        open_groups = [
            (at, text) for text in spelled if (at := datetime.fromisoformat(text)) > now
        ]
        if open_groups:
            ready_at, text = min(open_groups, key=_first)
        else:
            ready_at = now + window
            text = _INSTANT.dump_python(ready_at, mode="json")
    doc: dict[str, Any] = {"transition": transition, "ready_at": text}
    if not_before is not None and not_before > ready_at:
        doc["ready_at"] = _INSTANT.dump_python(not_before, mode="json")
        doc["waits"] = True
    return [*rest, doc]


def _first(pair: tuple[datetime, str]) -> datetime:
    return pair[0]


def _merge_doc(first: Mapping[str, Any], then: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """`_merge` on documents (`to_doc` of each Transition; the answer is `to_doc` of its)."""
    if then["kind"] == "reminder":
        return first
    if then["new"] == Status.NODATA.value:
        return then
    kind = transition_kind(Status(first["old"]), Status(then["new"]))
    if kind is None:
        return None
    return {**then, "old": first["old"], "kind": kind}


def _merge(first: Transition, then: Transition) -> Transition | None:
    """The net change of two unsent transitions of one KPI; None when they cancel out."""
    if then.kind == "reminder":
        return first  # the queued message already says where the KPI stands
    if then.new is Status.NODATA:  # values removed: it closes what people heard (values_gone)
        return then
    kind = transition_kind(first.old, then.new)
    if kind is None:
        return None
    return then.model_copy(update={"old": first.old, "kind": kind})
