"""The pointer scanner (backend/pointer_scan.py) against a real PIE child
run twice: the chain global(.data) -> obj1, +0x18 -> obj2, +0x8 -> value,
with decoys near every level that point elsewhere in the second run."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from lainview.backend import pointer_scan as ps
from lainview.backend.errors import InvalidInput, TargetExited, Unresolved
from lainview.backend.locations import Location, LocationKind, locate, parse_location
from lainview.backend.memory import MemoryArea, Perm, area_at
from lainview.backend.procfs import ProcfsMemory
from tests.aslr_support import aslr_enabled
from tests.ptrscan_support import VALUE, left_behind, ptrchain_exe, runs  # noqa: F401


def _scan(backend, run, **kw):
    target = backend.attach(run.pid).result()
    return target, target.pointer_scan(run["value"], **kw).result(timeout=120)


def _module_path(run, key: str, areas) -> ps.PointerPath:
    return locate(run[key], areas)


def test_chain_found_then_rescan_in_a_second_run_keeps_it_and_drops_the_decoys(backend, runs):
    one = runs(1)
    target, result = _scan(backend, one, depth=3, limit=100_000)
    areas = target.areas().result()
    root, decoy_value, decoy_obj = (locate(one[k], areas) for k in
                                    ("root", "decoy_value", "decoy_obj"))
    assert root.kind is LocationKind.MODULE and root.name.endswith("/ptr_chain")
    texts = {p.text for p in result.paths}
    chain = f"{root.text}->+0x18->+0x8"
    decoys = {f"{decoy_value.text}->+0x8", f"{decoy_obj.text}->+0x18->+0x8",
              f"{root.text}->+0x20->+0x8", f"{root.text}->+0x10->+0x18"}
    assert chain in texts
    assert decoys <= texts
    assert result.total == len(result.paths)          # all listed: the limit is far
    assert result.location.kind is LocationKind.PSEUDO and result.location.name == "[heap]"
    # Ordered by depth, then by the sum of the offsets.
    keys = [(p.depth, sum(p.offsets)) for p in result.paths]
    assert keys == sorted(keys)
    assert len({(p.base.text, p.offsets) for p in result.paths}) == len(result.paths)

    two = runs(2)
    if aslr_enabled():
        assert two["value"] != one["value"]
    target2 = backend.attach(two.pid).result()
    kept = target2.pointer_rescan(result.paths, ps.RescanTarget(address=two["value"])).result()
    kept_texts = {k.path.text for k in kept}
    assert chain in kept_texts
    assert not decoys & kept_texts
    # The path, resolved in run 2, reads the value.
    path = next(k.path for k in kept if k.path.text == chain)
    (address,) = target2.resolve_pointer_paths([path]).result()
    assert address == two["value"]
    raw = target2.read(address, 8).result().require()
    assert int.from_bytes(raw, "little") == VALUE
    # The path is a location of the grammar: its text reads back, and the
    # backend's resolver (what the watch list uses) finds the value in run 2.
    assert path.location is not None and path.location.steps == (0x18, 0x8)
    assert parse_location(path.text).steps == path.location.steps
    assert target2.resolve(parse_location(path.text)).result() == two["value"]


def test_rescan_by_value_keeps_paths_to_an_address_holding_it(backend, runs):
    one = runs(1)
    target, result = _scan(backend, one, depth=3, limit=100_000)
    areas = target.areas().result()
    root, decoy_value = (locate(one[k], areas) for k in ("root", "decoy_value"))
    two = runs(2)
    target2 = backend.attach(two.pid).result()
    kept = target2.pointer_rescan(result.paths, ps.RescanTarget.holding("i64", VALUE)).result()
    by_text = {k.path.text: k.address for k in kept}
    assert by_text[f"{root.text}->+0x18->+0x8"] == two["value"]
    assert f"{decoy_value.text}->+0x8" not in by_text         # points at a 0 in run 2
    assert all(target2.read(a, 8).result().require() == VALUE.to_bytes(8, "little")
               for a in by_text.values())
    with pytest.raises(InvalidInput):
        ps.RescanTarget.holding("i64", "not a number")


def _on_stack(p: ps.PointerPath) -> bool:
    return p.base.kind is LocationKind.THREAD_STACK


def test_a_thread_stack_is_a_base_as_an_offset_from_its_top(backend, runs):
    one = runs(1)
    target, result = _scan(backend, one, depth=1, limit=100_000, stacks=True)
    assert result.stacks
    stack_paths = [p for p in result.paths if _on_stack(p)
                   and p.base.thread_index == 1 and p.offsets == (8,)]
    assert stack_paths, [p.text for p in result.paths]
    assert all(p.base.offset < 0 and p.text.startswith("[stack#1]-0x") for p in stack_paths)
    _, without = _scan(backend, one, depth=1, limit=100_000)
    assert not any(_on_stack(p) for p in without.paths)
    two = runs(2)
    target2 = backend.attach(two.pid).result()
    kept = target2.pointer_rescan(stack_paths, ps.RescanTarget(address=two["value"])).result()
    assert kept, "the thread-stack path should lead to the value in run 2 too"
    # The path is a location of the grammar: typed back, watched (resolved
    # on the backend thread) in run 2, it reads the value.
    for r in kept:
        typed = parse_location(r.path.text)
        assert typed == r.path.location
        assert target2.resolve(typed, 8).result() == two["value"]
        assert target2.read_locations([(typed, 8)]).result()[0][1].require() == \
            VALUE.to_bytes(8, "little")
    # Thread 0 is the main thread: its stack is [stack].
    areas = target2.areas().result()
    main = next(a for a in areas if a.path == "[stack]")
    assert target2.resolve(parse_location("[stack#0]-0x8"), 8).result() == main.end - 8
    with pytest.raises(Unresolved, match="thread 7's stack is not known"):
        target2.resolve(parse_location("[stack#7]-0x8->+0x8"), 8).result()
    # The thread now spins on a CPU (the kernel reports no stack pointer
    # then): the stack found before still resolves it, refresh after refresh.
    path = parse_location(kept[0].path.text)
    thread = max(int(t) for t in os.listdir(f"/proc/{two.pid}/task"))
    assert two.command("spin") == "{}"
    running = 0
    for _ in range(200):
        running += Path(f"/proc/{two.pid}/task/{thread}/syscall").read_text().startswith(
            "running")
        assert target2.resolve(path, 8).result() == two["value"]
    if not running:
        pytest.skip("the spinning thread was never seen on a CPU")


def test_only_the_real_bss_is_static_not_memory_mapped_right_after_it(backend, bss_tail):
    """An anonymous mapping placed right after the program's .bss (the
    kernel merges it into the .bss area) is no static base: the ELF's
    writable PT_LOAD (p_memsz) says where .bss ends."""
    target = backend.attach(bss_tail.pid).result()
    areas = target.areas().result()
    merged = area_at(areas, bss_tail["tail"])
    assert merged is not None and not merged.path and merged.start < bss_tail["end"], \
        "the mapping should have merged into the .bss area"
    prog = locate(bss_tail["root"], areas)
    path = prog.name
    static_end = backend.module_symbols().static_end(bss_tail.pid, areas, path)
    assert static_end == bss_tail["end"]            # p_vaddr + p_memsz = the linker's end
    result = target.pointer_scan(bss_tail["value"], depth=3, limit=1000).result(timeout=120)
    texts = [p.text for p in result.paths]
    root = prog.offset
    assert f"{os.path.basename(path)}+{root:#x}->+0x10->+0x8" in texts, texts
    base_of_module = bss_tail["root"] - root

    def past_bss(paths):
        return [p.text for p in paths if p.base.name == path
                and base_of_module + p.base.offset >= bss_tail["end"]]
    assert not past_bss(result.paths)
    # Without the ELF's extent (the old rule) the tail object looked static.
    pmap = target.pointer_map().result()
    try:
        old = ps.search(pmap, bss_tail["value"], depth=3)
        assert past_bss(old.paths)
    finally:
        backend.close_pointer_map(pmap).result()


def test_target_exits_mid_scan_clean_error_and_no_files_left(runs):
    one = runs(1)
    memory = ProcfsMemory(one.pid, writable=False)
    try:
        job = ps.build_map(memory, limits=ps.PtrScanLimits(chunk=4096, memory=64))
        next(job)
        next(job)
        assert left_behind(), "the map spills into its directory"
        one.proc.kill()
        one.proc.wait(timeout=5)
        with pytest.raises(TargetExited):
            for _ in job:
                pass
    finally:
        memory.close()
    assert not left_behind()


def test_target_exits_mid_scan_through_the_facade(backend, runs):
    one = runs(1)
    target = backend.attach(one.pid).result()
    one.proc.kill()
    one.proc.wait(timeout=5)
    with pytest.raises(TargetExited):
        target.pointer_scan(one["value"]).result(timeout=60)
    assert not left_behind()


def test_cancel_deletes_the_spilled_map(backend, runs):
    one = runs(1)
    target = backend.attach(one.pid).result()
    future = target.pointer_map(ps.PtrScanLimits(chunk=4096, memory=64))
    future.cancel()
    with pytest.raises(Exception):
        future.result(timeout=60)
    assert not left_behind()


def test_a_spilled_map_equals_the_map_kept_in_memory(runs):
    one = runs(1)
    memory = ProcfsMemory(one.pid, writable=False)
    try:
        small = _run(ps.build_map(memory, limits=ps.PtrScanLimits(memory=4096)))
        big = _run(ps.build_map(memory))
    finally:
        memory.close()
    try:
        assert small.spilled and not big.spilled
        assert small.disk_bytes > 0 and small.memory_bytes == 0
        assert big.memory_bytes == 8 * big.count and big.count > 100
        assert np.array_equal(np.asarray(small.keys), big.keys)
        assert np.array_equal(small.values, big.values)
        order = np.lexsort((np.asarray(small.wheres), np.asarray(small.values)))
        same = np.lexsort((big.wheres, big.values))
        assert np.array_equal(np.asarray(small.wheres)[order], big.wheres[same])
        assert np.all(np.diff(big.values.astype(np.int64)) >= 0)
        assert stat.S_IMODE(os.stat(small.workdir).st_mode) == 0o700
        for name in os.listdir(small.workdir):
            assert stat.S_IMODE(os.stat(os.path.join(small.workdir, name)).st_mode) == 0o600
        a = ps.search(small, one["value"], depth=3, limit=50)
        b = ps.search(big, one["value"], depth=3, limit=50)
        assert [p.text for p in a.paths] == [p.text for p in b.paths] and a.total == b.total
    finally:
        small.close()
        big.close()
    assert not left_behind()


def _run(job):
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value


def _reference_pointers(memory, areas) -> set[tuple[int, int]]:
    """The straightforward pointer map: every 8-byte aligned word of the
    scanned areas, read one area at a time, kept when a readable area holds
    its value: {(value, where)}."""
    readable = [(a.start, a.end) for a in areas if a.readable]
    out = set()
    for area in ps.scanned_areas(areas):
        data = memory.read(area.start, area.size, areas=areas).data
        words = np.frombuffer(bytes(data), "<u8")
        for i in np.flatnonzero((words >= readable[0][0]) & (words < readable[-1][1])):
            v = int(words[i])
            if any(lo <= v < hi for lo, hi in readable):
                out.add((v, area.start + 8 * int(i)))
    return out


@pytest.mark.parametrize("limits", [ps.PtrScanLimits(), ps.PtrScanLimits(chunk=4096),
                                    ps.PtrScanLimits(chunk=12288, memory=4096),
                                    ps.PtrScanLimits(chunk=4096, overlap=True)],
                         ids=["default", "page-chunks", "odd-chunks-spilled", "overlapped"])
def test_the_map_equals_a_straightforward_reference(runs, limits):
    one = runs(1)
    memory = ProcfsMemory(one.pid, writable=False)
    try:
        pmap = _run(ps.build_map(memory, limits=limits))
        try:
            reference = _reference_pointers(memory, pmap.areas)
            got = list(zip(pmap.values.tolist(), pmap.wheres.tolist()))
            count = pmap.count
        finally:
            pmap.close()
    finally:
        memory.close()
    assert len(got) == len(set(got)) == count > 100
    assert set(got) == reference
    assert got == sorted(got, key=lambda p: p[0])


# Areas with gaps of one byte and one page, touching areas and areas near 2**64.
_FINDER_AREAS = [(0x10000, 0x11000), (0x11000, 0x13000), (0x13001, 0x20000),
                 (0x21000, 0x22000), (0x7ffffffff000, 0x800000000000),
                 (2**64 - 0x2000, 2**64 - 0x1000)]
_EDGES = sorted({e + d for a in _FINDER_AREAS for e in a for d in (-1, 0, 1)
                 if 0 <= e + d < 2**64} | {0, 2**63, 2**64 - 1})


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_EDGES), st.integers(0, 2**64 - 1),
                          st.integers(0x10000 - 16, 0x22000 + 16)), max_size=300),
       st.integers(0, 1 << 20))
def test_finder_keeps_exactly_the_words_pointing_into_an_area(words, first):
    space = ps._Space.of(_FINDER_AREAS)
    bits = 24
    finder = ps._Finder(space, bits, 512)
    keys = finder.keys(np.array(words, np.uint64), first)
    got = sorted((int(k) >> bits, int(k) & ((1 << bits) - 1)) for k in keys.tolist())
    want = []
    for i, v in enumerate(words):
        for (lo, hi), packed in zip(_FINDER_AREAS, space.packed.tolist()):
            if lo <= v < hi:
                want.append((packed + v - lo, first + i))
    assert got == sorted(want)


# -- the search on a made-up map --------------------------------------------------------------

AREAS = [MemoryArea(0x1000, 0x2000, Perm.READ | Perm.WRITE, 0, "/lib/libgame.so"),
         MemoryArea(0x10000, 0x20000, Perm.READ | Perm.WRITE, 0, "[heap]")]


def _map(pairs):
    return ps.PointerMap.of_pointers(1, AREAS, [v for v, _ in pairs], [w for _, w in pairs])


def test_search_orders_by_depth_then_offsets_limits_and_counts():
    # 0x1008 -> 0x10100 (+0x20 -> 0x10120); 0x10120 -> 0x10200 (+0x8 = the address)
    # 0x1010 -> 0x10200 directly (+0x8); 0x1018 -> 0x101f0 (+0x18)
    pmap = _map([(0x10100, 0x1008), (0x10200, 0x10120), (0x10200, 0x1010),
                 (0x101f0, 0x1018), (0x10000, 0x1020)])
    result = ps.search(pmap, 0x10208, depth=3, max_offset=0x100)
    assert [p.text for p in result.paths] == [
        "libgame.so+0x10->+0x8", "libgame.so+0x18->+0x18", "libgame.so+0x8->+0x20->+0x8"]
    assert result.total == 3 and result.by_depth == {1: 2, 2: 1}
    limited = ps.search(pmap, 0x10208, depth=3, max_offset=0x100, limit=1)
    assert [p.text for p in limited.paths] == ["libgame.so+0x10->+0x8"]
    assert limited.total == 3
    assert ps.search(pmap, 0x10208, depth=1, max_offset=0x100).total == 2
    assert ps.search(pmap, 0x10208, depth=3, max_offset=0x8).total == 1   # +0x20 is too far
    cut = ps.search(pmap, 0x10208, depth=3, max_offset=0x100, max_nodes=0)
    assert cut.cut and cut.total == 2            # level 2 was not followed
    steps = ps.search_steps(pmap, 0x10208, depth=3, max_offset=0x100, max_edges=1)
    with pytest.raises(StopIteration) as stop:
        while True:
            next(steps)
    assert stop.value.value.cut
    for bad in ({"depth": 0}, {"depth": 17}, {"max_offset": -1}, {"limit": -1}):
        with pytest.raises(InvalidInput):
            ps.search(pmap, 0x10208, **bad)


def test_an_anonymous_area_after_a_module_is_static_only_up_to_its_bss_end():
    # /lib/libgame.so's .bss ends at 0x2100; the anonymous area after it
    # (0x2000-0x4000, merged by the kernel) holds more beyond.
    areas = [MemoryArea(0x1000, 0x2000, Perm.READ | Perm.WRITE, 0, "/lib/libgame.so"),
             MemoryArea(0x2000, 0x4000, Perm.READ | Perm.WRITE, 0, ""),
             MemoryArea(0x10000, 0x20000, Perm.READ | Perm.WRITE, 0, "[heap]")]
    pmap = ps.PointerMap.of_pointers(1, areas, [0x10200, 0x10200, 0x3000],
                                     [0x2008, 0x3010, 0x1010])
    ends = {"/lib/libgame.so": 0x2100}
    old = ps.search(pmap, 0x10208, depth=2, max_offset=0x100)
    assert {p.text for p in old.paths} == {"libgame.so+0x1008->+0x8", "libgame.so+0x2010->+0x8"}
    new = ps.search(pmap, 0x10208, depth=2, max_offset=0x100, static_end=ends.get)
    # 0x3010 is past the .bss: no base, but reached through libgame.so+0x10.
    assert [p.text for p in new.paths] == ["libgame.so+0x1008->+0x8",
                                           "libgame.so+0x10->+0x10->+0x8"]
    unknown = ps.search(pmap, 0x10208, depth=2, max_offset=0x100, static_end=lambda p: None)
    assert {p.text for p in unknown.paths} == {p.text for p in old.paths}


def test_a_cycle_ends():
    pmap = _map([(0x10100, 0x10100), (0x10100, 0x10108), (0x10108, 0x1008)])
    result = ps.search(pmap, 0x10100, depth=5, max_offset=0x10)
    assert result.total >= 1 and all(p.depth <= 5 for p in result.paths)


def _reference_search(pairs, address, depth, max_offset):
    """The search in plain Python: level by level, the pointers at most
    max_offset below an address of the level before; a pointer stored in
    libgame.so ends a path, any other location not seen at a lower level is
    followed. (total, by_depth, {path text})."""
    static = lambda w: 0x1000 <= w < 0x2000                   # noqa: E731
    frontier, seen = [address], {address}
    below = {address: [()]}                                   # offsets down to the address
    total, by_depth, texts = 0, {}, set()
    for d in range(1, depth + 1):
        nxt: dict[int, list[tuple[int, ...]]] = {}
        for a in frontier:
            for v, w in pairs:
                if 0 <= a - v <= max_offset:
                    tails = [(a - v, *t) for t in below[a]]
                    if static(w):
                        by_depth[d] = by_depth.get(d, 0) + len(tails)
                        total += len(tails)
                        texts |= {"libgame.so+%#x%s" % (w - 0x1000, "".join(
                            f"->+{o:#x}" for o in t)) for t in tails}
                    elif w not in seen:
                        nxt.setdefault(w, []).extend(tails)
        seen |= set(nxt)
        frontier, below = sorted(nxt), nxt
    return total, by_depth, texts


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0x10000, 0x10400), st.one_of(
    st.integers(0x1000 // 8, 0x1040 // 8), st.integers(0x10000 // 8, 0x10400 // 8))),
    max_size=40, unique_by=lambda p: p[1]),
    st.integers(0x10000, 0x10400), st.integers(1, 4), st.sampled_from([0, 8, 0x40, 0x100]))
def test_search_equals_a_plain_python_search(pairs, address, depth, max_offset):
    pairs = [(v, w * 8) for v, w in pairs]
    result = ps.search(_map(pairs), address, depth=depth, max_offset=max_offset,
                       limit=100_000)
    total, by_depth, texts = _reference_search(pairs, address, depth, max_offset)
    assert (result.total, result.by_depth) == (total, by_depth)
    assert {p.text for p in result.paths} == texts and not result.cut


# -- pointer-scan files -----------------------------------------------------------------------

def _file(paths):
    return ps.PointerScanFile(paths, 0x10208, Location(LocationKind.PSEUDO, "[heap]", 0x208),
                              5, 0x1000, len(paths), 42, 1234, True)


def test_save_and_load_round_trip_private(tmp_path):
    paths = [ps.PointerPath(Location(LocationKind.MODULE, "/lib/libgame.so", 0x10), (0x18, 8)),
             ps.PointerPath(Location.thread_stack(1, -0x40), (8,))]
    out = tmp_path / "scan.ptrscan"
    ps.save_results(_file(paths), str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    back = ps.load_results(str(out))
    assert back.paths == paths and back.address == 0x10208 and back.stacks
    assert back.location == Location(LocationKind.PSEUDO, "[heap]", 0x208)


def test_a_thread_stack_base_of_an_older_file_reads_as_the_grammars_form():
    doc = {"kind": "threadstack", "thread": 2, "offset": -0x1f8}
    path = ps.PointerPath.from_json({"base": doc, "offsets": [8]})
    assert path.base == Location.thread_stack(2, -0x1f8)
    assert path.text == "[stack#2]-0x1f8->+0x8"
    with pytest.raises(InvalidInput):
        ps.PointerPath.from_json({"base": {**doc, "offset": 8}, "offsets": [8]})
    with pytest.raises(InvalidInput):
        ps.PointerPath.from_json({"base": {**doc, "thread": -1}, "offsets": [8]})

@pytest.mark.parametrize("doc", [
    b"", b"[]", b"{}", b'{"format": "lainview-pointer-scan"}',
    b'{"format": "lainview-pointer-scan", "version": 99}',
    b'{"format": "lainview-pointer-scan", "version": 1, "paths": [{"base": 1}]}',
    b"\xff\xfe",
])
def test_malformed_files_are_invalid_input(tmp_path, doc):
    path = tmp_path / "bad"
    path.write_bytes(doc)
    with pytest.raises(InvalidInput):
        ps.load_results(str(path))


GOOD = json.loads(json.dumps({"format": ps.FILE_MAGIC, "version": 1, "pid": 42,
                              "start_ticks": 5, "address": 0x10208,
                              "location": {"kind": "pseudo", "name": "[heap]", "offset": 8},
                              "depth": 5, "max_offset": 4096, "total": 1, "stacks": False,
                              "paths": [{"base": {"kind": "module", "name": "/a", "offset": 1},
                                         "offsets": [24, 8]}]}))

_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                     lambda kids: st.lists(kids, max_size=3)
                     | st.dictionaries(st.text(max_size=8), kids, max_size=3), max_leaves=8)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(key=st.sampled_from(sorted(GOOD)), value=_json, raw=st.binary(max_size=64))
def test_loader_accepts_or_refuses_cleanly(key, value, raw):
    doc = dict(GOOD, **{key: value})
    for data in (json.dumps(doc).encode(), raw):
        try:
            loaded = ps.parse_results(data, "f")
        except InvalidInput:
            continue
        assert all(isinstance(p, ps.PointerPath) and 1 <= p.depth <= ps.MAX_DEPTH
                   for p in loaded.paths)


@settings(max_examples=200, deadline=None)
@given(path=st.fixed_dictionaries({"base": _json, "offsets": _json}))
def test_loader_paths_accept_or_refuse_cleanly(path):
    doc = dict(GOOD, paths=[path])
    try:
        ps.parse_results(json.dumps(doc).encode(), "f")
    except InvalidInput:
        pass


def test_interactive_requests_run_between_chunks_of_the_map(backend, runs):
    import concurrent.futures
    one = runs(1)
    target = backend.attach(one.pid).result()
    job = target.pointer_map(ps.PtrScanLimits(chunk=4096))
    while job.progress[0] == 0:                # the map is under way
        with pytest.raises(concurrent.futures.TimeoutError):
            job.result(timeout=0.001)
    read = target.read(one["value"], 8)
    assert read.result(timeout=60).require() == VALUE.to_bytes(8, "little")
    assert not job.done(), "the read waited for the whole map"
    done, total = job.progress
    assert 0 < done < total
    backend.close_pointer_map(job.result(timeout=120)).result()


def test_the_sync_api(runs, isolated_state):
    import lainview
    one = runs(1)
    with lainview.attach(one.pid, writable=False) as p:
        result = p.pointer_scan(hex(one["value"]), depth=2, limit=100_000)
        root = locate(one["root"], p.maps())
        chain = [x for x in result.paths if x.text == f"{root.text}->+0x18->+0x8"]
        assert chain and result.total >= len(result.paths)
        kept = p.pointer_rescan(result.paths, value=VALUE, value_type="i64")
        assert chain[0] in [k.path for k in kept]
        assert p.pointer_rescan(chain, one["value"])[0].address == one["value"]
        with pytest.raises(InvalidInput):
            p.pointer_rescan(chain, one["value"], value=VALUE, value_type="i64")
        with pytest.raises(InvalidInput):
            p.pointer_rescan(chain, value=VALUE)
        with pytest.raises(InvalidInput):
            p.pointer_scan(one["value"], depth=0)
