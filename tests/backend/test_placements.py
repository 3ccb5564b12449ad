"""Placements and field paths (backend/placements.py): a type placed at a
location, field paths resolved to (address, type) through pointer reads,
errors naming the step that broke, the JSON form sessions keep, and
offsets equal to gcc's offsetof for generated structs."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from lainview.backend.ctypes_model import Array, Record
from lainview.backend.errors import FaultError, InvalidInput, Unresolved
from lainview.backend.locations import Location, parse_location
from lainview.backend.memory import MemoryArea, Perm
from lainview.backend.placements import (Placement, default_name, field_target,
                                         resolve_field, value_type)

from tests.backend.test_c_decls import _header

HEADER = """
struct item { int32_t count; char name[12]; struct item *next; };
struct player { int32_t hp; float pos[3]; struct item *held; struct item inv[4];
                unsigned flags : 3; enum kind { A, B = 5 } kind; };
"""
BASE = 0x10000
HEAP = 0x20000
AREAS = [MemoryArea(BASE, BASE + 0x1000, Perm.READ | Perm.WRITE, path="/tmp/game"),
         MemoryArea(HEAP, HEAP + 0x1000, Perm.READ | Perm.WRITE, path="[heap]")]


def _reader(pointers: dict[int, int]):
    def read_pointer(address: int) -> int:
        if address not in pointers:
            raise FaultError("not readable", address=address)
        return pointers[address]
    return read_pointer


def _player(location: str = "/tmp/game+0x100") -> Placement:
    return Placement("player", HEADER, "struct player", parse_location(location))


def test_a_field_path_resolves_to_address_and_type_through_pointers():
    p = _player()
    held = BASE + 0x100 + 0x10
    read = _reader({held: HEAP + 0x40, HEAP + 0x40 + 0x10: HEAP + 0x80})
    address, ctype = resolve_field(field_target("player.hp", p), AREAS, read_pointer=read)
    assert (address, ctype.c_name()) == (BASE + 0x100, "int32_t")
    address, ctype = resolve_field(field_target("player->inv[2].name", p), AREAS,
                                   read_pointer=read)
    assert (address, ctype.c_name()) == (BASE + 0x100 + 0x18 + 2 * 24 + 4, "char[12]")
    address, _ = resolve_field(field_target("player.held->count", p), AREAS, read_pointer=read)
    assert address == HEAP + 0x40
    address, _ = resolve_field(field_target("player.held->next->name[3]", p), AREAS,
                               read_pointer=read)
    assert address == HEAP + 0x80 + 4 + 3
    target = field_target("player.held->next->count", p)
    assert target.location.text == "game+0x110->+0x10->+0x0"
    assert target.place.pointers == ("held", "held->next")


def test_a_placement_at_a_pointer_path_follows_the_pointer():
    # the placement itself is reached through a pointer: player object in the heap
    p = _player("/tmp/game+0x8->+0x0")
    read = _reader({BASE + 0x8: HEAP + 0x100, HEAP + 0x100 + 0x10: HEAP + 0x300})
    assert resolve_field(field_target("player.pos[1]", p), AREAS,
                         read_pointer=read)[0] == HEAP + 0x100 + 8
    assert field_target("player.held->count", p).location.text == "game+0x8->+0x10->+0x0"
    assert resolve_field(field_target("player.held->count", p), AREAS,
                         read_pointer=read)[0] == HEAP + 0x300
    # the pointer moves: the same path finds the new place
    read = _reader({BASE + 0x8: HEAP + 0x200, HEAP + 0x200 + 0x10: HEAP + 0x300})
    assert resolve_field(field_target("player.hp", p), AREAS,
                         read_pointer=read)[0] == HEAP + 0x200


@pytest.mark.parametrize("path, message", [
    ("player.mana", "has no field 'mana'"),
    ("player.inv[4]", "index 4 past the end"),
    ("player.hp->x", "-> needs a pointer"),
    ("player.pos.x", "has no field 'x'"),
    ("player.flags.x", "a bitfield has no members"),
    ("enemy.hp", "no placement named 'enemy' (placed: player)"),
    ("3x", "start with a placement's name"),
    ("player.hp + 1", "cannot read"),
])
def test_a_path_that_does_not_fit_says_which_part(path, message):
    with pytest.raises(InvalidInput) as caught:
        field_target(path, {"player": _player()})
    assert message in str(caught.value)
    assert path.strip() in str(caught.value) or "placement" in message


def test_a_broken_pointer_is_named_by_its_field():
    p = _player()
    held = BASE + 0x100 + 0x10
    # held is NULL: the path breaks at held
    with pytest.raises(Unresolved) as caught:
        resolve_field(field_target("player.held->count", p), AREAS,
                      read_pointer=_reader({held: 0}))
    assert "the pointer player.held leads nowhere" in str(caught.value)
    # held fine, held->next points at unmapped memory
    read = _reader({held: HEAP + 0x40, HEAP + 0x50: 0xdead0000})
    with pytest.raises(Unresolved) as caught:
        resolve_field(field_target("player.held->next->count", p), AREAS, read_pointer=read)
    assert "the pointer player.held->next leads nowhere" in str(caught.value)
    assert "0xdead0000 is not mapped" in str(caught.value)
    # the placement itself does not resolve: the resolver's own words
    with pytest.raises(Unresolved) as caught:
        resolve_field(field_target("player.hp", _player("libgone.so+0x10")), AREAS,
                      read_pointer=read)
    assert "no module named libgone.so" in str(caught.value)


def test_placements_round_trip_through_json_and_refuse_bad_entries():
    p = _player("/tmp/game+0x8->+0x0")
    back = Placement.from_json(p.to_json())
    assert (back.name, back.declarations, back.type_name) == (p.name, p.declarations,
                                                              p.type_name)
    assert back.location.text == "game+0x8->+0x0" == p.location.text
    assert p.to_json()["location"] == "game+0x8->+0x0"
    assert Placement.from_json({"declarations": HEADER, "type": "struct player",
                                "location": "0x1000"}).name == "player"
    for raw, message in [
            ([], "must be an object"),
            ({"declarations": HEADER, "type": "struct player"}, "needs 'location'"),
            ({"declarations": 3, "type": "x", "location": "0x10"}, "needs 'declarations'"),
            ({"declarations": "", "type": " ", "location": "0x10"}, "needs a type name"),
            ({"declarations": "", "type": "int", "location": "0x10", "name": "a b"},
             "must be a C identifier"),
            ({"declarations": "", "type": "int", "location": "0x10->"}, "placement int:")]:
        with pytest.raises(InvalidInput) as caught:
            Placement.from_json(raw)
        assert message in str(caught.value), (raw, str(caught.value))
    with pytest.raises(InvalidInput, match="declarations:1:9: unexpected end of input"):
        Placement("x", "struct {", "struct x", Location.absolute(0)).ctype()
    with pytest.raises(InvalidInput, match="has no size"):
        Placement("x", "struct x;", "struct x", Location.absolute(0)).ctype()


@given(name=st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True),
       offset=st.integers(0, 1 << 40), steps=st.lists(st.integers(-4096, 4096), max_size=3),
       module=st.sampled_from(["/tmp/game", "memfd:lainview-demo", "[heap]", ""]))
def test_placement_json_round_trip(name, offset, steps, module):
    if module == "[heap]":
        location = Location("pseudo", module, offset, steps=tuple(steps))
    elif module:
        location = Location("module", module, offset, steps=tuple(steps))
    else:
        location = Location.absolute(offset)
    p = Placement(name, HEADER, "struct player", location)
    back = Placement.from_json(p.to_json())
    assert back.name == name and back.type_name == p.type_name
    assert back.location.text == location.text and back.location.steps == location.steps


def test_names_and_value_types():
    assert default_name("struct player") == "player"
    assert default_name("player_t") == "player_t"
    assert default_name("const struct item *") == "item"
    p = _player()
    assert value_type(field_target("player.hp", p).type) == ("i32", None)
    assert value_type(field_target("player.pos[0]", p).type) == ("f32", None)
    assert value_type(field_target("player.kind", p).type) == ("u32", None)
    assert value_type(field_target("player.held", p).type) == ("u64", None)
    assert value_type(field_target("player.inv[0].name", p).type) == ("utf8", 12)
    assert value_type(field_target("player.inv[0]", p).type) is None


# ------------------------------------------------------------ gcc's offsetof

def _paths(record: Record, prefix: str, draw) -> list[str]:
    """Some field paths of ``record``: every whole-byte leaf, one element
    of each array."""
    out: list[str] = []
    for f in record.members():
        if f.bit_size:
            continue
        path = f"{prefix}.{f.name}" if prefix else f.name
        t = f.type.strip()
        if isinstance(t, Record):
            out += _paths(t, path, draw)
        elif isinstance(t, Array) and t.count:
            out.append(f"{path}[{draw(st.integers(0, t.count - 1))}]")
        else:
            out.append(path)
    return out


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(header=_header(), data=st.data())
def test_generated_field_paths_resolve_to_gccs_offsets(tmp_path, header, data):
    text, names = header
    type_name = names[-1]
    p = Placement("v", text, type_name, Location("module", "/tmp/game", 0x10))
    record = p.ctype().strip()
    assert isinstance(record, Record)
    paths = _paths(record, "", data.draw)
    if not paths:
        return
    body = "\n".join(f'printf("%zu\\n", offsetof({type_name}, {q}));' for q in paths)
    src = tmp_path / "off.c"
    src.write_text("#include <stdio.h>\n#include <stddef.h>\n#include <stdint.h>\n" + text
                   + "\nint main(void) {\n" + body + "\nreturn 0; }\n")
    subprocess.run(["gcc", "-w", "-std=gnu11", "-o", str(tmp_path / "off"), str(src)],
                   check=True)
    out = subprocess.run([str(tmp_path / "off")], capture_output=True, text=True,
                         check=True).stdout
    areas = [MemoryArea(BASE, BASE + 0x10000, Perm.READ, path="/tmp/game")]
    got = [resolve_field(field_target(f"v.{q}", p), areas)[0] - BASE - 0x10 for q in paths]
    assert got == [int(x) for x in out.split()]


@pytest.mark.parametrize("decl", ["struct s { int a[0x7fffffffffffffff]; };",
                                  "struct s { int a[1000000000]; };"])
def test_a_placed_type_is_bounded(decl):
    """The structure view reads a placement whole on every refresh: a huge
    type is refused at once (the attack pass: a session placing
    int a[0x7fff…] raised OverflowError in the view, seven times)."""
    from lainview.backend.locations import parse_location
    with pytest.raises(InvalidInput, match="a placed type is at most"):
        Placement("s", decl, "struct s", parse_location("0x1000")).ctype()


@pytest.mark.parametrize("decl, type_name, why", [
    ("struct s;", "struct s", "declared, never defined"),
    ("typedef int none_t[0];", "none_t", "an array of no elements"),
    ("typedef void nothing;", "nothing", "void holds no value")])
def test_a_type_without_a_size_says_why(decl, type_name, why):
    """int[0] and void were "declared, never defined" (the attack pass)."""
    from lainview.backend.locations import parse_location
    with pytest.raises(InvalidInput, match=f"has no size \\({why}\\)"):
        Placement("s", decl, type_name, parse_location("0x1000")).ctype()
