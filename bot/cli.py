"""`scorecard-bot console|run|export|import|doctor`: the only place that turns errors into exit
codes.

Only the standard library and the picture worker are imported at the top: `console` and
`run` start the worker process first, so its imports and warm-up overlap the bot's own
imports and start-up instead of following them. The
worker re-imports this module, which must therefore stay light.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path

from bot.runtime import tune_interpreter
from handlers.pictures.painter import Painter

DRAWING_MODES = (None, "console", "run")  # the modes that answer in chat, with pictures


def _parser() -> argparse.ArgumentParser:
    from bot import files_cli

    parser = argparse.ArgumentParser(prog="scorecard-bot", description=__doc__)
    sub = parser.add_subparsers(dest="mode")
    console = sub.add_parser("console", help="chat in the terminal (no tokens needed)")
    console.add_argument("--data", type=Path, default=Path("data"), help="data directory")
    console.add_argument("--user", default=None, help="your name in the chat")
    console.add_argument("--demo", action="store_true", help="fill an empty store with the demo")
    run = sub.add_parser("run", help="start every configured platform")
    run.add_argument("--config", type=Path, default=Path("config.toml"))
    files_cli.add_parsers(sub)
    doctor = sub.add_parser("doctor", help="check a data directory (stop the bot first)")
    doctor.add_argument("--data", type=Path, default=Path("data"), help="data directory")
    return parser


def _doctor(data: Path) -> int:
    """Print the check of the store in `data`; exit code 1 when something is wrong."""
    from storage.doctor import examine

    report = examine(data)
    print(report.text())  # noqa: T201
    return 0 if report.ok else 1


async def _console(data: Path, user: str, demo: bool, painter: Painter) -> None:
    from bot.adapters.console import CONSOLE_CHAT, ConsoleAdapter
    from bot.app import build_core
    from bot.demo import load_demo

    core = build_core(data, painter=painter)
    try:
        if demo and load_demo(core.store, CONSOLE_CHAT.key, core.ctx.clock()):
            await core.store.commit()
        adapter = ConsoleAdapter(
            core.dispatch,
            user=user,
            image_dir=data / "pictures",
            file_dir=data / "exports",
            prepare=core.prepare,
        )
        if adapter.interactive and demo:
            print("Demo scorecard loaded: try /scorecard, /kpi, /map, /initiatives, /okr progress")  # noqa: T201
        await core.start([adapter])  # alerts, digests and reminders print in the console too
        try:
            await adapter.run()
        finally:
            await core.stop()
    finally:
        core.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `scorecard-bot` console script."""
    painter = Painter("process")
    first = (argv if argv is not None else sys.argv[1:])[:1]
    if argv is None and (first[0] if first else None) in DRAWING_MODES:
        painter.warm()  # the real command line: before the bot's own imports (tests: lazily)
        tune_interpreter()  # the serving process only (tests keep the interpreter as is)
    try:
        return _main(argv, painter)
    finally:
        painter.close()


def _main(argv: list[str] | None, painter: Painter) -> int:
    from bot import files_cli
    from bot.adapters.base import StartupError
    from bot.config import ConfigError, directory_problem
    from storage.errors import StoreError

    args = _parser().parse_args(argv)
    given: Path | None = getattr(args, "data", None)
    problem = directory_problem(given) if given is not None else None
    if problem is not None:  # as `run` checks storage.path: before anything starts
        return _fail(f"--data: {problem}")
    try:
        if args.mode == "export":
            return asyncio.run(files_cli.export_file(args))
        if args.mode == "import":
            return asyncio.run(files_cli.import_file(args))
        if args.mode == "doctor":
            return _doctor(args.data)
        if args.mode in (None, "console"):
            data = getattr(args, "data", Path("data"))
            user = getattr(args, "user", None) or _default_user()
            asyncio.run(_console(data, user, bool(getattr(args, "demo", False)), painter))
        else:
            from bot.run import run_configured

            asyncio.run(run_configured(args.config, painter=painter))
    except (StoreError, ConfigError) as exc:
        return _fail(str(exc))
    except StartupError as exc:
        return _fail(f"could not start: {exc}")
    except OSError as exc:  # the data directory, its files, a port: what the OS refused
        return _fail(f"could not start: {_os_problem(exc)}")
    except KeyboardInterrupt:
        return 130
    return 0


def _fail(message: str) -> int:
    """One line on stderr, secrets redacted (an API may echo a token back), exit code 2."""
    from bot.logging import redact

    line = " ".join(redact(message).split())
    print(f"scorecard-bot: {line}", file=sys.stderr)  # noqa: T201
    return 2


def _os_problem(exc: OSError) -> str:
    what = exc.strerror or type(exc).__name__
    where = exc.filename if exc.filename is not None else None
    return f"{where}: {what}" if where else what


def _default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "you"


if __name__ == "__main__":
    sys.exit(main())
