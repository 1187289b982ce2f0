"""Slack adapter: slack-bolt's AsyncApp inside our loop, Commands in, Replies out.

Bolt stays in this file and `slack_format.py`. HTTP mode serves one aiohttp handler on
our own AppRunner (never `app.start()`, which owns the process): it checks the signature
on the raw bytes and that the body is readable before Bolt sees the request, because
Bolt answers a malformed body with a 500 and a traceback in the log. Socket Mode uses
`connect_async()` (never `start_async()`, which sleeps forever). Slash commands and button
presses are acked at once; the work runs afterwards in tasks this adapter owns, so
Slack's 3-second limit never depends on how slow a handler is and `stop()` can wait
for it. Bolt does not deduplicate Slack's retries, so a middleware does. Channel
messages carry only a user id: an unknown one is looked up with users.info inside the
command's task (never before the ack), cached, and credited as the id when Slack will
not say (no users:read scope, rate limit, network).
"""

from __future__ import annotations

import asyncio
import errno
import functools
import hashlib
import hmac
import json
import logging
import re
import socket
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters import slack_format as fmt
from bot.adapters.base import (
    EDITED_COMMAND,
    EDITED_INTO_COMMAND,
    DeliveryError,
    Dispatch,
    Pacer,
    Prepare,
    SeenLog,
    SendLater,
    Sleep,
    StartupError,
    dispatch_for,
    drawn,
    kept_for_later,
)
from bot.adapters.policy import SLACK, DeliveryPolicy, send_retrying
from bot.logging import log_command, log_fields
from handlers.contract import Attachment, ChatRef, Clock, Command, CommandSpec, Reply

_LOGGER = logging.getLogger(__name__)

INVITE_ME = "I can only post pictures in channels I am in: /invite me and try again."
SIGNATURE_MAX_AGE = 300  # s: Slack's own limit for a request's timestamp
RESPONSE_URL_USES = 5  # Slack accepts 5 answers per response_url (within 30 minutes)
KNOWN_USERS = 10_000  # user ids whose names are cached (least recently used dropped)
UNKNOWN_RETRY = 600.0  # s before asking users.info again about an id it could not name
LOOKUP_PAUSE = 60.0  # s without lookups after a network failure
MAX_DOWNLOAD = 20 * 1024 * 1024  # bytes of a shared file we fetch for /scorecard import
REFUSED_PAUSE = 3600.0  # s without lookups after Slack refused them (missing users:read)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Responder:
    """A command's response_url: answers in place, even where the bot is not a member."""

    def __init__(self, respond: AsyncRespond) -> None:
        self._respond = respond
        self._left = RESPONSE_URL_USES

    async def send(self, message: fmt.SlackMessage, response_type: fmt.ResponseType) -> bool:
        """Post `message`; False when the URL is used up, expired or unreachable."""
        if self._left <= 0:
            return False
        self._left -= 1
        try:
            answer = await self._respond(
                text=message.text,
                blocks=message.blocks,
                response_type=response_type,
                replace_original=False,
            )
        except (aiohttp.ClientError, TimeoutError, SlackClientError) as exc:
            _LOGGER.warning(
                "response_url failed: %s", type(exc).__name__, extra=log_fields("slack")
            )
            return False
        if answer.status_code != 200:
            _LOGGER.warning(
                "response_url refused: HTTP %s %s",
                answer.status_code,
                answer.body,
                extra=log_fields("slack"),
            )
            self._left = 0  # expired or invalid: do not try it again for this command
            return False
        return True


