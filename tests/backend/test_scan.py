"""The value scanner: pure matchers against a naive reference, and whole
scans against a real child that plants and changes known values."""

import struct

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lainview.backend.errors import Cancelled, InvalidInput, TargetExited
from lainview.backend.scan import (AreaFilter, Mode, ScanLimits, ScanType, load_state,
                                   make_condition, match_pattern,
                                   positions_count, save_state, evaluate, values_at,
                                   find_values)

FORMATS = {"i8": "b", "u8": "B", "i16": "h", "u16": "H", "i32": "i", "u32": "I",
           "i64": "q", "u64": "Q", "f32": "f", "f64": "d"}


def naive_find(buf: bytes, name: str, big: bool, align: int, pred) -> list[int]:
    fmt = (">" if big else "<") + FORMATS[name]
    size = struct.calcsize(fmt)
    return [p for p in range(0, len(buf) - size + 1, align)
            if pred(struct.unpack_from(fmt, buf, p)[0])]


@settings(max_examples=150, deadline=None)
@given(data=st.data(), name=st.sampled_from(sorted(FORMATS)), big=st.booleans(),
       unaligned=st.booleans())
def test_numeric_first_scan_matches_naive_reference(data, name, big, unaligned):
    st_ = ScanType(name, big)
    buf = bytearray(data.draw(st.binary(min_size=0, max_size=300)))
    raw = data.draw(st.binary(min_size=st_.size, max_size=st_.size))
    value = struct.unpack((">" if big else "<") + FORMATS[name], raw)[0]
    if st_.is_float and value != value:
        return   # NaN equals nothing
    # Plant it a few times so there is something to find.
    for _ in range(data.draw(st.integers(0, 3))):
        if len(buf) >= st_.size:
            at = data.draw(st.integers(0, len(buf) - st_.size))
            buf[at:at + st_.size] = raw
    align = 1 if unaligned else st_.size
    cond = make_condition(st_, Mode.EXACT, repr(value), tolerance=0)
    arr = np.frombuffer(bytes(buf) + bytes(8), dtype=np.uint8)
    count = positions_count(len(buf), st_.size, align)
    want = naive_find(bytes(buf), name, big, align, lambda v: v == value)
    got = (np.flatnonzero(evaluate(values_at(arr, st_, align, count), cond)) * align).tolist()
    assert got == want
    idx, vals = find_values(arr, st_, align, count, cond)
    assert (idx * align).tolist() == want
    assert all(v == value for v in vals.tolist())


@settings(max_examples=100, deadline=None)
@given(data=st.data(), name=st.sampled_from(["i16", "u32", "i64", "f64"]))
def test_relative_next_conditions_match_naive(data, name):
    st_ = ScanType(name)
    n = data.draw(st.integers(0, 40))
    fmt = "<" + FORMATS[name]
    elems = st.floats(-1e6, 1e6, width=64) if st_.is_float else \
        st.integers(*((lambda i: (int(i.min), int(i.max)))(np.iinfo(st_.dtype))))
    prev = np.array(data.draw(st.lists(elems, min_size=n, max_size=n)), dtype=st_.dtype)
    cur = np.array(data.draw(st.lists(elems, min_size=n, max_size=n)), dtype=st_.dtype)
    for mode, pred in [(Mode.CHANGED, lambda c, p: c != p), (Mode.UNCHANGED, lambda c, p: c == p),
                       (Mode.INCREASED, lambda c, p: c > p), (Mode.DECREASED, lambda c, p: c < p)]:
        cond = make_condition(st_, mode, tolerance=0)
        got = np.flatnonzero(evaluate(cur, cond, prev)).tolist()
        assert got == [i for i in range(n) if pred(cur[i].item(), prev[i].item())], (mode, fmt)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), align=st.sampled_from([1, 2, 4]))
