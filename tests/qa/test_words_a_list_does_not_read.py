"""A word after a command that lists everything is refused, not ignored, and `help` after a
command points to its help.

`/objective profit`, `/perspective foo` and `/initiatives articles` listed everything as
if the word were not there (a newcomer looking for one objective got thirteen, and a typo
went unnoticed); `/kpi help` said "No KPI 'help'."
"""

from __future__ import annotations

import pytest

from tests.support import FakeChat


@pytest.mark.parametrize(
    ("typed", "line"),
    [
        ("/objective profit", "Unexpected words: profit. Usage: /objective"),
        ("/perspective foo", "Unexpected words: foo. Usage: /perspective"),
        ("/initiatives articles", "Unexpected words: articles. Usage: /initiatives"),
        ("/kpi help", "No KPI 'help'. Did you mean /help kpi?"),
        ("/initiative help", "No initiative 'help'. Did you mean /help initiative?"),
    ],
)
async def test_the_word_is_answered(chat: FakeChat, typed: str, line: str) -> None:
    assert await chat.error(typed) == line


async def test_the_lists_still_answer_alone(chat: FakeChat) -> None:
    for text in ("/objective", "/perspective", "/initiatives"):
        await chat.ok(text)
