"""/scorecard export and /scorecard import: a file out, checked, previewed, applied once."""

from __future__ import annotations

import json
from datetime import date, timedelta

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import Core, build_core
from bot.demo import load_demo
from handlers import exchange
from handlers.contract import Actor, Attachment, Reply
from handlers.parsing import command_from_text
from scoring.models import Measurement
from tests import readme
from tests.support import FakeChat, FixedClock


async def send_file(chat: FakeChat, data: bytes, filename: str) -> list[Reply]:
    """`/scorecard import` with a file attached, as the adapters deliver it."""
    actor = Actor(platform="console", user_id="anna", display_name="Anna", handle="@anna")
    cmd = command_from_text(
        "/scorecard import", actor=actor, chat=chat.chat, received_at=chat.core.ctx.clock()
    )
    assert cmd is not None
    cmd = cmd.model_copy(update={"attachment": Attachment(filename=filename, data=data)})
    return await chat.core.dispatch(cmd)


def _sections(data: bytes) -> dict[str, object]:
    return exchange.sections_of(orjson.loads(data))


async def _export(chat: FakeChat, fmt: str = "json") -> bytes:
    replies = await chat.say(f"/scorecard export {fmt}")
    assert len(replies) == 1 and replies[0].document is not None, replies[0].plain()
    return replies[0].document.data


async def test_json_export_imported_into_an_empty_chat_gives_the_same_scorecard(
    core: Core,
) -> None:
    source, empty = FakeChat(core, "source"), FakeChat(core, "empty")
    with core.store.atomic():
        load_demo(core.store, source.chat.key, core.ctx.clock())
    await core.store.commit()
    await source.ok("/okr checkin " + core.store.okrs.key_results(source.chat.key)[0].key + " 3")
    await _add_funnel_and_journey(source)
    exported = await _export(source)
    preview = (await send_file(empty, exported, "demo.json"))[0]
    assert preview.kind == "answer", preview.plain()
    assert "KPIs: 7 new" in preview.plain()
    assert preview.plain().splitlines()[-5:-2] == [
        "funnels: 1 new",
        "journeys: 1 new",
        "alert settings: 1 unchanged",
    ]
    assert await empty.ok(preview.buttons[0].command)
    again = await _export(empty)
    assert _sections(again) == _sections(exported)
    assert "everything in it is already here" in (await send_file(empty, again, "a.json"))[0].text


async def _add_funnel_and_journey(chat: FakeChat) -> None:
    first, second = (k.key for k in chat.core.store.kpis.all(chat.chat.key)[:2])
    await chat.ok(f'/funnel add mkt "Marketing funnel" stages={first},{second}')
    await chat.ok('/journey add cx "Customer journey" stages="Awareness, Purchase"')
    await chat.ok(f'/journey stage cx purchase kpis={second} touchpoint="live chat" pain="wait"')


async def test_csv_export_round_trips_too(core: Core) -> None:
    source, empty = FakeChat(core, "source"), FakeChat(core, "empty")
    with core.store.atomic():
        load_demo(core.store, source.chat.key, core.ctx.clock())
    await core.store.commit()
    await _add_funnel_and_journey(source)
    csv_file = await _export(source, "csv")
    assert csv_file.startswith(b"section,key,name,kpi,day,value,")
    assert b"\nfunnels,mkt," in csv_file and b"\njourneys,cx," in csv_file
    preview = (await send_file(empty, csv_file, "demo.csv"))[0]
    await empty.ok(preview.buttons[0].command)
    assert _sections(await _export(empty)) == _sections(await _export(source))


async def test_a_bad_file_changes_nothing_and_names_each_line_and_field(chat: FakeChat) -> None:
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    doc = exchange.snapshot(chat.core.store, chat.chat.key, chat.core.ctx.clock())
    doc["values"] = [
        {"kpi": "cac", "day": "2026-11-01", "value": 100, "at": "2026-11-01T10:00:00Z"},
        {"kpi": "cak", "day": "2026-11-02", "value": 90, "at": "2026-11-02T10:00:00Z"},
        {"kpi": "cac", "day": "2026-11-03", "value": "lots", "at": "2026-11-03T10:00:00Z"},
    ]
    data = exchange.to_json(doc)
    reply = (await send_file(chat, data, "bad.json"))[0]
    lines = data.decode().splitlines()
    cak = next(i for i, line in enumerate(lines, 1) if '"cak"' in line)
    assert reply.kind == "error"
    assert cak == 23  # the README shows this reply
    assert reply.plain() == (
        "Import refused, nothing was changed: 2 problems\n"
        f"line {cak}, kpi: no KPI 'cak'\n"
        f"line {cak + 1}, value: 'lots' is not a number for value: try 12.5, 12,5, 10 000, "
        "10k or 35%"
    )
    assert reply.plain() == "\n".join(readme.block("", "Import refused").lines)
    assert chat.core.store.kpis.count(chat.chat.key, "cac") == 0


