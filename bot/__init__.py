"""scorecard-bot application: config, platform adapters, scheduler wiring."""

__version__ = "0.1.0"
