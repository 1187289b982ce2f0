"""`1,5 Mio` is a million and a half where people write Mio, Mrd, Tsd or mia (probe14).

A German team (`/numbers 1.234,5`) typing `/kpi set rev 1,5 Mio` had 1.5 € saved with the
note "Mio" (on a new KPI without a word; after earlier values the 100× question said
"1.5 € (note: Mio)"), and `1,5Mio` was refused as an unknown multiplier: the README reads
dates in German and Danish, but multipliers only in English and Russian.
"""

from __future__ import annotations

import pytest

from tests.support import FakeChat

REV = '/kpi add rev "Umsatz" target=2.000.000 unit=€ perspective=finance'


@pytest.mark.parametrize(
    ("typed", "saved"),
    [
        ("1,5 Mio", "1 500 000 €"),
        ("1,5 Mio.", "1 500 000 €"),
        ("1,5Mio", "1 500 000 €"),
        ("2 Mrd", "2 000 000 000 €"),
        ("2 mia.", "2 000 000 000 €"),
        ("250 Tsd", "250 000 €"),
        ("250 Tsd. nach der Kampagne", "250 000 €"),
    ],
)
async def test_german_and_danish_multipliers(chat: FakeChat, typed: str, saved: str) -> None:
    await chat.ok("/numbers 1.234,5")
    await chat.ok(REV)
    assert (await chat.ok(f"/kpi set rev {typed}")).startswith(f"Saved Umsatz = {saved} (")


async def test_an_unknown_multiplier_names_them(chat: FakeChat) -> None:
    await chat.ok(REV)
    assert await chat.error("/kpi set rev 5zz") == (
        "'5zz': unknown multiplier 'zz' (use k, M, bn, тыс, млн, млрд, Tsd, Mio, Mrd or mia)"
    )
