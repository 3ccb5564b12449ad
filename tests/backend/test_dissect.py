"""The dissector on a real process (tests/c/dissect_target.c: a struct of
known slots, a page followed by an unmapped one) and on made-up bytes;
its declarations parse back (pycparser) into fields at the slots' offsets."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lainview.backend.c_decls import parse_header
from lainview.backend.dissect import (CHOICES, SLOT, SlotKind, declarations, dissect, guess,
                                      merge_strings, value_text)
from lainview.backend.errors import InvalidInput
from lainview.backend.memory import Hole, ReadResult
from lainview.backend.module_symbols import ModuleSymbols
from lainview.backend.procfs import ProcfsMemory
from tests import c_child

C_DIR = Path(__file__).parent.parent / "c"


@pytest.fixture
def blob(tmp_path):
    exe = c_child.build(C_DIR / "dissect_target.c", tmp_path, "-O0", "-g0")
    run = c_child.start(exe)
    yield run
    run.stop()


K = SlotKind
EXPECTED = [K.POINTER, K.DOUBLE, K.STRING, K.INT64, K.INT32_PAIR, K.FLOAT_PAIR, K.ZERO,
            K.BYTES, K.POINTER]


def test_known_slots_are_guessed_with_reasons_and_named(blob):
    memory = ProcfsMemory(blob.pid, writable=False)
    try:
        areas = memory.areas()
        read = memory.read(blob.blob, 9 * SLOT)
        symbols = ModuleSymbols().symbolizer(blob.pid, areas)
    finally:
        memory.close()
    slots = dissect(read, areas, symbols)
    assert [s.kind for s in slots] == EXPECTED, [(s.kind, s.reason) for s in slots]
    assert [s.offset for s in slots] == list(range(0, 9 * SLOT, SLOT))
    assert slots[0].address == blob.blob
    heap, dbl, text, small, pair, floats, zero, _hash, code = slots
    assert heap.reason.startswith("points into [heap] (rw-p")
    assert heap.value.startswith(f"{blob.heap:#x} → [heap]+0x")
    assert (dbl.value, text.value, small.value, pair.value, floats.value, zero.value) == \
        ("3.25", '"hello"', "42", "7, -3", "1.5, -0.25", "0")
    assert text.reason == "5 printable characters, then NUL"
    assert code.reason.endswith(", code)")
    assert code.value == f"{blob.main:#x} → dissect_target!main"
    # without symbols a pointer is named by the location grammar
    plain = dissect(read, areas)
    assert plain[8].value == f"{blob.main:#x} → dissect_target+{blob.main - _base(areas, 'dissect_target'):#x}"


def test_a_pointer_into_unnamed_anonymous_memory_is_said_so(blob):
    """No path names an anonymous mapping: the pointer is "anonymous
    memory", not its own address again; named memory keeps its location."""
    from lainview.backend.dissect import name_pointer
    from lainview.backend.memory import area_at
    memory = ProcfsMemory(blob.pid, writable=False)
    try:
        areas = memory.areas()
        symbols = ModuleSymbols().symbolizer(blob.pid, areas)
    finally:
        memory.close()
    area = area_at(areas, blob.edge)
    assert area is not None and not area.path
    said = f"anonymous memory, {blob.edge - area.start:#x} into its mapping"
    assert name_pointer(blob.edge, areas) == said
    assert name_pointer(blob.edge, areas, symbols) == said
    assert name_pointer(blob.heap, areas).startswith("[heap]+0x")
    assert name_pointer(8, areas) == "0x8"                      # in no area


def _base(areas, name: str) -> int:
    return min(a.start for a in areas if a.path.endswith("/" + name))


def test_a_hole_makes_its_slots_unreadable_with_the_reason(blob):
    memory = ProcfsMemory(blob.pid, writable=False)
    try:
        areas = memory.areas()
        read = memory.read(blob.edge, 4 * SLOT)        # 16 bytes mapped, 16 not
    finally:
        memory.close()
    slots = dissect(read, areas)
    assert [s.kind for s in slots] == [K.DOUBLE, K.ZERO, K.UNREADABLE, K.UNREADABLE]
    assert slots[0].value == "2.5"
    assert slots[2].value == "??" and slots[2].reason.startswith("not readable: ")
    assert slots[2].reason != "not readable: "


