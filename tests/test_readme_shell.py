"""Every README code block and shell command is run by a test, and a new one can't slip in
unrun: each is listed here with the test that runs it (issue 7 §5, "every example in the
README is run by a test").

The benchmark commands are checked to name real benchmark sections, not run: a benchmark
takes minutes and performance is never measured in tests.
"""

from __future__ import annotations

import ast
import asyncio
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench import alerts as bench_alerts
from bench import pictures as bench_pictures
from bench import storage as bench_storage
from bench.__main__ import SECTIONS
from bot.app import build_core
from bot.cli import main
from bot.demo import load_demo
from handlers.contract import Command, Context, Reply, command, specs_of
from handlers.kpi_set import kpi_set
from tests import readme

HERE = "tests/test_readme_shell.py"
CHAT = "tests/test_readme_examples.py::test_every_readme_chat_example_runs_in_a_demo_chat"
CURL = "tests/test_ingest_api.py::test_the_readme_curl_examples_work"
DEV = f"{HERE}::test_the_dev_commands_the_readme_names_run_what_it_says"
BENCH = f"{HERE}::test_the_benchmark_commands_the_readme_names_are_real_sections"
CONSOLE = f"{HERE}::test_the_readme_console_line_opens_the_demo_in_a_fresh_directory"
RUN = f"{HERE}::test_the_readme_run_line_starts_with_the_example_config"
FILES_CLI = "tests/test_files_cli.py::test_the_readme_shell_examples_run"

#: Each fenced block (language, start of its first line) → the test that runs it. A `text`
#: block is chat: every line of it is sent to a demo chat, so each must be a command.
BLOCKS: dict[tuple[str, str], str] = {
    ("sh", "./dev "): DEV,
    ("", "scorecard-bot console [--data PATH]"): (
        f"{HERE}::test_the_console_synopsis_lists_the_consoles_options"
    ),
    ("sh", "printf "): (
        "tests/test_readme_examples.py::test_the_scripted_console_example_works_on_a_fresh_clone"
    ),
    ("text", "/"): CHAT,
    ("sh", "scorecard-bot doctor "): f"{HERE}::test_the_readme_doctor_line_checks_a_store",
    ("", "Import refused, nothing was changed"): (
        "tests/handlers/test_files.py::test_a_bad_file_changes_nothing_and_names_each_line_and_field"
    ),
    ("sh", "scorecard-bot export "): FILES_CLI,
    ("sh", "curl -sS -X POST"): CURL,
    ("sh", "curl -sS --fail-with-body"): CURL,
    ("json", '{"stored": 2,'): CURL,
    ("", "bot/ "): f"{HERE}::test_the_layout_block_names_every_top_level_folder",
    ("python", "@command("): (
        f"{HERE}::test_the_command_declaration_example_declares_kpi_set_like_its_handler"
    ),
}
#: Each inline shell command of the prose → the test that runs it.
INLINE: dict[str, str] = {
    "./dev": DEV,
    "./dev bench": DEV,
    "./dev run …": DEV,
    "./dev run console --data data/try": DEV,
    "./dev bench pictures": DEV,
    "./dev bench scoring": DEV,
    "./dev bench input": DEV,
    "./dev bench dataio": DEV,
    "scorecard-bot": CONSOLE,  # the program's name
    "scorecard-bot console --demo --data data/demo": CONSOLE,
    "scorecard-bot import": FILES_CLI,
    "scorecard-bot run [--config config.toml]": RUN,
    "python -m bench history": BENCH,
    "python -m bench formulas": BENCH,
    "python -m bench e2e": BENCH,
    "python -m bench storage": BENCH,
    "python -m bench.storage 10k 100k 1M": BENCH,
    "python -m bench.storage writes": BENCH,
    "python -m bench.storage openloop 10k 100k 1M": BENCH,
    "python -m bench.storage writes 10k 100k 1M": BENCH,
    "python -m bench.alerts sweep": BENCH,
    "python -m bench.pictures kpi": BENCH,
}


def _tests_named(where: str) -> bool:
    path, _, name = where.partition("::")
    tree = ast.parse((readme.ROOT / path).read_text(encoding="utf-8"))
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name
        for node in tree.body
    )


def _listed(block: readme.Block) -> list[str]:
    return [
        test
        for (lang, first), test in BLOCKS.items()
        if lang == block.lang and block.first.startswith(first)
    ]


def test_every_readme_code_block_is_run_by_a_listed_test() -> None:
    found = readme.blocks()
    for block in found:
        assert len(_listed(block)) == 1, (
            f"README line {block.line}: add this ```{block.lang} block to BLOCKS in {HERE} "
            "with the test that runs it"
        )
        if block.lang == "text":  # chat: the chat test sends every line
            assert all(line.startswith("/") for line in block.lines), block
    for lang, first in BLOCKS:
        assert any(b.lang == lang and b.first.startswith(first) for b in found), (lang, first)
    assert all(_tests_named(test) for test in {*BLOCKS.values(), *INLINE.values()})


def test_every_inline_shell_command_of_the_readme_is_run_by_a_listed_test() -> None:
    found = set(readme.inline_shell())
    assert not found - set(INLINE), f"add these to INLINE in {HERE}: {found - set(INLINE)}"
    assert not set(INLINE) - found, f"no longer in the README: {set(INLINE) - found}"


_FAKE_TOOL = '#!/usr/bin/env bash\necho "$(basename "$0") $*" >> "$DEV_LOG"\n'


