"""The type model: typed values (text, enums, bitfields, followed
pointers, unreadable pointees), field paths and their pointer-path steps,
the value-type registry mapping and C text."""

from __future__ import annotations

import struct

import pytest

from lainview.backend.c_decls import parse_header
from lainview.backend.ctypes_model import (Base, c_definition, field_place, typed_value)
from lainview.backend.errors import FaultError, InvalidInput

HEADER = """
enum state { IDLE, RUNNING = 3, DEAD = -1 };
struct item { int count; char name[8]; };
struct player {
    int hp;
    struct item *inv;
    struct item bag[2];
    unsigned flags:3, level:5;
    int delta:4;
    enum state state;
    union { float f; unsigned u; } both;
};
"""


def _player_bytes(inv: int) -> bytes:
    return (struct.pack("<i", 100) + b"\0" * 4 + struct.pack("<Q", inv)
            + struct.pack("<i", 7) + b"apple\0\0\0" + struct.pack("<i", 9) + b"pear\0\0\0\0"
            + struct.pack("<I", 5 | (19 << 3) | (0b1110 << 8))
            + struct.pack("<i", -1) + struct.pack("<f", 1.5)).ljust(56, b"\0")


def test_typed_value_tree_reads_every_kind_of_field():
    decls = parse_header(HEADER, "p.h")
    player = decls.lookup("struct player")
    assert player.size == 56
    heap = {0x5000: struct.pack("<i", 42) + b"sword\0\0\0"}
    reads = []

    def read(address: int, size: int) -> bytes:
        reads.append((address, size))
        if address not in heap:
            raise FaultError("not mapped", address=address, size=size)
        return heap[address][:size]

    tree = typed_value(player, _player_bytes(0x5000), 0x1000, read, follow=1)
    v = {n.path: n.value for n in tree.walk()}
    assert v["hp"] == 100 and v["bag[0].name"] == "apple" and v["bag[1].count"] == 9
    assert (v["flags"], v["level"], v["delta"]) == (5, 19, -2)
    assert v["state"] == "DEAD" and v["both.f"] == 1.5 and v["both.u"] == 0x3FC00000
    assert v["inv"] == 0x5000 and v["inv->count"] == 42 and v["inv->name"] == "sword"
    assert tree.find("inv->count").address == 0x5000 and tree.find("inv->count").offset is None
    assert tree.find("bag[1].name").offset == 32 and tree.find("bag[1].name").address == 0x1020
    assert tree.find("level").bits == (3, 5)
    assert reads == [(0x5000, 12)]
    broken = typed_value(player, _player_bytes(0x9000), 0x1000, read, follow=1)
    assert "not mapped" in (broken.find("inv").error or "")
    as_json = tree.to_json()
    assert as_json["fields"]["bag"]["elements"][1]["fields"]["name"]["value"] == "pear"
    assert as_json["fields"]["inv"]["fields"]["*"]["fields"]["count"]["value"] == 42


def test_field_paths_give_offsets_and_pointer_steps():
    player = parse_header(HEADER, "p.h").lookup("struct player")
    assert field_place(player, "bag[1].name[2]").offset == 34
    place = field_place(player, "inv->name[3]")
    assert (place.offset, place.steps, place.location_suffix()) == (8, (7,), "+0x8->+0x7")
    lvl = field_place(player, "level")
    assert (lvl.offset, lvl.bit_offset, lvl.bit_size) == (40, 3, 5)
    for bad, why in [("nope", "no field 'nope'"), ("hp->x", "-> needs a pointer"),
                     ("bag[2]", "past the end"), ("hp[0]", "needs an array"),
                     ("bag[0]..count", "cannot read")]:
        with pytest.raises(InvalidInput, match=why):
            field_place(player, bad)


def test_base_types_map_onto_the_value_type_registry():
    decls = parse_header("struct s { unsigned char a; short b; long c; double d; "
                         "_Bool e; long double f; };", "s.h")
    kinds = [f.type.strip().value_kind for f in decls.lookup("struct s").fields
             if isinstance(f.type.strip(), Base)]
    assert kinds == ["u8", "i16", "i64", "f64", "u8", None]


def test_c_definition_prints_offsets():
    text = c_definition(parse_header(HEADER, "p.h").lookup("struct player"))
    assert "\tstruct item *inv; /* 8 8 */" in text
    assert "\tunsigned int level:5; /* 40:3 5 bits */" in text
    assert text.endswith("}; /* size: 56 */")


