"""`doctor` judges stored sweep summaries as the bot will: after an older version (one that
does not drop them) wrote the store, the bot drops them all at its next start, so doctor
says so instead of reporting each as a problem."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from scoring.models import Kpi, Measurement
from storage import open_store
from storage.sqlite import DB_FILE

AT = datetime(2026, 11, 21, tzinfo=UTC)
CHAT = "console:c"


def test_doctor_passes_summaries_an_older_version_left_behind_which_the_bot_rebuilds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_store(tmp_path)
    store.kpis.put(CHAT, Kpi(key="cac", name="CAC", objective="o", target=80))
    store.sweeps.get(CHAT, AT)  # as the sweep stores it
    store.close()
    # An older version records a value (its writes do not drop the summary) and commits.
    store = open_store(tmp_path)
    stored = dict(store.db.docs(f"sweep:{CHAT}")["1"])
    store.kpis.record(CHAT, Measurement(kpi="cac", value=1, day=AT.date(), at=AT))
    store.db.put_table(f"sweep:{CHAT}", {1: stored})  # what the older version left
    store.close()
    with sqlite3.connect(tmp_path / DB_FILE) as con:  # its commit did not say it keeps them
        con.execute("UPDATE meta SET value = value - 1 WHERE key = 'summarised'")
    con.close()
    assert main(["doctor", "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert (
        "sweep summaries: 1 left by a version that does not keep them; "
        "the bot rebuilds them at its next start"
    ) in out
    assert "ok: no problems found" in out
    reopened = open_store(tmp_path)  # and so it does
    assert reopened.sweeps.get(CHAT, AT).stale_candidates({"month": "2026-12-31"})
    reopened.close()
