"""`/kpi set conv 0.031` on a KPI counted in % saved 0.031 %, turned it red and alerted the
team, when the 3.1 % it was meant to be sat beside its 2.7 % of last week: the far-value
question asks only beyond 100×, and 3.1 → 0.031 is 100× exactly. A share written as a
fraction (0 < value < 1, no `%` typed) is asked about when its hundredfold is nearer to the
KPI's recent values, or to its target and baseline before it has any; the question offers
both readings, and nothing is saved until one is chosen (probe15)."""

from __future__ import annotations

import pytest

from bot.app import Core
from tests.handlers.test_sources import CsvServer, pulled, sheet
from tests.support import FakeChat, attach, posted

__all__ = ["sheet"]  # the loopback CSV server fixture

CONV = '/kpi add conv "Conversion" baseline=1 target=3 unit=% perspective=customers'
CTR = '/kpi add ctr "Click-through rate" baseline=0.2 target=0.5 unit=% perspective=customers'


def choices(commands: list[str], confirm: str) -> str:
    """The parked id a fraction question's buttons send, checked: ×100, as typed, cancel."""
    pending = commands[0].split()[2]
    assert commands == [
        f"{confirm} {pending} x100",
        f"{confirm} {pending}",
        f"{confirm} {pending} cancel",
    ]
    return pending


async def question(chat: FakeChat, typed: str) -> tuple[str, list[str]]:
    """The reply to `typed`, which must be a question, and its buttons' commands."""
    [reply] = await chat.say(typed)
    assert reply.kind != "error", reply.plain()
    return reply.text, [b.command for b in reply.buttons]


async def test_a_fraction_beside_percent_values_is_asked_about_first(chat: FakeChat) -> None:
    await chat.ok(CONV)
    await chat.ok("/kpi set conv 2.7 2026-11-20")
    text, commands = await question(chat, "/kpi set conv 0.031")
    assert text == (
        "Did you mean 3.1%? Conversion is counted in %, and 0.031 reads like a share written "
        "as a fraction (its recent values, target and baseline: 1% to 3%). Nothing is saved "
        "until you choose."
    )
    choices(commands, "/kpi confirm")
    assert await chat.ok(commands[0]) == "Saved Conversion = 3.1% (🟢 green, progress 105%)."


async def test_the_fraction_itself_is_saved_when_chosen(chat: FakeChat) -> None:
    await chat.ok(CONV)
    await chat.ok("/kpi set conv 2.7 2026-11-20")
    _, commands = await question(chat, "/kpi set conv 0,031 2026-11-21 weekend")
    assert await chat.ok(commands[1]) == "Saved Conversion = 0.031% (🔴 red, progress −48%)."
    assert "weekend" in await chat.ok("/kpi history conv")


async def test_a_first_value_is_compared_with_the_target_and_baseline(chat: FakeChat) -> None:
    await chat.ok(CONV)
    text, _ = await question(chat, "/kpi set conv 0.03")
    assert text == (
        "Did you mean 3%? Conversion is counted in %, and 0.03 reads like a share written "
        "as a fraction (its target and baseline: 1% to 3%). Nothing is saved until you choose."
    )


@pytest.mark.parametrize(
    ("kpi", "typed", "saved"),
    [
        (CONV, "/kpi set conv 0.031%", "Saved Conversion = 0.031% (🔴 red, progress −48%)."),
        (CTR, "/kpi set ctr 0.4", "Saved Click-through rate = 0.4% (🟡 yellow, progress 66%)."),
        (CONV, "/kpi set conv 2.9", "Saved Conversion = 2.9% (🟢 green, progress 95%)."),
    ],
)
async def test_a_typed_percent_sign_or_a_small_share_kpi_is_saved_at_once(
    chat: FakeChat, kpi: str, typed: str, saved: str
) -> None:
    await chat.ok(kpi)
    assert await chat.ok(typed) == saved


