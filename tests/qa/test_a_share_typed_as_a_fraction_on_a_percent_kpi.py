"""`/kpi set conv 0.031` on a KPI counted in % saved 0.031 %, turned it red and alerted the
team, when the 3.1 % it was meant to be sat beside its 2.7 % of last week: the far-value
question asks only beyond 100×, and 3.1 → 0.031 is 100× exactly. A share written as a
fraction (0 < value < 1, no `%` typed) is asked about when its hundredfold is nearer to the
KPI's recent values, or to its target and baseline before it has any; the question offers
both readings, and nothing is saved until one is chosen (probe15)."""

from __future__ import annotations

import pytest

from tests.support import FakeChat

CONV = '/kpi add conv "Conversion" baseline=1 target=3 unit=% perspective=customers'
CTR = '/kpi add ctr "Click-through rate" baseline=0.2 target=0.5 unit=% perspective=customers'


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
    pending = commands[0].split()[2]
    assert commands == [
        f"/kpi confirm {pending} x100",
        f"/kpi confirm {pending}",
        f"/kpi confirm {pending} cancel",
    ]
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
