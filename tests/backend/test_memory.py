"""The value types and the parsers of maps lines, hex bytes and addresses."""

import string

import pytest
from hypothesis import given, strategies as st

from lainview.backend.errors import FaultError, InvalidInput
from lainview.backend.memory import (Hole, MemoryArea, Perm, ReadResult, area_at,
                                     parse_hex_bytes, parse_maps,
                                     parse_maps_line)


def test_parse_maps_roundtrips_the_kernels_own_lines(child):
    with open(f"/proc/{child.pid}/maps") as f:
        lines = f.read().splitlines()
    areas = parse_maps("\n".join(lines))
    assert len(areas) == len(lines)
    for line, area in zip(lines, areas):
        assert area.maps_line() == line


def test_parse_maps_line_fields():
    line = ("7f0000001000-7f0000003000 r-xs 00002000 fd:01 1234"
            "                       /tmp/a dir/lib x.so (deleted)")
    a = parse_maps_line(line)
    assert (a.start, a.end, a.size) == (0x7f0000001000, 0x7f0000003000, 0x2000)
    assert a.perms == Perm.READ | Perm.EXEC | Perm.SHARED and a.perms.letters == "r-xs"
    assert a.offset == 0x2000 and a.dev == "fd:01" and a.inode == 1234
    assert a.path == "/tmp/a dir/lib x.so (deleted)" and a.deleted
    anon = parse_maps_line("7f0000001000-7f0000003000 ---p 00000000 00:00 0 ")
    assert anon.path == "" and anon.perms == Perm.NONE and not anon.readable
    vvar = parse_maps_line("7ffd1000-7ffd5000 r--p 00000000 00:00 0   [vvar]")
    assert vvar.io and not vvar.readable


@given(st.text(alphabet=string.printable + "\x00\u00e9", max_size=200))
def test_parse_maps_line_rejects_or_parses_hostile_input(text):
    try:
        area = parse_maps_line(text)
    except InvalidInput:
        return
    assert area.end >= area.start
    assert area.perms.letters == text.split()[1]


@given(st.integers(0, 2**48), st.integers(0, 2**32), st.sampled_from(["r-xp", "rw-s", "---p"]),
       st.integers(0, 2**40), st.text(alphabet=string.ascii_letters + "/ ._-[]", max_size=60))
def test_maps_line_format_and_parse_agree(start, size, perms, offset, path):
    path = path.strip()
    if path.startswith(" ") or "  " in path:
        path = path.replace(" ", "_")
    area = MemoryArea(start, start + size, Perm.from_letters(perms), offset, path,
                      dev="08:01", inode=7)
    back = parse_maps_line(area.maps_line())
    assert (back.start, back.end, back.perms, back.offset, back.path) == \
        (area.start, area.end, area.perms, area.offset, area.path)


@pytest.mark.parametrize("text,expected", [
    ("de ad be ef", b"\xde\xad\xbe\xef"), ("DEADBEEF", b"\xde\xad\xbe\xef"),
    ("0xde,0xad", b"\xde\xad"), ("\\xde\\xad", b"\xde\xad"), ("00", b"\0"),
    ("de:ad", b"\xde\xad"),
])
def test_parse_hex_bytes_accepts_common_forms(text, expected):
    assert parse_hex_bytes(text) == expected


@pytest.mark.parametrize("text,message", [
    ("", "no hex bytes"), ("abc", "odd number"), ("zz", "'z' in 'zz'"), ("12 g0", "'g'"),
])
def test_parse_hex_bytes_names_the_problem(text, message):
    with pytest.raises(InvalidInput, match=message):
        parse_hex_bytes(text)


@given(st.binary(min_size=1, max_size=64))
def test_parse_hex_bytes_roundtrips(data):
    assert parse_hex_bytes(data.hex(" ")) == data
    assert parse_hex_bytes(data.hex()) == data


@given(st.text(max_size=80))
def test_parse_hex_bytes_hostile_input_is_bytes_or_invalid_input(text):
    try:
        out = parse_hex_bytes(text)
    except InvalidInput:
        return
    assert isinstance(out, bytes) and out


def test_read_result_never_shows_holes_as_values():
    r = ReadResult(0x1000, b"\x11" * 16, (Hole(0x1004, 4, 14, "not mapped"),))
    assert r.byte_at(0x1003) == 0x11
    assert r.byte_at(0x1004) is None and r.byte_at(0x1007) is None
    assert r.segments == [(0x1000, b"\x11" * 4), (0x1008, b"\x11" * 8)]
    with pytest.raises(FaultError) as info:
        r.require()
    assert info.value.address == 0x1004 and "EFAULT at 0x1004" in str(info.value)


def test_area_at_bisects():
    areas = [MemoryArea(0x1000, 0x2000, Perm.READ), MemoryArea(0x3000, 0x5000, Perm.READ)]
    assert area_at(areas, 0x1fff) is areas[0]
    assert area_at(areas, 0x2000) is None
    assert area_at(areas, 0x4fff) is areas[1]
    assert area_at(areas, 0x5000) is None and area_at(areas, 0) is None


