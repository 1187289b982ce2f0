"""Every start-up failure is one line on stderr, exit code 2, no traceback, no secret.

`main()` runs in this process (the fake APIs serve from a background thread), so each
case costs milliseconds instead of a Python start-up.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import pytest
from aiohttp import web

from bot.cli import main
from bot.logging import reset_logging
from storage import open_store
from tests.fakes.loopback import LoopbackServer
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlackAPI
from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI


class InThread:
    """Serves a loopback fake from its own event loop in a thread, while `main()` runs."""

    def __init__(self, server: LoopbackServer) -> None:
        self.server = server
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(5)
        return self.server

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()


class EchoingSlack(LoopbackServer):
    """A Slack API that answers auth.test but echoes the Authorization header in errors."""

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/{method}", self._api)

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "auth.test":
            return web.json_response({"ok": True, "user_id": "U0BOT", "team_id": "T0"})
        return web.json_response({"ok": False, "error": request.headers["Authorization"]})


@pytest.fixture(autouse=True)
def _logging_reset() -> Iterator[None]:
    yield
    reset_logging()


def start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, *args: str
) -> tuple[int, str]:
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\npath = "data"\n{config}', encoding="utf-8")
    code = main(["run", "--config", str(path), *args])
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    assert err.rstrip("\n").splitlines()[-1].startswith("scorecard-bot: "), err
    return code, err.rstrip("\n").splitlines()[-1]


@pytest.fixture
def slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCORECARD_SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SCORECARD_SLACK_SIGNING_SECRET", SIGNING_SECRET)


def slack_http(api: LoopbackServer, host: str = "127.0.0.1", port: int = 3000) -> str:
    url = f"http://127.0.0.1:{api.port}/api/"
    return f'[slack]\napi_base_url = "{url}"\nhost = "{host}"\nport = {port}\n'


@pytest.mark.usefixtures("slack_env")
def test_slack_port_already_in_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with InThread(FakeSlackAPI()) as api, socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, line = start(tmp_path, capsys, slack_http(api, port=port))
    assert code == 2
    assert line == (
        f"scorecard-bot: could not start: cannot listen on 127.0.0.1:{port}: "
        "the port is in use ([slack] port)"
    )


@pytest.mark.usefixtures("slack_env")
def test_slack_host_that_does_not_resolve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with InThread(FakeSlackAPI()) as api:
        code, line = start(tmp_path, capsys, slack_http(api, host="no-such-host.invalid"))
    assert code == 2
    assert line.endswith(
        "cannot listen on [slack] host 'no-such-host.invalid': the name does not resolve"
    )


@pytest.mark.usefixtures("slack_env")
@pytest.mark.parametrize("socket_mode", [False, True])
def test_an_unreachable_slack_api_stops_the_bot_in_either_mode(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    socket_mode: bool,
) -> None:
    if socket_mode:
        monkeypatch.setenv("SCORECARD_SLACK_APP_TOKEN", APP_TOKEN)
    config = '[slack]\napi_base_url = "http://127.0.0.1:9/api/"\n'
    code, line = start(tmp_path, capsys, config)
    assert code == 2
    assert "could not reach the Slack Web API" in line


@pytest.mark.usefixtures("slack_env")
def test_an_api_echoing_the_app_token_does_not_put_it_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCORECARD_SLACK_APP_TOKEN", APP_TOKEN)
    with InThread(EchoingSlack()) as api:
        code, line = start(tmp_path, capsys, slack_http(api))
    assert code == 2
    assert line.startswith("scorecard-bot: could not start: Slack refused [slack] app_token")
    assert APP_TOKEN not in line and "xapp-" not in line


def test_a_wrong_telegram_api_path_is_not_reported_as_a_bad_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCORECARD_TELEGRAM_TOKEN", TOKEN)
    with InThread(FakeTelegramAPI()) as api:
        config = f'[telegram]\napi_base_url = "http://127.0.0.1:{api.port}/wrong/bot"\n'
        code, line = start(tmp_path, capsys, config)
    assert code == 2
    assert "404 Not Found" in line and "rejected" not in line


def test_a_data_directory_below_a_file_stops_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "data").write_text("", encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text('[storage]\npath = "data/scorecards"\n', encoding="utf-8")
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "is a file, so" in err


def test_store_files_that_became_directories_stop_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    open_store(data).close()
    for file in [p for p in data.iterdir() if p.is_file()]:
        file.unlink()
        file.mkdir()
    assert main(["console", "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("scorecard-bot: ")


def test_a_store_the_os_refuses_to_open_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read-only or immutable files: tests run as root here, so the refusal is injected.
    locked = tmp_path / "data" / "store.lock"

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(locked))

    monkeypatch.setattr("bot.app.build_core", refuse)  # imported by the console at start
    assert main(["console", "--data", str(tmp_path / "data")]) == 2
    assert capsys.readouterr().err == (
        f"scorecard-bot: could not start: {locked}: Permission denied\n"
    )


@pytest.mark.parametrize("mode", ["console", "doctor", "export"])
def test_a_data_option_naming_a_file_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    """Found by probe9: `console --data notes.txt` answered "could not start: notes.txt:
    File exists" (doctor: "holds no scorecard-bot store"); `run` names the problem."""
    file = tmp_path / "notes.txt"
    file.write_text("", encoding="utf-8")
    assert main([mode, "--data", str(file)]) == 2
    assert capsys.readouterr().err == (
        f"scorecard-bot: --data: {file} is a file; it must be a directory (or not exist yet)\n"
    )
