"""The one router: resolves `kpi set` style sub-commands and turns errors into chat lines.

Expected mistakes (`CommandError`, `ScoringError`, `StoreError`) become one friendly line;
anything else is logged with a reference id and the user is told nothing was changed.
A command that succeeded is made durable (`store.commit()`) before its reply is returned,
so "saved" in chat means saved on disk.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import secrets
from collections.abc import Coroutine, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import CoroutineType
from typing import Any

from handlers.contract import (
    Command,
    CommandError,
    CommandSpec,
    Context,
    Handler,
    NotFound,
    Reply,
    UsageError,
    Via,
    specs_of,
)
from handlers.jobs.slicing import yield_to_loop
from handlers.messages import error_text
from handlers.parsing import (
    DOTS_GROUP,
    MAX_MESSAGE,
    MAX_QUOTE,
    clip,
    meant_word,
    number_shaped,
    tokenize,
)
from scoring.errors import ScoringError
from storage import gc_policy
from storage.errors import StoreError

_LOGGER = logging.getLogger(__name__)

HandlerResult = Reply | Sequence[Reply] | None
#: A name ending in one of these takes no full stop after it in the "Unknown command" line.
_ENDS_SENTENCE = frozenset(".!?…")
#: What a first word after a mention that is no command gets instead of a typo guess.
MENTION_READS = ": after a mention I read one, like kpi or kpi set cac 95."

ALIASES = {"start": "help", "kpis": "kpi", "okrs": "okr", "objectives": "objective"}
#: Verbs people try after a command, and its sub-command they mean ("": the command alone;
#: "*": the command with the words that follow, as in `/kpi show cac`).
_VERBS = {
    **dict.fromkeys(("delete", "del", "rm"), "remove"),
    **dict.fromkeys(("new", "create"), "add"),
    **dict.fromkeys(("update", "change", "modify", "rename"), "edit"),
    **dict.fromkeys(("list", "ls"), ""),
    **dict.fromkeys(("show", "view", "get", "info"), "*"),
}


@dataclass(frozen=True, slots=True)
class Route:
    """One registered command path and its handler."""

    words: tuple[str, ...]
    handler: Handler
    spec: CommandSpec


class Router:
    """Registry of command paths; dispatches a Command to the longest matching path."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, ...], Route] = {}
        self._longest = 0  # words in the longest path: `resolve` tries no longer prefix

    def include(self, *handlers: Handler) -> None:
        """Register handlers under the paths their `@command` metadata declares."""
        for handler in handlers:
            for spec in specs_of(handler):
                words = tuple(spec.path.split())
                if words in self._routes:
                    raise ValueError(f"duplicate route {spec.path!r}")
                self._routes[words] = Route(words, handler, spec)
                self._longest = max(self._longest, len(words))

    def specs(self) -> list[CommandSpec]:
        """Every command, in registration order (help, menus, Slack manifest)."""
        return [route.spec for route in self._routes.values()]

    def top_level(self) -> list[str]:
        """Distinct first words: the slash commands a platform must know."""
        seen: dict[str, None] = {}
        for words in self._routes:
            seen.setdefault(words[0], None)
        return list(seen)

    def resolve(
        self, name: str, tokens: Sequence[str], help_command: str = "/help", via: Via = "command"
    ) -> tuple[Route, tuple[str, ...]]:
        """Find the longest registered path matching `name tokens…` (`via`: how the command
        came, `Command.via`: words after a mention that are no command get their own line)."""
        if not name:
            raise CommandError(self._no_name(tokens, help_command))
        name = ALIASES.get(name, name)
        words = (name, *map(str.casefold, tokens))
        for size in range(min(len(words), self._longest), 0, -1):
            route = self._routes.get(words[:size])
            if route is not None:
                return route, tuple(tokens[size - 1 :])
        if via == "mention":
            raise CommandError(self._not_a_command(name, help_command))
        raise CommandError(self._unknown(name, help_command))

    def _no_name(self, tokens: Sequence[str], help_command: str) -> str:
        """A slash with no command word after it: `/`, or `/ kpi` with a space."""
        first = tokens[0].casefold() if tokens else ""
        first = ALIASES.get(first, first)
        if first in self.top_level():
            return f"A command has no space after the slash: did you mean /{first}?"
        return (
            f"Type a command right after the slash, like /kpi. Send {help_command} for the list."
        )

    def _unknown(self, name: str, help_command: str) -> str:
        close = self._close(name)
        hint = f" Did you mean {close}?" if close else ""
        shown = clip(name)
        stop = "" if shown[-1:] in _ENDS_SENTENCE else "."  # not "/thanks!." nor "/aaa…."
        return f"Unknown command /{shown}{stop}{hint} Send {help_command} for the list."

    def _not_a_command(self, name: str, help_command: str) -> str:
        """A first word after a mention that is no command (`@scorecard thanks!`): no slash
        was typed, so it is not called an unknown `/thanks!`."""
        close = self._close(name)
        said = f". Did you mean {close}?" if close else MENTION_READS
        return f"'{clip(name)}' is not a command{said} Send {help_command} for the list."

    def _close(self, name: str) -> str:
        """The commands `name` may be a typo of, as `/kpi or /okr`; "" when none is close."""
        close = difflib.get_close_matches(name[:40], self.top_level(), n=2, cutoff=0.6)
        return " or ".join(f"/{c}" for c in close)

    async def dispatch(self, cmd: Command, ctx: Context) -> list[Reply]:
        """Run one command; never raises, always answers with at least one reply."""
        gc_policy.command_started()  # a due full collection waits until none is in flight
        # how this chat writes thousands, read only if a number such as `1.200` comes up
        dots = DOTS_GROUP.set(ctx.store.chats.dots_group(cmd.chat.key))
        try:
            return await self._answer(cmd, ctx)
        finally:
            DOTS_GROUP.reset(dots)
            # What the command kept (cached documents, derived models) is long-lived:
            # frozen, no full collection re-scans it inside a later loop step.
            gc_policy.after_command()

    def _meant(self, route: Route, args: Sequence[str], exc: NotFound) -> str:
        """` Did you mean /kpi remove cac?` when the word a lookup missed is a sub-command's
        typo (`sett`) or a verb people try for one (`delete`), and no stored key came close;
        ` Did you mean /kpi set cac 95?` when a value came before a stored key."""
        if exc.suggestions or not args or exc.key != args[0].casefold():
            return ""
        if exc.key == "help":  # `/kpi help`
            return f" Did you mean /help {' '.join(route.words)}?"
        size = len(route.words)
        subs = [w[size] for w in self._routes if len(w) > size and w[:size] == route.words]
        meant = meant_word(exc.key, subs, _VERBS, cutoff=0.75)
        if meant is None or meant not in ("", "*", *subs):
            swapped = len(args) > 1 and args[1].casefold() in exc.keys
            if not swapped or not any(c.isdigit() for c in args[0]):
                return ""
            words = [f"/{' '.join(route.words)}", args[1], args[0], *args[2:]]
            return f" Did you mean {clip(' '.join(words), 2 * MAX_QUOTE)}? The key comes first."
        rest = list(args[1:]) if meant else []
        if meant == "edit" and len(rest) > 1 and not any("=" in w for w in rest[1:]):
            if exc.key == "rename":  # `/kpi rename cac New name`: the name field
                rest = [rest[0], f'name="{" ".join(rest[1:])}"']
            elif "set" in subs and number_shaped(rest[1]):  # `/kpi update cac 95`: a value
                meant = "set"  # (an edit takes only fields: `edit cac 95` is refused)
        words = [f"/{' '.join(route.words)}", meant.strip("*"), *rest]
        return f" Did you mean {' '.join(w for w in words if w)}?"

    async def _answer(self, cmd: Command, ctx: Context) -> list[Reply]:
        route: Route | None = None
        args: tuple[str, ...] = ()
        size = 1 + len(cmd.name) + (1 + len(cmd.text) if cmd.text else 0)  # `/name text`
        if size > MAX_MESSAGE:  # refused before any parsing: nothing long runs on the loop
            return [Reply(text=_too_long(size), kind="error", to=cmd.chat)]
        try:
            # a hashtag message is free chat text: split on spaces, quotes mean nothing
            tokens = tuple(cmd.text.split()) if cmd.via == "hashtag" else tokenize(cmd.text)
            route, args = self.resolve(cmd.name, tokens, cmd.help_command, cmd.via)
            _check_role(route.spec, cmd, ctx)
            # A read of saved data replies at once; one that saw another command's unsaved
            # change, like any write, waits until that change is durable.
            with ctx.store.observing() as seen:
                result = await _run(route, cmd.with_args(args), ctx)
            await ctx.store.commit(seen)
        except (CommandError, ScoringError, StoreError) as exc:
            # The error text and the command's text may quote what the user typed: only
            # the kind of refusal is logged, with the same columns as the adapters' lines.
            _LOGGER.info(
                "refused: %s",
                type(exc).__name__,
                extra={
                    "platform": cmd.chat.platform,
                    "chat": cmd.chat.chat_id,
                    "command": cmd.name,
                },
            )
            # one line, even where it quotes a word typed across lines
            line = " ".join(_clip_echoes(_error_text(exc, route), cmd).splitlines())
            if isinstance(exc, NotFound) and route is not None:
                line += self._meant(route, args, exc)
            return [Reply(text=line, kind="error", to=cmd.chat)]
        except Exception:
            ref = secrets.token_hex(3)
            _LOGGER.exception("command failed ref=%s chat=%s /%s", ref, cmd.chat.key, cmd.name)
            return [
                Reply(
                    text=f"Something went wrong on my side (ref {ref}). Nothing was changed.",
                    kind="error",
                    to=cmd.chat,
                )
            ]
        return _normalize(result, cmd)


