"""Calculated KPIs: a small, safe formula language over other KPIs' values.

A formula is parsed once with `ast.parse(mode="eval")` and then walked against an
allow-list: numbers, KPI keys, `+ − × ÷ **`, unary minus, parentheses and calls of
`min`, `max`, `abs`, `round` and the marketing helpers below. Everything else — attribute
or subscript access, strings (format-string escapes), comparisons, lambdas,
comprehensions, keywords, starred arguments — is refused when the formula is *set*, so
evaluation never meets it. There is no `eval`: `evaluate` interprets the checked tree
with float arithmetic only (no big integers), with bounded length, node count, depth and
exponent, and every result must be finite.

Helpers (the KPIs of the source articles):

* `ratio(a, b)` = a / b (LTV:CAC);
* `pct_change(a)` = (a − a of the previous period) / a of the previous period × 100;
* `roi(revenue, cost)` = (revenue − cost) / cost × 100;
* `nps(promoters, passives, detractors)` = (promoters − detractors) / all × 100;
* `ltv(arpu, margin, churn)` = arpu × margin / churn (margin and churn in the same unit);
* `conversion(stage_a, stage_b)` = stage_b / stage_a × 100 (share of a that reaches b).

A formula that cannot give a number for a period (an input without a value, a division
by zero) raises `NoValue` with the reason; malformed formulas raise `FormulaError`.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from scoring.errors import ScoringError

MAX_LENGTH = 500
MAX_NODES = 200
MAX_DEPTH = 32
MAX_EXPONENT = 64.0
#: Every number a formula writes or gives lies within ±MAX_NUMBER, as every number a person
#: types does (handlers.parsing.MAX_VALUE); a result beyond it is no value, with the reason.
MAX_NUMBER = 1e15
MAX_ROUND_DIGITS = 10


class FormulaError(ScoringError):
    """A formula the allow-list refuses, or one that refers to itself through other KPIs."""


class NoValue(ScoringError):
    """A well-formed formula that has no value for a period; the code says why."""


@dataclass(frozen=True, slots=True)
class Helper:
    """A callable a formula may use: how many arguments and what it computes."""

    arity: tuple[int, ...]
    doc: str
    fn: Callable[..., float]
    needs_previous: bool = False


def _div(a: float, b: float, helper: str | None) -> float:
    """a / b; dividing by zero names the helper that did it (None: the formula's own /)."""
    if b == 0:
        if helper is None:
            raise NoValue("formula.divides_by_zero")
        raise NoValue("formula.helper_divides_by_zero", name=helper)
    return a / b


def _round_digits_ok(digits: float) -> bool:
    return float(digits).is_integer() and 0 <= digits <= MAX_ROUND_DIGITS


def _round(x: float, digits: float = 0) -> float:
    # Decimals computed from KPI values: no value for that period, never a refusal of the
    # input value being recorded (a FormulaError here blocked every value of the input).
    if not _round_digits_ok(digits):
        raise NoValue("formula.round_decimals_value", most=MAX_ROUND_DIGITS)
    return float(round(x, int(digits)))


HELPERS: dict[str, Helper] = {
    "min": Helper((1, 2, 3, 4, 5, 6, 7, 8), "the smallest argument", lambda *a: min(a)),
    "max": Helper((1, 2, 3, 4, 5, 6, 7, 8), "the largest argument", lambda *a: max(a)),
    "abs": Helper((1,), "the absolute value", abs),
    "round": Helper((1, 2), "rounded to n decimals", _round),
    "ratio": Helper((2,), "a / b", lambda a, b: _div(a, b, "ratio")),
    "pct_change": Helper(
        (1,),
        "change against the previous period, %",
        lambda now, before: _div(now - before, before, "pct_change") * 100,
        needs_previous=True,
    ),
    "roi": Helper((2,), "(revenue − cost) / cost × 100", lambda r, c: _div(r - c, c, "roi") * 100),
    "nps": Helper(
        (3,),
        "(promoters − detractors) / all answers × 100",
        lambda p, n, d: _div(p - d, p + n + d, "nps") * 100,
    ),
    "ltv": Helper((3,), "arpu × margin / churn", lambda a, m, c: _div(a * m, c, "ltv")),
    "conversion": Helper(
        (2,), "stage_b / stage_a × 100", lambda a, b: _div(b, a, "conversion") * 100
    ),
}

#: The operators a formula may use (handlers.formula_text writes them as + − × / ^).
BINARY_OPS: frozenset[type[ast.operator]] = frozenset(
    {ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow}
)
UNARY_OPS: frozenset[type[ast.unaryop]] = frozenset({ast.UAdd, ast.USub})


@dataclass(frozen=True, slots=True)
class Formula:
    """A checked formula: its text, its tree and the KPI keys it reads."""

    text: str
    tree: ast.expr
    inputs: tuple[str, ...]  # in order of first use
    previous: tuple[str, ...]  # keys whose previous-period value pct_change() needs


def parse_formula(text: str) -> Formula:
    """Check a formula against the allow-list; refuse anything else with one clear line."""
    source = text.strip()
    if not source:
        raise FormulaError("formula.empty")
    if len(source) > MAX_LENGTH:
        raise FormulaError("formula.too_long", most=MAX_LENGTH)
    try:
        module = ast.parse(
            source.replace("×", "*").replace("÷", "/").replace("−", "-"), mode="eval"
        )
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise FormulaError("formula.unreadable", text=source) from None
    nodes = sum(1 for _ in ast.walk(module))
    if nodes > MAX_NODES:
        raise FormulaError("formula.too_big", nodes=nodes, most=MAX_NODES)
    inputs: dict[str, None] = {}
    previous: dict[str, None] = {}
    _check(module.body, 0, inputs, previous)
    return Formula(source, module.body, tuple(inputs), tuple(previous))


def check_new_formula(formula: Formula) -> None:
    """Refuse what a formula being set must not hold, though a stored one may (it is
    evaluated to no value instead, so a store written before this rule still reads):
    round() with written-out decimals outside 0 to MAX_ROUND_DIGITS, and `**` with a
    written-out exponent beyond ±MAX_EXPONENT (`spend ** 100` never has a value)."""
    for node in ast.walk(formula.tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id.casefold() == "round"
            and len(node.args) == 2
            and (digits := _written_out(node.args[1])) is not None
            and not _round_digits_ok(digits)
        ):
            raise FormulaError("formula.round_decimals", most=MAX_ROUND_DIGITS)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            exponent = _written_out(node.right)
            if exponent is not None and abs(exponent) > MAX_EXPONENT:
                raise FormulaError(
                    "formula.exponent_written", exponent=exponent, most=MAX_EXPONENT
                )


def _written_out(node: ast.expr) -> float | None:
    """The value of a part of a formula that reads no KPI (`20`, `5 + 5`, `-100`), NaN when
    it has none (`1 / 0`); None for a part that reads a KPI."""
    if any(isinstance(n, ast.Name) for n in ast.walk(node)):
        return None
    try:
        return _eval(node, {}, {})
    except (ScoringError, ArithmeticError, ValueError):
        return math.nan


def _refuse(node: ast.AST) -> FormulaError:
    """The refusal of a construct outside the allow-list, named by its Python node type."""
    return FormulaError(
        "formula.not_allowed", construct=type(node).__name__, helpers=tuple(HELPERS)
    )


def _check(node: ast.AST, depth: int, inputs: dict[str, None], previous: dict[str, None]) -> None:
    """Walk the tree, accepting only allowed nodes; collect the KPI keys read."""
    if depth > MAX_DEPTH:
        raise FormulaError("formula.too_deep", most=MAX_DEPTH)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise _refuse(node)
        if abs(node.value) > MAX_NUMBER or not math.isfinite(node.value):
            raise FormulaError("formula.number_too_big")
        return
    if isinstance(node, ast.Name):
        if not isinstance(node.ctx, ast.Load) or node.id.startswith("_"):
            raise _refuse(node)
        if node.id.casefold() in HELPERS and node.id.casefold() in ("min", "max", "abs", "round"):
            raise FormulaError("formula.function_as_value", name=node.id)
        inputs.setdefault(node.id.casefold(), None)
        return
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY_OPS:
        _check(node.left, depth + 1, inputs, previous)
        _check(node.right, depth + 1, inputs, previous)
        return
    if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY_OPS:
        _check(node.operand, depth + 1, inputs, previous)
        return
    if isinstance(node, ast.Call):
        _check_call(node, depth, inputs, previous)
        return
    raise _refuse(node)


def _check_call(
    node: ast.Call, depth: int, inputs: dict[str, None], previous: dict[str, None]
) -> None:
    if not isinstance(node.func, ast.Name) or node.func.id.casefold() not in HELPERS:
        if not isinstance(node.func, ast.Name):
            raise FormulaError("formula.unknown_call", helpers=tuple(HELPERS))
        raise FormulaError("formula.unknown_function", name=node.func.id, helpers=tuple(HELPERS))
    name = node.func.id.casefold()
    helper = HELPERS[name]
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise FormulaError("formula.plain_arguments", name=name)
    if len(node.args) not in helper.arity:
        low, high = helper.arity[0], helper.arity[-1]
        raise FormulaError(
            "formula.argument_count", name=name, low=low, high=high, given=len(node.args)
        )
    if helper.needs_previous:
        arg = node.args[0]
        if not isinstance(arg, ast.Name):
            raise FormulaError("formula.needs_key", name=name)
        previous.setdefault(arg.id.casefold(), None)
    for arg in node.args:
        _check(arg, depth + 1, inputs, previous)


def evaluate(
    formula: Formula,
    values: Mapping[str, float],
    previous: Mapping[str, float] | None = None,
) -> float:
    """The formula's value from its inputs' values (and their previous period's for
    pct_change); `NoValue` says why there is none, `FormulaError` never escapes otherwise."""
    missing = [k for k in formula.inputs if k not in values]
    if missing:
        raise NoValue("formula.inputs_missing", keys=tuple(missing))
    before = previous or {}
    gone = [k for k in formula.previous if k not in before]
    if gone:
        raise NoValue("formula.no_previous", keys=tuple(gone))
    try:
        result = _eval(formula.tree, values, before)
    except (NoValue, FormulaError):
        raise
    except (OverflowError, ValueError, ArithmeticError):
        raise NoValue("formula.too_large") from None
    if not math.isfinite(result):
        raise NoValue("formula.not_finite")
    if abs(result) > MAX_NUMBER:  # 1.9e203 would be stored, shown and alerted on in full
        raise NoValue("formula.beyond_range")
    return result


def _eval(node: ast.expr, values: Mapping[str, float], before: Mapping[str, float]) -> float:
    if isinstance(node, ast.Constant):
        return number(node)
    if isinstance(node, ast.Name):
        return float(values[node.id.casefold()])
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, values, before)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left = _eval(node.left, values, before)
        right = _eval(node.right, values, before)
        return _binary(node.op, left, right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        helper = HELPERS[node.func.id.casefold()]
        args = [_eval(a, values, before) for a in node.args]
        if helper.needs_previous:
            assert isinstance(node.args[0], ast.Name)  # checked by parse_formula
            args.append(float(before[node.args[0].id.casefold()]))
        result = float(helper.fn(*args))
        if not math.isfinite(result):
            raise NoValue("formula.helper_not_finite", name=node.func.id)
        return result
    raise FormulaError("formula.unchecked")  # unreachable


def number(node: ast.Constant) -> float:
    """A checked constant as a float (parse_formula let only int and float through)."""
    value = node.value
    if not isinstance(value, int | float):
        raise FormulaError("formula.unchecked")
    return float(value)


def _binary(op: ast.operator, left: float, right: float) -> float:
    if isinstance(op, ast.Add):
        result = left + right
    elif isinstance(op, ast.Sub):
        result = left - right
    elif isinstance(op, ast.Mult):
        result = left * right
    elif isinstance(op, ast.Div):
        result = _div(left, right, None)
    else:
        if abs(right) > MAX_EXPONENT:
            raise NoValue("formula.exponent_too_big", exponent=right, most=MAX_EXPONENT)
        if left == 0 and right < 0:
            raise NoValue("formula.zero_to_negative_power")
        if left < 0 and not right.is_integer():
            raise NoValue("formula.fractional_power")
        result = left**right
    if not math.isfinite(result):
        raise NoValue("formula.too_large")
    return result


# --- the graph of formulas ------------------------------------------------------------------


def find_cycle(
    key: str, inputs: Iterable[str], graph: Mapping[str, Iterable[str]]
) -> tuple[str, ...] | None:
    """The loop `key` would close if it read `inputs`, given every other formula's inputs
    (`graph[k]` = keys k reads); None when there is none."""
    stack: list[tuple[str, tuple[str, ...]]] = [(i, (key, i)) for i in inputs]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        if node == key:
            return path
        if node in seen:
            continue
        seen.add(node)
        stack.extend((nxt, (*path, nxt)) for nxt in graph.get(node, ()))
    return None


def dependents_in_order(changed: Iterable[str], graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Every KPI that reads a changed one, directly or through others, inputs before users.

    `graph[k]` = keys that formula KPI k reads. The order lets a chain (revenue → margin →
    ROI) recompute each level from the level below it in one pass.
    """
    users: dict[str, list[str]] = {}
    for user, reads in graph.items():
        for read in reads:
            users.setdefault(read, []).append(user)
    affected: set[str] = set()
    stack = list(changed)
    while stack:
        for user in users.get(stack.pop(), ()):
            if user not in affected:
                affected.add(user)
                stack.append(user)
    ordered: list[str] = []
    done: set[str] = set()

    def visit(node: str, trail: frozenset[str]) -> None:
        if node in done or node in trail:
            return
        for read in graph.get(node, ()):
            if read in affected:
                visit(read, trail | {node})
        done.add(node)
        ordered.append(node)

    for node in sorted(affected):
        visit(node, frozenset())
    return ordered