async def test_a_fraction_near_the_target_is_saved_at_once(chat: FakeChat) -> None:
    """Churn at 10-13 % against a 2 % target: 0.8 is 0.8 %, not 80 % (review15)."""
    await chat.ok('/kpi add churn "Churn" baseline=6 target=2 unit=% perspective=customers')
    await chat.ok("/kpi set churn 12.9 2026-11-19")
    await chat.ok("/kpi set churn 9.9 2026-11-20")
    assert await chat.ok("/kpi set churn 0.8") == "Saved Churn = 0.8% (🟢 green, progress 130%)."


async def test_a_percent_in_the_note_is_not_the_values_sign(chat: FakeChat) -> None:
    await chat.ok(CONV)
    await chat.ok("/kpi set conv 2.7 2026-11-20")
    text, _ = await question(chat, "/kpi set conv 0.031 50% of plan")
    assert text.startswith("Did you mean 3.1%?")
    assert await chat.ok("/kpi set conv 0.031 %") == (
        "Saved Conversion = 0.031% (🔴 red, progress −48%)."
    )


async def test_a_far_value_question_offers_no_hundredfold(chat: FakeChat) -> None:
    """`x100` on the 100× question recorded the typed value without a word (review15)."""
    await chat.ok('/kpi add cac "CAC" baseline=120 target=80 unit=€ perspective=finance')
    await chat.ok("/kpi set cac 95 2026-11-20")
    _, commands = await question(chat, "/kpi set cac 95000")
    assert await chat.error(commands[0] + " x100") == (
        "That question offered no ×100 reading: press Record or Cancel."
    )
    assert (await chat.ok(commands[0])).startswith("Saved CAC = 95 000 €")


KR = '/okr kr grow trial "Trial to paid" start=2 target=4 unit=%'


async def test_a_check_in_of_a_fraction_is_asked_about_as_a_set_is(chat: FakeChat) -> None:
    """`/okr checkin trial 0.031` on a 2 % → 4 % key result checked in 0.031 %, the key
    result's progress at −98 %, while `/kpi set` asked (probe16)."""
    await chat.ok('/okr add grow "Grow paid plans"')
    await chat.ok(KR)
    text, commands = await question(chat, "/okr checkin trial 0.031 confidence=6 after promo")
    assert text == (
        "Did you mean 3.1%? Trial to paid is counted in %, and 0.031 reads like a share "
        "written as a fraction (its start and target: 2% to 4%). Nothing is saved until you "
        "choose."
    )
    choices(commands, "/okr confirm")
    assert "no check-ins yet" in await chat.ok("/okr kr history trial")
    assert await chat.ok(commands[0]) == (
        "Checked in Trial to paid: 3.1% (target 4%).\nProgress: 55%\nGrade: 0.6\nConfidence: 6/10"
    )
    assert "after promo" in await chat.ok("/okr kr history trial")
    assert (await chat.ok("/okr checkin trial 0.031%")).startswith(
        "Checked in Trial to paid: 0.031% (target 4%)."
    )


async def test_an_import_asks_once_about_its_fractions(chat: FakeChat) -> None:
    """`/kpi import` of an analytics export (conversion as 0.031, 0.028) saved 0.031 % and
    0.028 %: every row red. Its preview asks once, for all such rows (probe16)."""
    await chat.ok(CONV)
    await chat.ok(CTR)
    [preview] = await chat.say(
        "/kpi import\nconv 0.031 2026-11-19\nconv 0.028 2026-11-20\nconv 2.9 2026-11-21\n"
        "ctr 0.4 2026-11-21"
    )
    assert (preview.title, preview.text, preview.footer) == (
        "Import preview: 4 values for 2 KPIs",
        "Conversion (conv) ×3: 0.031% (2026-11-19), 0.028% (2026-11-20), 2.9% (2026-11-21)\n"
        "Click-through rate (ctr) ×1: 0.4% (2026-11-21)\n"
        "Conversion (conv): 2 values between 0 and 1 read like shares written as fractions "
        "(line 1: 0.031 for 3.1%?; its target and baseline: 1% to 3%). "
        "Apply ×100 records them as 3.1% and 2.8%.",
        "Nothing is saved until you apply (valid for a day).",
    )
    pending = preview.buttons[0].command.split()[3]
    assert [(b.label, b.command) for b in preview.buttons] == [
        ("Apply ×100", f"/kpi import apply {pending} x100"),
        ("Apply as typed", f"/kpi import apply {pending}"),
        ("Cancel", f"/kpi import cancel {pending}"),
    ]
    assert await chat.ok(f"/kpi import apply {pending} x100") == (
        "Imported 4 values: Conversion, Click-through rate."
    )
    history = await chat.ok("/kpi history conv")
    assert "3.1%" in history and "2.8%" in history and "2.9%" in history
    assert "0.4%" in await chat.ok("/kpi history ctr")


