"""Small formatting rules every reply shares: numbers, percentages, colours, trends, ages."""

from __future__ import annotations

import math
from datetime import date

from scoring.models import Status

STATUS_MARK = {
    Status.GREEN: "🟢",
    Status.YELLOW: "🟡",
    Status.RED: "🔴",
    Status.NODATA: "⚪",
    Status.TEST: "🧪",
}
STATUS_WORD = {
    Status.GREEN: "green",
    Status.YELLOW: "yellow",
    Status.RED: "red",
    Status.NODATA: "no data",
    Status.TEST: "test mode",
}


def num(value: float | None, unit: str = "") -> str:
    """12.5, 10 000, 0.25 — at most two decimals, thousands grouped with a space."""
    if value is None:
        return "—"
    if not math.isfinite(value):
        return str(value)
    decimals = 0 if float(value).is_integer() else (1 if abs(value) >= 100 else 2)
    text = f"{value:,.{decimals}f}".replace(",", " ")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", "−0"):
        text = "0"
    text = text.replace("-", "−")
    if not unit:
        return text
    return f"{text}{unit}" if unit in ("%", "‰") else f"{text} {unit}"


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 value`, `4 values` (irregular plurals via `many`)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def pct(share: float | None) -> str:
    """A share as whole percent: 0.5 → 50%, 1.304 → 130%, None → —."""
    if share is None:
        return "—"
    # whole percent *reached* (toward zero), so 79.5 % never shows as an 80 % that
    # would contradict a yellow colour; the tiny epsilon forgives float error (0.7999…)
    percent = share * 100
    value = math.floor(abs(percent) + 1e-6) * (1 if percent >= 0 else -1)
    return f"{value}%".replace("-", "−")


def mark(status: Status) -> str:
    """The colour marker shown next to a KPI or score."""
    return STATUS_MARK[status]


def trend(previous: float | None, current: float | None) -> str:
    """↑ / ↓ / → versus the previous value (raw direction; colour says good or bad)."""
    if previous is None or current is None:
        return " "
    if current > previous:
        return "↑"
    if current < previous:
        return "↓"
    return "→"


def age(day: date | None, today: date) -> str:
    """How old a value is, in the words people use in a review meeting."""
    if day is None:
        return "never"
    days = (today - day).days
    if days <= 0:
        return "today"
    if days == 1:
        return "1d ago"
    if days < 14:
        return f"{days}d ago"
    if days < 60:
        return f"{days // 7}w ago"
    return f"{days // 30}mo ago"
