"""`./dev bench` (or `python -m bench`): every benchmark, one table per area.

Baselines run side by side in the same process (see each module); numbers are for the
machine it runs on, so compare rows of one run, not runs of different machines.
"""

from __future__ import annotations

import importlib
import sys

from bench.table import print_table

SECTIONS = (
    ("bench.storage", "Storage at 10k, 100k and 1M values (journal engine beside)"),
    ("bench.handlers", "Handlers on 50 KPIs × 100 000 values"),
    ("bench.e2e", "End-to-end /kpi through the fake Telegram and Slack APIs (bare bots beside)"),
    ("bench.scoring", "Scoring: one roll-up of the whole scorecard"),
    ("bench.alerts", "Alerts and scheduled sweeps"),
    ("bench.dataio", "Export and re-import of a 100 000-value scorecard"),
    ("bench.input", "Input: tokenizer and a 300 000-row /kpi import"),
    ("bench.formulas", "Calculated KPIs: a 3-level formula chain over 2 years of daily data"),
    ("bench.history", "Audit log: cost per change and its readers, at a month of changes"),
    ("bench.pictures", "Pictures: render times (goal ≤ 300 ms) and /kpi while drawing"),
)


def main(argv: list[str]) -> int:
    """Run the sections named in `argv` (default: all) and print their tables."""
    wanted = set(argv)
    for module_name, title in SECTIONS:
        if wanted and module_name.split(".")[-1] not in wanted:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            print_table(title, [{"note": f"{module_name} not present"}])
            continue
        print_table(title, module.run())
    return 0


if __name__ == "__main__":
    from bot.runtime import tune_interpreter

    tune_interpreter()  # measured as the bot runs (bot/cli.py sets it at start)
    sys.exit(main(sys.argv[1:]))
