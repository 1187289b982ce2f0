"""The terminal chat: the embedded default that needs no token and no server.

Interactive on a terminal; when stdin is a pipe it reads one message per line, prints each
reply and exits at end of input, so sessions can be scripted. When whoever reads the output
goes away (`… | head`), the session ends quietly, like any command-line tool: an alert due
then stays in the outbox for the next session instead of a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.adapters.base import DeliveryError, Dispatch, Prepare, drawn, split_picture
from handlers.contract import PASTED, Actor, Attachment, ChatRef, Command, Reply
from handlers.parsing import command_from_text

_LOGGER = logging.getLogger(__name__)

CONSOLE_CHAT = ChatRef(platform="console", chat_id="local")


def render_console(reply: Reply) -> str:
    """What the terminal shows for a reply (errors marked so they stand out)."""
    text = reply.plain()
    if reply.kind == "error":
        return f"⚠ {text}"
    if reply.kind in ("alert", "digest", "reminder"):
        return f"🔔 {text}"
    return text


def _beside(footer: str | None, saved: str) -> str:
    """Where a picture or file was saved, after the reply's own footer (never over it)."""
    return f"{footer}\n{saved}" if footer else saved


#: Commands whose file the terminal attaches by name: `/scorecard import FILE`,
#: `/kpi import FILE.csv` (the console is the one place a path names a local file).
_FILE_COMMANDS = {"scorecard", "kpi"}
#: A message alone on its line that opens a pasted block (lines until empty or /end).
PASTE_OPENERS = {"/kpi import"}


def attach_named_file(cmd: Command) -> Command:
    """`/scorecard import FILE`, `/kpi import FILE`: the terminal attaches a file by name."""
    words = cmd.text.split(None, 1)
    if cmd.name not in _FILE_COMMANDS or len(words) != 2 or words[0].casefold() != "import":
        return cmd
    path = Path(words[1].strip().strip("'\""))
    if "\n" in words[1] or not path.is_file():
        return cmd
    return cmd.model_copy(
        update={
            "text": "import",
            "attachment": Attachment(filename=path.name, data=path.read_bytes()),
        }
    )


