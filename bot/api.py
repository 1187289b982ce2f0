"""The ingest API over HTTP (aiohttp): on Slack's HTTP-mode server, or on its own port.

`POST /api/v1/scorecards/{id}/measurements`. What a request means is decided in
`handlers.ingest`; here the body size is limited before it is read, the batch runs in one
atomic step, is made durable with one commit (one fsync for the whole batch), and then
delivery is woken for any alert it queued. Tokens never reach a log line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web

from bot.logging import log_fields
from handlers.contract import Context
from handlers.ingest import Answer, ingest

_LOGGER = logging.getLogger(__name__)

ROUTE = "/api/v1/scorecards/{scorecard}/measurements"
DEFAULT_MAX_BODY = 1024 * 1024


class IngestApi:
    """The API's routes, added to an aiohttp application (Slack's or `serve`'s own)."""

    def __init__(
        self,
        ctx: Context,
        *,
        after_commit: Callable[[str], None] = lambda chat: None,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        self._ctx = ctx
        self._after_commit = after_commit
        self._max_body = max_body
        self._runner: web.AppRunner | None = None
        self.port = 0

    def add_routes(self, app: web.Application) -> None:
        """Mount the API on `app` (Slack's Bolt app in HTTP mode, or our own)."""
        app.router.add_post(ROUTE, self._measurements)

    async def serve(self, host: str, port: int) -> None:
        """Listen on our own port (when Slack's HTTP server is not running)."""
        app = web.Application(client_max_size=self._max_body + 1)
        self.add_routes(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        _LOGGER.info("ingest API on http://%s:%d%s", host, self.port, ROUTE.split("{")[0])

    async def stop(self) -> None:
        """Stop our own server, if `serve` started one."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _measurements(self, request: web.Request) -> web.Response:
        length = request.content_length
        if length is not None and length > self._max_body:
            return _json(Answer(413, {"error": f"body larger than {self._max_body} bytes"}))
        body = await request.content.read(self._max_body + 1)
        if len(body) > self._max_body:
            return _json(Answer(413, {"error": f"body larger than {self._max_body} bytes"}))
        auth = request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        bearer = token.strip() if scheme.casefold() == "bearer" else None
        key = request.headers.get("Idempotency-Key") or None
        store = self._ctx.store
        with store.atomic():
            answer = ingest(self._ctx, request.match_info["scorecard"], bearer, body, key)
        if answer.chat is not None:
            await store.commit()
            self._after_commit(answer.chat)
        body_out = answer.body
        _LOGGER.info(
            "ingest %s: HTTP %d, %s stored, %d rejected%s",
            request.match_info["scorecard"][:16],
            answer.status,
            body_out.get("stored", 0),
            len(body_out.get("rejected", ())),
            " (replayed)" if answer.replayed else "",
            extra=log_fields("api"),
        )
        return _json(answer)


def _json(answer: Answer) -> web.Response:
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    if answer.status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="scorecard"'}
    return web.json_response(answer.body, status=answer.status, headers=headers)
