"""A word after a command that is neither a key nor one of its sub-commands, but close to one
or a verb people try for one (`delete`, `rm`, `list`, `show`, `sett`), says which is meant.

`/kpi delete cac` answered "No KPI 'delete'.", which reads as if the KPI were missing.
"""

from __future__ import annotations

import pytest

from tests.support import FakeChat


@pytest.mark.parametrize(
    ("typed", "line"),
    [
        ("/kpi delete cac", "No KPI 'delete'. Did you mean /kpi remove cac?"),
        ("/kpi rm cac", "No KPI 'rm'. Did you mean /kpi remove cac?"),
        ("/kpi sett cac 5", "No KPI 'sett'. Did you mean /kpi set cac 5?"),
        ("/kpi list", "No KPI 'list'. Did you mean /kpi?"),
        ("/kpi show cac", "No KPI 'show'. Did you mean /kpi cac?"),
        ("/kpi new x", "No KPI 'new'. Did you mean /kpi add x?"),
        ("/kpi update cac target=70", "No KPI 'update'. Did you mean /kpi edit cac target=70?"),
        (
            "/initiative delete blog",
            "No initiative 'delete'. Did you mean /initiative remove blog?",
        ),
    ],
)
async def test_the_command_meant_is_named(chat: FakeChat, typed: str, line: str) -> None:
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    assert await chat.error(typed) == line


async def test_a_key_close_to_a_stored_one_is_still_suggested_first(chat: FakeChat) -> None:
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    assert await chat.error("/kpi cca") == "No KPI 'cca'. Did you mean 'cac'?"
    assert await chat.error("/kpi banana") == "No KPI 'banana'."
