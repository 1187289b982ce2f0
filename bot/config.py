"""`config.toml` → frozen, validated settings, read once at start.

An invalid file stops the bot before anything connects, with a `ConfigError` that
names the key and the problem (never the value: it may be a token). Secrets may come
from the environment instead of the file, so the file can be committed without them.
Only `bot/cli.py` turns a `ConfigError` into an exit code.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from bot.config_fields import ChatId, Host, HttpUrl, Port, Section, secret

# Secrets that may come from the environment instead of the file (a non-empty variable
# wins over the file). One explicit table rather than pydantic-settings, because:
# - its EnvSettingsSource reads `os.environ` itself (a private `_load_env_vars`), so a
#   pure `load_config(path, environ)` would mean subclassing private API;
# - with `env_nested_delimiter="_"` SLACK_BOT_TOKEN splits into slack → bot → token;
#   `env_nested_max_split=1` fixes that but also exposes every key to the environment
#   and puts init values (our TOML) above the environment, needing source reordering.
ENV_SECRETS: Mapping[str, tuple[str, str]] = {
    "SCORECARD_TELEGRAM_TOKEN": ("telegram", "token"),
    "SCORECARD_SLACK_BOT_TOKEN": ("slack", "bot_token"),
    "SCORECARD_SLACK_SIGNING_SECRET": ("slack", "signing_secret"),
    "SCORECARD_SLACK_APP_TOKEN": ("slack", "app_token"),
}


class ConfigError(Exception):
    """The configuration is unusable; each problem reads `section.key: what is wrong`."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


# --- sections --------------------------------------------------------------------------


class BotSettings(Section):
    """[bot]: process-wide behaviour."""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    timezone: str = "UTC"  # for chats that never ran /timezone
    # who may run admin commands (removals, templates, alert routing); empty: everyone
    admins: tuple[str, ...] = Field(default=(), strict=False)

    @field_validator("admins")
    @classmethod
    def _admin_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            if not re.fullmatch(r"(telegram|slack|console):\S+|@\w+", entry):
                raise PydanticCustomError(
                    "admin",
                    "each admin is platform:user_id (telegram:123456, slack:U0123) or @handle",
                )
        return tuple(entry.casefold() if entry.startswith("@") else entry for entry in value)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError(
                "timezone", "unknown timezone; use an IANA name such as Europe/Berlin or UTC"
            ) from None
        return value


class StorageSettings(Section):
    """[storage]: where the data lives."""

    path: Path = Field(default=Path("data"), strict=False)


class TelegramSettings(Section):
    """[telegram]: enabled when `token` is set."""

    token: Annotated[
        SecretStr,
        secret(r"\d+:[A-Za-z0-9_-]+", "must look like 123456789:ABC… (from @BotFather)"),
    ] = SecretStr("")
    api_base_url: HttpUrl = "https://api.telegram.org/bot"
    allowed_chats: tuple[ChatId, ...] = Field(default=(), strict=False)


class SlackSettings(Section):
    """[slack]: enabled with bot_token plus signing_secret (HTTP) or app_token (Socket Mode)."""

    bot_token: Annotated[
        SecretStr, secret(r"xoxb-\S+", "must be a bot token starting with xoxb-")
    ] = SecretStr("")
    signing_secret: Annotated[
        SecretStr, secret(r"\S+", "must be the app's signing secret, without spaces")
    ] = SecretStr("")
    app_token: Annotated[
        SecretStr, secret(r"xapp-\S+", "must be an app-level token starting with xapp-")
    ] = SecretStr("")
    api_base_url: HttpUrl = "https://slack.com/api/"
    host: Host = "127.0.0.1"
    port: Port = 3000
    path: str = "/slack/events"

    @field_validator("path")
    @classmethod
    def _absolute_path(cls, value: str) -> str:
        if not re.fullmatch(r"/\S*", value):
            raise PydanticCustomError("path", 'must start with "/", e.g. "/slack/events"')
        return value

    @model_validator(mode="after")
    def _complete(self) -> SlackSettings:
        """Half a Slack setup is a mistake worth stopping for, not a silent 'disabled'."""
        bot = bool(self.bot_token.get_secret_value())
        signing = bool(self.signing_secret.get_secret_value())
        app = bool(self.app_token.get_secret_value())
        if (signing or app) and not bot:
            raise PydanticCustomError(
                "slack_incomplete",
                "bot_token is missing (signing_secret or app_token is set without it)",
            )
        if bot and not (signing or app):
            raise PydanticCustomError(
                "slack_incomplete",
                "bot_token needs signing_secret (HTTP mode) or app_token (Socket Mode)",
            )
        return self

    @property
    def enabled(self) -> bool:
        """Whether Slack is configured at all."""
        return bool(self.bot_token.get_secret_value())

    @property
    def socket_mode(self) -> bool:
        """Socket Mode (outbound WebSocket, no public endpoint) when an app token is set."""
        return bool(self.app_token.get_secret_value())


