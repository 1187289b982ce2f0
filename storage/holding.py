"""Writes held for the length of a block and made once, per key, when it ends."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

from storage.errors import StoreError

__all__ = ["HeldChangesSpoiled", "Holding"]

V = TypeVar("V")


class HeldChangesSpoiled(StoreError):
    """A block holding writes ended normally, but a part of it failed and was caught: a
    nested `block()` or an `atomic()` opened inside it raised. What that part held cannot
    be told from the rest (nothing is written per part), so nothing is written and the
    error rolls back the enclosing step rather than storing a failed part's changes."""

    def __init__(self) -> None:
        super().__init__(
            "a nested batch() or atomic() inside a batch() failed and its error was caught: "
            "its held changes cannot be undone alone, so the whole batch is dropped"
        )


def _no_rollbacks() -> int:
    return 0


class Holding(Generic[V]):
    """What a repository changes inside `block()`, per chat, written by `write` when the
    block ends: a job that changes a chat's table several times writes it once.

    Run the block inside `store.atomic()`: the writes become durable with the step's
    commit. If the block raises, what it held is dropped. A nested block joins the outer;
    if a nested block, or an `atomic()` opened inside the block (`rollbacks` counts the
    store's rolled-back atomic blocks), fails and the outer block goes on, the outer one
    refuses to write when it ends (`HeldChangesSpoiled`): the failed part's held changes
    are mixed with the rest, and writing them would break its all-or-nothing promise.
    """

    def __init__(
        self, write: Callable[[str, V], None], rollbacks: Callable[[], int] = _no_rollbacks
    ) -> None:
        self._write = write
        self._rollbacks = rollbacks
        #: What is held, by chat (None outside a block); the repository reads and fills it.
        self.held: dict[str, V] | None = None
        self._spoiled = False  # a nested block failed inside the current outer one
        self._rolled = 0  # `rollbacks()` when the outer block began

    def block(self) -> AbstractContextManager[None]:
        """Hold the writes made in the block; make them when it ends."""
        return _Block(self) if self.held is None else _Joined(self)

    def _begin(self) -> None:
        self.held = {}
        self._spoiled = False
        self._rolled = self._rollbacks()

    def _end(self, failed: bool) -> None:
        held, self.held = self.held, None
        if failed or held is None:
            return
        if self._spoiled or self._rollbacks() != self._rolled:
            raise HeldChangesSpoiled()
        for chat, value in held.items():
            self._write(chat, value)


class _Block(AbstractContextManager[None]):
    """An outermost `Holding.block()` (a class, not a generator: a busy sweep opens two
    per chat it looks at, and the generator's machinery was most of their cost)."""

    __slots__ = ("_holding",)

    def __init__(self, holding: Holding[Any]) -> None:
        self._holding = holding

    def __enter__(self) -> None:
        self._holding._begin()

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        self._holding._end(failed=exc_type is not None)


class _Joined(AbstractContextManager[None]):
    """A nested block: it joins the outer one, which writes everything when it ends; if
    it fails, the outer one may no longer write (its held changes include the failure's)."""

    __slots__ = ("_holding",)

    def __init__(self, holding: Holding[Any]) -> None:
        self._holding = holding

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is not None:
            self._holding._spoiled = True
