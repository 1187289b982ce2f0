"""The command line turns configuration and start-up problems into one clear message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
        input="",
        env={"PATH": "/usr/bin:/bin", **(env or {})},
    )


def test_invalid_config_stops_with_the_key_and_the_problem(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[slack]\nport = 99999\n", encoding="utf-8")
    result = _run("run", "--config", str(config))
    assert result.returncode == 2
    assert "slack.port" in result.stderr and "Traceback" not in result.stderr


def test_rejected_token_never_appears_in_the_error(tmp_path: Path) -> None:
    token = "123456789:AAE_secret_token_value_that_must_not_leak_123"
    config = tmp_path / "config.toml"
    config.write_text(
        '[storage]\npath = "data"\n[telegram]\napi_base_url = "http://127.0.0.1:9/bot"\n',
        encoding="utf-8",
    )
    result = _run("run", "--config", str(config), env={"SCORECARD_TELEGRAM_TOKEN": token})
    assert result.returncode == 2, result.stderr
    assert token not in result.stderr and token not in result.stdout
    assert "Traceback" not in result.stderr


def test_run_without_credentials_falls_back_to_the_console(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[storage]\npath = "data"\n', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
        input="/scorecard\n",
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "starting the console chat" in result.stderr
    assert "Scorecard index" in result.stdout
