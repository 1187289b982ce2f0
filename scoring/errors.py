"""Errors of the pure domain: each message is a friendly line fit for chat."""


class ScoringError(ValueError):
    """A value or definition the scoring rules refuse (zero-width scale, bad threshold...)."""
