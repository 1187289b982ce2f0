"""The value types config.toml fields are checked as: ports, hosts, chat ids, URLs, secrets.

Each refuses a bad value with a line that names the problem, never the value (it may be
a token); bot.config builds its sections from them.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainValidator,
    SecretStr,
)
from pydantic_core import PydanticCustomError


def _port(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535:
        return value
    raise PydanticCustomError("port", "must be an integer between 1 and 65535")


def _chat_id(value: object) -> int:
    """A numeric chat id: updates carry the id, and a public @username can change hands."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value.strip())
    if isinstance(value, str) and value.strip().startswith("@"):
        raise PydanticCustomError(
            "chat_id",
            "must be the chat's numeric id, not an @username (usernames can change hands); "
            "the bot logs the id of every chat it refuses",
        )
    raise PydanticCustomError("chat_id", "must be a chat id: a number like -1001234567890")


def _http_url(value: object) -> str:
    if isinstance(value, str) and re.fullmatch(r"https?://[^\s/]+(/\S*)?", value.strip()):
        return value.strip()
    raise PydanticCustomError("url", "must be an http:// or https:// URL")


def _host(value: object) -> str:
    """A host name or IP address to listen on (whether it resolves is checked at start)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            ipaddress.ip_address(text.strip("[]"))
        except ValueError:
            labels = text.rstrip(".").split(".")
            if text and all(
                re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?", p) for p in labels
            ):
                return text
        else:
            return text.strip("[]")
    raise PydanticCustomError(
        "host", 'must be a host name or IP address to listen on, e.g. "127.0.0.1" or "0.0.0.0"'
    )


Port = Annotated[int, PlainValidator(_port)]
Host = Annotated[str, PlainValidator(_host)]
ChatId = Annotated[int, PlainValidator(_chat_id)]
HttpUrl = Annotated[str, PlainValidator(_http_url)]


def secret(shape: str, problem: str) -> BeforeValidator:
    """A SecretStr that is empty or matches `shape`; the message never quotes the value.

    Catches the classic mix-ups (a user token xoxp- or the app token in bot_token)
    at start instead of as `invalid_auth` on the first message.
    """
    pattern = re.compile(shape)

    def check(value: object) -> SecretStr:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not isinstance(raw, str):
            raise PydanticCustomError("secret_type", "must be a string (in quotes)")
        raw = raw.strip()
        if raw and not pattern.fullmatch(raw):
            raise PydanticCustomError("secret_format", problem)
        return SecretStr(raw)

    return BeforeValidator(check)


class Section(BaseModel):
    """Every table: immutable, and an unknown key is an error (catches typos)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)
