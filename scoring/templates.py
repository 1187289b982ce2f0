"""The five ready-made scorecards the source articles describe, as plain domain data.

A team applies one with `/scorecard apply <name>` instead of typing thirty commands; the
demo is the content-marketing template plus invented history. Numbers are starting points
taken from (or in the spirit of) the articles; every one can be edited afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scoring.models import (
    CLASSIC_PERSPECTIVES,
    Cadence,
    Initiative,
    KeyResult,
    Kpi,
    Link,
    Objective,
    Okr,
    Perspective,
)


@dataclass(frozen=True, slots=True)
class Template:
    """A scorecard to start from: structure, indicators, plan and OKRs."""

    key: str
    name: str
    source: str  # which article it comes from
    summary: str
    perspectives: tuple[Perspective, ...] = CLASSIC_PERSPECTIVES
    objectives: tuple[Objective, ...] = ()
    links: tuple[Link, ...] = ()
    kpis: tuple[Kpi, ...] = ()
    initiatives: tuple[Initiative, ...] = ()
    okrs: tuple[Okr, ...] = ()  # cycle "" = the chat's current cycle when applied
    key_results: tuple[KeyResult, ...] = field(default=())


def _objectives(*rows: tuple[str, str, str, float]) -> tuple[Objective, ...]:
    return tuple(Objective(key=k, name=n, perspective=p, weight=w) for k, n, p, w in rows)


def _links(*pairs: tuple[str, str]) -> tuple[Link, ...]:
    return tuple(Link(cause=c, effect=e) for c, e in pairs)


def _kpi(
    key: str, name: str, objective: str, baseline: float, target: float, unit: str, **extra: object
) -> Kpi:
    direction = "up" if target > baseline else "down"
    return Kpi.model_validate(
        {
            "key": key,
            "name": name,
            "objective": objective,
            "baseline": baseline,
            "target": target,
            "unit": unit,
            "direction": direction,
            "every": "week",
            **extra,
        }
    )


CONTENT_MARKETING = Template(
    key="content-marketing",
    name="Content marketing blog",
    source="000: BSC for content marketing (BSC Designer example)",
    summary="A blog that attracts customers: study best practices → create and distribute "
    "content → more traffic → more customers and revenue → profit.",
    objectives=_objectives(
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
    ),
    links=_links(
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
    ),
    kpis=(
        _kpi("article-sales", "Sales from articles", "revenue", 10, 40, "deals", owner="@anna"),
        _kpi("cac", "Customer acquisition cost", "costs", 120, 80, "$", owner="@anna"),
        _kpi("traffic", "Blog visitors", "prospects", 8000, 20000, "visits", owner="@anna"),
        _kpi(
            "support-requests",
            "Support requests from articles",
            "educate",
            5,
            25,
            "req",
            owner="@ivan",
        ),
        _kpi("time-on-page", "Time on article", "engaging", 2, 4, "min", owner="@anna"),
        _kpi(
            "conversion", "Visitor → lead conversion", "conversions", 1.5, 3, "%", owner="@maria"
        ),
        _kpi(
            "ab-tests-run",
            "A/B tests run",
            "ab-tests",
            0,
            4,
            "tests",
            every="month",
            test=True,
            owner="@anna",
        ),
    ),
    initiatives=(
        Initiative(
            key="articles",
            name="Publish articles",
            objective="writing",
            owner="@anna",
            cadence=Cadence(count=4, period="month"),
        ),
        Initiative(
            key="guest-posts",
            name="Guest posts",
            objective="distribution",
            owner="@ivan",
            cadence=Cadence(count=3, period="quarter"),
        ),
    ),
)

CRM = Template(
    key="crm",
    name="Marketing with a CRM (CKPI)",
    source="001: marketing KPIs in a CRM, the integral CKPImarc index",
    summary="Seven perspectives with Customer service on top and a strictly limited set of "
    "CKPIs weighted into one integral index.",
    perspectives=(
        Perspective(key="service", name="Customer service", order=0),
        *(p.model_copy(update={"order": p.order + 1}) for p in CLASSIC_PERSPECTIVES[:3]),
        Perspective(key="channels", name="Marketing channels", order=4),
        Perspective(key="crm", name="CRM & data", order=5),
        CLASSIC_PERSPECTIVES[3].model_copy(update={"order": 6}),
    ),
    objectives=_objectives(
        ("retain", "Keep customers after the sale", "service", 1.0),
        ("roi", "Profitable marketing", "finance", 2.0),
        ("acquire", "Acquire customers efficiently", "customers", 1.0),
        ("landing", "Landing pages that convert", "processes", 1.0),
        ("reach", "Effective organic, social and mobile channels", "channels", 1.0),
        ("funnel", "A clean lead funnel (SQL → SAL)", "crm", 1.0),
        ("analytics", "Decide with CRM analytics", "learning", 1.0),
    ),
    links=_links(
        ("analytics", "funnel"),
        ("analytics", "reach"),
        ("reach", "landing"),
        ("landing", "acquire"),
        ("funnel", "acquire"),
        ("acquire", "roi"),
        ("retain", "roi"),
    ),
    kpis=(
        _kpi("ltv-cac", "LTV : CAC", "roi", 2, 3, "×", weight=3),
        _kpi("marketing-roi", "Marketing ROI", "roi", 100, 200, "%", weight=2),
        _kpi("sql-sal", "SQL → SAL conversion", "funnel", 40, 60, "%"),
        _kpi("landing-download", "Landing → download conversion", "landing", 5, 10, "%"),
        _kpi("organic", "Leads from organic search", "reach", 100, 200, "leads"),
        _kpi("social", "Leads from social media", "reach", 50, 100, "leads"),
        _kpi("mobile", "Mobile conversion", "reach", 1, 2, "%"),
    ),
)

STARTUP = Template(
    key="startup",
    name="Startup marketing KPIs",
    source="003: marketing KPIs for a startup (pick 3–5, pilot them in test mode)",
    summary="CAC, customer lifetime value, conversion, traffic, leads and social engagement; "
    "the last two start in test mode so data can be checked before anyone is judged by it.",
    objectives=_objectives(
        ("unit-economics", "Healthy unit economics", "finance", 1.0),
        ("growth", "Grow the customer base", "customers", 1.0),
        ("funnel", "Turn visitors into customers", "processes", 1.0),
        ("community", "Build an engaged community", "learning", 1.0),
    ),
    links=_links(("community", "funnel"), ("funnel", "growth"), ("growth", "unit-economics")),
    kpis=(
        _kpi("cac", "Customer acquisition cost", "unit-economics", 150, 100, "$"),
        _kpi("cltv", "Customer lifetime value", "unit-economics", 300, 450, "$"),
        _kpi("conversion", "Conversion rate", "funnel", 1, 2.5, "%"),
        _kpi("traffic", "Website traffic", "growth", 5000, 15000, "visits"),
        _kpi("leads", "Leads generated", "growth", 100, 300, "leads", test=True),
        _kpi("engagement", "Social media engagement", "community", 2, 4, "%", test=True),
    ),
)

CUSTOMER_OKRS = Template(
    key="customer-okrs",
    name="Customer-centric OKRs",
    source="002: OKRs for customer-centric marketing",
    summary="A quarterly objective whose key results are response time, NPS and retention.",
    okrs=(Okr(key="delight", name="Delight our customers", cycle=""),),
    key_results=(
        KeyResult(
            key="response-time",
            okr="delight",
            name="Answer requests faster",
            start=24,
            target=4,
            unit="h",
        ),
        KeyResult(key="nps", okr="delight", name="Raise NPS", start=30, target=50),
        KeyResult(
            key="retention", okr="delight", name="Keep customers", start=60, target=75, unit="%"
        ),
    ),
)

DIGITAL = Template(
    key="digital",
    name="Digital marketing BSC",
    source="004: a balanced scorecard for digital marketing",
    summary="Grow social-media presence by 20% over the next year, with conversion rate, "
    "click-through rate, customer satisfaction and campaign ROI.",
    objectives=_objectives(
        ("campaign-roi", "Profitable campaigns", "finance", 1.0),
        ("social-presence", "Grow social-media presence by 20% in a year", "customers", 1.0),
        ("satisfaction", "Satisfied customers", "customers", 1.0),
        ("campaigns", "Campaigns that convert", "processes", 1.0),
        ("skills", "Digital skills of the team", "learning", 1.0),
    ),
    links=_links(
        ("skills", "campaigns"),
        ("campaigns", "social-presence"),
        ("campaigns", "campaign-roi"),
        ("satisfaction", "campaign-roi"),
    ),
    kpis=(
        _kpi(
            "followers",
            "Social-media followers",
            "social-presence",
            10000,
            12000,
            "followers",
            every="month",
        ),
        _kpi("conversion", "Conversion rate", "campaigns", 2, 3, "%"),
        _kpi("ctr", "Click-through rate", "campaigns", 1, 2, "%"),
        _kpi("csat", "Customer satisfaction", "satisfaction", 75, 90, "%", every="month"),
        _kpi("campaign-roi", "Campaign ROI", "campaign-roi", 120, 200, "%", every="month"),
    ),
)

TEMPLATES: dict[str, Template] = {
    t.key: t for t in (CONTENT_MARKETING, CRM, STARTUP, CUSTOMER_OKRS, DIGITAL)
}
