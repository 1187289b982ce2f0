"""`#a +1 #b +1` logs on both initiatives, in one reply and one change `/undo` takes back.

Telegram and Slack highlight every tag of such a message; only the first was logged and the
second tag, with its amount, became the first one's note.
"""

from __future__ import annotations

from tests.support import FakeChat


async def _two_initiatives(chat: FakeChat) -> None:
    await chat.ok('/initiative add articles "Publish articles" cadence=4/month')
    await chat.ok('/initiative add calls "Customer calls"')


async def test_each_tag_that_names_an_initiative_logs_its_own_amount(chat: FakeChat) -> None:
    await _two_initiatives(chat)
    assert await chat.ok("#articles +1 #calls +3 after the webinar") == (
        "Logged 1 on Publish articles. 1 of 4 this month, 10 days left.\n"
        "Logged 3 on Customer calls."
    )
    assert await chat.ok("#calls, #articles+2 the BSC guide") == (
        "Logged 1 on Customer calls.\n"
        "Logged 2 on Publish articles. 3 of 4 this month, 10 days left."
    )
    assert await chat.ok("/log calls 2 #articles") == (
        "Logged 2 on Customer calls.\nLogged 1 on Publish articles. 4 of 4 this month, target met."
    )
    calls = (await chat.ok("/initiative calls")).split("\n")
    assert [row.split("@anna")[1].strip() for row in calls if "@anna" in row[:40]] == [
        "",
        "",
        "after the webinar",
    ]
    articles = (await chat.ok("/initiative articles")).split("\n")
    assert [row.split("@anna")[1].strip() for row in articles if "@anna" in row[:40]] == [
        "",
        "the BSC guide",
        "",
    ]


async def test_one_undo_takes_back_every_tag_of_the_message(chat: FakeChat) -> None:
    await _two_initiatives(chat)
    await chat.ok("#articles +1 #calls +3")
    undone = await chat.ok("/undo 2611-3")
    assert undone.split("\n")[0] == "Undone 2611-3 (@anna, #articles +1 #calls +3)"
    assert "Nothing logged yet" in await chat.ok("/initiative articles")
    assert "Nothing logged yet" in await chat.ok("/initiative calls")


async def test_a_later_tag_that_names_no_initiative_stays_in_the_note(chat: FakeChat) -> None:
    await _two_initiatives(chat)
    assert await chat.ok("#calls +2 booked via #linkedin #1") == "Logged 2 on Customer calls."
    assert "booked via #linkedin #1" in await chat.ok("/initiative calls")


async def test_a_bad_amount_on_any_tag_logs_nothing(chat: FakeChat) -> None:
    await _two_initiatives(chat)
    assert await chat.error("#articles +1 #calls +0") == "Logging +0 changes nothing."
    assert "Nothing logged yet" in await chat.ok("/initiative articles")
    assert await chat.ok("/history") == (
        "Changes: 2 changes\n"
        '2611-2 · 2026-11-21 10:00 · @anna · /initiative add calls "Customer calls"\n'
        "  initiative calls: added\n"
        '2611-1 · 2026-11-21 10:00 · @anna · /initiative add articles "Publish articles" '
        "cadence=4/month\n"
        "  initiative articles: added\n"
        "Undo your last change: /undo"
    )


async def test_a_message_with_more_tags_than_one_message_logs_is_refused_whole(
    chat: FakeChat,
) -> None:
    """A pasted block repeating a tag 1 500 times logged 1 500 entries, answered with 1 500
    lines (dozens of Telegram messages) and was too big for /undo to take back."""
    await _two_initiatives(chat)
    assert await chat.error("#calls +1 " + "#articles " * 1500) == (
        "That message names initiatives 1 501 times; one message logs at most 20 tags. "
        "Nothing was logged."
    )
    assert "Nothing logged yet" in await chat.ok("/initiative articles")
    assert "Nothing logged yet" in await chat.ok("/initiative calls")
    twenty = await chat.ok("#calls " * 10 + "#articles +1 " * 10)
    assert len(twenty.split("\n")) == 20