def test_pattern_with_wildcards_matches_naive(data, align):
    length = data.draw(st.integers(1, 6))
    pat_bytes = data.draw(st.binary(min_size=length, max_size=length))
    wild = data.draw(st.lists(st.booleans(), min_size=length, max_size=length))
    if all(wild):
        wild[0] = False
    text = " ".join("??" if w else f"{b:02x}" for b, w in zip(pat_bytes, wild))
    pattern = ScanType("bytes").kind.pattern(text)
    buf = bytearray(data.draw(st.binary(max_size=200)))
    for _ in range(data.draw(st.integers(0, 3))):
        if len(buf) >= length:
            at = data.draw(st.integers(0, len(buf) - length))
            buf[at:at + length] = pat_bytes
    count = positions_count(len(buf), length, align)
    got = sorted(match_pattern(np.frombuffer(bytes(buf), np.uint8), pattern, align, count).tolist()) \
        if count else []
    want = [p for p in range(0, len(buf) - length + 1, align)
            if all(w or buf[p + i] == pat_bytes[i] for i, w in enumerate(wild))]
    assert got == want


@pytest.mark.parametrize("name,value,text", [
    ("bytes", "zz", "malformed byte pattern"), ("bytes", "?? ??", "not ??"),
    ("i8", "300", "does not fit in i8"), ("u32", "-1", "does not fit"),
    ("i32", "ten", "not an i32 value"), ("utf8", "", "empty string"),
])
def test_bad_values_are_refused_clearly(name, value, text):
    with pytest.raises(InvalidInput, match=text):
        make_condition(ScanType(name), Mode.EXACT, value)


def test_range_and_unknown_type_errors():
    with pytest.raises(InvalidInput, match="LOW..HIGH"):
        make_condition(ScanType("i32"), Mode.RANGE, "5")
    with pytest.raises(InvalidInput, match="unknown value type"):
        ScanType("i128")


# -- against a real child -----------------------------------------------------------------------

def scan_range(child):
    return AreaFilter(ranges=((child.scan, child.scan + 4 * child.page),))


def plant(child, offset: int, data: bytes) -> int:
    addr = child.scan + offset
    assert child.command(f"poke {addr:x} {data.hex()}") == "ok"
    return addr


@pytest.fixture
def target(backend, child):
    return backend.attach(child.pid).result(10)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_exact_scan_finds_exactly_the_planted_values(target, child, name):
    st_ = ScanType(name)
    value = {"f32": 12.5, "f64": -1234.25, "i8": -7, "u8": 201}.get(name, 0x5A)
    raw = struct.pack("<" + FORMATS[name], value)
    page = child.page
    aligned = [plant(child, off, raw) for off in (0, 64, 2 * page + 8, 3 * page + 16)]
    odd = plant(child, 2 * page + 101, raw)
    cond = make_condition(st_, Mode.EXACT, str(value))
    state = target.scan_first(st_, cond, areas=scan_range(child)).result(30)
    expected = sorted(aligned + ([odd] if st_.size == 1 else []))
    assert state.addresses().tolist() == expected
    anywhere = target.scan_first(st_, cond, align=1, areas=scan_range(child)).result(30)
    assert anywhere.addresses().tolist() == sorted(aligned + [odd])
    # The PROT_NONE page in the range was skipped and counted.
    assert anywhere.unreadable_bytes == page


def test_pattern_and_strings(target, child):
    plant(child, 10, b"\xde\xad\x42\xef")
    plant(child, 3 * child.page + 1, b"\xde\xad\x99\xef")
    plant(child, 200, "héllo".encode())
    plant(child, 400, "héllo".encode("utf-16-le"))
    st_b = ScanType("bytes")
    state = target.scan_first(st_b, make_condition(st_b, Mode.EXACT, "de ad ?? ef"),
                              areas=scan_range(child)).result(30)
    assert state.addresses().tolist() == [child.scan + 10, child.scan + 3 * child.page + 1]
    for name, at in (("utf8", 200), ("utf16le", 400)):
        st_s = ScanType(name)
        s = target.scan_first(st_s, make_condition(st_s, Mode.EXACT, "héllo"),
                              areas=scan_range(child)).result(30)
        assert s.addresses().tolist() == [child.scan + at]


