"""The pointer scanner: find the static pointer paths that lead to an address,
so a value that moves on every run (heap) is found again after a restart.

Three steps, as in Cheat Engine's pointer scanner:

1. **Pointer map** (:func:`build_map`, a bulk job): one chunked pass over
   the target's readable, writable areas through the process memory's bulk
   read (``ProcessMemory.read_into``, two reused page-aligned buffers). Every
   8-byte aligned value that points into a readable area is kept as one
   uint64 *key*, its value (packed: the readable areas laid end to end)
   above where it is stored (its index among the words read), so one
   ``numpy.sort`` orders the map by value (8 bytes a pointer; no argsort,
   which was 8x slower). A chunk's pointers are found by :class:`_Finder`
   (one unsigned range compare over the chunk, area lookups for the few
   survivors only) after each read; with ``PtrScanLimits.overlap`` on a
   worker thread instead (numpy releases the GIL; it holds no descriptor)
   while the backend thread reads the next chunk into the other buffer, which
   measured slower than inline on this 2-vCPU machine (0.29x against 0.34x
   the raw read at load 2), so it is off by default; the keys go into one buffer of
   ``PtrScanLimits.memory`` bytes (its pages touched as keys arrive) sorted
   in place at the end, so
   the map costs its own size, no copy. Memory stays bounded: past
   ``PtrScanLimits.memory`` bytes the keys are spilled, partitioned by key
   range, to 0600 files in a private directory (``tempfile.mkdtemp``, as
   ``scan.first_scan`` makes for its snapshots), sorted one partition at a
   time into one file that is mapped read-only (``numpy.memmap``).
   ``memory_bytes`` / ``disk_bytes`` say what the map costs.
2. **Search** (:func:`search`): backwards from the target address, up to
   ``depth`` dereferences; at each level, every pointer whose value is at
   most ``max_offset`` bytes below an address of the level before is an
   edge. A pointer stored in a *static base* ends a path: a module's areas
   (file-backed, including the anonymous ``.bss`` tail the location grammar
   counts as part of the module: :func:`locations.locate`, but only as far
   as the ELF's writable segments reach, ``static_end``), and optionally
   thread stacks (the grammar's ``[stack#N]-0x1f8``: an offset below the
   stack's top, :func:`thread_stacks`).
   An address reached again at a deeper level is not followed again (its
   paths would only be longer). Paths are counted without being listed
   (``SearchResult.total``), and at most ``limit`` are listed, ordered by
   depth, then by the sum of their offsets.
3. **Rescan** (:func:`rescan`, a bulk job): resolve each saved path in a live
   process now and keep the ones that lead to a given address, or to an
   address holding a given value.

Pointer-scan files (:func:`save_results`, :func:`load_results`) hold the
results and what a rescan needs (the target's location, the settings).
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Generator, Iterable, Sequence

import numpy as np

from .errors import FaultError, InvalidInput, LainviewError, TargetExited, Unresolved
from .files import atomic_private_file, load_json, read_input_file
from .locations import Location, LocationKind, StaticEnd, locate, resolve
from .memory import MemoryArea, Perm, page_buffer
from .process_memory import ProcessMemory
from .scan import steady_malloc
from .processes import start_ticks as _process_start, thread_stack_lookup, thread_stacks
from . import value_types

CHUNK = 1 << 20
POINTER = 8
DEFAULT_DEPTH = 5
DEFAULT_MAX_OFFSET = 0x1000
DEFAULT_LIMIT = 1000
MAX_DEPTH = 16
_PARTS = 16                         # key ranges the spilled keys are partitioned into
FILE_MAGIC = "lainview-pointer-scan"
FILE_VERSION = 1
MAX_FILE = 32 << 20                 # a pointer-scan file (100,000 paths take about 10 MiB)
MAX_LISTED = 100_000                # paths listed, saved and rescanned at most (about 1 KiB
                                    # of memory each while rescanned)
RESCAN_BATCH = 256                  # paths resolved per step of a rescan (a few ms)
MAX_NODES = 2_000_000                # addresses followed per level of a search
MAX_EDGES = 8_000_000                # pointers kept per level of a search (~40 bytes each)
SEARCH_SLICE = 1 << 15               # addresses of a level searched per step


@dataclass(frozen=True, slots=True)
class PtrScanLimits:
    """``chunk``: bytes read per step (interactive requests wait at most one).
    ``memory``: bytes of the map (8 a pointer) kept in memory before it is
    spilled to files. ``max_nodes``: addresses followed per level of a
    search (beyond it the search is cut, and says so). ``overlap``: find
    a chunk's pointers on a worker thread while the next chunk is read
    (False, the default: both on the calling thread, one after the other)."""

    chunk: int = CHUNK
    memory: int = 256 << 20
    max_nodes: int = MAX_NODES
    overlap: bool = False


# -- the map ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Space:
    """Addresses packed into few bits: the ranges of ``starts``/``ends``
    laid end to end (``packed[k]``: where range k begins), so an address in
    one of them is ``packed[k] + (address - starts[k])``."""

    starts: np.ndarray
    ends: np.ndarray
    packed: np.ndarray

    @classmethod
    def of(cls, ranges: Sequence[tuple[int, int]]) -> "_Space":
        starts = np.array([a for a, _ in ranges], np.uint64)
        ends = np.array([b for _, b in ranges], np.uint64)
        packed = np.concatenate(([0], np.cumsum(ends - starts)[:-1])).astype(np.uint64)
        return cls(starts, ends, packed)

    @property
    def size(self) -> int:
        return int(self.packed[-1] + (self.ends[-1] - self.starts[-1])) if len(self.starts) else 0

    def pack(self, addresses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(packed addresses, whether each is inside a range)."""
        k = np.searchsorted(self.starts, addresses, "right").astype(np.int64) - 1
        ok = k >= 0
        k[~ok] = 0
        ok &= addresses < self.ends[k]
        return self.packed[k] + (addresses - self.starts[k]), ok

    def unpack(self, packed: np.ndarray) -> np.ndarray:
        k = np.searchsorted(self.packed, packed, "right") - 1
        out: np.ndarray = self.starts[k] + (packed - self.packed[k])
        return out


