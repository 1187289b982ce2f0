"""Checking a read file against the chat: the Plan of good records, problems and diff counts."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from handlers import calculated
from handlers.contract import UsageError
from handlers.dates import ahead_said
from handlers.exchange_export import SECTIONS
from handlers.exchange_read import Problem, Record
from handlers.far_values import refuse_fraction
from handlers.messages import say, validation_text
from handlers.parsing import MAX_VALUE, parse_date, parse_number, parse_value
from scoring.errors import ScoringError
from scoring.formula import FormulaError, find_cycle, parse_formula
from scoring.kpi import validate_kpi
from scoring.models import (
    MAX_PERSPECTIVES,
    CheckIn,
    Kpi,
    Link,
    Measurement,
)
from scoring.okr import parse_cycle, validate_kr
from scoring.rollup import check_weight
from scoring.strategy_map import cycle_path
from scoring.targets import validate_dated
from storage import Store
from storage.alert_state import AlertSettings, Channel


@dataclass(slots=True)
class Plan:
    """A checked import: the good records as models, the problems, and the diff counts."""

    models: dict[str, list[BaseModel]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    new: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    same: dict[str, int] = field(default_factory=dict)

    @property
    def good(self) -> int:
        """How many records would be applied."""
        return sum(len(items) for items in self.models.values())

    def count(self, section: str, kind: str) -> None:
        """Tally one record as new, changed or the same as stored."""
        target = {"new": self.new, "changed": self.changed, "same": self.same}[kind]
        target[section] = target.get(section, 0) + 1


class Checker:
    """Checks records one by one against the file so far and the chat; fills the plan."""

    def __init__(self, store: Store, chat: str, now: datetime, plan: Plan, by: str) -> None:
        self.store = store
        self.chat = chat
        self.plan = plan
        self.by = by
        self.now = now
        settings = store.chats.settings(chat)
        self.zone = ZoneInfo(settings.timezone)
        self.today = now.astimezone(self.zone).date()
        s = store.scorecards
        self.perspectives = {p.key: p for p in s.perspectives(chat)}
        self.objectives = {o.key: o for o in s.objectives(chat)}
        self.links = {(link.cause, link.effect) for link in s.links(chat)}
        self.kpis = {k.key: k for k in store.kpis.all(chat, include_removed=True)}
        self.okrs = {o.key: o for o in store.okrs.okrs(chat)}
        self.krs = {k.key: k for k in store.okrs.key_results(chat)}
        self.initiatives = {i.key: i for i in store.initiatives.all(chat)}
        self.all_links = set(self.links)  # stored and from the file so far (for cycles)
        self.formulas: dict[str, tuple[Record, tuple[str, ...]]] = {}  # file KPI → its inputs
        self.funnels = {f.key: f for f in store.funnels.all(chat)}
        self.journeys = {j.key: j for j in store.funnels.journeys(chat)}
        self.seen: dict[str, set[Any]] = {}
        self.history: dict[str, dict[date, Measurement]] = {}
        self.recent: dict[str, list[float]] = {}  # of `%` KPIs, by key (`refuse_fraction`)
        self.file_perspectives: list[str] = []

    def problem(self, record: Record, fld: str, message: str) -> None:
        self.plan.problems.append(Problem(record.line, fld, message))

    def check(self, record: Record) -> None:
        model_type = SECTIONS[record.section]
        try:
            model = model_type.model_validate(self._defaults(record))
        except _FieldError as exc:
            self.problem(record, exc.field, exc.message)
            return
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"]) or record.section
                self.problem(record, loc, _friendly(validation_text(err)))
            return
        for name, value in model:
            if isinstance(value, float) and not math.isfinite(value):
                self.problem(record, name, "must be a finite number")
                return
            if isinstance(value, float) and abs(value) > MAX_VALUE:
                self.problem(record, name, "is out of range: numbers go from −1e15 to 1e15")
                return
        if record.section in _SCORING_RULES:
            fld, rule = _SCORING_RULES[record.section]
            try:
                rule(model)
            except ScoringError as exc:
                self.problem(record, fld, say(exc))
                return
        getattr(self, f"_{record.section}")(record, model)

    def _defaults(self, record: Record) -> dict[str, Any]:
        data = dict(record.data)
        for k in ("key", "kpi", "kr", "okr", "initiative", "objective", "perspective"):
            if isinstance(data.get(k), str):
                data[k] = data[k].strip().casefold()
        if record.section == "values" and record.typed:  # a sheet: these are the importer's
            data.setdefault("at", self.now.isoformat())
            data.setdefault("day", self.today.isoformat())
            data.setdefault("by", self.by)
        if record.section == "values":
            if isinstance(data.get("value"), str):
                data["value"] = _value(data["value"], self.kpis.get(str(data.get("kpi"))))
            # a hand-made sheet: dates as people type them (21.11.2026, yesterday)
            try:
                if record.typed and isinstance(data.get("day"), str):
                    data["day"] = parse_date(data["day"], self.today).isoformat()
            except UsageError as exc:
                raise _FieldError("day", str(exc)) from None
        if record.section == "perspectives":
            data.setdefault("order", len(self.file_perspectives))
        return data

    def _once(self, record: Record, what: Any) -> bool:
        seen = self.seen.setdefault(record.section, set())
        if what in seen:
            self.problem(record, "key", f"{what} appears twice in the file")
            return False
        seen.add(what)
        return True

    def _keep(self, section: str, model: BaseModel, stored: BaseModel | None) -> None:
        if stored == model:
            self.plan.count(section, "same")  # nothing to write
            return
        self.plan.models.setdefault(section, []).append(model)
        self.plan.count(section, "new" if stored is None else "changed")

    def _settings(self, record: Record, model: Any) -> None:
        try:
            ZoneInfo(model.timezone)
        except Exception:
            self.problem(record, "timezone", f"unknown timezone {model.timezone!r}")
            return
        self._keep("settings", model, self.store.chats.settings(self.chat))

    def _thresholds(self, record: Record, model: Any) -> None:
        if not 0 < model.yellow < model.green <= 1:
            self.problem(record, "green", "thresholds must satisfy 0 < yellow < green ≤ 1")
            return
        self._keep("thresholds", model, self.store.scorecards.thresholds(self.chat))

    def _perspectives(self, record: Record, model: Any) -> None:
        if not self._once(record, model.key):
            return
        stored = self.perspectives.get(model.key)
        self.file_perspectives.append(model.key)
        self.perspectives[model.key] = model
        self._keep("perspectives", model, stored)

    def _objectives(self, record: Record, model: Any) -> None:
        if not self._once(record, model.key):
            return
        if model.perspective not in self.perspectives:
            self.problem(record, "perspective", f"no perspective '{model.perspective}'")
            return
        stored = self.objectives.get(model.key)
        self.objectives[model.key] = model
        self._keep("objectives", model, stored)

    def _links(self, record: Record, model: Any) -> None:
        for end in ("cause", "effect"):
            if getattr(model, end) not in self.objectives:
                self.problem(record, end, f"no objective '{getattr(model, end)}'")
                return
        pair = (model.cause, model.effect)
        if not self._once(record, pair):
            return
        path = cycle_path((Link(cause=c, effect=e) for c, e in self.all_links), *pair)
        if pair not in self.all_links and path:  # as /objective link refuses it
            self.problem(
                record, "effect", f"{pair[0]} → {pair[1]} would close a cycle ({' → '.join(path)})"
            )
            return
        self.all_links.add(pair)
        self._keep("links", model, model if pair in self.links else None)

    def _kpis(self, record: Record, model: Any) -> None:
        if not self._once(record, model.key):
            return
        if model.objective not in self.objectives:
            self.problem(record, "objective", f"no objective '{model.objective}'")
            return
        if model.formula and model.removed_at is None:  # a removed one computes nothing
            try:
                self.formulas[model.key] = (record, parse_formula(model.formula).inputs)
            except FormulaError as exc:
                self.problem(record, "formula", say(exc))
                return
        else:
            self.formulas.pop(model.key, None)
        stored = self.kpis.get(model.key)
        self.kpis[model.key] = model
        self._keep("kpis", model, stored)

    def _values(self, record: Record, model: Any) -> None:
        kpi = self.kpis.get(model.kpi)
        if kpi is None:
            self.problem(record, "kpi", f"no KPI '{model.kpi}'")
            return
        if record.typed and kpi.formula:  # an export's computed values are recomputed anyway
            self.problem(record, "kpi", f"{kpi.key} is calculated from its formula")
            return
        if model.day > self.today:
            self.problem(record, "day", ahead_said(model.day, self.today))
            return
        if record.typed:  # a hand-made sheet's `0.031` on a `%` KPI: no one to ask
            raw = str(record.data.get("value", ""))
            try:
                refuse_fraction(self.store, self.chat, kpi, model.value, raw, self.recent)
            except UsageError as exc:
                self.problem(record, "value", str(exc))
                return
        if not self._once(record, (model.kpi, model.day)):
            return
        if model.kpi not in self.history:
            self.history[model.kpi] = {
                m.day: m for m in self.store.kpis.history(self.chat, model.kpi)
            }
        stored = self.history[model.kpi].get(model.day)
        same = stored is not None and (stored.value, stored.note) == (model.value, model.note)
        self._keep("values", model, stored if not same else model)

    def _okrs(self, record: Record, model: Any) -> None:
        if not self._once(record, model.key):
            return
        stored = self.okrs.get(model.key)
        self.okrs[model.key] = model
        self._keep("okrs", model, stored)

    def _key_results(self, record: Record, model: Any) -> None:
        if not self._once(record, model.key):
            return
        if model.okr not in self.okrs:
            self.problem(record, "okr", f"no OKR '{model.okr}'")
            return
        stored = self.krs.get(model.key)
        self.krs[model.key] = model
        self._keep("key_results", model, stored)

    def _checkins(self, record: Record, model: Any) -> None:
        if model.kr not in self.krs:
            self.problem(record, "kr", f"no key result '{model.kr}'")
            return
        if not self._once(record, (model.kr, model.at)):
            return
        stored = {c.at: c for c in self._stored_checkins(model.kr)}.get(model.at)
        self._keep("checkins", model, stored)

    def _stored_checkins(self, kr: str) -> list[CheckIn]:
        if kr not in {k.key for k in self.store.okrs.key_results(self.chat)}:
            return []
        result: list[CheckIn] = self.store.okrs.check_ins(self.chat, kr)
        return result

    def _initiatives(self, record: Record, model: Any) -> None:
        if not self._once(record, model.key):
            return
        if model.objective is not None and model.objective not in self.objectives:
            self.problem(record, "objective", f"no objective '{model.objective}'")
            return
        stored = self.initiatives.get(model.key)
        self.initiatives[model.key] = model
        self._keep("initiatives", model, stored)

    def _progress(self, record: Record, model: Any) -> None:
        if model.initiative not in self.initiatives:
            self.problem(record, "initiative", f"no initiative '{model.initiative}'")
            return
        if not self._once(record, (model.initiative, model.at)):
            return
        stored_logs = (
            self.store.initiatives.logs(self.chat, model.initiative)
            if self.store.initiatives.get(self.chat, model.initiative) is not None
            else []
        )
        stored = {p.at: p for p in stored_logs}.get(model.at)
        if stored is not None and model.number is None:  # a file from before entry numbers
            model = model.model_copy(update={"number": stored.number})
        self._keep("progress", model, stored)

    def _funnels(self, record: Record, model: Any) -> None:
        if not self._once(record, model.key) or not self._stage_kpis(record, model.stages):
            return
        self._keep("funnels", model, self.funnels.get(model.key))

    def _journeys(self, record: Record, model: Any) -> None:
        if not self._once(record, model.key):
            return
        if not self._stage_kpis(record, [k for stage in model.stages for k in stage.kpis]):
            return
        self._keep("journeys", model, self.journeys.get(model.key))

    def _alerts(self, record: Record, model: Any) -> None:
        """A chat's alert settings; a channel naming the chat the file came from names
        this chat (the scorecard moved; a topic of that chat is not one of this chat), any
        other channel is kept as it was."""
        settings = AlertSettings.model_validate(
            {name: getattr(model, name) for name in AlertSettings.model_fields}
        )
        if settings.channels and model.chat and model.chat != self.chat:
            platform, _, chat_id = self.chat.partition(":")
            here = Channel(platform=platform, chat_id=chat_id)
            settings = settings.model_copy(
                update={
                    "channels": tuple(
                        here if c.key == model.chat else c for c in settings.channels
                    )
                }
            )
        self._keep("alerts", settings, self.store.alerts.settings(self.chat))

    def _stage_kpis(self, record: Record, keys: Iterable[str]) -> bool:
        """A funnel's or journey's stages name KPIs in the file or the chat."""
        missing = next((k for k in keys if k not in self.kpis), None)
        if missing is not None:
            self.problem(record, "stages", f"no KPI '{missing}'")
        return missing is None

    def finish(self) -> None:
        self._check_formulas()
        if len(self.perspectives) > MAX_PERSPECTIVES:
            self.plan.problems.append(
                Problem(
                    None,
                    "perspectives",
                    f"the scorecard would have {len(self.perspectives)} perspectives "
                    f"(at most {MAX_PERSPECTIVES})",
                )
            )
            self.plan.models.pop("perspectives", None)

    def _check_formulas(self) -> None:
        """As /kpi add: a file's formulas read KPIs that exist (in the file or the chat) and
        make no loop with each other or the chat's formulas (checked once all KPIs are read)."""
        live = [k for k in self.kpis.values() if k.removed_at is None]
        stored = {k.key: k for k in live if k.key not in self.formulas}
        reads = {
            **calculated.graph(stored.values()),
            **{k: i for k, (_, i) in self.formulas.items()},
        }
        looped: set[str] = set()
        for key, (record, inputs) in self.formulas.items():
            unknown = [name for name in inputs if name not in self.kpis and name != key]
            loop = find_cycle(key, inputs, {k: v for k, v in reads.items() if k != key})
            if unknown:
                names = ", ".join(repr(u) for u in unknown)
                what = "is not a KPI" if len(unknown) == 1 else "are not KPIs"
                self.problem(record, "formula", f"reads {names}, which {what} here")
            elif key in inputs:
                self.problem(
                    record, "formula", f"{key} reads itself; a KPI can't depend on itself"
                )
            elif loop is not None and key not in looped:
                looped.update(loop)
                self.problem(
                    record, "formula", f"makes a loop: {' → '.join(loop)} (each reads the next)"
                )


