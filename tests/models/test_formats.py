"""Search needles and matching, copy formats, inspector rows."""

import struct

import pytest

from lainview.backend.errors import InvalidInput
from lainview.backend.memory import Hole
from lainview.models.formats import Matcher, format_bytes, human_size, parse_needle
from lainview.models.inspector_model import inspector_rows

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


def test_copy_formats():
    assert format_bytes(b"\x01\xab", "hex") == "01 ab"
    assert format_bytes(b"\x01\xab", "python") == "b'\\x01\\xab'"
    c = format_bytes(bytes(range(13)), "c", name="buf")
    assert c.startswith("unsigned char buf[13] = {") and c.endswith("};")
    assert "0x0c" in c
    assert eval(format_bytes(bytes(range(256)), "python")) == bytes(range(256))


def test_inspector_values_round_trip():
    rows = {row.name: row for row in inspector_rows()}
    assert rows["i16"].decode(b"\xff\xff", False) == "-1"
    assert rows["u32"].decode(b"\x00\x00\x00\x01", True) == "1"
    assert rows["pointer"].decode(struct.pack("<Q", 0x7f00), False) == "0x7f00"
    # Floats in the shortest form that reads back the same (one formatter
    # for the inspector, the watch list, the scanner and the CLI).
    assert rows["f32"].decode(struct.pack("<f", 1.123), False) == "1.123"
    assert rows["f64"].decode(struct.pack(">d", 0.1), True) == "0.1"
    assert rows["u16"].encode("0x1234", True) == b"\x12\x34"
    assert rows["f64"].encode("1.5", False) == struct.pack("<d", 1.5)
    assert rows["pointer"].encode("0x7f00", False) == struct.pack("<Q", 0x7f00)
    with pytest.raises(InvalidInput, match="does not fit"):
        rows["u8"].encode("256", False)
    with pytest.raises(InvalidInput):
        rows["i32"].encode("abc", False)


def test_human_size():
    assert human_size(512) == "512 B"
    assert human_size(1536) == "1.5 KiB"
    assert human_size(3 << 30) == "3.0 GiB"
