"""`scorecard-bot export|import`: the chat's export and import files from the shell.

The store is opened like the bot opens it (the same lock: stop the bot first), so an
import is checked, previewed and applied in one atomic, durable step; alerts it causes
wait in the outbox and go out at the bot's next start.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from bot.adapters.console import CONSOLE_CHAT
from bot.app import build_core
from handlers import exchange

BIG_FILE = 5000  # records from which the import shows a progress bar


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `export` and `import` sub-commands."""
    export = sub.add_parser("export", help="write a chat's whole scorecard to a file")
    export.add_argument("--data", type=Path, default=Path("data"), help="data directory")
    export.add_argument("--chat", default=CONSOLE_CHAT.key, help="chat key, e.g. telegram:-100…")
    export.add_argument("--format", choices=("json", "csv"), default="json")
    export.add_argument("--output", type=Path, default=None, help="file (default: stdout)")
    imp = sub.add_parser("import", help="check, preview and apply an export or values file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--data", type=Path, default=Path("data"), help="data directory")
    imp.add_argument("--chat", default=CONSOLE_CHAT.key, help="chat key, e.g. telegram:-100…")
    imp.add_argument("--yes", action="store_true", help="apply without asking")
    imp.add_argument(
        "--all-or-nothing",
        action="store_true",
        help="refuse the whole file when any record has a problem (default: keep good rows)",
    )


async def export_file(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Write the export; to stdout when no --output is given."""
    out = out or sys.stdout
    core = build_core(args.data)
    try:
        doc = exchange.snapshot(core.store, args.chat, core.ctx.clock())
    finally:
        core.close()
    data = exchange.to_json(doc) if args.format == "json" else exchange.to_csv(doc)
    if args.output is None:
        out.write(data.decode())
    else:
        args.output.write_bytes(data)
        print(  # noqa: T201
            f"wrote {exchange.count_records(doc):,} records to {args.output}", file=sys.stderr
        )
    return 0


async def import_file(
    args: argparse.Namespace,
    *,
    out: TextIO | None = None,
    ask: Callable[[str], str] | None = None,
) -> int:
    """Check the file, list its problems, show the diff, apply on confirmation; exit code."""
    out = out or sys.stdout
    try:
        raw = args.file.read_bytes()
    except OSError as exc:
        print(f"scorecard-bot: cannot read {args.file}: {exc.strerror}", file=sys.stderr)  # noqa: T201
        return 2
    core = build_core(args.data)
    try:
        found = exchange.read_file(raw, args.file.name)
        with _progress(len(found.records), "checking") as tick:
            plan = exchange.plan_import(
                core.store, args.chat, found, core.ctx.clock(), progress=tick, by="import"
            )
        for problem in plan.problems:
            out.write(f"problem: {problem}\n")
        if plan.problems and (args.all_or_nothing or not plan.good):
            out.write(f"{len(plan.problems)} problem(s): nothing was changed.\n")
            return 1
        for line in exchange.diff_lines(plan):
            out.write(f"{line}\n")
        if not plan.good:
            out.write("Everything in the file is already here; nothing to do.\n")
            return 0
        skipped = f", skipping {len(plan.problems)} with problems" if plan.problems else ""
        if not args.yes:
            question = f"Apply {_records(plan.good)} to {args.chat}{skipped}? [y/N] "
            answer = (ask or _ask)(question)
            if answer.strip().casefold() not in ("y", "yes"):
                out.write("Nothing was changed.\n")
                return 1
        with (
            core.store.atomic(),
            core.store.audited(
                args.chat,
                actor_id="cli:import",
                actor="scorecard-bot import",
                command=f"scorecard-bot import {args.file.name}"[:300],
                at=core.ctx.clock(),
            ),
        ):
            written = exchange.apply_import(core.ctx, args.chat, plan)
        await core.store.commit()
        out.write(f"Imported {_records(written)} into {args.chat}{skipped}.\n")
        return 0
    finally:
        core.close()


def _records(count: int) -> str:
    return f"{count:,} record" if count == 1 else f"{count:,} records"


def _ask(question: str) -> str:
    if not sys.stdin.isatty():
        print("not a terminal: add --yes to apply without asking", file=sys.stderr)  # noqa: T201
        return "n"
    return input(question)


@contextmanager
def _progress(total: int, what: str) -> Iterator[Callable[[int], None] | None]:
    """A tqdm bar on stderr for big files (hidden when stderr is not a terminal)."""
    if total < BIG_FILE:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=what, unit=" records", file=sys.stderr, disable=None) as bar:
        yield bar.update
