"""Locations: the one grammar (parse, print, resolve) on made-up maps, driven
by hypothesis against a real child's map, and round-tripped between two runs
of real programs."""

from __future__ import annotations

import json
from pathlib import Path
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, assume, example, given, settings, strategies as st

from lainview.backend.errors import AddressOutOfRange, InvalidInput, Unresolved
from lainview.backend.locations import (MAX_THREAD_INDEX, Location, LocationKind, locate,
                                         parse_location, resolve, settle)
from lainview.backend.memory import area_at, parse_maps

from tests.aslr_support import aslr_enabled, build, start
from tests.conftest import spawn_child

MAPS = """\
555500000000-555500001000 r--p 00000000 fe:00 11 /opt/game/bin/game
555500001000-555500003000 r-xp 00001000 fe:00 11 /opt/game/bin/game
555500003000-555500004000 rw-p 00003000 fe:00 11 /opt/game/bin/game
555500004000-555500008000 rw-p 00000000 00:00 0
555501000000-555501100000 rw-p 00000000 00:00 0 [heap]
7f0000000000-7f0000010000 rw-p 00000000 00:00 0
7f0000010000-7f0000011000 r--p 00000000 fe:00 12 /usr/lib/libc.so.6
7f0000011000-7f0000020000 r-xp 00001000 fe:00 12 /usr/lib/libc.so.6
7f0000020000-7f0000021000 rw-s 00000000 00:01 13 /memfd:lainview-demo (deleted)
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0 [stack]
"""


def shifted(text: str, **moves: int) -> list:
    """The same map with each named file (or pseudo-area) moved by a delta."""
    out = []
    for line in text.splitlines():
        head, _, rest = line.partition(" ")
        lo, hi = (int(x, 16) for x in head.split("-"))
        delta = next((d for name, d in moves.items() if name in line), 0)
        if line.endswith(" 0") and "game" in moves:     # the .bss follows its module
            delta = moves["game"] if lo == 0x555500004000 else delta
        out.append(f"{lo + delta:x}-{hi + delta:x} {rest}")
    return parse_maps("\n".join(out))


AREAS = parse_maps(MAPS)


def test_file_backed_addresses_are_module_plus_offset():
    loc = locate(0x555500001234, AREAS)
    assert loc == Location("module", "/opt/game/bin/game", 0x1234)
    assert loc.text == "game+0x1234" and loc.survives_restart
    assert locate(0x7f0000011000, AREAS).text == "libc.so.6+0x1000"


def test_bss_after_the_writable_data_belongs_to_the_module():
    loc = locate(0x555500004010, AREAS)
    assert loc == Location("module", "/opt/game/bin/game", 0x4010)
    # An anonymous area that does not follow a module's data stays absolute.
    assert locate(0x7f0000000010, AREAS) == Location.absolute(0x7f0000000010)
    assert not Location.absolute(1).survives_restart


def test_pseudo_areas_and_memfd_names():
    assert locate(0x555501000040, AREAS).text == "[heap]+0x40"
    memfd = locate(0x7f0000020f80, AREAS)
    assert memfd == Location("module", "memfd:lainview-demo", 0xf80)   # as typed, as printed
    assert memfd.text == "memfd:lainview-demo+0xf80"


def test_resolve_against_a_map_where_everything_moved():
    moved = shifted(MAPS, game=0x1230000, **{"libc.so.6": -0x5000000, "[heap]": 0x77000,
                                             "memfd": 0x100000})
    for address, delta in [(0x555500001234, 0x1230000), (0x555500004010, 0x1230000),
                           (0x7f0000011000, -0x5000000), (0x555501000040, 0x77000),
                           (0x7f0000020f80, 0x100000)]:
        assert resolve(locate(address, AREAS), moved) == address + delta


def _why(location: Location, areas=AREAS, **kw) -> str:
    with pytest.raises(Unresolved) as caught:
        resolve(location, areas, **kw)
    return caught.value.message


