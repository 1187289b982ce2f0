"""Moving one chat's whole scorecard to another chat key (Telegram group → supergroup).

Every table of a chat is named `<kind>:<chat key>` or `<kind>:<chat key>:<rest>` (see
the repositories), so a move renames exactly the tables whose name has the old key
right after its kind, as whole `:`-separated segments: `kpi:telegram:-12` moves with
chat `telegram:-12`, `kpi:telegram:-123` does not. Inside the moved tables and in every
chat's alert settings, references to the old chat (a `{"platform", "chat_id"}` object
such as an alert channel or an outbox entry's `to`, or a `chat` field holding the key)
are rewritten to the new chat.

The caller runs `move_chat` inside one `atomic()` step (`Store.move_chat` does), so a
crash leaves either the old layout or the new one, never half of each.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from storage.base import Tables
from storage.errors import StoreError

__all__ = ["ChatMoveConflict", "chat_tables", "move_chat"]

_SETTINGS_KIND = "alset"  # alert settings: channels may name any chat


class ChatMoveConflict(StoreError):
    """The target chat already has data: moving would mix two scorecards."""

    def __init__(self, old: str, new: str, tables: list[str]) -> None:
        shown = ", ".join(tables[:5]) + (" …" if len(tables) > 5 else "")
        super().__init__(
            f"cannot move chat {old} to {new}: {new} already has data ({shown}). "
            "Nothing was changed; move or remove that data first."
        )
        self.old = old
        self.new = new
        self.tables = tables


def _suffix(name: str, chat: str) -> str | None:
    """What follows `<kind>:<chat>` in `name` ("" or ":…"), or None if not `chat`'s table."""
    kind, sep, rest = name.partition(":")
    if not sep or not kind:
        return None
    if rest == chat:
        return ""
    if rest.startswith(chat + ":"):
        return rest[len(chat) :]
    return None


def chat_tables(db: Tables, chat: str, *, with_data: bool = True) -> list[str]:
    """Names of `chat`'s tables (only those holding documents, unless told otherwise)."""
    return sorted(
        name
        for name in db.table_names()
        if _suffix(name, chat) is not None and (not with_data or len(db.docs(name)) > 0)
    )


def _split(key: str) -> tuple[str, str]:
    platform, sep, chat_id = key.partition(":")
    if not sep or not platform or not chat_id:
        raise ValueError(f"not a chat key: {key!r}")
    return platform, chat_id


def _rewrite(value: Any, old: str, new: str) -> tuple[Any, bool]:
    """`value` with references to chat `old` pointing at `new`; and whether anything changed."""
    if isinstance(value, list):
        changed = False
        items = []
        for item in value:
            item, hit = _rewrite(item, old, new)
            items.append(item)
            changed = changed or hit
        return (items, True) if changed else (value, False)
    if not isinstance(value, Mapping):
        return value, False
    old_platform, old_id = _split(old)
    new_platform, new_id = _split(new)
    changed = False
    out: dict[str, Any] = {}
    for field, item in value.items():
        if field == "chat" and item == old:
            out[field] = new
            changed = True
            continue
        item, hit = _rewrite(item, old, new)
        out[field] = item
        changed = changed or hit
    if out.get("platform") == old_platform and out.get("chat_id") == old_id:
        out["platform"], out["chat_id"] = new_platform, new_id
        changed = True
    return (out, True) if changed else (value, False)


def move_chat(db: Tables, old: str, new: str) -> bool:
    """Move chat `old`'s tables to chat `new`; False (nothing done) when `old` has no data.

    Raises `ChatMoveConflict` (changing nothing) when `new` already has data, so a second
    trigger after a completed move is a no-op and two scorecards are never mixed. Must run
    inside `atomic()` to be all-or-nothing.
    """
    for key in (old, new):
        _split(key)  # refuse anything that is not a chat key
    if old == new:
        return False
    moving = chat_tables(db, old)
    if not moving:
        return False
    taken = chat_tables(db, new)
    if taken:
        raise ChatMoveConflict(old, new, taken)
    # Empty leftovers on either side (truncated tables) are dropped: no stale handles.
    for name in chat_tables(db, old, with_data=False) + chat_tables(db, new, with_data=False):
        if name not in moving:
            db.drop_table(name)
    for name in moving:
        suffix = _suffix(name, old)
        assert suffix is not None
        kind = name.partition(":")[0]
        docs = {}
        for doc_id, doc in db.docs(name).items():
            body, _ = _rewrite(copy.deepcopy(dict(doc)), old, new)
            docs[int(doc_id)] = body  # same ids, same order
        if docs:  # a summary dropped when its sources moved: not recreated empty
            db.put_table(f"{kind}:{new}{suffix}", docs)
        db.drop_table(name)
    # Other chats may send their alerts to the moved chat.
    for name in sorted(db.table_names(_SETTINGS_KIND + ":")):
        docs = {int(i): doc for i, doc in db.docs(name).items()}
        rewritten = {i: _rewrite(doc, old, new) for i, doc in docs.items()}
        if any(hit for _, hit in rewritten.values()):
            db.put_table(name, {i: body for i, (body, _) in rewritten.items()})
    return True
