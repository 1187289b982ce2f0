"""A checked formula written with its inputs' values: `ratio(900, 300) × (1 − (−0.5))`.

scoring.formula parses and evaluates; this is how `explain` shows the arithmetic, with the
operators as people write them and every number through the one formatter.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

from handlers.render import num
from scoring.formula import Formula, number

_BINARY: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "−",
    ast.Mult: "×",
    ast.Div: "/",
    ast.Pow: "^",
}
_UNARY: dict[type[ast.unaryop], str] = {ast.UAdd: "+", ast.USub: "−"}


def filled_in(formula: Formula, values: Mapping[str, float]) -> str:
    """The formula with each input's value in place of its key: `5000 / 40`."""
    return _show(formula.tree, values, top=True)


def _show(node: ast.expr, values: Mapping[str, float], *, top: bool = False) -> str:
    if isinstance(node, ast.Constant):
        return num(number(node))
    if isinstance(node, ast.Name):
        value = values.get(node.id.casefold())
        if value is None:
            return "?"
        text = num(value)
        return f"({text})" if value < 0 else text
    if isinstance(node, ast.UnaryOp):
        return f"{_UNARY[type(node.op)]}{_show(node.operand, values)}"
    if isinstance(node, ast.BinOp):
        left = _show(node.left, values)
        if isinstance(node.op, ast.Pow) and isinstance(node.left, ast.UnaryOp):
            left = f"({left})"  # (−51) ^ 0.5, not −51 ^ 0.5 (which reads as −(51 ^ 0.5))
        text = f"{left} {_BINARY[type(node.op)]} {_show(node.right, values)}"
        return text if top else f"({text})"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        args = ", ".join(_show(a, values, top=True) for a in node.args)
        return f"{node.func.id}({args})"
    return "?"
