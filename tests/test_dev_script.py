"""`./dev` on a fresh clone: the first run shows pip's progress instead of two silent minutes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAKE_PIP = """#!/usr/bin/env bash
# stands in for .venv/bin/python: `-m pip install …` prints what pip prints, slowly
echo "Collecting tinydb<5,>=4.8"
echo "Installing collected packages: tinydb"
echo "Successfully installed tinydb-4.8.2"
"""


def _fresh_clone(tmp_path: Path, python: str) -> Path:
    shutil.copy(ROOT / "dev", tmp_path / "dev")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    fake = tmp_path / ".venv" / "bin" / "python"
    fake.parent.mkdir(parents=True)
    fake.write_text(python)
    fake.chmod(0o755)
    return tmp_path


def test_the_first_run_shows_pips_progress_and_keeps_a_log(tmp_path: Path) -> None:
    clone = _fresh_clone(tmp_path, FAKE_PIP)
    done = subprocess.run(
        ["bash", "./dev", "nothing"], cwd=clone, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2  # installed, then the unknown subcommand's usage line
    assert "Installing scorecard-bot and its dependencies" in done.stderr
    assert "Collecting tinydb<5,>=4.8" in done.stderr
    assert "Successfully installed tinydb-4.8.2" in done.stderr
    assert "Collecting tinydb" in (clone / ".venv" / "install.log").read_text()
    again = subprocess.run(
        ["bash", "./dev", "nothing"], cwd=clone, capture_output=True, text=True, check=False
    )
    assert "Installing" not in again.stderr  # later runs start at once


def test_a_failed_install_stops_with_pips_message(tmp_path: Path) -> None:
    clone = _fresh_clone(
        tmp_path, "#!/usr/bin/env bash\necho 'ERROR: No matching distribution'\nexit 1\n"
    )
    done = subprocess.run(
        ["bash", "./dev", "nothing"], cwd=clone, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert "ERROR: No matching distribution" in done.stderr
    assert not list((clone / ".venv").glob(".installed-*"))
