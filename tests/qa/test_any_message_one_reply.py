"""Whatever is sent, a command gets one clear answer, and a refusal changes nothing stored.

Random messages over every command path, with the text that breaks chats elsewhere:
markdown and HTML specials, mentions, emoji sequences, right-to-left text, zero-width and
direction marks, control characters, very long words. A refused command must leave every
stored table as it was (the router's atomic step and the handlers' checks together); a
message that is not a command gets no reply and changes nothing.
"""

from __future__ import annotations

import asyncio
from functools import cache

import orjson
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.app import Core, build_core
from handlers.contract import Reply
from storage.engine import Database
from tests.handlers.test_fuzz import FOREIGN, WORDS
from tests.support import FakeChat, FixedClock

SPECIALS = [
    "*bold*",
    "_it_",
    "`code`",
    "```",
    "<b>",
    "</pre>",
    "<a href='x'>x</a>",
    "&amp;",
    "&",
    "<!channel>",
    "@here",
    "[x](http://x)",
    "||spoiler||",
    "👨\u200d👩\u200d👧",
    "🏳️\u200d🌈",
    "مبيعات",
    "שלום",
    "\u202eevil",
    "12\u200f",
    "\u200b",
    "\ufeff5",
    "\u0000",
    "\x1b[31m",
    "１２",
    "٣",
    "𝟗",
    "#articles",
    "#articles+2",
    "#nope",
]
_WORD = st.one_of(
    st.sampled_from(WORDS + SPECIALS), st.text(max_size=12), st.sampled_from(SPECIALS)
)
#: What follows a tag: amounts (a zero is refused) and more tags.
_TAGGED = ["+1", "+2", "0", "+0", "-1", "2.5", "#articles", "#articles,", "#nope", "note"]
_SETUP = (
    '/objective add o "O" perspective=finance',
    '/kpi add cac "CAC" baseline=120 target=80 objective=o',
    '/kpi add visits "Visits" target=100 perspective=customers',
    "/kpi set cac 100",
    '/okr add d "Delight"',
    '/okr kr d nps "NPS" start=30 target=50',
    '/initiative add articles "Articles" cadence=4/month',
)


@cache
def _paths() -> tuple[str, ...]:
    core = build_core(None, clock=FixedClock())
    try:
        return tuple(spec.path for spec in core.router.specs())
    finally:
        core.close()


@st.composite
def _message(draw: st.DrawFn) -> str:
    words = " ".join(draw(st.lists(_WORD, max_size=5)))
    kind = draw(st.sampled_from(["command", "command", "command", "hashtag", "chat"]))
    if kind == "command":
        return f"/{draw(st.sampled_from(_paths()))} {words}"
    if kind == "hashtag":
        tail = " ".join(draw(st.lists(st.one_of(st.sampled_from(_TAGGED), _WORD), max_size=5)))
        return f"#{draw(st.sampled_from(['articles', 'nope', 'cac']))} {tail}"
    return words


def _stored(db: Database) -> bytes:
    """Every stored table's documents, comparable across two moments."""
    return orjson.dumps(
        {name: dict(db.docs(name)) for name in sorted(db.table_names())},
        option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
        default=str,
    )


def _check_reply(text: str, replies: list[Reply]) -> None:
    for reply in replies:
        plain = reply.plain()
        assert "Something went wrong" not in plain, text
        assert not FOREIGN.search(plain), (text, plain)


async def _run(messages: list[str]) -> None:
    core: Core = build_core(None, clock=FixedClock())
    try:
        chat = FakeChat(core)
        for line in _SETUP:
            await chat.ok(line)
        for text in messages:
            before = _stored(core.store.db)
            replies = await chat.say(text)
            _check_reply(text, replies)
            if not replies:  # only chat text (or a tag naming nothing) goes unanswered
                assert not text.strip().startswith("/"), f"no answer to {text!r}"
                assert _stored(core.store.db) == before, text
                continue
            if any(r.kind == "error" for r in replies):
                assert len(replies) == 1, (text, [r.plain() for r in replies])
                assert "\n" not in replies[0].text, (text, replies[0].text)
                assert _stored(core.store.db) == before, (text, replies[0].text)
    finally:
        core.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=st.lists(_message(), min_size=1, max_size=6))
@example(messages=["#articles +1 #articles +0"])  # the second tag refuses: the first logs not
@example(messages=['/kpi set "ca\nc" 5', "/timezone 'Europe/\nMoscow'"])  # one line quoted
@example(messages=["/", "/ kpi set cac 5", "//"])  # a slash alone was not answered
def test_any_message_gets_one_clear_answer_and_a_refusal_changes_nothing(
    messages: list[str],
) -> None:
    asyncio.run(_run(messages))
