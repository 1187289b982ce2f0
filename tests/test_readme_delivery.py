"""The README's delivery table is the policy the adapters use, number for number."""

from __future__ import annotations

import re
from pathlib import Path

from bot.adapters.policy import describe

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_delivery_table_matches_the_policies() -> None:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- delivery-policy -->\n(.*?)\n<!-- /delivery-policy -->", text, re.S)
    assert match is not None, "README lost its delivery-policy table"
    assert match.group(1).splitlines() == describe()
