"""Storage errors. Each message is a complete sentence fit to show a user and to log."""

from __future__ import annotations

from pathlib import Path


class StoreError(Exception):
    """Base of every storage failure; handlers may show `str(exc)` as is."""


class StoreLocked(StoreError):
    """Another process (or another `Database` in this one) owns the data directory."""

    def __init__(self, path: Path, pid: int | None) -> None:
        who = f"pid {pid}" if pid is not None else "pid unknown"
        super().__init__(
            f"data directory {path} is already used by another scorecard-bot ({who}). "
            "Stop it first, or point this one at another directory."
        )
        self.path = path
        self.pid = pid


class SchemaTooNew(StoreError):
    """The files were written by a newer scorecard-bot; refusing keeps them intact."""

    def __init__(self, path: Path, found: int, supported: int) -> None:
        super().__init__(
            f"{path} was written by a newer scorecard-bot (schema {found}; this one "
            f"understands {supported}). Upgrade scorecard-bot; the data was not touched."
        )
        self.path = path
        self.found = found
        self.supported = supported


class _FileTrouble(StoreError):
    """A store file that could not be used, and why (`detail`): one sentence per kind."""

    #: The sentence, with `{path}` and `{detail}` filled in.
    said = ""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(self.said.format(path=path, detail=detail))
        self.path = path
        self.detail = detail


class StoreCorrupt(_FileTrouble):
    """A store file is damaged somewhere other than a torn final record."""

    said = (
        "{path} is damaged ({detail}). Nothing was changed; restore the data directory "
        "from a backup or ask an operator to inspect the file."
    )


class StoreUnreadable(_FileTrouble):
    """SQLite could not read the file for a reason other than damage (disk full, I/O error,
    no permission): saying "damaged" would send people to replace good data."""

    said = (
        "Could not read {path} ({detail}). Nothing was changed and it was not found "
        "damaged: if the disk is full, free some space, then try again."
    )


class StoreNotOpened(_FileTrouble):
    """A write needed before the store can be used (the move of a journal-engine store, a
    migration, a new store's first commit) was refused: the bot does not start."""

    said = (
        "Could not make {path} ready ({detail}): that step was rolled back and nothing "
        "else changed. If the disk is full, free some space, then start again."
    )


class StoreFailed(StoreError):
    """Writing to disk failed (disk full, I/O error): this change was rolled back."""

    def __init__(self, path: Path, cause: BaseException) -> None:
        super().__init__(
            f"Could not save to {path} ({cause}), so nothing of this change was kept. "
            "Reading still works, and saving resumes by itself once the disk is fixed."
        )
        self.path = path
        self.cause = cause
