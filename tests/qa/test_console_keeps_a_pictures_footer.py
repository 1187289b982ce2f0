"""The console prints where it saved a picture or a file beside the reply's footer, not in
its place.

A `/digest` with a chart lost its footer ("Details: … · Scheduled every day 09:00"): the
console wrote "(picture saved to …)" over it.
"""

from __future__ import annotations

import io
from pathlib import Path

from bot.adapters.console import ConsoleAdapter
from handlers.contract import Document, Image, Reply


def _console(tmp_path: Path, out: io.StringIO) -> ConsoleAdapter:
    async def nothing(cmd: object) -> list[Reply]:
        return []

    return ConsoleAdapter(
        nothing, user="anna", stdout=out, image_dir=tmp_path / "p", file_dir=tmp_path / "f"
    )


async def _printed(reply: Reply, tmp_path: Path) -> str:
    out = io.StringIO()
    await _console(tmp_path, out).send(reply)
    return out.getvalue()


async def test_a_pictures_footer_stays_and_the_path_follows_it(tmp_path: Path) -> None:
    digest = Reply(
        title="Daily review · Tue 01 Dec",
        text="Index: 57%",
        footer="Details: /scorecard, /kpi · Scheduled every day 09:00",
        image=Image(data=b"\x89PNG\r\n\x1a\n", filename="cac.png"),
        kind="digest",
    )
    assert await _printed(digest, tmp_path) == (
        "🔔 Daily review · Tue 01 Dec\n"
        "Index: 57%\n"
        "Details: /scorecard, /kpi · Scheduled every day 09:00\n"
        f"(picture saved to {tmp_path / 'p' / 'cac.png'})\n"
    )


async def test_a_files_footer_stays_too_and_a_bare_one_is_just_the_path(tmp_path: Path) -> None:
    export = Reply(
        title="Scorecard export",
        footer="Import it elsewhere with /scorecard import",
        document=Document(data=b"{}", filename="s.json"),
    )
    assert await _printed(export, tmp_path) == (
        "Scorecard export\n"
        "Import it elsewhere with /scorecard import\n"
        f"(file saved to {tmp_path / 'f' / 's.json'})\n"
    )
    bare = Reply(image=Image(data=b"\x89PNG\r\n\x1a\n", filename="map.png"))
    assert await _printed(bare, tmp_path) == f"(picture saved to {tmp_path / 'p' / 'map.png'})\n"


async def test_a_second_picture_of_one_name_is_saved_beside_the_first(tmp_path: Path) -> None:
    out = io.StringIO()
    adapter = _console(tmp_path, out)
    for data in (b"first", b"second", b"third"):
        await adapter.send(Reply(image=Image(data=data, filename="cac.png")))
    folder = tmp_path / "p"
    assert out.getvalue() == "".join(
        f"(picture saved to {folder / name})\n" for name in ("cac.png", "cac-2.png", "cac-3.png")
    )
    assert [(folder / n).read_bytes() for n in ("cac.png", "cac-2.png", "cac-3.png")] == [
        b"first",
        b"second",
        b"third",
    ]
