"""The ingest API's meaning (HTTP lives in bot/api.py) and `/scorecard token`.

`POST /api/v1/scorecards/{id}/measurements` with a bearer token: every item is checked
like a typed value (the KPI exists, a finite number, a real date not in the future), the
good ones are recorded through the same path as `/kpi import` (so alerts fire exactly as
for chat values) in one atomic step, and the answer lists accepted and rejected items.
An `Idempotency-Key` makes a retried batch apply once: its answer is stored in the same
step and replayed.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson

from handlers import render
from handlers.common import zone_of
from handlers.contract import Command, Context, Reply, UsageError, command
from handlers.dates import ahead_said
from handlers.far_values import refuse_fraction
from handlers.kpi_import import record_values
from handlers.parsing import (
    MAX_NOTE,
    MAX_VALUE,
    chat_numbers,
    dot_reading,
    parse_date,
    parse_value,
)
from handlers.router import Router
from scoring.models import Kpi, Measurement

MAX_ITEMS = 10_000
ITEM_FIELDS = frozenset({"kpi", "value", "date", "note"})


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP status and JSON body, decided here and sent by the server."""

    status: int
    body: dict[str, Any]
    chat: str | None = None  # the chat that changed (to wake delivery), if any
    replayed: bool = False


def _error(status: int, message: str) -> Answer:
    return Answer(status, {"error": message})


UNAUTHORIZED = _error(401, "unknown scorecard or wrong token")


def ingest(
    ctx: Context, scorecard: str, token: str | None, body: bytes, idempotency_key: str | None
) -> Answer:
    """Authenticate, check and record one batch; call inside an atomic step, then commit."""
    chat = ctx.store.ingest.authenticate(scorecard, token) if token else None
    if chat is None:
        return UNAUTHORIZED
    now = ctx.clock()
    digest = hashlib.sha256(body).hexdigest()
    if idempotency_key:
        if len(idempotency_key) > 200:
            return _error(400, "Idempotency-Key is longer than 200 characters")
        stored = ctx.store.ingest.replay(chat, idempotency_key, now)
        if stored is not None:
            if stored.get("digest", digest) != digest:
                return _error(409, "this Idempotency-Key was used for a different batch")
            return Answer(int(stored["status"]), dict(stored["body"]), None, replayed=True)
    items = _items(body)
    if isinstance(items, Answer):
        return items
    batch = _Batch(ctx, chat)
    with chat_numbers(ctx.store.chats.dots_group(chat)):  # `"1.200"`
        for index, item in enumerate(items):
            batch.check(index, item)
    if batch.values:
        with ctx.store.audited(
            chat,
            actor_id=f"api:{scorecard[:40]}",
            actor="ingest API",
            command=f"POST ingest: {render.plural(len(batch.values), 'value')}",
            at=now,
        ):
            record_values(ctx, chat, list(batch.kpis.values()), batch.values)
    answer = Answer(
        200 if batch.values or not batch.rejected else 422,
        {"stored": len(batch.values), "accepted": batch.accepted, "rejected": batch.rejected},
        chat,
    )
    if idempotency_key:
        ctx.store.ingest.remember(
            chat,
            idempotency_key,
            {"status": answer.status, "body": answer.body, "digest": digest},
            now,
        )
    return answer


@dataclass(frozen=True, slots=True)
class _OutOfRange:
    """A JSON number no float holds (1e400, a 400-digit integer): valid JSON, so the item
    is rejected with a reason instead of the whole batch."""

    text: str


def _float(text: str) -> float | _OutOfRange:
    value = float(text)
    return value if math.isfinite(value) else _OutOfRange(text)


def _int(text: str) -> int | _OutOfRange:
    return int(text) if len(text.lstrip("-")) <= 20 else _OutOfRange(f"{text[:12]}…")


def _items(body: bytes) -> list[Any] | Answer:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as fast:
        try:  # orjson refuses numbers out of float range, which are valid JSON
            data = json.loads(body, parse_float=_float, parse_int=_int)
            orjson.dumps(data, default=repr)  # anything else orjson refuses stays refused
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return _error(400, f"malformed JSON: {exc}")
        except (orjson.JSONEncodeError, RecursionError):
            return _error(400, f"malformed JSON: {fast}")
    if isinstance(data, dict) and set(data) == {"measurements"}:
        data = data["measurements"]
    if not isinstance(data, list):
        return _error(400, 'expected a JSON list of measurements or {"measurements": [...]}')
    if not data:
        return _error(400, "the batch is empty")
    if len(data) > MAX_ITEMS:
        return _error(413, f"at most {MAX_ITEMS} measurements per batch (got {len(data)})")
    return data


