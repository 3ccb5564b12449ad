"""The hex editor's search: needles and matching."""

import struct

import pytest

from lainview.backend.errors import InvalidInput
from lainview.backend.memory import Hole
from lainview.models.search import Matcher, parse_needle


def test_needles():
    assert parse_needle("de ad be ef", "bytes") == b"\xde\xad\xbe\xef"
    assert parse_needle("héllo", "utf8") == "héllo".encode()
    assert parse_needle("-1", "i32") == b"\xff\xff\xff\xff"
    assert parse_needle("0x10", "i64") == struct.pack("<q", 16)
    assert parse_needle("1.5", "f32") == struct.pack("<f", 1.5)
    with pytest.raises(InvalidInput, match="does not fit in i32"):
        parse_needle("1" + "0" * 20, "i32")
    with pytest.raises(InvalidInput, match="malformed hex"):
        parse_needle("zz", "bytes")
    with pytest.raises(InvalidInput, match="nothing to search for"):
        parse_needle("", "utf16le")
    with pytest.raises(InvalidInput, match="unknown value type 'int32'"):
        parse_needle("1", "int32")


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
