"""OKRs: key-result progress and grade, objective progress, cycles and pace.

* KR progress = `(current − start) / (target − start)`, unclamped, so a
  decreasing KR (response time 10 h → 2 h) works like any other; no check-in
  yet (`current` None) is 0 %.
* KR grade is Google's 0.0–1.0: the progress clamped to 0..1.
* Objective progress = weighted mean of its KRs' *clamped* progress (one
  overshooting KR cannot hide a missed one); all weights 0 → plain mean.
* Cycles are written `2026Q4`, `2026H1` or `2026` and run from local midnight
  of their first day to local midnight after their last day in the chat's zone.
* Pace compares progress with the share of the cycle elapsed: on track at
  ≥ 95 % of it, behind at ≥ 75 %, else at risk; nothing expected yet → on track.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from scoring.errors import CycleFormatError, ScoringError
from scoring.kpi import clamp01
from scoring.models import KeyResult
from scoring.periods import Period, local_date, period_containing, period_instants, quarter_of
from scoring.periods import elapsed_share as _elapsed_between
from scoring.rollup import weighted_mean
from scoring.status import EPS

CycleKind = Literal["quarter", "half", "year"]
_LETTER: dict[CycleKind, str] = {"quarter": "Q", "half": "H", "year": ""}
_YEAR_FIRST = re.compile(r"^(\d{4})(?:([QH])(\d))?$")
_YEAR_LAST = re.compile(r"^([QH])(\d)(\d{4})$")
#: The first year a typed cycle may be in: dates start on 2000-01-01 (README "Ranges").
FIRST_CYCLE_YEAR = 2000


class Pace(StrEnum):
    """How an OKR's progress compares with the time elapsed (the words people read are
    handlers.render.PACE_WORD)."""

    ON_TRACK = "on track"
    BEHIND = "behind"
    AT_RISK = "at risk"


@dataclass(frozen=True, slots=True)
class Cycle:
    """An OKR cycle: a quarter, a half or a whole year."""

    year: int
    kind: CycleKind
    number: int = 1  # quarter 1–4 or half 1–2; 1 for a year

    @classmethod
    def parse(cls, text: str) -> Cycle:
        """Read 2026Q4, 2026-q4, Q4 2026, 2026H1 or 2026; refuse anything else with an example."""
        compact = re.sub(r"[\s_\-/]", "", text).upper()
        match = _YEAR_FIRST.match(compact)
        if match:
            year, letter, number = match.groups()
        else:
            match = _YEAR_LAST.match(compact)
            if match is None:
                raise CycleFormatError("cycle.unreadable", text=text)
            letter, number, year = match.groups()
        if not 1900 <= int(year) <= 2999:
            raise CycleFormatError("cycle.year_typo", year=year)
        if letter is None:
            return cls(int(year), "year")
        kind: CycleKind = "quarter" if letter == "Q" else "half"
        last = 4 if kind == "quarter" else 2
        if not 1 <= int(number) <= last:
            raise CycleFormatError(
                "cycle.no_such_part", kind=kind, number=number, letter=letter, last=last, year=year
            )
        return cls(int(year), kind, int(number))

    def __str__(self) -> str:
        """The canonical spelling: 2026Q4, 2026H1, 2026."""
        if self.kind == "year":
            return str(self.year)
        return f"{self.year}{_LETTER[self.kind]}{self.number}"

    @property
    def period(self) -> Period:
        """The local dates the cycle covers."""
        months = 3 if self.kind == "quarter" else 6
        month = 1 if self.kind == "year" else (self.number - 1) * months + 1
        return period_containing(self.kind, date(self.year, month, 1))


def parse_cycle(text: str) -> str:
    """A cycle as typed ("q4 2026") in its canonical form ("2026Q4"), from 2000 on like
    every date people type (stored cycles are read by `Cycle.parse`, which keeps older ones)."""
    cycle = Cycle.parse(text)
    if cycle.year < FIRST_CYCLE_YEAR:
        raise CycleFormatError("cycle.too_early", text=text, first=FIRST_CYCLE_YEAR)
    return str(cycle)


def _cycle(cycle: str | Cycle) -> Cycle:
    return cycle if isinstance(cycle, Cycle) else Cycle.parse(cycle)


def cycle_bounds(cycle: str | Cycle, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """(start, end) as aware local midnights in `tz`; `end` is exclusive (next cycle start)."""
    return period_instants(_cycle(cycle).period, tz)


def current_quarter(now: datetime, tz: ZoneInfo) -> str:
    """The quarter (e.g. "2026Q4") that `now` falls in, on the chat's local calendar."""
    today = local_date(now, tz)
    return str(Cycle(today.year, "quarter", quarter_of(today)))


def elapsed_share(cycle: str | Cycle, now: datetime, tz: ZoneInfo) -> float:
    """Share of the cycle elapsed at `now` (0 before it starts, 1 after it ends), DST-exact."""
    start, end = cycle_bounds(cycle, tz)
    return _elapsed_between(start, end, now)


def validate_kr(kr: KeyResult) -> None:
    """Refuse a key result that cannot be scored (same start and target, NaN, negative weight)."""
    numbers = {"start": kr.start, "target": kr.target, "weight": kr.weight, "current": kr.current}
    for field, value in numbers.items():
        if value is not None and not math.isfinite(value):
            raise ScoringError("kr.not_finite", field=field, key=kr.key, value=value)
    if kr.start == kr.target:
        raise ScoringError("kr.zero_width", key=kr.key, target=kr.target)
    if kr.weight < 0:
        raise ScoringError("kr.weight_negative", key=kr.key, weight=kr.weight)


def kr_progress(kr: KeyResult) -> float:
    """(current − start) / (target − start), unclamped; 0 before the first check-in."""
    if kr.current is None:
        return 0.0
    if kr.start == kr.target or not math.isfinite(kr.current):
        validate_kr(kr)
    return (kr.current - kr.start) / (kr.target - kr.start)


def kr_grade(kr: KeyResult) -> float:
    """Google's 0.0–1.0 grade: the progress clamped (0.7 is the usual sweet spot)."""
    return clamp01(kr_progress(kr))


def okr_progress(krs: Sequence[KeyResult]) -> float | None:
    """Weighted mean of the KRs' clamped progress; None for an objective with no KRs."""
    return weighted_mean((kr_grade(kr), kr.weight) for kr in krs)


def pace(progress: float, expected: float) -> Pace:
    """On track at ≥ 95 % of the expected progress, behind at ≥ 75 %, else at risk."""
    if expected <= 0 or progress + EPS >= 0.95 * expected:
        return Pace.ON_TRACK
    if progress + EPS >= 0.75 * expected:
        return Pace.BEHIND
    return Pace.AT_RISK
