"""A table row with a Hebrew or Arabic name keeps its columns left to right, and invisible
marks take no column.

A row's direction follows its first letter: "🟢 مبيعات الشهر (rtl)  123  100" was shown
mirrored by chat clients (the value columns on the left), and "Lea<ZWSP>ds" pushed its row's
columns one place right.
"""

from __future__ import annotations

from handlers.contract import Table
from tests.support import FakeChat

#: A first-strong isolate around the right-to-left words: their direction stays inside
FSI, PDI = "\u2068", "\u2069"


def test_a_right_to_left_cell_is_isolated_and_columns_line_up() -> None:
    table = Table(
        columns=("KPI", "value"),
        rows=(("🟢 مبيعات الشهر (rtl)", "123"), ("🟡 Lea\u200bds (zw)", "5"), ("CAC", "95 $")),
        align=("l", "r"),
    )
    assert table.render().split("\n") == [
        "KPI                    value",
        f"🟢 {FSI}مبيعات الشهر{PDI} (rtl)    123",
        "🟡 Lea\u200bds (zw)              5",
        "CAC                     95 $",
    ]  # 28 columns each: the emoji take two, the marks and isolates none


async def test_kpi_rows_of_a_hebrew_name_start_left_to_right(chat: FakeChat) -> None:
    await chat.ok('/kpi add heb "מכירות" target=100 perspective=finance')
    await chat.ok("/kpi set heb 70 אחרי הקמפיין")
    rows = (await chat.ok("/kpi")).split("\n")
    assert rows[3].startswith(f"🟡 {FSI}מכירות{PDI} (heb)")
    history = (await chat.ok("/kpi history heb")).split("\n")
    assert history[2].endswith(f"@anna  {FSI}אחרי הקמפיין{PDI}")