def test_unresolved_locations_say_what_and_why():
    gone = [a for a in AREAS if "libc" not in a.path]
    assert _why(Location("module", "/usr/lib/libc.so.6", 0x10), gone, pid=123) == \
        "no module named /usr/lib/libc.so.6 in the map of pid 123; modules: game, " \
        "memfd:lainview-demo"
    assert _why(parse_location("libfoo.so+0x10")) == \
        "no module named libfoo.so in this map; modules: game, libc.so.6, memfd:lainview-demo"
    assert _why(parse_location("libc.so.6-0x20")) == \
        "offset -0x20 puts the address before the start of libc.so.6"
    assert _why(Location("module", "/opt/game/bin/game", 0x9000)) == \
        "offset 0x9000 is past the end of game (0x8000 bytes mapped)"
    assert _why(Location("pseudo", "[vdso]", 0), pid=7) == \
        "no [vdso] area in the map of pid 7; pseudo-areas: [heap], [stack]"
    assert _why(Location.absolute(0x1000), pid=7) == "0x1000 is not mapped in the map of pid 7"
    assert _why(parse_location("kernel:jiffies")).startswith(
        "kernel:jiffies is a kernel symbol: it is found by a kernel source")
    # The last bytes of a value must fit too.
    assert "past the end of [stack]" in _why(Location("pseudo", "[stack]", 0x20ffe), size=4)
    assert resolve(Location("pseudo", "[stack]", 0x20ffc), AREAS, size=4) == 0x7ffc00020ffc
    # Names the target chose are printed escaped, on one line.
    hostile = parse_maps(MAPS.replace("/opt/game/bin/game", "/opt/ga\x1bme\x7f"))
    message = _why(parse_location("nope+0"), hostile)
    assert '"ga\\u001bme\\u007f"' in message and "\x1b" not in message   # quoted: types back


def test_kernel_symbols_resolve_through_the_lookup_given():
    table = {("jiffies", None): [0xffffffff82000000], ("var", "mod"): [0xffffffffc0001000]}

    def symbols(name, module):
        return table.get((name, module), [])
    assert resolve(parse_location("kernel:jiffies+0x8"), [], symbols=symbols) == \
        0xffffffff82000008
    assert resolve(parse_location("kernel:mod:var - 10"), [], symbols=symbols) == \
        0xffffffffc0000ff0
    assert _why(parse_location("kernel:nope"), [], symbols=symbols) == \
        "no kernel symbol named nope"
    assert _why(parse_location("kernel:mod:jiffies"), [], symbols=symbols) == \
        "no kernel symbol named jiffies in module mod"
    assert "outside the 64-bit address space" in \
        _why(parse_location("kernel:jiffies+0x7e000000"), [], symbols=symbols)


def test_a_moved_program_is_found_by_its_file_name():
    moved = parse_maps(MAPS.replace("/opt/game/bin/game", "/home/me/game-2/game"))
    assert resolve(Location("module", "/opt/game/bin/game", 0x10), moved) == 0x555500000010
    twice = parse_maps(MAPS.replace("/usr/lib/libc.so.6", "/a/game") + MAPS.splitlines()[0]
                       .replace("555500000000-555500001000", "600000000000-600000001000")
                       .replace("/opt/game/bin/game", "/b/game"))
    assert _why(Location("module", "/c/game", 0), sorted(twice, key=lambda a: a.start)) == \
        "game is mapped from several files (/a/game, /b/game, /opt/game/bin/game): name one " \
        "by its full path"


def test_deleted_suffix_is_not_part_of_the_name():
    rebuilt = parse_maps(MAPS.replace("/opt/game/bin/game", "/opt/game/bin/game (deleted)"))
    loc = locate(0x555500000008, rebuilt)
    assert loc.name == "/opt/game/bin/game"
    assert resolve(loc, AREAS) == 0x555500000008
    # Typed with or without the kernel's suffix, by file name or full path.
    for typed in ("game+8", "game (deleted)+8", "/opt/game/bin/game+8"):
        assert resolve(parse_location(typed), rebuilt) == 0x555500000008, typed


def test_json_round_trip_and_malformed_input():
    for loc in [locate(0x555500001234, AREAS), Location.absolute(0x1000),
                Location.kernel_symbol("jiffies", 0, None),
                Location.kernel_symbol("var", 8, "mod")]:
        assert Location.from_json(loc.to_json()) == loc
    for raw, message in [([], "must be an object"), ({"kind": "nope"}, "unknown location kind"),
                         ({"kind": "module", "name": "", "offset": 0}, "needs a name"),
                         ({"kind": "absolute", "name": "", "offset": -1},
                          "bad offset -1 in an absolute location"),
                         # str() of a 5 000-digit int raises ValueError: quoted in hex
                         ({"kind": "pseudo", "name": "[heap]", "offset": 10 ** 5000},
                          r"bad offset 0x[0-9a-f]{70,}… in a pseudo location"),
                         ({"kind": "pseudo", "name": "[heap]", "offset": 1 << 64},
                          "bad offset"),
                         ({"kind": "pseudo", "name": "[heap]", "offset": "1"}, "bad offset"),
                         ({"kind": "kernel", "name": "x", "offset": 0, "module": 3},
                          "bad kernel module")]:
        with pytest.raises(InvalidInput, match=message):
            Location.from_json(raw)


