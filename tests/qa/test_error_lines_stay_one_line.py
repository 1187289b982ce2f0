"""A refusal is one line even when it quotes a quoted word typed across lines.

`/kpi set "ca<newline>c" 5` answered "'ca" and "c' is not a valid KPI key…" on two lines (a
Slack or Telegram client shows a broken, half-quoted message).
"""

from __future__ import annotations

import pytest

from tests.support import FakeChat


@pytest.mark.parametrize(
    ("typed", "line"),
    [
        (
            '/kpi set "ca\nc" 5',
            "'ca c' is not a valid KPI key: use letters, digits, '-', '_' or '.', "
            "up to 40 characters, e.g. cac or лиды",
        ),
        ('/digest "x\r\ny"', "Unknown /digest option 'x y'. Try /digest every or /digest off."),
        (
            '/kpi set cac "9\u20285"',
            "'9 5' is not a number for cac: try 12.5, 12,5, 10 000, 10k or 35%",
        ),
    ],
)
async def test_a_quoted_line_break_is_quoted_as_a_space(
    chat: FakeChat, typed: str, line: str
) -> None:
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    assert await chat.error(typed) == line
