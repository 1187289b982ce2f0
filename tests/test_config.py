"""config.toml validation: defaults, environment secrets, and errors that name the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.config import ENV_SECRETS, Config, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "config.example.toml"

BOT_TOKEN = "xoxb-1111-2222-SecretBotTokenValue"
SIGNING = "8f742231b10e8888abcd99yyyzzz85a5"
APP_TOKEN = "xapp-1-A111-2222-SecretAppTokenValue"
TG_TOKEN = "123456789:AAFakeTokenOnlyForTests_abcdefghijk"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path | None, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path, environ or {})
    return str(info.value)


def test_example_file_loads_with_every_platform_disabled() -> None:
    config = load_config(EXAMPLE, {})
    assert not config.telegram_enabled
    assert not config.slack_enabled
    assert config.slack.port == 3000
    assert config.slack.path == "/slack/events"
    assert config.telegram.api_base_url == "https://api.telegram.org/bot"
    assert config.secrets() == []


def test_example_file_documents_every_key_with_a_comment() -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    documented = {
        line.split("=")[0].strip()
        for line in lines
        if re.match(r"^\w+\s*=", line) and "#" in line.split("=", 1)[1]
    }
    for section in Config.model_fields.values():
        model = section.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        for key in model.model_fields:
            assert key in documented, f"config.example.toml lacks a commented {key!r}"


def test_no_file_means_defaults() -> None:
    config = load_config(None, {})
    assert config.storage.path == Path("data")
    assert config.bot.timezone == "UTC"


def test_environment_supplies_secrets_the_file_leaves_empty() -> None:
    env = {
        "SCORECARD_SLACK_BOT_TOKEN": BOT_TOKEN,
        "SCORECARD_SLACK_SIGNING_SECRET": SIGNING,
        "SCORECARD_TELEGRAM_TOKEN": TG_TOKEN,
    }
    config = load_config(EXAMPLE, env)
    assert config.slack_enabled and config.telegram_enabled
    assert not config.slack.socket_mode
    assert config.slack.bot_token.get_secret_value() == BOT_TOKEN
    assert sorted(config.secrets()) == sorted([BOT_TOKEN, SIGNING, TG_TOKEN])


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, f'[slack]\nbot_token = "xoxb-from-file"\napp_token = "{APP_TOKEN}"\n')
    config = load_config(path, {"SCORECARD_SLACK_BOT_TOKEN": BOT_TOKEN})
    assert config.slack.bot_token.get_secret_value() == BOT_TOKEN
    assert config.slack.socket_mode


def test_empty_environment_variable_leaves_the_file_value(tmp_path: Path) -> None:
    path = write(tmp_path, f'[telegram]\ntoken = "{TG_TOKEN}"\n')
    config = load_config(path, {"SCORECARD_TELEGRAM_TOKEN": ""})
    assert config.telegram.token.get_secret_value() == TG_TOKEN


def test_env_table_names_the_documented_variables() -> None:
    assert set(ENV_SECRETS) == {
        "SCORECARD_TELEGRAM_TOKEN",
        "SCORECARD_SLACK_BOT_TOKEN",
        "SCORECARD_SLACK_SIGNING_SECRET",
        "SCORECARD_SLACK_APP_TOKEN",
    }
    text = EXAMPLE.read_text(encoding="utf-8")
    assert all(name in text for name in ENV_SECRETS)


def test_unknown_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    message = problems_of(write(tmp_path, "[slack]\nprot = 3001\n"))
    assert message == "slack.prot: unknown key (did you mean 'port'?)"


def test_unknown_section_is_named(tmp_path: Path) -> None:
    assert problems_of(write(tmp_path, "[slak]\n")).startswith("slak: unknown key")


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[slack]\nport = "3000"\n', "slack.port: must be an integer between 1 and 65535"),
        ("[slack]\nport = 70000\n", "slack.port: must be an integer between 1 and 65535"),
        ("[slack]\npath = 'events'\n", 'slack.path: must start with "/"'),
        ("[slack]\napi_base_url = 'slack.com'\n", "slack.api_base_url: must be an http"),
        ("[storage]\npath = 5\n", "storage.path: must be a string"),
        ("[telegram]\nallowed_chats = 5\n", "telegram.allowed_chats: must be a list"),
        ("[telegram]\nallowed_chats = [1.5]\n", "telegram.allowed_chats[0]: must be a chat id"),
        (
            '[telegram]\nallowed_chats = ["@marketingteam"]\n',
            "telegram.allowed_chats[0]: must be the chat's numeric id, not an @username",
        ),
        ("[slack]\nhost = 'my host'\n", "slack.host: must be a host name or IP address"),
        ("[slack]\nhost = 'http://example.com'\n", "slack.host: must be a host name"),
        ("[bot]\ntimezone = 'Mars/Base'\n", "bot.timezone: unknown timezone"),
        ("[bot]\nlog_level = 'loud'\n", "bot.log_level: must be 'DEBUG'"),
        ("slack = 1\n", "slack: must be a table"),
    ],
)
def test_wrong_type_or_value_names_the_key(tmp_path: Path, toml: str, expected: str) -> None:
    assert problems_of(write(tmp_path, toml)).startswith(expected)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "[slack]\nport = 0\nhots = 'x'\n"), {})
    assert len(info.value.problems) == 2


def test_half_a_slack_setup_is_refused(tmp_path: Path) -> None:
    message = problems_of(None, {"SCORECARD_SLACK_BOT_TOKEN": BOT_TOKEN})
    assert message.startswith("slack: bot_token needs signing_secret")
    message = problems_of(None, {"SCORECARD_SLACK_SIGNING_SECRET": SIGNING})
    assert message.startswith("slack: bot_token is missing")


def test_mistaken_token_is_refused_without_quoting_it() -> None:
    user_token = "xoxp-9999-ThisIsAUserTokenNotABotToken"
    message = problems_of(
        None,
        {"SCORECARD_SLACK_BOT_TOKEN": user_token, "SCORECARD_SLACK_SIGNING_SECRET": SIGNING},
    )
    assert message == (
        "slack.bot_token (from SCORECARD_SLACK_BOT_TOKEN): must be a bot token starting with xoxb-"
    )
    assert user_token not in message


def test_config_error_carries_no_secret_in_its_chain(tmp_path: Path) -> None:
    path = write(tmp_path, '[slack]\nbot_token = "xoxp-LeakyUserToken-123456"\nport = "x"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert info.value.__context__ is None and info.value.__cause__ is None
    assert "LeakyUserToken" not in repr(info.value)


def test_bad_toml_and_missing_file_are_config_errors(tmp_path: Path) -> None:
    assert "not valid TOML" in problems_of(write(tmp_path, "[slack\n"))
    assert "file not found" in problems_of(tmp_path / "absent.toml")


def test_relative_storage_path_is_resolved_against_the_config_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[storage]\npath = "state"\n')
    assert load_config(path, {}).storage.path == tmp_path / "state"
    absolute = write(tmp_path, f'[storage]\npath = "{tmp_path / "abs"}"\n')
    assert load_config(absolute, {}).storage.path == tmp_path / "abs"


def test_secrets_never_appear_in_repr_or_str() -> None:
    env = {
        "SCORECARD_SLACK_BOT_TOKEN": BOT_TOKEN,
        "SCORECARD_SLACK_APP_TOKEN": APP_TOKEN,
        "SCORECARD_SLACK_SIGNING_SECRET": SIGNING,
        "SCORECARD_TELEGRAM_TOKEN": TG_TOKEN,
    }
    config = load_config(EXAMPLE, env)
    shown = repr(config) + str(config) + repr(config.slack) + config.model_dump_json()
    for secret in env.values():
        assert secret not in shown


def test_config_is_frozen() -> None:
    config = load_config(None, {})
    with pytest.raises(ValueError, match="frozen"):
        config.slack.port = 1  # type: ignore[misc]


def test_a_storage_path_that_is_a_file_or_below_one_is_refused(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a directory", encoding="utf-8")
    assert problems_of(write(tmp_path, '[storage]\npath = "data"\n')).startswith(
        "storage.path: " + str(tmp_path / "data") + " is a file"
    )
    assert "is a file, so" in problems_of(write(tmp_path, '[storage]\npath = "data/sub"\n'))
