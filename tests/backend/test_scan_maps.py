"""The scanner against a gcc-built child whose map changes between steps:
values across area boundaries, candidates tracked by address while the
areas around them are cut, merged, trimmed or re-protected."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from lainview.backend.scan import (AreaFilter, Mode, ScanLimits, ScanType, make_condition)

SOURCE = Path(__file__).with_name("scan_maps_child.c")


@pytest.fixture(scope="session")
def maps_child_exe(tmp_path_factory):
    if not shutil.which("gcc"):
        pytest.skip("gcc is needed to build the scan test child")
    exe = tmp_path_factory.mktemp("scanchild") / "scan_maps_child"
    subprocess.run(["gcc", "-O1", "-Wall", "-o", str(exe), str(SOURCE)], check=True)
    return exe


@dataclass
class MapsChild:
    proc: subprocess.Popen
    base: int
    page: int

    @property
    def pid(self) -> int:
        return self.proc.pid

    def do(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline().strip()
        assert reply == "ok", (line, reply)

    def poke(self, off: int, data: bytes) -> int:
        self.do(f"poke {off:x} {data.hex()}")
        return self.base + off


@pytest.fixture
def spawn(maps_child_exe):
    procs = []

    def start(pages: int, alt: bool = False) -> MapsChild:
        proc = subprocess.Popen([str(maps_child_exe), str(pages), "1" if alt else "0"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        base, page = proc.stdout.readline().split()
        return MapsChild(proc, int(base, 16), int(page))

    yield start
    for p in procs:
        p.kill()
        p.wait(10)


def only(c: MapsChild, pages: int) -> AreaFilter:
    return AreaFilter(ranges=((c.base, c.base + pages * c.page),))


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lainview", *args], capture_output=True,
                          text=True, timeout=120)


# -- 1. values across an area boundary ---------------------------------------------------------

def boundary_child(spawn) -> MapsChild:
    """2 bytes at the end of an rw- page, 2 at the start of the r-- page after it."""
    c = spawn(2)
    c.poke(c.page - 2, b"\xde\xc0\xad\x0b")
    c.do(f"prot {c.page:x} {c.page:x} r")
    return c


@pytest.mark.parametrize("name,value,align", [("bytes", "de c0 ad 0b", None),
                                              ("u32", "0x0badc0de", 1),
                                              ("u16", "0xadc0", 1)])
@pytest.mark.parametrize("chosen", ["readonly", "range"])
def test_a_value_across_an_area_boundary_is_found(backend, spawn, name, value, align, chosen):
    c = boundary_child(spawn)
    target = backend.attach(c.pid, writable=False).result(10)
    st_ = ScanType(name)
    areas = AreaFilter(include_readonly=True) if chosen == "readonly" else only(c, 2)
    state = target.scan_first(st_, make_condition(st_, Mode.EXACT, value), align=align,
                              areas=areas).result(60)
    want = c.base + c.page - 2 + (1 if name == "u16" else 0)
    assert want in state.addresses().tolist()
    if chosen == "range":
        assert state.addresses().tolist() == [want]
    # Across the boundary in a next scan too, sparse and dense.
    for limits in (ScanLimits(), ScanLimits(sparse_max=0)):
        same = target.scan_next(state, make_condition(st_, Mode.UNCHANGED),
                                limits=limits).result(60)
        assert want in same.addresses().tolist()
    state.close()


def test_an_unknown_value_across_an_area_boundary(backend, spawn):
    c = boundary_child(spawn)
    target = backend.attach(c.pid, writable=False).result(10)
    st_ = ScanType("u32")
    limits = ScanLimits(chunk=4096, sparse_max=0)
    state = target.scan_first(st_, make_condition(st_, Mode.UNKNOWN), align=1,
                              areas=only(c, 2), limits=limits).result(60)
    assert state.count == 2 * c.page - 3          # every offset whose 4 bytes are in the run
    c.poke(c.page - 1, b"\x01")                   # the last byte of the rw- page
    changed = target.scan_next(state, make_condition(st_, Mode.CHANGED),
                               limits=limits).result(60)
    assert changed.addresses().tolist() == [c.base + c.page - 4 + i for i in range(4)]
    state.close()


def test_cli_finds_the_value_across_the_boundary(spawn):
    c = boundary_child(spawn)
    for args in (["--type", "bytes", "--value", "de c0 ad 0b"],
                 ["--type", "u32", "--value", "0x0badc0de", "--align", "any"]):
        done = cli("scan", str(c.pid), *args, "--include-readonly", "--json")
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert c.base + c.page - 2 in [m["address"] for m in report["matches"]], report


# -- 2. candidates tracked by address across map changes ----------------------------------------

VALUE = struct.pack("<i", 777777)

# Each change: the commands (page offsets in units of pages), the pages that
# stay mapped and readable.
CHANGES = {
    "munmap last page": (["unmap {2p} {p}"], {0, 1}),
    "munmap first page": (["unmap 0 {p}"], {1, 2}),
    "munmap middle page": (["unmap {p} {p}"], {0, 2}),
    "mprotect a page none": (["prot {p} {p} none"], {0, 2}),
    "mprotect a page read-only": (["prot {p} {p} r"], {0, 1, 2}),
    "split then merge again": (["prot {p} {p} r", "prot {p} {p} rw"], {0, 1, 2}),
    "hole then mapped again": (["unmap {p} {p}", "map {p} {p}"], {0, 2}),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
@pytest.mark.parametrize("dense", [False, True])
def test_candidates_survive_changes_of_the_map_around_them(backend, spawn, change, dense):
    c = spawn(3)
    target = backend.attach(c.pid, writable=False).result(10)
    st_ = ScanType("i32")
    planted = [c.poke(p * c.page + 16, VALUE) for p in range(3)]
    limits = ScanLimits(sparse_max=0 if dense else 1000)
    if dense:
        state = target.scan_first(st_, make_condition(st_, Mode.UNKNOWN), areas=only(c, 3),
                                  limits=limits).result(60)
        assert all(r.dense for r in state.regions)
    else:
        state = target.scan_first(st_, make_condition(st_, Mode.EXACT, "777777"),
                                  areas=only(c, 3), limits=limits).result(60)
        assert state.addresses().tolist() == planted
    commands, kept_pages = CHANGES[change]
    for cmd in commands:
        c.do(cmd.format(p=f"{c.page:x}", **{"2p": f"{2 * c.page:x}"}))
    same = target.scan_next(state, make_condition(st_, Mode.UNCHANGED), limits=limits).result(60)
    got = same.addresses().tolist()
    survivors = [planted[p] for p in sorted(kept_pages)]
    assert [a for a in got if a in planted] == survivors
    # A page mapped back holds zeros: its old candidates changed, so they
    # are not kept, but they were not lost either.
    gone_pages = {0, 1, 2} - kept_pages
    if "mapped again" in change:
        gone_pages = set()
    per_page = 1 if not dense else c.page // 4
    assert same.lost == per_page * len(gone_pages)
    if dense:
        # Unknown initial values: every position of a kept page is unchanged;
        # of a page mapped back, every zero but the planted value's.
        back = per_page - 1 if "mapped again" in change else 0
        assert len(got) == per_page * len(kept_pages) + back
    exact = target.scan_next(state, make_condition(st_, Mode.EXACT, "777777"),
                             limits=limits).result(60)
    assert exact.addresses().tolist() == survivors
    state.close()


def test_cli_next_scan_after_munmap_of_the_last_page(spawn, tmp_path):
    c = spawn(3)
    c.poke(0, VALUE)
    session = str(tmp_path / "s.npz")
    area = f"{c.base:x}-{c.base + 3 * c.page:x}"
    done = cli("scan", str(c.pid), "--type", "i32", "--value", "777777", "--area", area,
               "--session", session, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["count"] == 1
    c.do(f"unmap {2 * c.page:x} {c.page:x}")
    done = cli("scan", "--session", session, "--next", "unchanged", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [m["address"] for m in report["matches"]] == [c.base]