def test_parse_typed_locations():
    assert parse_location("0x555500001234") == Location.absolute(0x555500001234)
    assert parse_location(" 555500001234 ") == Location.absolute(0x555500001234)
    assert parse_location("0x1000+0x10") == parse_location("1020 - 10") == \
        Location.absolute(0x1010)
    assert parse_location("libc.so.6+0x10") == Location("module", "libc.so.6", 0x10)
    assert parse_location("libc.so.6 + 29000") == Location("module", "libc.so.6", 0x29000)
    assert parse_location("/usr/bin/cat+10") == Location("module", "/usr/bin/cat", 0x10)
    assert parse_location("libstdc++.so.6") == Location("module", "libstdc++.so.6", 0)
    assert parse_location("libfoo-1+0") == Location("module", "libfoo-1", 0)
    assert parse_location("memfd:my buf+0x8") == Location("module", "memfd:my buf", 8)
    assert parse_location("[heap]+40") == Location("pseudo", "[heap]", 0x40)
    assert parse_location("[heap]") == Location("pseudo", "[heap]", 0)
    assert parse_location("[stack]-0x8") == Location("pseudo", "[stack]", -8)
    assert parse_location("[anon:a+1]") == Location("pseudo", "[anon:a+1]", 0)
    assert parse_location("kernel:jiffies") == Location.kernel_symbol("jiffies")
    assert parse_location("kernel:mod:var+0x8") == Location.kernel_symbol("var", 8, "mod")
    assert parse_location("kernel:jiffies-8") == Location.kernel_symbol("jiffies", -8)
    assert parse_location("kernel:jiffies").text == "kernel:jiffies"
    for bad, message in [("[heap]+zz", "bad area name"), ("[heap", "bad area name"),
                         ("  ", "type an address"), ("kernel:", "needs a symbol"),
                         ("kernel:a b", "bad kernel symbol name"),
                         ("kernel:foo\x00+1", "bad kernel symbol name 'foo\\x00'"),
                         ("kernel:m\x1b:foo", "bad kernel module name 'm\\x1b'"),
                         ("memfd:", "needs the memfd's name"),
                         ("0xg", "not a hex address: '0xg'"), ("0x", "not a hex address")]:
        with pytest.raises(InvalidInput, match=re.escape(message)):
            parse_location(bad)
    for big in ("0x10000000000000000", "0xffffffffffffffff+1", "0-1", "[heap]+0x10000000000000000"):
        with pytest.raises(AddressOutOfRange, match="out of range"):
            parse_location(big)


def test_go_to_forms_resolve_on_a_map():
    # What the hex editor's go-to accepted before the grammar had one home.
    areas = parse_maps("""\
00400000-00401000 r--p 00000000 fe:00 1 /usr/bin/cat
01000000-01021000 rw-p 00000000 00:00 0 [heap]
7f0000000000-7f0000028000 r--p 00000000 fe:00 2 /usr/lib/x86_64-linux-gnu/libc.so.6
7f0000028000-7f00001bd000 r-xp 00028000 fe:00 2 /usr/lib/x86_64-linux-gnu/libc.so.6
""")
    for text, address in [("0x7f0000001000", 0x7f0000001000), ("7f0000001000", 0x7f0000001000),
                          ("[heap]+0x10", 0x1000010), ("libc.so.6+0x1f00", 0x7f0000001f00),
                          ("libc.so.6 + 29000", 0x7f0000029000), ("/usr/bin/cat+10", 0x400010),
                          ("[heap]", 0x1000000)]:
        assert resolve(parse_location(text), areas) == address, text


def test_settle_gives_the_durable_form():
    assert settle(parse_location("libc.so.6+0x10"), AREAS) == \
        Location("module", "/usr/lib/libc.so.6", 0x10)
    assert settle(parse_location("0x555500001234"), AREAS).text == "game+0x1234"
    assert settle(parse_location("0x1000"), AREAS) == Location.absolute(0x1000)
    assert settle(parse_location("kernel:jiffies"), AREAS) == Location.kernel_symbol("jiffies")
    with pytest.raises(Unresolved, match="no module named nope"):
        settle(parse_location("nope+0x10"), AREAS)


# -- hypothesis: the grammar -----------------------------------------------------------------------

_HEXDIGITS = "0123456789abcdefABCDEF"
_name_chars = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"),
                            blacklist_characters="/")
_file_names = st.text(_name_chars, min_size=1, max_size=20).filter(
    lambda n: n not in (".", ".."))
_offsets = st.integers(-(1 << 64) + 1, (1 << 64) - 1)
_symbols = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.$@]{0,20}", fullmatch=True) \
    | st.text(_name_chars, min_size=1, max_size=12)
