"""A key result that follows a KPI is told of, and let go, when the KPI goes (probe14).

`/kpi remove nps` said nothing of key result knps following it, and `/okr` went on showing
`Raise NPS (knps) ← KPI nps  40 → 50` as if nothing had happened. After `/kpi remove nps
confirm` the key result was stuck: `/okr checkin knps confidence=7` and even `/okr kr
edit knps target=60` answered "No KPI 'nps'." (only `kpi=none`, which nothing suggested,
freed it), the digest still paced the OKR on the deleted KPI's last value, and a new KPI
given the key `nps` later would have been followed silently, with its own scale.
"""

from __future__ import annotations

from tests.support import FakeChat


def _row(listed: str) -> str:
    """The key result's row of `/okr`, its columns one space apart."""
    [row] = [line for line in listed.splitlines() if "(knps)" in line]
    return " ".join(row.split())


async def _following(chat: FakeChat) -> None:
    await chat.ok('/kpi add nps "NPS" baseline=30 target=50 perspective=customers')
    await chat.ok('/okr add grow "Grow"')
    await chat.ok('/okr kr grow knps "Raise NPS" start=30 target=50 kpi=nps')
    await chat.ok("/kpi set nps 40")


async def test_removing_the_kpi_says_the_key_result_follows_it(chat: FakeChat) -> None:
    await _following(chat)
    assert await chat.ok("/kpi remove nps") == (
        "Removed NPS (nps) from the scorecard; its 1 value is kept until you confirm. "
        "Undo: /kpi restore nps\n"
        "Heads-up: key result knps follows it; /okr shows it as removed until you restore it.\n"
        "[Undo: /kpi restore nps]  [Delete for good: /kpi remove nps confirm]"
    )
    assert _row(await chat.ok("/okr")) == (
        "Raise NPS (knps) ← KPI nps (removed; /kpi restore nps) 40 → 50 30 50% 0.5"
    )
    await chat.ok("/kpi restore nps")
    assert _row(await chat.ok("/okr")) == "Raise NPS (knps) ← KPI nps 40 → 50 30 50% 0.5"


async def test_deleting_the_kpi_for_good_lets_its_key_results_go(chat: FakeChat) -> None:
    await _following(chat)
    await chat.ok("/kpi remove nps")
    assert await chat.ok("/kpi remove nps confirm") == (
        "Deleted NPS (nps) and its 1 value for good. Key result knps no longer follows it "
        "and keeps its last value, 40: check in values by hand, /okr checkin knps <value>."
    )
    assert _row(await chat.ok("/okr")) == "Raise NPS (knps) 40 → 50 30 50% 0.5"
    assert (await chat.ok("/okr checkin knps 45 confidence=7")).startswith(
        "Checked in Raise NPS: 45 (target 50)."
    )
    await chat.ok("/okr kr edit knps target=60")
    await chat.ok('/kpi add nps "NPS again" baseline=0 target=10 perspective=customers')
    await chat.ok("/kpi set nps 3")
    assert _row(await chat.ok("/okr")) == "Raise NPS (knps) 45 → 60 30 50% 0.5"


async def test_undoing_the_deletion_links_the_key_result_again(chat: FakeChat) -> None:
    await _following(chat)
    await chat.ok("/kpi remove nps")
    await chat.ok("/kpi remove nps confirm")
    [question] = await chat.say("/undo")
    assert "key result knps: kpi nps → —" in question.plain()
    await chat.ok(question.buttons[0].command)
    assert _row(await chat.ok("/okr")) == (
        "Raise NPS (knps) ← KPI nps (removed; /kpi restore nps) 40 → 50 30 50% 0.5"
    )
