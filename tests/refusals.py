"""Expect a scoring refusal by the line people read (scoring raises codes, not sentences)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from handlers.messages import error_text


@contextmanager
def refuses(kind: type[Exception], match: str) -> Iterator[None]:
    """Like `pytest.raises(kind, match=...)`, matched against the error's chat line."""
    with pytest.raises(kind) as caught:
        yield
    line = error_text(caught.value)
    assert re.search(match, line), f"{match!r} not in {line!r}"