_steps = st.lists(st.integers(-(1 << 64) + 1, (1 << 64) - 1), max_size=4).map(tuple)


@st.composite
def _locations(draw) -> Location:
    """Any location, with a symbol (modules) and pointer-path steps."""
    loc = draw(_base_locations())
    if loc.kind == "module" and draw(st.booleans()):
        loc = Location(loc.kind, loc.name, loc.offset, symbol=draw(_symbols))
    return Location(loc.kind, loc.name, loc.offset, loc.module, loc.symbol, draw(_steps))


@st.composite
def _base_locations(draw) -> Location:
    kind = draw(st.sampled_from(["module", "path", "memfd", "pseudo", "absolute", "kernel",
                                 "thread_stack"]))
    offset = draw(_offsets)
    if kind == "thread_stack":
        return Location.thread_stack(draw(st.integers(0, MAX_THREAD_INDEX)), -abs(offset))
    if kind == "absolute":
        return Location.absolute(draw(st.integers(0, (1 << 64) - 1)))
    if kind == "kernel":
        ident = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.$]{0,20}", fullmatch=True)
        return Location.kernel_symbol(draw(ident), offset, draw(st.none() | ident))
    if kind == "pseudo":
        inner = draw(st.sampled_from(["heap", "stack", "vdso", "vvar", "vsyscall"])
                     | st.text(_name_chars, min_size=1, max_size=10).map("anon:".__add__))
        return Location("pseudo", f"[{inner}]", offset)
    if kind == "memfd":
        return Location("module", "/memfd:" + draw(_file_names), offset)
    name = draw(_file_names)
    if kind == "path":
        return Location("module", "/" + "/".join(draw(st.lists(_file_names, max_size=3))
                                                 + [name]), offset)
    # A bare file name as typed, whatever it holds: one that does not read
    # back plainly (an address, a pseudo-area, a kernel symbol, an offset
    # with nothing before it, "->", "!", edge spaces) is printed quoted. Not
    # "memfd:" alone (a memfd with an empty name is "/memfd:" in a map), nor
    # one that starts as a pseudo-area does (a file is never named so by
    # the kernel's map: "[heap]" there is the pseudo-area).
    assume(name != "memfd:" and not (name.startswith("[") and name.endswith("]")))
    return Location("module", name, offset)


@settings(max_examples=400, deadline=None)
@given(_locations())
@example(Location("module", "/x/cafe", 0x10))
@example(Location("module", "/x/kernel:foo", 0))
@example(Location("module", "/x/0xg", 0))
@example(Location("module", "/x/[heap]", 0))
@example(Location("module", "libfoo-1", 0))
@example(Location("module", "/memfd:a/b", 4))
@example(Location("module", "/x/a->", 0x10, steps=(8,)))
@example(Location("module", "a!b", 0, symbol="c"))
@example(Location("module", "/x/trailing ", 0))
@example(Location("module", "libc.so.6", 4, symbol="odd-1"))
@example(Location("absolute", "", 0x1000, steps=(-8, 0x18)))
@example(Location.thread_stack(0, 0))
@example(Location.thread_stack(MAX_THREAD_INDEX, -0x1f8))
@example(Location("pseudo", "[stack#01]", 0))
@example(Location("pseudo", "[stack#1]", 8))
def test_parse_of_text_round_trips(loc):
    text = loc.text
    parsed = parse_location(text)
    assert parsed.text == text
    assert parsed.kind == loc.kind and parsed.offset == loc.offset \
        and parsed.module == loc.module and parsed.symbol == loc.symbol \
        and parsed.steps == loc.steps
    if loc.kind == "module":
        # Written by its file name when that reads back as one, else by its path.
        assert parsed.name in (loc.name, loc.short_name)
        assert parsed.short_name == loc.short_name
    else:
        assert parsed == loc
    # Spacing around the sign and the whole text, 0x or not, hex case: the same location.
    if loc.kind != "absolute" and loc.offset and not loc.steps:
        head, sign, number = re.match(r"^(.*)([+-])0x([0-9a-f]+)$", text, re.S).groups()
        assert parse_location(f"  {head} {sign} {number.upper()} ") == parsed


_junk = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(list("+-[]:x0123456789abcdefkernl \t/!\"\\") +
                             ["kernel:", "0x", "memfd:", "[heap]", "ffffffffffffffff",
                              "->", "\u2192", '"a"', "!sym"]),
             max_size=12).map("".join),
    st.binary(max_size=20).map(lambda b: b.decode("latin-1")),
)


