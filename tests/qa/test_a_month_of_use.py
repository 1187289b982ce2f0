"""A month of a marketing team's use on an injected clock (probe12; probe11 ran it as a
scratch script only): values most days and some days missed, a week-summed KPI, a mute,
an /undo by its button, hashtags, OKR check-ins, the Monday digest, the Friday check-in
nudge and the sweep twice a day, as the scheduler would run them. Asserts what people
read: the replies, and every message the chat's outbox received, in order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.app import Core
from bot.delivery import decode_reply
from handlers.contract import Context
from handlers.jobs import digest_build, okr_jobs, sweeper
from tests.alerts.support import CHAT
from tests.support import FakeChat, FixedClock

SETUP = (
    "/timezone Europe/Berlin",
    '/kpi add leads "Leads" target=300 every=week agg=sum perspective=customers owner=@ben',
    '/kpi add cac "CAC" baseline=120 target=80 unit=€ perspective=finance owner=@anna',
    '/initiative add articles "Publish articles" cadence=4/month owner=@carl',
    '/okr add grow "Grow the audience"',
    '/okr kr grow subs "Subscribers" start=1000 target=2000 owner=@ben',
    "/digest every mon 09:00",
    "/alerts set group=0",
)
#: Ben's daily leads (days without one are missed), Anna's weekly CAC.
LEADS = {1: 40, 2: 55, 3: 38, 4: 61, 6: 70, 9: 45, 12: 52, 13: 60, 16: 47, 17: 58, 18: 49}
LEADS |= {19: 51, 22: 44, 23: 41, 24: 39, 25: 42, 26: 50, 27: 55, 29: 60, 30: 61}
CAC = {2: 110, 9: 95, 16: 130, 23: 85, 30: 78}
DETAILS = "Details: /scorecard, /kpi, /okr progress, /initiatives"


@dataclass
class Month:
    """The chat, its clock (09:00 UTC is 10:00 in Berlin) and what its outbox received."""

    chat: FakeChat
    core: Core
    clock: FixedClock
    sent: list[tuple[str, str]] = field(default_factory=list)  # (when, first line)
    _seen: set[str] = field(default_factory=set)

    def at(self, day: int, hour: int) -> None:
        self.clock.now = datetime(2026, 11, day, hour, tzinfo=UTC)

    def collect(self) -> list[str]:
        """The outbox's new messages (their whole text), also kept by first line."""
        new = []
        for entry in self.core.store.outbox.pending(CHAT):
            if entry.id not in self._seen:
                self._seen.add(entry.id)
                text = decode_reply(entry.body or {}).plain()
                self.sent.append((f"{self.clock.now:%d %H}", text.splitlines()[0]))
                new.append(text)
        return new

    async def say(self, text: str, user: str = "anna") -> str:
        [reply] = await self.chat.say(text, user)
        return reply.plain()

    async def sweep(self) -> None:
        await sweeper.sweep(self.core.ctx)
        await self.core.store.commit()

    def job(self, run: Callable[[Context, str], object]) -> None:
        """A scheduled job of the chat, run in one step as the scheduler runs it."""
        with self.core.store.atomic():
            run(self.core.ctx, CHAT)


