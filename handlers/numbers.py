"""The one way numbers and percentages are written, everywhere the bot shows them.

`/kpi`, `/scorecard`, `/map`, `explain`, `/alerts`, alert texts, digests, charts and the
refusals of handlers.messages all format through this module (handlers use it as
`handlers.render.num` / `.pct`), so a value or a percent reads the same in every reply and
picture. scoring keeps numbers as numbers; only the float error it forgives (`EPS`, the
colour rule's) is shared from scoring.status.

* `format_number`: `10 000`, `12.5`, `0.25`, `−5`: thousands grouped with a space, at
  most two decimals (one from 100 on), trailing zeros dropped, a real minus sign, never
  scientific notation (`1e-05`, `2.5e+20`); values below 1 keep two significant digits
  (`0.023`, `0.0012`).
* `format_percent`: the whole percent *reached*, cut toward zero (79.97 % → 79 %) and
  grouped like any number (`1 250%`), so a percent never contradicts a colour at a
  threshold: the status rules
  (scoring.status) forgive the same float error (`EPS`) and nothing more.
* `format_percent_exact`: two decimals, cut the same way (79.666… % → 79.66 %), for
  thresholds that are not whole percents.
* `format_typed`: a number as a command takes it back in a chat (`14500`, `14.125`, and
  `14,125` where a dot groups thousands): no grouping, no exponent.
* `format_percent_explained`: the whole percent, then the decimals when there are any
  (`79% (79.66%)`), as `explain` prints every percent.
"""

from __future__ import annotations

import math
from decimal import Decimal

from scoring.tolerance import EPS

__all__ = [
    "EPS",
    "format_number",
    "format_percent",
    "format_percent_exact",
    "format_percent_explained",
    "format_typed",
    "whole_percent",
]

_MINUS = "−"


def format_number(value: float | None, unit: str = "") -> str:
    """12.5, 10 000, 0.25, −5 (with `unit`: `95 $`, `12%`); None is `—`."""
    if value is None:
        return "—"
    if not math.isfinite(value):
        return str(value)
    size = abs(value)
    if float(value).is_integer():
        if size < 1000:  # most values typed (`95`, `−5`): nothing to group, no point to cut
            return _with_unit(str(int(value)).replace("-", _MINUS), unit)
        decimals = 0
    elif size >= 100:
        decimals = 1
    elif size >= 1:
        decimals = 2
    else:  # below 1: at least two significant digits, written out in full (0.0012)
        decimals = min(max(2, 1 - math.floor(math.log10(size))), 12)
    text = f"{value:,.{decimals}f}".replace(",", " ")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", "0"):
        text = "0"
    return _with_unit(text.replace("-", _MINUS), unit)


def format_typed(number: Decimal, dots_group: bool) -> str:
    """`14500`, `14.125`: `number` as a command takes it, no grouping, no exponent; its
    decimal mark a comma where a dot groups thousands (`dots_group`: `14,125`, since
    `14.125` reads as fourteen thousand there)."""
    text = format(number.normalize(), "f")
    return text.replace(".", ",") if dots_group else text


def _with_unit(text: str, unit: str) -> str:
    """A written number and its unit: `12%` and `5‰` glued, `95 $` after a space."""
    if not unit:
        return text
    return f"{text}{unit}" if unit in ("%", "‰") else f"{text} {unit}"


def _cut(percent: float, decimals: int) -> float:
    """`percent` cut toward zero to `decimals`, forgiving float error (EPS of a share)."""
    scale = float(10**decimals)
    percent = max(min(percent, 1e15), -1e15)  # old stored data: a percent past any float
    magnitude = math.floor(abs(percent) * scale + EPS * 100 * scale) / scale
    return magnitude if percent >= 0 else -magnitude


def whole_percent(share: float) -> int:
    """The whole percent a finite share reached (cut toward zero): 0.7997 → 79, −0.2 → −20.

    Differences of percents (a digest's "▲ 3 pts") subtract these, so they add up with
    the percents shown next to them.
    """
    return int(_cut(share * 100, 0))


def format_percent(share: float | None) -> str:
    """A share as the whole percent reached: 0.5 → 50%, 0.7997 → 79%, −0.2 → −20%."""
    if share is None:
        return "—"
    if not math.isfinite(share):
        return str(share)
    whole = whole_percent(share)
    if 0 <= whole < 1000:  # what `format_number` writes of it: no group, no sign
        return f"{whole}%"
    return format_number(whole, "%")  # grouped like any number: 1 200%


def format_percent_exact(share: float) -> str:
    """A share with two decimals, cut like `format_percent`: 0.79666 → 79.66%, 0.8 → 80%."""
    if not math.isfinite(share):
        return str(share)
    value = _cut(share * 100, 2)
    text = f"{value:,.2f}".replace(",", " ").rstrip("0").rstrip(".")
    if text in ("-0", "0"):
        text = "0"
    return f"{text}%".replace("-", _MINUS)


def format_percent_explained(share: float) -> str:
    """The whole percent reached, then its decimals when it has any: `79% (79.66%)`, `80%`."""
    whole, exact = format_percent(share), format_percent_exact(share)
    return whole if whole == exact else f"{whole} ({exact})"