@settings(max_examples=600, deadline=None)
@given(_junk)
def test_junk_raises_only_invalid_input(text):
    try:
        loc = parse_location(text)
    except InvalidInput:
        return
    # What parses prints back to something that parses to the same place.
    again = parse_location(loc.text)
    assert again.kind == loc.kind and again.offset == loc.offset
    try:
        resolve(loc, AREAS, pid=1)
    except InvalidInput:
        pass


def test_a_non_text_location_is_invalid_input():
    with pytest.raises(InvalidInput, match="a location is text"):
        parse_location(None)


# -- real programs at different bases ------------------------------------------------------------

def _read(backend, pid: int, address: int, size: int) -> bytes:
    target = backend.attach(pid).result()
    try:
        return target.read(address, size).result().require()
    finally:
        target.detach().result()


def _areas(backend, pid: int):
    target = backend.attach(pid).result()
    try:
        return target.areas().result()
    finally:
        target.detach().result()


def test_globals_of_a_pie_program_round_trip_across_runs(tmp_path, backend):
    exe = build(tmp_path)
    first = start(exe)
    try:
        areas = _areas(backend, first.pid)
        locations = {name: locate(first.info[name], areas) for name in ("data", "bss", "rodata")}
        assert all(loc.kind == "module" and loc.name == str(exe) for loc in locations.values())
        # The .bss marker lies in the anonymous area after the data segment.
        bss_area = next(a for a in areas if a.contains(first.bss))
        assert bss_area.path == ""
    finally:
        first.stop()
    second = start(exe)
    try:
        if aslr_enabled():
            assert second.data != first.data, "ASLR is on, the program should have moved"
        areas = _areas(backend, second.pid)
        for name, size, expected in [("data", 4, (0x1234abcd).to_bytes(4, "little")),
                                     ("bss", 10, b"BSS-MARKER"), ("rodata", 13, b"RODATA-MARKER")]:
            address = resolve(locations[name], areas, size)
            assert address == second.info[name], name
            assert _read(backend, second.pid, address, size) == expected
    finally:
        second.stop()


def test_file_and_memfd_mappings_of_the_test_child_round_trip(tmp_path, backend):
    first = spawn_child(tmp_path)
    try:
        areas = _areas(backend, first.pid)
        spaced = locate(first.spaced + 2, areas)
        memfd = locate(first.memfd, areas)
        absolute = locate(first.counter, areas)
    finally:
        first.kill()
    assert spaced.name == first.spaced_path and spaced.offset == 2
    assert memfd.text == "memfd:lainview-test+0x0"
    assert absolute.kind == "absolute"
    second = spawn_child(tmp_path)
    try:
        areas = _areas(backend, second.pid)
        assert _read(backend, second.pid, resolve(spaced, areas), 4) == b"ACED"
        assert _read(backend, second.pid, resolve(memfd, areas), 5) == b"MEMFD"
    finally:
        second.kill()



def test_a_memfd_area_is_shown_by_the_name_its_location_uses(tmp_path, backend):
    # A new user's report: the demo's area was "/memfd:lainview-demo (deleted)"
    # in the hex header, while go-to and bookmarks say memfd:lainview-demo.
    from lainview.backend.memory import area_at
    child = spawn_child(tmp_path)
    try:
        areas = _areas(backend, child.pid)
    finally:
        child.kill()
    area = area_at(areas, child.memfd)
    assert area.path == "/memfd:lainview-test (deleted)"       # the kernel's wording
    assert area.display_name == "memfd:lainview-test"
    assert locate(child.memfd, areas).text.startswith(area.display_name + "+")
    assert area.maps_line().endswith("/memfd:lainview-test (deleted)")   # maps stays raw


# -- hypothesis against a real child's map ----------------------------------------------------------

@pytest.fixture(scope="module")
def child_map(tmp_path_factory):
    """A real child (tests/target_child.py) and its map, read once."""
    from lainview.backend.service import Backend
    child = spawn_child(tmp_path_factory.mktemp("locations"))
    try:
        backend = Backend()
        try:
            areas = _areas(backend, child.pid)
        finally:
            backend.shutdown()
        yield child, areas
    finally:
        child.kill()


