"""Per-chat settings: timezone, OKR cycle, focus warnings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from storage.base import Tables, save_single, single, to_doc


class ChatSettings(BaseModel):
    """Settings of one chat; defaults apply until someone changes them."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    timezone: str = "UTC"
    okr_cycle: str | None = None  # None: the current quarter


class ChatRepo:
    """Chat settings, one document per chat."""

    def __init__(self, db: Tables, default_timezone: str = "UTC") -> None:
        self._db = db
        self._default = ChatSettings(timezone=default_timezone)

    def settings(self, chat: str) -> ChatSettings:
        """The chat's settings (defaults, with the configured timezone, when never set)."""
        return single(self._db, f"settings:{chat}", ChatSettings) or self._default

    def save(self, chat: str, settings: ChatSettings) -> None:
        """Replace the chat's settings."""
        save_single(self._db, f"settings:{chat}", to_doc(settings))
