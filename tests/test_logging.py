"""Log lines are one per record, carry platform/chat/command, and never show a secret."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.logging import (
    REDACTED,
    RedactingFilter,
    log_command,
    log_fields,
    reset_logging,
    setup_logging,
)
from handlers.contract import Actor, ChatRef, Command
from tests.support import FakeChat

SECRET = "s3cr3t-signing-value"
TG_TOKEN = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
SLACK_BOT = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp"
SLACK_APP = "xapp-1-A0123456789-1234567890123-abcdef0123456789"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    yield out
    reset_logging()


@pytest.fixture
def log() -> logging.Logger:
    return logging.getLogger("tests.logging_probe")


def test_configured_secret_is_redacted_from_message_and_args(
    stream: io.StringIO, log: logging.Logger
) -> None:
    setup_logging(logging.INFO, secrets=[SECRET], stream=stream)

    log.info("connecting with %s", SECRET)
    log.info(f"inline {SECRET}")  # noqa: G004 (the point: secrets in pre-formatted text)

    assert SECRET not in stream.getvalue()
    assert stream.getvalue().count(REDACTED) == 2


def test_token_shaped_strings_are_redacted_without_being_configured(
    stream: io.StringIO, log: logging.Logger
) -> None:
    setup_logging(logging.INFO, stream=stream)

    log.warning("POST https://api.telegram.org/bot%s/getMe", TG_TOKEN)
    log.warning("slack %s and %s", SLACK_BOT, SLACK_APP)

    text = stream.getvalue()
    for secret in (TG_TOKEN, SLACK_BOT, SLACK_APP):
        assert secret not in text
    assert "api.telegram.org/bot[REDACTED]/getMe" in text


def test_secret_in_exception_text_is_redacted(stream: io.StringIO, log: logging.Logger) -> None:
    setup_logging(logging.INFO, secrets=[SECRET], stream=stream)

    try:
        raise RuntimeError(f"The token `{SECRET}` was rejected by the server.")
    except RuntimeError:
        log.exception("start failed")

    text = stream.getvalue()
    assert SECRET not in text
    assert "RuntimeError: The token `[REDACTED]` was rejected" in text


def test_every_record_is_one_line_with_platform_chat_and_command_columns(
    stream: io.StringIO, log: logging.Logger
) -> None:
    setup_logging(logging.INFO, stream=stream)

    log.info("plain")
    log.info("sent\nover two lines", extra=log_fields("telegram", "-100200", "kpi"))
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")

    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].endswith(" INFO tests.logging_probe platform=- chat=- command=- plain")
    assert " platform=telegram chat=-100200 command=kpi sent\\nover two lines" in lines[1]
    assert "ValueError: boom" in lines[2]
    stamp = lines[0].split(" ", 1)[0]
    assert stamp.endswith("Z")
    datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_log_command_fills_the_columns_from_the_command(
    stream: io.StringIO, log: logging.Logger
) -> None:
    setup_logging(logging.INFO, stream=stream)
    cmd = Command(
        name="kpi",
        text="set cac 95 private note",
        actor=Actor(platform="telegram", user_id="42", display_name="Anna"),
        chat=ChatRef(platform="telegram", chat_id="-100200"),
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
    )

    log_command(log, cmd)

    line = stream.getvalue().strip()
    assert "platform=telegram chat=-100200 command=kpi command from user 42 via command" in line
    assert "private note" not in line  # free text stays out of the logs


def test_http_client_loggers_are_quieted_because_they_print_token_urls(
    stream: io.StringIO,
) -> None:
    setup_logging(logging.DEBUG, stream=stream)

    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("httpcore").getEffectiveLevel() == logging.WARNING


def test_setting_up_twice_keeps_one_handler_and_reset_restores(stream: io.StringIO) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    factory = logging.getLogRecordFactory()

    setup_logging(logging.INFO, stream=stream)
    setup_logging(logging.INFO, stream=stream)
    assert len(root.handlers) == len(before) + 1

    reset_logging()
    assert root.handlers == before
    assert logging.getLogRecordFactory() is factory


def test_filter_can_learn_secrets_later_and_ignores_trivially_short_ones() -> None:
    redactor = RedactingFilter(["", "abc"])
    redactor.add_secrets([SECRET])
    assert redactor.redact(f"abc {SECRET}") == f"abc {REDACTED}"


async def test_a_refused_command_logs_no_user_text_and_has_platform_and_chat(
    chat: FakeChat, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="handlers.router")
    await chat.error("/kpi set my-private-salary-note 84")

    [record] = [r for r in caplog.records if r.getMessage().startswith("refused")]
    assert "salary" not in record.getMessage()
    fields = (record.platform, record.chat, record.command)  # type: ignore[attr-defined]
    assert fields == ("console", "team", "kpi")