@dataclass(slots=True)
class PointerMap:
    """Every pointer found in the target, as sorted uint64 *keys*: the
    value (packed into the readable areas laid end to end) above the
    position where it is stored (its index among the 8-byte words read),
    so one sort orders the map by value. ``keys`` are in memory, or a
    read-only memory map of a file in ``workdir`` (8 bytes a pointer).
    ``areas`` is the target's map when it was built. Close it
    (:meth:`close`) to delete its files."""

    pid: int
    start_ticks: int | None
    areas: list[MemoryArea]
    keys: np.ndarray
    targets: _Space                  # what a pointer may point into (readable areas)
    read: _Space                     # what was read (scanned_areas), as a packed word index x 8
    where_bits: int
    scanned_bytes: int = 0
    unreadable_bytes: int = 0
    workdir: str | None = None
    spilled: bool = False

    @property
    def count(self) -> int:
        return len(self.keys)

    @property
    def memory_bytes(self) -> int:
        """Bytes of the map held in this process's memory (0 once spilled:
        the file is mapped, paged in on demand)."""
        return 0 if self.spilled else int(self.keys.nbytes)

    @property
    def disk_bytes(self) -> int:
        return int(self.keys.nbytes) if self.spilled else 0

    @classmethod
    def of_pointers(cls, pid: int, areas: list[MemoryArea], values: Iterable[int],
                    wheres: Iterable[int]) -> "PointerMap":
        """A map of the pointers given (``values[i]`` stored at ``wheres[i]``,
        inside :func:`scanned_areas` of ``areas``), as :func:`build_map`
        would keep them. Raises InvalidInput for a pointer outside them."""
        targets = _Space.of(_merged([a for a in areas if a.readable]))
        read = _Space.of([(a.start, a.end) for a in scanned_areas(areas)])
        bits = max(1, (read.size // POINTER).bit_length())
        v, ok_v = targets.pack(np.array(list(values), np.uint64))
        w, ok_w = read.pack(np.array(list(wheres), np.uint64))
        if not (ok_v.all() and ok_w.all()):
            raise InvalidInput("a pointer outside the areas of the map")
        keys = np.sort((v << np.uint64(bits)) | (w // np.uint64(POINTER)))
        return cls(pid, None, areas, keys, targets, read, bits)

    def _decode(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values = self.targets.unpack(keys >> np.uint64(self.where_bits))
        words = keys & np.uint64((1 << self.where_bits) - 1)
        return values, self.read.unpack(words * np.uint64(POINTER))

    @property
    def values(self) -> np.ndarray:
        """Every pointer's value (uint64, ascending): decodes the whole map."""
        return self._decode(np.asarray(self.keys))[0]

    @property
    def wheres(self) -> np.ndarray:
        """Where each of :attr:`values` is stored."""
        return self._decode(np.asarray(self.keys))[1]

    def pointing_below(self, addresses: np.ndarray, max_offset: int
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The pointers whose value is at most ``max_offset`` bytes at or
        below one of ``addresses`` (sorted uint64): (index into
        ``addresses``, value, where) of each."""
        dst, values, words = self._pointing_below(addresses, max_offset)
        return dst, values, self.read.unpack(words * np.uint64(POINTER))

    def _pointing_below(self, addresses: np.ndarray, max_offset: int
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`pointing_below` with where as the word index in the map's
        read space (``where_bits`` bits; ascending with the address)."""
        packed, ok = self.targets.pack(addresses)
        m = np.uint64(max_offset)
        low = np.where(packed >= m, packed - m, np.uint64(0))
        bits = np.uint64(self.where_bits)
        lo = np.searchsorted(self.keys, low << bits, "left")
        hi = np.searchsorted(self.keys, (packed << bits) | np.uint64((1 << self.where_bits) - 1),
                             "right")
        counts = np.where(ok, hi - lo, 0).astype(np.int64)
        dst = np.repeat(np.arange(len(addresses)), counts)
        idx = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(
            np.cumsum(counts) - counts - lo.astype(np.int64), counts)
        keys = np.asarray(self.keys[idx])
        values = self.targets.unpack(keys >> bits)
        words = keys & np.uint64((1 << self.where_bits) - 1)
        # Packed ranges touch where the areas do not: keep real distances only.
        near = (values <= addresses[dst]) & (addresses[dst] - values <= m)
        return dst[near], values[near], words[near]

    def close(self) -> None:
        self.keys = np.empty(0, np.uint64)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


def scanned_areas(areas: Sequence[MemoryArea]) -> list[MemoryArea]:
    """The areas a pointer map reads: readable and writable (where programs
    keep pointers they change), never I/O or userfaultfd areas."""
    return [a for a in areas if a.readable and a.perms & Perm.WRITE]


def _merged(areas: Sequence[MemoryArea]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a in areas:
        if out and out[-1][1] == a.start:
            out[-1] = (out[-1][0], a.end)
        else:
            out.append((a.start, a.end))
    return out


class _Keys:
    """Keys collected chunk by chunk into one buffer of ``budget`` bytes at
    most (allocated once; its pages are touched only as keys arrive, so memory
    grows with the map), sorted in place at the end: no concatenation,
    no second copy. Beyond ``budget`` they are spilled, partitioned by key
    range, to files in ``workdir``."""

    def __init__(self, workdir: str, budget: int, most: int):
        """``most``: keys there can be at most (one a word read)."""
        self.workdir, self.budget = workdir, budget
        self.buffer = np.empty(max(min(budget // POINTER, most), 1), np.uint64)
        self.used = 0
        self.bounds: np.ndarray | None = None       # key-range bounds once spilled
        self.files: list[str] = []

    def add(self, keys: np.ndarray) -> None:
        """Take ``keys`` (they may be sorted in place)."""
        if self.used + len(keys) > len(self.buffer):
            if self.used:
                self._spill(self.buffer[:self.used])
                self.used = 0
            if len(keys) > len(self.buffer):        # one chunk's keys beyond the budget
                self._spill(keys)
                return
        self.buffer[self.used:self.used + len(keys)] = keys
        self.used += len(keys)

    def _spill(self, keys: np.ndarray) -> None:
        """Sort ``keys`` in place and append them to the partition files."""
        if self.bounds is None:
            sample = keys[::max(1, len(keys) // 65536)]
            qs = np.quantile(sample, np.linspace(0, 1, _PARTS + 1)[1:-1])
            self.bounds = np.unique(qs.astype(np.uint64))
            self.files = [os.path.join(self.workdir, f"part{i}.keys")
                          for i in range(len(self.bounds) + 1)]
        keys.sort()
        cuts = np.searchsorted(keys, self.bounds, "left")
        for i, name in enumerate(self.files):
            piece = keys[cuts[i - 1] if i else 0:cuts[i] if i < len(cuts) else len(keys)]
            if len(piece):
                fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
                try:
                    os.write(fd, piece.tobytes())
                finally:
                    os.close(fd)

    def finish(self) -> tuple[np.ndarray, bool]:
        """(the keys, sorted; whether they were spilled to a file)."""
        if self.bounds is None:
            keys = self.buffer[:self.used]
            keys.sort()
            return keys, False
        if self.used:
            self._spill(self.buffer[:self.used])
            self.used = 0
        self.buffer = np.empty(0, np.uint64)
        total = sum(os.path.getsize(f) for f in self.files if os.path.exists(f)) // POINTER
        path = os.path.join(self.workdir, "keys.u64")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            for name in self.files:              # ranges in order: sorted one at a time
                if os.path.exists(name):
                    part = np.fromfile(name, np.uint64)
                    os.unlink(name)
                    part.sort()
                    os.write(fd, part.tobytes())
                    del part
        finally:
            os.close(fd)
        if not total:
            return np.empty(0, np.uint64), True
        return np.memmap(path, np.uint64, "r", shape=(total,)), True


def build_map(memory: ProcessMemory, *, limits: PtrScanLimits = PtrScanLimits(),
              start_ticks: int | None = None) -> Generator[int, None, PointerMap]:
    """A bulk job: the target's pointer map. Yields bytes read so far (out of
    the sum of :func:`scanned_areas` sizes); returns a :class:`PointerMap`.
    A pointer is an 8-byte aligned value inside a readable area. Raises
    TargetExited (the target exited: nothing is left behind), Cancelled
    (through the backend thread), InvalidInput (nothing to read, or a map
    too large to pack a pointer in 64 bits)."""
    areas = memory.areas(refresh=True)
    chosen = scanned_areas(areas)
    if not chosen:
        raise InvalidInput(f"process {memory.pid} has no readable, writable areas to scan")
    targets = _Space.of(_merged([a for a in areas if a.readable]))
    read = _Space.of([(a.start, a.end) for a in chosen])
    where_bits = max(1, (read.size // POINTER).bit_length())
    if targets.size.bit_length() + where_bits > 64:
        raise InvalidInput(f"process {memory.pid} maps too much readable memory "
                           f"({targets.size >> 30} GiB) for a pointer map")
    if start_ticks is None:
        start_ticks = _process_start(memory.pid)
    steady_malloc()
    workdir = tempfile.mkdtemp(prefix="lainview-ptrscan-")
    try:
        return (yield from _build(memory, areas, chosen, targets, read, where_bits, limits,
                                  start_ticks, workdir))
    except BaseException:
        # Cancelled, failed or the target exited: no file is left behind.
        shutil.rmtree(workdir, ignore_errors=True)
        raise


class _Finder:
    """Finds the pointers among 8-byte words read from the target, as map
    keys (the inner loop of :func:`build_map`; about 4 numpy passes over a
    chunk, no temporaries the size of a chunk).

    Everything is relative to ``low`` (the first readable address):
    ``word - low`` is computed in place, and one unsigned compare
    ``< high - low`` (negative differences wrap to huge values) keeps the
    values in [low, high), the only ones that can point into a readable
    area. Only those few are looked up among the areas
    (``searchsorted``), packed and turned into keys."""

    def __init__(self, targets: _Space, where_bits: int, words: int):
        self.low = np.uint64(targets.starts[0])
        self.span = np.uint64(int(targets.ends[-1]) - int(targets.starts[0]))
        self.starts = targets.starts - self.low
        zero = np.zeros(1, np.uint64)
        # By 1-based range index (searchsorted "right" of an offset >= 0 is >= 1).
        self.ends1 = np.concatenate((zero, targets.ends - self.low))
        self.shift1 = np.concatenate((zero, targets.starts - targets.packed - self.low))
        self.bits = np.uint64(where_bits)
        self.mask = np.empty(words, bool)

    def keys(self, words: np.ndarray, first: int) -> np.ndarray:
        """The keys of the pointers among ``words`` (uint64; overwritten),
        the first of which is word ``first`` of the map's read space:
        (packed value << where_bits) | word index, unsorted."""
        np.subtract(words, self.low, out=words)
        mask = self.mask[:len(words)]
        np.less(words, self.span, out=mask)
        idx = np.flatnonzero(mask)
        offsets = words[idx]
        k = np.searchsorted(self.starts, offsets, "right")
        inside = offsets < self.ends1[k]
        offsets -= self.shift1[k]                       # now the packed value
        if not inside.all():
            offsets, idx = offsets[inside], idx[inside]
        where = idx.view(np.uint64)
        where += np.uint64(first)
        offsets <<= self.bits
        offsets |= where
        return offsets


def _build(memory: ProcessMemory, areas: list[MemoryArea], chosen: list[MemoryArea],
           targets: _Space, read: _Space, where_bits: int, limits: PtrScanLimits,
           start_ticks: int | None, workdir: str) -> Generator[int, None, PointerMap]:
    chunk = max(limits.chunk - limits.chunk % 4096, 4096)
    raws = (page_buffer(chunk), page_buffer(chunk))
    words = tuple(np.frombuffer(raw, np.uint8).view("<u8") for raw in raws)
    finder = _Finder(targets, where_bits, len(words[0]))
    keys = _Keys(workdir, limits.memory, read.size // POINTER)
    done = unreadable = 0
    # Chunk N's pointers are found on a worker thread (it holds no
    # descriptor: only numpy, which releases the GIL) while this thread
    # reads chunk N+1 into the other buffer (process_vm_readv releases it
    # too); the keys are kept (and spilled) here. At most one chunk is in
    # flight, so a request served between chunks waits for one at most.
    worker = ThreadPoolExecutor(1, "lainview-ptrmap") if limits.overlap else None
    pending: Future[np.ndarray] | None = None
    try:
        n_chunk = 0
        for area, packed_start in zip(chosen, read.packed):
            for pos in range(area.start, area.end, chunk):
                n = min(chunk, area.end - pos)
                slot = n_chunk & 1
                n_chunk += 1
                holes = memory.read_into(pos, memoryview(raws[slot])[:n], areas=areas)
                unreadable += sum(h.size for h in holes)
                first = (int(packed_start) + pos - area.start) // POINTER
                if worker is None:
                    found = finder.keys(words[slot][:n // POINTER], first)
                    if len(found):
                        keys.add(found)
                else:
                    if pending is not None:
                        found = pending.result()
                        if len(found):
                            keys.add(found)
                    pending = worker.submit(finder.keys, words[slot][:n // POINTER], first)
                done += n
                yield done
        if pending is not None:
            found, pending = pending.result(), None
            if len(found):
                keys.add(found)
    finally:
        if worker is not None:
            worker.shutdown(wait=True, cancel_futures=True)
    sorted_keys, spilled = keys.finish()
    return PointerMap(pid=memory.pid, start_ticks=start_ticks, areas=areas, keys=sorted_keys,
                      targets=targets, read=read, where_bits=where_bits, scanned_bytes=done,
                      unreadable_bytes=unreadable,
                      workdir=workdir if spilled else _drop(workdir), spilled=spilled)


def _drop(workdir: str) -> str | None:
    """Delete ``workdir`` (nothing was spilled into it); None."""
    shutil.rmtree(workdir, ignore_errors=True)
    return None


# -- bases ------------------------------------------------------------------------------------

Base = Location          # a static base: a module's or a thread stack's location


@dataclass(frozen=True, slots=True)
class _Statics:
    """Per area of the map: what a pointer stored there is based on."""

    starts: np.ndarray
    static: np.ndarray                 # bool per area
    bases: list[Callable[[int], Base] | None]

    def where(self, addresses: np.ndarray) -> np.ndarray:
        k = np.searchsorted(self.starts, addresses, "right") - 1
        return self.static[k]

    def base(self, address: int) -> Base:
        k = int(np.searchsorted(self.starts, np.uint64(address), "right")) - 1
        maker = self.bases[k]
        assert maker is not None
        return maker(address)


def _stack_base(thread: int, top: int, address: int) -> Base:
    return Location.thread_stack(thread, address - top)


def _module_base(path: str, base: int, address: int) -> Base:
    return Location(LocationKind.MODULE, path, address - base)



def _statics(areas: list[MemoryArea], stacks: Sequence[MemoryArea | None] | None,
             static_end: StaticEnd | None = None) -> _Statics:
    """What each area is based on. An anonymous area right after a module's
    writable data is its ``.bss`` (locate()'s rule) only up to where the
    module's writable segments end (``static_end``, where known): memory
    mapped beyond (even merged into the same area) is no static base."""
    starts: list[int] = []
    bases: list[Callable[[int], Base] | None] = []
    stack_of = {a.start: n for n, a in enumerate(stacks or ()) if a is not None}
    module_base: dict[str, int] = {}        # a module's base, by path (locate's rule)
    ends: dict[str, int | None] = {}
    for n, area in enumerate(areas):
        maker: Callable[[int], Base] | None = None
        end = area.end
        if area.start in stack_of:
            maker = functools.partial(_stack_base, stack_of[area.start], area.end)
        elif (area.path and not area.is_pseudo) or (
                not area.path and n and areas[n - 1].end == area.start
                and areas[n - 1].path and not areas[n - 1].is_pseudo):
            # A module's area, or what may be its .bss: locate() says which.
            known = module_base.get(area.file_path) if area.path else None
            if known is None:
                loc = locate(area.start, areas)
                if loc.kind is LocationKind.MODULE:
                    known = module_base.setdefault(loc.name, area.start - loc.offset)
                    maker = functools.partial(_module_base, loc.name, known)
                    if not area.path and static_end is not None:
                        owner = areas[n - 1].file_path      # the module, as the map names it
                        if owner not in ends:
                            ends[owner] = static_end(owner)
                        known_end = ends[owner]
                        if known_end is not None:
                            end = max(area.start, min(area.end, known_end))
            else:
                maker = functools.partial(_module_base, area.file_path, known)
        if end > area.start:
            starts.append(area.start)
            bases.append(maker)
        if end < area.end:                   # the rest is not the module's
            starts.append(end)
            bases.append(None)
    return _Statics(np.array(starts, np.uint64),
                    np.array([b is not None for b in bases] + [False], bool), bases)


# -- search -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PointerPath:
    """A pointer path: resolve ``base``, then for each offset: address =
    (8-byte pointer read at address) + offset. ``offsets`` has one entry per
    dereference (the depth)."""

    base: Base
    offsets: tuple[int, ...]

    @property
    def depth(self) -> int:
        return len(self.offsets)

    @property
    def location(self) -> Location:
        """The path as a location of the grammar (``Location.steps``), which
        the watch list, bookmarks and patches resolve on every refresh."""
        return replace(self.base, steps=self.offsets)

    @property
    def text(self) -> str:
        """``libgame.so+0x1f40->+0x18->+0x8``, ``[stack#1]-0x1f8->+0x8``
        (the location grammar's printer)."""
        return self.location.text

    def to_json(self) -> dict[str, Any]:
        return {"base": self.base.to_json(), "offsets": list(self.offsets)}

    @classmethod
    def from_json(cls, raw: object) -> "PointerPath":
        if not isinstance(raw, dict):
            raise InvalidInput("a pointer path must be an object")
        offsets = raw.get("offsets")
        if not isinstance(offsets, list) or not 1 <= len(offsets) <= MAX_DEPTH or not all(
                isinstance(o, int) and not isinstance(o, bool) and -(1 << 63) <= o < 1 << 63
                for o in offsets):
            raise InvalidInput(f"a pointer path needs 1 to {MAX_DEPTH} integer offsets")
        return cls(_base_from_json(raw.get("base")), tuple(offsets))


def _base_from_json(raw: object) -> Base:
    if isinstance(raw, dict) and raw.get("kind") == "threadstack":
        # Written before the grammar had [stack#N]: thread index, offset.
        thread, offset = raw.get("thread"), raw.get("offset")
        if not (isinstance(thread, int) and not isinstance(thread, bool)
                and isinstance(offset, int) and not isinstance(offset, bool)
                and -(1 << 32) < offset <= 0):
            raise InvalidInput("a thread-stack base needs a thread index and an offset "
                               "at or below the stack's top")
        return Location.thread_stack(thread, offset)
    loc = Location.from_json(raw)
    if loc.kind is LocationKind.KERNEL or loc.steps:
        raise InvalidInput("a pointer path's base is a module, area or thread stack "
                           "location without steps")
    return loc


@dataclass(slots=True)
class SearchResult:
    """What :func:`search` found: ``paths`` (at most ``limit``, by depth then
    offsets), ``total`` paths in all, ``by_depth[d]`` paths of depth d,
    ``cut``: a level had more than ``max_nodes`` addresses and the rest were
    not followed (there are more paths than counted)."""

    address: int
    depth: int
    max_offset: int
    paths: list[PointerPath]
    total: int
    by_depth: dict[int, int]
    cut: bool = False
    stacks: bool = False
    location: Location | None = None      # where ``address`` was (locations.locate)
    map_count: int = 0                    # pointers in the map searched
    map_memory_bytes: int = 0
    map_disk_bytes: int = 0
    scanned_bytes: int = 0


@dataclass(slots=True)
class _Level:
    nodes: np.ndarray          # addresses reached at this level (sorted unique)
    e_dst: np.ndarray          # per edge into the level below: index of its address there
    e_off: np.ndarray          # offset of the edge
    e_src: np.ndarray          # index into ``nodes`` (-1: a static base or not followed)
    e_where: np.ndarray        # where the pointer is stored
    static: np.ndarray         # bool per edge
    counts: np.ndarray | None = None   # paths from each node down to the address


def search_settings(depth: int, max_offset: int, limit: int) -> None:
    """Raises InvalidInput for search settings out of range."""
    for name, value, lo, hi in (("depth", depth, 1, MAX_DEPTH),
                                ("max offset", max_offset, 0, 1 << 20),
                                ("limit", limit, 0, MAX_LISTED)):
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise InvalidInput(f"{name} must be {lo:#x} to {hi:#x}, not {value:#x}"
                               if name == "max offset" and isinstance(value, int) else
                               f"{name} must be {lo} to {hi}, not {value}")


def search(pmap: PointerMap, address: int, *, depth: int = DEFAULT_DEPTH,
           max_offset: int = DEFAULT_MAX_OFFSET, limit: int = DEFAULT_LIMIT,
           stacks: Sequence[MemoryArea | None] | None = None,
           max_nodes: int = MAX_NODES, static_end: StaticEnd | None = None) -> SearchResult:
    """The pointer paths from static bases to ``address`` in ``pmap``
    (module areas, their ``.bss`` only up to ``static_end`` where it is
    given and knows the module, and the thread ``stacks`` given, see
    :func:`thread_stacks`). ``depth``: at most this many dereferences (1 to
    16); ``max_offset``: bytes (0 to 2**20) a pointer may point below an
    address on the path; ``limit``: paths listed (0: none, only counted).
    Raises InvalidInput for settings out of range."""
    steps = search_steps(pmap, address, depth=depth, max_offset=max_offset, limit=limit,
                         stacks=stacks, max_nodes=max_nodes, static_end=static_end)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            result: SearchResult = stop.value
            return result


def search_steps(pmap: PointerMap, address: int, *, depth: int = DEFAULT_DEPTH,
                 max_offset: int = DEFAULT_MAX_OFFSET, limit: int = DEFAULT_LIMIT,
                 stacks: Sequence[MemoryArea | None] | None = None,
                 max_nodes: int = MAX_NODES, max_edges: int = MAX_EDGES,
                 static_end: StaticEnd | None = None
                 ) -> Generator[int, None, SearchResult]:
    """:func:`search` as a bulk job: one step per slice of
    ``SEARCH_SLICE`` addresses of a level (yields the map's scanned bytes,
    for a progress bar that stays full). ``max_nodes`` addresses are
    followed per level and ``max_edges`` pointers kept per level (about 40
    bytes each) at most: beyond them the search is cut, and says so."""
    search_settings(depth, max_offset, limit)
    statics = _statics(pmap.areas, stacks, static_end)
    levels: list[_Level] = []
    frontier = np.array([address], np.uint64)
    seen = frontier
    cut = False
    for _ in range(depth):
        if not len(frontier):
            break
        # A slice of the frontier at a time, so interactive requests wait
        # for one slice at most; too many edges cut the search.
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        edges = 0
        for lo in range(0, len(frontier), SEARCH_SLICE):
            into, v, w = pmap._pointing_below(frontier[lo:lo + SEARCH_SLICE], max_offset)
            parts.append((into + lo, v, w))
            edges += len(into)
            if edges > max_edges:
                cut = True
                break
            yield pmap.scanned_bytes
        dst, values, words = (np.concatenate([p[i] for p in parts]) for i in range(3))
        total = len(dst)
        off = (frontier[dst] - values).astype(np.int64)
        # Everything known of a pointer's location (static, seen, its node)
        # is worked out once per distinct location, in ascending order:
        # sorting (word << edge bits | edge) groups the edges by location
        # with one plain sort (no argsort, no binary searches of big arrays).
        in_order, edge = _group(words, pmap.where_bits)
        first = np.empty(total, bool)
        first[:1] = True
        np.not_equal(in_order[1:], in_order[:-1], out=first[1:])
        group = np.cumsum(first) - 1                # each sorted edge's location
        where = pmap.read.unpack(in_order[first] * np.uint64(POINTER))
        static_at = statics.where(where)
        follow = ~static_at & ~_member(where, seen)
        nodes = where[follow]                       # sorted, unique
        if len(nodes) > max_nodes:
            cut = True
            nodes = nodes[:max_nodes]
        node = np.cumsum(follow) - 1
        node[~follow | (node >= len(nodes))] = -1
        src = np.empty(total, np.int64)
        src[edge] = node[group]
        wheres = np.empty(total, np.uint64)
        wheres[edge] = where[group]
        static = np.empty(total, bool)
        static[edge] = static_at[group]
        levels.append(_Level(nodes, dst, off, src, wheres, static))
        seen = _sorted_unique(np.concatenate((seen, nodes)))
        frontier = nodes
    # Paths from each node down to the address, level by level.
    below: np.ndarray = np.ones(1, np.float64)
    by_depth: dict[int, int] = {}
    for d, level in enumerate(levels, 1):
        weight = below[level.e_dst]
        by_depth[d] = int(weight[level.static].sum())
        inner = level.e_src >= 0
        level.counts = np.bincount(level.e_src[inner], weights=weight[inner],
                                   minlength=len(level.nodes))
        below = level.counts
    paths = _list_paths(levels, statics, limit)
    return SearchResult(address, depth, max_offset, paths, sum(by_depth.values()),
                        {d: n for d, n in by_depth.items() if n}, cut, stacks is not None,
                        locate(address, pmap.areas), pmap.count, pmap.memory_bytes,
                        pmap.disk_bytes, pmap.scanned_bytes)


def _group(words: np.ndarray, where_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """(``words`` ascending, the index of each in ``words``; equal words in
    index order). One sort of (word << index bits | index) where it fits in
    64 bits, a stable argsort where it does not."""
    index_bits = max(1, len(words).bit_length())
    if where_bits + index_bits <= 64:
        keys = (words << np.uint64(index_bits)) | np.arange(len(words), dtype=np.uint64)
        keys.sort()
        return keys >> np.uint64(index_bits), (keys & np.uint64((1 << index_bits) - 1)
                                               ).astype(np.int64)
    order = np.argsort(words, kind="stable")
    return words[order], order


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    """``np.unique`` by sorting (numpy's hash-based unique was 10x slower here)."""
    a = np.sort(a)
    if len(a) < 2:
        return a
    keep = np.empty(len(a), bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def _member(a: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Whether each of ``a`` is in ``sorted_set`` (sorted, unique)."""
    if not len(sorted_set):
        return np.zeros(len(a), bool)
    pos = np.minimum(np.searchsorted(sorted_set, a), len(sorted_set) - 1)
    return np.asarray(sorted_set[pos] == a)


def _list_paths(levels: list[_Level], statics: _Statics, limit: int) -> list[PointerPath]:
    """Up to ``limit`` paths, shortest first; within a depth, smallest sum
    of offsets first."""
    out: list[PointerPath] = []
    # Edges out of each node, grouped: per level, edge indexes sorted by src.
    groups = []
    for level in levels:
        order = np.argsort(level.e_src, kind="stable")
        groups.append((order, level.e_src[order]))

    def tails(d: int, node: int) -> Iterable[tuple[int, list[int]]]:
        """(sum, offsets from the node at level d down to the address)."""
        if d == 0:
            yield 0, []
            return
        order, srcs = groups[d - 1]
        a, b = np.searchsorted(srcs, node, "left"), np.searchsorted(srcs, node, "right")
        level = levels[d - 1]
        for e in order[a:b]:
            off = int(level.e_off[e])
            for s, rest in tails(d - 1, int(level.e_dst[e])):
                yield s + off, [off, *rest]

    for d, level in enumerate(levels, 1):
        if len(out) >= limit:
            break
        found: list[tuple[int, tuple[int, ...], int]] = []
        edges = np.flatnonzero(level.static)
        # Cheapest edges first, so the best paths are listed when there are too many.
        edges = edges[np.argsort(level.e_off[edges], kind="stable")]
        want = limit - len(out)
        for e in edges:
            off = int(level.e_off[e])
            for s, rest in tails(d - 1, int(level.e_dst[e])):
                found.append((s + off, (off, *rest), int(level.e_where[e])))
                if len(found) >= 4 * want:
                    break
            if len(found) >= 4 * want:
                break
        found.sort(key=lambda f: (f[0], f[1], f[2]))
        seen: set[tuple[str, tuple[int, ...]]] = set()
        for _, offsets, where in found:
            base = statics.base(where)
            key = (base.text, offsets)
            if key in seen:
                continue
            seen.add(key)
            out.append(PointerPath(base, offsets))
            if len(out) >= limit:
                break
    return out


# -- resolving paths in a live process --------------------------------------------------------

class _Resolver:
    """Resolves pointer paths in one process now, reading each pointer once."""

    def __init__(self, memory: ProcessMemory):
        self.memory = memory
        self.areas = memory.areas(refresh=True)
        self.thread_stack = thread_stack_lookup(memory.pid, self.areas)
        self._cache: dict[int, int | None] = {}
        self._bases: dict[str, int | None] = {}
        self.exited: TargetExited | None = None

    def read_pointer(self, address: int) -> int:
        """The pointer stored at ``address`` (read once per rescan). Raises
        FaultError where it cannot be read."""
        if address not in self._cache:
            try:
                data = self.memory.read(address, POINTER, areas=self.areas).require("read")
                self._cache[address] = int.from_bytes(data, "little")
            except TargetExited as exc:
                self.exited = exc
                raise
            except LainviewError:
                self._cache[address] = None
        got = self._cache[address]
        if got is None:
            raise FaultError(f"{address:#x} cannot be read", address=address, op="read")
        return got

    def base(self, base: Base) -> int | None:
        text = base.text
        if text not in self._bases:
            self._bases[text] = self._base(base)
        return self._bases[text]

    def _base(self, base: Base) -> int | None:
        try:
            return resolve(base, self.areas, POINTER, pid=self.memory.pid,
                           thread_stack=self.thread_stack)
        except Unresolved:
            return None

    def resolve(self, path: PointerPath) -> int | None:
        """The address ``path`` leads to now, or None where it breaks. The
        chain is followed by the grammar's resolver (``locations.resolve``)
        from the base's address. Raises TargetExited."""
        address = self.base(path.base)
        if address is None:
            return None
        chain = Location(LocationKind.ABSOLUTE, "", address, steps=path.offsets)
        try:
            return resolve(chain, self.areas, 1, pid=self.memory.pid,
                           read_pointer=self.read_pointer)
        except Unresolved:
            if self.exited is not None:
                raise self.exited from None
            return None


@dataclass(frozen=True, slots=True)
class RescanTarget:
    """What a path must lead to: ``address``, or an address holding
    ``value`` (its bytes ``data``) of registered value type ``type_name``."""

    address: int | None = None
    type_name: str | None = None
    data: bytes | None = None

    @classmethod
    def holding(cls, type_name: str, value: object, big_endian: bool = False) -> "RescanTarget":
        """Raises InvalidInput for an unknown type or a value it cannot hold."""
        kind = value_types.get(type_name)
        return cls(None, type_name, kind.encode(kind.parse(value), big_endian))


@dataclass(frozen=True, slots=True)
class Resolved:
    path: PointerPath
    address: int


def rescan(memory: ProcessMemory, paths: Sequence[PointerPath], target: RescanTarget, *,
           batch: int = RESCAN_BATCH) -> Generator[int, None, list[Resolved]]:
    """A bulk job: the ``paths`` that, resolved in ``memory``'s process now,
    lead to ``target`` (with the address each leads to). Yields paths done."""
    if (target.address is None) == (target.data is None):
        raise InvalidInput("a rescan keeps paths leading to an address or to a value: "
                           "give one")
    resolver = _Resolver(memory)
    kept: list[Resolved] = []
    for n, path in enumerate(paths, 1):
        address = resolver.resolve(path)
        if address is not None:
            if target.address is not None:
                if address == target.address:
                    kept.append(Resolved(path, address))
            else:
                assert target.data is not None
                try:
                    got = memory.read(address, len(target.data), areas=resolver.areas)
                except TargetExited:
                    raise
                except LainviewError:
                    got = None
                if got is not None and got.complete and bytes(got.data) == target.data:
                    kept.append(Resolved(path, address))
        if n % batch == 0:
            yield n
    return kept


def resolve_paths(memory: ProcessMemory, paths: Sequence[PointerPath]) -> list[int | None]:
    """Where each path leads in ``memory``'s process now (None: it breaks)."""
    resolver = _Resolver(memory)
    return [resolver.resolve(p) for p in paths]


# -- pointer-scan files -----------------------------------------------------------------------

@dataclass(slots=True)
class PointerScanFile:
    """A saved pointer scan: the results and what a rescan needs."""

    paths: list[PointerPath]
    address: int                  # the address searched for, in the scanned run
    location: Location            # where that address was (locations.locate)
    depth: int
    max_offset: int
    total: int
    pid: int | None = None
    start_ticks: int | None = None
    stacks: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def scan_file(result: SearchResult, *, pid: int | None = None,
              start_ticks: int | None = None) -> PointerScanFile:
    """What to save of ``result`` (made on process ``pid``)."""
    location = result.location or Location.absolute(result.address)
    return PointerScanFile(list(result.paths), result.address, location, result.depth, result.max_offset, result.total, pid, start_ticks,
                           result.stacks)


def save_results(scan: PointerScanFile, path: str) -> None:
    """Write ``scan`` to ``path`` (JSON, a private 0600 file, replaced
    atomically). Raises InvalidInput when it cannot be written."""
    import json
    doc = {"format": FILE_MAGIC, "version": FILE_VERSION, "pid": scan.pid,
           "start_ticks": scan.start_ticks, "address": scan.address,
           "location": scan.location.to_json(), "depth": scan.depth,
           "max_offset": scan.max_offset, "total": scan.total, "stacks": scan.stacks,
           "paths": [p.to_json() for p in scan.paths]}
    with atomic_private_file(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


def _int(doc: dict[str, Any], name: str, lo: int, hi: int, path: str,
         optional: bool = False) -> Any:
    value = doc.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value < hi:
        raise InvalidInput(f"{path}: bad {name} {str(value)[:40]!r}: not a pointer-scan file")
    return value


def parse_results(raw: bytes, path: str) -> PointerScanFile:
    """A pointer-scan file's contents. Raises InvalidInput naming ``path``
    and what is wrong."""
    doc = load_json(raw, path, "pointer-scan file")
    if not isinstance(doc, dict) or doc.get("format") != FILE_MAGIC:
        raise InvalidInput(f"{path} is not a pointer-scan file")
    if doc.get("version") != FILE_VERSION:
        raise InvalidInput(f"{path}: pointer-scan file version {str(doc.get('version'))[:20]} "
                           f"is not supported (this lainview reads {FILE_VERSION})")
    raw_paths = doc.get("paths")
    if not isinstance(raw_paths, list):
        raise InvalidInput(f"{path}: no list of paths: not a pointer-scan file")
    if len(raw_paths) > MAX_LISTED:
        raise InvalidInput(f"{path}: {len(raw_paths)} paths: a pointer-scan file holds at most "
                           f"{MAX_LISTED:,}")
    try:
        paths = [PointerPath.from_json(p) for p in raw_paths]
        location = Location.from_json(doc.get("location"))
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc.message}") from None
    stacks = doc.get("stacks", False)
    if not isinstance(stacks, bool):
        raise InvalidInput(f"{path}: bad stacks flag: not a pointer-scan file")
    return PointerScanFile(
        paths, _int(doc, "address", 0, 1 << 64, path), location,
        _int(doc, "depth", 1, MAX_DEPTH + 1, path),
        _int(doc, "max_offset", 0, (1 << 20) + 1, path),
        _int(doc, "total", 0, 1 << 63, path), _int(doc, "pid", 1, 1 << 31, path, True),
        _int(doc, "start_ticks", 0, 1 << 63, path, True), stacks)


def load_results(path: str) -> PointerScanFile:
    """Read a pointer-scan file (at most 256 MiB). Raises InvalidInput naming
    the file and what is wrong."""
    return parse_results(read_input_file(path, MAX_FILE, what="pointer-scan file"), path)


__all__ = ["PointerMap", "PointerPath", "PointerScanFile", "PtrScanLimits", "RescanTarget",
           "Resolved", "SearchResult", "build_map", "load_results",
           "parse_results", "rescan", "resolve_paths", "save_results", "scan_file", "search",
           "scanned_areas", "thread_stacks", "DEFAULT_DEPTH", "DEFAULT_MAX_OFFSET",
           "DEFAULT_LIMIT"]
