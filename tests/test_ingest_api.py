"""The ingest API: bearer token per scorecard, every item checked, one durable write, replays."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from bot.adapters import slack_format
from bot.adapters.base import MemorySeenLog
from bot.adapters.slack import SlackAdapter
from bot.api import IngestApi
from bot.app import Core, build_core
from handlers import exchange
from storage import open_store
from storage.engine import Seen
from tests.fakes import slack_api
from tests.fakes.slack_api import FakeSlackAPI
from tests.handlers.test_files import send_file
from tests.support import FakeChat, FixedClock


class Api:
    """A running IngestApi and a client for it."""

    def __init__(self, core: Core, server: IngestApi, session: aiohttp.ClientSession) -> None:
        self.core = core
        self.server = server
        self.session = session
        self.commits = 0

    async def post(
        self,
        scorecard: str,
        body: Any,
        *,
        token: str | None,
        key: str | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if key:
            headers["Idempotency-Key"] = key
        url = f"http://127.0.0.1:{self.server.port}/api/v1/scorecards/{scorecard}/measurements"
        kwargs: dict[str, Any] = {"data": raw} if raw is not None else {"json": body}
        async with self.session.post(url, headers=headers, **kwargs) as response:
            return response.status, await response.json()


@pytest.fixture
async def api(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Api]:
    core = build_core(tmp_path / "store", clock=clock)
    server = IngestApi(core.ctx, max_body=64 * 1024)
    await server.serve("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as session:
            client = Api(core, server, session)
            commit = core.store.commit

            async def counting_commit(seen: Seen | None = None) -> None:
                client.commits += 1
                await commit(seen)

            core.store.commit = counting_commit  # type: ignore[method-assign]
            yield client
    finally:
        await server.stop()
        core.close()


async def _token(chat: FakeChat) -> tuple[str, str]:
    reply = await chat.ok("/scorecard token")
    lines = dict(line.split(": ", 1) for line in reply.splitlines()[1:3])
    return lines["Scorecard id"], lines["Token"]


async def _setup(api: Api) -> tuple[FakeChat, str, str]:
    chat = FakeChat(api.core)
    await chat.ok('/kpi add leads "Leads" target=200 perspective=customers')
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    scorecard, token = await _token(chat)
    return chat, scorecard, token


async def test_a_batch_is_checked_item_by_item_and_the_good_ones_stored(api: Api) -> None:
    chat, scorecard, token = await _setup(api)
    status, body = await api.post(
        scorecard,
        [
            {"kpi": "leads", "value": 120, "date": "2026-11-20", "note": "crm"},
            {"kpi": "Leads", "value": "1 234"},
            {"kpi": "lead", "value": 5},
            {"kpi": "cac", "value": "lots"},
            {"kpi": "cac", "value": 90, "date": "2026-12-01"},
            {"kpi": "cac", "value": 90, "colour": "red"},
            {"kpi": "cac", "value": 1e300},
        ],
        token=token,
    )
    assert status == 200
    assert body == {
        "stored": 2,
        "accepted": [
            {"index": 0, "kpi": "leads", "date": "2026-11-20", "value": 120.0},
            {"index": 1, "kpi": "leads", "date": "2026-11-21", "value": 1234.0},
        ],
        "rejected": [
            {"index": 2, "kpi": "lead", "reason": "no KPI 'lead'"},
            {
                "index": 3,
                "kpi": "cac",
                "reason": "'lots' is not a number for value: try 12.5, 12,5, 10 000, 10k or 35%",
            },
            {
                "index": 4,
                "kpi": "cac",
                "reason": "2026-12-01 is in the future (today is 2026-11-21 in this chat's "
                "timezone); only today or earlier can be recorded",
            },
            {
                "index": 5,
                "kpi": "cac",
                "reason": "unknown field 'colour' (use kpi, value, date, note)",
            },
            {
                "index": 6,
                "kpi": "cac",
                "reason": "value is out of range: numbers go from −1e15 to 1e15",
            },
        ],
    }
    history = api.core.store.kpis.history(chat.chat.key, "leads")
    assert [(m.day, m.value, m.by, m.note) for m in history] == [
        (date(2026, 11, 20), 120.0, "api", "crm"),
        (date(2026, 11, 21), 1234.0, "api", ""),
    ]


async def test_wrong_token_is_401_and_nothing_is_stored(api: Api) -> None:
    chat, scorecard, token = await _setup(api)
    for sent_id, sent_token in ((scorecard, "nope"), ("unknown", token), (scorecard, None)):
        status, body = await api.post(sent_id, [{"kpi": "leads", "value": 1}], token=sent_token)
        assert (status, body) == (401, {"error": "unknown scorecard or wrong token"})
    _, new_token = await _token(chat)  # rotating: the old token stops working
    assert (await api.post(scorecard, [{"kpi": "leads", "value": 1}], token=token))[0] == 401
    assert (await api.post(scorecard, [{"kpi": "leads", "value": 1}], token=new_token))[0] == 200
    await chat.ok("/scorecard token revoke")
    assert (await api.post(scorecard, [{"kpi": "leads", "value": 2}], token=new_token))[0] == 401
    assert [m.value for m in api.core.store.kpis.history(chat.chat.key, "leads")] == [1.0]


async def test_oversized_body_is_413_and_malformed_json_is_400_with_a_reason(api: Api) -> None:
    _chat, scorecard, token = await _setup(api)
    big = b"[" + b",".join([b'{"kpi":"leads","value":1}'] * 3000) + b"]"
    assert (await api.post(scorecard, None, token=token, raw=big)) == (
        413,
        {"error": "body larger than 65536 bytes"},
    )
    status, body = await api.post(scorecard, None, token=token, raw=b'[{"kpi": "leads",]')
    assert status == 400
    assert body == {
        "error": "malformed JSON: Expecting property name enclosed in double "
        "quotes: line 1 column 18 (char 17)"
    }
    status, body = await api.post(
        scorecard,
        None,
        token=token,
        raw=b'[{"kpi":"leads","value":1},{"kpi":"leads","value":1e400}]',
    )
    assert (status, body["stored"], body["rejected"]) == (
        200,
        1,
        [
            {
                "index": 1,
                "kpi": "leads",
                "reason": "value 1e400 is out of range: numbers go from −1e15 to 1e15",
            }
        ],
    )
    assert await api.post(scorecard, None, token=token, raw=b'["\\ud800"]') == (
        400,
        {"error": "malformed JSON: no low surrogate in string: line 1 column 3 (char 2)"},
    )
    assert await api.post(scorecard, {"rows": []}, token=token) == (
        400,
        {"error": 'expected a JSON list of measurements or {"measurements": [...]}'},
    )


async def test_a_thousand_items_are_one_durable_write(api: Api, tmp_path: Path) -> None:
    chat, scorecard, token = await _setup(api)
    items = [
        {
            "kpi": "leads",
            "value": n,
            "date": date.fromordinal(date(2026, 11, 21).toordinal() - n).isoformat(),
        }
        for n in range(1000)
    ]
    before = api.commits
    status, body = await api.post(scorecard, {"measurements": items}, token=token)
    assert status == 200 and body["stored"] == 1000
    assert api.commits == before + 1
    api.core.close()
    reopened = open_store(tmp_path / "store")
    try:
        assert reopened.kpis.count(chat.chat.key, "leads") == 1000
    finally:
        reopened.close()


async def test_a_retried_batch_with_the_same_key_applies_once(api: Api) -> None:
    chat, scorecard, token = await _setup(api)
    batch = [{"kpi": "cac", "value": 130, "date": "2026-11-19"}]
    first = await api.post(scorecard, batch, token=token, key="crm-4711")
    await chat.ok("/kpi set cac 100 2026-11-19")  # a person corrects the value meanwhile
    again = await api.post(scorecard, batch, token=token, key="crm-4711")
    assert again == first
    assert [m.value for m in api.core.store.kpis.history(chat.chat.key, "cac")] == [100.0]
    changed = [{"kpi": "cac", "value": 131, "date": "2026-11-19"}]
    assert await api.post(scorecard, changed, token=token, key="crm-4711") == (
        409,
        {"error": "this Idempotency-Key was used for a different batch"},
    )
    other = await api.post(scorecard, batch, token=token, key="crm-4712")
    assert other[0] == 200
    assert [m.value for m in api.core.store.kpis.history(chat.chat.key, "cac")] == [130.0]


async def test_ingested_values_fire_the_same_alert_as_chat_values(api: Api) -> None:
    typed, _scorecard, _token_unused = await _setup(api)
    via_api = FakeChat(api.core, "other")
    await via_api.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    await typed.ok("/alerts set group=0")
    await via_api.ok("/alerts set group=0")
    await typed.ok("/kpi import\ncac 119")
    imported = typed.transcript[-1][1][0].buttons[0].command
    await typed.ok(imported)
    other_id, other_token = await _token(via_api)
    assert (await api.post(other_id, [{"kpi": "cac", "value": 119}], token=other_token))[0] == 200
    store = api.core.store

    def alerts(chat: FakeChat) -> list[str]:
        return [e.summary for e in store.outbox.entries(chat.chat.key) if e.kind == "alert"]

    assert alerts(typed) and alerts(typed) == alerts(via_api)


async def test_the_api_rides_on_slacks_http_server(clock: FixedClock) -> None:
    core = build_core(None, clock=clock)
    chat = FakeChat(core)
    await chat.ok('/kpi add leads "Leads" target=200 perspective=customers')
    scorecard, token = await _token(chat)
    api = IngestApi(core.ctx)
    try:
        async with FakeSlackAPI() as fake:
            slack = SlackAdapter(
                slack_api.BOT_TOKEN,
                slack_api.SIGNING_SECRET,
                core.dispatch,
                api_base_url=fake.base_url,
                port=0,
                seen=MemorySeenLog(),
                http_routes=api.add_routes,
            )
            await slack.start()
            try:
                url = f"http://127.0.0.1:{slack.port}/api/v1/scorecards/{scorecard}/measurements"
                async with (
                    aiohttp.ClientSession() as session,
                    session.post(
                        url,
                        json=[{"kpi": "leads", "value": 7}],
                        headers={"Authorization": f"Bearer {token}"},
                    ) as response,
                ):
                    assert response.status == 200
            finally:
                await slack.stop()
        assert core.store.kpis.count(chat.chat.key, "leads") == 1
    finally:
        core.close()


def _readme_blocks(kind: str) -> list[str]:
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = text.split("### The ingest API", 1)[1].split("\n## ", 1)[0]
    return [block.split("\n```", 1)[0] for block in section.split(f"```{kind}\n")[1:]]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
async def test_the_readme_curl_examples_work(api: Api, tmp_path: Path) -> None:
    chat = FakeChat(api.core)
    for key, name in (("sal", "SQL to SAL"), ("traffic", "Visits"), ("leads", "Leads")):
        await chat.ok(f'/kpi add {key} "{name}" target=100 perspective=customers')
    scorecard, token = await _token(chat)
    webhook, nightly = _readme_blocks("sh")
    daily = _readme_blocks("json")[0]
    (tmp_path / "daily.json").write_text(
        '{"measurements": [{"kpi": "traffic", "value": 18250, "date": "2026-11-20"}, '
        '{"kpi": "leads", "value": 37, "date": "2026-11-20"}]}'
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SCORECARD_API": f"http://127.0.0.1:{api.server.port}",
        "SCORECARD_ID": scorecard,
        "SCORECARD_TOKEN": token,
    }
    outputs = []
    for command in (webhook, nightly, nightly):
        proc = await asyncio.create_subprocess_exec(
            "bash", "-c", command, cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await proc.communicate()
        assert proc.returncode == 0, out
        outputs.append(json.loads(out))
    assert outputs[0]["stored"] == 1 and outputs[0]["rejected"] == []
    assert outputs[1] == outputs[2] == json.loads(daily)
    store = api.core.store
    assert [m.value for m in store.kpis.history(chat.chat.key, "traffic")] == [18250.0]


async def test_tokens_never_reach_the_log(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    chat, scorecard, token = await _setup(api)
    await api.post(scorecard, [{"kpi": "leads", "value": 3}], token=token)
    await api.post(scorecard, [{"kpi": "leads", "value": 3}], token=token + "x")
    await chat.error("/scorecard token please")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "ingest " in text  # the API does log its requests…
    assert token not in text  # …but never a token
    stored = str(api.core.store.db.table("api:tokens").all())
    assert token not in stored


async def test_a_moved_chat_keeps_its_token_and_sources(api: Api) -> None:
    chat, scorecard, token = await _setup(api)
    await chat.ok("/source add s csv https://x.example/a.csv every=week")
    store = api.core.store
    with store.atomic():
        assert store.move_chat(chat.chat.key, "console:moved")
    assert store.ingest.authenticate(scorecard, token) == "console:moved"
    assert store.sources.chats() == ["console:moved"]
    assert [s["key"] for s in store.sources.all("console:moved")] == ["s"]


async def test_the_token_reply_is_for_the_asker_only_on_slack(chat: FakeChat) -> None:
    [reply] = await chat.say("/scorecard token")
    assert reply.private and slack_format.response_type(reply) == "ephemeral"


async def test_a_calculated_kpi_takes_its_inputs_not_values(api: Api) -> None:
    chat, scorecard, token = await _setup(api)
    await chat.ok('/kpi add spend "Spend" target=1000 perspective=finance')
    await chat.ok('/kpi add newc "New customers" target=10 perspective=customers')
    await chat.ok(
        '/kpi add cpa "Cost per customer" formula="spend / newc" target=50 '
        "baseline=150 perspective=finance"
    )
    status, body = await api.post(
        scorecard,
        [
            {"kpi": "cpa", "value": 10},
            {"kpi": "spend", "value": 900, "date": "2026-11-20"},
            {"kpi": "newc", "value": 9, "date": "2026-11-20"},
        ],
        token=token,
    )
    assert status == 200 and body["stored"] == 2
    assert body["rejected"] == [
        {"index": 0, "kpi": "cpa", "reason": "cpa is calculated from its formula; send its inputs"}
    ]
    assert [m.value for m in api.core.store.kpis.history(chat.chat.key, "cpa")] == [100.0]


async def test_an_export_with_a_calculated_kpi_round_trips(api: Api) -> None:
    chat, scorecard, token = await _setup(api)
    await chat.ok('/kpi add spend "Spend" target=1000 perspective=finance')
    await chat.ok('/kpi add newc "New customers" target=10 perspective=customers')
    await chat.ok(
        '/kpi add cpa "Cost per customer" formula="spend / newc" target=50 '
        "baseline=150 perspective=finance"
    )
    await api.post(
        scorecard,
        [{"kpi": "spend", "value": 900, "date": "2026-11-20"}, {"kpi": "newc", "value": 9}],
        token=token,
    )
    [export] = await chat.say("/scorecard export")
    assert export.document is not None
    empty = FakeChat(api.core, "empty")
    [preview] = await send_file(empty, export.document.data, "card.json")
    assert preview.kind == "answer", preview.plain()
    await empty.ok(preview.buttons[0].command)
    [again] = await empty.say("/scorecard export")
    assert again.document is not None
    first, second = orjson.loads(export.document.data), orjson.loads(again.document.data)
    assert exchange.sections_of(first) == exchange.sections_of(second)


async def test_a_lone_dot_value_is_answered_with_how_it_was_read(api: Api) -> None:
    """`"14.000"` sent as text was stored as 14 with no word, where `/kpi set` says how it
    read it: the accepted item carries the same line (`read_as`), from the same rule."""
    chat, scorecard, token = await _setup(api)
    status, body = await api.post(
        scorecard,
        [{"kpi": "leads", "value": "14.000"}, {"kpi": "cac", "value": "95.500"}],
        token=token,
    )
    assert status == 200
    assert body["accepted"] == [
        {
            "index": 0,
            "kpi": "leads",
            "date": "2026-11-21",
            "value": 14.0,
            "read_as": "Read 14.000 as 14 (a lone dot is a decimal point): write 14000 if "
            "you meant 14 000.",
        },
        {
            "index": 1,
            "kpi": "cac",
            "date": "2026-11-21",
            "value": 95.5,
            "read_as": "Read 95.500 as 95.5 (a lone dot is a decimal point): write 95500 if "
            "you meant 95 500.",
        },
    ]
    await chat.ok("/kpi set cac 90 2026-11-20")
    status, body = await api.post(scorecard, [{"kpi": "cac", "value": "95.500"}], token=token)
    assert body["accepted"] == [  # 95.5 is near the recent 90: nothing to say
        {"index": 0, "kpi": "cac", "date": "2026-11-21", "value": 95.5}
    ]
    await chat.ok("/numbers 1.234,5")  # a dot groups thousands in this chat
    status, body = await api.post(scorecard, [{"kpi": "leads", "value": "1.200"}], token=token)
    assert body["accepted"] == [
        {"index": 0, "kpi": "leads", "date": "2026-11-21", "value": 1200.0}
    ]
