"""A sheet pasted or attached to `/kpi import` is read by its header's column names (probe14).

A sheet exported with its date first (`date,kpi,value`) was refused line by line ("No KPI
'date'", "No KPI '2026-11-01'") where `/scorecard import` took the same file; an empty
value cell (a day without data) was reported as "'2026-11-01' is not a number", the next
cell moved into its place; a header saved with a byte-order mark was taken for a value
line ("No KPI 'kpi'"); and a note column was refused as "unexpected 'after the campaign'"
on every line, as if the words were a typo.
"""

from __future__ import annotations

import pytest

from tests.support import FakeChat, attach

CAC = '/kpi add cac "CAC" baseline=120 target=80 unit=€ perspective=finance'


async def _preview(chat: FakeChat, sheet: str) -> str:
    await chat.ok(CAC)
    [reply] = await chat.say(f"/kpi import\n{sheet}")
    return reply.plain()


@pytest.mark.parametrize(
    "sheet",
    [
        "date,kpi,value\n2026-11-01,cac,95\n2026-11-02,cac,97",
        "Day;Value;KPI\n2026-11-01;95;cac\n2026-11-02;97;cac",
        "value\tkey\tdate\n95\tcac\t2026-11-01\n97\tcac\t2026-11-02",
        "\ufeffkpi,value,date\ncac,95,2026-11-01\ncac,97,2026-11-02",
        "Datum;KPI;Wert\n2026-11-01;cac;95\n2026-11-02;cac;97",  # a German sheet
        "dato;nøgletal;værdi\n2026-11-01;cac;95\n2026-11-02;cac;97",  # a Danish one
        "дата;показатель;значение\n2026-11-01;cac;95\n2026-11-02;cac;97",
        # an empty column kept where the sheet had one: the names keep their places
        "date;;kpi;value\n2026-11-01;;cac;95\n2026-11-02;;cac;97",
        "kpi;;date\ncac;95;2026-11-01\ncac;97;2026-11-02",  # the value column unnamed
    ],
)
async def test_columns_are_taken_by_their_names(chat: FakeChat, sheet: str) -> None:
    assert (await _preview(chat, sheet)).startswith(
        "Import preview: 2 values for 1 KPI\nCAC (cac) ×2: 95 € (2026-11-01), 97 € (2026-11-02)\n"
    )


async def test_a_sheet_without_a_date_column_dates_its_values_today(chat: FakeChat) -> None:
    assert "CAC (cac) ×1: 95 € (2026-11-21)" in await _preview(chat, "value,kpi\n95,cac")


async def test_an_empty_value_cell_is_named_as_one(chat: FakeChat) -> None:
    await chat.ok(CAC)
    assert await chat.error("/kpi import\nkpi,value,date\ncac,,2026-11-01\ncac,90,2026-11-02") == (
        "1 line(s) need fixing, nothing was imported: line 2: the value cell is empty "
        "(type the value, or leave the line out)"
    )


async def test_a_note_column_says_where_notes_are_kept(chat: FakeChat) -> None:
    await chat.ok(CAC)
    assert await chat.error(
        "/kpi import\nkpi,value,date,note\ncac,95,2026-11-01,after the campaign"
    ) == (
        "1 line(s) need fixing, nothing was imported: line 1: /kpi import reads the "
        "columns kpi, value and date, not note: attach the sheet to /scorecard import, "
        "which keeps each value's note, or leave the column out"
    )


async def test_an_attached_sheet_is_read_the_same_way(chat: FakeChat) -> None:
    await chat.ok(CAC)
    [reply] = await attach(chat, "kpi", b"date;kpi;value\n2026-11-01;cac;95,5\n")
    assert "CAC (cac) ×1: 95.5 € (2026-11-01)" in reply.plain()


async def test_scorecard_import_reads_the_same_column_names(chat: FakeChat) -> None:
    """`/kpi import` read `Datum;KPI;Wert` and `/scorecard import` refused it ("expected a
    scorecard export or a header kpi,value,date[,note]"): one list of column names."""
    await chat.ok(CAC)
    sheet = b"Datum;KPI;Wert;Notiz\n2026-11-01;cac;95,5;nach der Kampagne\n"
    [preview] = await attach(chat, "scorecard", sheet)
    assert "values: 1 new" in preview.plain()
    await chat.ok(preview.buttons[0].command)
    assert "2026-11-01  95.5 €  @anna  nach der Kampagne" in await chat.ok("/kpi history cac")
