"""The embedded default: a scripted console session on a fresh data directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _console(data: Path, script: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "console", "--data", str(data), "--user", "anna", *extra],
        input=script,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_piped_demo_session_prints_each_reply_and_exits_at_end_of_input(tmp_path: Path) -> None:
    result = _console(tmp_path, "/scorecard\n/kpi\n/map\n/initiatives\n", "--demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Scorecard index" in out and "Sales from articles" in out
    assert "Strategy map" in out and "Publish articles" in out
    assert "/quit" not in out  # no interactive banner when piped


def test_demo_is_loaded_once_and_changes_persist(tmp_path: Path) -> None:
    first = _console(tmp_path, "/kpi set cac 90 spring campaign\n", "--demo")
    assert "Saved Customer acquisition cost = 90 $" in first.stdout, first.stdout + first.stderr
    second = _console(tmp_path, "/kpi cac\n", "--demo")
    assert "spring campaign" in second.stdout


def test_errors_are_one_friendly_line_and_the_session_goes_on(tmp_path: Path) -> None:
    result = _console(tmp_path, '/kpi set nothing 5\n/kpi add x "oops\nhello\n/help kpi set\n')
    lines = result.stdout.splitlines()
    assert lines[0].startswith("⚠ No KPI 'nothing'")
    assert lines[1].startswith("⚠ Unbalanced quote")
    assert lines[2].startswith("⚠ I understand commands")
    assert "/kpi set <key> <value>" in result.stdout
    assert result.returncode == 0


def test_second_console_on_the_same_data_directory_stops_with_a_clear_message(
    tmp_path: Path,
) -> None:
    from storage import open_store

    store = open_store(tmp_path)
    try:
        result = _console(tmp_path, "/kpi\n")
    finally:
        store.close()
    assert result.returncode == 2
    assert "already used by another scorecard-bot" in result.stderr
    assert "Traceback" not in result.stderr
