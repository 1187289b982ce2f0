"""The GIL switch interval the store's writer thread needs is set by the serving bot's
command line, once, and by nothing a test or tool merely imports or opens."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from bot import cli, runtime
from handlers.pictures.painter import Painter


@pytest.fixture
def interval() -> Iterator[None]:
    """Whatever a test sets, the process gets its interval back."""
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("interval")
def test_the_bot_lets_the_writer_thread_have_the_gil_back_within_half_a_millisecond() -> None:
    sys.setswitchinterval(0.005)  # CPython's default
    runtime.tune_interpreter()
    assert sys.getswitchinterval() <= runtime.SWITCH_INTERVAL_S == 0.0005


@pytest.mark.usefixtures("interval")
def test_tuning_never_raises_a_lower_interval_someone_chose() -> None:
    sys.setswitchinterval(0.0001)
    chosen = sys.getswitchinterval()
    runtime.tune_interpreter()
    assert sys.getswitchinterval() == chosen


@pytest.mark.parametrize(
    ("argv", "tuned"), [(["console", "--help"], 1), (["doctor", "--help"], 0)]
)
def test_the_command_line_tunes_the_interpreter_only_for_the_modes_that_serve_chats(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], tuned: int
) -> None:
    calls: list[None] = []
    monkeypatch.setattr(cli, "tune_interpreter", lambda: calls.append(None))
    monkeypatch.setattr(Painter, "warm", lambda self: None)
    monkeypatch.setattr(sys, "argv", ["scorecard-bot", *argv])
    with pytest.raises(SystemExit):
        cli.main()
    assert len(calls) == tuned


def test_calls_made_with_arguments_leave_the_interpreter_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tests call `main([...])` in-process: only the real command line (no argv) tunes."""
    calls: list[None] = []
    monkeypatch.setattr(cli, "tune_interpreter", lambda: calls.append(None))
    with pytest.raises(SystemExit):
        cli.main(["console", "--help"])
    assert calls == []