async def test_an_import_without_fractions_offers_no_x100(chat: FakeChat) -> None:
    await chat.ok(CONV)
    [preview] = await chat.say("/kpi import\nconv 2.9 2026-11-21\nconv 0.031% 2026-11-20")
    assert [b.label for b in preview.buttons] == ["Apply import", "Cancel"]
    pending = preview.buttons[0].command.split()[3]
    assert await chat.error(f"/kpi import apply {pending} x100") == (
        "That import offered no ×100 reading: press Apply import or Cancel."
    )
    assert await chat.ok(f"/kpi import apply {pending}") == "Imported 2 values: Conversion."
    assert "0.031%" in await chat.ok("/kpi history conv")


FRACTION = (
    "0.031 reads like a share written as a fraction on Conversion, counted in % (its target "
    "and baseline: 1% to 3%): write 3.1 for 3.1%, or 0.031% with its sign if that is what it is"
)


async def test_the_ingest_api_refuses_a_fraction_it_cannot_ask_about(
    core: Core, chat: FakeChat
) -> None:
    """An integration sending conversion as 0.031 stored 0.031 %: every value red. No one
    is there to ask, so the item is refused, saying how to send either reading (probe16)."""
    await chat.ok(CONV)
    body = [
        {"kpi": "conv", "value": 0.031},
        {"kpi": "conv", "value": "0.029%", "date": "2026-11-20"},
        {"kpi": "conv", "value": 2.8, "date": "2026-11-19"},
    ]
    assert await posted(chat, body) == (
        200,
        {
            "stored": 2,
            "accepted": [
                {"index": 1, "kpi": "conv", "date": "2026-11-20", "value": 0.029},
                {"index": 2, "kpi": "conv", "date": "2026-11-19", "value": 2.8},
            ],
            "rejected": [{"index": 0, "reason": FRACTION, "kpi": "conv"}],
        },
    )


async def test_a_pull_refuses_a_fraction_as_a_bad_row(
    chat: FakeChat, sheet: CsvServer, core: Core
) -> None:
    await chat.ok(CONV)
    await chat.ok(f"/source add sheet csv {sheet.url} every=day")
    assert await pulled(core, chat, sheet, "Date,conv\n2026-11-19,0.031\n2026-11-20,0.029%\n") == [
        f"Source sheet: 1 bad row(s): line 2, conv: {FRACTION}. "
        "I'll say so again only if it changes; /source shows the status."
    ]
    assert [m.value for m in core.store.kpis.history(chat.chat.key, "conv")] == [0.029]


async def test_a_values_sheet_sent_as_a_file_refuses_a_fraction(chat: FakeChat) -> None:
    await chat.ok(CONV)
    [reply] = await attach(chat, "scorecard", b"kpi,value,date\nconv,0.031,2026-11-19\n")
    assert (reply.kind, reply.plain()) == (
        "error",
        f"Import refused, nothing was changed: 1 problem\nline 2, value: {FRACTION}",
    )
    assert "has no values yet" in await chat.ok("/kpi history conv")
