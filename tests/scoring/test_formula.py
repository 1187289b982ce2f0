"""The formula language of calculated KPIs: helpers, limits, escapes, cycles, order."""

from __future__ import annotations

import ast
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.formula_text import filled_in
from scoring.formula import (
    HELPERS,
    MAX_LENGTH,
    FormulaError,
    NoValue,
    check_new_formula,
    dependents_in_order,
    evaluate,
    find_cycle,
    parse_formula,
)
from tests.refusals import refuses


def value_of(text: str, previous: dict[str, float] | None = None, **values: float) -> float:
    return evaluate(parse_formula(text), values, previous)


def test_cac_is_spend_over_new_customers() -> None:
    assert value_of("spend / newc", spend=5000, newc=40) == 125


@pytest.mark.parametrize(
    "text, values, expected",
    [
        ("ratio(ltv, cac)", {"ltv": 900, "cac": 300}, 3.0),
        ("roi(revenue, cost)", {"revenue": 15000, "cost": 10000}, 50.0),
        ("nps(p, n, d)", {"p": 60, "n": 20, "d": 20}, 40.0),
        ("ltv(arpu, margin, churn)", {"arpu": 50, "margin": 60, "churn": 5}, 600.0),
        ("conversion(sql, sal)", {"sql": 200, "sal": 150}, 75.0),
        ("round(max(a, b) / 3, 2)", {"a": 1, "b": 10}, 3.33),
        ("abs(min(a, b, -4))", {"a": 1, "b": 2}, 4.0),
        ("(a + b) * 2 ** 3 - -1", {"a": 1, "b": 2}, 25.0),
        ("a × 2 ÷ 4 − 1", {"a": 10}, 4.0),
    ],
)
def test_named_helpers_and_arithmetic(
    text: str, values: dict[str, float], expected: float
) -> None:
    assert evaluate(parse_formula(text), values) == pytest.approx(expected)


def test_pct_change_reads_the_previous_period() -> None:
    assert value_of("pct_change(leads)", {"leads": 80}, leads=100) == pytest.approx(25)
    with refuses(NoValue, "previous value of leads"):
        value_of("pct_change(leads)", leads=100)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("spend / newc", "divides by zero"),
        ("ratio(spend, newc)", "ratio() divides by zero"),
        ("conversion(newc, spend)", "conversion() divides by zero"),
        ("newc ** -1", "divides by zero"),
        ("spend ** 100", "exponent (100) is above 64"),
        ("(spend * 1e15) ** 60", "too large"),
        ("(0 - spend) ** 0.5", "fractional power"),
    ],
)
def test_no_value_says_why_and_never_crashes(text: str, reason: str) -> None:
    with refuses(NoValue, re.escape(reason)):
        value_of(text, spend=5000, newc=0)


def test_a_missing_input_is_no_value_naming_it() -> None:
    with refuses(NoValue, "newc has no value"):
        value_of("spend / newc", spend=1)


ESCAPES = [
    "__import__('os').system('id')",
    "().__class__.__bases__[0].__subclasses__()",
    "spend.__class__",
    "'{0.__class__.__bases__}'.format(spend)",
    "f'{spend.__class__}'",
    "[x for x in (1, 2)]",
    "(lambda: 1)()",
    "eval('1')",
    "exec('x=1')",
    "open('/etc/passwd')",
    "getattr(spend, 'real')",
    "globals()",
    "spend if spend else 1",
    "spend < 1",
    "spend and 1",
    "not spend",
    "spend[0]",
    "min(*spend)",
    "round(spend, ndigits=2)",
    "b'abc'",
    "'text'",
    "True + 1",
    "None",
    "spend := 1",
    "(yield)",
    "await spend",
    "spend; 1",
    "9 ** 9 ** 9 ** 9",
    "_secret",
    "1 if 1 else 2",
    "{1: 2}",
    "{1, 2}",
    "...",
    "1j",
    "ratio.__globals__",
    "ltv(1, 2)",
    "max",
]


@pytest.mark.parametrize("payload", ESCAPES)
def test_known_escape_payloads_are_refused_when_set(payload: str) -> None:
    try:
        formula = parse_formula(payload)
    except FormulaError:
        return
    # the few that parse (9**9**9**9) must still evaluate to no value, not run away
    with pytest.raises(NoValue):
        evaluate(formula, {})


def test_huge_numbers_are_refused_not_converted() -> None:
    with refuses(FormulaError, "below 10\\^15"):
        parse_formula("1" * 400)
    with refuses(FormulaError, "min\\(\\) takes 1 to 8 arguments, not 0"):
        parse_formula("min()")
    with refuses(FormulaError, "round\\(\\) takes 1 or 2 arguments"):
        parse_formula("round(1, 2, 3)")


