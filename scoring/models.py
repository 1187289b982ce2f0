"""Domain model of a Balanced Scorecard with KPIs, OKRs and initiatives.

Frozen pydantic models: they are values, so storage round-trips them with
`model_dump(mode="json")` / `model_validate` and nothing shares mutable state.
Keys are stored casefolded; names keep what the user typed (any language).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Direction = Literal["up", "down", "range"]
Interval = Literal["day", "week", "month", "quarter"]
Aggregate = Literal["wavg", "avg", "min", "max"]
CadencePeriod = Literal["week", "month", "quarter", "year"]
TimeAggregate = Literal["last", "sum", "avg", "max", "min"]

MAX_PERSPECTIVES = 7
FOCUS_PER_PERSPECTIVE = 5
FOCUS_TOTAL = 15


class Status(StrEnum):
    """The colour of a KPI or score."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    NODATA = "nodata"
    TEST = "test"


ModelT = TypeVar("ModelT", bound=BaseModel)
_set = object.__setattr__  # a frozen model's attributes, as pydantic itself sets them


def assembled(cls: type[ModelT], state: dict[str, Any], fields_set: set[str]) -> ModelT:
    """A `cls` holding `state` (every field, in field order) with `fields_set` as the fields
    given, made without validation: what pydantic makes of values of the exact types their
    fields keep as they are, which the caller has checked (`Measurement.of`). A model built
    at every command cost 16-23 k instructions to validate (a `/kpi set` makes two)."""
    made = object.__new__(cls)
    _set(made, "__dict__", state)
    _set(made, "__pydantic_fields_set__", fields_set)
    _set(made, "__pydantic_extra__", None)  # extra fields are forbidden or ignored: none
    _set(made, "__pydantic_private__", None)  # and no private attributes
    return made


def field_defaults(cls: type[BaseModel]) -> dict[str, Any]:
    """Every field of `cls` in field order at its default (a required one at None, for the
    caller to fill): the state `assembled` is given, copied and filled in."""
    return {n: None if f.is_required() else f.default for n, f in cls.model_fields.items()}


def replaced(model: ModelT, update: dict[str, Any]) -> ModelT:
    """`model.model_copy(update=update)` (fields replaced as given, not validated), without
    pydantic's generic copy (about 17 calls: a hashtag numbers its entry so); a model with
    extra fields or private attributes takes pydantic's way."""
    if model.__pydantic_extra__ is not None or model.__pydantic_private__ is not None:
        return model.model_copy(update=update)
    state = model.__dict__.copy()
    state.update(update)
    return assembled(type(model), state, model.__pydantic_fields_set__ | update.keys())


def _aware(at: object) -> bool:
    """Whether `at` is a `datetime` (exactly) that `AwareDatetime` keeps as it is."""
    return type(at) is datetime and at.utcoffset() is not None


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Thresholds(_Frozen):
    """Performance shares at or above which a score is green / yellow (else red)."""

    green: float = 0.8
    yellow: float = 0.5


class Perspective(_Frozen):
    """A BSC perspective; `order` 0 is the top of the strategy map."""

    key: str
    name: str
    order: int
    weight: float = 1.0


CLASSIC_PERSPECTIVES = (
    Perspective(key="finance", name="Finance", order=0),
    Perspective(key="customers", name="Customers", order=1),
    Perspective(key="processes", name="Internal processes", order=2),
    Perspective(key="learning", name="Learning & growth", order=3),
)
"""Kaplan and Norton's four, top to bottom: every new scorecard and template starts here."""


class Objective(_Frozen):
    """A strategic objective inside one perspective."""

    key: str
    name: str
    perspective: str
    weight: float = 1.0
    owner: str | None = None
    aggregate: Aggregate = "wavg"
    general: bool = False  # the perspective's catch-all objective, created on demand


class Link(_Frozen):
    """Cause-effect link: `cause` drives `effect` (both objective keys)."""

    cause: str
    effect: str


class Kpi(_Frozen):
    """A measured indicator attached to an objective.

    `baseline`→`target` is the progress scale; `min`→`max` (when set) is the
    performance scale. A lower-is-better KPI has its target below its baseline.
    `range` KPIs are good between `min` and `max`, fading to 0 % at `tolerance`
    outside. `warn`/`crit` are explicit values in the KPI's unit that override
    the colour thresholds.
    """

    key: str
    name: str
    objective: str
    target: float
    baseline: float = 0.0
    direction: Direction = "up"
    min: float | None = None
    max: float | None = None
    tolerance: float | None = None
    unit: str = ""
    weight: float = 1.0
    owner: str | None = None
    every: Interval = "month"
    warn: float | None = None
    crit: float | None = None
    test: bool = False
    removed_at: AwareDatetime | None = None  # soft-deleted: hidden, history kept until purge
    formula: str | None = None  # calculated from other KPIs (scoring.formula), per period
    agg: TimeAggregate = "last"  # how the values inside one period combine
    due: date | None = None  # dated target: the target is due on this day
    due_from: date | None = None  # when the clock for `due` started (pace, forecast)
    staged: tuple[StagedTarget, ...] = ()  # intermediate targets, e.g. one per quarter


