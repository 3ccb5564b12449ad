"""The registry of value types: every type formats a value as text that
parses back to the same value, Python values are accepted where text is,
and a type registered for a test is scanned for in a real child."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings, strategies as st

from lainview.backend import value_types
from lainview.backend.errors import InvalidInput
from lainview.backend.scan import AreaFilter, Mode, ScanType, make_condition
from lainview.backend.value_types import BytesKind, NumberKind, TextKind

BUILT_IN = ("i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f32", "f64",
            "bytes", "utf8", "utf16le")
PRINTABLE = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1).filter(
    lambda s: s.isprintable())


def test_the_built_in_types_in_order():
    assert value_types.names() == BUILT_IN
    assert [k.unit for k in value_types.kinds() if k.numeric] == [1, 1, 2, 2, 4, 4, 8, 8, 4, 8]
    assert str(value_types.number("u16").dtype(big_endian=True)) == ">u2"
    assert value_types.get("i8").byte_orders == ("little",)
    assert value_types.get("f64").byte_orders == ("little", "big")
    assert value_types.get("utf16le").alignment == 2
    assert value_types.get("bytes").modes == value_types.PATTERN_MODES
    assert all(k.tip and k.example for k in value_types.kinds())
    with pytest.raises(InvalidInput, match="unknown value type 'i128': choose one of i8, "):
        value_types.get("i128")
    with pytest.raises(InvalidInput, match="utf8 is not a numeric type"):
        value_types.number("utf8")


@pytest.mark.parametrize("name", BUILT_IN)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_parse_of_format_is_the_value(name, data):
    kind = value_types.get(name)
    if isinstance(kind, NumberKind):
        raw = data.draw(st.binary(min_size=kind.size, max_size=kind.size))
        big = data.draw(st.booleans())
        value = kind.decode(raw, big)
        text = kind.format(value)
        back = kind.parse(text)
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(back) and text == "nan"
            return
        assert back == value and type(back) is type(value)
        assert kind.encode(back, big) == raw                  # bit for bit, -0.0 too
        assert kind.parse(value) == value                     # the Python value itself
        return
    if isinstance(kind, TextKind):
        value = data.draw(PRINTABLE)
        assert kind.format(value) == value
        assert kind.parse(kind.format(value)) == value
        assert kind.decode(kind.encode(value + "\0rest")) == value
        return
    value = data.draw(st.binary(min_size=1))
    assert kind.parse(kind.format(value)) == value
    assert kind.decode(kind.encode(value)) == value


def test_floats_are_formatted_shortest_for_their_width():
    f32, f64 = value_types.number("f32"), value_types.number("f64")
    assert f32.format(f32.decode(struct.pack("<f", 1.123))) == "1.123"
    assert f64.format(0.1) == "0.1"
    assert f32.format(float("-inf")) == "-inf"
    assert f32.parse("1.123") == struct.unpack("<f", struct.pack("<f", 1.123))[0]
    with pytest.raises(InvalidInput, match="does not fit in f32"):
        f32.parse("1e39")
    assert f64.to_json(float("nan")) is None and f32.to_json(0.5) == 0.5


def test_text_that_cannot_be_shown_is_escaped():
    utf8 = value_types.get("utf8")
    assert utf8.format(utf8.decode(b"a\nb\xff\0rest")) == "a\\nb\\xff"
    assert utf8.to_json("a\nb") == "a\nb"


@pytest.mark.parametrize("name,value,expect", [
    ("i32", 1234, 1234), ("i32", "0x10", 16), ("i32", " -5 ", -5), ("u8", 255.0, 255),
    ("f32", 1.5, 1.5), ("f64", 3, 3.0), ("f64", "1e3", 1000.0),
])
def test_python_values_are_accepted_as_text_is(name, value, expect):
    cond = make_condition(ScanType(name), "exact", value)
    assert cond.value == expect and type(cond.value) is type(expect)


def test_python_values_for_patterns_and_ranges():
    assert make_condition(ScanType("bytes"), "exact", b"\xde\xad").pattern.data == b"\xde\xad"
    assert make_condition(ScanType("utf16le"), "exact", "hé").pattern.data == \
        "hé".encode("utf-16-le")
    assert make_condition(ScanType("utf8"), "exact", "hé".encode()).pattern.data == \
        "hé".encode()
    cond = make_condition(ScanType("i16"), "range", (-3, 7))
    assert (cond.low, cond.high) == (-3, 7)


@pytest.mark.parametrize("name,value,message", [
    ("i32", True, "is not an i32 value"), ("u8", 1.5, "has a fraction"),
    ("u8", 256, r"does not fit in u8 \(0..255\)"), ("i64", b"\x01", "is not an i64 value"),
    ("utf8", 5, "is not text"), ("bytes", 5, "is not hex bytes"),
    ("utf8", b"\xff", "is not utf-8 text \\(invalid start byte at byte 0\\)"),
    ("i64", float("nan"), r"is not an i64 value \(integers are finite\)"),
    ("u8", float("inf"), r"is not a u8 value \(integers are finite\)"),
    ("utf16le", "\ud800", "lone surrogate"),
])
def test_python_values_that_do_not_fit_are_refused_clearly(name, value, message):
    with pytest.raises(InvalidInput, match=message):
        make_condition(ScanType(name), "exact", value)


def test_a_5000_digit_python_int_is_quoted_in_hex():
    """str() of it raises ValueError: the message quotes it in hex, clipped."""
    with pytest.raises(InvalidInput, match=r"^0x[0-9a-f]{70,}… does not fit in i32"):
        make_condition(ScanType("i32"), "exact", 10 ** 5000)


def test_modes_that_do_not_apply_are_refused_naming_those_that_do():
    with pytest.raises(InvalidInput, match="utf8 scans can be exact, changed, unchanged, "
                                           "not increased"):
        make_condition(ScanType("utf8"), Mode.INCREASED)


def test_registering_needs_a_new_plain_name_and_is_undone():
    with pytest.raises(ValueError, match="registered already"):
        value_types.register(NumberKind("i32", "i", tip="again"))
    with pytest.raises(ValueError, match="lower-case"):
        value_types.register(TextKind("Latin 1", "latin-1", 1, tip="x"))
    with value_types.registered(BytesKind("blob", tip="raw", example="00 ff")) as kind:
        assert value_types.get("blob") is kind and value_types.names()[-1] == "blob"
    assert "blob" not in value_types.names()


def test_a_registered_type_is_scanned_for_in_a_real_child(backend, child):
    with value_types.registered(NumberKind("f16", "e", tip="16-bit float (test)")):
        target = backend.attach(child.pid).result(10)
        planted = child.scan + 0x22
        assert child.command(f"poke {planted:x} {struct.pack('<e', -2.75).hex()}") == "ok"
        f16 = ScanType("f16")
        assert f16.size == 2 and str(f16.dtype) == "float16"
        cond = make_condition(f16, "exact", "-2.75")
        areas = AreaFilter(ranges=((child.scan, child.scan + child.page),))
        state = target.scan_first(f16, cond, areas=areas).result(30)
        assert state.addresses().tolist() == [planted]
        assert child.command(f"poke {planted:x} {struct.pack('<e', 0.5).hex()}") == "ok"
        grown = target.scan_next(state, make_condition(f16, "increased")).result(30)
        assert grown.addresses().tolist() == [planted]
        assert [f16.format(v) for v in grown.values_at([planted])] == ["0.5"]
        assert f16.to_json(grown.values_at([planted])[0]) == 0.5
    with pytest.raises(InvalidInput, match="unknown value type 'f16'"):
        ScanType("f16")


def test_a_registered_type_is_a_choice_of_the_cli_and_scanned_for(child, capsys):
    import json

    from lainview.cli import run_cli
    from lainview.cli.parser import build_parser
    planted = child.scan + 0x42
    assert child.command(f"poke {planted:x} {struct.pack('<e', 0.1).hex()}") == "ok"
    area = f"{child.scan:x}-{child.scan + child.page:x}"
    args = ["scan", str(child.pid), "--type", "f16", "--value", "0.1", "--area", area, "--json"]
    with value_types.registered(NumberKind("f16", "e", tip="16-bit float (test)")):
        assert build_parser().parse_args(["scan", "1", "--type", "f16"]).type == "f16"
        assert run_cli(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["type"] == "f16" and report["count"] == 1
    assert report["matches"] == [{"address": planted, "value": 0.1, "text": "0.1"}]
    # Unregistered, it is not a choice: a usage error, exit 2.
    with pytest.raises(SystemExit) as exit_:
        run_cli(args)
    assert exit_.value.code == 2
    assert "invalid choice: 'f16'" in capsys.readouterr().err

