"""A hashtag logs progress however it is punctuated: the tag ends where an initiative key does.

Telegram and Slack highlight `#articles` in `#articles: +1` or `#articles+1`; those messages
were silently taken for chat (no reply, nothing logged) because the tag ran to the next space.
"""

from __future__ import annotations

from tests.support import FakeChat


async def test_punctuation_after_the_tag_still_logs_on_the_initiative(chat: FakeChat) -> None:
    await chat.ok('/initiative add articles "Publish articles" cadence=4/month')
    assert await chat.ok("#articles+1") == (
        "Logged 1 on Publish articles. 1 of 4 this month, 10 days left."
    )
    assert await chat.ok("#articles: +1 the BSC guide") == (
        "Logged 1 on Publish articles. 2 of 4 this month, 10 days left."
    )
    assert await chat.ok("#Articles, 2") == (
        "Logged 2 on Publish articles. 4 of 4 this month, target met."
    )
    assert await chat.ok("#articles. Nice week") == (
        "Logged 1 on Publish articles. 5 of 4 this month, target met."
    )
    log = (await chat.ok("/initiative articles")).split("\n")
    assert [row.split("@anna")[1].strip() for row in log if "@anna" in row[:40]] == [
        "Nice week",
        "",
        "the BSC guide",
        "",
    ]


async def test_a_tag_that_names_no_initiative_is_still_just_chat(chat: FakeChat) -> None:
    await chat.ok('/initiative add articles "Publish articles" cadence=4/month')
    for text in ("#1 priority: articles", "#article+1", "#articles2 +1", "#, +1"):
        assert await chat.say(text) == []
    assert "Nothing logged yet" in await chat.ok("/initiative articles")
