"""scoring refuses with codes and data; handlers.messages holds every word of those lines."""

from __future__ import annotations

import ast
import builtins
import importlib
import pickle
import string
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from handlers.messages import MESSAGES, say, validation_text
from handlers.render import PACE_WORD
from scoring.alert_policy import AlertPolicy
from scoring.errors import KpiDefinitionError, ScoringError
from scoring.formula import NoValue, evaluate, parse_formula
from scoring.okr import Pace
from scoring.rollup import check_weight

SCORING = Path(__file__).resolve().parents[2] / "scoring"


def _exceptions_in(namespace: dict[str, object]) -> set[str]:
    return {n for n, v in namespace.items() if isinstance(v, type) and issubclass(v, Exception)}


def _exception_names() -> set[str]:
    """Every name in scoring/ (or builtins) that is an exception class."""
    names = _exceptions_in(vars(builtins))
    for path in SCORING.glob("*.py"):
        names |= _exceptions_in(vars(importlib.import_module(f"scoring.{path.stem}")))
    return names


def _error_calls() -> list[tuple[str, ast.Call]]:
    """(file, call) for every exception constructed in scoring/, raised or returned."""
    exceptions = _exception_names()
    calls: list[tuple[str, ast.Call]] = []
    for path in sorted(SCORING.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in exceptions
            ):
                calls.append((f"{path.name}:{node.lineno}", node))
    return calls


def _code(call: ast.Call) -> str | None:
    first = call.args[0] if call.args else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def _raised_codes() -> dict[str, list[ast.Call]]:
    codes: dict[str, list[ast.Call]] = {}
    for _, call in _error_calls():
        code = _code(call)
        if code is not None:
            codes.setdefault(code, []).append(call)
    return codes


def _passed_codes() -> set[str]:
    """Codes handed to a raise site through a `code` parameter (periods.require_aware):
    the parameter's default and every string its callers pass in that place."""
    found: set[str] = set()
    for path in SCORING.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                args = node.args.args[len(node.args.args) - len(node.args.defaults) :]
                found |= {
                    str(d.value)
                    for a, d in zip(args, node.args.defaults, strict=True)
                    if a.arg == "code" and isinstance(d, ast.Constant)
                }
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "require_aware":
                found |= {str(a.value) for a in node.args[1:] if isinstance(a, ast.Constant)}
    return found


def test_scoring_raises_no_english_sentences_only_codes() -> None:
    for where, call in _error_calls():
        for arg in [*call.args, *(k.value for k in call.keywords)]:
            assert not isinstance(arg, ast.JoinedStr), f"{where}: an f-string sentence"
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                assert " " not in arg.value, f"{where}: {arg.value!r} is words, not a code"
        if call.args and _code(call) is None:
            # only require_aware passes its code through a parameter
            assert isinstance(call.args[0], ast.Name) and call.args[0].id == "code", where


def test_every_code_scoring_raises_has_a_line_in_the_catalogue() -> None:
    raised = _raised_codes()
    assert raised, "the AST walk found no raise sites"
    assert _passed_codes() == {"time.naive", "time.naive_current"}
    assert set(raised) | _passed_codes() <= set(MESSAGES)


def test_every_line_in_the_catalogue_is_raised_somewhere() -> None:
    assert set(MESSAGES) == set(_raised_codes()) | _passed_codes()


def test_every_template_uses_only_data_its_raise_sites_give() -> None:
    for code, calls in _raised_codes().items():
        template = MESSAGES[code]
        if callable(template):
            continue
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        for call in calls:
            if any(k.arg is None for k in call.keywords):  # **data built just before
                continue
            given = {k.arg for k in call.keywords}
            assert fields <= given, f"{code}: the template needs {fields - given}"


def test_numbers_in_a_refusal_are_written_like_every_other_number() -> None:
    error = ScoringError("weight.negative", what="objective 'x'", weight=-12500.5)
    assert say(error) == "The weight of objective 'x' must be 0 or more, not −12 500.5."


@pytest.mark.parametrize(
    ("formula", "values", "line"),
    [
        ("a / b", {"a": 1}, "b has no value"),
        ("a / b", {}, "a, b have no value"),
        ("ratio(a, b)", {"a": 1, "b": 0}, "ratio() divides by zero"),
        ("a / b", {"a": 1, "b": 0}, "the formula divides by zero"),
        ("a ** 100", {"a": 2}, "the exponent (100) is above 64"),
        ("a ** b", {"a": 2, "b": 1e12}, "the exponent is above 64"),
    ],
)
def test_a_formula_without_a_value_says_why_in_words(
    formula: str, values: dict[str, float], line: str
) -> None:
    with pytest.raises(NoValue) as caught:
        evaluate(parse_formula(formula), values)
    assert say(caught.value) == line


def test_the_error_itself_carries_no_words_for_the_logs() -> None:
    error = ScoringError("alert.not_a_duration", text="my secret text")
    assert str(error) == "alert.not_a_duration"
    assert "secret" not in repr(error.args)


def test_a_pydantic_refusal_from_a_scoring_validator_keeps_pydantics_shape() -> None:
    with pytest.raises(ValidationError) as caught:
        AlertPolicy(repeat=timedelta(0))
    problem = caught.value.errors()[0]
    assert validation_text(problem) == "Value error, repeat must be positive"


def test_a_pydantic_refusal_of_its_own_is_left_as_pydantic_wrote_it() -> None:
    with pytest.raises(ValidationError) as caught:
        AlertPolicy(confirm=0)
    problem = caught.value.errors()[0]
    assert validation_text(problem) == problem["msg"]


def test_a_refusal_survives_a_pickle_round_trip_with_its_data() -> None:
    error = KpiDefinitionError("kpi.weight_negative", key="k", weight=-1.5)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is KpiDefinitionError
    assert say(copy) == say(error)


def test_every_pace_verdict_has_its_words_in_handlers() -> None:
    assert set(PACE_WORD) == set(Pace)
    assert [PACE_WORD[p] for p in Pace] == ["on track", "behind", "at risk"]


def test_a_whole_number_weight_is_written_with_a_real_minus_like_before() -> None:
    with pytest.raises(ScoringError) as caught:
        check_weight(-1, "objective 'x'")
    assert say(caught.value) == "The weight of objective 'x' must be 0 or more, not −1."