def test_next_scans_find_exactly_what_changed(target, child):
    st_ = ScanType("i32")
    addrs = [plant(child, off, struct.pack("<i", 100)) for off in (0, 8, 16, 24, 3 * child.page)]
    state = target.scan_first(st_, make_condition(st_, Mode.EXACT, "100"),
                              areas=scan_range(child)).result(30)
    assert state.count == 5
    plant(child, 8, struct.pack("<i", 150))      # increased
    plant(child, 16, struct.pack("<i", 40))      # decreased
    plant(child, 3 * child.page, struct.pack("<i", 101))   # increased by 1

    def nxt(mode, value=None, base=state):
        return target.scan_next(base, make_condition(st_, mode, value)).result(30)

    assert nxt(Mode.CHANGED).addresses().tolist() == [addrs[1], addrs[2], addrs[4]]
    assert nxt(Mode.UNCHANGED).addresses().tolist() == [addrs[0], addrs[3]]
    assert nxt(Mode.INCREASED).addresses().tolist() == [addrs[1], addrs[4]]
    assert nxt(Mode.DECREASED).addresses().tolist() == [addrs[2]]
    assert nxt(Mode.INCREASED_BY, "1").addresses().tolist() == [addrs[4]]
    assert nxt(Mode.EXACT, "40").addresses().tolist() == [addrs[2]]
    assert nxt(Mode.RANGE, "100..150").addresses().tolist() == [addrs[0], addrs[1], addrs[3],
                                                                  addrs[4]]
    narrowed = nxt(Mode.CHANGED)
    back = target.scan_undo(narrowed).result(10)
    assert back.count == 5 and back.step == 1


def test_unknown_initial_value_then_changes(target, child):
    st_ = ScanType("u16")
    state = target.scan_first(st_, make_condition(st_, Mode.UNKNOWN),
                              areas=scan_range(child)).result(30)
    readable_positions = 3 * child.page // 2
    assert state.count == readable_positions
    # Zero pages compress to nothing: a bit per position is all it costs.
    assert state.disk_bytes == 0 and state.memory_bytes <= 4 * child.page // 2 // 8 + 64
    a = plant(child, 2 * child.page + 6, b"\x05\x00")
    b = plant(child, 3 * child.page + 4094, b"\xff\xff")
    changed = target.scan_next(state, make_condition(st_, Mode.CHANGED)).result(30)
    assert changed.addresses().tolist() == [a, b]
    inc = target.scan_next(state, make_condition(st_, Mode.INCREASED)).result(30)
    assert inc.addresses().tolist() == [a, b]
    plant(child, 2 * child.page + 6, b"\x03\x00")
    dec = target.scan_next(changed, make_condition(st_, Mode.DECREASED)).result(30)
    assert dec.addresses().tolist() == [a]
    state.close()


def test_dense_states_stay_dense_when_huge_and_undo_keeps_files(target, child):
    st_ = ScanType("u8")
    limits = ScanLimits(chunk=4096, sparse_max=10)
    state = target.scan_first(st_, make_condition(st_, Mode.UNKNOWN), areas=scan_range(child),
                              limits=limits).result(30)
    same = target.scan_next(state, make_condition(st_, Mode.UNCHANGED), limits=limits).result(30)
    assert same.count == 3 * child.page and any(r.dense for r in same.regions)
    assert same.memory_bytes < same.count   # a bit per position, not an address
    back = target.scan_undo(same).result(10)
    assert back.count == 3 * child.page
    plant(child, 5, b"\x01")
    again = target.scan_next(back, make_condition(st_, Mode.CHANGED), limits=limits).result(30)
    assert again.addresses().tolist() == [child.scan + 5]
    state.close()


def test_session_file_round_trip(target, child, tmp_path):
    st_ = ScanType("i32")
    plant(child, 32, struct.pack("<i", 77))
    state = target.scan_first(st_, make_condition(st_, Mode.EXACT, "77"),
                              areas=scan_range(child)).result(30)
    path = str(tmp_path / "scan.npz")
    save_state(state, path)
    loaded = load_state(path)
    assert loaded.addresses().tolist() == [child.scan + 32] and loaded.pid == child.pid
    plant(child, 32, struct.pack("<i", 78))
    assert target.scan_next(loaded, make_condition(st_, Mode.CHANGED)).result(30).count == 1