def _typed_forms(loc: Location, area) -> list[str]:
    """Ways a user can type ``loc``: its text, and for a module its full
    path, its name as the map view shows it (memfd:NAME), and a deleted
    file's name as the kernel prints it (``deleted.bin (deleted)``)."""
    if loc.kind != "module":
        return [loc.text]
    forms = [loc.text, f"{loc.name}+{loc.offset:x}", f"{area.file_path} + 0x{loc.offset:X}"]
    if area.path.startswith("/memfd:"):
        forms.append(f"{area.display_name}+{loc.offset:#x}")
    elif area.deleted:
        forms.append(f"{area.path.rsplit('/', 1)[-1]}+{loc.offset:#x}")  # "deleted.bin (deleted)"
    return forms


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_typed_locations_resolve_to_their_address_in_a_real_map(child_map, data):
    child, areas = child_map
    named = [a for a in areas if a.path] + [area_at(areas, a) for a in
                                             (child.spaced, child.deleted, child.memfd)]
    area = data.draw(st.sampled_from(named))
    address = data.draw(st.integers(area.start, area.end - 1))
    loc = locate(address, areas)
    assume(len({a.file_path for a in areas if a.path and not a.is_pseudo and
                a.file_path.rsplit("/", 1)[-1] == loc.short_name}) <= 1)
    for text in _typed_forms(loc, area):
        assert resolve(parse_location(text), areas, pid=child.pid) == address, text
        assert settle(parse_location(text), areas) == loc, text
    # A plain hex address settles to the same durable location.
    assert settle(parse_location(f"{address:x}"), areas) == loc
    # One byte past the area's mapping (module: past its whole extent) is refused,
    # or lands in the next area of the same name.
    past = Location(loc.kind, loc.name, loc.offset + (area.end - address)) \
        if loc.kind != "absolute" else None
    if past is not None:
        try:
            landed = resolve(past, areas)
        except Unresolved as exc:
            assert "past the end of" in exc.message
        else:
            assert locate(landed, areas).name == loc.name


def test_the_child_map_names_what_it_cannot_find(child_map):
    child, areas = child_map
    message = _why(parse_location("libfoo.so+0x10"), areas, pid=child.pid)
    assert message.startswith(f"no module named libfoo.so in the map of pid {child.pid}; "
                              "modules: ")
    listed = message.split("; modules: ")[1]
    assert "a file with spaces.bin" in listed and "deleted.bin" in listed
    if re.search(r"… \(\d+ in all\)$", listed) is None:
        assert "memfd:lainview-test" in listed
    assert _why(parse_location("a file with spaces.bin-0x20"), areas) == \
        "offset -0x20 puts the address before the start of a file with spaces.bin"


@pytest.mark.parametrize("text", ["+0x10", "-10", "+ 0x10", "+[heap]"])
def test_an_offset_alone_says_it_has_nothing_to_count_from(text):
    # A new user typed `lainview read PID +0x10` and was told "no module
    # named +0x10".
    with pytest.raises(InvalidInput, match="offset with nothing to count from"):
        parse_location(text)


def test_a_quoted_name_is_escaped_once():
    # The attack pass: messages quoted printable(name) with !r, so an ESC
    # showed as '\\x1b' (two backslashes); one escaping is what the user reads.
    with pytest.raises(InvalidInput) as err:
        parse_location("kernel:a\x1bb")
    assert "'a\\x1bb'" in str(err.value) and "\\\\x1b" not in str(err.value)
    assert "\x1b" not in str(err.value)


# -- pointer paths and module symbols ----------------------------------------------------------------

def _poke_pointer(child, at: int, value: int) -> None:
    assert child.command(f"poke {at:x} {value.to_bytes(8, 'little').hex()}") == "ok"


def test_a_pointer_path_is_followed_in_a_real_process_and_says_where_it_breaks(child, backend):
    """Page 0 of the child (rw-) holds a chain: base+0x100 -> P1 = base+0x200;
    P1+0x18 -> P2 = base+0x300; the value is at P2+0x8. Each ``->`` reads a
    pointer from the target on the backend thread, afresh on each resolve."""
    base = child.base
    _poke_pointer(child, base + 0x100, base + 0x200)
    _poke_pointer(child, base + 0x218, base + 0x300)
    target = backend.attach(child.pid).result()
    path = parse_location(f"{base + 0x100:#x}->+0x18->+0x8")
    assert target.resolve(path).result() == base + 0x308
    assert parse_location(path.text) == path
    # The second object moves: the path follows it.
    _poke_pointer(child, base + 0x218, base + 0x400)
    assert target.resolve(path).result() == base + 0x408
    # The chain breaks at level 2: the first object now points nowhere mapped.
    _poke_pointer(child, base + 0x100, 0x10)
    with pytest.raises(Unresolved, match=r"^at level 2, 0x28 is not mapped in the map of pid"):
        target.resolve(path).result()
    # ... and where the pointer read leads past the map: the value's level.
    _poke_pointer(child, base + 0x100, base + 0x200)
    _poke_pointer(child, base + 0x218, 0x1000)
    with pytest.raises(Unresolved, match=r"^at level 3 \(the value\), 0x1008 is not mapped"):
        target.resolve(path).result()


