"""`/scorecard export` and `/scorecard import`: the whole scorecard as a file, both ways."""

from __future__ import annotations

from handlers import exchange, render
from handlers.common import chat_today, need, who
from handlers.contract import Button, Command, Context, Document, Reply, UsageError, command
from handlers.parsing import clip
from handlers.router import Router

FORMATS = {"json": "application/json", "csv": "text/csv"}
MAX_FILE_BYTES = 20 * 1024 * 1024  # Telegram bots can download files up to 20 MB
PENDING_KIND = "scorecard-import"
HOW_TO_ATTACH = {
    "telegram": "Attach the file: send it with the caption /scorecard import.",
    "slack": "Attach the file: post it in the channel with the message: scorecard import",
    "console": "Name the file: /scorecard import path/to/scorecard.json",
}


@command("scorecard export", usage="/scorecard export [json|csv]", example="/scorecard export csv")
async def scorecard_export(cmd: Command, ctx: Context) -> Reply:
    """Send the whole scorecard as a file: structure, history, OKRs, initiatives, settings.

    Settings include the alert set-up (rules, quiet hours, mutes, where alerts go, the
    digest's schedule); scheduled pulls and the API token stay out (secrets). JSON (the
    default) imports back with /scorecard import; CSV opens in a spreadsheet (one row per
    record, a `section` column) and imports back too.
    """
    fmt = cmd.args[0].casefold() if cmd.args else "json"
    if fmt not in FORMATS or len(cmd.args) > 1:
        raise UsageError("Export as json or csv: /scorecard export csv")
    doc = exchange.snapshot(ctx.store, cmd.chat.key, ctx.clock())
    data = exchange.to_json(doc) if fmt == "json" else exchange.to_csv(doc)
    name = exchange.export_filename(cmd.chat.key, chat_today(cmd, ctx), fmt)
    counts = (
        f"{render.plural(len(doc['kpis']), 'KPI')}, {render.plural(len(doc['values']), 'value')}, "
        f"{render.plural(len(doc['okrs']), 'OKR')}, "
        f"{render.plural(len(doc['initiatives']), 'initiative')}"
    )
    return Reply(
        title="Scorecard export",
        text=f"{counts}. Import it elsewhere with /scorecard import and the file attached.",
        document=Document(data=data, filename=name, mime=FORMATS[fmt]),
    )


@command(
    "scorecard import",
    usage="/scorecard import (with the file attached)",
    example="/scorecard import",
    mutates=True,
    role="admin",
)
async def scorecard_import(cmd: Command, ctx: Context) -> Reply:
    """Import a scorecard file (attach it): checked first, then a preview to apply.

    Takes a file from /scorecard export (JSON or CSV) or a sheet with the header
    kpi,value,date[,note]. A file with any problem changes nothing; the reply lists each
    problem with its line and field. Records already stored as they are are skipped.
    """
    attachment = cmd.attachment
    if attachment is None and cmd.args and cmd.chat.platform == "console":
        # the terminal attaches a path that names a file (bot/adapters/console.py)
        raise UsageError(f"No file {clip(' '.join(cmd.args))}")
    if attachment is None:
        raise UsageError(HOW_TO_ATTACH[cmd.chat.platform])
    if len(attachment.data) > MAX_FILE_BYTES:
        raise UsageError(f"The file is too big (at most {MAX_FILE_BYTES // 2**20} MB).")
    found = exchange.read_file(attachment.data, attachment.filename)
    plan = exchange.plan_import(ctx.store, cmd.chat.key, found, ctx.clock(), by=who(cmd))
    if plan.problems:
        return _refused(plan)
    if not plan.good:
        return Reply(text=f"{attachment.filename}: everything in it is already here.")
    pending = ctx.store.pending.put(
        cmd.chat.key,
        PENDING_KIND,
        {"filename": attachment.filename, "records": exchange.park(found)},
        ctx.clock(),
    )
    return Reply(
        title=f"Import preview: {attachment.filename}",
        text="\n".join(
            [*exchange.diff_lines(plan), "Nothing is saved until you apply (valid for a day)."]
        ),
        buttons=(
            Button(label="Apply import", command=f"/scorecard import apply {pending}"),
            Button(label="Cancel", command=f"/scorecard import cancel {pending}"),
        ),
    )


def _refused(plan: exchange.Plan) -> Reply:
    count = render.plural(len(plan.problems), "problem")
    return Reply(
        kind="error",
        title=f"Import refused, nothing was changed: {count}",
        text="\n".join(exchange.problem_lines(plan.problems)),
    )


@command(
    "scorecard import apply",
    usage="/scorecard import apply <id>",
    example="/scorecard import apply 3f9a1c2b",
    mutates=True,
    role="admin",
)
async def scorecard_import_apply(cmd: Command, ctx: Context) -> Reply:
    """Apply a previewed scorecard import (the Apply button), in one step."""
    need(cmd.args, 1)
    chat = cmd.chat.key
    payload = ctx.store.pending.take(chat, PENDING_KIND, cmd.args[0], ctx.clock())
    if payload is None:
        raise UsageError("This import was already applied, cancelled or has expired.")
    found = exchange.unpark(payload["records"])
    plan = exchange.plan_import(ctx.store, chat, found, ctx.clock(), by=who(cmd))
    if plan.problems:  # the chat changed since the preview
        return _refused(plan)
    written = exchange.apply_import(ctx, chat, plan)
    return Reply(text=f"Imported {payload['filename']}: {render.plural(written, 'record')}.")


@command(
    "scorecard import cancel",
    usage="/scorecard import cancel <id>",
    example="/scorecard import cancel 3f9a1c2b",
    mutates=True,
)
async def scorecard_import_cancel(cmd: Command, ctx: Context) -> Reply:
    """Drop a previewed scorecard import (the Cancel button)."""
    need(cmd.args, 1)
    if ctx.store.pending.take(cmd.chat.key, PENDING_KIND, cmd.args[0], ctx.clock()) is None:
        return Reply(text="Nothing to cancel: that import is gone already.")
    return Reply(text="Import cancelled; nothing was saved.")


def register(router: Router) -> None:
    """Register /scorecard export and /scorecard import."""
    router.include(
        scorecard_export, scorecard_import, scorecard_import_apply, scorecard_import_cancel
    )
