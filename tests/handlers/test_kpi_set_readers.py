"""The formula KPIs a `/kpi set` recalculates and a `/kpi remove` refuses over
(`calculated.readers`, remembered per version of the chat's KPI definitions) are always
those a full scan of the definitions finds."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.app import build_core
from handlers import calculated
from scoring.models import Kpi

CHAT = "console:team"
AT = datetime(2026, 11, 2, tzinfo=UTC)
MANUAL = ("a", "b", "c")
FORMULAS = ("a + b", "b * 2", "c / a", "f1 - c", "a", "f2 + b")

# (what, which formula KPI, which formula): define or re-define it, remove it, restore it,
# delete it for good, or change a manual KPI (a definition change that reads no formula)
_ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["define", "remove", "restore", "purge", "touch"]),
        st.sampled_from(["f1", "f2", "f3"]),
        st.sampled_from(FORMULAS),
    ),
    max_size=25,
)


def _scanned(kpis: list[Kpi], key: str) -> list[Kpi]:
    """What `calculated.readers` gave before it was remembered: every live KPI scanned."""
    return [k for k in kpis if k.formula and key in calculated.compiled(k.formula).inputs]


@settings(max_examples=60, deadline=None)
@given(actions=_ACTIONS)
def test_the_remembered_readers_are_the_scanned_ones_after_any_definition_changes(
    actions: list[tuple[str, str, str]],
) -> None:
    core = build_core(None, clock=lambda: AT)
    repo = core.store.kpis
    for key in MANUAL:
        repo.put(CHAT, Kpi(key=key, name=key.upper(), objective="o", target=10))
    for what, key, formula in actions:
        stored = repo.get(CHAT, key)
        if what == "define" and formula != key:
            repo.put(CHAT, Kpi(key=key, name=key, objective="o", target=10, formula=formula))
        elif what == "remove" and stored is not None:
            repo.put(CHAT, stored.model_copy(update={"removed_at": AT}))
        elif what == "restore" and stored is not None:
            repo.put(CHAT, stored.model_copy(update={"removed_at": None}))
        elif what == "purge" and stored is not None:
            repo.purge(CHAT, key)
        elif what == "touch":
            repo.put(CHAT, Kpi(key="c", name=formula, objective="o", target=10))
        for read in (*MANUAL, "f1", "f2", "f3"):
            assert calculated.readers(core.ctx, CHAT, read) == _scanned(repo.all(CHAT), read)
    core.close()
