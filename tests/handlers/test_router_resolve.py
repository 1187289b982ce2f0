"""`Router.resolve` finds the longest registered path that starts the command's words, and
tries no prefix longer than the longest path (a `/kpi set cac 95` hashed four-word and
three-word tuples that no route has): the same route and arguments as trying every one."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from handlers import build_router
from handlers.contract import CommandError
from handlers.router import ALIASES, Route, Router

_ROUTER = build_router()
_WORDS = sorted({w for route in _ROUTER._routes for w in route} | {"Set", "KPI", "x", "95"})


def _every_prefix(
    router: Router, name: str, tokens: Sequence[str]
) -> tuple[Route, tuple[str, ...]]:
    """The rule as it was: every prefix of the words, longest first."""
    name = ALIASES.get(name, name)
    words = (name, *map(str.casefold, tokens))
    for size in range(len(words), 0, -1):
        route = router._routes.get(words[:size])
        if route is not None:
            return route, tuple(tokens[size - 1 :])
    raise CommandError("unknown")


def _same(router: Router, name: str, tokens: list[str]) -> None:
    try:
        expected: object = _every_prefix(router, name, tokens)
    except CommandError:
        expected = CommandError
    try:
        found: object = router.resolve(name, tokens)
    except CommandError:
        found = CommandError
    assert found == expected


_NAMES = st.sampled_from(sorted({route[0] for route in _ROUTER._routes} | set(ALIASES)))
_TOKENS = st.lists(st.sampled_from(_WORDS), max_size=6)
#: A registered path's words (as typed, in any case) and more words after them.
_PATHS = st.tuples(
    st.sampled_from(sorted(_ROUTER._routes)), st.lists(st.sampled_from(_WORDS), max_size=3)
).map(lambda found: (found[0][0], [*found[0][1:], *found[1]]))
_CALLS = st.one_of(st.tuples(_NAMES, _TOKENS), _PATHS)


@settings(max_examples=400, deadline=None)
@given(_CALLS)
def test_resolve_finds_what_trying_every_prefix_finds(call: tuple[str, list[str]]) -> None:
    _same(_ROUTER, *call)


def test_the_property_catches_a_search_one_word_too_short(monkeypatch: pytest.MonkeyPatch) -> None:
    """A planted bug: the longest path taken one word shorter than it is."""
    router = build_router()
    monkeypatch.setattr(router, "_longest", router._longest - 1)
    check = settings(max_examples=400, deadline=None, phases=[Phase.generate], derandomize=True)(
        given(_CALLS)(lambda call: _same(router, *call))
    )
    with pytest.raises(AssertionError):
        check()
