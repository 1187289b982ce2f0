"""A values sheet saved with `;` or tabs (a spreadsheet in a decimal-comma locale) is read by
`/scorecard import` as `/kpi import` reads it: one rule tells the columns apart.

`/scorecard import` refused the semicolon sheet `/kpi import` accepted ("expected a
scorecard export or a header kpi,value,date[,note]").
"""

from __future__ import annotations

from datetime import date

import pytest

from handlers.parsing import sheet_delimiter
from tests.handlers.test_files import send_file
from tests.support import FakeChat

SHEETS = {
    "semicolons": "kpi;value;date\nleads;120,5;2026-11-01\nleads;1 234;02.11.2026\n",
    "tabs": "kpi\tvalue\tdate\nleads\t120,5\t2026-11-01\nleads\t1 234\t02.11.2026\n",
    "commas": 'kpi,value,date\nleads,"120,5",2026-11-01\nleads,1 234,02.11.2026\n',
}


@pytest.mark.parametrize("kind", SHEETS)
async def test_both_imports_read_the_same_sheet_to_the_same_values(
    chat: FakeChat, kind: str
) -> None:
    await chat.ok('/kpi add leads "Leads" target=2000 perspective=customers')
    sheet = SHEETS[kind]
    pasted = await chat.say(f"/kpi import\n{sheet}")
    assert pasted[0].kind == "answer", pasted[0].plain()
    await chat.ok(pasted[0].buttons[0].command)
    by_paste = [(m.day, m.value) for m in chat.core.store.kpis.history(chat.chat.key, "leads")]
    assert sorted(by_paste) == [(date(2026, 11, 1), 120.5), (date(2026, 11, 2), 1234.0)]
    await chat.ok("/kpi unset leads 2026-11-01")
    await chat.ok("/kpi unset leads 2026-11-02")
    filed = (await send_file(chat, sheet.encode(), "values.csv"))[0]
    assert filed.kind == "answer", filed.plain()
    assert filed.plain().splitlines()[1] == "values: 2 new"
    await chat.ok(filed.buttons[0].command)
    by_file = [(m.day, m.value) for m in chat.core.store.kpis.history(chat.chat.key, "leads")]
    assert by_file == by_paste


@pytest.mark.parametrize(
    ("line", "delimiter"),
    [
        ("kpi;value;date", ";"),
        ("kpi\tvalue\tdate", "\t"),
        ("kpi,value,date", ","),
        ('cac,"1,000",2026-11-01', ","),
        ('cac "1,000"', ","),
        ("cac 1,000 2026-11-01", None),
        ("cac 95", None),
    ],
)
def test_one_rule_tells_the_columns_apart(line: str, delimiter: str | None) -> None:
    assert sheet_delimiter(line) == delimiter
