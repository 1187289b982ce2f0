"""`scorecard-bot export|import`: the same files from the shell, checked and applied once."""

from __future__ import annotations

import asyncio
import shlex
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from bot.app import build_core
from bot.cli import main
from bot.demo import load_demo
from handlers import exchange


def _demo_store(path: Path) -> None:
    core = build_core(path)
    try:
        with core.store.atomic():
            load_demo(core.store, "console:local", datetime.now(UTC))
        asyncio.run(core.store.commit())
    finally:
        core.close()


def test_export_then_import_into_another_chat_gives_the_same_scorecard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, out = tmp_path / "data", tmp_path / "card.json"
    _demo_store(data)
    assert main(["export", "--data", str(data), "--format", "json", "--output", str(out)]) == 0
    assert main(["import", str(out), "--data", str(data), "--chat", "slack:C1", "--yes"]) == 0
    printed = capsys.readouterr().out
    assert "KPIs: 7 new" in printed and "Imported " in printed
    assert main(["export", "--data", str(data), "--chat", "slack:C1"]) == 0
    again = orjson.loads(capsys.readouterr().out)
    first = orjson.loads(out.read_bytes())
    assert (again["alerts"]["chat"], first["alerts"]["chat"]) == ("slack:C1", "console:local")
    assert exchange.sections_of(again) == exchange.sections_of(first)


def test_problems_are_listed_and_all_or_nothing_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, sheet = tmp_path / "data", tmp_path / "values.csv"
    _demo_store(data)
    sheet.write_text("kpi,date,value\ncac,2026-01-05,90\nnope,2026-01-05,1\ncac,2026-01-06,x\n")
    args = ["import", str(sheet), "--data", str(data), "--yes"]
    assert main([*args, "--all-or-nothing"]) == 1
    printed = capsys.readouterr().out
    assert printed.splitlines() == [
        "problem: line 3, kpi: no KPI 'nope'",
        "problem: line 4, value: 'x' is not a number for value: try 12.5, 12,5, 10 000, 10k "
        "or 35%",
        "2 problem(s): nothing was changed.",
    ]
    assert main(args) == 0  # keep good rows
    assert capsys.readouterr().out.splitlines()[-1] == (
        "Imported 1 record into console:local, skipping 2 with problems."
    )


def test_import_asks_before_applying(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, sheet = tmp_path / "data", tmp_path / "values.csv"
    _demo_store(data)
    sheet.write_text("kpi,date,value\ncac,2026-01-05,90\n")
    assert main(["import", str(sheet), "--data", str(data)]) == 1  # stdin is not a terminal
    assert capsys.readouterr().out.endswith("Nothing was changed.\n")


def test_the_readme_shell_examples_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Export and import files", 1)[1].split("###", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    _demo_store(tmp_path / "data")
    (tmp_path / "values.csv").write_text("kpi,date,value,note\ncac,2026-01-05,90,from BI\n")
    lines = [shlex.split(line) for line in block.splitlines() if line.strip()]
    assert [words[:2] for words in lines] == [
        ["scorecard-bot", "export"],
        ["scorecard-bot", "import"],
        ["scorecard-bot", "import"],
    ]
    assert [main(words[1:]) for words in lines] == [0, 0, 0]
    assert capsys.readouterr().out.splitlines()[-1] == "Imported 1 record into console:local."