async def test_an_import_is_checked_for_formula_and_link_loops_as_commands_are(
    chat: FakeChat,
) -> None:
    await chat.ok('/objective add profit "Grow profit" perspective=finance')
    await chat.ok('/objective add sales "Sell more" perspective=customers')
    await chat.ok("/objective link sales profit")
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 objective=profit')
    doc = exchange.snapshot(chat.core.store, chat.chat.key, chat.core.ctx.clock())
    cac = doc["kpis"][0]
    doc["kpis"] += [
        {**cac, "key": "a", "formula": "b * 2"},
        {**cac, "key": "b", "formula": "a + cac"},
        {**cac, "key": "c", "formula": "nope + cak"},
        {**cac, "key": "d", "formula": "d + 1"},
        {**cac, "key": "e", "formula": "cac **"},
    ]
    doc["links"] += [{"cause": "profit", "effect": "sales"}]
    doc["funnels"] = [{"key": "mkt", "name": "Funnel", "stages": ["cac", "leads"]}]
    data = exchange.to_json(doc)
    lines = data.decode().splitlines()
    marks = {
        "link": '"cause":"profit"',
        "a": '"key":"a"',
        "c": '"key":"c"',
        "d": '"key":"d"',
        "e": '"key":"e"',
        "mkt": '"mkt"',
    }
    at = {name: next(i for i, t in enumerate(lines, 1) if m in t) for name, m in marks.items()}
    reply = (await send_file(chat, data, "loops.json"))[0]
    assert reply.plain() == (
        "Import refused, nothing was changed: 6 problems\n"
        f"line {at['link']}, effect: profit → sales would close a cycle "
        "(profit → sales → profit)\n"
        f"line {at['e']}, formula: I can't read the formula 'cac **': use KPI keys, numbers, "
        '+ - * / ** and ( ), e.g. formula="spend / newc".\n'
        f"line {at['mkt']}, stages: no KPI 'leads'\n"
        f"line {at['a']}, formula: makes a loop: a → b → a (each reads the next)\n"
        f"line {at['c']}, formula: reads 'nope', 'cak', which are not KPIs here\n"
        f"line {at['d']}, formula: d reads itself; a KPI can't depend on itself"
    )
    assert [k.key for k in chat.core.store.kpis.all(chat.chat.key)] == ["cac"]


async def test_an_import_refuses_definitions_the_chat_commands_refuse_in_their_words(
    chat: FakeChat,
) -> None:
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
    await chat.ok('/okr add delight "Delight our customers"')
    await chat.ok('/okr kr delight nps "Raise NPS" start=30 target=50')
    doc = exchange.snapshot(chat.core.store, chat.chat.key, chat.core.ctx.clock())
    cac, okr, kr = doc["kpis"][0], doc["okrs"][0], doc["key_results"][0]
    doc["kpis"] += [
        {**cac, "key": "flat", "baseline": 10, "target": 10},
        {**cac, "key": "heavy", "weight": -1},
        {**cac, "key": "late", "due": "2020-01-01", "due_from": "2026-01-01"},
    ]
    doc["okrs"] += [{**okr, "key": "q7", "cycle": "2026Q7"}]
    doc["key_results"] += [{**kr, "key": "still", "start": 5, "target": 5}]
    doc["perspectives"][0]["weight"] = -2
    data = exchange.to_json(doc)
    lines = data.decode().splitlines()
    marks = ("flat", "heavy", "late", "q7", "still", doc["perspectives"][0]["key"])
    at = {m: next(i for i, t in enumerate(lines, 1) if f'"key":"{m}"' in t) for m in marks}
    reply = (await send_file(chat, data, "bad.json"))[0]
    finance = doc["perspectives"][0]["key"]
    assert reply.plain() == (
        "Import refused, nothing was changed: 6 problems\n"
        f"line {at[finance]}, weight: The weight of perspective '{finance}' must be 0 or more, "
        "not −2.\n"
        f"line {at['flat']}, definition: KPI 'flat' has baseline and target both 10; progress "
        "needs a target different from the baseline.\n"
        f"line {at['heavy']}, definition: The weight of KPI 'heavy' must be 0 or more, not −1.\n"
        f"line {at['late']}, definition: KPI 'late' is due 2020-01-01, which must be after its "
        "start 2026-01-01.\n"
        f"line {at['q7']}, cycle: There is no quarter 7: use Q1–Q4, e.g. 2026Q4.\n"
        f"line {at['still']}, definition: The start and target of key result 'still' are both "
        "5; give a target different from the start."
    )
    assert [k.key for k in chat.core.store.kpis.all(chat.chat.key)] == ["cac"]
    assert "Delight our customers" in await chat.ok("/okr progress")  # nothing unscorable got in


