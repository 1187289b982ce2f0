"""The demo: the content-marketing scorecard of the source article, with ~90 days of history.

It follows the blog example (seed `000_…`): objectives in all four perspectives, the chain
study best practices → create and distribute content → more traffic → more customers and
revenue → profit growth, KPIs such as sales sourced from articles and related support
requests, and the plan of 4 articles a month and 3 guest posts a quarter.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from scoring.models import (
    Cadence,
    CheckIn,
    Initiative,
    KeyResult,
    Kpi,
    Link,
    Measurement,
    Objective,
    Okr,
    ProgressLog,
)
from scoring.okr import current_quarter
from storage import Store

OBJECTIVES = (
    ("profit", "Grow profit", "finance", 2.0),
    ("revenue", "Grow revenue", "finance", 1.0),
    ("costs", "Control costs", "finance", 1.0),
    ("engaging", "Create engaging content", "customers", 1.0),
    ("prospects", "Attract prospects interested in the topic", "customers", 1.0),
    ("educate", "Educate future customers with articles", "customers", 1.0),
    ("writing", "Writing skill", "processes", 1.0),
    ("distribution", "Content distribution", "processes", 1.0),
    ("conversions", "Track conversions and their sources", "processes", 1.0),
    ("training", "Train managers and support", "processes", 0.5),
    ("competitors", "Competitor analysis, good examples", "learning", 1.0),
    ("ab-tests", "A/B testing of hypotheses", "learning", 1.0),
    ("problems", "Find users' problems and topics", "learning", 1.0),
)
LINKS = (
    ("competitors", "writing"),
    ("problems", "engaging"),
    ("ab-tests", "distribution"),
    ("writing", "engaging"),
    ("distribution", "prospects"),
    ("conversions", "educate"),
    ("training", "educate"),
    ("engaging", "prospects"),
    ("prospects", "revenue"),
    ("educate", "revenue"),
    ("revenue", "profit"),
    ("costs", "profit"),
)
# key, name, objective, baseline, target, unit, every, start, end (of the history), extra
KPIS: tuple[tuple[str, str, str, float, float, str, str, float, float, dict[str, object]], ...] = (
    ("article-sales", "Sales from articles", "revenue", 10, 40, "deals", "week", 12, 31, {}),
    ("cac", "Customer acquisition cost", "costs", 120, 80, "$", "week", 118, 97, {}),
    ("traffic", "Blog visitors", "prospects", 8000, 20000, "visits", "week", 8200, 13500, {}),
    (
        "support-requests",
        "Support requests from articles",
        "educate",
        5,
        25,
        "req",
        "week",
        6,
        21,
        {"owner": "@ivan"},
    ),
    ("time-on-page", "Time on article", "engaging", 2, 4, "min", "week", 2.1, 2.9, {}),
    (
        "conversion",
        "Visitor → lead conversion",
        "conversions",
        1.5,
        3,
        "%",
        "week",
        1.4,
        2.7,
        {"owner": "@maria"},
    ),
    ("ab-tests-run", "A/B tests run", "ab-tests", 0, 4, "tests", "month", 0, 3, {"test": True}),
)
HISTORY_DAYS = 91


def load_demo(store: Store, chat: str, now: datetime) -> bool:
    """Fill `chat` with the demo unless it already has KPIs; True when loaded."""
    if store.kpis.all(chat, include_removed=True):
        return False
    rng = random.Random(2026)
    with store.atomic():
        _structure(store, chat)
        _history(store, chat, now, rng)
        _plan(store, chat, now, rng)
        _okrs(store, chat, now)
    return True


def _structure(store: Store, chat: str) -> None:
    for key, name, perspective, weight in OBJECTIVES:
        store.scorecards.put_objective(
            chat, Objective(key=key, name=name, perspective=perspective, weight=weight)
        )
    for cause, effect in LINKS:
        store.scorecards.add_link(chat, Link(cause=cause, effect=effect))
    for key, name, objective, baseline, target, unit, every, *_rest, extra in KPIS:
        kpi = Kpi.model_validate(
            {
                "key": key,
                "name": name,
                "objective": objective,
                "baseline": baseline,
                "target": target,
                "direction": "up" if target > baseline else "down",
                "unit": unit,
                "every": every,
                "owner": extra.get("owner", "@anna"),
                "test": extra.get("test", False),
            }
        )
        store.kpis.put(chat, kpi)


def _history(store: Store, chat: str, now: datetime, rng: random.Random) -> None:
    today = now.date()
    for key, _name, _obj, _b, _t, _unit, every, start, end, _extra in KPIS:
        step = 30 if every == "month" else 7
        days = list(range(HISTORY_DAYS - 1, -1, -step))
        for i, back in enumerate(days):
            share = i / max(len(days) - 1, 1)
            noise = (rng.random() - 0.5) * 0.06 * abs(end - start or 1)
            value = start + (end - start) * share + noise
            whole = float(start).is_integer() and float(end).is_integer()
            value = round(value) if whole else round(value, 2)
            day = today - timedelta(days=back)
            at = now - timedelta(days=back)
            store.kpis.record(
                chat, Measurement(kpi=key, value=value, day=day, at=at, by="@anna", note="")
            )


def _plan(store: Store, chat: str, now: datetime, rng: random.Random) -> None:
    store.initiatives.put(
        chat,
        Initiative(
            key="articles",
            name="Publish articles",
            objective="writing",
            owner="@anna",
            cadence=Cadence(count=4, period="month"),
        ),
    )
    store.initiatives.put(
        chat,
        Initiative(
            key="guest-posts",
            name="Guest posts",
            objective="distribution",
            owner="@ivan",
            cadence=Cadence(count=3, period="quarter"),
        ),
    )
    store.initiatives.put(
        chat,
        Initiative(
            key="competitor-review",
            name="Review five competitor blogs",
            objective="competitors",
            owner="@maria",
            due=(now - timedelta(days=3)).date(),
        ),
    )
    for back in range(HISTORY_DAYS, 0, -8):
        at = now - timedelta(days=back, hours=rng.randint(0, 8))
        store.initiatives.log(
            chat, ProgressLog(initiative="articles", amount=1, at=at, by="@anna", note="")
        )
    for back in (70, 40, 12):
        at = now - timedelta(days=back)
        store.initiatives.log(
            chat, ProgressLog(initiative="guest-posts", amount=1, at=at, by="@ivan", note="")
        )


def _okrs(store: Store, chat: str, now: datetime) -> None:
    cycle = current_quarter(now, now.tzinfo)  # type: ignore[arg-type]
    store.okrs.put_okr(
        chat, Okr(key="delight", name="Delight our readers", cycle=cycle, owner="@anna")
    )
    krs = (
        ("nps", "Raise NPS", 30.0, 50.0, "", 38.0),
        ("response-time", "Answer support requests faster", 24.0, 4.0, "h", 12.0),
        ("retention", "Keep customers", 60.0, 75.0, "%", 64.0),
    )
    for key, name, start, target, unit, current in krs:
        store.okrs.put_key_result(
            chat,
            KeyResult(key=key, okr="delight", name=name, start=start, target=target, unit=unit),
        )
        store.okrs.check_in(
            chat,
            CheckIn(kr=key, value=current, at=now - timedelta(days=5), by="@anna", confidence=7),
        )