@dataclass
class _Batch:
    ctx: Context
    chat: str
    accepted: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    values: list[Measurement] = field(default_factory=list)
    kpis: dict[str, Kpi] = field(default_factory=dict)
    days: dict[tuple[str, date], int] = field(default_factory=dict)
    recent: dict[str, list[float]] = field(default_factory=dict)  # of `%` KPIs, by key

    def __post_init__(self) -> None:
        self.now = self.ctx.clock()
        self.today = self.now.astimezone(zone_of(self.ctx, self.chat)).date()

    def check(self, index: int, item: Any) -> None:
        try:
            kpi, value, day, note = self._parse(item)
        except UsageError as exc:
            kpi_name = item.get("kpi") if isinstance(item, dict) else None
            entry: dict[str, Any] = {"index": index, "reason": str(exc)}
            if isinstance(kpi_name, str):
                entry["kpi"] = kpi_name
            self.rejected.append(entry)
            return
        self.days[(kpi.key, day)] = index
        self.kpis[kpi.key] = kpi
        self.values.append(
            Measurement(kpi=kpi.key, value=value, day=day, at=self.now, by="api", note=note)
        )
        accepted: dict[str, Any] = {
            "index": index,
            "kpi": kpi.key,
            "date": day.isoformat(),
            "value": value,
        }
        raw = item.get("value")
        if isinstance(raw, str):  # `"14.000"`: said as `/kpi set` says it
            recent = self.ctx.store.kpis.recent_values
            reading = dot_reading(raw.strip(), value, lambda: recent(self.chat, kpi.key))
            if reading:
                accepted["read_as"] = reading
        self.accepted.append(accepted)

    def _parse(self, item: Any) -> tuple[Kpi, float, date, str]:
        if not isinstance(item, dict):
            raise UsageError("each measurement is an object {kpi, value, date?, note?}")
        unknown = sorted(set(item) - ITEM_FIELDS)
        if unknown:
            raise UsageError(f"unknown field '{unknown[0]}' (use kpi, value, date, note)")
        key = item.get("kpi")
        if not isinstance(key, str) or not key.strip():
            raise UsageError("kpi is missing")
        kpi = self.kpis.get(key.strip().casefold()) or self.ctx.store.kpis.get(
            self.chat, key.strip().casefold()
        )
        if kpi is None or kpi.removed_at is not None:
            raise UsageError(f"no KPI '{key}'")
        if kpi.formula:  # as in /kpi import: its values follow from its inputs
            raise UsageError(f"{kpi.key} is calculated from its formula; send its inputs")
        value = _number(item.get("value"), kpi)
        raw = item["value"] if isinstance(item["value"], str) else ""  # `"0.031%"`
        refuse_fraction(self.ctx.store, self.chat, kpi, value, raw, self.recent)  # no one to ask
        day = self.today
        if item.get("date") is not None:
            if not isinstance(item["date"], str):
                raise UsageError("date must be a string such as 2026-11-21")
            day = parse_date(item["date"], self.today)
        if day > self.today:  # an answer's reasons end without a full stop
            raise UsageError(ahead_said(day, self.today))
        note = item.get("note") or ""
        if not isinstance(note, str) or len(note) > MAX_NOTE:
            raise UsageError(f"note must be text of at most {MAX_NOTE} characters")
        if (kpi.key, day) in self.days:
            raise UsageError(f"a second value for {kpi.key} on {day.isoformat()} in this batch")
        return kpi, value, day, note


def _number(raw: Any, kpi: Kpi) -> float:
    if isinstance(raw, _OutOfRange):
        raise UsageError(f"value {raw.text} is out of range: numbers go from −1e15 to 1e15")
    if isinstance(raw, bool) or raw is None:
        raise UsageError("value must be a number")
    if isinstance(raw, int | float):
        value = float(raw)
        if not math.isfinite(value):
            raise UsageError("value must be a finite number")
        if abs(value) > MAX_VALUE:  # the range every typed number keeps
            raise UsageError("value is out of range: numbers go from −1e15 to 1e15")
        return value
    if isinstance(raw, str):
        return parse_value(raw, kpi.key, kpi.name, kpi.unit, what="value")
    raise UsageError("value must be a number")


# --- /scorecard token ------------------------------------------------------------------


@command(
    "scorecard token",
    usage="/scorecard token [revoke]",
    example="/scorecard token",
    mutates=True,
    role="admin",
)
async def scorecard_token(cmd: Command, ctx: Context) -> Reply:
    """Create or rotate this scorecard's API token (shown once); `revoke` turns it off.

    Other tools send values with it: POST /api/v1/scorecards/<id>/measurements with the
    header `Authorization: Bearer <token>`. Only a hash is stored; a new token replaces
    the old one at once.
    """
    chat = cmd.chat.key
    if cmd.args:
        if cmd.args[0].casefold() != "revoke" or len(cmd.args) > 1:
            raise UsageError("Unknown option.", usage=True)
        if not ctx.store.ingest.revoke(chat):
            return Reply(text="This scorecard has no API token.")
        return Reply(text="API token revoked: the ingest API refuses it from now on.")
    rotated = ctx.store.ingest.scorecard_id(chat) is not None
    scorecard, token = ctx.store.ingest.issue(chat, ctx.clock())
    note = "The previous token no longer works. " if rotated else ""
    return Reply(
        private=True,
        title="API token for this scorecard",
        text=(
            f"Scorecard id: {scorecard}\nToken: {token}\n"
            f"{note}This is the only time the token is shown: keep it in your tool's "
            "secret settings. /scorecard token again replaces it; /scorecard token revoke "
            "turns it off."
        ),
    )


def register(router: Router) -> None:
    """Register /scorecard token."""
    router.include(scorecard_token)
