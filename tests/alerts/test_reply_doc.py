"""A reply of words queued as its document (`text_reply_doc`, `Outbox.put_doc`: the sweep's
stale and cadence reminders) is stored exactly as the model path stores it: the same body
byte for byte, the same summary, chat, platform and kind; a planted bug (a document that
forgets a part of the model) fails that. An entry's id still starts with its instant. A
chat addressed without its ChatRef (`alert_messages.chat_to`) is addressed as the model
would address it (a planted bug that cuts the chat id fails that)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.delivery import StoreOutbox, encode_reply
from handlers import alert_messages
from handlers.contract import ChatRef, NullOutbox, Reply, ReplyKind, text_reply_doc
from storage import open_store
from tests.support import FixedClock

_TEXT = st.text(max_size=30)
_REFS = st.builds(
    ChatRef,
    platform=st.sampled_from(["console", "telegram", "slack"]),
    chat_id=st.text(min_size=1, max_size=12),
    thread_id=st.none() | st.text(max_size=8),
)
_KINDS = st.sampled_from(["answer", "error", "alert", "digest", "reminder", "notice"])
_CASES = st.tuples(st.none() | _TEXT, _TEXT, st.none() | _TEXT, _REFS, _KINDS)
Case = tuple[str | None, str, str | None, ChatRef, ReplyKind]
Build = Callable[..., dict[str, Any]]


def _same_as_the_model(case: Case, build: Build = text_reply_doc) -> None:
    title, text, footer, to, kind = case
    reply = Reply(title=title, text=text, footer=footer, to=to, kind=kind)
    body = build(title=title, text=text, footer=footer, to=to, kind=kind)
    assert orjson.dumps(body) == orjson.dumps(encode_reply(reply))
    stores = [open_store(None), open_store(None)]
    clock = FixedClock()
    assert StoreOutbox(stores[0], clock).put(reply, key="k")
    assert StoreOutbox(stores[1], clock).put_doc(body, key="k")
    assert not StoreOutbox(stores[1], clock).put_doc(body, key="k"), "once per key"
    entries = [
        [e.model_dump(exclude={"id"}) for e in store.outbox.entries(to.key)] for store in stores
    ]
    assert entries[0] == entries[1]
    memory = NullOutbox()
    assert memory.put_doc(body, key="k") and memory.sent == [reply]


@settings(max_examples=150, deadline=None)
@given(_CASES)
def test_a_reply_queued_as_its_document_is_stored_as_the_model_would_be(case: Case) -> None:
    _same_as_the_model(case)


def test_the_property_catches_a_document_that_forgets_a_part_of_the_model() -> None:
    """A planted bug: the document leaves out `private` (a later reader sees no such key)."""

    def forgetful(**parts: Any) -> dict[str, Any]:
        body = text_reply_doc(**parts)
        del body["private"]
        return body

    unshrunk = settings(max_examples=50, deadline=None, phases=[Phase.generate], derandomize=True)
    with pytest.raises(AssertionError):
        unshrunk(given(_CASES)(lambda case: _same_as_the_model(case, forgetful)))()


@settings(max_examples=100, deadline=None)
@given(
    st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 1, 1)),
    st.sampled_from([UTC, ZoneInfo("Europe/Copenhagen"), ZoneInfo("Asia/Kolkata")]),
)
def test_an_outbox_entry_id_starts_with_its_instant_as_written_there(
    naive: datetime, zone: ZoneInfo
) -> None:
    now = naive.replace(tzinfo=zone)
    store = open_store(None)
    found = store.outbox.put(
        chat="console:x", platform="console", kind="alert", key="k", body={}, summary="", now=now
    )
    assert found is not None and found.startswith(f"{now:%Y%m%dT%H%M%S}-")


_CHATS = st.builds(
    lambda platform, sep, rest: f"{platform}{sep}{rest}",
    st.sampled_from(["console", "telegram", "slack"]) | st.text(max_size=8),
    st.sampled_from([":", ""]),
    st.text(max_size=12) | st.text(alphabet="-09:_a", max_size=12),  # ids with a `:` too
)


def _addressed_as_the_model(chat: str, address: Callable[[str], dict[str, Any]]) -> None:
    try:
        expected: dict[str, Any] | type[Exception] = encode_reply(
            Reply(text="x", to=alert_messages.chat_ref(chat), kind="reminder")
        )["to"]
    except ValidationError:
        expected = ValidationError
    if expected is ValidationError:
        with pytest.raises(ValidationError):
            address(chat)
        return
    body = text_reply_doc(title=None, text="x", footer=None, to=address(chat), kind="reminder")
    assert orjson.dumps(body["to"]) == orjson.dumps(expected)


@settings(max_examples=300, deadline=None)
@given(_CHATS)
def test_a_chat_addressed_without_its_model_is_addressed_as_the_model_would_be(chat: str) -> None:
    """`chat_to` (the sweep's reminders) against `chat_ref` (the model): the same `to`, byte
    for byte, and a chat key that is no platform's refused alike."""
    _addressed_as_the_model(chat, alert_messages.chat_to)


def test_the_property_catches_an_address_that_drops_what_follows_a_second_colon() -> None:
    """A planted bug: the chat id cut at a second `:` (`split` for `partition`)."""

    def cut(chat: str) -> dict[str, Any]:
        chat_id = [*chat.split(":"), ""][1]
        return {**alert_messages.chat_to(chat), "chat_id": chat_id}

    unshrunk = settings(max_examples=300, deadline=None, phases=[Phase.generate], derandomize=True)
    with pytest.raises(AssertionError):
        unshrunk(given(_CHATS)(lambda chat: _addressed_as_the_model(chat, cut)))()
