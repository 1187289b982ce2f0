"""Writes held for the length of a block and made once, per key, when it ends."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

__all__ = ["Holding"]

V = TypeVar("V")


class Holding(Generic[V]):
    """What a repository changes inside `block()`, per chat, written by `write` when the
    block ends: a job that changes a chat's table several times writes it once.

    Run the block inside `store.atomic()`: the writes become durable with the step's
    commit. If the block raises, what it held is dropped. A nested block joins the outer.
    """

    def __init__(self, write: Callable[[str, V], None]) -> None:
        self._write = write
        #: What is held, by chat (None outside a block); the repository reads and fills it.
        self.held: dict[str, V] | None = None

    def block(self) -> AbstractContextManager[None]:
        """Hold the writes made in the block; make them when it ends."""
        return _Block(self) if self.held is None else _JOINED

    def _end(self, failed: bool) -> None:
        held, self.held = self.held, None
        if failed or held is None:
            return
        for chat, value in held.items():
            self._write(chat, value)


class _Block(AbstractContextManager[None]):
    """An outermost `Holding.block()` (a class, not a generator: a busy sweep opens two
    per chat it looks at, and the generator's machinery was most of their cost)."""

    __slots__ = ("_holding",)

    def __init__(self, holding: Holding[Any]) -> None:
        self._holding = holding

    def __enter__(self) -> None:
        self._holding.held = {}

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        self._holding._end(failed=exc_type is not None)


#: A nested block: it joins the outer one, which writes everything when it ends.
_JOINED: AbstractContextManager[None] = contextlib.nullcontext()
