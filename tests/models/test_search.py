"""The hex editor's search: needles and matching."""

import struct

import pytest

from lainview.backend.errors import InvalidInput
from lainview.backend.memory import Hole
from lainview.models.search import Matcher, parse_needle


def test_needles():
    assert parse_needle("de ad be ef", "hex") == b"\xde\xad\xbe\xef"
    assert parse_needle("héllo", "text") == "héllo".encode()
    assert parse_needle("-1", "int32") == b"\xff\xff\xff\xff"
    assert parse_needle("0x10", "int64") == struct.pack("<q", 16)
    with pytest.raises(InvalidInput):
        parse_needle("1" + "0" * 20, "int32")
    with pytest.raises(InvalidInput):
        parse_needle("zz", "hex")


def test_matcher_finds_across_chunks_and_never_in_holes():
    needle = b"ABCD"
    data = bytearray(64)
    data[14:18] = needle          # straddles the chunk boundary at 16
    data[40:44] = needle          # inside a hole below: not a match
    data[60:64] = needle
    m = Matcher(needle)
    base = 0x1000
    for offset in range(0, 64, 16):
        chunk = bytes(data[offset:offset + 16])
        holes = [Hole(base + 32, 16)] if offset == 32 else []
        m.feed(base + offset, memoryview(chunk), holes)
    assert m.matches == [base + 14, base + 60]


def test_matcher_does_not_join_across_a_hole():
    m = Matcher(b"AB")
    m.feed(0, b"xxxA", [Hole(3, 1)])
    m.feed(4, b"Bxxx", [])
    assert m.matches == []


def test_matcher_limit():
    m = Matcher(b"a", limit=3)
    m.feed(0, b"aaaaaa", [])
    assert m.matches == [0, 1, 2] and m.full
