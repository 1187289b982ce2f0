"""A chat's alert policy and mutes, and the mute durations people type (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from scoring.alerts_quiet import QuietHours
from scoring.errors import ScoringError

_MAX_MUTE = timedelta(days=90)
#: Longest group window or repeat, like a mute: beyond it date arithmetic overflows.
MAX_WINDOW = _MAX_MUTE


class Frozen(BaseModel):
    """An immutable record that refuses unknown fields (stored states stay strict)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class AlertPolicy(Frozen):
    """A chat's alerting settings (persisted with the chat's config)."""

    hysteresis: float = Field(default=0.05, ge=0.0, le=0.5)
    confirm: int = Field(default=1, ge=1, le=100)
    repeat: timedelta = timedelta(days=1)
    group_window: timedelta = timedelta(seconds=60)
    quiet: QuietHours | None = None

    @field_validator("repeat")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ScoringError("alert.repeat_not_positive")
        return min(value, MAX_WINDOW)  # a longer one saved by an old version: date overflow

    @field_validator("group_window")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ScoringError("alert.group_negative")
        return min(value, MAX_WINDOW)


class Mute(Frozen):
    """A silence on one KPI (or `all`): who set it and until when; evaluation goes on."""

    target: str  # a KPI key or "all"
    by: str
    created: AwareDatetime
    until: AwareDatetime

    @model_validator(mode="after")
    def _ends_after_start(self) -> Mute:
        if self.until <= self.created:
            raise ScoringError("alert.mute_backwards")
        return self

    @classmethod
    def create(cls, target: str, duration: timedelta, *, by: str, now: datetime) -> Mute:
        """`mute <kpi|all> <duration>` from the chat: refuse nonsense with a friendly line."""
        if duration <= timedelta(0) or duration > _MAX_MUTE:
            raise ScoringError("alert.mute_length")
        return cls(target=target.casefold(), by=by, created=now, until=now + duration)

    def covers(self, kpi: str, now: datetime) -> bool:
        """Whether this mute silences `kpi` at `now`."""
        return self.target in ("all", kpi) and self.created <= now < self.until


def active_mute(kpi: str, mutes: Iterable[Mute], now: datetime) -> Mute | None:
    """The mute silencing `kpi` now (the one lasting longest), if any."""
    live = [mute for mute in mutes if mute.covers(kpi, now)]
    return max(live, key=lambda mute: mute.until) if live else None


_DURATION_PART = re.compile(r"(\d{1,15})\s*(мин|min|m|м|h|ч|d|д|w|н)", re.IGNORECASE)
_UNITS = {"m": 1, "min": 1, "м": 1, "мин": 1, "h": 60, "ч": 60, "d": 1440, "д": 1440}
_UNITS |= {"w": 10080, "н": 10080}
_DURATION_CAP = 100 * 365 * 1440


def parse_duration(text: str) -> timedelta:
    """Read a mute duration: `30m`, `2h`, `1d`, `1w`, `1h30m` (also `2ч`, `1д`)."""
    compact = text.strip().replace(" ", "")
    parts = _DURATION_PART.findall(compact)
    if not compact or "".join(n + u for n, u in parts).casefold() != compact.casefold():
        raise ScoringError("alert.not_a_duration", text=text)
    minutes = sum(int(n) * _UNITS[u.casefold()] for n, u in parts)
    # every caller refuses more than 90 days; a cap keeps absurd input from overflowing
    return timedelta(minutes=min(minutes, _DURATION_CAP))
