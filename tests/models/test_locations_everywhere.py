"""One grammar of locations: the CLI's read and write take exactly what the
GUI's go-to takes, and reach the same bytes of a real child."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lainview.backend.memory import parse_maps
from tests.models.qt_support import attach


def lainview(*args: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "lainview", *map(str, args)],
                          capture_output=True, timeout=60)


def _lowest(pid: int, name: str) -> int:
    with open(f"/proc/{pid}/maps") as f:
        areas = parse_maps(f.read())
    return min(a.start for a in areas if a.path == name or a.path.endswith("/" + name))


@pytest.mark.parametrize("text", ["libc.so.6+0x10", "[heap]+0x10", "[stack] + 10",
                                  "memfd:lainview-test+0x2", "a file with spaces.bin+0"])
def test_cli_read_gives_the_bytes_go_to_goes_to(qtbot, workspace, child, text):
    attach(qtbot, workspace, child.pid)
    address = workspace.go_to(text)
    assert workspace.cursor.address == address
    if text.startswith(("libc.so.6", "[heap]")):
        # Independently of the resolver: the lowest mapping of that name, plus 0x10.
        assert address == _lowest(child.pid, text.split("+")[0]) + 0x10
    out = lainview("read", child.pid, text, "16", "--raw")
    assert out.returncode == 0, out.stderr
    # Read by the GUI's own target (the child is idle meanwhile: its heap holds still).
    assert out.stdout == workspace.target.target.read(address, 16).result(10).require()
    dump = lainview("read", child.pid, text, "16")
    assert dump.returncode == 0, dump.stderr
    first_row = dump.stdout.decode().splitlines()[0]
    assert int(first_row.split()[0], 16) == address - address % 16, first_row


def test_cli_write_takes_a_location(child):
    out = lainview("write", child.pid, "memfd:lainview-test+0x8", "aa bb")
    assert out.returncode == 0, out.stderr
    assert child.peek(child.memfd + 8, 2) == b"\xaa\xbb"
    assert f"at {child.memfd + 8:#x}" in out.stdout.decode()


def test_cli_locations_that_do_not_resolve_are_bad_input_naming_why(child):
    for args, message in [
            (("read", child.pid, "libfoo.so+0x10", "4"),
             f"no module named libfoo.so in the map of pid {child.pid}; modules: "),
            (("read", child.pid, "a file with spaces.bin-0x20", "4"),
             "offset -0x20 puts the address before the start of a file with spaces.bin"),
            (("write", child.pid, "[heap]-8", "00"),
             "offset -0x8 puts the address before the start of [heap]"),
            (("write", child.pid, "memfd:lainview-test+0xfff", "00 00"),
             "0x2 bytes at offset 0xfff run past the end of memfd:lainview-test (0x1000 bytes "
             "mapped)"),
            (("read", child.pid, "kernel:jiffies", "4"), "kernel:jiffies is a kernel symbol"),
            (("read", child.pid, "[heap", "4"), "bad area name '[heap'")]:
        out = lainview(*args)
        err = out.stderr.decode()
        assert out.returncode == 2, (args, err)
        assert message in err and "Traceback" not in err, (args, err)
        assert len(err.strip().splitlines()) == 1, err


def test_cli_scan_area_takes_locations(child):
    import json
    for area, flags, address in [
            ("a file with spaces.bin+0-a file with spaces.bin+0x1000",
             ("--include-file-backed", "--include-readonly"), child.spaced),
            # A name holding a '-' takes START..END; END may be the area's end.
            ("memfd:lainview-test..memfd:lainview-test+0x1000", ("--include-shared",),
             child.memfd)]:
        needle = "SPACED" if address == child.spaced else "MEMFD"
        out = subprocess.run([sys.executable, "-m", "lainview", "scan", str(child.pid),
                              "--type", "utf8", "--value", needle, "--area", area, *flags,
                              "--json"], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert [m["address"] for m in json.loads(out.stdout)["matches"]] == [address], area
    out = lainview("scan", child.pid, "--type", "u8", "--value", "1",
                   "--area", "memfd:lainview-test-memfd:lainview-test+0x10")
    assert out.returncode == 2 and b"START..END" in out.stderr, out.stderr
    out = lainview("scan", child.pid, "--type", "u8", "--value", "1",
                   "--area", "[heap]..[heap]+0x100000000000")
    assert out.returncode == 2 and b"past the end of [heap]" in out.stderr, out.stderr
