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


def _no_command(wanted: str, paths: list[str], cmd: Command) -> str:
    close = difflib.get_close_matches(wanted, paths, n=2, cutoff=0.6)
    hint = f" Did you mean {' or '.join('/' + c for c in close)}?" if close else ""
    return f"No command /{wanted}.{hint} Send {cmd.help_for()} for the list."


def _spelled(text: str, cmd: Command) -> str:
    """Help text as this platform spells /help (Slack: /scorecard help)."""
    return text.replace("/help", cmd.help_command)


def build_help(router: Router) -> None:
    """Register /help; it reads the router's specs at call time, so it lists everything."""

    @command("help", usage="/help [command]", example="/help kpi set")
    async def help_command(cmd: Command, ctx: Context) -> Reply:
        """Show every command, or one command family in detail: /help kpi."""
        specs = router.specs()
        words = [a.casefold().lstrip("/") for a in cmd.args]
        if not words:
            rows = tuple(
                (_spelled(f"/{name}", cmd), _spelled(members[0].summary, cmd))
                for name, members in _families(specs).items()
            )
            return Reply(
                title="Commands",
                table=Table(columns=("command", "what it does"), rows=rows),
                footer=f"Details and examples: {cmd.help_for('<command>')}, "
                f"e.g. {cmd.help_for('kpi')}",
            )
        wanted = " ".join(words)
        chosen = [s for s in specs if s.path == wanted or s.path.startswith(wanted + " ")]
        if not chosen:
            raise UsageError(_no_command(wanted, [s.path for s in specs], cmd))
        blocks = []
        for spec in chosen:
            admins_only = "  (admins only)" if spec.role == "admin" and ctx.admins else ""
            blocks.append(f"{spec.usage}{admins_only}\n  {spec.doc}\n  e.g. {spec.example}")
        return Reply(title=_spelled(f"/{wanted}", cmd), text=_spelled("\n\n".join(blocks), cmd))

    router.include(help_command)
