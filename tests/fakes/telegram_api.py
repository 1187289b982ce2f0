"""A fake Telegram Bot API on 127.0.0.1 for driving the real PTB Application in tests.

It speaks the same wire format as api.telegram.org (form-encoded or multipart POSTs to
`/bot<TOKEN>/<method>`, `{"ok": ..., "result": ...}` answers, errors mapped by HTTP
status), records every call, long-polls getUpdates on an event instead of a timer,
and can make the next calls of a method fail the way Telegram does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Literal

from aiohttp import web

from tests.fakes.loopback import LoopbackServer

TOKEN = "123456789:AAFakeTokenOnlyForTests_abcdefghijkLMNOP"
BOT_ID = 123456789
BOT_USERNAME = "ThisBot"
FIXED_DATE = 1_767_225_600  # 2026-01-01T00:00:00Z

# Params PTB sends JSON-encoded inside the form.
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "reply_parameters",
        "commands",
        "allowed_updates",
        "entities",
        "caption_entities",
        "link_preview_options",
        "scope",
    }
)

Failure = Literal[
    "retry_after", "forbidden", "server_error", "chat_not_found", "bad_html", "migrated"
]

_FAILURES: dict[str, tuple[int, str]] = {
    "retry_after": (429, "Too Many Requests: retry after {retry_after}"),
    "forbidden": (403, "Forbidden: bot was kicked from the group chat"),
    "server_error": (500, "Internal Server Error"),
    "chat_not_found": (400, "Bad Request: chat not found"),
    "bad_html": (400, "Bad Request: can't parse entities: Unsupported start tag"),
    "migrated": (400, "Bad Request: group chat was upgraded to a supergroup chat"),
}


@dataclass
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    status: int = 200
    content_type: str = ""  # how the parameters came: JSON, a form or multipart

    @property
    def ok(self) -> bool:
        """Whether the fake answered with success."""
        return self.status == 200


@dataclass
class _Injected:
    kind: Failure
    remaining: int
    retry_after: int
    chat_id: str | None
    migrate_to_chat_id: int | None = None
    when: Callable[[dict[str, Any]], bool] | None = None


class FakeTelegramAPI(LoopbackServer):
    """The fake server; use `async with FakeTelegramAPI() as api:` or start()/stop()."""

    def __init__(
        self,
        token: str = TOKEN,
        *,
        bot_username: str = BOT_USERNAME,
        max_hold: float = 2.0,
    ) -> None:
        super().__init__()
        self.token = token
        self.bot_username = bot_username
        self.max_hold = max_hold  # longest a getUpdates may hang, whatever timeout PTB asks
        self.calls: list[Call] = []
        self._pending: list[dict[str, Any]] = []
        self._last_update_id = 0
        self._message_ids = itertools.count(10_000)
        self._new_update = asyncio.Event()
        self._closing = asyncio.Event()
        self._changed = asyncio.Condition()
        self._failures: dict[str, list[_Injected]] = {}
        self.files: dict[str, bytes] = {}  # file_id -> content, for getFile + download
        self._late: dict[str, list[float]] = {}

    # --- lifecycle -----------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        """One route: every Bot API method."""
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.*}", self._download)

    async def stop(self) -> None:
        """Release hanging long polls, then shut the server down."""
        self._closing.set()
        await super().stop()

    @property
    def base_url(self) -> str:
        """What to pass as PTB's base_url (the token is appended by PTB)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """What to pass as PTB's base_file_url (file downloads)."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # --- test controls -------------------------------------------------------------------

    def add_file(self, file_id: str, data: bytes) -> dict[str, Any]:
        """Make a file downloadable; returns the `document` object a message carries."""
        self.files[file_id] = data
        return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(data)}

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; assigns the next update_id unless it has one.

        Re-pushing an update with an old id simulates Telegram redelivering it (the
        bot crashed before its next getUpdates confirmed the offset).
        """
        if "update_id" not in update:
            update["update_id"] = self._last_update_id + 1
        self._last_update_id = max(self._last_update_id, int(update["update_id"]))
        self._pending.append(update)
        self._pending.sort(key=lambda u: int(u["update_id"]))
        self._new_update.set()
        return int(update["update_id"])

    def fail_next(
        self,
        method: str,
        kind: Failure,
        count: int = 1,
        *,
        retry_after: int = 1,
        chat_id: str | int | None = None,
        migrate_to_chat_id: int | None = None,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Make the next `count` calls of `method` (to `chat_id`, if given, and whose params
        satisfy `when`, if given) fail with `kind`.

        "migrated" answers as Telegram does for a group that became supergroup
        `migrate_to_chat_id`.
        """
        where = None if chat_id is None else str(chat_id)
        entry = _Injected(kind, count, retry_after, where, migrate_to_chat_id, when)
        self._failures.setdefault(method, []).append(entry)

    def answer_late(self, method: str, seconds: float, count: int = 1) -> None:
        """Accept the next `count` calls of `method` (they are recorded as done) but answer
        only after `seconds`: Telegram under load."""
        self._late.setdefault(method, []).extend([seconds] * count)

    def calls_of(self, method: str, *, ok: bool | None = None) -> list[Call]:
        """Recorded calls of `method`, optionally only successful or only failed ones."""
        return [c for c in self.calls if c.method == method and (ok is None or c.ok == ok)]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5,  # noqa: ASYNC109 (the call shape tests read best)
        *,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Wait until `method` was called `count` times (matching `where`); return those calls."""

        def matching() -> list[Call]:
            return [c for c in self.calls_of(method) if where is None or where(c)]

        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(matching()) >= count), timeout
            )
        return matching()

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5,  # noqa: ASYNC109 (the call shape tests read best)
    ) -> None:
        """Wait until `predicate()` holds, re-checked after every recorded call."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    # --- HTTP ----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await _read_params(request)
        call = Call(method, params, files, content_type=request.content_type)
        failure = self._take_failure(method, params)
        if failure is not None:
            status, description = _FAILURES[failure.kind]
            call.status = status
            await self._record(call)
            extra: dict[str, Any] | None = None
            if failure.kind == "retry_after":
                extra = {"retry_after": failure.retry_after}
            elif failure.kind == "migrated":
                extra = {"migrate_to_chat_id": failure.migrate_to_chat_id}
            return _error(status, description.format(retry_after=failure.retry_after), extra)
        await self._record(call)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            call.status = 404
            return _error(404, "Not Found: method not found")
        result = await handler(params)
        late = self._late.get(method)
        if late:
            await asyncio.sleep(late.pop(0))
        return web.json_response({"ok": True, "result": result})

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def _take_failure(self, method: str, params: dict[str, Any]) -> _Injected | None:
        for entry in self._failures.get(method, []):
            if (
                entry.remaining
                and entry.chat_id in (None, str(params.get("chat_id")))
                and (entry.when is None or entry.when(params))
            ):
                entry.remaining -= 1
                return entry
        return None

    # --- Bot API methods -----------------------------------------------------------------

    async def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Scorecard",
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        if offset:
            # Telegram forgets updates once a later offset confirms them.
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        hold = min(float(params.get("timeout") or 0), self.max_hold)
        ready = self._ready(offset)
        if not ready and hold > 0 and not self._closing.is_set():
            self._new_update.clear()
            waiters = [
                asyncio.ensure_future(self._new_update.wait()),
                asyncio.ensure_future(self._closing.wait()),
            ]
            _, pending = await asyncio.wait(
                waiters, timeout=hold, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in pending:
                waiter.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            ready = self._ready(offset)
        limit = int(params.get("limit") or 100)
        return ready[:limit]

    def _ready(self, offset: int) -> list[dict[str, Any]]:
        return [u for u in self._pending if u["update_id"] >= offset]

    async def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self._message_base(params), "text": params.get("text", "")}

    async def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        photo = {"file_id": "photo-1", "file_unique_id": "u-photo-1", "width": 1, "height": 1}
        message = {**self._message_base(params), "photo": [photo]}
        if params.get("caption"):
            message["caption"] = params["caption"]
        return message

    async def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        document = {"file_id": "doc-1", "file_unique_id": "u-doc-1"}
        return {**self._message_base(params), "document": document}

    async def _api_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params["file_id"])
        size = len(self.files.get(file_id, b""))
        return {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_size": size,
            "file_path": f"documents/{file_id}",
        }

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        data = self.files.get(request.match_info["path"].removeprefix("documents/"))
        return web.Response(status=404) if data is None else web.Response(body=data)

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> bool:
        return True

    def _message_base(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        chat = {"id": chat_id, "type": "supergroup" if chat_id < 0 else "private"}
        if chat_id < 0:
            chat["title"] = "Group"
        return {
            "message_id": next(self._message_ids),
            "date": FIXED_DATE,
            "chat": chat,
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Scorecard"},
        }


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    form: Mapping[str, Any] = {}
    if request.content_type == "application/json":  # the Bot API takes a form or JSON
        form = await request.json()
    elif request.can_read_body:
        form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            files[key] = value.file.read()
        elif key in _JSON_PARAMS and isinstance(value, str):
            params[key] = json.loads(value)
        else:
            params[key] = value
    return params, files


def _error(
    status: int, description: str, parameters: dict[str, Any] | None = None
) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


# --- update builders -------------------------------------------------------------------------

_user_ids = itertools.count(5000)
_message_ids = itertools.count(1)


def user(
    first_name: str = "Anna",
    *,
    last_name: str | None = None,
    username: str | None = "anna",
    user_id: int | None = None,
) -> dict[str, Any]:
    """A Telegram User object."""
    data: dict[str, Any] = {
        "id": user_id if user_id is not None else next(_user_ids),
        "is_bot": False,
        "first_name": first_name,
    }
    if last_name:
        data["last_name"] = last_name
    if username:
        data["username"] = username
    return data


def _entities(text: str) -> list[dict[str, Any]]:
    """The entity Telegram adds for a leading /command or #hashtag."""
    if not text or text[0] not in "/#":
        return []
    word = text.split(maxsplit=1)[0]
    kind = "bot_command" if text[0] == "/" else "hashtag"
    if kind == "hashtag" and "@" in word:
        word = word.split("@", 1)[0]
    return [{"type": kind, "offset": 0, "length": len(word.encode("utf-16-le")) // 2}]


def message(
    text: str,
    *,
    chat: dict[str, Any],
    sender: dict[str, Any] | None = None,
    message_id: int | None = None,
    thread_id: int | None = None,
) -> dict[str, Any]:
    """A Message object with the entities Telegram would attach."""
    data: dict[str, Any] = {
        "message_id": message_id if message_id is not None else next(_message_ids),
        "date": FIXED_DATE,
        "chat": chat,
        "from": sender if sender is not None else user(),
        "text": text,
    }
    if entities := _entities(text):
        data["entities"] = entities
    if thread_id is not None:
        data["message_thread_id"] = thread_id
        data["is_topic_message"] = True
    return data


def private_chat(chat_id: int = 7001, first_name: str = "Anna") -> dict[str, Any]:
    """A private Chat object."""
    return {"id": chat_id, "type": "private", "first_name": first_name}


def group_chat(chat_id: int = -1001234567890, title: str = "Marketing") -> dict[str, Any]:
    """A supergroup Chat object."""
    return {"id": chat_id, "type": "supergroup", "title": title}


def private_message(
    text: str, *, chat_id: int = 7001, sender: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An update with a message in a private chat (the sender is the chat)."""
    who = sender if sender is not None else user(user_id=chat_id)
    chat = private_chat(chat_id, who["first_name"])
    return {"message": message(text, chat=chat, sender=who)}


def group_message(
    text: str,
    *,
    chat_id: int = -1001234567890,
    sender: dict[str, Any] | None = None,
    thread_id: int | None = None,
) -> dict[str, Any]:
    """An update with a message in a supergroup (optionally in a forum topic)."""
    return {"message": message(text, chat=group_chat(chat_id), sender=sender, thread_id=thread_id)}


def basic_group(chat_id: int = -4001, title: str = "Marketing") -> dict[str, Any]:
    """A (basic) group Chat object: the kind Telegram upgrades to a supergroup."""
    return {"id": chat_id, "type": "group", "title": title}


def migration_updates(old_chat_id: int, new_chat_id: int) -> tuple[dict[str, Any], ...]:
    """The two service messages of a group → supergroup upgrade, in Telegram's order:
    `migrate_to_chat_id` in the old group, then `migrate_from_chat_id` in the new one."""
    who = user()
    in_old = {
        "message_id": next(_message_ids),
        "date": FIXED_DATE,
        "chat": basic_group(old_chat_id),
        "from": who,
        "migrate_to_chat_id": new_chat_id,
    }
    in_new = {
        "message_id": 1,
        "date": FIXED_DATE,
        "chat": group_chat(new_chat_id),
        "from": who,
        "migrate_from_chat_id": old_chat_id,
    }
    return {"message": in_old}, {"message": in_new}


def callback_query(
    data: str,
    *,
    chat: dict[str, Any] | None = None,
    sender: dict[str, Any] | None = None,
    message_id: int = 42,
) -> dict[str, Any]:
    """An update for an inline-button press on a bot message in `chat`."""
    where = chat if chat is not None else private_chat()
    if sender is None:
        sender = user(user_id=where["id"]) if where["id"] > 0 else user()
    bot_message = {
        "message_id": message_id,
        "date": FIXED_DATE,
        "chat": where,
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Scorecard"},
        "text": "buttons",
    }
    return {
        "callback_query": {
            "id": f"cq-{next(_message_ids)}",
            "from": sender,
            "chat_instance": "ci-1",
            "message": bot_message,
            "data": data,
        }
    }


# --- what Telegram's HTML parser would accept -------------------------------------------

_TELEGRAM_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "pre", "code"}
)
_TELEGRAM_ENTITIES = frozenset({"lt", "gt", "amp", "quot"})


class _HTMLCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _TELEGRAM_TAGS or attrs:
            self.errors.append(f"unsupported tag <{tag}>")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.errors.append(f"self-closing <{tag}/>")

    def handle_data(self, data: str) -> None:
        for ch in "<>&":
            if ch in data:
                self.errors.append(f"unescaped {ch!r} in {data[:40]!r}")

    def handle_entityref(self, name: str) -> None:
        if name not in _TELEGRAM_ENTITIES:
            self.errors.append(f"unknown entity &{name};")

    def handle_comment(self, data: str) -> None:
        self.errors.append("comment")

    def handle_decl(self, decl: str) -> None:
        self.errors.append("declaration")


def html_errors(text: str) -> list[str]:
    """Why Telegram would reject `text` as parse_mode=HTML (empty when it is fine)."""
    check = _HTMLCheck()
    check.feed(text)
    check.close()
    if check.rawdata:  # HTMLParser keeps an unterminated "<..." here
        check.errors.append(f"dangling markup {check.rawdata[:40]!r}")
    if check.stack:
        check.errors.append(f"unclosed {check.stack}")
    return check.errors
