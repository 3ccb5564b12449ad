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


# -- 3. every next-scan mode means the same on every state ----------------------------------------

FORMATS = {"i8": "b", "u8": "B", "i16": "h", "u16": "H", "i32": "i", "u32": "I",
           "i64": "q", "u64": "Q", "f32": "f", "f64": "d"}
STRING_TYPES = ("bytes", "utf8", "utf16le")
# Bytes the memory is made of: few, so values repeat and steps keep some
# candidates; no NaN or infinity can be made of the float ones.
ALPHABET = {"int": [0, 1, 2, 0xFF], "float": [0, 0x3F, 0x40, 0x80], "text": [0, 0x41, 0x42]}
NUMERIC_NEXT = [Mode.CHANGED, Mode.UNCHANGED, Mode.INCREASED, Mode.DECREASED,
                Mode.INCREASED_BY, Mode.DECREASED_BY, Mode.EXACT, Mode.RANGE]
TEXT_NEXT = [Mode.CHANGED, Mode.UNCHANGED, Mode.EXACT]


class Reference:
    """The scan done naively: a dict of candidate offset -> bytes, tested one
    position at a time over a snapshot of the memory (bytes we set)."""

    def __init__(self, st_: ScanType, align: int):
        self.st, self.align = st_, align
        self.fmt = ("<" + FORMATS[st_.name]) if st_.numeric else None
        self.cands: dict[int, bytes] = {}

    def value(self, raw: bytes):
        v = struct.unpack(self.fmt, raw)[0]
        return np.dtype(self.st.dtype).type(v)

    def test(self, mode, cond, cur: bytes, prev: bytes | None) -> bool:
        if not self.st.numeric:
            if mode is Mode.EXACT:
                return all((c & m) == (d & m) for c, d, m in
                           zip(cur, cond.pattern.data, cond.pattern.mask))
            return (cur == prev) == (mode is Mode.UNCHANGED)
        c = self.value(cur)
        if mode is Mode.EXACT:
            return c == self.value_of(cond.value)
        if mode is Mode.RANGE:
            return self.value_of(cond.low) <= c <= self.value_of(cond.high)
        if mode is Mode.UNKNOWN:
            return True
        p = self.value(prev)
        if mode is Mode.CHANGED:
            return c != p
        if mode is Mode.UNCHANGED:
            return c == p
        if mode is Mode.INCREASED:
            return c > p
        if mode is Mode.DECREASED:
            return c < p
        delta = cond.value if mode is Mode.INCREASED_BY else -cond.value
        if self.st.is_float:
            with np.errstate(all="ignore"):
                return (c - p) - self.value_of(delta) == 0
        bits = 8 * self.st.size
        return (int(c) - int(p) - delta) % (1 << bits) == 0

    def value_of(self, v):
        return self.st.dtype.type(v)

    def first(self, mem: bytes, cond, item: int) -> None:
        self.cands = {p: mem[p:p + item] for p in range(0, len(mem) - item + 1, self.align)
                      if self.test(cond.mode, cond, mem[p:p + item], None)}

    def next(self, mem: bytes, cond, item: int) -> None:
        self.cands = {p: mem[p:p + item] for p, old in self.cands.items()
                      if p + item <= len(mem) and self.test(cond.mode, cond, mem[p:p + item], old)}


def _draw_memory(rng, kind: str, size: int) -> bytearray:
    return bytearray(rng.choice(np.array(ALPHABET[kind], np.uint8), size).tobytes())


def _mutate(rng, mem: bytearray, kind: str, plant: bytes | None) -> None:
    for _ in range(int(rng.integers(0, 40))):
        mem[int(rng.integers(0, len(mem)))] = int(rng.choice(ALPHABET[kind]))
    if plant:
        at = int(rng.integers(0, len(mem) - len(plant)))
        mem[at:at + len(plant)] = plant


