"""What a newcomer types for a key, answered with the key to use.

`/kpi set "Customer acquisition cost" 95` said the name was "not a valid KPI key" (as if
it were badly spelled), `/kpi set customer acquisition cost 95` said "No KPI 'customer'."
with no suggestion, and `/kpi set 95 cac` said "No KPI '95'." with nothing about the order.
"""

from __future__ import annotations

import pytest

from tests.support import FakeChat

SETUP = (
    '/kpi add cac "Customer acquisition cost" target=80 baseline=120 perspective=finance',
    '/initiative add articles "Publish articles"',
)


@pytest.mark.parametrize(
    ("typed", "line"),
    [
        (
            '/kpi set "Customer acquisition cost" 95',
            "'Customer acquisition cost' is a name: commands take the KPI's key, cac.",
        ),
        (
            '/kpi "customer  acquisition COST"',
            "'customer  acquisition COST' is a name: commands take the KPI's key, cac.",
        ),
        ("/kpi set customer acquisition cost 95", "No KPI 'customer'. Did you mean 'cac'?"),
        ("/kpi set 95 cac", "No KPI '95'. Did you mean /kpi set cac 95? The key comes first."),
        (
            "/kpi set 95 cac 2026-11-02 spring",
            "No KPI '95'. Did you mean /kpi set cac 95 2026-11-02 spring? The key comes first.",
        ),
        (
            '/initiative "Publish articles"',
            "'Publish articles' is a name: commands take the initiative's key, articles.",
        ),
        ("/kpi set 95 nothing", "No KPI '95'."),
        (
            "/kpi set 95 cac " + "x" * 200,  # what is echoed stays short
            f"No KPI '95'. Did you mean /kpi set cac 95 {'x' * 103}…? The key comes first.",
        ),
        (
            '/kpi set "Foo bar" 3',
            "'Foo bar' is not a valid KPI key: use letters, digits, '-', '_' or '.', up to 40 "
            "characters, e.g. cac or лиды",
        ),
    ],
)
async def test_the_key_meant_is_named(chat: FakeChat, typed: str, line: str) -> None:
    for text in SETUP:
        await chat.ok(text)
    assert await chat.error(typed) == line
    assert chat.core.store.kpis.count(chat.chat.key, "cac") == 0
