"""A big dashboard for picture tests, importing only the dashboard's own modules (the
worker-import test draws it in a fresh process)."""

from __future__ import annotations

from handlers.pictures.dashboard_layout import Bar, DashboardSpec, Spark

STATUSES = ("green", "yellow", "red", "nodata", "test")
NAMES = (
    "Sales from articles",
    "Привлечение клиентов из блога и соцсетей 🚀",
    "Attract prospects interested in the topic and keep them reading every week",
    "NPS",
    "Доля повторных покупок",
)
STATUSES = ("green", "yellow", "red", "nodata", "test")


def fifty() -> DashboardSpec:
    """A dashboard of fifty KPIs with long, Cyrillic and emoji names and every status."""
    sparks = tuple(
        Spark(
            f"{NAMES[i % len(NAMES)]} {i}",
            f"{1000 * i:,} ₽".replace(",", " "),
            STATUSES[i % len(STATUSES)],
            tuple(float((k * (i + 3)) % 17) for k in range(60 if i % 7 else 1)),
            8.0 if i % 3 else None,
        )
        for i in range(50)
    )
    perspectives = tuple(
        Bar(name, share, status, "—" if share is None else f"{share:.0%}")
        for name, share, status in (
            ("Finance", 0.62, "yellow"),
            ("Клиенты", 0.91, "green"),
            ("Internal processes with a very long perspective name", 0.2, "red"),
            ("Learning & growth", None, "nodata"),
        )
    )
    movers = (
        ("Привлечение клиентов из блога и соцсетей", "−40 pp", "red"),
        ("NPS", "+3 pp", "green"),
    )
    return DashboardSpec(
        "Scorecard · index 66%", 0.66, "yellow", perspectives, sparks, movers, 0.8, 0.5, "66%"
    )