class ApiSettings(Section):
    """[api]: the ingest API (POST /api/v1/scorecards/{id}/measurements).

    It is served on Slack's HTTP-mode server when that runs, else on host:port here.
    """

    enabled: bool = False
    host: Host = "127.0.0.1"
    port: Port = 8080
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)


class Config(BaseModel):
    """The whole validated configuration."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    bot: BotSettings = Field(default_factory=BotSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)

    @property
    def telegram_enabled(self) -> bool:
        """Telegram runs when a bot token is configured."""
        return bool(self.telegram.token.get_secret_value())

    @property
    def slack_enabled(self) -> bool:
        """Slack runs with bot_token + signing_secret, or bot_token + app_token."""
        return self.slack.enabled

    def secrets(self) -> list[str]:
        """Every configured secret, for the log redactor."""
        values = (
            self.telegram.token,
            self.slack.bot_token,
            self.slack.signing_secret,
            self.slack.app_token,
        )
        return [v.get_secret_value() for v in values if v.get_secret_value()]


# --- loading ---------------------------------------------------------------------------


def load_config(path: Path | None, environ: Mapping[str, str]) -> Config:
    """Read `path` (None: defaults only), apply secrets from `environ`, validate.

    Pure apart from reading the file: tests pass a dict as `environ`. A relative
    `storage.path` is resolved against the config file's directory.
    """
    data: dict[str, Any] = {}
    base: Path | None = None
    if path is not None:
        data = _read_toml(path)
        base = path.parent
    origins: dict[tuple[str, str], str] = {}
    for var, (section, key) in ENV_SECRETS.items():
        value = environ.get(var, "").strip()
        if not value:
            continue
        table = data.setdefault(section, {})
        if isinstance(table, dict):  # otherwise validation reports the section itself
            table[key] = value
            origins[(section, key)] = var
    problems: list[str] = []
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        # Collected here and raised outside the handler: the ValidationError holds the
        # input values (tokens included) and must not ride along as __context__.
        problems = [_describe(err, origins) for err in exc.errors(include_url=False)]
    if problems:
        raise ConfigError(problems)
    if base is not None and not config.storage.path.is_absolute():
        storage = config.storage.model_copy(update={"path": base / config.storage.path})
        config = config.model_copy(update={"storage": storage})
    problem = directory_problem(config.storage.path)
    if problem:
        raise ConfigError([f"storage.path: {problem}"])
    return config


def directory_problem(path: Path) -> str | None:
    """Why `path` cannot be (or become) the data directory, checked before anything starts."""
    if path.exists() and not path.is_dir():
        return f"{path} is a file; it must be a directory (or not exist yet)"
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else f"{parent} is a file, so {path} cannot be created"
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    problem = None
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        problem = f"{path}: file not found (start from config.example.toml)"
    except OSError as exc:
        problem = f"{path}: cannot read it ({exc.strerror})"
    except UnicodeDecodeError:
        problem = f"{path}: not UTF-8 text"
    except tomllib.TOMLDecodeError as exc:
        problem = f"{path}: not valid TOML: {exc}"
    raise ConfigError([problem])


_TYPE_WORDS = {
    "string_type": "must be a string (in quotes)",
    "int_type": "must be an integer",
    "bool_type": "must be true or false",
    "tuple_type": "must be a list, e.g. [1, 2]",
    "list_type": "must be a list, e.g. [1, 2]",
    "path_type": "must be a string (a directory path)",
    "model_type": "must be a table",
    "dict_type": "must be a table",
}


def _describe(err: ErrorDetails, origins: Mapping[tuple[str, str], str]) -> str:
    """`section.key: problem` from one pydantic error, without the offending value."""
    loc = err["loc"]
    key = _dotted(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        problem = "unknown key" + _did_you_mean(loc)
    elif kind == "missing":
        problem = "is required"
    elif kind == "model_type" and len(loc) == 1:
        problem = f"must be a table: [{loc[0]}]"
    elif kind in _TYPE_WORDS:
        problem = _TYPE_WORDS[kind]
    else:
        problem = err["msg"].replace("Input should be", "must be")
    if len(loc) >= 2 and (str(loc[0]), str(loc[1])) in origins:
        key += f" (from {origins[(str(loc[0]), str(loc[1]))]})"
    return f"{key}: {problem}" if key else problem


def _dotted(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _did_you_mean(loc: tuple[int | str, ...]) -> str:
    model: type[BaseModel] = Config
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return ""
        model = annotation
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
