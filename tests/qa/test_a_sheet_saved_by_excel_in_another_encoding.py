"""A sheet saved in another encoding than UTF-8 is read when it says which, and refused
whole, saying how to save it, when it does not (probe14).

Excel's "CSV" on Windows is saved in the system's code page (cp1252 in Germany, cp1251 in
Russia), and its "Unicode Text" in UTF-16. `/kpi import` read those bytes as UTF-8 with
replacement marks and refused them line by line with the garbage quoted ("'95,5 �' is
not a number", "'����' is not a valid KPI key", a UTF-16 sheet's NUL bytes in the
message), where `/scorecard import` said "the file is not UTF-8 text" of the same file.
"""

from __future__ import annotations

import pytest

from tests.support import FakeChat, attach

NOT_UTF8 = (
    "v.csv is not UTF-8 text: save it as CSV UTF-8 (Excel: Save As → CSV UTF-8) and send it again."
)


async def _import(chat: FakeChat, name: str, data: bytes) -> list[str]:
    return [reply.plain() for reply in await attach(chat, name, data)]


@pytest.mark.parametrize(
    "data",
    [
        "kpi;value;date\ncac;95,5 €;2026-11-01\n".encode("cp1252"),
        "kpi;value;date\nлиды;120;2026-11-01\n".encode("cp1251"),
    ],
)
async def test_a_sheet_that_is_not_utf8_is_refused_whole(chat: FakeChat, data: bytes) -> None:
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 unit=€ perspective=finance')
    await chat.ok('/kpi add лиды "Лиды" target=300 perspective=customers')
    assert await _import(chat, "kpi", data) == [NOT_UTF8]
    assert await _import(chat, "scorecard", data) == [
        "Import refused, nothing was changed: 1 problem\n"
        f"file: the file {NOT_UTF8.removeprefix('v.csv ').removesuffix('.')}"
    ]


async def test_a_utf16_sheet_is_read(chat: FakeChat) -> None:
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 unit=€ perspective=finance')
    data = "kpi\tvalue\tdate\ncac\t95,5\t2026-11-01\n".encode("utf-16")  # with its BOM
    [preview] = await _import(chat, "kpi", data)
    assert "CAC (cac) ×1: 95.5 € (2026-11-01)" in preview
