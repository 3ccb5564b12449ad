"""Locations that survive ASLR: module+offset, [pseudo]+offset, absolute;
on made-up maps, and round-tripped between two runs of real programs."""

from __future__ import annotations

import pytest

from lainview.backend.errors import InvalidInput
from lainview.backend.locations import Location, locate, parse_location, resolve
from lainview.backend.memory import parse_maps

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
    assert memfd == Location("module", "/memfd:lainview-demo", 0xf80)
    assert memfd.text == "memfd:lainview-demo+0xf80"


def test_resolve_against_a_map_where_everything_moved():
    moved = shifted(MAPS, game=0x1230000, **{"libc.so.6": -0x5000000, "[heap]": 0x77000,
                                             "memfd": 0x100000})
    for address, delta in [(0x555500001234, 0x1230000), (0x555500004010, 0x1230000),
                           (0x7f0000011000, -0x5000000), (0x555501000040, 0x77000),
                           (0x7f0000020f80, 0x100000)]:
        found = resolve(locate(address, AREAS), moved)
        assert found.resolved and found.address == address + delta, found.status


def test_unresolved_locations_say_why():
    gone = [a for a in AREAS if "libc" not in a.path]
    found = resolve(Location("module", "/usr/lib/libc.so.6", 0x10), gone)
    assert found.status == "unresolved: libc.so.6 is not mapped in this process"
    found = resolve(Location("module", "/opt/game/bin/game", 0x9000), AREAS)
    assert "past the end of game (0x8000 bytes mapped)" in found.reason
    assert "no [vdso] area" in resolve(Location("pseudo", "[vdso]", 0), AREAS).reason
    assert "not mapped" in resolve(Location.absolute(0x1000), AREAS).reason
    # The last bytes of a value must fit too.
    assert not resolve(Location("pseudo", "[stack]", 0x20ffe), AREAS, size=4).resolved
    assert resolve(Location("pseudo", "[stack]", 0x20ffc), AREAS, size=4).resolved


def test_a_moved_program_is_found_by_its_file_name():
    moved = parse_maps(MAPS.replace("/opt/game/bin/game", "/home/me/game-2/game"))
    found = resolve(Location("module", "/opt/game/bin/game", 0x10), moved)
    assert found.address == 0x555500000010
    twice = parse_maps(MAPS.replace("/usr/lib/libc.so.6", "/a/game") + MAPS.splitlines()[0]
                       .replace("555500000000-555500001000", "600000000000-600000001000")
                       .replace("/opt/game/bin/game", "/b/game"))
    found = resolve(Location("module", "/c/game", 0), sorted(twice, key=lambda a: a.start))
    assert "mapped from several files" in found.reason


def test_deleted_suffix_is_not_part_of_the_name():
    rebuilt = parse_maps(MAPS.replace("/opt/game/bin/game", "/opt/game/bin/game (deleted)"))
    loc = locate(0x555500000008, rebuilt)
    assert loc.name == "/opt/game/bin/game"
    assert resolve(loc, AREAS).address == 0x555500000008


def test_json_round_trip_and_malformed_input():
    for loc in [locate(0x555500001234, AREAS), Location.absolute(0x1000),
                Location.kernel_symbol("jiffies", 0, None),
                Location.kernel_symbol("var", 8, "mod")]:
        assert Location.from_json(loc.to_json()) == loc
    for raw, message in [([], "must be an object"), ({"kind": "nope"}, "unknown location kind"),
                         ({"kind": "module", "name": "", "offset": 0}, "needs a name"),
                         ({"kind": "pseudo", "name": "[heap]", "offset": -1}, "bad offset"),
                         ({"kind": "pseudo", "name": "[heap]", "offset": "1"}, "bad offset"),
                         ({"kind": "kernel", "name": "x", "offset": 0, "module": 3},
                          "bad kernel module")]:
        with pytest.raises(InvalidInput, match=message):
            Location.from_json(raw)


def test_parse_typed_locations():
    assert parse_location("0x555500001234") == Location.absolute(0x555500001234)
    assert parse_location("0x555500001234", AREAS).text == "game+0x1234"
    assert parse_location("libc.so.6+0x10", AREAS) == Location("module", "/usr/lib/libc.so.6",
                                                                 0x10)
    assert parse_location("[heap]+40") == Location("pseudo", "[heap]", 0x40)
    assert parse_location("kernel:jiffies") == Location.kernel_symbol("jiffies")
    assert parse_location("kernel:mod:var+0x8") == Location.kernel_symbol("var", 8, "mod")
    assert parse_location("kernel:jiffies").text == "kernel:jiffies"
    with pytest.raises(InvalidInput, match="no area named 'nope'"):
        parse_location("nope+0x10", AREAS)
    with pytest.raises(InvalidInput, match="bad offset"):
        parse_location("[heap]+zz")
    with pytest.raises(InvalidInput, match="type an address"):
        parse_location("  ")


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
            found = resolve(locations[name], areas, size)
            assert found.address == second.info[name], (name, found.status)
            assert _read(backend, second.pid, found.address, size) == expected
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
        assert _read(backend, second.pid, resolve(spaced, areas).address, 4) == b"ACED"
        assert _read(backend, second.pid, resolve(memfd, areas).address, 5) == b"MEMFD"
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
