"""Funnels (stages over KPIs) and customer journey maps of a chat."""

from __future__ import annotations

from scoring.models import Funnel, Journey
from storage.base import KeyedTable, Tables, register_keyed
from storage.changes import Changes


class FunnelRepo:
    """Funnels and journeys of a chat, one small table of each per chat (audited by key)."""

    def __init__(self, db: Tables, changes: Changes | None = None) -> None:
        self._db = db
        self._changes = changes or Changes()
        register_keyed(db, self._changes, "funnel")
        register_keyed(db, self._changes, "journey")

    def _funnels(self, chat: str) -> KeyedTable:
        return KeyedTable(self._db, f"funnel:{chat}", self._changes)

    def _journeys(self, chat: str) -> KeyedTable:
        return KeyedTable(self._db, f"journey:{chat}", self._changes)

    def all(self, chat: str) -> list[Funnel]:
        """Every funnel."""
        return self._funnels(chat).all(Funnel)

    def get(self, chat: str, key: str) -> Funnel | None:
        """One funnel."""
        return self._funnels(chat).get(Funnel, key)

    def put(self, chat: str, funnel: Funnel) -> None:
        """Create or replace a funnel."""
        self._funnels(chat).put(funnel)

    def remove(self, chat: str, key: str) -> bool:
        """Delete a funnel (its KPIs stay)."""
        return self._funnels(chat).remove(key)

    def journeys(self, chat: str) -> list[Journey]:
        """Every customer journey map."""
        return self._journeys(chat).all(Journey)

    def journey(self, chat: str, key: str) -> Journey | None:
        """One customer journey map."""
        return self._journeys(chat).get(Journey, key)

    def put_journey(self, chat: str, journey: Journey) -> None:
        """Create or replace a journey map."""
        self._journeys(chat).put(journey)

    def remove_journey(self, chat: str, key: str) -> bool:
        """Delete a journey map."""
        return self._journeys(chat).remove(key)