class _UserDirectory:
    """Who a Slack user id is: names learnt from payloads, else one users.info call.

    Bounded (least recently used names are dropped), one call per id however many
    messages wait for it, and failures answered with None at once: a timed-out, refused
    or rate-limited lookup pauses further lookups instead of slowing every message.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        timeout: float,
        monotonic: Callable[[], float],
        size: int = KNOWN_USERS,
    ) -> None:
        self._client = client
        self._timeout = timeout
        self._monotonic = monotonic
        self._size = size
        self._known: OrderedDict[str, fmt.SlackUser] = OrderedDict()
        self._unknown: OrderedDict[str, float] = OrderedDict()  # id -> ask again after
        self._paused_until = float("-inf")
        self._pending: dict[str, asyncio.Task[fmt.SlackUser | None]] = {}

    @property
    def names(self) -> fmt.Names:
        """What is known, for the payload readers in slack_format."""
        return self._known

    def learn(self, user_id: object, username: object) -> None:
        """Remember the username a payload carried (keeping a looked-up profile name)."""
        if isinstance(user_id, str) and user_id and isinstance(username, str) and username:
            user = fmt.known_user(user_id, username, self._known)
            if user is not None:
                self._remember(user_id, user)

    def get(self, user_id: str) -> fmt.SlackUser | None:
        user = self._known.get(user_id)
        if user is not None:
            self._known.move_to_end(user_id)
        return user

    async def resolve(self, user_id: str) -> fmt.SlackUser | None:
        """The cached user, else users.info's answer; None when Slack will not say."""
        user = self.get(user_id)
        if user is not None:
            return user
        now = self._monotonic()
        if now < self._paused_until or now < self._unknown.get(user_id, float("-inf")):
            return None
        task = self._pending.get(user_id)
        if task is None:
            task = asyncio.create_task(self._lookup(user_id))
            self._pending[user_id] = task
            task.add_done_callback(lambda _: self._pending.pop(user_id, None))
        # Shielded: a waiter cancelled at shutdown does not fail the others' lookup.
        return await asyncio.shield(task)

    def _remember(self, user_id: str, user: fmt.SlackUser) -> None:
        self._known[user_id] = user
        self._known.move_to_end(user_id)
        self._unknown.pop(user_id, None)
        while len(self._known) > self._size:
            self._known.popitem(last=False)

    def _not_named(self, user_id: str) -> None:
        self._unknown[user_id] = self._monotonic() + UNKNOWN_RETRY
        self._unknown.move_to_end(user_id)
        while len(self._unknown) > self._size:
            self._unknown.popitem(last=False)

    async def _lookup(self, user_id: str) -> fmt.SlackUser | None:
        fields = log_fields("slack")
        try:
            async with asyncio.timeout(self._timeout):
                answer = await self._client.users_info(user=user_id)
        except SlackApiError as exc:
            error = _delivery_error(exc)
            if error.retry_after is not None:
                self._paused_until = self._monotonic() + error.retry_after
                _LOGGER.info("users.info rate limited; crediting ids", extra=fields)
            elif error.permanent:
                self._paused_until = self._monotonic() + REFUSED_PAUSE
                _LOGGER.warning(
                    "users.info refused (%s): hashtag authors are credited by user id "
                    "(the app needs the users:read scope)",
                    error,
                    extra=fields,
                )
            elif int(getattr(exc.response, "status_code", 0) or 0) != 200:
                self._paused_until = self._monotonic() + LOOKUP_PAUSE
                _LOGGER.warning(
                    "users.info failed (%s); crediting ids for now", error, extra=fields
                )
            else:  # user_not_found and the like: this id only
                self._not_named(user_id)
                _LOGGER.info("users.info could not name %s: %s", user_id, error, extra=fields)
            return None
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            self._paused_until = self._monotonic() + LOOKUP_PAUSE
            _LOGGER.warning(
                "users.info failed (%s); crediting ids for now",
                type(exc).__name__,
                extra=fields,
            )
            return None
        user = fmt.user_from_info(answer.get("user"))
        if user is None:
            self._not_named(user_id)
            return None
        self._remember(user_id, user)
        return user


