"""Perspectives, objectives and cause-effect links of each chat's scorecard."""

from __future__ import annotations

from typing import ClassVar

from scoring.kpi import DEFAULT_THRESHOLDS
from scoring.models import CLASSIC_PERSPECTIVES, Link, Objective, Perspective, Thresholds
from storage.base import (
    KeyedTable,
    Tables,
    WholeTable,
    register_keyed,
    register_whole,
    to_doc,
)
from storage.changes import Changes


class ScorecardRepo:
    """One scorecard per chat; a new chat starts with the four classic perspectives.

    Audited kinds: `obj` (objectives by key); `persp`, `link` and `thresholds` (whole).
    """

    #: Table kinds the sweep reads for every chat (`Store.sweep_preload`).
    SWEPT: ClassVar[tuple[str, ...]] = ("thresholds:",)

    def __init__(self, db: Tables, changes: Changes | None = None) -> None:
        self._db = db
        self._changes = changes or Changes()
        register_keyed(db, self._changes, "obj")
        for kind in ("persp", "link", "thresholds"):
            register_whole(db, self._changes, kind)

    def _whole(self, kind: str, chat: str) -> WholeTable:
        return WholeTable(self._db, kind, chat, self._changes)

    def perspectives(self, chat: str) -> list[Perspective]:
        """Perspectives top to bottom (the classic four until the chat changes them)."""
        stored = self._db.models(f"persp:{chat}", Perspective)
        if not stored:  # never customised (removing the last perspective is refused)
            return list(CLASSIC_PERSPECTIVES)
        return sorted(stored, key=lambda p: p.order)

    def save_perspectives(self, chat: str, perspectives: list[Perspective]) -> None:
        """Replace the whole ordered list (renumbering `order` top to bottom)."""
        if not perspectives:
            raise ValueError("a scorecard keeps at least one perspective")
        self._whole("persp", chat).replace(
            [to_doc(p.model_copy(update={"order": i})) for i, p in enumerate(perspectives)]
        )

    def _objectives(self, chat: str) -> KeyedTable:
        return KeyedTable(self._db, f"obj:{chat}", self._changes)

    def objectives(self, chat: str) -> list[Objective]:
        """Every objective of the chat."""
        return self._objectives(chat).all(Objective)

    def objective(self, chat: str, key: str) -> Objective | None:
        """One objective by key."""
        return self._objectives(chat).get(Objective, key)

    def put_objective(self, chat: str, objective: Objective) -> None:
        """Create or replace an objective."""
        self._objectives(chat).put(objective)

    def remove_objective(self, chat: str, key: str) -> None:
        """Delete an objective and every link that touches it."""
        self._objectives(chat).remove(key)
        kept = [link for link in self.links(chat) if key not in (link.cause, link.effect)]
        self._save_links(chat, kept)

    def links(self, chat: str) -> list[Link]:
        """Every cause → effect link."""
        return self._db.models(f"link:{chat}", Link)

    def add_link(self, chat: str, link: Link) -> None:
        """Store a link (callers check duplicates and cycles first)."""
        links = self._whole("link", chat)
        links.replace([*links.docs(), to_doc(link)])

    def remove_link(self, chat: str, link: Link) -> bool:
        """Delete a link; True when it existed."""
        links = self.links(chat)
        if link not in links:
            return False
        self._save_links(chat, [item for item in links if item != link])
        return True

    def _save_links(self, chat: str, links: list[Link]) -> None:
        name = f"link:{chat}"
        if len(self._db.docs(name)) == len(links):
            return
        self._whole("link", chat).replace([to_doc(link) for link in links])

    def thresholds(self, chat: str) -> Thresholds:
        """The chat's colour thresholds (defaults: green ≥ 80 %, yellow ≥ 50 %)."""
        # One shared default: `/kpi` remembers results per thresholds, and the same object
        # compares at once where an equal new one is compared field by field.
        return self._db.first_model(f"thresholds:{chat}", Thresholds) or DEFAULT_THRESHOLDS

    def set_thresholds(self, chat: str, thresholds: Thresholds) -> None:
        """Replace the chat's colour thresholds."""
        self._whole("thresholds", chat).replace([to_doc(thresholds)])
