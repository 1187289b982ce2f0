"""A new user's first console session, typed as people type: every message gets its answer,
in order, with units, dates, typos, tags, alerts, a digest, pictures (real PNGs), undo,
history and an export. (Moving an export to an empty chat is checked in test_files.)

The console runs on the real clock, so lines are checked by what they say, not by dates.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from tests.test_console import _console as console_session

SESSION = """\
hello
/help
/kpi add cac "Customer acquisition cost" baseline=120 target=80 unit=$
/kpi add cac "Customer acquisition cost" baseline=120 target=80 unit=$ perspective=finance
/kpi add leads "Leads" target=500 perspective=customers every=week
/kpi set cac $95 yesterday after the campaign
/kpi set cac 97 $
/kpi set cac 9,5,0
/kpi set cac 9O
/kpi set lead 100
/kpi delete cac
/kpi set leads 1,2k
/kpi set leads 450 2 days ago
/okr add grow "Grow revenue 🚀"
/okr kr grow arr "ARR" start=1M target=2M unit=$
/okr checkin arr 1,2M confidence=7
/initiative add blog "Write the blog" cadence=2/week
/initiative add calls "Customer calls"
#blog +1 first post #calls +3
/alerts on
/alerts here
/digest every day 09:00
/digest
/scorecard
/map
/kpi cac chart
/okr progress
/undo
/history 3
/scorecard export json
"""


def test_a_first_session_answers_every_message_and_keeps_what_it_said(tmp_path: Path) -> None:
    done = console_session(tmp_path / "data", SESSION)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Something went wrong" not in done.stdout
    out = done.stdout
    expected = [
        "⚠ I understand commands (try /help) and #initiative +1 messages.",
        "Which perspective does cac belong to?",
        "Saved KPI Customer acquisition cost (cac): baseline=120, target=80.",
        "Saved Customer acquisition cost = 95 $ for ",  # the unit before the value, yesterday
        "Saved Customer acquisition cost = 97 $ (",
        "⚠ '9,5,0' is not a number for cac: thousands go in groups of three",
        "⚠ '9O': unknown multiplier 'o'",
        "⚠ No KPI 'lead'. Did you mean 'leads'?",
        "⚠ No KPI 'delete'. Did you mean /kpi remove cac?",
        "Saved Leads = 1 200 (",
        "Checked in ARR: 1 200 000 $ (target 2 000 000 $).",
        "Logged 1 on Write the blog. 1 of 2 this week",
        "Logged 3 on Customer calls.",
        "⚠ Unknown /alerts option 'on'. Did you mean /alerts here (send alerts to this chat)?",
        "Alerts for this scorecard now go to this chat.",
        "Daily review · ",
        "· Scheduled every day 09:00",
        "(picture saved to ",
        "Undo your last change (",
        "Scorecard export",
    ]
    position = 0
    for line in expected:
        found = out.find(line, position)
        assert found >= 0, f"{line!r} not found in order in:\n{out[position:]}"
        position = found + len(line)
    pictures = sorted((tmp_path / "data" / "pictures").glob("*.png"))
    names = {p.name for p in pictures}
    assert names >= {"dashboard.png", "map.png", "cac.png"}, names
    assert any(name.startswith("okr-") for name in names), names  # okr-<this quarter>.png
    for picture in pictures:
        with Image.open(picture) as image:
            image.verify()  # a whole PNG, not a stub