def test_child_exiting_mid_scan_is_a_clean_error(backend, child):
    import threading
    target = backend.attach(child.pid).result(10)
    st_ = ScanType("u8")
    future = target.scan_first(st_, make_condition(st_, Mode.EXACT, "1"),
                               areas=AreaFilter(include_readonly=True, include_file_backed=True),
                               limits=ScanLimits(chunk=4096))
    done = threading.Event()
    future.add_done_callback(lambda f: done.set())
    while future.progress[0] == 0 and not done.is_set():
        done.wait(0.005)
    child.kill()
    try:
        future.result(60)
    except TargetExited as exc:
        assert exc.pid == child.pid
    else:
        pytest.fail("the scan finished although its target was killed mid-way")


def test_cancel_stops_within_one_chunk(child):
    import threading
    from lainview.backend.service import Backend
    b = Backend()
    try:
        target = b.attach(child.pid).result(10)
        st_ = ScanType("u8")
        future = target.scan_first(st_, make_condition(st_, Mode.EXACT, "1"),
                                   areas=AreaFilter(include_readonly=True,
                                                    include_file_backed=True),
                                   limits=ScanLimits(chunk=4096))
        started = threading.Event()
        future.add_done_callback(lambda f: started.set())
        while future.progress[0] == 0 and not started.is_set():
            started.wait(0.005)
        # An interactive request runs between two chunks: cancel from there,
        # noting exactly how far the scan had got.
        at = []
        b.thread.submit(lambda: (at.append(future.progress[0]), future.cancel())).result(10)
        with pytest.raises(Cancelled):
            future.result(30)
        assert future.progress[0] == at[0] < future.progress[1]
    finally:
        b.shutdown()


# -- random access to the matches (the GUI's virtual table) ---------------------------------------

