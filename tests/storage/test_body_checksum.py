"""Stored bodies are checksummed with ISA-L's CRC-32 (`storage.sqlite.crc32`, several times
fewer instructions on the loop than zlib's): it must give zlib's value for any bytes and any
running value, or every store written before it would read as damaged (and a damaged body
could pass)."""

from __future__ import annotations

import zlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage import sqlite


def _agrees_with_zlib(crc32: Callable[[bytes, int], int]) -> None:
    @settings(max_examples=300, deadline=None)
    @given(st.binary(max_size=20_000), st.integers(0, 2**32 - 1))
    def check(body: bytes, start: int) -> None:
        assert crc32(body, 0) == zlib.crc32(body)
        assert crc32(body, start) == zlib.crc32(body, start)

    check()


def test_the_stored_bodies_checksum_is_zlibs_crc32() -> None:
    _agrees_with_zlib(sqlite.crc32)


def test_the_property_catches_a_checksum_that_leaves_out_the_last_byte() -> None:
    """A planted bug: a checksum blind to the body's last byte (a closing brace that went)."""
    with pytest.raises(AssertionError):
        _agrees_with_zlib(lambda body, start: zlib.crc32(body[:-1], start))
