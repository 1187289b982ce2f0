"""The embedded default: a scripted console session on a fresh data directory."""

from __future__ import annotations

import io
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from handlers.contract import Command

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


class _ClosedPipe(io.StringIO):
    """A terminal output whose reader has gone away (`… | head`)."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


async def test_an_alert_after_the_output_closed_waits_in_the_outbox_and_ends_the_session() -> None:
    """The delivery sees an ordinary retryable failure (the message stays for the next
    session), and the session reads no further line: nothing is run that nobody sees."""
    from bot.adapters.base import DeliveryError
    from bot.adapters.console import ConsoleAdapter
    from handlers.contract import Reply

    seen: list[str] = []

    async def dispatch(cmd: Command) -> list[Reply]:
        seen.append(cmd.text)
        return [Reply(text="ok")]

    stdin = io.StringIO("/kpi\n/kpi set cac 90\n")
    adapter = ConsoleAdapter(dispatch, user="anna", stdin=stdin, stdout=_ClosedPipe())
    with pytest.raises(DeliveryError) as failed:
        await adapter.send(Reply(text="CAC is red", kind="alert"))
    assert not failed.value.permanent
    assert str(failed.value) == "the terminal's output is closed"
    await adapter.run()
    assert seen == []


def test_a_console_piped_into_head_stops_quietly(tmp_path: Path) -> None:
    """`scorecard-bot console < script | head -1`: when the reader leaves, the console ends
    with no traceback and no 'could not start', whatever it was printing (a reply or an
    alert sent after a colour change)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "console", "--data", str(tmp_path), "--demo"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("/kpi\n")
    proc.stdin.flush()
    assert proc.stdout.readline().startswith("KPIs")
    proc.stdout.close()
    script = "".join(f"/kpi set cac {value}\n" for value in (300, 90, 300, 90, 300))
    _, err = proc.communicate(script, timeout=60)
    assert (proc.returncode, err) == (0, "")


def _damaged_demo(tmp_path: Path, table: str) -> Path:
    """A demo data directory (made once per test) with one table's checksum wrong."""
    made = tmp_path / "demo"
    if not made.exists():
        assert _console(made, "/kpi cac\n", "--demo").returncode == 0
    data = tmp_path / table.replace(":", "_")
    shutil.copytree(made, data)
    con = sqlite3.connect(data / "store.db")
    with con:
        con.execute("UPDATE tables SET crc = crc + 1 WHERE name = ?", (table,))
    con.close()
    return data


def test_a_damaged_table_is_said_in_one_line_at_start_and_at_exit(tmp_path: Path) -> None:
    """Read at start (the scheduler's catch-up reads a chat's jobs): the start is refused
    with the one line, and the delivery and the sweep already running stop first instead
    of tracing back about the closing store. Found by the warm-up during a session: the
    session answers, the sweep that reads it says so in one line, and the exit line names it
    (APScheduler's 25-line traceback of the same error is not printed beside it)."""
    damage = "is damaged (table '{}' fails its checksum)"
    for table, answered in (("jobs:console:local", False), ("kr:console:local", True)):
        result = _console(_damaged_demo(tmp_path, table), "/kpi cac\n")
        lines = result.stderr.splitlines()
        assert result.returncode == 2
        assert "Traceback" not in result.stderr, result.stderr
        assert lines[-1].startswith("scorecard-bot: ") and damage.format(table) in lines[-1]
        assert all(line.startswith("job sweep failed: StoreCorrupt(") for line in lines[:-1])
        assert ("Customer acquisition cost" in result.stdout) is answered
