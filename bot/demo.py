"""The demo: the content-marketing template of the source article, with ~90 days of history.

It is `/scorecard apply content-marketing` plus `/scorecard apply customer-okrs` (the
blog example of seed `000_…`: the chain study best practices → create and distribute
content → more traffic → more customers and revenue → profit, KPIs such as sales sourced
from articles and related support requests, the plan of 4 articles a month and 3 guest
posts a quarter) with invented but plausible values, logs and check-ins, so `/kpi`,
`/scorecard`, `/map` and `/okr progress` are meaningful at once.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.alert_rebuild import rebuild_states
from handlers.templates import apply_plan, plan_template
from scoring.models import CheckIn, Initiative, Measurement, ProgressLog
from scoring.okr import current_quarter
from scoring.templates import CONTENT_MARKETING, CUSTOMER_OKRS
from storage import Store

HISTORY_DAYS = 91
# where each KPI's invented history starts and ends
HISTORY = {
    "article-sales": (12, 31),
    "cac": (118, 97),
    "traffic": (8200, 13500),
    "support-requests": (6, 21),
    "time-on-page": (2.1, 2.9),
    "conversion": (1.4, 2.7),
    "ab-tests-run": (0, 3),
}
CHECK_INS = {"nps": 38.0, "response-time": 12.0, "retention": 64.0}


def load_demo(store: Store, chat: str, now: datetime) -> bool:
    """Fill `chat` with the demo unless it already has KPIs; True when loaded."""
    if store.kpis.all(chat, include_removed=True):
        return False
    rng = random.Random(2026)
    cycle = current_quarter(now, ZoneInfo("UTC"))
    with store.atomic():
        for template in (CONTENT_MARKETING, CUSTOMER_OKRS):
            apply_plan(store, chat, plan_template(store, chat, template, cycle))
        _history(store, chat, now, rng)
        rebuild_states(store, chat, now)  # 90 days of history are not "first readings"
        _plan(store, chat, now, rng)
        for kr, value in CHECK_INS.items():
            store.okrs.check_in(
                chat,
                CheckIn(kr=kr, value=value, at=now - timedelta(days=5), by="@anna", confidence=7),
            )
    return True


def _history(store: Store, chat: str, now: datetime, rng: random.Random) -> None:
    today = now.date()
    for kpi in CONTENT_MARKETING.kpis:
        start, end = HISTORY[kpi.key]
        step = 30 if kpi.every == "month" else 7
        days = list(range(HISTORY_DAYS - 1, -1, -step))
        values = []
        for i, back in enumerate(days):
            share = i / max(len(days) - 1, 1)
            noise = (rng.random() - 0.5) * 0.06 * abs(end - start or 1)
            value = start + (end - start) * share + noise
            whole = float(start).is_integer() and float(end).is_integer()
            values.append(
                Measurement(
                    kpi=kpi.key,
                    value=round(value) if whole else round(value, 2),
                    day=today - timedelta(days=back),
                    at=now - timedelta(days=back),
                    by=kpi.owner or "@anna",
                )
            )
        store.kpis.record_many(chat, kpi.key, values)


def _plan(store: Store, chat: str, now: datetime, rng: random.Random) -> None:
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
            chat, ProgressLog(initiative="articles", amount=1, at=at, by="@anna")
        )
    for back in (70, 40, 12):
        at = now - timedelta(days=back)
        store.initiatives.log(
            chat, ProgressLog(initiative="guest-posts", amount=1, at=at, by="@ivan")
        )
