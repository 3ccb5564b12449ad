"""Copy formats, inspector rows."""

import struct

import pytest

from lainview.backend.errors import InvalidInput
from lainview.models.formats import format_bytes, human_size
from lainview.models.inspector_model import inspector_rows


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
