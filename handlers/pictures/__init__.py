"""Pictures for chat: the strategy map, KPI charts, the dashboard and OKR bars.

Each picture is drawn from a small picklable *spec* (plain dataclasses built by the
handlers from the scored scorecard) by a module-level function, so the same function
runs in a worker thread in tests and in a worker process in production (`painter`).
Every picture is drawn with Pillow on `canvas` (no matplotlib); Pillow is imported only
inside the drawing modules, never by the handlers.
"""