def test_every_mode_means_the_same_on_sparse_and_dense_states(backend, spawn):
    from hypothesis import HealthCheck, given, settings, strategies as st

    pages = 2
    c = spawn(pages)
    target = backend.attach(c.pid, writable=False).result(10)
    size = pages * c.page
    areas = only(c, pages)
    limits_for = {"dense": ScanLimits(chunk=1024, sparse_max=0),
                  # dense, with every snapshot chunk spilled to a file
                  "spilled": ScanLimits(chunk=1024, sparse_max=0, snapshot_memory=0),
                  "sparse": ScanLimits(chunk=1024, sparse_max=10**9)}

    @settings(max_examples=120, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=st.data(), name=st.sampled_from(sorted(FORMATS) + list(STRING_TYPES)),
           any_align=st.booleans(), how=st.sampled_from(["dense", "spilled", "sparse"]),
           first=st.sampled_from([Mode.UNKNOWN, Mode.EXACT, Mode.RANGE]),
           seed=st.integers(0, 2**32 - 1))
    def run(data, name, any_align, how, first, seed):
        st_ = ScanType(name)
        rng = np.random.default_rng(seed)
        kind = "text" if not st_.numeric else "float" if st_.is_float else "int"
        align = 1 if any_align else st_.natural_alignment
        limits = limits_for[how]
        mem = _draw_memory(rng, kind, size)
        c.poke(0, bytes(mem))
        ref = Reference(st_, align)

        def some_value() -> str:
            p = int(rng.integers(0, (size - st_.size) // align)) * align
            return repr(ref.value(mem[p:p + st_.size]).item())

        def some_text() -> str:
            if name == "bytes":
                p = int(rng.integers(0, size - 4))
                raw = mem[p:p + data.draw(st.integers(1, 4))]
                return " ".join(f"{b:02x}" if rng.random() < 0.8 or i == 0 else "??"
                                for i, b in enumerate(raw))
            return data.draw(st.text("AB", min_size=1, max_size=3))

        if not st_.numeric and first is Mode.RANGE:
            first = Mode.EXACT
        if first is Mode.UNKNOWN:
            cond = make_condition(st_, first, tolerance=0)
        elif first is Mode.RANGE:
            a, b = sorted([some_value(), some_value()], key=float)
            cond = make_condition(st_, first, f"{a}..{b}", tolerance=0)
        else:
            cond = make_condition(st_, first, some_text() if not st_.numeric else some_value(),
                                  tolerance=0)
        item = 1 if (first is Mode.UNKNOWN and not st_.numeric) else \
            len(cond.pattern) if cond.pattern is not None else st_.size
        state = target.scan_first(st_, cond, align=align, areas=areas,
                                  limits=limits).result(60)
        ref.first(bytes(mem), cond, item)
        states = [state]

        def check(s, what):
            want = sorted(ref.cands)
            assert s.addresses().tolist() == [c.base + p for p in want], what
            addrs, vals = s.matches(0, s.count)
            got = [bytes(np.ascontiguousarray(v).view(np.uint8)) for v in vals] \
                if vals.ndim == 1 else [bytes(r) for r in vals]
            assert got == [ref.cands[p] for p in want], what

        check(state, f"first {cond.describe()}")
        for _ in range(data.draw(st.integers(1, 3))):
            mode = data.draw(st.sampled_from(NUMERIC_NEXT if st_.numeric else TEXT_NEXT))
            if mode is Mode.EXACT:
                text = some_value() if st_.numeric else some_text()
                cond = make_condition(st_, mode, text, tolerance=0)
            elif mode is Mode.RANGE:
                a, b = sorted([some_value(), some_value()], key=float)
                cond = make_condition(st_, mode, f"{a}..{b}", tolerance=0)
            elif mode in (Mode.INCREASED_BY, Mode.DECREASED_BY):
                cond = make_condition(st_, mode, data.draw(st.sampled_from(["0", "1", "2"])),
                                      tolerance=0)
            else:
                cond = make_condition(st_, mode, tolerance=0)
            plant = cond.pattern.data if cond.pattern is not None else None
            _mutate(rng, mem, kind, plant)
            c.poke(0, bytes(mem))
            item = len(cond.pattern) if cond.pattern is not None else item
            state = target.scan_next(state, cond, limits=limits).result(60)
            states.append(state)
            ref.next(bytes(mem), cond, item)
            check(state, f"{how} {name} align {align}: {cond.describe()}")
        states[0].close()

    run()


@pytest.mark.parametrize("name", ["utf8", "bytes"])
def test_exact_after_unknown_on_text_finds_the_value(backend, spawn, name):
    """The issue's case: a page holding "Alice" that becomes "Bobby":
    unknown, then exact B gives the one address of B (on the dense path)."""
    c = spawn(1)
    at = c.poke(100, b"Alice")
    target = backend.attach(c.pid, writable=False).result(10)
    st_ = ScanType(name)
    state = target.scan_first(st_, make_condition(st_, Mode.UNKNOWN), areas=only(c, 1)).result(30)
    assert all(r.dense for r in state.regions if r.count)
    c.poke(100, b"Bobby")
    exact = target.scan_next(state, make_condition(st_, Mode.EXACT,
                                                   "B" if name == "utf8" else "42")).result(30)
    assert exact.addresses().tolist() == [at]
    state.close()


# -- 4. a reused pid never yields matches -----------------------------------------------------------

def test_next_scans_and_undo_refuse_another_process_with_the_same_pid(backend, spawn, tmp_path):
    """A scan made on one process, presented to another with its pid (what
    pid reuse does): next scans and undo refuse it, in the API and the CLI."""
    from lainview.backend import scan as scan_mod
    from lainview.backend.errors import TargetExited
    from lainview.backend.processes import start_ticks
    first = spawn(1)
    first.poke(8, VALUE)
    st_ = ScanType("i32")
    a = backend.attach(first.pid, writable=False).result(10)
    state = a.scan_first(st_, make_condition(st_, Mode.EXACT, "777777"),
                         areas=only(first, 1)).result(30)
    narrowed = a.scan_next(state, make_condition(st_, Mode.UNCHANGED)).result(30)
    assert narrowed.count == 1
    other = spawn(1)
    while start_ticks(other.pid) == start_ticks(first.pid):   # same clock tick
        other = spawn(1)
    other.poke(8, VALUE)
    # The same scan, as if ``other`` had been given ``first``'s pid.
    for s in (state, narrowed, *narrowed.history):
        s.pid = other.pid
    b = backend.attach(other.pid, writable=False).result(10)
    with pytest.raises(TargetExited, match="not the process this scan was made on"):
        b.scan_next(narrowed, make_condition(st_, Mode.UNCHANGED)).result(30)
    with pytest.raises(TargetExited, match="not the process this scan was made on"):
        b.scan_undo(narrowed).result(30)
    # The job itself checks, whoever runs it.
    job = scan_mod.next_scan(b._memory, narrowed, make_condition(st_, Mode.UNCHANGED))
    with pytest.raises(TargetExited):
        next(job)
    # And through a session file, in the CLI: an error, exit 1, no matches.
    path = str(tmp_path / "reused.npz")
    scan_mod.save_state(narrowed, path)
    for args in (["--undo"], ["--next", "unchanged"]):
        done = cli("scan", "--session", path, *args, "--json")
        assert done.returncode == 1, done
        assert "not the process this scan was made on" in done.stderr
        assert "777777" not in done.stdout and "matches" not in done.stdout
    # A process that has exited: refused as well.
    first.proc.kill()
    first.proc.wait(10)
    for s in (state, narrowed, *narrowed.history):
        s.pid = first.pid
    with pytest.raises(TargetExited):
        scan_mod.undo(narrowed)
    narrowed.close()


# -- 5. scale: 20,000 areas ----------------------------------------------------------------------

def test_twenty_thousand_areas_first_and_next_scans_are_exact(backend, spawn):
    """Every other page read-only, so the kernel cannot merge them: 20,000
    areas. Correctness at that scale (the time is measured by
    bench/scan_areas.py, not here)."""
    n = 20000
    c = spawn(n, alt=True)
    p = c.page
    target = backend.attach(c.pid, writable=False).result(30)
    st_ = ScanType("i32")
    c.do(f"stripe 10 {2 * p:x} {n // 2:x} {VALUE.hex()}")
    rw_pages = AreaFilter(ranges=tuple((c.base + i * p, c.base + (i + 1) * p)
                                       for i in range(0, n, 2)))
    state = target.scan_first(st_, make_condition(st_, Mode.EXACT, "777777"),
                              areas=rw_pages).result(600)
    planted = [c.base + i * p + 16 for i in range(0, n, 2)]
    assert state.addresses().tolist() == planted and len(state.regions) == n // 2
    # Every third planted value changes; four pages in the middle go away.
    c.do(f"stripe 10 {6 * p:x} {n // 6 + 1:x} 00000000")
    c.do(f"unmap {1001 * p:x} {4 * p:x}")
    gone = {c.base + i * p + 16 for i in (1002, 1004)}
    same = target.scan_next(state, make_condition(st_, Mode.UNCHANGED)).result(600)
    want = [a for k, a in enumerate(planted) if k % 3 and a not in gone]
    assert same.addresses().tolist() == want
    assert same.lost == sum(1 for k, a in enumerate(planted) if a in gone)
    # One run over all 20,000 areas (read-only ones included), unknown values.
    whole = AreaFilter(ranges=((c.base, c.base + n * p),))
    unknown = target.scan_first(st_, make_condition(st_, Mode.UNKNOWN), areas=whole).result(600)
    assert len(unknown.regions) == 2         # the unmapped pages cut the run in two
    assert unknown.count == (n - 4) * p // 4
    c.do(f"stripe 20 {8 * p:x} {n // 8:x} 01000000")
    changed = target.scan_next(unknown, make_condition(st_, Mode.CHANGED)).result(600)
    assert changed.addresses().tolist() == [c.base + i * p + 32 for i in range(0, n, 8)
                                            if not 1001 <= i < 1005]
    for s in (state, unknown):
        s.close()


# -- unreadable areas are never glued into a run --------------------------------------------

@pytest.mark.parametrize("chosen", ["readonly", "range"])
def test_a_prot_none_area_is_never_scanned_nor_glued_into_a_run(backend, spawn, chosen):
    """rw- | --- | rw-: values across either boundary of the PROT_NONE page,
    and inside it, are never candidates (its bytes are readable only by
    forced access, which the scanner does not ask for); the rw- pages on
    either side are scanned, and a next scan loses what a page turned
    PROT_NONE afterwards held."""
    c = spawn(3)
    p = c.page
    value = b"\x5a\xc3\x96\x2f"
    inside_0 = c.poke(16, value)                       # wholly in page 0
    across_01 = c.poke(p - 2, value)                   # page 0 | page 1
    inside_1 = c.poke(p + 64, value)                   # wholly in page 1
    across_12 = c.poke(2 * p - 2, value)               # page 1 | page 2
    inside_2 = c.poke(2 * p + 32, value)               # wholly in page 2
    c.do(f"prot {p:x} {p:x} none")
    target = backend.attach(c.pid, writable=False).result(10)
    st_ = ScanType("bytes")
    areas = AreaFilter(include_readonly=True) if chosen == "readonly" else only(c, 3)
    state = target.scan_first(st_, make_condition(st_, Mode.EXACT, value.hex()), align=1,
                              areas=areas).result(60)
    found = set(state.addresses().tolist())
    assert {inside_0, inside_2} <= found
    assert not found & {across_01, inside_1, across_12}
    if chosen == "range":
        assert found == {inside_0, inside_2}
        assert state.unreadable_bytes == p           # the PROT_NONE page, counted
    # Unknown over the range: every offset whose 4 bytes lie in page 0 or page 2.
    u32 = ScanType("u32")
    unknown = target.scan_first(u32, make_condition(u32, Mode.UNKNOWN), align=1,
                                areas=only(c, 3), limits=ScanLimits(chunk=4096)).result(60)
    assert unknown.count == 2 * (p - 3)
    # Page 2 turns PROT_NONE: its candidates are lost, page 0's stay.
    c.do(f"prot {2 * p:x} {p:x} none")
    same = target.scan_next(state, make_condition(st_, Mode.UNCHANGED)).result(60)
    assert set(same.addresses().tolist()) & {inside_0, inside_2} == {inside_0}
    assert same.lost >= 1
    for s in (state, unknown):
        s.close()


@pytest.mark.parametrize("memory", [256 << 20, 0])
def test_values_at_reads_the_step_before_from_the_store(backend, spawn, memory):
    """The match list's Previous column: values of a dense step (snapshot
    chunks in memory, or spilled to disk) and of a sparse one, None for an
    address that was not a candidate."""
    c = spawn(3)
    p = c.page
    c.do(f"fill 0 {3 * p:x} 11")
    c.poke(p + 5, b"\x77\x78")
    target = backend.attach(c.pid, writable=False).result(10)
    u8 = ScanType("u8")
    limits = ScanLimits(chunk=4096, snapshot_memory=memory)
    first = target.scan_first(u8, make_condition(u8, Mode.UNKNOWN), areas=only(c, 3),
                              limits=limits).result(60)
    assert first.regions[0].dense and (first.disk_bytes > 0) == (memory == 0)
    c.poke(p + 5, b"\x01\x02")
    c.poke(2 * p + 9, b"\x03")
    changed = target.scan_next(first, make_condition(u8, Mode.CHANGED),
                               limits=limits).result(60)
    assert changed.addresses().tolist() == [c.base + p + 5, c.base + p + 6, c.base + 2 * p + 9]
    before = changed.history[-1]
    assert before.values_at([c.base + p + 5, c.base + p + 6, c.base + 2 * p + 9, c.base,
                             c.base - 1, c.base + 3 * p]) == \
        [b"\x77", b"\x78", b"\x11", b"\x11", None, None]
    # The step after that, sparse (three candidates): its own values.
    c.poke(p + 5, b"\x09")
    again = target.scan_next(changed, make_condition(u8, Mode.CHANGED), limits=limits).result(60)
    assert not again.history[-1].regions[0].dense and again.history[-1].count == 3
    assert again.history[-1].values_at([c.base + p + 5, c.base + 2 * p + 9, c.base + 7]) == \
        [b"\x01", b"\x03", None]
    first.close()