def test_a_cyclic_list_is_followed_at_most_max_follow_levels():
    from lainview.backend.ctypes_model import MAX_FOLLOW
    node_t = parse_header("struct node { struct node *next; int v; };", "n.h") \
        .lookup("struct node")
    me = struct.pack("<Qi", 0x2000, 5).ljust(16, b"\0")
    tree = typed_value(node_t, me, 0x2000, lambda a, n: me[:n], follow=10_000)
    depth, n = 0, tree
    while n.find is not None and any(c.name == "next" for c in n.children):
        nxt = next(c for c in n.children if c.name == "next")
        if not nxt.children:
            break
        n, depth = nxt.children[0], depth + 1
    assert depth == MAX_FOLLOW
    assert tree.find("next->next->v").value == 5


def test_a_field_placed_past_its_record_has_no_value_not_an_error():
    """Hypothesis found it with damaged DWARF: a record whose fields lie past
    its own size made struct.unpack raise. Every scalar kind there is None."""
    from lainview.backend.ctypes_model import Enum, Field, Pointer, Record
    f32, f64, i32 = Base("float", 4, kind="float"), Base("double", 8, kind="float"), \
        Base("int", 4)
    damaged = Record("struct", "damaged", [
        Field("f", f32, 16), Field("d", f64, 40), Field("i", i32, 64),
        Field("p", Pointer(i32), 80), Field("e", Enum("e", {}, 4), 96)], size=8,
        complete=True)
    tree = typed_value(damaged, bytes(8))
    assert {c.name: c.value for c in tree.children} == dict.fromkeys("fdipe")


@pytest.mark.parametrize("path", ["inv[03]", "inv[08]", "inv[\uff11]", "inv[\u0663]", "in\u00e9"])
def test_a_field_path_is_ascii_and_its_index_has_no_leading_zero(path):
    """C reads 010 as octal: a leading zero is refused, not guessed; digits
    and names of other scripts are not C (the attack pass: inv[03] raised
    ValueError from int(…, 0))."""
    from lainview.backend.c_decls import parse_header
    t = parse_header("struct s { int a; int inv[10]; };", "x").lookup("struct s")
    with pytest.raises(InvalidInput, match="cannot read"):
        field_place(t, path)
    assert field_place(t, "inv[0x3]").offset == field_place(t, "inv[3]").offset == 16


def test_an_array_cut_at_max_elements_says_so():
    """Nothing is lost silently: an array longer than MAX_ELEMENTS shows
    the first ones and counts the rest, in text and JSON (the attack pass:
    int[1000000] ended at [4095] with nothing said)."""
    from lainview.backend.ctypes_model import MAX_ELEMENTS, Array
    t = Array(Base("int", 4, True), MAX_ELEMENTS + 5)
    tree = typed_value(t, bytes(t.size), 0x1000)
    assert len(tree.children) == MAX_ELEMENTS and tree.cut == 5
    assert tree.to_json()["elements_not_shown"] == 5
    assert tree.lines()[-1].strip() == f"… 5 more elements not shown (at most {MAX_ELEMENTS:,} are)"
    # the CLI's form, with a title for the root (it said nothing there)
    assert tree.lines("int[4101] at 0x1000")[-1].strip().startswith("… 5 more elements")
    short = typed_value(Array(Base("int", 4, True), 3), bytes(12), 0x1000)
    assert short.cut == 0 and "elements_not_shown" not in short.to_json()


def test_text_a_target_holds_is_escaped_once_where_it_is_shown():
    """A char array holding ESC, BEL and a UTF-8 CSI (U+009B): its value is
    the text as held, so JSON escapes it once (a consumer decodes a real
    ESC); the shown text escapes every control once (it was escaped twice,
    and JSON carried the backslashes)."""
    import json
    from lainview.backend.ctypes_model import Array
    held = "\x1b[31mRED\x1b]0;pwn\x07\u009b2J\\x"
    t = Array(Base("char", 1, True, "char", 1), 32)
    node = typed_value(t, held.encode().ljust(32, b"\0"), 0x1000)
    assert node.value == held
    assert json.loads(json.dumps(node.to_json()))["value"] == held
    shown = node.value_text()
    assert shown.isprintable() and shown.count("\\u001b") == 2 and "\\x9b" in shown
    assert "\\\\u001b" not in shown and shown.endswith('\\\\x"')