async def test_a_month_of_a_teams_use_reads_right(
    chat: FakeChat, core: Core, clock: FixedClock
) -> None:
    month = Month(chat, core, clock)
    month.at(1, 8)
    for line in SETUP:
        await chat.ok(line)
    digests: list[str] = []
    said: dict[str, str] = {}
    for day in range(1, 31):
        monday, friday = datetime(2026, 11, day).weekday() == 0, day in (6, 13, 20, 27)
        if monday:
            month.at(day, 8)  # 09:00 in Berlin
            month.job(digest_build.send_digest)
            digests.extend(month.collect())
        month.at(day, 9)
        if day in LEADS:
            said[f"leads {day}"] = await month.say(f"/kpi set leads {LEADS[day]}", "ben")
        if day in CAC:
            said[f"cac {day}"] = await month.say(f"/kpi set cac {CAC[day]}")
        if day in (3, 10, 17, 24):
            said[f"tag {day}"] = await month.say("#articles +1 published", "carl")
        if day == 5:
            said["mute"] = await month.say("/alerts mute cac 3d")
        if day == 16:  # the 130 was a typo: undone by the button of /undo's question
            [question] = await chat.say("/undo")
            said["undo?"] = question.plain()
            said["undo"] = await month.say(question.buttons[0].command)
        if day in (6, 20, 27):
            typed = f"/okr checkin subs {1000 + day * 30} confidence=7 newsletter push"
            said[f"checkin {day}"] = await month.say(typed, "ben")
        month.collect()
        if friday:
            month.at(day, 10)
            month.job(okr_jobs.okr_checkin_reminder)
            month.collect()
        for hour in (10, 16):
            month.at(day, hour)
            await month.sweep()
            month.collect()

    # The Monday digests, each against the one before.
    assert digests == [
        "Weekly review · Mon 02 Nov\nIndex: 13%\nRed: 🔴 Leads 40 vs 300\n"
        "OKR pace 2026Q4 (35% elapsed): 🔴 Grow the audience 0% at risk\n" + DETAILS,
        "Weekly review · Mon 09 Nov\nIndex: 62% (▲ 49 pts since Mon 02 Nov)\n"
        "Movers: ▲ Leads +87 pts\nRed: 🔴 CAC 110 € vs 80 €\n"
        "OKR pace 2026Q4 (42% elapsed): 🔴 Grow the audience 18% at risk\n" + DETAILS,
        "Weekly review · Mon 16 Nov\nIndex: 67% (▲ 5 pts since Mon 09 Nov)\n"
        "Movers: ▲ CAC +37 pts; ▼ Leads −27 pts\nRed: none 🎉\n"
        "OKR pace 2026Q4 (50% elapsed): 🔴 Grow the audience 18% at risk\n" + DETAILS,
        "Weekly review · Mon 23 Nov\nIndex: 72% (▲ 5 pts since Mon 16 Nov)\n"
        "Movers: ▲ Leads +10 pts\nRed: none 🎉\n"
        "OKR pace 2026Q4 (58% elapsed): 🟢 Grow the audience 60% on track\n" + DETAILS,
        "Weekly review · Mon 30 Nov\nIndex: 91% (▲ 19 pts since Mon 23 Nov)\n"
        "Movers: ▲ CAC +25 pts; ▲ Leads +12 pts\nRed: none 🎉\n"
        "OKR pace 2026Q4 (65% elapsed): 🟢 Grow the audience 81% on track\n" + DETAILS,
    ]
    # Every message the chat got, by day and UTC hour: a red KPI is reminded once a day,
    # nothing about CAC while it is muted (5 Nov 10:00 to 8 Nov 10:00 Berlin), one catch-up
    # after; the check-in nudge only on the Friday of a week without a check-in (week 46);
    # the undone 130 answered by the colour it leaves. The week-summed leads are judged on
    # the share of the week's 300 due by their newest day (probe15): red on Sunday 1 Nov
    # (its week's last day: 40 of 300), green from Monday; yellow only after days missed
    # (10 and 11 Nov). A week's first 40-odd leads against the whole 300 turned them red
    # every Monday, reminded daily: 23 messages about leads where 4 now say what changed.
    assert month.sent == [
        ("01 09", "🔴 Leads is red"),
        ("02 08", "Weekly review · Mon 02 Nov"),
        ("02 09", "🟢 Leads is back to green"),
        ("02 09", "🔴 CAC is red"),
        ("03 10", "🔴 CAC is still red"),
        ("04 10", "🔴 CAC is still red"),
        ("08 10", "🔴 CAC is still red"),
        ("09 08", "Weekly review · Mon 09 Nov"),
        ("09 09", "🟡 CAC improved to yellow"),
        ("12 09", "🟡 Leads is yellow"),
        ("13 10", "OKR check-in · 2026Q4, week 46"),
        ("16 08", "Weekly review · Mon 16 Nov"),
        ("16 09", "🟢 Leads is back to green"),
        ("16 09", "🔴 CAC turned red"),
        ("16 09", "🟡 CAC improved to yellow"),
        ("23 08", "Weekly review · Mon 23 Nov"),
        ("23 09", "🟢 CAC is back to green"),
        ("30 08", "Weekly review · Mon 30 Nov"),
    ]
    # What people typed was answered as they meant it.
    assert said["leads 3"] == (
        "Saved Leads = 38 (sum for 2026-W45: 93, 🟢 green against 85.71 due by 2026-11-03, "
        "progress 31%)."
    )
    assert said["mute"] == (
        "cac muted until 08 Nov 10:00 (Europe/Berlin) by @anna. Changes are still evaluated "
        "and logged; /alerts unmute cac ends it early."
    )
    assert said["undo?"] == (
        "Undo your last change (2026-11-16 10:00)?\n/kpi set cac 130\n"
        "cac 2026-11-16: — → 130 (@anna)\n[Undo: /undo 2611-24]"
    )
    assert said["undo"] == (
        "Undone 2611-24 (@anna, /kpi set cac 130)\ncac 2026-11-16: 130 (@anna) → —"
    )
    assert [said[f"tag {day}"] for day in (3, 10, 17, 24)] == [
        "Logged 1 on Publish articles. 1 of 4 this month, 28 days left.",
        "Logged 1 on Publish articles. 2 of 4 this month, 21 days left.",
        "Logged 1 on Publish articles. 3 of 4 this month, 14 days left.",
        "Logged 1 on Publish articles. 4 of 4 this month, target met.",
    ]
    assert said["checkin 20"] == (
        "Checked in Subscribers: 1 600 (target 2 000).\nProgress: 60%\nGrade: 0.6\n"
        "Confidence: 7/10"
    )
    # The month's end, as the boards show it.
    month.at(30, 16)
    assert await chat.ok("/kpi") == (
        "KPIs · index 100%\n"
        "KPI               value  target  progress     updated\n"
        "FINANCE\n"
        "🟢 CAC (cac)       78 €    80 €      105%  ↓  today\n"
        "CUSTOMERS\n"
        "🟢 Leads (leads)     61     300       20%  ↓  today"
    )
    assert (await chat.ok("/okr progress")).splitlines()[:3] == [
        "OKR pace 2026Q4: 66% of the cycle elapsed",
        "objective                    progress  pace",
        "🟢 Grow the audience (grow)       81%  on track",
    ]
    assert await chat.ok("/initiatives") == (
        "Initiatives\n"
        "initiative                   owner  progress\n"
        "Publish articles (articles)  @carl  4 of 4 this month, target met\n"
        "[articles +1: /log articles +1]"
    )
