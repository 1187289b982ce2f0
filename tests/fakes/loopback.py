"""The lifecycle every fake platform server shares: an aiohttp app on 127.0.0.1, port 0."""

from __future__ import annotations

from typing import Self

from aiohttp import web


class LoopbackServer:
    """Start/stop an aiohttp app on an ephemeral loopback port; subclasses add routes."""

    shutdown_timeout = 1.0

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self.port = 0

    def routes(self, app: web.Application) -> None:
        """Register the fake's endpoints."""
        raise NotImplementedError

    async def start(self) -> None:
        """Listen on an ephemeral loopback port."""
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=self.shutdown_timeout)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Shut the server down."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
