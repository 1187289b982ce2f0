"""A fake Slack Web API on 127.0.0.1, and a client that sends Slack-signed requests.

`FakeSlackAPI` speaks what slack_sdk sends (form-encoded calls, JSON for
chat.postMessage, GET with a query for users.info, Bearer tokens): `auth.test`,
`chat.postMessage`, `users.info` (the workspace's `users`; an unknown id is
`user_not_found`, and without "users:read" in `scopes` it is `missing_scope`, as
Slack answers an app installed without that scope), the three steps of
`files_upload_v2` (with a loopback upload_url), `response_url` endpoints, and Socket
Mode (`apps.connections.open` with the app token, then a WebSocket that says hello,
carries envelopes to the app and records its acks as "socket_ack" calls). It records
every call, lets a test await calls without sleeping, can make the next calls of a
method fail the way Slack does, and can hold a method's answers until the test
releases them (to prove what does not wait for them).

`SlackSender` plays Slack towards the adapter: it POSTs slash commands, events and
button presses over real loopback HTTP, signed like Slack signs them (v0 HMAC-SHA256
of `v0:{timestamp}:{raw body}`), or badly signed, stale, or marked as a retry.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import web

from tests.fakes.loopback import LoopbackServer

BOT_TOKEN = "xoxb-0000000001-0000000002-FakeBotTokenForTests"
APP_TOKEN = "xapp-1-A0APP-0000000003-FakeAppTokenForTests"
SIGNING_SECRET = "0123456789abcdef0123456789abcdef"
TEAM_ID = "T0TEAM"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
CHANNEL = "C0TEAM"
USER_ID = "U0ANNA"
USER_NAME = "anna"
OTHER_USER_ID = "U0BEN"  # a member who never used a command
OTHER_USER_NAME = "ben"

# The bot scopes of slack-manifest.yml (a test checks they match): what the app was granted.
SCOPES = (
    "commands",
    "chat:write",
    "files:write",
    "channels:history",
    "groups:history",
    "users:read",
    "files:read",
)
NEEDED_SCOPE = {"users.info": "users:read"}


def slack_user(user_id: str, name: str, display_name: str, real_name: str) -> dict[str, Any]:
    """A users.info `user` object, trimmed to what matters here."""
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": name,
        "deleted": False,
        "real_name": real_name,
        "is_bot": False,
        "profile": {
            "display_name": display_name,
            "display_name_normalized": display_name,
            "real_name": real_name,
            "real_name_normalized": real_name,
        },
    }


def workspace_users() -> dict[str, dict[str, Any]]:
    """The members users.info knows by default: anna (display name set), ben (not set)."""
    return {
        USER_ID: slack_user(USER_ID, USER_NAME, "Anna", "Anna Berg"),
        OTHER_USER_ID: slack_user(OTHER_USER_ID, OTHER_USER_NAME, "", "Ben Okafor"),
    }


@dataclass
class Call:
    """One request the fake received, and whether it was answered with success."""

    method: str  # "chat.postMessage", "upload", "response", …
    params: dict[str, Any]
    headers: Mapping[str, str]
    body: bytes
    status: int = 200
    ok: bool = True
    target: str = ""  # the upload's file id, the response_url's name


_R = TypeVar("_R", web.Response, web.WebSocketResponse)


@dataclass
class _Failure:
    error: str
    remaining: int
    retry_after: int


class FakeSlackAPI(LoopbackServer):
    """The fake server; `async with FakeSlackAPI() as api:`."""

    shutdown_timeout = 0.5

    def __init__(self, token: str = BOT_TOKEN, app_token: str = APP_TOKEN) -> None:
        super().__init__()
        self.token = token
        self.app_token = app_token
        self.calls: list[Call] = []
        self.users = workspace_users()  # what users.info answers, by user id
        self.scopes = set(SCOPES)  # the installed app's bot scopes; drop one to refuse
        self._failures: dict[str, list[_Failure]] = {}
        self._holds: dict[str, asyncio.Event] = {}
        self._asked: dict[str, int] = {}
        self._changed = asyncio.Condition()
        self._serial = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self.files: dict[str, bytes] = {}  # shared files people posted, by file id

    def routes(self, app: web.Application) -> None:
        """Web API methods, file uploads, response URLs and the Socket Mode socket."""
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # users.info is a GET
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{name}", self._response)
        app.router.add_get("/socket", self._socket)
        app.router.add_get("/files-pri/{file_id}", self._download)

    @property
    def base_url(self) -> str:
        """What to give AsyncWebClient as base_url."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "r1") -> str:
        """A response_url for a slash command or button payload."""
        return f"http://127.0.0.1:{self.port}/response/{name}"

    # --- test controls -------------------------------------------------------------------

    def share_file(self, file_id: str, name: str, data: bytes) -> dict[str, Any]:
        """A file a person posted: the `files` entry of its message event."""
        self.files[file_id] = data
        url = f"http://127.0.0.1:{self.port}/files-pri/{file_id}"
        return {"id": file_id, "name": name, "size": len(data), "url_private_download": url}

    def fail_next(self, method: str, error: str, *, times: int = 1, retry_after: int = 1) -> None:
        """Make the next `times` calls of `method` fail.

        `error`: "ratelimited" (HTTP 429 + Retry-After), "server_error" (HTTP 500 with
        an HTML body, as Slack's edge sends), or any Slack error code such as
        "channel_not_found" (HTTP 200, `{"ok": false, "error": ...}`). For "upload" and
        "response" any `error` makes the call fail with HTTP 500 / 404.
        """
        self._failures.setdefault(method, []).append(_Failure(error, times, retry_after))

    def hold(self, method: str) -> asyncio.Event:
        """Keep answers to `method` waiting until the returned event is set."""
        gate = self._holds.setdefault(method, asyncio.Event())
        gate.clear()
        return gate

    def asked(self, method: str) -> int:
        """How many requests of `method` arrived, answered or still held."""
        return self._asked.get(method, 0)

    async def wait_asked(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 (the call shape tests read best)
    ) -> None:
        """Wait until `count` requests of `method` arrived (held ones included)."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: self.asked(method) >= count)

    async def push_envelope(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        envelope_id: str | None = None,
        retry_attempt: int | None = None,
    ) -> str:
        """Send a Socket Mode envelope ("slash_commands", "events_api", "interactive")."""
        async with asyncio.timeout(5), self._changed:
            await self._changed.wait_for(lambda: bool(self._sockets))
        envelope_id = envelope_id or f"env-{next(self._serial)}"
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
        if retry_attempt is not None:
            envelope |= {"retry_attempt": retry_attempt, "retry_reason": "timeout"}
        await self._sockets[-1].send_json(envelope)
        return envelope_id

    def calls_to(self, method: str) -> list[Call]:
        """Every call of `method` so far."""
        return [c for c in self.calls if c.method == method]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 (the call shape tests read best)
    ) -> list[Call]:
        """Wait until `method` was called `count` times; returns those calls."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.calls_to(method)) >= count)
        return self.calls_to(method)

    # --- handlers ----------------------------------------------------------------------------

    async def _record(self, call: Call, response: _R, ok: bool) -> _R:
        call.status, call.ok = response.status, ok
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()
        return response

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await request.read()
        # slack_sdk sends `params=` in the query string and `data=`/`json=` in the body.
        params = _decode_json_fields(dict(request.query) | _params(request.content_type, body))
        call = Call(method, params, dict(request.headers), body)
        self._asked[method] = self._asked.get(method, 0) + 1
        async with self._changed:
            self._changed.notify_all()
        gate = self._holds.get(method)
        if gate is not None:
            await gate.wait()
        token = self.app_token if method == "apps.connections.open" else self.token
        if request.headers.get("Authorization") != f"Bearer {token}":
            return await self._record(call, _json({"ok": False, "error": "invalid_auth"}), False)
        failure = self._take_failure(method)
        if failure is not None:
            return await self._record(call, _failure_response(failure), False)
        needed = NEEDED_SCOPE.get(method)
        if needed is not None and needed not in self.scopes:
            refusal = {
                "ok": False,
                "error": "missing_scope",
                "needed": needed,
                "provided": ",".join(sorted(self.scopes)),
            }
            return await self._record(call, _json(refusal), False)
        result = self._result(method, params)
        return await self._record(call, _json(result), bool(result["ok"]))

    async def _download(self, request: web.Request) -> web.Response:
        """url_private_download: only with the bot token, as Slack does."""
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.Response(status=403)
        data = self.files.get(request.match_info["file_id"])
        return web.Response(status=404) if data is None else web.Response(body=data)

    async def _upload(self, request: web.Request) -> web.Response:
        body = await request.read()
        file_id = request.match_info["file_id"]
        call = Call("upload", {}, dict(request.headers), body, target=file_id)
        if self._take_failure("upload") is not None:
            return await self._record(call, web.Response(status=500), False)
        return await self._record(call, web.Response(text=f"OK - {len(body)}"), True)

    async def _response(self, request: web.Request) -> web.Response:
        body = await request.read()
        params = _params(request.content_type, body)
        name = request.match_info["name"]
        call = Call("response", params, dict(request.headers), body, target=name)
        if self._take_failure("response") is not None:
            return await self._record(call, web.Response(status=404, text="expired_url"), False)
        return await self._record(call, web.Response(text="ok"), True)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1})
        await self._record(Call("socket_open", {}, dict(request.headers), b""), ws, True)
        try:
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    ack = json.loads(message.data)
                    call = Call("socket_ack", ack, {}, message.data.encode())
                    call.target = str(ack.get("envelope_id", ""))
                    await self._record(call, ws, True)
        finally:
            self._sockets.remove(ws)
        return ws

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.pop(0)
        return failure

    def _result(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://team.example.slack.com/",
                "team": "Team",
                "user": "scorecard",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
            }
        if method == "chat.postMessage":
            ts = f"1767225600.{next(self._serial):06d}"
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": params}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1767225600.{next(self._serial):06d}"}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._serial):06d}"
            url = f"http://127.0.0.1:{self.port}/upload/{file_id}"
            return {"ok": True, "upload_url": url, "file_id": file_id}
        if method == "users.info":
            user = self.users.get(str(params.get("user", "")))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}
        if method == "files.completeUploadExternal":
            files = params.get("files") or []
            return {
                "ok": True,
                "files": [{"id": f.get("id"), "title": f.get("title")} for f in files],
            }
        return {"ok": False, "error": "unknown_method"}


