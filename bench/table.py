"""Print benchmark rows (dicts with the same keys) as an aligned text table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def print_table(title: str, rows: Sequence[Mapping[str, object]]) -> None:
    """Print `rows` under `title`, one column per key of the first row."""
    print(f"\n## {title}")
    if not rows:
        print("(no rows)")
        return
    columns = list(rows[0])
    cells = [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print(" | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for r in cells:
        print(" | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
