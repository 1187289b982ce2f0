"""Process-wide logging: one grep-able line per record, and no secret ever printed.

Chat tokens leak easily: httpx logs every request URL (Telegram puts the bot token in
the path) and PTB's `InvalidToken` message quotes the token. So redaction happens when
a record is created, before any handler (ours, pytest's caplog, anything added later)
can see it, and the loggers that print URLs are kept at WARNING.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from handlers.contract import Command

REDACTED = "[REDACTED]"

# Shapes of credentials we redact even when nobody configured them as secrets.
TOKEN_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?<![0-9])[0-9]{6,12}:[A-Za-z0-9_-]{30,}"),  # Telegram bot token
    re.compile(r"xox[a-z]-[A-Za-z0-9-]{10,}"),  # Slack bot/user/refresh tokens
    re.compile(r"xapp-[A-Za-z0-9-]{10,}"),  # Slack app-level token
)

# Loggers that print request URLs (with the Telegram token) at INFO/DEBUG.
NOISY_LOGGERS = ("httpx", "httpcore")

# Secrets shorter than this would shred ordinary words out of every line.
_MIN_SECRET_LENGTH = 6

_FIELDS = ("platform", "chat", "command")


class RedactingFilter(logging.Filter):
    """Replaces secrets in a record's message, arguments, exception and stack text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: list[str] = []
        self.add_secrets(secrets)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Also redact these (e.g. tokens read from config after logging was set up)."""
        for secret in secrets:
            if len(secret) >= _MIN_SECRET_LENGTH and secret not in self._secrets:
                self._secrets.append(secret)
        # Longest first, so a secret containing another is replaced whole.
        self._secrets.sort(key=len, reverse=True)

    def redact(self, text: str) -> str:
        """`text` with every configured secret and token-shaped string replaced."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        for pattern in TOKEN_PATTERNS:
            text = pattern.sub(REDACTED, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place; the record always passes."""
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw parts, still redacted
            message = f"{record.msg!s} {record.args!r}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class LineFormatter(logging.Formatter):
    """`time level logger platform=… chat=… command=… message` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record; newlines (tracebacks too) are escaped to keep one line."""
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        fields = " ".join(f"{name}={getattr(record, name, None) or '-'}" for name in _FIELDS)
        text = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            text = f"{text} | {record.exc_text}"
        if record.stack_info:
            text = f"{text} | {record.stack_info}"
        text = text.replace("\r", "").replace("\n", "\\n")
        return f"{stamp.replace('+00:00', 'Z')} {record.levelname} {record.name} {fields} {text}"


@dataclass
class _Installed:
    handler: logging.Handler
    redactor: RedactingFilter
    previous_factory: Any
    previous_level: int
    previous_noisy: dict[str, int]


_installed: _Installed | None = None


def setup_logging(
    level: int | str = logging.INFO,
    secrets: Iterable[str] = (),
    *,
    stream: TextIO | None = None,
) -> RedactingFilter:
    """Send single-line records to stderr (or `stream`) with secrets redacted everywhere.

    Calling it again replaces the previous setup. Returns the filter so secrets learnt
    later can be added with `add_secrets`.
    """
    reset_logging()
    global _installed
    redactor = RedactingFilter(secrets)
    previous_factory = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = previous_factory(*args, **kwargs)
        redactor.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(LineFormatter())
    handler.addFilter(redactor)  # also covers records made before the factory was swapped
    root = logging.getLogger()
    previous_noisy = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    _installed = _Installed(handler, redactor, previous_factory, root.level, previous_noisy)
    root.addHandler(handler)
    root.setLevel(level)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return redactor


def redact(text: str) -> str:
    """`text` with secrets removed: the configured ones once `setup_logging` ran, and
    token-shaped strings always (for what is printed outside the log, e.g. by the CLI)."""
    redactor = _installed.redactor if _installed is not None else RedactingFilter()
    return redactor.redact(text)


def reset_logging() -> None:
    """Undo `setup_logging` (tests, reconfiguration); a no-op when it was not called."""
    global _installed
    if _installed is None:
        return
    root = logging.getLogger()
    root.removeHandler(_installed.handler)
    _installed.handler.close()
    root.setLevel(_installed.previous_level)
    logging.setLogRecordFactory(_installed.previous_factory)
    for name, level in _installed.previous_noisy.items():
        logging.getLogger(name).setLevel(level)
    _installed = None


def log_fields(
    platform: str | None = None, chat: str | None = None, command: str | None = None
) -> dict[str, str]:
    """The `extra=` mapping that fills the platform/chat/command columns."""
    fields = {"platform": platform, "chat": chat, "command": command}
    return {key: value for key, value in fields.items() if value}


def log_command(
    logger: logging.Logger,
    cmd: Command,
    msg: str = "command from user %s via %s",
    *args: object,
    level: int = logging.INFO,
) -> None:
    """Log one line about `cmd` with its platform, chat and command name as columns.

    Without `args` the default message names the sender and how the command arrived;
    the command's free text is left out on purpose (it may hold personal notes).
    """
    if not args and msg == "command from user %s via %s":
        args = (cmd.actor.user_id, cmd.via)
    fields = log_fields(cmd.chat.platform, cmd.chat.chat_id, cmd.name)
    logger.log(level, msg, *args, extra=fields, stacklevel=2)
