"""Errors of the pure domain as data: a stable code and the names and numbers it needs.

scoring writes no sentences: `ScoringError("kpi.weight_negative", key="cac", weight=-1)`
says which rule refused what, and handlers.messages turns the code into the line people
read (so a translation, or a new wording, changes only the catalogue there).
"""

from __future__ import annotations

#: Most characters of the user's own text an error line repeats.
MAX_QUOTE = 60


def clip(raw: str, limit: int = MAX_QUOTE) -> str:
    """The user's text as an error line may quote it: at most `limit` characters."""
    raw = raw.strip()
    return raw if len(raw) <= limit else raw[: limit - 1] + "…"


class ScoringError(ValueError):
    """A value or definition the scoring rules refuse: `code` names the rule, `data` the
    names and numbers involved (as values, never formatted)."""

    def __init__(self, code: str, /, **data: object) -> None:
        super().__init__(code)
        self.code = code
        self.data = data

    def __str__(self) -> str:
        """The code alone: data may hold what the user typed, which stays out of logs."""
        return self.code

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle (multiprocessing, copy) the keyword data too."""
        return (_rebuild, (type(self), self.code, self.data))


def _rebuild(kind: type[ScoringError], code: str, data: dict[str, object]) -> ScoringError:
    return kind(code, **data)


class KpiDefinitionError(ScoringError):
    """A KPI definition that cannot be scored (bad scale, thresholds or numbers)."""


class ZeroWidthScaleError(KpiDefinitionError):
    """A scale whose two ends are equal, so every share would divide by zero."""


class CycleFormatError(ScoringError):
    """An OKR cycle string that is not 2026Q4, 2026H1 or 2026."""


class CadenceFormatError(ScoringError):
    """A cadence string that is not like 4/month."""
