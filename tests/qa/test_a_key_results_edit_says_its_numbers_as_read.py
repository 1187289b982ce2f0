"""`/okr kr edit` says each number as it read it, as `/kpi edit` does (probe14).

`/okr kr edit subs target=12.000` answered "Updated key result Subs (subs)." and saved a
target of 12 (a lone dot is a decimal point), where `/kpi edit cac target=12.000` says
"target=12" so that a reading nobody meant is seen at once.
"""

from __future__ import annotations

from tests.support import FakeChat


async def test_a_key_results_edit_shows_its_numbers_as_read(chat: FakeChat) -> None:
    await chat.ok('/okr add grow "Grow"')
    await chat.ok('/okr kr grow subs "Subscribers" start=1000 target=5000')
    assert await chat.ok("/okr kr edit subs target=12.000") == (
        "Updated key result Subscribers (subs): target=12."
    )
    assert await chat.ok("/okr kr edit subs target=12 000 owner=none name=Subs") == (
        "Updated key result Subs (subs): target=12 000, no owner, name=Subs."
    )