def _synthetic_state(tmp_path, rng, align: int, item: int):
    """Three regions: dense (mask + snapshot), sparse, empty dense."""
    from lainview.backend.scan import RegionMatches, ScanState
    from lainview.backend.scan_store import SnapshotStore
    st_ = ScanType({1: "u8", 2: "u16", 4: "u32"}[item])
    regions = []
    size = 64 * 1024 + 3 * align
    n_pos = positions_count(size, item, align)
    bits = rng.random(n_pos) < 0.3
    bits[:100] = False                     # whole empty mask blocks too
    data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
    store = SnapshotStore(str(tmp_path), 4096, 1 << 20)
    gen = store.new_generation()
    for pos in range(0, size, 4096):
        store.put((gen, 0x10000, pos), data[pos:pos + 4096 + item - 1])
    regions.append(RegionMatches(0x10000, size, mask=np.packbits(bits), snapshot=gen,
                                 count=int(bits.sum())))
    offs = np.sort(rng.choice(8192 // item, 50, replace=False)) * item
    vals = rng.integers(0, 200, 50).astype(st_.dtype)
    regions.append(RegionMatches(0x900000, 8192, offsets=offs.astype(np.uint32), values=vals,
                                 count=50))
    regions.append(RegionMatches(0xA00000, 4096, mask=np.zeros(512 // align, np.uint8),
                                 snapshot=gen, count=0))
    regions.insert(1, RegionMatches(0x800000, 4096))      # emptied by a next scan
    state = ScanState(pid=1, start_ticks=None, scan_type=st_, align=align, item_size=item,
                      regions=regions, workdir=str(tmp_path), store=store)
    expect_vals = [int.from_bytes(data[p * align:p * align + item], "little")
                   for p in np.flatnonzero(bits)] + vals.tolist()
    return state, expect_vals


@pytest.mark.parametrize("align,item", [(1, 1), (2, 2), (1, 4), (4, 4)])
def test_matches_slices_agree_with_addresses(tmp_path, monkeypatch, align, item):
    from lainview.backend import scan as scan_mod
    monkeypatch.setattr(scan_mod, "INDEX_BLOCK", 16)      # many index blocks
    rng = np.random.default_rng(align * 10 + item)
    state, expect_vals = _synthetic_state(tmp_path, rng, align, item)
    state.prepare_index()
    every = state.addresses()
    assert len(every) == state.count == len(expect_vals)
    addrs, vals = state.matches(0, state.count)
    assert addrs.tolist() == every.tolist() and vals.tolist() == expect_vals
    for _ in range(200):
        a = int(rng.integers(0, state.count + 1))
        b = int(rng.integers(a, min(state.count, a + 700) + 1))
        addrs, vals = state.matches(a, b)
        assert addrs.tolist() == every[a:b].tolist()
        assert vals.tolist() == expect_vals[a:b]
    with pytest.raises(IndexError):
        state.matches(0, state.count + 1)


def test_matches_after_real_scans_and_live_count(target, child):
    from lainview.backend.scan import LiveCount
    st_ = ScanType("u16")
    live = LiveCount()
    state = target.scan_first(st_, make_condition(st_, Mode.UNKNOWN), areas=scan_range(child),
                              live=live).result(30)
    assert live.found == state.count == 3 * child.page // 2
    assert all(r.block_starts is not None for r in state.regions if r.dense and r.count)
    addrs, vals = state.matches(10, 20)
    assert addrs.tolist() == state.addresses(20)[10:].tolist()
    assert vals.tolist() == [0] * 10
    a = plant(child, 2 * child.page + 6, b"\x05\x00")
    live = LiveCount()
    changed = target.scan_next(state, make_condition(st_, Mode.CHANGED), live=live).result(30)
    assert live.found == changed.count == 1
    addrs, vals = changed.matches(0, 1)
    assert addrs.tolist() == [a] and vals.tolist() == [5]
    back = target.scan_undo(changed).result(10)
    assert back.matches(0, 3)[0].tolist() == state.addresses(3).tolist()
    state.close()


def test_a_stopped_scan_leaves_no_files(target, child, tmp_path, monkeypatch):
    import glob
    import os
    import tempfile
    from lainview.backend import scan as scan_mod
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    st_ = ScanType("u8")
    # No snapshot memory: every stored chunk (not all zero) goes to a file.
    limits = ScanLimits(chunk=4096, sparse_max=10, snapshot_memory=0)
    plant(child, 0, bytes(range(1, 65)))
    job = scan_mod.first_scan(target._memory, st_, make_condition(st_, Mode.UNKNOWN),
                              areas=scan_range(child), limits=limits)
    next(job)
    [workdir] = glob.glob(str(tmp_path / "lainview-scan-*"))
    assert os.listdir(workdir)                  # a snapshot is being written
    job.close()                                 # what cancelling does
    assert not os.path.exists(workdir)
    state = target.scan_first(st_, make_condition(st_, Mode.UNKNOWN), areas=scan_range(child),
                              limits=limits).result(30)
    before = sorted(os.listdir(state.workdir))
    job = scan_mod.next_scan(target._memory, state, make_condition(st_, Mode.UNCHANGED),
                             limits=limits)
    next(job)
    next(job)
    assert sorted(os.listdir(state.workdir)) != before
    job.close()
    assert sorted(os.listdir(state.workdir)) == before
    state.close()


# -- a common value in a large area: the state turns dense, memory stays bounded ------------------

BIG_CHILD = r"""
import ctypes, mmap, sys
m = mmap.mmap(-1, int(sys.argv[1]))          # zeros, never touched: no RSS
base = ctypes.addressof(ctypes.c_char.from_buffer(m))
print(base, flush=True)
for line in sys.stdin:
    addr, data = line.split()
    ctypes.memmove(int(addr, 16), bytes.fromhex(data), len(data) // 2)
    print("ok", flush=True)
"""


@pytest.fixture
def big_child():
    import subprocess
    import sys
    size = 64 << 20
    proc = subprocess.Popen([sys.executable, "-c", BIG_CHILD, str(size)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    base = int(proc.stdout.readline())

    def poke(addr: int, data: bytes) -> None:
        proc.stdin.write(f"{addr:x} {data.hex()}\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "ok"

    yield proc.pid, base, size, poke
    proc.kill()
    proc.wait(10)


@pytest.mark.parametrize("align,sparse_max", [(4, 600_000), (1, 1000)])
def test_a_common_value_turns_the_first_scan_dense(backend, big_child, align, sparse_max):
    pid, base, size, poke = big_child
    target = backend.attach(pid, writable=False).result(10)
    st_ = ScanType("i32")
    model = np.zeros(size, np.uint8)            # what the child's mapping holds

    def put(addr, v):
        poke(addr, struct.pack("<i", v))
        model[addr - base:addr - base + 4] = np.frombuffer(struct.pack("<i", v), np.uint8)

    def where(mask):
        return np.flatnonzero(mask).astype(np.uint64) * np.uint64(align) + np.uint64(base)

    def typed():
        return values_at(model, st_, align, positions_count(size, 4, align))

    # Values 1..3 in the first chunks (kept sparse, then converted), one in
    # the middle, one right at a chunk boundary (straddling it when align=1).
    planted = {base + 8: 1, base + (1 << 20) + 40: 2, base + (2 << 20) + 4: 3,
               base + (40 << 20): 2, base + (5 << 20) - 4: 3}
    for addr, v in planted.items():
        put(addr, v)
    limits = ScanLimits(sparse_max=sparse_max)
    only = AreaFilter(ranges=((base, base + size),))
    state = target.scan_first(st_, make_condition(st_, Mode.RANGE, "0..3"), align=align,
                              areas=only, limits=limits).result(60)
    first = typed().copy()
    cand = (first >= 0) & (first <= 3)
    positions = positions_count(size, 4, align)
    assert state.count == int(cand.sum()) > positions - 20
    assert all(r.dense for r in state.regions if r.count)
    # One bit per position (and a small index), not 8 bytes per match.
    assert state.memory_bytes <= positions // 8 + (1 << 20)
    assert state.disk_bytes <= size + (1 << 20)
    # The values of the converted sparse part and the dense part are right.
    every = state.addresses()
    assert np.array_equal(every, where(cand))
    for addr, v in planted.items():
        i = int(np.searchsorted(every, addr))
        got_addr, got_val = state.matches(i, i + 1)
        assert (got_addr.tolist(), got_val.tolist()) == ([addr], [v])
    exact = target.scan_next(state, make_condition(st_, Mode.EXACT, "3"), limits=limits).result(60)
    assert np.array_equal(exact.addresses(), where(cand & (first == 3)))
    # Changes anywhere, including in the converted first chunks.
    put(base + 8, 9)
    put(base + (3 << 20) + 12, -1)
    put(base + (40 << 20), 1)
    now = typed()
    changed = target.scan_next(state, make_condition(st_, Mode.CHANGED), limits=limits).result(60)
    assert np.array_equal(changed.addresses(), where(cand & (now != first)))
    assert changed.matches(0, changed.count)[1].tolist() == now[cand & (now != first)].tolist()
    if align == 4:
        assert changed.addresses().tolist() == [base + 8, base + (3 << 20) + 12, base + (40 << 20)]
    back = target.scan_undo(changed).result(10)
    assert back.count == state.count and back.matches(0, 1)[0].tolist() == [base]
    state.close()


def test_few_matches_stay_sparse_in_a_large_area(backend, big_child):
    pid, base, size, poke = big_child
    target = backend.attach(pid, writable=False).result(10)
    st_ = ScanType("i32")
    poke(base + (7 << 20), struct.pack("<i", 5))
    state = target.scan_first(st_, make_condition(st_, Mode.EXACT, "5"),
                              areas=AreaFilter(ranges=((base, base + size),)),
                              limits=ScanLimits(sparse_max=0)).result(60)
    # Over the budget, but an offset and a value cost less than the mask.
    assert state.addresses().tolist() == [base + (7 << 20)]
    assert not any(r.dense for r in state.regions) and state.disk_bytes == 0


def test_dense_next_scan_keeps_values_that_straddle_into_an_emptied_chunk(target, child):
    """A candidate whose bytes run into the next chunk, when that chunk keeps
    no candidate, still compares against its true previous bytes."""
    st_ = ScanType("u32")
    page = child.page
    limits = ScanLimits(chunk=4096, sparse_max=0)
    plant(child, 3 * page, b"\xab\xcd")              # unchanged bytes just past the boundary
    state = target.scan_first(st_, make_condition(st_, Mode.UNKNOWN), align=1,
                              areas=scan_range(child), limits=limits).result(30)
    plant(child, 2 * page + 4092, b"\x01\x02\x03\x04")
    changed = target.scan_next(state, make_condition(st_, Mode.CHANGED), limits=limits).result(30)
    expected = [child.scan + 2 * page + off for off in range(4089, 4096)]
    assert changed.addresses().tolist() == expected
    same = target.scan_next(changed, make_condition(st_, Mode.UNCHANGED), limits=limits).result(30)
    assert same.addresses().tolist() == expected
    state.close()
