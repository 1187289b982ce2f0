"""openapi.json describes the real ingest API: schemathesis sends what the schema allows.

The server runs in a thread with its own loop (schemathesis calls it synchronously);
every generated request must get a documented status with a body matching its schema,
and never a server error.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from bot.api import IngestApi
from bot.app import build_core
from tests.support import FakeChat, FixedClock

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = schemathesis.openapi.from_path(ROOT / "openapi.json")
OPERATION = SCHEMA["/api/v1/scorecards/{scorecard}/measurements"]["POST"]
T = TypeVar("T")


class LiveApi:
    """The ingest API on a loopback port, served by a loop in its own thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.core = build_core(None, clock=FixedClock())
        self.server = IngestApi(self.core.ctx, max_body=64 * 1024)
        self.run(self.server.serve("127.0.0.1", 0))
        chat = FakeChat(self.core)
        self.run(chat.ok('/kpi add leads "Leads" target=200 perspective=customers'))
        reply = self.run(chat.ok("/scorecard token"))
        fields = dict(line.split(": ", 1) for line in reply.splitlines()[1:3])
        self.scorecard, self.token = fields["Scorecard id"], fields["Token"]
        self.base_url = f"http://127.0.0.1:{self.server.port}"

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def close(self) -> None:
        self.run(self.server.stop())
        self.core.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module")
def live() -> Iterator[LiveApi]:
    api = LiveApi()
    yield api
    api.close()


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
@given(case=OPERATION.as_strategy(), authorized=st.booleans())
def test_every_answer_matches_the_openapi_description(
    live: LiveApi, case: schemathesis.Case[Any], authorized: bool
) -> None:
    if authorized:
        case.path_parameters = {"scorecard": live.scorecard}
        headers = {"Authorization": f"Bearer {live.token}"}
    else:
        headers = {"Authorization": "Bearer wrong"}
    case.call_and_validate(base_url=live.base_url, headers=headers, checks=CHECKS)