class SlackAdapter:
    """The Slack side of the bot: receive over HTTP or Socket Mode, send for the outbox."""

    platform = "slack"

    def __init__(
        self,
        bot_token: str,
        signing_secret: str | None,
        dispatch: Dispatch,
        *,
        app_token: str | None = None,
        api_base_url: str = "https://slack.com/api/",
        host: str = "127.0.0.1",
        port: int = 3000,
        path: str = "/slack/events",
        seen: SeenLog,
        specs: Sequence[CommandSpec] = (),
        clock: Clock = _utc_now,
        policy: DeliveryPolicy = SLACK,
        channel_interval: float = 1.0,
        drain_timeout: float = 10.0,
        name_lookup_timeout: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        http_routes: Callable[[web.Application], None] | None = None,
        prepare: Prepare | None = None,
        later: SendLater | None = None,
    ) -> None:
        if not app_token and not signing_secret:
            raise ValueError("Slack HTTP mode needs the signing secret (or an app token)")
        self._dispatch = dispatch
        self._app_token = app_token or None
        self._host = host
        self._port = port
        self._path = path
        self._seen = seen
        self._specs = tuple(specs)
        self._clock = clock
        self._drain_timeout = drain_timeout
        self._signing_secret = (signing_secret or "").encode()
        self._policy = policy
        self._sleep = sleep
        self._monotonic = monotonic
        self._http_routes = http_routes  # more routes on our HTTP server (the ingest API)
        self._prepare = prepare
        self._later = later
        self._pacer = Pacer(channel_interval, monotonic, sleep)
        self._tasks: set[asyncio.Task[None]] = set()
        self.bot_user_id: str | None = None  # from auth.test; a leading mention of it is dropped
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        # No slack_sdk retry handlers: its connection-error handler resends after a dropped
        # connection (a possible double post); every retry follows `policy` instead.
        self.client = AsyncWebClient(
            token=bot_token,
            base_url=api_base_url,
            timeout=max(1, round(policy.read_timeout)),
            retry_handlers=[],
        )
        # Name lookups never wait out a Retry-After or retry: the id is credited instead.
        lookups = AsyncWebClient(
            token=bot_token,
            base_url=api_base_url,
            timeout=max(1, int(name_lookup_timeout + 0.999)),
            retry_handlers=[],
        )
        self._users = _UserDirectory(lookups, timeout=name_lookup_timeout, monotonic=monotonic)
        self.app = AsyncApp(
            client=self.client,
            signing_secret=signing_secret or None,
            name="scorecard-bot",
            request_verification_enabled=True,
        )
        self.app.middleware(self._skip_redelivered)
        # One generic matcher instead of one listener per name: a slash command the
        # manifest has and the router lacks still gets the router's "unknown command".
        self.app.command(re.compile(r"^/\S+$"))(self._on_command)
        self.app.event("message")(self._on_message)
        self.app.action(re.compile(rf"^{re.escape(fmt.ACTION_PREFIX)}"))(self._on_button)
        # Anything else (app_mention, reaction_added, another app's buttons) is answered
        # 200 and ignored; without these Bolt answers 404 and logs a multi-line warning.
        anything = re.compile(".*")
        self.app.event(anything)(self._ignore_event)
        self.app.action(anything)(self._ignore_interaction)
        self.app.shortcut(anything)(self._ignore_interaction)
        self.app.view(anything)(self._ignore_interaction)

    # --- lifecycle -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The HTTP port (the bound one after `start()`, useful with port 0)."""
        return self._port

    @property
    def socket_mode(self) -> bool:
        """True when connected by WebSocket (app token) instead of serving HTTP."""
        return self._app_token is not None

    async def start(self) -> None:
        """Check the tokens, then serve the HTTP endpoint or connect the WebSocket."""
        await self._verify_bot_token()
        if self._app_token is not None:
            await self._connect_socket_mode()
        else:
            await self._serve_http()
        commands = " ".join(c.command for c in fmt.slash_commands(self._specs))
        if commands:
            _LOGGER.info("the Slack app must define %s", commands, extra=log_fields("slack"))

    async def _verify_bot_token(self) -> None:
        """Fail at start, not at the first command, when Slack rejects the bot token."""
        try:
            auth = await self.client.auth_test()
        except SlackApiError as exc:
            error = _delivery_error(exc)
            if error.permanent:
                raise StartupError(f"Slack rejected [slack] bot_token: {error}") from None
            # One rule for every platform: an API that cannot be used at start stops the
            # bot (exit 2) and the supervisor starts it again; outages later are retried.
            raise StartupError(
                f"the Slack Web API did not answer properly ({error}); "
                "check the network and [slack] api_base_url"
            ) from None
        except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise StartupError(
                f"could not reach the Slack Web API ({type(exc).__name__}); "
                "check the network and [slack] api_base_url"
            ) from None
        else:
            user_id = auth.get("user_id")
            self.bot_user_id = user_id if isinstance(user_id, str) else None
            _LOGGER.info(
                "bot user %s in team %s",
                auth.get("user_id"),
                auth.get("team_id"),
                extra=log_fields("slack"),
            )

    async def _connect_socket_mode(self) -> None:
        handler = self.socket_mode_handler()
        try:
            # slack_sdk's connect() retries any failure forever (every 10 s), so a wrong
            # app token would hang start(); ask for the WebSocket URL once, here, instead.
            try:
                opened = await self.client.apps_connections_open(app_token=self._app_token or "")
            except SlackApiError as exc:
                raise StartupError(
                    f"Slack refused [slack] app_token: {_delivery_error(exc)}"
                ) from None
            except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise StartupError(
                    f"could not open a Socket Mode connection ({type(exc).__name__}); "
                    "check the network and [slack] api_base_url"
                ) from None
            handler.client.wss_uri = str(opened["url"])
            await handler.connect_async()  # type: ignore[no-untyped-call]  # Bolt: untyped
        except BaseException:
            await handler.close_async()  # type: ignore[no-untyped-call]
            raise
        self._socket = handler
        _LOGGER.info("connected in Socket Mode", extra=log_fields("slack"))

    async def _serve_http(self) -> None:
        web_app = web.Application()
        web_app.router.add_post(self._path, self._on_http)
        if self._http_routes is not None:
            self._http_routes(web_app)
        runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except OSError as exc:
            await runner.cleanup()
            raise StartupError(_listen_problem(exc, self._host, self._port)) from None
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        _LOGGER.info(
            "listening on http://%s:%d%s",
            self._host,
            self._port,
            self._path,
            extra=log_fields("slack"),
        )

    def socket_mode_handler(self) -> AsyncSocketModeHandler:
        """Bolt's Socket Mode handler for this app; needs a running loop and an app token."""
        if self._app_token is None:
            raise StartupError("Socket Mode needs an app-level token (xapp-…)")
        return AsyncSocketModeHandler(self.app, self._app_token)

    async def stop(self) -> None:
        """Stop receiving, then let acknowledged work finish (bounded) and deliver."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=self._drain_timeout)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
                _LOGGER.warning(
                    "stopped with %d command(s) unfinished",
                    len(pending),
                    extra=log_fields("slack"),
                )
        _LOGGER.info("stopped", extra=log_fields("slack"))

    async def idle(self) -> None:
        """Wait until every acknowledged command has been answered (tests, shutdown)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error(
                "answering a command failed", exc_info=task.exception(), extra=log_fields("slack")
            )

    # --- inbound -------------------------------------------------------------------------

    async def _on_http(self, request: web.Request) -> web.Response:
        """Slack's POSTs: the signature is checked on the raw bytes, then the body is read;
        only a signed, readable request reaches Bolt. A refusal is one short log line."""
        raw = await request.read()
        refusal = self._signature_problem(raw, request.headers)
        if refusal is not None:
            _LOGGER.warning("refused a request: %s", refusal, extra=log_fields("slack"))
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            text = raw.decode("utf-8")
            _check_body(text, request.content_type)
        except (ValueError, RecursionError) as exc:
            _LOGGER.warning(
                "refused a signed request with an unreadable body (%s)",
                type(exc).__name__,
                extra=log_fields("slack"),
            )
            return web.json_response({"error": "bad request"}, status=400)
        headers: dict[str, str | Sequence[str]] = {
            key.lower(): request.headers.getall(key) for key in request.headers
        }
        answer = await self.app.async_dispatch(
            AsyncBoltRequest(body=text, query=request.query_string, headers=headers)
        )
        content_type = answer.headers.pop(
            "content-type", ["application/json" if answer.body.startswith("{") else "text/plain"]
        )[0]
        return web.Response(
            status=answer.status,
            body=answer.body,
            headers=answer.first_headers_without_set_cookie(),
            content_type=re.sub(r";\s*charset=utf-8", "", content_type),
        )

    def _signature_problem(self, raw: bytes, headers: Mapping[str, str]) -> str | None:
        """Why this request is not Slack's (v0 HMAC-SHA256 over the raw body), or None."""
        stamp = headers.get("X-Slack-Request-Timestamp", "")
        signature = headers.get("X-Slack-Signature", "")
        if not stamp.isdigit() or not signature:
            return "missing or malformed signature headers"
        if abs(time.time() - int(stamp)) > SIGNATURE_MAX_AGE:
            return "stale timestamp"
        expected = hmac.new(self._signing_secret, f"v0:{stamp}:".encode() + raw, hashlib.sha256)
        if not hmac.compare_digest(f"v0={expected.hexdigest()}", signature):
            return "bad signature"
        return None

    async def _ignore_event(self) -> None:
        """An event this app does not act on: answered 200 (Bolt acks events itself)."""

    async def _ignore_interaction(self, ack: AsyncAck) -> None:
        """A button, shortcut or view that is not ours: acknowledged, nothing runs."""
        await ack()

    async def _skip_redelivered(
        self,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next_: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse:
        """Runs after Bolt's signature check: a delivery seen before is acked, not rerun.

        Slack resends an event when the first answer took over 3 s, even while the first
        is still running, and Bolt would run the listener again.
        """
        key = fmt.delivery_key(req.body)
        if key is not None and not await self._seen.first_time(key):
            retry = req.headers.get("x-slack-retry-num", ["-"])[0]
            _LOGGER.info(
                "skipping redelivered %s (retry %s)", key, retry, extra=log_fields("slack")
            )
            return BoltResponse(status=200, body="")
        return await next_()

    async def _on_command(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """A slash command: ack within Slack's 3 s, answer through its response_url."""
        await ack()
        self._users.learn(body.get("user_id"), body.get("user_name"))
        cmd = fmt.command_from_slash(body, self._clock(), self._users.names)
        if cmd is None:
            _LOGGER.warning("unreadable slash command payload", extra=log_fields("slack"))
            return
        # Without a response_url the answer goes to the channel.
        self._spawn(self._run(cmd, _Responder(respond) if body.get("response_url") else None))

    async def _on_message(self, event: dict[str, Any]) -> None:
        """A channel message: only a person's hashtag line becomes a command.

        Its author is named from the cache, else by users.info inside the command's task
        (Bolt answers the event only after this returns).
        """
        edited = fmt.edited_command(event, self._clock(), bot_user_id=self.bot_user_id)
        if edited is not None:  # not run, but said: silence reads as the edit having worked
            where = edited[0].chat
            said = EDITED_COMMAND if edited[1] else EDITED_INTO_COMMAND
            self._spawn(self._answer(Reply(text=said, kind="notice", to=where), where, None))
            return
        shared = fmt.file_command(event, self._clock(), self._users.names)
        if shared is not None:
            self._spawn(self._run_with_file(*shared))
            return
        cmd = fmt.command_from_message(
            event, self._clock(), self._users.names, bot_user_id=self.bot_user_id
        )
        if cmd is None:
            return
        if self._users.get(cmd.actor.user_id) is not None:
            self._spawn(self._run(cmd, None))
        else:
            self._spawn(self._run_named(cmd))

    async def _run_named(self, cmd: Command) -> None:
        """Look the author up (the id stays when that fails), then run the command."""
        try:
            user = await self._users.resolve(cmd.actor.user_id)
        except Exception:  # a lookup must never cost the command
            _LOGGER.exception("users.info lookup failed", extra=log_fields("slack"))
            user = None
        await self._run(fmt.with_actor(cmd, user), None)

    async def _run_with_file(self, cmd: Command, shared: fmt.SharedFile) -> None:
        """Download the shared file with the bot token, then run its command."""
        if shared.size <= MAX_DOWNLOAD:
            data = await self._download(shared.url)
            if data is not None:
                attachment = Attachment(filename=shared.name, data=data)
                cmd = cmd.model_copy(update={"attachment": attachment})
        await self._run_named(cmd)

    async def _download(self, url: str) -> bytes | None:
        """A file's bytes (Slack wants the bot token); None, logged, when that fails."""
        headers = {"Authorization": f"Bearer {self.client.token}"}
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session,
                session.get(url, headers=headers) as response,
            ):
                if response.status != 200:
                    raise aiohttp.ClientResponseError(
                        response.request_info, (), status=response.status
                    )
                return await response.content.read(MAX_DOWNLOAD + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            _LOGGER.warning(
                "could not download a shared file: %s",
                type(exc).__name__,
                extra=log_fields("slack"),
            )
            return None

    async def _on_button(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        """A press on one of our buttons runs the command in its value."""
        await ack()
        user = body.get("user") or {}
        self._users.learn(user.get("id"), user.get("username") or user.get("name"))
        cmd = fmt.command_from_block_action(body, self._clock(), self._users.names)
        if cmd is None:
            _LOGGER.info("button without a command pressed", extra=log_fields("slack"))
            return
        self._spawn(self._run(cmd, _Responder(respond) if body.get("response_url") else None))

    async def _run(self, cmd: Command, responder: _Responder | None) -> None:
        """Dispatch one command and deliver its replies; failures are logged, not raised."""
        log_command(_LOGGER, cmd)
        cmd = cmd.model_copy(update={"help_command": fmt.HELP_COMMAND})
        for reply, target in await dispatch_for(self._dispatch, cmd, self.platform, _LOGGER):
            if target == cmd.chat:
                await self._answer(reply, target, responder, cmd.actor.user_id)
            else:
                await self._answer(reply, target, None)

    async def _answer(
        self,
        reply: Reply,
        target: ChatRef,
        responder: _Responder | None,
        author: str | None = None,
    ) -> None:
        """`reply` in `target`: through the command's response_url when it has one; an
        error or a private reply (a new API token) to `author` alone otherwise, as
        chat.postEphemeral: a command typed after a mention, or one whose response_url was
        used up, posted them to the channel, the token for everyone to read."""
        ready = await drawn(self._prepare, reply, _LOGGER, self.platform, target.chat_id)
        kind = fmt.response_type(reply)
        alone = author if kind == "ephemeral" else None
        for sent, part in enumerate(fmt.render_reply(ready) if ready is not None else ()):
            try:
                if isinstance(part, fmt.SlackUpload):
                    await self._retrying(self._upload, part, target)
                elif responder is not None and await responder.send(part, kind):
                    continue
                elif alone is not None:
                    await self._retrying(functools.partial(self._post, to=alone), part, target)
                else:
                    await self._retrying(self._post, part, target)
            except DeliveryError as exc:
                exc.sent_parts = sent
                if alone is None and await kept_for_later(
                    self._later, exc, reply, target, _LOGGER, ready
                ):
                    return  # the outbox sends the parts that had not arrived
                _LOGGER.warning(
                    "reply not delivered: %s", exc, extra=log_fields("slack", target.chat_id)
                )
                if isinstance(part, fmt.SlackUpload) and exc.permanent and responder is not None:
                    await responder.send(fmt.SlackMessage(text=INVITE_ME), "ephemeral")

    # --- outbound ------------------------------------------------------------------------

    async def send(self, reply: Reply, skip: int = 0) -> None:
        """Deliver `reply` to `reply.to` (for the outbox), but its first `skip` parts;
        raises DeliveryError."""
        target = reply.to
        if target is None or target.platform != self.platform:
            raise DeliveryError("reply has no Slack destination", permanent=True)
        parts = fmt.render_reply(reply)
        for sent in range(skip, len(parts)):
            part = parts[sent]
            try:  # one try on a 5xx or connection error: the outbox retries durably itself
                if isinstance(part, fmt.SlackUpload):
                    await self._retrying(self._upload, part, target, attempts=1)
                else:
                    await self._retrying(self._post, part, target, attempts=1)
            except DeliveryError as exc:
                exc.sent_parts = sent
                raise

    async def _retrying(
        self,
        send: Callable[[Any, ChatRef], Awaitable[None]],
        part: fmt.SlackMessage | fmt.SlackUpload,
        target: ChatRef,
        attempts: int | None = None,
    ) -> None:
        await send_retrying(
            functools.partial(send, part, target),
            self._policy,
            self._sleep,
            chat=target.chat_id,
            attempts=attempts,
        )

    async def _call(self, target: ChatRef, request: Awaitable[Any]) -> None:
        """One Web API call; a rate limit holds the channel in the pacer for its wait."""
        try:
            await _classified(request)
        except DeliveryError as exc:
            if exc.retry_after is not None:
                self._pacer.flood(target.chat_id, exc.retry_after)
            raise

    async def _post(
        self, message: fmt.SlackMessage, target: ChatRef, to: str | None = None
    ) -> None:
        """chat.postMessage to `target`; with `to` (a user id), chat.postEphemeral: only
        that person sees it."""
        await self._pacer.wait(target.chat_id)
        if to is not None:
            request = self.client.chat_postEphemeral(
                channel=target.chat_id,
                user=to,
                text=message.text,
                blocks=message.blocks or None,
                thread_ts=target.thread_id,
            )
        else:
            request = self.client.chat_postMessage(
                channel=target.chat_id,
                text=message.text,
                blocks=message.blocks or None,
                thread_ts=target.thread_id,
                unfurl_links=False,
                unfurl_media=False,
            )
        await self._call(target, request)

    async def _upload(self, upload: fmt.SlackUpload, target: ChatRef) -> None:
        await self._pacer.wait(target.chat_id)
        await self._call(
            target,
            self.client.files_upload_v2(
                channel=target.chat_id,
                file=upload.data,
                filename=upload.filename,
                title=upload.title,
                alt_txt=upload.alt_txt,
                initial_comment=upload.initial_comment,
                thread_ts=target.thread_id,
            ),
        )


def _listen_problem(exc: OSError, host: str, port: int) -> str:
    """One line for a failed bind, naming the config keys to change."""
    if isinstance(exc, socket.gaierror):
        return f"cannot listen on [slack] host {host!r}: the name does not resolve"
    if exc.errno == errno.EADDRINUSE:
        return f"cannot listen on {host}:{port}: the port is in use ([slack] port)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {host}:{port}: no such address here ([slack] host)"
    if exc.errno == errno.EACCES:
        return f"cannot listen on {host}:{port}: permission denied (ports below 1024 need root)"
    return f"cannot listen on {host}:{port}: {exc.strerror or type(exc).__name__}"


async def _classified(request: Awaitable[Any]) -> None:
    """Await one Web API call, turning failures into a classified DeliveryError."""
    try:
        await request
    except SlackApiError as exc:
        raise _delivery_error(exc) from None
    except aiohttp.ClientConnectorError as exc:  # no connection: nothing was sent
        raise DeliveryError(f"network: {type(exc).__name__}", permanent=False) from None
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, TimeoutError) as exc:
        # Sent, and the answer never came (slack_sdk has one total timeout, so a timeout
        # may be after the request was written): Slack may have posted it.
        raise DeliveryError(
            f"maybe delivered: no answer after sending ({type(exc).__name__})",
            permanent=False,
            maybe_delivered=True,
        ) from None
    except (SlackClientError, aiohttp.ClientError) as exc:
        # A failed upload step, a refused connection: nothing was posted, worth retrying.
        raise DeliveryError(f"network: {type(exc).__name__}", permanent=False) from None


def _check_body(text: str, content_type: str) -> None:
    """Raise ValueError unless `text` is a body Bolt can read without failing."""
    if content_type == "application/json":
        if not isinstance(json.loads(text), dict):
            raise ValueError("not a JSON object")
        return
    form = parse_qs(text, keep_blank_values=True)
    payload = form.get("payload")
    if payload and not isinstance(json.loads(payload[0]), dict):
        raise ValueError("payload is not a JSON object")


#: What a person can do about a refusal, said with Slack's code where `/alerts` shows an
#: alert that was not delivered ("not_in_channel" alone left them guessing).
_WHAT_TO_DO = {
    "not_in_channel": " (the bot is not in the channel: /invite it there)",
    "channel_not_found": " (the bot cannot see the channel: /invite it there, if it still exists)",
    "is_archived": " (the channel is archived: /alerts here in another channel)",
}


def _delivery_error(exc: SlackApiError) -> DeliveryError:
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    data = getattr(response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    if status == 429 or code == "ratelimited":
        headers = getattr(response, "headers", None) or {}
        retry_after = next(
            (v for k, v in dict(headers).items() if str(k).lower() == "retry-after"), "1"
        )
        try:
            wait = float(retry_after)
        except ValueError:
            wait = 1.0
        return DeliveryError("Slack rate limit", permanent=False, retry_after=wait)
    if code is not None and fmt.is_permanent(code):
        return DeliveryError(f"Slack refused: {code}{_WHAT_TO_DO.get(code, '')}", permanent=True)
    return DeliveryError(f"Slack error: {code or f'HTTP {status}'}", permanent=False)