class StagedTarget(_Frozen):
    """An intermediate target in force up to and including `until` (staged dated targets)."""

    until: date
    target: float


class Measurement(_Frozen):
    """One recorded value of a KPI."""

    kpi: str
    value: float
    day: date
    at: AwareDatetime  # when it was recorded
    by: str = ""
    by_id: str = ""  # "<platform>:<user id>": who it was, whatever their name shows
    note: str = ""

    @classmethod
    def of(
        cls, *, kpi: str, value: float, day: date, at: datetime, by: str, by_id: str, note: str
    ) -> Measurement:
        """`Measurement(kpi=…, value=…, day=…, at=…, by=…, by_id=…, note=…)`, checked here
        instead of by pydantic when every value has the exact type its field keeps as it is
        (a `/kpi set` makes one): the same state; anything else goes through pydantic
        (`test_model_of` holds both equal, or both refused, for any values)."""
        if Measurement.exact(kpi, value, day, at, by, by_id, note):
            state = {
                "kpi": kpi,
                "value": value,
                "day": day,
                "at": at,
                "by": by,
                "by_id": by_id,
                "note": note,
            }
            return assembled(cls, state, set(_MEASURED))
        return cls(kpi=kpi, value=value, day=day, at=at, by=by, by_id=by_id, note=note)

    @staticmethod
    def exact(
        kpi: object,
        value: object,
        day: object,
        at: object,
        by: object,
        by_id: object,
        note: object,
    ) -> bool:
        """Whether every value has the exact type its field keeps as it is: then `of`
        makes the model without pydantic, and a reader of its fields may take them as given
        (the quick `/kpi set` stores them without making the model)."""
        return (
            type(kpi) is str
            and type(value) is float
            and type(day) is date
            and _aware(at)
            and type(by) is str
            and type(by_id) is str
            and type(note) is str
        )


_MEASURED = frozenset(Measurement.model_fields)


class KeyResult(_Frozen):
    """A measurable key result of an OKR objective."""

    key: str
    okr: str
    name: str
    start: float
    target: float
    current: float | None = None
    unit: str = ""
    weight: float = 1.0
    owner: str | None = None
    kpi: str | None = None  # driven by this KPI: `current` follows its value


class Okr(_Frozen):
    """An OKR objective in one cycle (e.g. 2026Q4)."""

    key: str
    name: str
    cycle: str
    owner: str | None = None
    align: str | None = None  # the scorecard objective this OKR serves


class CheckIn(_Frozen):
    """A key-result check-in: value, confidence, who and when."""

    kr: str
    value: float
    at: AwareDatetime
    by: str = ""
    by_id: str = ""  # "<platform>:<user id>": who it was, whatever their name shows
    confidence: int | None = Field(default=None, ge=1, le=10)
    note: str = ""


class Cadence(_Frozen):
    """A rhythm target such as 4 per month."""

    count: int = Field(gt=0)
    period: CadencePeriod


class Initiative(_Frozen):
    """Work that moves an objective, optionally with a cadence target."""

    key: str
    name: str
    objective: str | None = None
    owner: str | None = None
    due: date | None = None
    cadence: Cadence | None = None
    done: bool = False


class ProgressLog(_Frozen):
    """Progress logged against an initiative (`/log articles +1 ...`)."""

    initiative: str
    amount: float
    at: AwareDatetime
    by: str = ""
    by_id: str = ""  # "<platform>:<user id>": who it was, whatever their name shows
    note: str = ""
    # its # in `/initiative <key>`: given when logged and never reused, so removing one
    # entry leaves the others' numbers as people saw them (None: stored before numbers)
    number: int | None = None

    @classmethod
    def of(
        cls, *, initiative: str, amount: float, at: datetime, by: str, by_id: str, note: str
    ) -> ProgressLog:
        """`ProgressLog(initiative=…, amount=…, at=…, by=…, by_id=…, note=…)` (no number
        yet), checked here instead of by pydantic when every value has the exact type its
        field keeps as it is (every hashtag makes one): as `Measurement.of`."""
        if (
            type(initiative) is str
            and type(amount) is float
            and _aware(at)
            and type(by) is str
            and type(by_id) is str
            and type(note) is str
        ):
            state = {
                "initiative": initiative,
                "amount": amount,
                "at": at,
                "by": by,
                "by_id": by_id,
                "note": note,
                "number": None,
            }
            return assembled(cls, state, set(_LOGGED))
        return cls(initiative=initiative, amount=amount, at=at, by=by, by_id=by_id, note=note)


_LOGGED = frozenset(ProgressLog.model_fields) - {"number"}


class Funnel(_Frozen):
    """Stages of a marketing funnel, each one a KPI counting who got that far."""

    key: str
    name: str
    stages: tuple[str, ...]  # KPI keys, top of the funnel first


class JourneyStage(_Frozen):
    """One stage of a customer journey map: its KPIs, touchpoints and pain points."""

    key: str
    name: str
    kpis: tuple[str, ...] = ()
    touchpoints: tuple[str, ...] = ()
    pains: tuple[str, ...] = ()


class Journey(_Frozen):
    """A customer journey map: stages from first contact to after-sales."""

    key: str
    name: str
    stages: tuple[JourneyStage, ...]