def test_parse_maps_names_the_first_malformed_line():
    good = "7f0000001000-7f0000003000 rw-p 00000000 00:00 0 "
    assert len(parse_maps("\n".join([good] * 3) + "\n")) == 3
    with pytest.raises(InvalidInput, match="malformed maps line: 'garbage'"):
        parse_maps("\n".join([good, "garbage", good]))
    with pytest.raises(InvalidInput, match="end before start"):
        parse_maps("7f0000003000-7f0000001000 rw-p 00000000 00:00 0 ")


def test_areas_json_is_to_json_of_every_area_for_any_path(tmp_path):
    """maps --json writes areas directly (no dict per area): the same JSON
    as to_json, including paths with quotes, backslashes, control characters
    and non-ASCII (a file may be named anything)."""
    import json as _json
    from lainview.backend.memory import areas_json, parse_maps
    names = ['/tmp/a "b"\\\\c', "/tmp/\u00e9t\u00e9", "/tmp/tab\there", "[heap]", "",
             "/memfd:x (deleted)"]
    text = "".join(f"{0x1000 * (i + 1):x}-{0x1000 * (i + 2):x} r-xp 00000000 08:01 {i} "
                   f"{n}\n" for i, n in enumerate(names))
    areas = parse_maps(text)
    assert [a.path for a in areas] == names
    assert _json.loads(areas_json(areas)) == [a.to_json() for a in areas]
    assert areas[-1].deleted and areas[0]._replace(path="x").path == "x"


_AREA_LINES = st.lists(st.builds(
    lambda start, size, perms, path: MemoryArea(start, start + size, Perm.from_letters(perms),
                                                0, path, dev="08:01", inode=3).maps_line(),
    st.integers(0, 2**47), st.integers(0, 2**20), st.sampled_from(["r-xp", "rw-s", "---p"]),
    st.sampled_from(["", "[heap]", "[vvar]", "/lib/x.so", "/tmp/a b (deleted)"])), max_size=8)


@given(_AREA_LINES, st.lists(st.integers(0, 8), max_size=3), st.booleans())
def test_parse_maps_is_parse_maps_line_of_every_line(lines, blanks, trailing):
    """The whole-text parser (one regex pass) and the line parser agree on
    any map, blank lines and a missing final newline included: one parser."""
    lines = list(lines)
    for at in blanks:
        lines.insert(min(at, len(lines)), "")
    text = "\n".join(lines) + ("\n" if trailing else "")
    assert parse_maps(text) == [parse_maps_line(line) for line in lines if line]


@pytest.mark.parametrize("enabled", [True, False])
def test_parse_maps_leaves_the_cycle_collector_as_it_found_it(enabled):
    """parse_maps pauses the cycle collector while it builds the areas (at
    60,000 areas repeated full collections cost as much as the parsing):
    afterwards, and after a malformed map too, it is as it was."""
    import gc
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        assert len(parse_maps("1000-2000 rw-p 00000000 00:00 0 \n" * 3)) == 3
        assert gc.isenabled() is enabled
        with pytest.raises(InvalidInput):
            parse_maps("1000-2000 rw-p 00000000 00:00 0 \ngarbage\n")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_areas_json_of_no_areas_and_of_computed_permissions():
    import json as _json
    from lainview.backend.memory import areas_json
    assert _json.loads(areas_json([])) == []
    area = MemoryArea(0x1000, 0x2000, Perm.READ | Perm.WRITE)
    assert _json.loads(areas_json([area]))[0]["perms"] == "rw-p"


_MAPS_PATHS = st.one_of(
    st.just(""), st.sampled_from(["[heap]", "[stack]", "[vvar]", "[anon:x y]", "/memfd:a (deleted)"]),
    st.text(alphabet=string.ascii_letters + " /.()-_\u00e9\t\r\x85", max_size=30).map(
        lambda t: "/" + t))


@given(st.lists(st.tuples(st.integers(0, 2**47), st.integers(0, 2**20),
                          st.sampled_from(["r-xp", "rw-s", "---p", "r--p"]),
                          st.integers(0, 2**40), st.sampled_from(["00:00", "fd:01", "103:2"]),
                          st.integers(0, 2**40), _MAPS_PATHS), max_size=8))
def test_parse_maps_agrees_with_the_strict_line_parser(rows):
    """The fast whole-text parse gives what the regex parse of each line
    gives, for kernel-shaped lines (padded paths, spaces, tabs, carriage
    returns and U+0085 inside names)."""
    lines = []
    for start, size, perms, offset, dev, inode, path in rows:
        head = f"{start:08x}-{start + size:08x} {perms} {offset:08x} {dev} {inode}"
        lines.append(head + " " if not path else head.ljust(72) + " " + path)
    text = "\n".join(lines) + ("\n" if lines else "")
    assert parse_maps(text) == [parse_maps_line(line) for line in lines]


@pytest.mark.parametrize("bad", ["zz-10 r--p 00000000 00:00 0", "10-20 rwzp 00000000 00:00 0",
                                 "10-20 r--p 0 00:00", "10 r--p 00000000 00:00 0",
                                 "10-20 r--p 00000000 00:00 x"])
def test_parse_maps_names_the_first_malformed_line(child, bad):
    with open(f"/proc/{child.pid}/maps") as f:
        text = f.read()
    with pytest.raises(InvalidInput, match="malformed maps line") as caught:
        parse_maps(text + bad + "\n")
    assert bad[:20] in str(caught.value)
