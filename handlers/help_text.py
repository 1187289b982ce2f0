"""`/help` and `/help <command>`, written from the handlers' own docstrings."""

from __future__ import annotations

import difflib

from handlers.contract import Command, CommandSpec, Context, Reply, Table, UsageError, command
from handlers.router import Router


def _families(specs: list[CommandSpec]) -> dict[str, list[CommandSpec]]:
    families: dict[str, list[CommandSpec]] = {}
    for spec in specs:
        families.setdefault(spec.path.split()[0], []).append(spec)
    return families


def _no_command(wanted: str, paths: list[str]) -> str:
    close = difflib.get_close_matches(wanted, paths, n=2, cutoff=0.6)
    hint = f" Did you mean {' or '.join('/' + c for c in close)}?" if close else ""
    return f"No command /{wanted}.{hint} Send /help for the list."


def build_help(router: Router) -> None:
    """Register /help; it reads the router's specs at call time, so it lists everything."""

    @command("help", usage="/help [command]", example="/help kpi set")
    async def help_command(cmd: Command, ctx: Context) -> Reply:
        """Show every command, or one command family in detail: /help kpi."""
        specs = router.specs()
        words = [a.casefold().lstrip("/") for a in cmd.args]
        if not words:
            rows = tuple(
                (f"/{name}", members[0].summary) for name, members in _families(specs).items()
            )
            return Reply(
                title="Commands",
                table=Table(columns=("command", "what it does"), rows=rows),
                footer="Details and examples: /help <command>, e.g. /help kpi",
            )
        wanted = " ".join(words)
        chosen = [s for s in specs if s.path == wanted or s.path.startswith(wanted + " ")]
        if not chosen:
            raise UsageError(_no_command(wanted, [s.path for s in specs]))
        blocks = []
        for spec in chosen:
            admins_only = "  (admins only)" if spec.role == "admin" and ctx.admins else ""
            blocks.append(f"{spec.usage}{admins_only}\n  {spec.doc}\n  e.g. {spec.example}")
        return Reply(title=f"/{wanted}", text="\n\n".join(blocks))

    router.include(help_command)