def test_resolve_without_memory_reads_names_what_a_path_needs():
    with pytest.raises(Unresolved, match="is a pointer path: resolving it reads memory"):
        resolve(parse_location("libc.so.6+0x10->+0x8"), AREAS)
    with pytest.raises(Unresolved, match="names a symbol: resolving it needs the module's"):
        resolve(parse_location("libc.so.6!getpid"), AREAS)


def test_module_symbols_resolve_through_the_lookup_given():
    libc = next(a for a in AREAS if a.path.endswith("libc.so.6"))
    base = min(a.start for a in AREAS if a.path == libc.path)
    lookup = {(libc.path, "getpid"): 0x1230}.get

    def module_symbol(path: str, name: str) -> int | None:
        return lookup((path, name))
    assert resolve(parse_location("libc.so.6!getpid+0x4"), AREAS,
                   module_symbol=module_symbol) == base + 0x1234
    with pytest.raises(Unresolved, match="no symbol named nope in libc.so.6"):
        resolve(parse_location("libc.so.6!nope"), AREAS, module_symbol=module_symbol)
    # settle keeps the symbol and names the file by its full path.
    settled = settle(parse_location("libc.so.6!getpid+0x4"), AREAS)
    assert settled.symbol == "getpid" and settled.name == libc.path and settled.offset == 4
    chain = settle(parse_location(f"{base + 0x10:#x}->+0x18"), AREAS)
    assert chain.kind == "module" and chain.offset == 0x10 and chain.steps == (0x18,)


@pytest.mark.parametrize("text, message", [
    ("->+8", "a pointer path starts from a location"),
    ("!getpid", "names a symbol without its module"),
    ("libc.so.6!a b", "bad symbol name 'a b'"),
    ('"abc', "bad quoted name"),
    ('"[heap]"!x', "only a module names a symbol"),
    ("0x10" + "->+8" * 17, "at most 16 steps"),
    ('"a"junk', "unexpected 'junk' after the quoted name"),
])
def test_bad_paths_symbols_and_quotes_say_what_is_wrong(text, message):
    with pytest.raises(InvalidInput, match=re.escape(message)):
        parse_location(text)


def test_json_keeps_symbol_and_steps_and_rejects_bad_ones():
    loc = parse_location("libc.so.6!getpid+0x4->+0x18->-0x8")
    assert Location.from_json(loc.to_json()) == loc
    for bad in ({"kind": "module", "name": "x", "offset": 0, "steps": ["1"]},
                {"kind": "module", "name": "x", "offset": 0, "steps": [1 << 64]},
                {"kind": "pseudo", "name": "[heap]", "offset": 0, "symbol": "x"},
                {"kind": "module", "name": "x", "offset": 0, "symbol": ""}):
        with pytest.raises(InvalidInput):
            Location.from_json(bad)


def test_a_thread_stack_counts_down_from_its_top_through_the_lookup_given():
    loc = parse_location("[stack#1] - 1f8")
    assert loc == Location.thread_stack(1, -0x1f8) and loc.thread_index == 1
    assert loc.text == "[stack#1]-0x1f8" and loc.survives_restart
    assert parse_location("[stack#0]").text == "[stack#0]"
    assert Location.from_json(loc.to_json()) == loc
    assert settle(loc, AREAS) == loc
    stacks = {1: (0x7f0000000000, 0x7f0000010000)}
    assert resolve(loc, AREAS, 8, thread_stack=stacks.get) == 0x7f0000010000 - 0x1f8
    assert resolve(Location.thread_stack(1, -8), AREAS, 8, thread_stack=stacks.get) == \
        0x7f000000fff8
    # A path based on it reads its first pointer there.
    path = parse_location("[stack#1]-0x10->+0x8")
    assert resolve(path, AREAS, 4, thread_stack=stacks.get,
                   read_pointer={0x7f000000fff0: 0x555501000010}.__getitem__) == 0x555501000018
    for where, message in [(Location.thread_stack(2, -8), "thread 2's stack is not known"),
                           (Location.thread_stack(1, -0x10001), "below the bottom of"),
                           (Location.thread_stack(1, -4), "no room for 8 bytes")]:
        with pytest.raises(Unresolved, match=message):
            resolve(where, AREAS, 8, thread_stack=stacks.get)
    with pytest.raises(Unresolved, match="needs the process's threads"):
        resolve(loc, AREAS)
    with pytest.raises(InvalidInput, match="counted down from its top"):
        Location.thread_stack(1, 8)
    with pytest.raises(InvalidInput, match="bad thread index"):
        Location.thread_stack(MAX_THREAD_INDEX + 1, 0)