def _params(content_type: str, body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    if content_type == "application/json":
        parsed = json.loads(body)
        return dict(parsed) if isinstance(parsed, dict) else {"_json": parsed}
    if content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(body.decode(), keep_blank_values=True))
    return {}


def _decode_json_fields(params: dict[str, Any]) -> dict[str, Any]:
    for key in ("files", "blocks"):  # slack_sdk JSON-encodes these inside forms and queries
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params


def _json(data: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(data), content_type="application/json")


def _failure_response(failure: _Failure) -> web.Response:
    if failure.error == "ratelimited":
        response = _json({"ok": False, "error": "ratelimited"}, status=429)
        response.headers["Retry-After"] = str(failure.retry_after)
        return response
    if failure.error == "server_error":
        return web.Response(
            status=500, text="<html>Internal Server Error</html>", content_type="text/html"
        )
    return _json({"ok": False, "error": failure.error})


# --- Slack's side: signed inbound requests ---------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Slack's v0 signature, as slack_sdk.signature.SignatureVerifier checks it."""
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Posted:
    """The adapter's HTTP answer to one signed request."""

    status: int
    text: str
    headers: Mapping[str, str]


class SlackSender:
    """Sends Slack-signed requests to the adapter's endpoint over loopback HTTP."""

    def __init__(self, url: str, secret: str = SIGNING_SECRET) -> None:
        self.url = url
        self.secret = secret
        self._session: aiohttp.ClientSession | None = None
        self._ids = itertools.count(1)

    async def __aenter__(self) -> SlackSender:
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def post(
        self,
        body: bytes,
        content_type: str,
        *,
        bad_signature: bool = False,
        age: float = 0.0,
        retry_num: int | None = None,
        timestamp_header: str | None = None,
    ) -> Posted:
        """POST `body`; `age` seconds back-dates the timestamp (over 300 s is stale);
        `timestamp_header` replaces the timestamp header's text (the signature stays)."""
        assert self._session is not None, "use `async with SlackSender(...)`"
        timestamp = int(time.time() - age)
        signature = sign("not-the-secret" if bad_signature else self.secret, timestamp, body)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp_header or str(timestamp),
            "X-Slack-Signature": signature,
        }
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        async with self._session.post(self.url, data=body, headers=headers) as response:
            return Posted(response.status, await response.text(), dict(response.headers))

    async def slash(self, command: str, text: str = "", **options: Any) -> Posted:
        """A slash command invocation; see `slash_body` for the payload options."""
        send = _split_send_options(options)
        body = slash_body(command, text, trigger_id=f"trigger.{next(self._ids)}", **options)
        return await self.post(body, "application/x-www-form-urlencoded", **send)

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, **send: Any
    ) -> Posted:
        """An Events API event_callback wrapping `event`."""
        body = event_body(event, event_id=event_id or f"Ev{next(self._ids):08d}")
        return await self.post(body, "application/json", **send)

    async def block_action(self, value: str, **options: Any) -> Posted:
        """A press on a button whose value is the command text `value`."""
        send = _split_send_options(options)
        body = block_actions_body(value, trigger_id=f"trigger.{next(self._ids)}", **options)
        return await self.post(body, "application/x-www-form-urlencoded", **send)