async def test_not_json_names_the_line_and_a_values_sheet_is_accepted(chat: FakeChat) -> None:
    await chat.ok('/kpi add leads "Leads" target=200 perspective=customers')
    reply = (await send_file(chat, b'{"format": "scorecard-bot",\n "version": 1,,}', "x.json"))[0]
    assert reply.plain().startswith("Import refused, nothing was changed: 1 problem\nline 2:")
    sheet = b"kpi,date,value,note\nleads,2026-11-01,120,web\nleads,02.11.2026,1 234,\nleeds,,5,\n"
    bad = (await send_file(chat, sheet, "v.csv"))[0]
    assert bad.text == "line 4, kpi: no KPI 'leeds'"
    good = (await send_file(chat, sheet.rsplit(b"leeds", 1)[0], "v.csv"))[0]
    assert good.plain().splitlines()[1] == "values: 2 new"
    await chat.ok(good.buttons[0].command)
    assert [m.value for m in chat.core.store.kpis.history(chat.chat.key, "leads")] == [120, 1234]
    assert "already applied" in await chat.error(good.buttons[0].command)


async def test_import_without_a_file_says_how(chat: FakeChat) -> None:
    assert await chat.error("/scorecard import") == (
        "Name the file: /scorecard import path/to/scorecard.json"
    )
    assert (
        await chat.error("/scorecard export xml") == "Export as json or csv: /scorecard export csv"
    )


def test_json_export_has_one_record_per_line() -> None:
    doc = {"format": "scorecard-bot", "version": 1, "values": [{"a": 1}, {"a": 2}], "links": []}
    text = exchange.to_json(doc).decode()
    assert json.loads(text) == doc
    assert '    {"a":1},\n    {"a":2}\n' in text


NOTES = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc")), max_size=30
) | st.sampled_from(['a, "quoted" note', "line\nbreak", "=1+2", "  spaced  ", "лиды; €"])
VALUES = st.lists(
    st.tuples(
        st.sampled_from(["cac", "leads"]),
        st.integers(min_value=0, max_value=400),
        st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
        NOTES,
    ),
    max_size=12,
    unique_by=lambda v: (v[0], v[1]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(values=VALUES, fmt=st.sampled_from(["json", "csv"]))
async def test_any_history_round_trips_through_either_format(
    values: list[tuple[str, int, float, str]], fmt: str
) -> None:
    core = build_core(None, clock=FixedClock())
    try:
        source, empty = FakeChat(core, "source"), FakeChat(core, "empty")
        await source.ok('/kpi add cac "CAC" baseline=120 target=80 perspective=finance')
        await source.ok('/kpi add leads "Leads, €" target=200 perspective=customers')
        day0 = date(2026, 11, 21)
        with core.store.atomic():
            for kpi, back, value, note in values:
                core.store.kpis.record(
                    source.chat.key,
                    Measurement(
                        kpi=kpi,
                        value=value,
                        day=day0 - timedelta(days=back),
                        at=core.ctx.clock(),
                        note=note,
                    ),
                )
        exported = await _export(source, fmt)
        preview = (await send_file(empty, exported, f"card.{fmt}"))[0]
        assert preview.kind == "answer", preview.plain()
        await empty.ok(preview.buttons[0].command)
        assert _sections(await _export(empty)) == _sections(await _export(source))
    finally:
        core.close()


def test_checking_a_big_file_reports_progress_for_every_record(core: Core) -> None:
    rows = "".join(f"nope,2026-01-{d % 28 + 1:02d},{d}\n" for d in range(2500))
    found = exchange.read_file(f"kpi,date,value\n{rows}".encode(), "v.csv")
    ticks: list[int] = []
    plan = exchange.plan_import(
        core.store, "console:x", found, core.ctx.clock(), progress=ticks.append
    )
    assert sum(ticks) == 2500 and len(ticks) == 3
    assert len(plan.problems) == 2500 and str(plan.problems[0]) == "line 2, kpi: no KPI 'nope'"


async def test_a_file_from_before_entry_numbers_reimported_adds_no_duplicate_log_entries(
    core: Core, chat: FakeChat
) -> None:
    await chat.ok('/initiative add articles "Articles"')
    await chat.ok("/log articles +1 a")
    doc = orjson.loads(await _export(chat))
    for entry in doc["progress"]:
        del entry["number"]
    assert "everything in it is already here" in (
        (await send_file(chat, orjson.dumps(doc), "old.json"))[0].text
    )


async def test_an_import_refuses_a_number_style_the_numbers_command_refuses(
    chat: FakeChat,
) -> None:
    """A file's settings saying `"numbers": "1.234.5"` were stored as they were (any text
    passed), leaving a style `/numbers` never offers (reread9): the style is one of the two
    `/numbers` takes, so the import is refused and nothing changes."""
    doc = exchange.snapshot(chat.core.store, chat.chat.key, chat.core.ctx.clock())
    assert doc["settings"]["numbers"] == "1,234.5"
    doc["settings"]["numbers"] = "1.234.5"
    reply = (await send_file(chat, exchange.to_json(doc), "style.json"))[0]
    assert reply.kind == "error", reply.plain()
    assert reply.plain() == (
        "Import refused, nothing was changed: 1 problem\n"
        "line 6, numbers: input should be '1.234,5' or '1,234.5'"
    )
    assert chat.core.store.chats.settings(chat.chat.key).numbers == "1,234.5"
