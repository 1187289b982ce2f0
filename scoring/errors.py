"""Errors of the pure domain: each message is a friendly line fit for chat."""

#: Most characters of the user's own text an error line repeats.
MAX_QUOTE = 60


def clip(raw: str, limit: int = MAX_QUOTE) -> str:
    """The user's text as an error line may quote it: at most `limit` characters."""
    raw = raw.strip()
    return raw if len(raw) <= limit else raw[: limit - 1] + "…"


class ScoringError(ValueError):
    """A value or definition the scoring rules refuse (zero-width scale, bad threshold...)."""


class KpiDefinitionError(ScoringError):
    """A KPI definition that cannot be scored (bad scale, thresholds or numbers)."""


class ZeroWidthScaleError(KpiDefinitionError):
    """A scale whose two ends are equal, so every share would divide by zero."""


class CycleFormatError(ScoringError):
    """An OKR cycle string that is not 2026Q4, 2026H1 or 2026."""


class CadenceFormatError(ScoringError):
    """A cadence string that is not like 4/month."""


class LinkCycleError(ScoringError):
    """A cause-effect link that would close a loop on the strategy map."""

    def __init__(self, message: str, path: tuple[str, ...]) -> None:
        super().__init__(message)
        self.path = path