def _split_send_options(options: dict[str, Any]) -> dict[str, Any]:
    return {k: options.pop(k) for k in ("bad_signature", "age", "retry_num") if k in options}


def slash_body(command: str, text: str, **options: Any) -> bytes:
    """A slash command body (form-encoded), shaped like bolt-python's test fixture."""
    return urlencode(slash_payload(command, text, **options)).encode()


def slash_payload(
    command: str,
    text: str,
    *,
    response_url: str,
    trigger_id: str = "trigger.1",
    channel_id: str = CHANNEL,
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
) -> dict[str, str]:
    """The fields of a slash command (also the Socket Mode envelope's payload)."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "team",
        "channel_id": channel_id,
        "channel_name": "marketing",
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": "A0APP",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def message_event(
    text: str,
    *,
    channel: str = CHANNEL,
    user: str | None = USER_ID,
    ts: str = "1767225600.000100",
    **extra: Any,
) -> dict[str, Any]:
    """A `message` event as Slack sends it for a channel post."""
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "channel",
    }
    if user is not None:
        event["user"] = user
    event.update(extra)
    return event


def event_body(event: dict[str, Any], *, event_id: str) -> bytes:
    """An Events API request body."""
    return json.dumps(event_callback(event, event_id=event_id)).encode()


def event_callback(event: dict[str, Any], *, event_id: str) -> dict[str, Any]:
    """The Events API event_callback wrapping `event` (also a Socket Mode payload)."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": "A0APP",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1767225600,
        "authorizations": [
            {
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
    }


def block_actions_body(
    value: str,
    *,
    response_url: str,
    trigger_id: str = "trigger.1",
    action_id: str = "scorecard:0",
    channel_id: str = CHANNEL,
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    message_ts: str = "1767225600.000200",
) -> bytes:
    """A block_actions interaction (form field `payload` holding JSON)."""
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "team"},
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM_ID},
        "api_app_id": "A0APP",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id,
        "channel": {"id": channel_id, "name": "marketing"},
        "message": {"type": "message", "ts": message_ts, "text": "…", "bot_id": BOT_ID},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "text": {"type": "plain_text", "text": "Go"},
                "value": value,
                "action_ts": "1767225601.000300",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()
