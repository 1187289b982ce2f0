"""Writes held for the length of a block and made once, per key, when it ends."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

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

    @contextlib.contextmanager
    def block(self) -> Iterator[None]:
        """Hold the writes made in the block; make them when it ends."""
        if self.held is not None:
            yield
            return
        self.held = {}
        try:
            yield
            held = self.held
        finally:
            self.held = None
        for chat, value in held.items():
            self._write(chat, value)