@pytest.mark.parametrize("text, message", [
    ("[stack#1]+0x8", "counted down from its top"),
    ("[stack#01]-8", "bad thread stack"),
    ("[stack#x]", "bad thread stack"),
    ("[stack#99999999]", "bad thread stack"),
])
def test_bad_thread_stacks_say_what_is_wrong(text, message):
    with pytest.raises(InvalidInput, match=message):
        parse_location(text)
    for raw in ({"kind": "thread_stack", "name": "[stack#1]", "offset": 8},
                {"kind": "thread_stack", "name": "[stack]", "offset": 0}):
        with pytest.raises(InvalidInput):
            Location.from_json(raw)


def test_memory_mapped_right_after_a_modules_bss_is_not_the_module(backend, bss_tail):
    """tests/c/bss_tail.c maps anonymous memory right after its .bss and the
    kernel merges it into the .bss area. Only the .bss (up to the ELF's
    writable PT_LOAD end) is ``prog+offset``; the rest is an absolute
    address, in locate(), the symbolizer's names and the location a write
    into it is journaled under (so an exported patch never points into the
    program's .bss next run)."""
    target = backend.attach(bss_tail.pid).result()
    try:
        areas = target.areas().result()
        tail, root = bss_tail["tail"], bss_tail["root"]
        merged = area_at(areas, tail)
        assert merged is not None and not merged.path and merged.start < bss_tail["end"], \
            "the mapping should have merged into the .bss area"
        program = locate(root, areas)
        assert program.kind is LocationKind.MODULE
        assert locate(tail, areas).kind is LocationKind.MODULE     # the map alone cannot tell

        def static_end(path: str) -> int | None:
            return backend.module_symbols().static_end(bss_tail.pid, areas, path)
        assert locate(tail, areas, static_end) == Location.absolute(tail)
        assert locate(bss_tail["end"] - 1, areas, static_end).kind is LocationKind.MODULE
        symbolizer = target.symbolizer().result(60)
        assert symbolizer.locate(tail) == Location.absolute(tail)
        assert symbolizer.name(tail) == f"{tail:#x}"
        assert symbolizer.static_end(program.name) == bss_tail["end"]
        # A write into the tail is journaled at its address; one into .data
        # (or .bss) at prog+offset.
        target.write(tail + 0x40, b"\x01").result(10)
        target.write(root, target.read(root, 8).result(10).require()).result(10)
        entries = backend.journal_entries(pid=bss_tail.pid).result(10)
        kept = [Location.from_json(e.location) for e in entries]
        assert kept[0] == Location.absolute(tail + 0x40)
        assert kept[1] == program
    finally:
        target.detach().result()
    # The CLI's write keeps the same rule.
    done = subprocess.run([sys.executable, "-m", "lainview", "write", str(bss_tail.pid),
                           hex(tail + 0x48), "02"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    journal = subprocess.run([sys.executable, "-m", "lainview", "journal", "--json"],
                             capture_output=True, text=True, timeout=60)
    where = [Location.from_json(e["location"]) for e in json.loads(journal.stdout)
             if e.get("address") == tail + 0x48]
    assert where == [Location.absolute(tail + 0x48)], journal.stdout


def test_memory_mapped_right_after_a_file_that_is_not_elf_is_an_address(backend, tmp_path):
    """A memfd of plain data mapped rw-p with anonymous memory right after
    it: a file that is not ELF has no .bss, so that memory is an address
    (it was ``memfd:notelf+0x2010``), while the file's own bytes keep
    ``memfd:notelf+offset``."""
    from tests import c_child
    child = c_child.start(c_child.build(Path(__file__).resolve().parent.parent / "c"
                                        / "nonelf_tail.c", tmp_path))
    target = backend.attach(child.pid).result()
    try:
        areas = target.areas().result()
        symbolizer = target.symbolizer().result(60)
        assert symbolizer.locate(child["tail"]) == Location.absolute(child["tail"])
        inside = symbolizer.locate(child["file"] + 0x10)
        assert inside.kind is LocationKind.MODULE and inside.text == "memfd:notelf+0x10"
        path = area_at(areas, child["file"]).file_path
        assert backend.module_symbols().static_end(child.pid, areas, path) == child["file"]
        target.write(child["tail"], b"\x01").result(10)
        entry = backend.journal_entries(pid=child.pid).result(10)[-1]
        assert Location.from_json(entry.location) == Location.absolute(child["tail"])
    finally:
        target.detach().result()
        child.stop()
