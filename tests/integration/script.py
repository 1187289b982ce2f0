"""Every registered command, in an order that works, with the facts each answer must show.

The same list drives the Telegram and the Slack round trips; `covered_paths` proves it
reaches every path the router has, so a new command cannot be left out of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.parsing import tokenize
from handlers.router import Router


@dataclass(frozen=True)
class Step:
    """What Anna types (or the label of a button she presses), and what the answer shows."""

    text: str
    expect: tuple[str, ...] = ()
    press: bool = False  # `text` is the label of a button on the previous answer
    path: str = ""  # the route a press runs (its command carries a fresh id)


def step(text: str, *expect: str) -> Step:
    return Step(text, expect)


def press(label: str, path: str, *expect: str) -> Step:
    return Step(label, expect, press=True, path=path)


EVERY_COMMAND: tuple[Step, ...] = (
    step("/help", "Commands", "/kpi", "/okr", "/alerts", "/timezone"),
    step("/scorecard", "Scorecard index —", "Finance", "Learning & growth"),
    step("/scorecard thresholds green=85 yellow=60", "green ≥ 85%, yellow ≥ 60%"),
    step("/perspective", "Perspectives (top to bottom)", "Internal processes"),
    step(
        '/perspective add service "Customer service" position=1',
        "Added perspective Customer service (service) at position 1.",
    ),
    step(
        '/perspective rename learning "People & skills"',
        "Renamed learning: Learning & growth → People & skills.",
    ),
    step("/perspective move service 2", "Moved service to position 2"),
    step("/perspective weight finance 2", "Finance now weighs 2 in the index."),
    step(
        '/objective add profit "Grow profit" perspective=finance weight=2 owner=@anna',
        "Saved objective Grow profit (profit) in finance.",
    ),
    step('/objective add content "Publish content" perspective=processes', "(content)"),
    step('/objective add traffic "More traffic" perspective=customers', "(traffic)"),
    step("/objective edit profit weight=3 aggregate=min", "Updated objective Grow profit"),
    step("/objective link content traffic", "Linked: Publish content → More traffic."),
    step("/objective", "Objectives", "Grow profit", "@anna", "min"),
    step(
        '/kpi add cac "Customer acquisition cost" baseline=120 target=80 unit=$ objective=profit',
        "Saved KPI Customer acquisition cost (cac): baseline=120, target=80.",
    ),
    step('/kpi add leads "Leads per month" target=200 objective=traffic', "(leads)"),
    step('/kpi add trial "Trial signups" target=50 perspective=customers test=yes', "(trial)"),
    step("/kpi edit cac target=75 owner=@anna", "target=75, owner=@anna"),
    step(
        "/kpi set cac 95 2026-03-31 after the spring campaign",
        "Customer acquisition cost = 95 $ for 2026-03-31",
        "red, progress 55%",
    ),
    step("/kpi set cac 90", "= 90 $", "yellow, progress 66%"),
    step("/kpi set cac 9600", "9 600 $ is more than 100× away", "Record it anyway?"),
    press("Cancel", "kpi confirm", "Cancelled; nothing was saved."),
    step("/kpi history cac", "Customer acquisition cost (cac): 2 values", "spring campaign"),
    step("/kpi unset cac 2026-03-31", "Removed Customer acquisition cost = 95 $ for 2026-03-31"),
    press("Undo", "undo", "Undone", "cac 2026-03-31: — → 95"),
    step("/kpi set leads 150", "= 150", "yellow, progress 75%"),
    step("/kpi set trial 20", "= 20", "test mode, not scored"),
    step(
        "/kpi@ThisBot",
        "KPIs · index 69%",
        "Customer acquisition cost (cac)",
        "90 $",
        "Left out of scores: 1 in test mode.",
    ),
    step(
        "/kpi cac",
        "Value: 90 $",
        "Target: 75 $",
        "Baseline: 120 $",
        "Status: 🟡 yellow",
        "Direction: lower is better",
        "after the spring campaign",
    ),
    step("/kpi cac explain", "How Customer acquisition cost is scored", "= 66% (66.66%)"),
    step(
        "/kpi cac chart",
        "Customer acquisition cost (cac)",
        "2 values from 2026-03-31 to 2026-11-21; latest 90 $, target 75 $.",
    ),
    step("/kpi remove leads", "Removed Leads per month (leads)", "1 value is kept"),
    step("/kpi restore leads", "Restored Leads per month (leads) with its history."),
    step("/map text", "Strategy map · index 69%", "Grow profit (profit) 66%", "content → traffic"),
    step("/map", "Strategy map", "Index 69%", "/map text for the text version"),
    step("/map why profit", "Why Grow profit is", "Grow profit (profit) 66%"),
    step("/okr cycle 2026Q4", "OKR cycle set to 2026Q4."),
    step(
        '/okr add delight "Delight our customers" cycle=2026Q4 owner=@anna',
        "Saved OKR Delight our customers (delight) in 2026Q4.",
    ),
    step(
        '/okr kr delight nps "Raise NPS" start=30 target=50',
        "Saved key result Raise NPS (nps) of delight: 30 → 50.",
    ),
    step("/okr kr edit nps target=55", "Updated key result Raise NPS (nps): target=55."),
    step(
        '/okr kr add delight csat "Happier customers" start=70 target=90 kpi=leads',
        "Saved key result Happier customers (csat) of delight: 70 → 90, following KPI leads",
        "(now 150)",
    ),
    step("/okr kr remove csat", "Removed key result Happier customers (csat)."),
    step(
        "/okr checkin nps 38 confidence=7 after the survey",
        "Checked in Raise NPS: 38 (target 55).",
        "Progress: 32%",
        "Confidence: 7/10",
    ),
    step(
        "/okr checkin nps 6000",
        "6 000 is more than 100× away from the start, target and latest check-in of Raise NPS "
        "(30 to 55)",
        "Record it anyway?",
    ),
    press("Cancel", "okr confirm", "Cancelled; nothing was saved."),
    step("/okr kr history nps", "Raise NPS (nps): 1 check-in", "7/10", "after the survey"),
    step("/okr", "OKRs 2026Q4", "38 → 55", "32%"),
    step("/okr progress", "55% of the cycle elapsed", "32%", "at risk"),
    step("/okr edit delight owner=@ivan", "Updated OKR Delight our customers (delight)."),
    step(
        '/initiative add articles "Publish articles" objective=content owner=@anna '
        "cadence=4/month",
        "Saved initiative Publish articles (articles).",
    ),
    step("/initiative edit articles due=2026-12-31 done=no", "Updated initiative"),
    step("/log articles +1 published the BSC guide", "Logged 1 on Publish articles. 1 of 4"),
    step("#articles +1 from the group", "Logged 1 on Publish articles. 2 of 4"),
    step("/initiative articles", "Publish articles (articles): 2 entries", "from the group"),
    step("/initiative unlog articles 2", "Removed entry #2 of Publish articles: +1"),
    press("Undo", "undo", "Undone", "articles progress"),
    step("/initiatives", "Initiatives", "Publish articles (articles)", "2 of 4 this month"),
    step("/initiative", "Publish articles (articles)", "2 of 4 this month"),
    step("/alerts", "Alerts · 2 firing", "90 $ vs target 75 $", "150 vs target 200"),
    step("/alerts here", "Alerts for this scorecard now go to this chat."),
    step("/alerts mute cac 2d", "cac muted until 23 Nov 10:00 (UTC) by @anna."),
    step("/alerts unmute cac", "Unmuted cac."),
    step("/alerts quiet 22:00-08:00", "Quiet hours 22:00-08:00 (UTC)"),
    step("/alerts set confirm=2 group=0", "confirm 2", "group 0 (off)"),
    step("/alerts log 30", "Alert log · last", "no data → red", "red → yellow"),
    step("/alerts off", "Alerts are off for this chat."),
    step("/digest", "Weekly review · Sat 21 Nov", "Index: 69%", "32% at risk"),
    step("/digest every mon 09:00", "Digest scheduled every mon 09:00 (UTC)"),
    step("/digest off", "Scheduled digest off."),
    step("/timezone Europe/Moscow", "Timezone set to Europe/Moscow."),
    step("/numbers", "Numbers here: a dot is the decimal point (1,234.5)"),
    step("/history cac", "Changes to cac", "/kpi set cac 90"),
    step("/undo", "Undo your last change", "/timezone Europe/Moscow"),
    press("Undo", "undo", "Undone", "chat settings: timezone Europe/Moscow → UTC"),
    step("/help kpi set", "/kpi set <key> <value>", "Record a measurement"),
    step("/scorecard", "Scorecard index 69%", "66%", "75%", "1 in test mode"),
    step("/objective unlink content traffic", "Unlinked content → traffic."),
    step("/okr kr remove nps", "Removed key result Raise NPS (nps)."),
    step("/okr remove delight", "Removed OKR Delight our customers (delight)"),
    step("/initiative remove articles", "Removed initiative Publish articles (articles)."),
    step("/objective remove content", "Removed objective Publish content (content)"),
    step("/kpi remove trial", "Removed Trial signups (trial)"),
    step("/kpi remove trial confirm", "Deleted Trial signups (trial) and its 1 value for good."),
    step("/perspective remove learning", "Removed perspective People & skills (learning)."),
    step("/scorecard templates", "Ready-made scorecards", "content-marketing", "digital"),
    step("/scorecard template digital", "Template: Digital marketing BSC", "Adds:"),
    step("/scorecard apply digital", "Applied Digital marketing BSC: added"),
    step("/kpi import\nconversion 2.5 2026-11-20\nctr 1.5", "Import preview: 2 values for 2 KPIs"),
    press("Apply import", "kpi import apply", "Imported 2 values: Conversion rate"),
    step("/kpi import ctr 5", "Import preview: 1 value for 1 KPI"),
    press("Cancel", "kpi import cancel", "Import cancelled; nothing was saved."),
    step('/funnel add web "Web funnel" stages=ctr,conversion', "Saved funnel Web funnel (web)"),
    step("/funnel web", "Web funnel (web) · 2026-W47", "Biggest drop: ctr → conversion"),
    step("/funnel", "Funnels", "Web funnel (web): ctr → conversion"),
    step(
        '/journey add cx "Customer journey" stages="Awareness, Purchase"',
        "Saved journey Customer journey (cx)",
    ),
    step('/journey stage cx purchase kpis=conversion pain="slow checkout"', "Updated stage"),
    step("/journey cx", "2. PURCHASE", "pain point: slow checkout"),
    step("/journey", "Customer journeys", "Awareness → Purchase"),
    step("/journey remove cx", "Removed journey Customer journey (cx)"),
    step("/funnel remove web", "Removed funnel Web funnel (web); its KPIs stay."),
    step("/scorecard export csv", "Scorecard export", "Import it elsewhere"),
    step("/scorecard token", "API token for this scorecard", "Scorecard id"),
    step("/source", "No sources yet"),
    step(
        "/source add sheet csv http://127.0.0.1:9/leads.csv every=week",
        "Added source sheet: pulled every week",
    ),
    step("/source run sheet", "Pulling sheet now; the result follows here."),
    step("/source remove sheet", "Removed source sheet"),
)

#: Paths that need a file attached, which a typed script can't send:
#: tests/integration/test_files_on_platforms.py runs them on every platform.
ATTACHED_FILE_PATHS = frozenset(
    {"scorecard import", "scorecard import apply", "scorecard import cancel"}
)


def covered_paths(router: Router, steps: tuple[Step, ...] = EVERY_COMMAND) -> set[str]:
    """The router paths the steps run (a hashtag line runs `log`)."""
    paths: set[str] = set()
    for s in steps:
        if s.press:
            paths.add(s.path)
            continue
        if s.text.startswith("#"):
            paths.add("log")
            continue
        head, _, rest = s.text.partition(" ")
        name = head[1:].split("@")[0]
        route, _args = router.resolve(name, tokenize(rest))
        paths.add(route.spec.path)
    return paths


# --- shared set-ups -------------------------------------------------------------------------

HOSTILE = '<b>Sales & "leads"</b> _x_ *y*'
"""A name that breaks HTML, Slack mrkdwn and Markdown unless every platform escapes it."""

HOSTILE_SETUP = (
    f"/objective add evil '{HOSTILE}' perspective=finance",
    f"/kpi add hostile '{HOSTILE}' target=10 objective=evil",
    "/kpi set hostile 5",
)
HOSTILE_VIEWS = ("/kpi set hostile 6", "/kpi", "/kpi hostile", "/objective", "/map text")

BUTTON_SETUP = (
    '/kpi add leads "Leads per month" target=200 perspective=customers',
    "/kpi set leads 150",
    '/objective add content "Publish content" perspective=processes',
    '/initiative add articles "Publish articles" objective=content cadence=4/month',
)

CHART_SETUP = (
    '/kpi add cac "Customer acquisition cost" baseline=120 target=80 unit=$ perspective=finance',
    "/kpi set cac 95 2026-10-31",
    "/kpi set cac 90",
)


def many_kpis(count: int) -> tuple[str, ...]:
    """Enough KPIs with long names that `/kpi` is far longer than one message."""
    return tuple(
        f'/kpi add k{i:03d} "Marketing qualified leads from partner channel {i:03d}" '
        f"target={100 + i} perspective=customers"
        for i in range(count)
    )
