"""What the alert rules remember per KPI (`AlertState`) and what they produce (`Transition`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field, field_validator

from scoring.alert_policy import Frozen, Mute
from scoring.errors import ScoringError
from scoring.models import Status

Kind = Literal["fired", "escalated", "improved", "resolved", "reminder"]
Suppressed = Literal["test", "muted"]

COLOURS = (Status.GREEN, Status.YELLOW, Status.RED)
SEVERITY = {Status.NODATA: -1, Status.GREEN: 0, Status.YELLOW: 1, Status.RED: 2}


class AlertState(Frozen):
    """What the alert rules remember about one KPI; the source of truth across restarts.

    `status` is the colour people were last told about (nodata until the first colour is
    confirmed); `since` is when it became that colour (the firing start for yellow/red).
    `last_notified` is when people were (or, for test KPIs, would have been) told of the
    current colour: None after a muted change. The last reading is kept for reminders
    and to recognise a reading that was already counted.
    """

    kpi: str
    status: Status = Status.NODATA
    told: Status | None = None  # colour of the last message sent; None: stored before it
    since: AwareDatetime | None = None
    pending: Status | None = None
    pending_count: int = Field(default=0, ge=0)
    pending_since: AwareDatetime | None = None
    last_notified: AwareDatetime | None = None
    last_reminder: AwareDatetime | None = None
    value: float
    performance: float
    by: str = ""
    reading_at: AwareDatetime

    @field_validator("status", "told")
    @classmethod
    def _alerting(cls, value: Status | None) -> Status | None:
        if value is Status.TEST:
            raise ScoringError("alert.test_not_status")
        return value

    @property
    def heard(self) -> Status:
        """The colour people last heard of (states stored before `told` existed: `status`)."""
        return self.status if self.told is None else self.told

    @property
    def firing_since(self) -> datetime | None:
        """When the KPI started to be yellow or red (None while green)."""
        return self.since if self.status in (Status.YELLOW, Status.RED) else None


class Transition(Frozen):
    """One alert (or would-be alert) for the log and, unless suppressed, the chat.

    Carries everything a message needs: KPI, old → new colour, value vs target, who
    logged it and the objective it hurts (the renderer looks up its perspective).
    """

    kpi: str
    name: str
    objective: str
    unit: str = ""
    target: float
    low: float | None = None  # a range KPI aims for low–high, not its stored middle
    high: float | None = None
    kind: Kind
    old: Status
    new: Status
    at: AwareDatetime
    since: AwareDatetime | None  # when the KPI entered `new`
    value: float
    performance: float
    by: str = ""
    suppressed: Suppressed | None = None
    mute: Mute | None = None
    held_until: AwareDatetime | None = None  # quiet hours: send no earlier than this

    @property
    def critical(self) -> bool:
        """Only a change *to* red is urgent enough to break quiet hours."""
        return self.new is Status.RED and self.kind != "reminder"


def transition_kind(old: Status, new: Status) -> Kind | None:
    """Name a colour change; None when there is nothing to say (same colour, nodata → green)."""
    if old == new or new not in COLOURS or (old, new) == (Status.NODATA, Status.GREEN):
        return None
    if SEVERITY[new] > SEVERITY[old]:
        return "escalated" if old is Status.YELLOW else "fired"
    return "resolved" if new is Status.GREEN else "improved"