def _check_role(spec: CommandSpec, cmd: Command, ctx: Context) -> None:
    if spec.role == "admin" and not ctx.is_admin(cmd.actor):
        raise CommandError(f"Only this chat's admins may use /{spec.path}.")


def _error_text(exc: Exception, route: Route | None) -> str:
    """The error line; a usage mistake ends with the command's one declared usage."""
    text = error_text(exc)
    if isinstance(exc, UsageError) and exc.show_usage and route is not None:
        return f"{text} Usage: {route.spec.usage}"
    return text


def _clip_echoes(line: str, cmd: Command) -> str:
    """An error line repeats at most 60 characters of any one word the user typed.

    Messages quote what was typed (`'…' is not a number`); a 10 000-letter word must not
    come back whole, whichever handler wrote the line.
    """
    try:
        words = {cmd.name, *tokenize(cmd.text), *cmd.text.split()}
    except CommandError:
        words = {cmd.name, *cmd.text.split()}
    for word in sorted((w for w in words if len(w) > MAX_QUOTE), key=len, reverse=True):
        line = line.replace(word, clip(word))
    return line


def _too_long(size: int) -> str:
    return (
        f"That message is too long ({size:,} characters; at most {MAX_MESSAGE:,}). "
        "Nothing was changed."
    ).replace(",", " ")