def _dev_clone(tmp_path: Path) -> Path:
    """`./dev` beside a .venv of stand-ins that log how they were called (already installed)."""
    shutil.copy(readme.ROOT / "dev", tmp_path / "dev")
    shutil.copy(readme.ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for tool in ("python", "scorecard-bot", "ruff"):
        (bin_dir / tool).write_text(_FAKE_TOOL)
        (bin_dir / tool).chmod(0o755)
    stamp = subprocess.run(
        ["cksum", "pyproject.toml"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.split()[0]
    (tmp_path / ".venv" / f".installed-{stamp}").touch()
    return tmp_path


def test_the_dev_commands_the_readme_names_run_what_it_says(tmp_path: Path) -> None:
    clone = _dev_clone(tmp_path)
    block = readme.block("sh", "./dev ")
    typed = [line.split("#", 1)[0].strip() for line in block.lines]
    typed += [c for c in readme.inline_shell() if c.startswith("./dev")]
    sections = {name.rsplit(".", 1)[-1] for name, _ in SECTIONS}
    for line in dict.fromkeys(typed):
        log = tmp_path / "calls.log"
        log.unlink(missing_ok=True)
        words = [w.replace("…", "doctor --data data") for w in shlex.split(line)]
        done = subprocess.run(
            ["bash", "-c", " ".join(words)],
            cwd=clone,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DEV_LOG": str(log)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, (line, done.stderr)
        calls = log.read_text().splitlines()
        sub, rest = (words[1:2] or ["demo"])[0], " ".join(words[2:])
        expected = {
            "demo": ["scorecard-bot console --demo --data data/demo"],
            "test": [
                "ruff check .",
                "python -m mypy bot handlers scoring storage bench tests",
                "python -m pytest -q",
            ],
            "bench": [f"python -m bench {rest}".strip()],
            "run": [f"scorecard-bot {rest}"],
        }[sub]
        assert calls == expected, line
        if sub == "bench" and rest:
            assert rest in sections, f"{line}: no benchmark section '{rest}'"


def test_the_benchmark_commands_the_readme_names_are_real_sections() -> None:
    sections = {name.rsplit(".", 1)[-1] for name, _ in SECTIONS}
    for line in readme.inline_shell():
        words = line.split()
        if words[:3] == ["python", "-m", "bench"]:
            assert set(words[3:]) <= sections, line
        elif words[:3] == ["python", "-m", "bench.storage"]:
            sizes = [bench_storage._label(values) for values, _ in bench_storage.SIZES]
            parts = (bench_storage.WRITES, bench_storage.OPEN_LOOP)
            part = words[3:4] if words[3:4] and words[3] in parts else []
            assert words[3:] == sizes or (part and set(words[4:]) <= set(sizes)), line
        elif words[:3] == ["python", "-m", "bench.alerts"]:
            assert words[3:] == [bench_alerts.SWEEP_ONLY], line
        elif words[:3] == ["python", "-m", "bench.pictures"]:
            assert words[3:] == [bench_pictures.KPI_ONLY], line


def test_the_console_synopsis_lists_the_consoles_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    synopsis = readme.block("", "scorecard-bot console").first
    with pytest.raises(SystemExit) as exited:
        main(["console", "--help"])
    assert exited.value.code == 0
    documented = set(re.findall(r"--[a-z]+", capsys.readouterr().out)) - {"--help"}
    assert set(re.findall(r"--[a-z]+", synopsis)) == documented


def test_the_readme_console_line_opens_the_demo_in_a_fresh_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    [line] = [c for c in readme.inline_shell() if c.startswith("scorecard-bot console")]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO("/kpi cac\n"))
    assert main(shlex.split(line)[1:]) == 0
    assert "Customer acquisition cost" in capsys.readouterr().out
    assert (tmp_path / "data" / "demo").is_dir()


def test_the_readme_run_line_starts_with_the_example_config(tmp_path: Path) -> None:
    """`scorecard-bot run [--config config.toml]` with config.example.toml copied, as the
    README says: no credentials in it, so the console chat starts."""
    [line] = [c for c in readme.inline_shell() if c.startswith("scorecard-bot run")]
    shutil.copy(readme.ROOT / "config.example.toml", tmp_path / "config.toml")
    words = shlex.split(line.replace("[", "").replace("]", ""))
    done = subprocess.run(
        [sys.executable, "-m", "bot", *words[1:]],
        cwd=tmp_path,
        input="/scorecard\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "starting the console chat" in done.stderr


def test_the_readme_doctor_line_checks_a_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    [line] = readme.block("sh", "scorecard-bot doctor").lines
    monkeypatch.chdir(tmp_path)
    core = build_core(tmp_path / "data")
    try:
        with core.store.atomic():
            load_demo(core.store, "console:local", datetime.now(UTC))
        asyncio.run(core.store.commit())
    finally:
        core.close()
    assert main(shlex.split(line)[1:]) == 0
    assert "integrity" in capsys.readouterr().out.casefold()


def test_the_layout_block_names_every_top_level_folder() -> None:
    named = {line.split("/", 1)[0] for line in readme.block("", "bot/ ").lines}
    packages = {p.parent.name for p in readme.ROOT.glob("*/__init__.py")}
    assert named == packages


def test_the_command_declaration_example_declares_kpi_set_like_its_handler() -> None:
    """The README's `@command(...)` snippet runs, and declares what the real handler does."""
    snippet = "\n".join(readme.block("python", "@command(").lines)
    scope: dict[str, object] = {
        "command": command,
        "Command": Command,
        "Context": Context,
        "Reply": Reply,
    }
    exec(snippet, scope)  # the README's own example, nothing else
    [shown] = specs_of(scope["kpi_set"])  # type: ignore[arg-type]
    [real] = specs_of(kpi_set)
    assert (shown.path, shown.usage, shown.mutates) == (real.path, real.usage, real.mutates)