def test_size_and_nesting_are_bounded_before_and_after_parsing() -> None:
    with refuses(FormulaError, "too long"):
        parse_formula("a + " * (MAX_LENGTH // 4) + "a")
    assert parse_formula("(" * 150 + "a" + ")" * 150).inputs == ("a",)  # brackets are free
    with refuses(FormulaError, "too long"):
        parse_formula("(" * 300 + "a" + ")" * 300)
    with refuses(FormulaError, "nests too deeply"):
        parse_formula("abs(" * 40 + "a" + ")" * 40)
    with refuses(FormulaError, "too big"):
        parse_formula("+".join(["a"] * 150))
    with refuses(FormulaError, "nests too deeply"):
        parse_formula("-" * 40 + "a")


def test_the_formula_is_shown_with_its_inputs_filled_in() -> None:
    formula = parse_formula("ratio(ltv, cac) * (1 - churn)")
    assert filled_in(formula, {"ltv": 900, "cac": 300, "churn": -0.5}) == (
        "ratio(900, 300) × (1 − (−0.5))"
    )


def test_keys_are_case_insensitive_and_listed_once_in_order() -> None:
    assert parse_formula("Spend / NEWC + spend").inputs == ("spend", "newc")


def test_a_cycle_is_found_through_other_formulas() -> None:
    graph = {"margin": ("revenue", "cost"), "roi": ("margin", "spend")}
    assert find_cycle("revenue", ("roi",), graph) == ("revenue", "roi", "margin", "revenue")
    assert find_cycle("revenue", ("cost",), graph) is None


def test_dependents_are_ordered_inputs_before_users() -> None:
    graph = {"c": ("b",), "b": ("a",), "d": ("a", "c"), "e": ("x",)}
    order = dependents_in_order(["a"], graph)
    assert set(order) == {"b", "c", "d"}
    assert order.index("b") < order.index("c") < order.index("d")


# --- properties --------------------------------------------------------------------------

_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.Call,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.UAdd,
    ast.USub,
)
_ATOMS = st.sampled_from(
    [
        "a",
        "b",
        "0",
        "1",
        "2.5",
        "1e308",
        "-3",
        "'s'",
        "a.b",
        "a[0]",
        "x()",
        "__import__",
        "1" * 40,
        "0x1F",
        "True",
    ]
)
_OPS = st.sampled_from(["+", "-", "*", "/", "**", "%", "//", "<", "and", "if a else", "@"])


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> str:
    """Python-ish expressions mixing allowed and forbidden constructs."""
    if depth > 4 or draw(st.booleans()):
        return draw(_ATOMS)
    kind = draw(st.sampled_from(["binop", "unary", "call", "paren", "attr"]))
    if kind == "binop":
        return f"{draw(expressions(depth + 1))} {draw(_OPS)} {draw(expressions(depth + 1))}"
    if kind == "unary":
        return f"{draw(st.sampled_from(['-', '+', 'not ', '~']))}{draw(expressions(depth + 1))}"
    if kind == "call":
        name = draw(st.sampled_from([*HELPERS, "eval", "getattr", "print"]))
        args = draw(st.lists(expressions(depth + 1), min_size=0, max_size=3))
        return f"{name}({', '.join(args)})"
    if kind == "attr":
        return f"({draw(expressions(depth + 1))}).{draw(st.sampled_from(['real', '__class__']))}"
    return f"({draw(expressions(depth + 1))})"


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(expressions(), st.text(max_size=80)), a=st.floats(), b=st.floats())
def test_evaluator_raises_only_its_own_errors_and_accepts_only_the_allow_list(
    text: str, a: float, b: float
) -> None:
    try:
        formula = parse_formula(text)
    except FormulaError:
        return
    for node in ast.walk(
        ast.parse(formula.text.replace("×", "*").replace("÷", "/").replace("−", "-"), mode="eval")
    ):
        assert isinstance(node, _ALLOWED), ast.dump(node)
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name) and node.func.id.casefold() in HELPERS
    values = {"a": a, "b": b}
    try:
        result = evaluate(formula, values, values)
    except (NoValue, FormulaError):
        return
    assert math.isfinite(result)


def test_round_decimals_from_values_give_no_value_and_written_ones_are_refused() -> None:
    formula = parse_formula("round(a, b)")
    assert evaluate(formula, {"a": 1.234, "b": 1}) == 1.2
    for decimals in (20, -1, 1.5):
        with pytest.raises(NoValue) as caught:
            evaluate(formula, {"a": 1.234, "b": decimals})
        assert caught.value.code == "formula.round_decimals_value"
    stored = parse_formula("round(a, 20)")  # a formula stored before the rule still reads
    with pytest.raises(NoValue):
        evaluate(stored, {"a": 1.0})
    for text in ("round(a, 20)", "round(a, -1)", "round(a, 0.5)", "round(a, 1 / 0)"):
        with refuses(FormulaError, "round\\(\\) takes 0 to 10 decimals"):
            check_new_formula(parse_formula(text))
    for text in ("round(a, 2)", "round(a, 5 + 5)", "round(a, b)", "round(a)"):
        check_new_formula(parse_formula(text))


def test_written_out_exponents_beyond_64_are_refused_when_set_and_stored_ones_still_read() -> None:
    for text, shown in (("spend ** 100", "100"), ("spend ** -65", "−65"), ("2 ** (8 * 9)", "72")):
        with refuses(FormulaError, f"^The exponent {shown} is out of range: a formula's "):
            check_new_formula(parse_formula(text))
    for text in ("spend ** 64", "spend ** -2", "spend ** 0.5", "spend ** x", "2 ** spend"):
        check_new_formula(parse_formula(text))
    with pytest.raises(NoValue) as caught:  # a formula stored before the rule still reads
        evaluate(parse_formula("spend ** 100"), {"spend": 2.0})
    assert caught.value.code == "formula.exponent_too_big"
