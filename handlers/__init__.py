"""Chat commands, platform-agnostic: each module registers its handlers on the router."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.router import Router


def build_router() -> Router:
    """The router with every command registered, in the order /help lists them."""
    # imported here, not at the top: the picture worker process imports handlers.pictures
    # and must not pay for every command module (about half a second)
    from handlers import (
        alerts_command,
        digest,
        files,
        funnel,
        help_text,
        history,
        ingest,
        initiatives,
        kpi,
        kpi_import,
        map_command,
        objectives,
        okr,
        okr_key_results,
        scorecard,
        settings,
        sources,
        templates,
    )
    from handlers.router import Router

    router = Router()
    scorecard.register(router)
    templates.register(router)
    files.register(router)
    ingest.register(router)
    kpi.register(router)
    kpi_import.register(router)
    funnel.register(router)
    objectives.register(router)
    map_command.register(router)
    okr.register(router)
    okr_key_results.register(router)
    initiatives.register(router)
    alerts_command.register(router)
    digest.register(router)
    settings.register(router)
    sources.register(router)
    history.register(router)
    help_text.build_help(router)
    return router
