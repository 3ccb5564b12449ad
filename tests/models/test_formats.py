"""Go-to locations, copy formats, inspector values."""

import struct

import pytest

from lainview.backend.errors import InvalidInput
from lainview.backend.memory import MemoryArea, Perm
from lainview.models.formats import decode_value, encode_value, format_bytes, human_size, resolve_location

AREAS = [
    MemoryArea(0x400000, 0x401000, Perm.READ, path="/usr/bin/cat"),
    MemoryArea(0x1000000, 0x1021000, Perm.READ | Perm.WRITE, path="[heap]"),
    MemoryArea(0x7f0000000000, 0x7f0000028000, Perm.READ, path="/usr/lib/x86_64-linux-gnu/libc.so.6"),
    MemoryArea(0x7f0000028000, 0x7f00001bd000, Perm.READ | Perm.EXEC, 0x28000,
               path="/usr/lib/x86_64-linux-gnu/libc.so.6"),
]


def test_resolve_location():
    assert resolve_location("0x7f0000001000", AREAS) == 0x7f0000001000
    assert resolve_location("7f0000001000", AREAS) == 0x7f0000001000
    assert resolve_location("[heap]+0x10", AREAS) == 0x1000010
    assert resolve_location("libc.so.6+0x1f00", AREAS) == 0x7f0000001f00
    assert resolve_location("libc.so.6 + 29000", AREAS) == 0x7f0000029000
    assert resolve_location("/usr/bin/cat+10", AREAS) == 0x400010
    assert resolve_location("[heap]", AREAS) == 0x1000000
    with pytest.raises(InvalidInput, match="no area named 'libz.so'"):
        resolve_location("libz.so+0x10", AREAS)
    with pytest.raises(InvalidInput):
        resolve_location("", AREAS)


def test_copy_formats():
    assert format_bytes(b"\x01\xab", "hex") == "01 ab"
    assert format_bytes(b"\x01\xab", "python") == "b'\\x01\\xab'"
    c = format_bytes(bytes(range(13)), "c", name="buf")
    assert c.startswith("unsigned char buf[13] = {") and c.endswith("};")
    assert "0x0c" in c
    assert eval(format_bytes(bytes(range(256)), "python")) == bytes(range(256))


def test_inspector_values_round_trip():
    assert decode_value("i16", b"\xff\xff", False) == "-1"
    assert decode_value("u32", b"\x00\x00\x00\x01", True) == "1"
    assert decode_value("pointer", struct.pack("<Q", 0x7f00), False) == "0x7f00"
    # Floats in the shortest form that reads back the same (one formatter
    # for the inspector, the watch list, the scanner and the CLI).
    assert decode_value("f32", struct.pack("<f", 1.123), False) == "1.123"
    assert decode_value("f64", struct.pack(">d", 0.1), True) == "0.1"
    assert encode_value("u16", "0x1234", True) == b"\x12\x34"
    assert encode_value("f64", "1.5", False) == struct.pack("<d", 1.5)
    with pytest.raises(InvalidInput, match="does not fit"):
        encode_value("u8", "256", False)
    with pytest.raises(InvalidInput):
        encode_value("i32", "abc", False)


def test_human_size():
    assert human_size(512) == "512 B"
    assert human_size(1536) == "1.5 KiB"
    assert human_size(3 << 30) == "3.0 GiB"