async def _run(route: Route, cmd: Command, ctx: Context) -> HandlerResult:
    """Run a handler; a mutating one runs as one atomic step so a failure changes nothing.

    Atomic means no other coroutine may run in between, so a mutating handler must finish
    without awaiting anything that suspends; doing so is a bug and is refused loudly. The
    one exception is `breathe()` before the handler's first write: a big job (a 300 000-row
    import) reads and checks its input in chunks and lets other commands run in between,
    then writes everything in its last slice, still one atomic step.
    """
    coro = route.handler(cmd, ctx)
    if not route.spec.mutates:
        return await coro
    # the concrete type first: an `async def` handler's, without the ABC's check in Python
    if not isinstance(coro, CoroutineType) and not isinstance(coro, Coroutine):
        raise TypeError("handlers are coroutine functions")
    try:
        while True:
            with ctx.store.atomic(), _audited(cmd, ctx):
                done, result = _slice(coro, ctx)
            if done:
                return result
            # What the job built so far is long-lived: frozen out of the collector's full
            # collections, as the sweep's slices are (else each re-scans it, 100+ ms).
            gc_policy.keep_long_lived()
            await yield_to_loop()
    finally:
        coro.close()


async def breathe() -> None:
    """Let other commands run: a mutating handler may call this only before it writes
    anything (its atomic step is its last slice); after a write it is refused as a bug."""
    await asyncio.sleep(0)


def _audited(cmd: Command, ctx: Context) -> AbstractContextManager[None]:
    """Every mutating command is audited here: what it changed, who, when, and the command.

    Handlers need no code of their own; repositories report each item they change.
    """
    return ctx.store.audited(
        cmd.chat.key,
        actor_id=f"{cmd.actor.platform}:{cmd.actor.user_id}",
        actor=cmd.actor.handle or cmd.actor.display_name,
        command=(f"#{cmd.text}" if cmd.via == "hashtag" else f"/{cmd.name} {cmd.text}").strip()[
            :300
        ],
        at=ctx.clock(),
    )


def _slice(coro: Coroutine[Any, Any, HandlerResult], ctx: Context) -> tuple[bool, HandlerResult]:
    """Run a mutating handler up to its end (True, its result) or its next `breathe()`
    before any write (False); any other suspension is refused."""
    changes = ctx.store.db.changes
    try:
        yielded = coro.send(None)
    except StopIteration as done:
        result: HandlerResult = done.value
        return True, result
    if yielded is None and ctx.store.db.changes == changes:  # `breathe()` (a bare yield)
        return False, None
    raise RuntimeError("a mutating handler suspended inside its atomic section")


def _normalize(result: HandlerResult, cmd: Command) -> list[Reply]:
    if result is None:
        return []
    replies = [result] if isinstance(result, Reply) else list(result)
    return [r if r.to is not None else r.model_copy(update={"to": cmd.chat}) for r in replies]