def _kpi_rule(kpi: Any) -> None:
    validate_kpi(kpi)
    validate_dated(kpi)


#: The scoring rules a record must pass before it is checked against the chat, with the
#: field its problem line names: what the chat commands refuse is refused here too, in the
#: same words (a KPI with baseline = target or a key result with start = target would
#: otherwise be applied and break every view of the chat that scores it).
_SCORING_RULES: dict[str, tuple[str, Callable[[Any], object]]] = {
    "kpis": ("definition", _kpi_rule),
    "key_results": ("definition", validate_kr),
    "okrs": ("cycle", lambda okr: parse_cycle(okr.cycle)),
    "perspectives": ("weight", lambda p: check_weight(p.weight, f"perspective '{p.key}'")),
    "objectives": ("weight", lambda o: check_weight(o.weight, f"objective '{o.key}'")),
}


def _value(raw: str, kpi: Kpi | None) -> float:
    """A value cell: what an export wrote (`6.1e-05`), else as people type it (`1 234,5`),
    a `%` after it by the value rule of `kpi` (`parse_value`), not dropped without a word."""
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        if kpi is not None:
            return parse_value(raw, kpi.key, kpi.name, kpi.unit, what="value")
        return parse_number(raw, "value")  # no such KPI: the record is refused for that
    except UsageError as exc:
        raise _FieldError("value", str(exc)) from None


class _FieldError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _friendly(message: str) -> str:
    text = message.removeprefix("Value error, ")
    return text[:1].lower() + text[1:]
