"""`scorecard-bot doctor --data DIR`: integrity, the store's own checks, what it holds."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import pytest

from bot.cli import main
from scoring.alert_rules import AlertState
from scoring.models import Kpi, Measurement, Status
from storage import open_store
from storage.alert_state import RED
from storage.migrations import SCHEMA_VERSION
from storage.port import Batch
from storage.sqlite import SqliteBackend
from tests.storage.test_migrations import v1_tables, write_journal_store

AT = datetime(2026, 11, 21, tzinfo=UTC)


def _filled(root: Path) -> None:
    store = open_store(root)
    store.kpis.put("c", Kpi(key="cac", name="CAC", objective="o", target=80))
    for day in range(1, 4):
        store.kpis.record("c", Measurement(kpi="cac", value=day, day=date(2026, 11, day), at=AT))
    store.close()


def test_doctor_reports_tables_sizes_and_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _filled(tmp_path)
    assert main(["doctor", "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("store.db: ")
    assert f"schema {SCHEMA_VERSION} (current)" in out
    assert "integrity: SQLite integrity_check and every table's checksum" in out
    rows = {line.split()[0]: line.split()[1:3] for line in out.splitlines()[4:-1]}
    assert rows["m"] == ["1", "3"] and rows["kpi"] == ["1", "1"] and rows["mix"] == ["1", "1"]
    assert out.splitlines()[-1] == "ok: no problems found"


def test_doctor_names_a_damaged_table_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _filled(tmp_path)
    backend = SqliteBackend(tmp_path)
    backend.lock()
    con = backend._writer
    assert con is not None
    con.execute("UPDATE tables SET crc = crc + 1 WHERE name = 'kpi:c'")
    backend.close()
    assert main(["doctor", "--data", str(tmp_path)]) == 1
    assert "PROBLEM: table 'kpi:c' fails its checksum" in capsys.readouterr().out


def test_doctor_checks_an_old_journal_store_without_moving_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "data"
    write_journal_store(root, v1_tables())
    assert main(["doctor", "--data", str(root)]) == 0
    assert "journal store (schema 1): 8 tables, 39 documents" in capsys.readouterr().out
    assert (root / "store.snapshot").exists() and not (root / "store.db").exists()


def test_doctor_checks_each_sweep_summary_against_its_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_store(tmp_path)
    store.kpis.put("console:c", Kpi(key="cac", name="CAC", objective="o", target=80))
    store.kpis.record("console:c", Measurement(kpi="cac", value=1, day=AT.date(), at=AT))
    store.sweeps.get("console:c", AT)  # as the sweep stores it
    store.close()
    assert main(["doctor", "--data", str(tmp_path)]) == 0
    assert "sweep summaries: 1 checked against their tables" in capsys.readouterr().out
    store = open_store(tmp_path)
    stored = dict(store.db.docs("sweep:console:c")["1"])
    store.db.put_table("sweep:console:c", {1: {**stored, "facts": []}})  # not what cac says
    store.close()
    assert main(["doctor", "--data", str(tmp_path)]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == (
        "PROBLEM: the sweep summary of chat console:c differs from its KPIs and initiatives"
    )


def test_doctor_checks_each_alert_book(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = open_store(tmp_path)
    state = AlertState(kpi="cac", status=Status.RED, value=1, performance=0.1, reading_at=AT)
    store.alerts.put_state("console:c", state, test=False)
    store.alerts.save_sent_marks("console:c", {"stale:cac": "2026-11-20"})
    store.close()
    assert main(["doctor", "--data", str(tmp_path)]) == 0
    assert "alert books: 1 checked" in capsys.readouterr().out
    store = open_store(tmp_path)
    book = dict(store.db.docs("abook:console:c")["1"])
    misfiled = {"roas": book["states"]["cac"]}
    store.db.put_table("abook:console:c", {1: {**book, "states": misfiled, "sent": {"a": 1}}})
    store.close()
    assert main(["doctor", "--data", str(tmp_path)]) == 1
    assert capsys.readouterr().out.splitlines()[-2:] == [
        "PROBLEM: the alert book of chat console:c: state filed under 'roas' is 'cac''s",
        "PROBLEM: the alert book of chat console:c: sent marks do not parse (ValidationError)",
    ]
    store = open_store(tmp_path)
    store.db.put_table("abook:console:c", {1: book})
    store.db.put_table("al:console:c:0", {1: {"key": "cpc", **book["states"]["cac"]}})
    store.close()
    assert main(["doctor", "--data", str(tmp_path)]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == (
        "PROBLEM: the red alert state of 'cpc' is in al:console:c:0, not in its chat's alert "
        "book: the sweep would never remind it"
    )


def test_doctor_checks_each_red_state_row_against_its_book(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_store(tmp_path)
    for kpi, value in (("cac", 1), ("roas", 1), ("cac", 2), ("cac", 3)):  # the last: a row
        state = AlertState(kpi=kpi, status=Status.RED, value=value, performance=0.1, reading_at=AT)
        store.alerts.put_state("console:c", state, test=False)
    assert store.db.table_names(RED) == {f"{RED}console:c:cac"}
    store.close()
    assert main(["doctor", "--data", str(tmp_path)]) == 0
    capsys.readouterr()
    store = open_store(tmp_path)
    book = dict(store.db.docs("abook:console:c")["1"])
    row = dict(store.db.docs(f"{RED}console:c:cac")["1"])
    green = {**row, "state": {**row["state"], "status": "green"}}
    store.db.put_table(f"{RED}console:c:roas", {1: row})
    store.db.put_table(f"{RED}console:c:cpc", {1: row})
    store.db.put_table(f"{RED}console:c:cac", {1: green})
    store.close()
    assert main(["doctor", "--data", str(tmp_path)]) == 1
    where = "PROBLEM: the alert book of chat console:c: the red state row of"
    assert capsys.readouterr().out.splitlines()[-3:] == [
        f"{where} 'cac' is green, not red",
        f"{where} 'cpc' is there, but the KPI is not red in the book",
        f"{where} 'roas' is 'cac''s",
    ]
    store = open_store(tmp_path)
    store.db.put_table("abook:console:c", {1: {k: v for k, v in book.items() if k != "rows"}})
    store.db.put_table(f"{RED}console:c:cac", {1: {"state": 1}})
    store.db.drop_table(f"{RED}console:c:roas")
    store.db.drop_table(f"{RED}console:c:cpc")
    store.db.put_table(f"{RED}console:d:cac", {1: row})
    store.close()
    assert main(["doctor", "--data", str(tmp_path)]) == 1
    assert capsys.readouterr().out.splitlines()[-2:] == [
        f"{where} 'cac' is there, but the book does not say rows may exist",
        "PROBLEM: the alert book of chat console:d: the red state row of 'cac' is there, but "
        "the book does not say rows may exist",
    ]
    store = open_store(tmp_path)
    store.db.put_table("abook:console:c", {1: book})
    store.db.drop_table(f"{RED}console:d:cac")
    store.close()
    assert main(["doctor", "--data", str(tmp_path)]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"{where} 'cac' does not parse (ValidationError)"
    )


@pytest.mark.parametrize(
    ("book", "problem"),
    [
        ({"states": ["cac"]}, "states are not an object (list)"),
        ({"states": "cac"}, "states are not an object (str)"),
        ({"rows": 1}, "rows is not true (1)"),
        (["states"], "not a document (list)"),
        (5, "not a document (int)"),
    ],
)
def test_doctor_names_an_alert_book_whose_parts_are_not_objects_instead_of_crashing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], book: object, problem: str
) -> None:
    store = open_store(tmp_path)
    store.db.backend.commit(Batch({"abook:console:c": orjson.dumps({"1": book})}))
    store.close()
    assert main(["doctor", "--data", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"PROBLEM: the alert book of chat console:c: {problem}" in out


def test_doctor_names_an_alert_book_or_bucket_that_is_not_json_instead_of_crashing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_store(tmp_path)
    store.db.backend.commit(Batch({"abook:console:c": b"{nope", "al:console:c:0": b"[1]"}))
    store.close()
    assert main(["doctor", "--data", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM: table 'abook:console:c' is not valid JSON" in out
    assert "PROBLEM: table 'al:console:c:0' does not hold documents" in out


@pytest.mark.parametrize(
    ("table", "body"),
    [
        ("sweep:console:c", b"{not json"),
        ("sweep:console:c", b'{"1": 5}'),
        ("kpi:console:c", b"[1]"),
    ],
)
def test_doctor_names_a_damaged_summary_or_kpi_table_instead_of_crashing_in_the_summary_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, body: bytes
) -> None:
    store = open_store(tmp_path)
    store.kpis.put("console:c", Kpi(key="cac", name="CAC", objective="o", target=80, every="week"))
    store.kpis.record("console:c", Measurement(kpi="cac", value=1, day=date(2026, 11, 1), at=AT))
    store.sweeps.get("console:c", AT)  # the chat's summary is stored
    store.db.flush()
    store.db.backend.commit(Batch({table: body}))
    store.close()
    assert main(["doctor", "--data", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"PROBLEM: table '{table}' " in out