class ConsoleAdapter:
    """Reads messages from a terminal or pipe, prints replies."""

    platform = "console"

    def __init__(
        self,
        dispatch: Dispatch,
        *,
        user: str,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        image_dir: Path | None = None,
        file_dir: Path | None = None,
        prepare: Prepare | None = None,
    ) -> None:
        self._dispatch = dispatch
        self._prepare = prepare
        self._stdin = stdin or sys.stdin
        self._stdout = stdout or sys.stdout
        self._clock = clock
        self._image_dir = image_dir
        self._file_dir = file_dir
        self._saved: set[Path] = set()  # written this session: never overwritten
        self._actor = Actor(platform="console", user_id=user, display_name=user, handle=f"@{user}")
        self.interactive = self._stdin.isatty()
        self.closed = False  # the output's reader went away: the session is over

    async def start(self) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Nothing to release."""

    async def send(self, reply: Reply, skip: int = 0) -> None:
        """Print a message that is not an answer (alerts, digests); it is printed whole (the
        console keeps no reply for later, so no part of one has arrived before)."""
        try:
            self._print(reply)
        except BrokenPipeError:
            raise DeliveryError("the terminal's output is closed", permanent=False) from None

    def _save(self, folder: Path, filename: str, data: bytes) -> Path:
        """Write `data` under `filename`, or `name-2.png`, `name-3.png`… when an earlier reply
        of this session saved that name: two charts of one KPI each keep their own picture,
        and the path an earlier reply printed still shows what it showed."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / filename
        copy = 1
        while path in self._saved:
            copy += 1
            path = folder / f"{Path(filename).stem}-{copy}{Path(filename).suffix}"
        path.write_bytes(data)
        self._saved.add(path)
        return path

    def _print(self, reply: Reply) -> None:
        if reply.image is not None and self._image_dir is not None:
            path = self._save(self._image_dir, reply.image.filename, reply.image.data)
            reply = reply.model_copy(
                update={
                    "image": None,
                    "footer": _beside(reply.footer, f"(picture saved to {path})"),
                }
            )
        if reply.document is not None and self._file_dir is not None:
            path = self._save(self._file_dir, reply.document.filename, reply.document.data)
            reply = reply.model_copy(
                update={
                    "document": None,
                    "footer": _beside(reply.footer, f"(file saved to {path})"),
                }
            )
        if self.closed:
            raise BrokenPipeError(32, "the terminal's output is closed")
        try:
            self._stdout.write(render_console(reply) + "\n")
            self._stdout.flush()
        except BrokenPipeError:
            self._close_output()
            raise

    def _close_output(self) -> None:
        """Point the output at /dev/null, so the text still buffered for the closed pipe is
        not flushed again at exit (Python would print 'Exception ignored … BrokenPipeError')."""
        self.closed = True
        with contextlib.suppress(OSError, ValueError):
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self._stdout.fileno())
            os.close(null)

    async def handle_line(self, line: str) -> None:
        """Dispatch one typed line and print its replies."""
        text = line.strip()
        if not text:
            return
        cmd = command_from_text(
            text, actor=self._actor, chat=CONSOLE_CHAT, received_at=self._clock()
        )
        if cmd is None:
            self._print(
                Reply(
                    text="I understand commands (try /help) and #initiative +1 messages.",
                    kind="error",
                )
            )
            return
        cmd = attach_named_file(cmd)
        await self._answer(cmd)

    async def _answer(self, cmd: Command) -> None:
        """Print the words of each reply, then draw and print its picture, if any."""
        for reply in await self._dispatch(cmd):
            for part in split_picture(reply):
                ready = await drawn(self._prepare, part, _LOGGER, self.platform, "console")
                if ready is not None:
                    self._print(ready)

    async def run(self) -> None:
        """Chat until end of input (Ctrl-D), /quit, or until the output is closed."""
        try:
            await self._chat()
        except BrokenPipeError:
            self._close_output()

    async def _chat(self) -> None:
        if self.interactive:
            self._stdout.write("scorecard-bot console: type /help, /quit to leave.\n")
        while True:
            if self.interactive:
                self._stdout.write("> ")
                self._stdout.flush()
            line = await asyncio.to_thread(self._stdin.readline)
            if not line or line.strip() in ("/quit", "/exit") or self.closed:
                return
            if " ".join(line.split()).casefold() in PASTE_OPENERS:
                await self.handle_block(line, await self._read_block())
                continue
            await self.handle_line(line)

    async def _read_block(self) -> str:
        """Lines after `/kpi import` until an empty line, `/end` or end of input."""
        if self.interactive:
            self._stdout.write("Paste the lines; finish with an empty line or /end.\n")
            self._stdout.flush()
        lines: list[str] = []
        while True:
            line = await asyncio.to_thread(self._stdin.readline)
            if not line.strip() or line.strip().casefold() == "/end":
                return "\n".join(lines)
            lines.append(line.rstrip("\r\n"))

    async def handle_block(self, line: str, block: str) -> None:
        """Dispatch `/kpi import` with a pasted block (each line would be a message)."""
        cmd = command_from_text(
            line.strip(), actor=self._actor, chat=CONSOLE_CHAT, received_at=self._clock()
        )
        if cmd is None:  # pragma: no cover - the openers are commands
            return
        # The bytes as typed: a byte that is not UTF-8 is quoted in its line's refusal (an
        # attached file is refused whole), never a crash of the console (stdin decodes it to
        # a lone surrogate).
        pasted = Attachment(filename=PASTED, data=block.encode(errors="surrogateescape"))
        await self._answer(cmd.model_copy(update={"attachment": pasted}))
