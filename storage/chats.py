"""Per-chat settings: timezone, OKR cycle, focus warnings."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Final, Literal, get_args

from pydantic import BaseModel, ConfigDict

from storage.base import Tables, WholeTable, register_whole, to_doc
from storage.changes import Changes

#: How a chat writes numbers (`/numbers`): a dot groups thousands in the first.
NumberStyle = Literal["1.234,5", "1,234.5"]
NUMBER_STYLES: Final[tuple[str, ...]] = get_args(NumberStyle)


class ChatSettings(BaseModel):
    """Settings of one chat; defaults apply until someone changes them."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    timezone: str = "UTC"
    okr_cycle: str | None = None  # None: the current quarter
    #: How the chat writes numbers (`/numbers`): `1.234,5` where a dot groups thousands
    #: (Danish, German: `1.200` is 1 200), or `1,234.5`; named so in `/history`.
    numbers: NumberStyle = "1,234.5"

    @property
    def dots_group(self) -> bool:
        """Whether a dot groups thousands in this chat (`/numbers 1.234,5`)."""
        return self.numbers == "1.234,5"


class ChatRepo:
    """Chat settings, one document per chat (audited whole, kind `settings`)."""

    #: Table kinds the sweep reads for every chat (`Store.sweep_preload`).
    SWEPT: ClassVar[tuple[str, ...]] = ("settings:",)

    def __init__(
        self, db: Tables, default_timezone: str = "UTC", changes: Changes | None = None
    ) -> None:
        self._db = db
        self._default = ChatSettings(timezone=default_timezone)
        self._changes = changes or Changes()
        register_whole(db, self._changes, "settings")

    def settings(self, chat: str) -> ChatSettings:
        """The chat's settings (defaults, with the configured timezone, when never set)."""
        return self._db.first_model(f"settings:{chat}", ChatSettings) or self._default

    def dots_group(self, chat: str) -> Callable[[], bool]:
        """Whether a dot groups thousands in the chat, asked only when called: numbers are
        read through it (`parsing.chat_numbers`), and only a `1.200` asks."""
        return lambda: self.settings(chat).dots_group

    def save(self, chat: str, settings: ChatSettings) -> None:
        """Replace the chat's settings."""
        WholeTable(self._db, "settings", chat, self._changes).replace([to_doc(settings)])
