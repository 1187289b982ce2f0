"""The round-trip script keeps up with the router."""

from __future__ import annotations

from handlers import build_router
from tests.integration.script import ATTACHED_FILE_PATHS, EVERY_COMMAND, covered_paths


def test_the_round_trip_script_runs_every_registered_command_path() -> None:
    router = build_router()
    covered = covered_paths(router) | ATTACHED_FILE_PATHS
    assert covered == {spec.path for spec in router.specs()}


def test_the_round_trip_script_expects_facts_from_every_step() -> None:
    assert all(step.expect for step in EVERY_COMMAND)
