"""Two progress-log entries never share an instant, also when the log's newest block is
empty: its only entry undone, the next entry logged at an instant an older block holds (a
message's tags, or whole-second platform timestamps, share one) was given that instant,
so its /undo was refused as 'changed again since' (review15; the newest block alone was
checked when it had no last instant to compare with)."""

from __future__ import annotations

from storage.initiatives import LOG_BLOCK
from tests.support import FakeChat


async def test_an_entry_after_an_emptied_block_gets_a_free_instant_and_can_be_undone(
    chat: FakeChat,
) -> None:
    await chat.ok('/initiative add articles "Articles" cadence=100/week')
    for _ in range(LOG_BLOCK):  # one instant (the clock stands still): a full block
        await chat.ok("#articles +1")
    await chat.ok("#articles +5 opens the next block")
    undo = (await chat.say("/undo"))[0].buttons[0].command
    await chat.ok(undo)  # the newest block is empty again
    await chat.ok("#articles +7 after it")
    logs = chat.core.store.initiatives.logs(chat.chat.key, "articles")
    instants = [entry.at for entry in logs]
    assert len(set(instants)) == len(instants) == LOG_BLOCK + 1
    undo = (await chat.say("/undo"))[0].buttons[0].command
    await chat.ok(undo)
    logs = chat.core.store.initiatives.logs(chat.chat.key, "articles")
    assert sorted(entry.amount for entry in logs) == [1.0] * LOG_BLOCK