def test_declarations_parse_back_into_fields_at_the_slots():
    slots = [(o * SLOT, SLOT, k) for o, k in enumerate(CHOICES)] + [(len(CHOICES) * SLOT, 3,
                                                                     K.BYTES)]
    text = declarations("dissected", slots)
    assert "    void *ptr_00;" in text and "    char str_18[8];" in text
    record = parse_header(text, "dissect").lookup("struct dissected")
    assert [(f.name, f.offset) for f in record.fields] == [
        ("ptr_00", 0), ("dbl_08", 8), ("flt_10", 16), ("str_18", 24), ("i64_20", 32),
        ("i32_28", 40), ("zero_30", 48), ("raw_38", 56), ("raw_40", 64)]
    assert record.fields[-1].type.size == 3
    with pytest.raises(InvalidInput, match="not a C identifier"):
        declarations("2bad", slots)
    with pytest.raises(InvalidInput, match="out of order"):
        declarations("ok", [(8, 8, K.ZERO)])
    with pytest.raises(InvalidInput, match="nothing to declare"):
        declarations("ok", [])
    assert declarations("struct named", [(0, 8, K.ZERO)]).startswith("struct named {")


@pytest.mark.parametrize("raw, kind", [
    (struct.pack("<d", 3.25), K.DOUBLE),
    (struct.pack("<d", 0.8414709848078965), K.DOUBLE),
    (struct.pack("<ff", 1.5, -0.25), K.FLOAT_PAIR),
    (struct.pack("<ff", 1.5, 0.0), K.FLOAT_PAIR),
    (struct.pack("<q", -5), K.INT64),
    (struct.pack("<q", 100_000_000), K.INT64),
    (b"abcdefgh", K.STRING),
    (b"hi\0\0\0\0\0\0", K.INT64),           # two characters: a small int's bytes as well
    (struct.pack("<Q", 0x9E3779B97F4A7C15), K.BYTES),
    (b"\0" * 8, K.ZERO),
    (b"\1\2\3", K.BYTES),
])
def test_guesses_of_made_up_bytes(raw, kind):
    assert guess(raw, [])[0] == kind


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=64), st.integers(0, 1 << 47))
def test_any_bytes_give_a_guess_and_every_kind_a_value(raw, address):
    read = ReadResult(address, raw, (Hole(address + 8, 8),) if len(raw) > 16 else ())
    slots = dissect(read, [])
    assert sum(len(s.data or b"\0" * min(SLOT, len(raw) - s.offset)) for s in slots) == len(raw)
    for s in slots:
        for kind in CHOICES:
            assert isinstance(value_text(kind, s.data, []), str)


def test_a_string_running_on_is_declared_as_one_array():
    text = b"twenty-four characters!!" + bytes(8)        # 3 string slots, then zero
    slots = [(o, SLOT, guess(text[o:o + SLOT], [])[0], text[o:o + SLOT])
             for o in range(0, 32, SLOT)]
    assert [k for _o, _s, k, _d in slots] == [K.STRING] * 3 + [K.ZERO]
    slots.insert(0, (-8, SLOT, K.STRING, b"hello\0\0\0"))       # ends: not joined
    slots = [(o + 8, n, k, d) for o, n, k, d in slots]
    fields = merge_strings(slots)
    assert fields == [(0, 8, K.STRING), (8, 24, K.STRING), (32, 8, K.ZERO)]
    text = declarations("named", fields)
    assert "    char str_08[24];" in text
    record = parse_header(text, "d").lookup("struct named")
    assert [(f.name, f.offset, f.type.size) for f in record.fields] == [
        ("str_00", 0, 8), ("str_08", 8, 24), ("zero_20", 32, 8)]
    with pytest.raises(InvalidInput, match="out of order"):
        declarations("x", [(0, 16, K.DOUBLE)])


def test_a_refresh_guesses_again_only_the_slots_that_changed():
    import struct as s
    data = bytearray(s.pack("<dqq", 3.25, 42, 0))
    first = dissect(ReadResult(0x1000, bytes(data)), [])
    data[8:16] = s.pack("<d", 1.5)
    again = dissect(ReadResult(0x1000, bytes(data)), [], None, first)
    assert again[0] is first[0] and again[2] is first[2]
    assert again[1] is not first[1] and (again[1].kind, again[1].value) == (K.DOUBLE, "1.5")
    # a slot gone unreadable is not taken from before
    holed = dissect(ReadResult(0x1000, bytes(data), (Hole(0x1000, 8),)), [], None, again)
    assert holed[0].kind == K.UNREADABLE and holed[1] is again[1]
