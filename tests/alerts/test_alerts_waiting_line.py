"""`/alerts` counts the waiting alerts that will go out, and says which wait for a mute.

An alert queued before its KPI was muted is not sent when the group window closes (the
flush drops a muted KPI's news and the mute's end tells it): counting it among those that
"go out at" promised a message that never came.
"""

from __future__ import annotations

from tests.support import FakeChat

CAC = '/kpi add cac "CAC" baseline=120 target=80 unit=$ perspective=finance'
LEADS = '/kpi add leads "Leads" baseline=100 target=200 perspective=customers'


def _waiting(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("Waiting"))


async def test_waiting_alerts_say_when_they_go_out(chat: FakeChat) -> None:
    await chat.ok(CAC)
    await chat.ok("/alerts set group=30m")
    await chat.ok("/kpi set cac 130")  # red: held for the group window
    assert _waiting(await chat.ok("/alerts")) == "Waiting: 1 alert(s) go out at 21 Nov 10:30"


async def test_an_alert_of_a_kpi_muted_since_waits_for_the_mute_not_the_window(
    chat: FakeChat,
) -> None:
    await chat.ok(CAC)
    await chat.ok(LEADS)
    await chat.ok("/alerts set group=30m")
    await chat.ok("/kpi set cac 130")
    await chat.ok("/kpi set leads 10")
    await chat.ok("/alerts mute cac 2h")
    assert _waiting(await chat.ok("/alerts")) == (
        "Waiting: 1 alert(s) go out at 21 Nov 10:30; 1 more waits for its KPI's mute to end"
    )
    await chat.ok("/alerts mute leads 2h")
    assert _waiting(await chat.ok("/alerts")) == (
        "Waiting: 2 alert(s) wait for their KPIs' mutes to end"
    )
