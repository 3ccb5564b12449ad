"""The value scanner: find where a value lives, then narrow it down.

A *first scan* walks the chosen areas in chunks of about 1 MiB, read into one
reused buffer on the backend thread, and compares each chunk with numpy. A
*next scan* re-reads only the chunks that still hold candidates and keeps
the ones that changed, stayed, grew, shrank, or now hold a value.

Candidates of one area are kept in one of two forms:

- **sparse**: sorted offsets (uint32/uint64) and the value bytes seen last,
  when they are few enough (``ScanLimits.sparse_max`` in all);
- **dense**: a bit per position plus a snapshot of the run's bytes, kept as
  compressed chunks in the scan's store (``scan_store.SnapshotStore``: in
  memory up to ``ScanLimits.snapshot_memory``, spilled to 0600 files in the
  scan's private directory beyond it), for "unknown initial value" scans and
  other huge candidate sets. Memory then stays at one bit per position plus
  the budget.

Areas are scanned in *runs*: chosen areas that touch are one range, so a
value across an area boundary is found. Next scans find candidates by
address (whatever live areas cover them now); unreadable areas (PROT_NONE,
I/O, registered with userfaultfd) are read as holes, never glued into a run.

A first exact, range or pattern scan starts sparse. Once the candidates kept
in all areas pass ``sparse_max``, an area whose offsets and values would cost
more than its mask turns dense mid-scan: the candidates it kept so far become
bits, and their values are written to the snapshot at their offsets (no
second read of the target; only candidate positions of a snapshot are ever
read back). So a first scan holds at most ``sparse_max`` x (offset + value)
bytes plus one bit per scanned position, e.g. 8 MiB for i32 ``0`` over 256 MiB
instead of 512 MiB.

``ScanState.memory_bytes`` and ``disk_bytes`` tell the user what a scan costs.
Each step keeps the previous state for one ``undo`` (a step stores its
snapshot chunks as a new generation, never in place; the step before that
is dropped).
"""

from __future__ import annotations

import bisect
import ctypes
import enum
import functools
import errno as _errno
import json
import math
import os
import shutil
import stat
import struct
import tempfile
from dataclasses import dataclass, field, replace
from typing import IO, Any, Generator

import lz4.block
import numpy as np

from .errors import InvalidInput, LainviewError, TargetExited
from .files import atomic_private_file
from .memory import Hole, MemoryArea, Perm, page_buffer, page_ceil, page_floor
from .processes import start_ticks as _process_start
from .scan_store import FILL, MAX_RATIO, Blob, SnapshotStore
from .process_memory import ProcessMemory
from . import value_types
from .value_types import Mode, Pattern
from .wording import article

# Chunks are read and compared on the backend thread, one after the other.
# Comparing chunk N on a worker while chunk N+1 is read was measured slower
# here (2 vCPUs, 1 MiB chunks: 3.2-3.8 vs 3.9-4.6 GiB/s read+compare inline):
# a hand-off alone (futex wake and a context switch) costs about as much as
# the compare, and the worker compares a buffer that sits in the reading
# core's L2, so it is slower than inline (~490 vs ~300 us per read+compare).
CHUNK = 1 << 20
INDEX_BLOCK = 4096       # bytes of a dense mask (32,768 positions) per index entry

# -- types and values ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ScanType(value_types.OfKind):
    """What is scanned for: a registered value type (``value_types``) and
    the byte order of its numbers. Raises InvalidInput for an unknown name."""

    name: str
    big_endian: bool = False

    def __post_init__(self) -> None:
        value_types.get(self.name)

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype of a numeric type; InvalidInput for the others."""
        return value_types.number(self.name).dtype(self.big_endian)

    @property
    def size(self) -> int:
        """Bytes of one value (numbers), 1 for patterns (whose length is the
        pattern's)."""
        return self.kind.unit if self.numeric else 1

    @property
    def natural_alignment(self) -> int:
        return self.kind.alignment

    def format(self, raw: bytes | np.ndarray) -> str:
        """A scanned value as the user would type it back (the type's
        ``format``: integers in decimal, floats in their shortest exact
        form, text with what cannot be shown escaped, bytes in hex). ``raw``
        is the value's bytes in the target's order."""
        return self.kind.format(self.kind.decode(bytes(raw), self.big_endian))

    def to_json(self, raw: bytes | np.ndarray) -> value_types.JsonValue:
        """The same value for JSON (the type's ``to_json``: numbers as
        numbers, NaN and infinities as None, text as a string, bytes as hex)."""
        return self.kind.to_json(self.kind.decode(bytes(raw), self.big_endian))


# -- conditions ---------------------------------------------------------------------------

FIRST_MODES = (Mode.EXACT, Mode.RANGE, Mode.UNKNOWN)
NEXT_MODES = tuple(m for m in Mode if m is not Mode.UNKNOWN)
RELATIVE_MODES = (Mode.CHANGED, Mode.UNCHANGED, Mode.INCREASED, Mode.DECREASED,
                  Mode.INCREASED_BY, Mode.DECREASED_BY)


@dataclass(frozen=True, slots=True)
class Condition:
    """A scan's test. ``value`` (EXACT, *_BY), ``low``/``high`` (RANGE),
    ``pattern`` (byte types), ``tolerance`` for floats."""

    mode: Mode
    value: float | int | None = None
    low: float | int | None = None
    high: float | int | None = None
    pattern: Pattern | None = None
    tolerance: float = 0.0

    def describe(self, kind: value_types.ValueKind | None = None) -> str:
        """The condition as the user would type it ("range 1.12..1.13",
        "exact 100", "exact needle", "changed"): values as ``kind`` formats
        them (an f32 1.12 is "1.12", not the float64 1.1200000047683716; a
        utf8 pattern is its text), patterns with ``??`` wildcards as hex."""
        def number(value: float | int | None) -> str:
            return kind.format(value) if kind is not None and value is not None else str(value)

        if self.pattern is not None:
            whole = all(m == 0xFF for m in self.pattern.mask)
            shown = (kind.format(kind.parse(self.pattern.data)) if whole and kind is not None
                     else self.pattern.text())
            return f"{self.mode.value} {shown}"
        if self.mode is Mode.RANGE:
            return f"range {number(self.low)}..{number(self.high)}"
        if self.value is not None:
            return f"{self.mode.value} {number(self.value)}"
        return str(self.mode.value)


def make_condition(scan_type: ScanType, mode: Mode | str, value: object = None,
                   *, tolerance: float | None = None) -> Condition:
    """Build a condition. ``value`` is text as the user typed it or a Python
    value (an int or float for numbers, str or bytes for text and byte
    patterns), parsed by the type (``value_types``); RANGE takes
    ``"LOW..HIGH"`` or a ``(low, high)`` pair. Raises InvalidInput when the
    mode does not apply to the type or the value does not parse or fit."""
    mode = Mode(mode) if isinstance(mode, str) else mode
    kind = scan_type.kind
    tol = float(tolerance) if tolerance is not None else (1e-6 if kind.is_float else 0.0)
    if not tol >= 0:                                        # nan is not >= 0 either
        raise InvalidInput(f"the tolerance must not be negative or nan, not {tol}")
    if mode not in kind.modes:
        raise InvalidInput(f"{kind.name} scans can be "
                           f"{', '.join(m.value for m in kind.modes if m is not Mode.UNKNOWN)}"
                           f", not {mode.value}")
    if not kind.numeric:
        if mode is Mode.EXACT:
            if value is None:
                raise InvalidInput("an exact scan needs a value")
            return Condition(mode, pattern=kind.pattern(value))
        return Condition(mode)
    if mode in (Mode.EXACT, Mode.INCREASED_BY, Mode.DECREASED_BY):
        if value is None:
            raise InvalidInput(f"{article(mode.value)} scan needs a value")
        return Condition(mode, value=_number(kind.parse(value)), tolerance=tol)
    if mode is Mode.RANGE:
        if isinstance(value, tuple) and len(value) == 2:
            low_value, high_value = value
        elif isinstance(value, str) and ".." in value:
            low_value, high_value = value.split("..", 1)
        else:
            raise InvalidInput("a range scan needs LOW..HIGH, e.g. 10..20")
        low, high = _number(kind.parse(low_value)), _number(kind.parse(high_value))
        if math.isnan(low) or math.isnan(high):
            raise InvalidInput(f"a range cannot end at nan ({low}..{high}): nothing is "
                               "above or below nan")
        if low > high:
            raise InvalidInput(f"empty range {low}..{high}")
        return Condition(mode, low=low, high=high, tolerance=tol)
    return Condition(mode, tolerance=tol)


def _number(value: value_types.Value) -> int | float:
    assert isinstance(value, (int, float))
    return value


# -- the pure matchers: numpy on one buffer ------------------------------------------------

def positions_count(length: int, item: int, align: int) -> int:
    """How many positions p (multiples of align) have p + item <= length."""
    return 0 if length < item else (length - item) // align + 1


def values_at(buf: np.ndarray, scan_type: ScanType, align: int, count: int) -> np.ndarray:
    """The typed value at each of ``count`` positions 0, align, 2*align, ...
    of a uint8 buffer, as a view (no copy). Positions may overlap when
    ``align`` is smaller than the type."""
    if count <= 0:
        return np.empty(0, dtype=scan_type.dtype)
    if align == scan_type.size:
        return buf[:count * align].view(scan_type.dtype)
    return np.ndarray((count,), dtype=scan_type.dtype, buffer=buf, offset=0, strides=(align,))


def find_values(buf: np.ndarray, scan_type: ScanType, align: int, count: int,
                cond: Condition, scratch: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Position indices (ascending) among ``count`` positions 0, align, ...
    whose value satisfies a first-scan ``cond``, and those values.

    When positions overlap (align smaller than the type), the buffer is
    viewed once per phase with the type's own stride, which numpy compares
    twice as fast as one overlapping view. ``scratch``, a reused bool
    buffer of at least ``count``, spares an allocation per chunk."""
    size = scan_type.size
    if align >= size or size % align or count <= 0:
        values = values_at(buf, scan_type, align, count)
        idx = _hits(values, cond, scratch)
        return idx, values[idx]
    phases = size // align
    found_idx, found_val = [], []
    for phase in range(min(phases, count)):
        n = (count - phase + phases - 1) // phases
        view = np.ndarray((n,), dtype=scan_type.dtype, buffer=buf, offset=phase * align,
                          strides=(size,))
        hit = _hits(view, cond, scratch)
        found_idx.append(hit * phases + phase)
        found_val.append(view[hit])
    idx = np.concatenate(found_idx)
    order = np.argsort(idx, kind="stable")
    return idx[order], np.concatenate(found_val)[order]


def _hits(values: np.ndarray, cond: Condition, scratch: np.ndarray | None) -> np.ndarray:
    """Indices of ``values`` satisfying a first-scan ``cond``. The common
    case, an exact integer, compares into ``scratch`` and skips the index
    search when nothing matched (most chunks)."""
    if scratch is not None and cond.mode is Mode.EXACT and values.dtype.kind in "iu":
        mask = scratch[:len(values)]
        np.equal(values, values.dtype.type(cond.value), out=mask)
        return np.flatnonzero(mask) if mask.any() else np.empty(0, dtype=np.intp)
    return np.flatnonzero(evaluate(values, cond))


def evaluate(cur: np.ndarray, cond: Condition, prev: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of the values satisfying ``cond`` (``prev``: last values)."""
    mode, tol = cond.mode, cond.tolerance
    is_float = cur.dtype.kind == "f"
    if mode is Mode.EXACT:
        if not is_float:
            return np.asarray(cur == cond.value)
        value = cond.value
        assert value is not None                            # make_condition gives one
        if math.isnan(value):                               # nan is never == nan
            return np.asarray(np.isnan(cur))
        if math.isinf(value):                               # inf - inf is nan
            return np.asarray(cur == cond.value)
        with np.errstate(invalid="ignore", over="ignore"):   # memory holding inf or nan
            return np.asarray(np.abs(cur - cond.value) <= tol)
    if mode is Mode.RANGE:
        low, high = cond.low, cond.high
        assert low is not None and high is not None     # make_condition gives both
        return (cur >= low - tol) & (cur <= high + tol) if is_float \
            else (cur >= low) & (cur <= high)
    if mode is Mode.UNKNOWN:
        return np.ones(cur.shape, dtype=bool)
    assert prev is not None
    if is_float and mode in (Mode.CHANGED, Mode.UNCHANGED):
        # A value that stays nan, or stays inf, is unchanged: inf - inf is
        # nan (and warned about), and nan equals nothing.
        with np.errstate(invalid="ignore", over="ignore"):
            same = (cur == prev) | (np.abs(cur - prev) <= tol) | (np.isnan(cur) & np.isnan(prev))
        return np.asarray(~same if mode is Mode.CHANGED else same)
    if mode is Mode.CHANGED:
        return np.asarray(cur != prev)
    if mode is Mode.UNCHANGED:
        return np.asarray(cur == prev)
    if mode is Mode.INCREASED:
        return cur > prev + tol if is_float else cur > prev
    if mode is Mode.DECREASED:
        return cur < prev - tol if is_float else cur < prev
    assert cond.value is not None     # make_condition gives a *_BY its value
    delta = cond.value if mode is Mode.INCREASED_BY else -cond.value
    if is_float:
        with np.errstate(invalid="ignore", over="ignore"):      # inf - inf in memory
            return np.asarray(np.abs((cur - prev) - delta) <= tol)
    with np.errstate(over="ignore"):
        return np.asarray((cur - prev) == np.array(delta).astype(cur.dtype))


def match_pattern(buf: np.ndarray, pattern: Pattern, align: int, count: int) -> np.ndarray:
    """Positions (multiples of ``align``, fewer than count*align) where
    ``pattern`` matches in ``buf``."""
    mask = np.frombuffer(pattern.mask, dtype=np.uint8)
    data = np.frombuffer(pattern.data, dtype=np.uint8)
    fixed = np.flatnonzero(mask == 0xFF)
    partial = np.flatnonzero((mask != 0) & (mask != 0xFF))
    anchor = int(fixed[0]) if len(fixed) else int(partial[0])
    lane = buf[anchor:anchor + (count - 1) * align + 1:align]
    if mask[anchor] == 0xFF:
        cand = np.flatnonzero(lane == data[anchor])
    else:
        cand = np.flatnonzero((lane & mask[anchor]) == (data[anchor] & mask[anchor]))
    pos = cand * align
    for i in range(len(pattern)):
        if i == anchor or mask[i] == 0 or not len(pos):
            continue
        pos = pos[(buf[pos + i] & mask[i]) == (data[i] & mask[i])]
    return pos


# -- state -------------------------------------------------------------------------------------

@dataclass
class RegionMatches:
    """Candidates in one scanned range [start, start + size)."""

    start: int
    size: int
    offsets: np.ndarray | None = None     # sparse: sorted offsets from start
    values: np.ndarray | None = None      # sparse: last values (typed, or uint8 rows)
    mask: np.ndarray | None = None        # dense: packed bit per position
    snapshot: int | None = None           # dense: generation of its snapshot chunks (store)
    count: int = 0
    # dense: candidates before each INDEX_BLOCK bytes of the mask (built once,
    # by ScanState.prepare_index), so the i-th candidate is found without
    # unpacking the whole mask.
    block_starts: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def dense(self) -> bool:
        return self.mask is not None

    def prepare_index(self) -> np.ndarray:
        """The dense index (``block_starts``), built on first use."""
        if self.block_starts is None:
            self.block_starts = _block_starts(self.dense_mask())
        return self.block_starts

    def dense_mask(self) -> np.ndarray:
        """The packed mask of a dense region (a sparse one has none)."""
        assert self.mask is not None, "a sparse region has no mask"
        return self.mask

    def snapshot_key(self, at: int) -> tuple[int, int, int]:
        """The store key of a dense region's snapshot chunk at offset ``at``."""
        assert self.snapshot is not None, "a sparse region has no snapshot"
        return (self.snapshot, self.start, at)

    def sparse_values(self) -> np.ndarray:
        """The last values of a sparse region's candidates (none when empty)."""
        assert self.values is not None, "a dense or empty region has no values"
        return self.values

    def sparse_offsets(self) -> np.ndarray:
        """The sorted offsets of a sparse region (a dense one has none)."""
        assert self.offsets is not None, "a dense region has no offsets"
        return self.offsets

    def offsets_between(self, start: int, stop: int, align: int) -> np.ndarray:
        """Offsets (from ``self.start``) of candidates start..stop-1 of this region."""
        if not self.count or stop <= start:
            return np.empty(0, np.int64)
        if not self.dense:
            return self.sparse_offsets()[start:stop].astype(np.int64)
        starts = self.prepare_index()
        mask = self.dense_mask()
        out = []
        block = int(np.searchsorted(starts, start, side="right")) - 1
        i = start
        while i < stop and block < len(starts):
            lo = block * INDEX_BLOCK
            bits = np.flatnonzero(np.unpackbits(mask[lo:lo + INDEX_BLOCK]))
            first = i - int(starts[block])
            take = bits[first:first + stop - i]
            out.append((take + lo * 8) * align)
            i += len(take)
            block += 1
        return np.concatenate(out).astype(np.int64) if out else np.empty(0, np.int64)

    def memory_bytes(self) -> int:
        return sum(a.nbytes for a in (self.offsets, self.values, self.mask, self.block_starts)
                   if a is not None)


@dataclass
class LiveCount:
    """Candidates kept so far by a running scan: the job adds to ``found``
    after every chunk (on the backend thread); anyone may read it."""

    found: int = 0


@dataclass(frozen=True, slots=True)
class ScanLimits:
    """``chunk``: bytes read and compared at a time. ``sparse_max``:
    candidates kept as offsets and values in all, at most. ``snapshot_memory``:
    bytes of compressed snapshots kept in memory before the rest spills to
    files in the scan's private directory."""

    chunk: int = CHUNK
    sparse_max: int = 20_000_000     # candidates kept as offsets before going dense
    snapshot_memory: int = 256 << 20


@dataclass
class ScanState:
    """One step of a scan: its candidates, what it cost, and its history.

    ``regions`` are runs of adjacent areas as the first scan found them
    (ascending, disjoint). ``vanished``: address ranges of those runs that
    were not mapped (or, in a first scan, not readable at all) at this step.
    ``lost``: candidates dropped at this step because their bytes were no
    longer mapped and readable (not because their value failed the test).
    ``item_size``: bytes compared at each candidate (a byte pattern's
    length; after an exact next scan, that pattern's)."""

    pid: int
    start_ticks: int | None
    scan_type: ScanType
    align: int
    item_size: int
    regions: list[RegionMatches]
    workdir: str
    step: int = 0
    condition: str = ""
    scanned_bytes: int = 0
    unreadable_bytes: int = 0
    vanished: list[tuple[int, int]] = field(default_factory=list)
    lost: int = 0
    history: list["ScanState"] = field(default_factory=list, repr=False)
    # The compressed snapshot chunks of every step (shared along the history).
    store: SnapshotStore | None = field(default=None, repr=False, compare=False)

    @property
    def count(self) -> int:
        return sum(r.count for r in self.regions)

    @property
    def memory_bytes(self) -> int:
        """Bytes held in memory: candidates (offsets, values, masks and
        their index) of this step and the one undo keeps, plus the
        compressed snapshots kept in memory."""
        return self._array_bytes() + (self.store.memory_bytes if self.store else 0)

    def _array_bytes(self) -> int:
        return sum(r.memory_bytes() for r in self.regions) + \
            sum(s._array_bytes() for s in self.history)

    @property
    def disk_bytes(self) -> int:
        """Bytes of compressed snapshots spilled to the scan's directory."""
        return self.store.disk_bytes if self.store else 0

    def addresses(self, limit: int | None = None) -> np.ndarray:
        """Candidate addresses, ascending (at most ``limit``)."""
        out = []
        remaining = limit if limit is not None else self.count
        for r in self.regions:
            if remaining <= 0:
                break
            if not r.count:
                continue
            # Only the first ``remaining`` (a dense mask is unpacked a block
            # at a time, not whole).
            offs = r.offsets_between(0, min(remaining, r.count), self.align)
            out.append(offs.astype(np.uint64) + np.uint64(r.start))
            remaining -= len(offs)
        return np.concatenate(out) if out else np.empty(0, dtype=np.uint64)

    def prepare_index(self) -> None:
        """Index the dense regions so :meth:`matches` finds any candidate in
        O(one mask block). It reads every mask once: the scan jobs call it
        on the backend thread before they hand the state over."""
        for r in self.regions:
            if r.dense and r.count:
                r.prepare_index()

    def matches(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Candidates ``start``..``stop - 1`` in address order: their addresses
        (uint64) and their values as of this step (typed for numeric types,
        rows of ``item_size`` uint8 otherwise). A value whose dense snapshot
        is gone (the scan was closed) reads as zeros.

        Raises IndexError when the range is not within ``0..count``."""
        if not 0 <= start <= stop <= self.count:
            raise IndexError(f"matches {start}..{stop} outside 0..{self.count}")
        ends = np.cumsum([r.count for r in self.regions])
        addrs, vals = [], []
        i = start
        k = int(np.searchsorted(ends, start, side="right"))
        while i < stop:
            region = self.regions[k]
            k += 1
            if not region.count:
                continue
            first = i - (int(ends[k - 1]) - region.count)
            n = min(stop - i, region.count - first)
            offs = region.offsets_between(first, first + n, self.align)
            addrs.append(offs.astype(np.uint64) + np.uint64(region.start))
            vals.append(self._values_of(region, first, offs))
            i += n
        if not addrs:
            return np.empty(0, np.uint64), self._no_values()
        return np.concatenate(addrs), np.concatenate(vals)

    def _no_values(self) -> np.ndarray:
        if self.scan_type.numeric and self.item_size == self.scan_type.size:
            return np.empty(0, self.scan_type.dtype)
        return np.empty((0, self.item_size), np.uint8)

    def _values_of(self, region: RegionMatches, first: int, offs: np.ndarray) -> np.ndarray:
        typed = self.scan_type.numeric and self.item_size == self.scan_type.size
        if not region.dense:
            if region.values is None:
                return self._no_values()
            return region.values[first:first + len(offs)]
        rows = _snapshot_rows(self.store, region, offs, self.item_size)
        return rows.view(self.scan_type.dtype).reshape(-1) if typed else rows

    def values_at(self, addresses: list[int]) -> list[bytes | None]:
        """This step's value (``item_size`` bytes, target order) of each
        address; None where the address is not a candidate of this step or
        its value was not kept (the scan was closed). The match list asks
        the step before for the values of the rows it shows (its *Previous*
        column). Sparse regions answer from their values; dense ones from
        their snapshot chunks in the store, each unpacked once for a run of
        ascending addresses."""
        starts = [r.start for r in self.regions]
        item, align = self.item_size, self.align
        out: list[bytes | None] = []
        cached: tuple[tuple[int, int, int], np.ndarray | None] | None = None
        for address in addresses:
            k = bisect.bisect_right(starts, address) - 1
            region = self.regions[k] if k >= 0 else None
            off = address - region.start if region is not None else -1
            if region is None or not region.count or \
                    not 0 <= off <= region.size - item or off % align:
                out.append(None)
                continue
            if region.dense:
                pos = off // align
                mask = region.dense_mask()
                if pos >> 3 >= len(mask) or \
                        not (int(mask[pos >> 3]) >> (7 - (pos & 7))) & 1 or \
                        self.store is None:
                    out.append(None)
                    continue
                at = off // self.store.chunk * self.store.chunk
                key = region.snapshot_key(at)
                if cached is None or cached[0] != key:
                    cached = (key, self.store.get(key))
                data, rel = cached[1], off - at
                ok = data is not None and rel + item <= len(data)
                out.append(data[rel:rel + item].tobytes() if data is not None and ok else None)
                continue
            offsets = region.sparse_offsets()
            j = int(np.searchsorted(offsets, off))
            if j >= len(offsets) or int(offsets[j]) != off \
                    or region.values is None:
                out.append(None)
                continue
            out.append(np.asarray(region.values[j]).tobytes())
        return out

    def close(self) -> None:
        """Free the scan's snapshots (of every step) and delete its files."""
        if self.store is not None:
            self.store.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _snapshot_rows(store: SnapshotStore | None, region: RegionMatches, offs: np.ndarray,
                   item: int) -> np.ndarray:
    """The ``item`` bytes at each offset (ascending, from the region's start)
    of a dense region's snapshot; zeros where it is gone (the scan closed)."""
    rows = np.zeros((len(offs), item), np.uint8)
    if store is None or not len(offs):
        return rows
    chunk = store.chunk
    offs = np.asarray(offs, dtype=np.int64)
    lanes = np.arange(item)
    if offs[0] // chunk == offs[-1] // chunk:         # one chunk (most small regions)
        bounds = [0, len(offs)]
    else:
        which = offs // chunk
        bounds = [0, *(np.flatnonzero(which[1:] != which[:-1]) + 1).tolist(), len(offs)]
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        pos = int(offs[lo]) // chunk * chunk
        rel = offs[lo:hi] - pos
        data = store.get(region.snapshot_key(pos), int(rel[-1]) + item)
        if data is not None:
            rows[lo:hi] = data[rel[:, None] + lanes]
    return rows


def _positions(region: RegionMatches, state: ScanState) -> int:
    return positions_count(region.size, state.item_size, state.align)


# -- choosing areas --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AreaFilter:
    """Which areas a first scan covers: writable private ones by default;
    read-only anonymous ones with ``include_readonly``, read-only file
    mappings with ``include_file_backed``, shared ones (which must pass the
    other tests too) with ``include_shared``; or every area in ``ranges``.
    Unreadable areas (PROT_NONE, I/O, registered with userfaultfd) are never
    chosen by kind; inside ``ranges`` they are kept, so their pages are read
    as holes and counted as skipped."""

    include_readonly: bool = False
    include_file_backed: bool = False
    include_shared: bool = False
    ranges: tuple[tuple[int, int], ...] = ()     # a chosen set, e.g. from the VMA table

    def select(self, areas: list[MemoryArea]) -> list[MemoryArea]:
        if self.ranges:
            # A chosen set: every area in it, clipped to it (at page bounds);
            # unreadable ones too, so their pages are counted as skipped.
            # Overlapping ranges are merged first, so no byte is scanned twice.
            merged: list[list[int]] = []
            for s, e in sorted((page_floor(s), page_ceil(e)) for s, e in self.ranges):
                if merged and s <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], e)
                else:
                    merged.append([s, e])
            # Both lists sorted: each range finds its areas by binary search.
            ends = [a.end for a in areas]
            out = []
            for s, e in merged:
                for a in _areas_over(areas, ends, s, e):
                    lo, hi = max(a.start, s), min(a.end, e)
                    out.append(a if (lo, hi) == (a.start, a.end) else
                               a._replace(start=lo, end=hi))
            return out
        return [a for a in areas if a.readable and a.path != "[vsyscall]"
                and self.left_out(a) is None]

    def left_out(self, area: MemoryArea) -> str | None:
        """Which of SKIPPED_KINDS this filter leaves ``area`` out as (the
        first that applies), or None when its kind is scanned. Readability
        is not judged here."""
        if self.ranges:
            return None
        if area.perms & Perm.SHARED and not self.include_shared:
            return "shared"
        if area.perms & Perm.WRITE:
            return None      # writable private areas, a program's .data/.bss included
        if area.is_file_backed:
            return None if self.include_file_backed else "file-backed"
        return None if self.include_readonly else "read-only"

    def skipped(self, areas: list[MemoryArea]) -> dict[str, int]:
        """Bytes of readable areas left out, by kind (SKIPPED_KINDS order;
        kinds with none are absent): what to tell a user who found nothing."""
        out: dict[str, int] = {}
        for a in areas:
            kind = self.left_out(a) if a.readable and a.path != "[vsyscall]" else None
            if kind is not None:
                out[kind] = out.get(kind, 0) + a.size
        return {k: out[k] for k in SKIPPED_KINDS if k in out}


# Kinds of areas a first scan leaves out unless asked, and the option that
# asks (the GUI's check boxes carry the kind's name).
SKIPPED_KINDS = {"shared": "--include-shared", "read-only": "--include-readonly",
                 "file-backed": "--include-file-backed"}


# -- the jobs (run on the backend thread) -----------------------------------------------------

_M_MMAP_THRESHOLD = -3          # glibc's mallopt parameter


@functools.cache
def steady_malloc() -> None:
    """Pin glibc's mmap threshold at its default (128 KiB), once per process.

    glibc raises the threshold each time a block it mmapped is freed (up to
    32 MiB); after that, chunk-sized temporaries (about 1 MiB) come from the
    heap, and freed ones stay in the process, so peak RSS drifts above what
    the scan holds (measured: +2 MiB on a first scan over 256 MiB). A
    threshold set explicitly is never raised. No-op where there is no glibc."""
    try:
        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, 128 << 10)
    except (OSError, AttributeError):
        pass


def first_scan(memory: ProcessMemory, scan_type: ScanType, cond: Condition, *,
               align: int | None = None, areas: AreaFilter = AreaFilter(),
               limits: ScanLimits = ScanLimits(), workdir: str | None = None,
               start_ticks: int | None = None,
               live: LiveCount | None = None) -> Generator[int, None, ScanState]:
    """A bulk job: scan the chosen areas; yields bytes done, returns the state
    (indexed: see ``ScanState.prepare_index``). ``live`` counts as it goes."""
    live = live if live is not None else LiveCount()
    steady_malloc()
    if cond.mode not in FIRST_MODES:
        raise InvalidInput(f"a first scan is exact, range or unknown, not {cond.mode.value}")
    align = align or scan_type.natural_alignment
    _check_chunk(limits, align)
    item = len(cond.pattern) if cond.pattern is not None else scan_type.size
    if cond.mode is Mode.UNKNOWN and not scan_type.numeric:
        item = 1
    chosen = areas.select(memory.areas(refresh=True))
    if not chosen:
        raise InvalidInput("no areas to scan with these settings (try including "
                           "read-only or file-backed areas)")
    if start_ticks is None:
        start_ticks = _process_start(memory.pid)
    made = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix="lainview-scan-")
    store = SnapshotStore(workdir, limits.chunk, limits.snapshot_memory)
    try:
        return (yield from _first_scan(memory, scan_type, cond, chosen, align, item, limits,
                                       workdir, start_ticks, live, store))
    except BaseException:
        # Cancelled, failed or the target exited: leave no snapshot behind.
        store.close()
        if made:
            shutil.rmtree(workdir, ignore_errors=True)
        raise


def _first_scan(memory: ProcessMemory, scan_type: ScanType, cond: Condition,
                chosen: list[MemoryArea], align: int, item: int, limits: ScanLimits,
                workdir: str, start_ticks: int | None, live: LiveCount,
                store: SnapshotStore) -> Generator[int, None, ScanState]:
    state = ScanState(pid=memory.pid, start_ticks=start_ticks, scan_type=scan_type,
                      align=align, item_size=item, regions=[], workdir=workdir,
                      step=1, condition=cond.describe(scan_type.kind), store=store)
    gen = store.new_generation()
    buf = np.frombuffer(page_buffer(limits.chunk + item), dtype=np.uint8)   # page-aligned
    view = buf.data
    scratch = np.empty(limits.chunk // align + 1, dtype=bool)
    # The common case, an exact integer at its natural alignment, compares
    # whole chunks through views made once (see _exact_in_chunk).
    exact = None
    if scan_type.numeric and cond.mode is Mode.EXACT and align == scan_type.size \
            and scan_type.dtype.kind in "iu":
        typed = buf[:limits.chunk].view(scan_type.dtype)
        exact = (typed, scratch[:len(typed)], scan_type.dtype.type(cond.value))
    # Bytes past a chunk that a value starting in it may need.
    spill = max(0, item - align)
    done = 0
    kept = 0            # candidates held sparse (offset + value) in all regions so far
    for run in _runs(chosen):
        # A run of adjacent areas is scanned as one range, so a value whose
        # bytes start in one area and end in the next is found.
        area = MemoryArea(run[0].start, run[-1].end, run[0].perms)
        region = RegionMatches(start=area.start, size=area.size)
        dense: _DenseWriter | None = None
        if cond.mode is Mode.UNKNOWN:
            dense = _DenseWriter(store, gen, area.start, area.size,
                                 positions_count(area.size, item, align), align, limits.chunk)
        offs: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        n_sparse = 0
        readable_any = False
        for pos in range(0, area.size, limits.chunk):
            # Read the chunk plus the bytes a value starting near its end needs.
            this = min(limits.chunk, area.size - pos)
            end = min(area.size, pos + this + spill)
            n_pos = min(positions_count(end - pos, item, align), -(-this // align))
            chunk = buf[:end - pos]
            holes = memory.read_into(area.start + pos, view[:end - pos], areas=run)
            if holes:
                state.unreadable_bytes += _overlap(holes, area.start + pos, this)
                readable_any |= sum(h.size for h in holes) < end - pos
                ok = _hole_free_positions(holes, area.start + pos, n_pos, align, item)
            else:
                readable_any = True
                ok = None
            if dense is not None and cond.mode is Mode.UNKNOWN:
                hits = int(ok.sum()) if ok is not None else n_pos
                dense.put_chunk(pos, chunk, this, ok, n_pos)
                region.count += hits
                live.found += hits
            else:
                if cond.pattern is not None:
                    found = match_pattern(chunk, cond.pattern, align, n_pos)
                    if ok is not None:
                        found = found[ok[found // align]]
                    idx = found // align
                    values = chunk[found[:, None] + np.arange(item)]
                elif exact is not None and ok is None and n_pos == len(exact[0]):
                    typed, mask, value = exact
                    np.equal(typed, value, out=mask)
                    if not mask.any():
                        done += this
                        state.scanned_bytes = done
                        yield done
                        continue
                    idx = np.flatnonzero(mask)
                    values = typed[idx]
                else:
                    idx, values = find_values(chunk, scan_type, align, n_pos, cond, scratch)
                    if ok is not None and len(idx):
                        keep = ok[idx]
                        idx, values = idx[keep], values[keep]
                n = len(idx)
                live.found += n
                if dense is not None:
                    dense.put_hits(pos, chunk, this, idx, n_pos)
                    region.count += n
                elif n:
                    offs.append(_offset_array(idx * align + pos, area.size))
                    vals.append(values)
                    n_sparse += n
                    kept += n
                    # Too many candidates to keep as offsets and values (in
                    # all, or a few chunks' worth here, so the peak stays
                    # near what the result holds): from here on this area is
                    # a bit per position plus a snapshot (see _DenseWriter),
                    # if the candidates so far are dense enough that their
                    # offsets and values cost more than the mask of the
                    # positions scanned so far (untouched mask pages cost
                    # no memory).
                    n_total = positions_count(area.size, item, align)
                    cost = n_sparse * (_offset_itemsize(area.size) + item)
                    if (kept > limits.sparse_max or cost > 2 * limits.chunk) and \
                            cost > (pos + this) // align // 8:
                        dense = _DenseWriter(store, gen, area.start, area.size,
                                             n_total, align, limits.chunk)
                        dense.convert_sparse(offs, vals, item)
                        region.count = n_sparse
                        kept -= n_sparse
                        offs, vals = [], []
            done += this
            state.scanned_bytes = done
            yield done
        if not readable_any:
            state.vanished.append((area.start, area.end))
        if dense is not None:
            region.mask, region.snapshot = dense.finish(), gen
        else:
            region.offsets = _offset_array(np.concatenate(offs) if offs else np.empty(0, int),
                                           area.size)
            region.values = np.concatenate(vals) if vals else None
            region.count = len(region.offsets)
        state.regions.append(region)
    state.prepare_index()
    return state


class _DenseWriter:
    """Builds a dense region chunk by chunk: the packed bit per position and
    the snapshot chunks (in the scan's store).

    Only the snapshot bytes at candidate positions matter (next scans and
    the match list read nothing else), so a chunk without candidates is
    never stored. A first exact/range/pattern scan that turns dense part-way
    converts the offsets and values it kept so far (``convert_sparse``):
    their bytes go to the snapshot at their offsets, so nothing is read
    twice and the values are the ones that matched.
    """

    def __init__(self, store: SnapshotStore, gen: int, start: int, size: int, n_total: int,
                 align: int, chunk: int):
        self.store, self.gen, self.start = store, gen, start
        self.size, self.align, self.chunk = size, align, chunk
        self.mask = np.zeros((n_total + 7) // 8, dtype=np.uint8)
        self._bits = np.empty(chunk // align + 1, dtype=bool)

    def _set_bits(self, pos: int, idx: np.ndarray, n_pos: int) -> None:
        bits = self._bits[:n_pos]
        bits[:] = False
        bits[idx] = True
        b0 = pos // self.align // 8
        self.mask[b0:b0 + (n_pos + 7) // 8] = np.packbits(bits)

    def put_chunk(self, pos: int, chunk: np.ndarray, this: int, ok: np.ndarray | None,
                  n_pos: int) -> None:
        """Every readable position is a candidate (unknown initial value)."""
        b0 = pos // self.align // 8
        self.mask[b0:b0 + (n_pos + 7) // 8] = np.packbits(ok) if ok is not None \
            else _all_set(n_pos)
        # The whole read, tail included: a value straddling the chunk's end
        # is whole in its chunk's blob.
        self.store.put((self.gen, self.start, pos), chunk)

    def put_hits(self, pos: int, chunk: np.ndarray, this: int, idx: np.ndarray,
                 n_pos: int) -> None:
        """Candidates ``idx`` (position indices in this chunk)."""
        if not len(idx):
            return
        self._set_bits(pos, idx, n_pos)
        self.store.put((self.gen, self.start, pos), chunk)

    def convert_sparse(self, offs: list[np.ndarray], vals: list[np.ndarray],
                       item: int) -> None:
        """Take over the sparse candidates kept so far: one array of offsets
        (from the area's start) and one of their values per chunk, in chunk
        order, none empty. The lists are emptied as they are converted, so
        the sparse and dense forms of a chunk never coexist for long, and
        the temporaries stay at about a chunk's worth of offsets."""
        while offs:
            o, v = offs.pop(0), vals.pop(0)
            pos = int(o[0]) // self.chunk * self.chunk
            end = min(self.size, pos + self.chunk + item - 1)
            n_pos = min(positions_count(end - pos, item, self.align),
                        -(-min(self.chunk, self.size - pos) // self.align))
            rel = o.astype(np.int64)
            rel -= pos
            self._set_bits(pos, rel if self.align == 1 else rel // self.align, n_pos)
            # The matched values at their offsets (zeros between them).
            buf = np.zeros(int(rel[-1]) + item, dtype=np.uint8)
            rows = v.view(np.uint8).reshape(len(o), item)
            for k in range(item):
                buf[rel + k if k else rel] = rows[:, k]
            del o, v, rel, rows
            self.store.put((self.gen, self.start, pos), buf)

    def finish(self) -> np.ndarray:
        return self.mask


def next_scan(memory: ProcessMemory, state: ScanState, cond: Condition, *,
              limits: ScanLimits = ScanLimits(),
              live: LiveCount | None = None) -> Generator[int, None, ScanState]:
    """A bulk job: narrow ``state`` with ``cond``; returns the new state (whose
    history holds ``state`` for undo). ``live`` counts the candidates kept."""
    counter = live if live is not None else LiveCount()
    steady_malloc()
    if cond.mode is Mode.UNKNOWN:
        raise InvalidInput("'unknown' is for first scans only")
    if cond.mode not in state.scan_type.kind.modes:
        raise InvalidInput(f"{state.scan_type.name} scans narrow by "
                           f"{', '.join(m.value for m in state.scan_type.kind.modes if m in NEXT_MODES)}"
                           f", not {cond.mode.value}")
    if state.pid != memory.pid:
        raise InvalidInput(f"this scan belongs to process {state.pid}, not {memory.pid}")
    check_same_process(state)
    if state.store is None:
        state.store = SnapshotStore(state.workdir, limits.chunk, limits.snapshot_memory)
    store = state.store
    store.budget = limits.snapshot_memory
    # Snapshot chunks are at the first scan's chunk offsets.
    limits = replace(limits, chunk=store.chunk)
    gen = store.new_generation()
    try:
        new = yield from _next_scan(memory, state, cond, limits, counter, gen)
        # The pid may have been reused while the scan ran.
        check_same_process(state)
        return new
    except BaseException:
        # The new step's snapshots are of no use now.
        store.drop_generation(gen)
        raise


@dataclass
class _Step:
    """What the helpers of one next scan share: the job's inputs, the new
    state, and one read buffer reused for every chunk of every region."""

    memory: ProcessMemory
    state: ScanState
    new: ScanState
    cond: Condition
    limits: ScanLimits
    live: LiveCount
    item: int                  # bytes compared at each candidate in this step
    buf: np.ndarray
    gen: int                   # the snapshot generation this step writes


def _next_scan(memory: ProcessMemory, state: ScanState, cond: Condition,
               limits: ScanLimits, counter: LiveCount,
               gen: int) -> Generator[int, None, ScanState]:
    step = state.step + 1
    # A byte pattern may be longer or shorter than what was kept: from this
    # step on, each candidate holds the pattern's bytes.
    item = len(cond.pattern) if cond.pattern is not None else state.item_size
    new = ScanState(pid=state.pid, start_ticks=state.start_ticks, scan_type=state.scan_type,
                    align=state.align, item_size=item, regions=[],
                    workdir=state.workdir, step=step,
                    condition=cond.describe(state.scan_type.kind),
                    history=[_without_history(state)], store=state.store)
    job = _Step(memory, state, new, cond, limits, counter, item,
                np.frombuffer(page_buffer(limits.chunk + max(item, state.item_size)),
                              dtype=np.uint8), gen)        # page-aligned
    # Candidates are tracked by address: a region is read through whatever
    # live areas now cover it (found by binary search), so a candidate stays
    # while its bytes are mapped and readable, however the areas around it
    # were cut, merged, trimmed or re-protected. Only candidates whose bytes
    # went away are dropped, and counted (``lost``).
    live_areas = memory.areas(refresh=True)
    ends = [a.end for a in live_areas]
    done = 0
    for region in state.regions:
        if not region.count:
            new.regions.append(RegionMatches(region.start, region.size))
            continue
        region_end = region.start + region.size
        over = _areas_over(live_areas, ends, region.start, region_end)
        new.vanished.extend(_gaps(over, region.start, region_end))
        if not over:
            new.lost += region.count
            new.regions.append(RegionMatches(region.start, region.size))
            done += region.size
            yield done
            continue
        compare = _next_dense if region.dense else _next_sparse
        out = yield from compare(job, region, over, done)
        done += region.size
        new.regions.append(out)
    new.scanned_bytes = done
    if new.count <= limits.sparse_max:
        # Back to offsets and values where they cost no more than the mask
        # (and free the region's snapshot chunks).
        for i, region in enumerate(new.regions):
            if region.dense and region.count * (_offset_itemsize(region.size) + item) \
                    <= len(region.dense_mask()):
                new.regions[i] = _to_sparse(region, new)
                if new.store is not None and region.snapshot is not None:
                    new.store.drop_region(region.snapshot, region.start)
    new.prepare_index()
    # Undo goes back one step: what ``state`` could undo to is dropped now.
    for older in state.history:
        _drop_files(older, keep=state)
    state.history = []
    return new


def _next_sparse(job: _Step, region: RegionMatches, over: list[MemoryArea],
                 done_before: int) -> Generator[int, None, RegionMatches]:
    """Re-read only the chunks holding candidates; test them against their
    last values."""
    item, st, cond, new = job.item, job.state.scan_type, job.cond, job.new
    buf, chunk = job.buf, job.limits.chunk
    view = buf.data
    lanes = np.arange(item)
    keep_offs: list[np.ndarray] = []
    keep_vals: list[np.ndarray] = []
    offsets = region.sparse_offsets().astype(np.int64)
    # Values at multiples of their size are read through one typed view.
    typed = st.numeric and item == st.size and job.state.align % item == 0
    for pos in range(0, region.size, chunk):
        if region.size <= chunk:                   # one chunk: most areas
            lo, hi = 0, len(offsets)
        else:
            lo, hi = np.searchsorted(offsets, [pos, pos + chunk])
        if lo == hi:
            continue
        sel = offsets[lo:hi]
        end = min(region.size, int(sel[-1]) + item)
        holes = job.memory.read_into(region.start + pos, view[:end - pos], areas=over)
        new.unreadable_bytes += _overlap(holes, region.start + pos, min(end - pos, chunk))
        rel = sel - pos
        # A value must lie within the scanned range (a longer pattern may not).
        valid = None if int(sel[-1]) + item <= region.size else sel + item <= region.size
        if holes:
            ok = np.ones(len(sel), dtype=bool)
            for h in holes:
                h0, h1 = h.address - region.start - pos, h.end - region.start - pos
                ok &= ~((rel + item > h0) & (rel < h1))
            gone = ~ok if valid is None else valid & ~ok
            new.lost += int(np.count_nonzero(gone))
            valid = ok if valid is None else valid & ok
        if st.numeric:
            cur = buf[:end - pos].view(st.dtype)[rel // item] if typed else _gather(buf, rel, st)
            hit = evaluate(cur, cond, region.sparse_values()[lo:hi])
            if valid is not None:
                hit &= valid
            keep_vals.append(cur[hit])
        else:
            rows = buf[rel[:, None] + lanes]
            if cond.mode is Mode.EXACT:
                pattern = cond.pattern
                assert pattern is not None      # make_condition: byte types have one
                m = np.frombuffer(pattern.mask, np.uint8)
                hit = np.all((rows & m) == (np.frombuffer(pattern.data, np.uint8) & m),
                             axis=1)
            else:
                same = np.all(rows == region.sparse_values()[lo:hi], axis=1)
                hit = same if cond.mode is Mode.UNCHANGED else ~same
            if valid is not None:
                hit &= valid
            keep_vals.append(rows[hit])
        keep_offs.append(sel[hit])
        job.live.found += int(np.count_nonzero(hit))
        yield done_before + min(region.size, pos + chunk)
    out = RegionMatches(region.start, region.size)
    out.offsets = _offset_array(np.concatenate(keep_offs) if keep_offs else np.empty(0, int),
                                region.size)
    out.values = np.concatenate(keep_vals) if keep_vals else None
    out.count = len(out.offsets)
    return out


def _next_dense(job: _Step, region: RegionMatches, over: list[MemoryArea],
                done_before: int) -> Generator[int, None, RegionMatches]:
    """Compare the region with its snapshot chunk by chunk; the chunks that
    keep candidates are stored as the new step's snapshot (the old ones stay
    for undo)."""
    item, align, st, cond, new = job.item, job.state.align, job.state.scan_type, job.cond, \
        job.new
    store = job.state.store
    assert store is not None        # next_scan gives the state one
    region_mask = region.dense_mask()
    buf, chunk = job.buf, job.limits.chunk
    view = buf.data
    count = 0
    # The new mask, packed chunk by chunk in place (a chunk's bits are whole
    # bytes, see _check_chunk); pages of chunks without candidates are never
    # touched, so they cost no memory.
    mask = np.zeros((-(-region.size // align) + 7) // 8, dtype=np.uint8)
    relative = cond.mode in RELATIVE_MODES
    for pos in range(0, region.size, chunk):
        this = min(chunk, region.size - pos)
        nb = -(-this // align)          # positions starting in this chunk
        p0 = pos // align               # a multiple of 8 (see _check_chunk)
        cand = np.unpackbits(region_mask[p0 // 8:(p0 + nb + 7) // 8], count=nb).view(bool) \
            if p0 // 8 < len(region_mask) else np.zeros(nb, dtype=bool)
        if not cand.any():
            # No candidates here: never read again, nothing stored.
            yield done_before + pos + this
            continue
        end = min(region.size, pos + this + item - 1)
        n_pos = min(positions_count(end - pos, item, align), nb)   # values that fit
        cand = cand[:n_pos]
        holes = job.memory.read_into(region.start + pos, view[:end - pos], areas=over)
        new.unreadable_bytes += _overlap(holes, region.start + pos, this)
        cur_bytes = buf[:end - pos]
        prev_bytes: np.ndarray | None = None
        if relative or holes:
            # The bytes the positions' values need (all of the read when
            # holes are patched from it); a shorter blob is zero-padded.
            need = end - pos if holes else (n_pos - 1) * align + item if n_pos else 0
            prev_bytes = store.get(region.snapshot_key(pos), need)
            if prev_bytes is None:
                prev_bytes = np.zeros(need, dtype=np.uint8)
        if st.numeric:
            cur = values_at(cur_bytes, st, align, n_pos)
            prev = values_at(prev_bytes, st, align, n_pos) \
                if relative and prev_bytes is not None else None
            hit = evaluate(cur, cond, prev)
        elif cond.mode is Mode.EXACT:
            assert cond.pattern is not None     # make_condition: byte types have one
            hit = _pattern_at(cur_bytes, cond.pattern, align, n_pos)
        else:
            assert prev_bytes is not None       # CHANGED/UNCHANGED are relative
            hit = _same_at(cur_bytes, prev_bytes, item, align, n_pos)
            if cond.mode is Mode.CHANGED:
                hit = ~hit
        hit &= cand
        ok = _hole_free_positions(holes, region.start + pos, n_pos, align, item)
        if ok is not None:
            new.lost += int(np.count_nonzero(cand & ~ok))
            hit &= ok
        hits = int(np.count_nonzero(hit))
        count += hits
        job.live.found += hits
        if hits:
            mask[p0 // 8:p0 // 8 + (n_pos + 7) // 8] = np.packbits(hit)
            # The whole read, tail included: a value that starts in this
            # chunk and ends in the next is whole in this chunk's blob.
            fresh = cur_bytes
            if holes and prev_bytes is not None:
                # Unreadable bytes keep their old snapshot values.
                fresh = fresh.copy()
                for h in holes:
                    a = max(0, h.address - region.start - pos)
                    b = min(end - pos, h.end - region.start - pos)
                    if a < b:
                        fresh[a:b] = prev_bytes[a:b]
            store.put((job.gen, region.start, pos), fresh)
        yield done_before + pos + this
    return RegionMatches(region.start, region.size, mask=mask, snapshot=job.gen, count=count)


def _pattern_at(buf: np.ndarray, pattern: Pattern, align: int, n_pos: int) -> np.ndarray:
    """Bool per position 0, align, ... (n_pos of them): does ``pattern``
    match there? ``buf`` holds every byte those matches need."""
    hit = np.ones(n_pos, dtype=bool)
    if not n_pos:
        return hit
    for k, (d, m) in enumerate(zip(pattern.data, pattern.mask)):
        if not m:
            continue
        lane = buf[k:k + (n_pos - 1) * align + 1:align]
        hit &= (lane == d) if m == 0xFF else ((lane & m) == (d & m))
    return hit


def _same_at(cur: np.ndarray, prev: np.ndarray, item: int, align: int,
             n_pos: int) -> np.ndarray:
    """Bool per position: are the ``item`` bytes there the same in both?"""
    same = np.ones(n_pos, dtype=bool)
    if not n_pos:
        return same
    span = (n_pos - 1) * align + 1
    for k in range(item):
        same &= cur[k:k + span:align] == prev[k:k + span:align]
    return same


def undo(state: ScanState, *, check: bool = True) -> ScanState:
    """The state before the last step (one step of undo is kept). With
    ``check``, the state's process must still be the one it was made on
    (``check_same_process``): matches are never shown for a reused pid.
    Raises InvalidInput (nothing to undo), TargetExited."""
    if not state.history:
        raise InvalidInput("there is no earlier scan step to go back to")
    if check:
        check_same_process(state)
    previous = state.history[-1]
    _drop_files(state, keep=previous)
    back = replace(previous, history=[])
    back.prepare_index()
    return back


# -- helpers ------------------------------------------------------------------------------------

def _all_set(n: int) -> np.ndarray:
    """Packed bits for n positions, all candidates."""
    out = np.full((n + 7) // 8, 0xFF, dtype=np.uint8)
    if n % 8:
        out[-1] = (0xFF << (8 - n % 8)) & 0xFF
    return out


def _runs(chosen: list[MemoryArea]) -> list[list[MemoryArea]]:
    """``chosen`` (sorted, disjoint) cut into runs of adjacent areas."""
    runs: list[list[MemoryArea]] = []
    for a in chosen:
        if runs and runs[-1][-1].end == a.start:
            runs[-1].append(a)
        else:
            runs.append([a])
    return runs


def _areas_over(areas: list[MemoryArea], ends: list[int], start: int,
                end: int) -> list[MemoryArea]:
    """The areas (sorted by start, ``ends`` their ends) that overlap
    [start, end): a binary search, then only the overlapping ones."""
    i = bisect.bisect_right(ends, start)
    out = []
    while i < len(areas) and areas[i].start < end:
        out.append(areas[i])
        i += 1
    return out


def _gaps(areas: list[MemoryArea], start: int, end: int) -> list[tuple[int, int]]:
    """The parts of [start, end) that no area of ``areas`` (sorted) covers."""
    out, cursor = [], start
    for a in areas:
        if a.start > cursor:
            out.append((cursor, min(a.start, end)))
        cursor = max(cursor, a.end)
    if cursor < end:
        out.append((cursor, end))
    return out


def _check_chunk(limits: ScanLimits, align: int) -> None:
    # Dense masks are packed per chunk: a chunk must hold whole bytes of bits.
    if limits.chunk % (8 * align):
        raise InvalidInput(f"an alignment of {align} bytes is not supported: it must divide "
                           f"{limits.chunk // 8} (1, 2, 4, 8, 16 … bytes)")


def _block_starts(mask: np.ndarray) -> np.ndarray:
    """How many bits are set before each INDEX_BLOCK bytes of ``mask``; a
    slice at a time, so the temporaries stay small."""
    n_blocks = -(-len(mask) // INDEX_BLOCK)
    counts = np.zeros(n_blocks, dtype=np.int64)
    step = 4096 * INDEX_BLOCK
    for lo in range(0, len(mask), step):
        part = mask[lo:lo + step]
        pad = (-len(part)) % INDEX_BLOCK
        if pad:
            part = np.concatenate([part, np.zeros(pad, np.uint8)])
        # Eight bytes at a time (INDEX_BLOCK is a multiple of 8).
        bits = _popcount(part.view(np.uint64)).reshape(-1, INDEX_BLOCK // 8).sum(
            axis=1, dtype=np.int64)
        counts[lo // INDEX_BLOCK:lo // INDEX_BLOCK + len(bits)] = bits
    starts = np.zeros(n_blocks, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return starts


def _popcount(words: np.ndarray) -> np.ndarray:
    """Set bits in each uint64 (numpy >= 2 has a ufunc for it)."""
    if hasattr(np, "bitwise_count"):
        return np.asarray(np.bitwise_count(words))
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
    return np.asarray(table[words.view(np.uint8)].reshape(-1, 8).sum(axis=1, dtype=np.uint8))


def _without_history(state: ScanState) -> ScanState:
    return replace(state, history=[])


def _drop_files(state: ScanState, keep: ScanState) -> None:
    """Free ``state``'s snapshot generations that ``keep`` does not use."""
    if state.store is None:
        return
    kept = {r.snapshot for r in keep.regions if r.snapshot is not None}
    for gen in {r.snapshot for r in state.regions if r.snapshot is not None} - kept:
        state.store.drop_generation(gen)


def _offset_itemsize(size: int) -> int:
    return 4 if size <= 0xFFFFFFFF else 8


def _offset_array(offsets: np.ndarray, size: int) -> np.ndarray:
    return offsets.astype(np.uint32 if size <= 0xFFFFFFFF else np.uint64)


def _overlap(holes: list[Hole], start: int, size: int) -> int:
    return sum(max(0, min(h.end, start + size) - max(h.address, start)) for h in holes)


def _hole_free_positions(holes: list[Hole], start: int, n_pos: int, align: int,
                         item: int) -> np.ndarray | None:
    """Mask of positions whose whole value lies outside every hole (None: all)."""
    if not holes:
        return None
    ok = np.ones(n_pos, dtype=bool)
    pos = np.arange(n_pos, dtype=np.int64) * align
    for h in holes:
        h0, h1 = h.address - start, h.end - start
        ok &= ~((pos + item > h0) & (pos < h1))
    return ok


def _gather(buf: np.ndarray, rel: np.ndarray, st: ScanType) -> np.ndarray:
    """The typed values at byte offsets ``rel`` of ``buf``."""
    rows = buf[rel[:, None] + np.arange(st.size)]
    return np.ascontiguousarray(rows).view(st.dtype).reshape(-1)


def _to_sparse(region: RegionMatches, state: ScanState) -> RegionMatches:
    n_total = _positions(region, state)
    positions = np.flatnonzero(np.unpackbits(region.dense_mask(), count=n_total)) * state.align
    rows = _snapshot_rows(state.store, region, positions, state.item_size)
    if state.scan_type.numeric:
        values = np.ascontiguousarray(rows).view(state.scan_type.dtype).reshape(-1)
    else:
        values = rows
    return RegionMatches(region.start, region.size,
                         offsets=_offset_array(positions, region.size), values=values,
                         count=len(positions))


# -- saving a scan for the CLI ------------------------------------------------------------------
#
# A session file: MAGIC, a u32 header length and the JSON header (the steps,
# their regions and what each holds), then the arrays and snapshot chunks of
# every region of every step, in header order: arrays as records of
# (u32 length, u32 stored size, LZ4 block) of at most PIECE bytes each,
# snapshot chunks as (u64 offset, u8 codec) and one such record holding the
# store's blob as it is (see scan_store.Blob).
# Written and read one record (at most a chunk) at a time, so saving and
# loading hold no more than the scan itself does.

SESSION_MAGIC = b"LAINSCAN\x03\n"
PIECE = 1 << 20                 # bytes of an array per record
_RECORD = struct.Struct("<II")
_POS = struct.Struct("<QB")         # a snapshot chunk's offset and codec
_MAX_HEADER = 256 << 20
_MAX_CHUNK = 64 << 20
_MAX_ADDRESS = 1 << 64


def is_session_file(path: str) -> bool:
    """Whether ``path`` is a regular file that starts like a scan session
    (:data:`SESSION_MAGIC`, :func:`save_state`'s format): what a first scan
    may overwrite without being forced. An old .npz session is not one.
    Reads the magic only, opens nothing but a regular file (a FIFO would
    block); never raises."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        with open(path, "rb") as f:
            return f.read(len(SESSION_MAGIC)) == SESSION_MAGIC
    except OSError:
        return False


def _write_array(f: IO[bytes], arr: np.ndarray) -> None:
    raw = np.ascontiguousarray(arr).data.cast("B")
    for lo in range(0, len(raw), PIECE):
        piece = raw[lo:lo + PIECE]
        data = lz4.block.compress(piece, store_size=False)
        f.write(_RECORD.pack(len(piece), len(data)))
        f.write(data)


def save_state(state: ScanState, path: str) -> None:
    """Write the scan (every step undo can reach, snapshots included) to one
    file, streamed: a record (at most a chunk) at a time, compressed. Raises
    InvalidInput when the file cannot be written."""
    steps = [*state.history, _without_history(state)]
    store = state.store
    header: dict[str, Any] = {"version": 2, "pid": state.pid, "start_ticks": state.start_ticks,
              "type": state.scan_type.name, "big_endian": state.scan_type.big_endian,
              "align": state.align, "chunk": store.chunk if store else CHUNK, "steps": []}
    blobs: dict[tuple[int, int], list[int]] = {}
    for st in steps:
        regions = []
        for r in st.regions:
            if r.dense:
                offsets = store.keys(r.snapshot, r.start) \
                    if store is not None and r.snapshot is not None else []
                blobs[(id(st), r.start)] = offsets
                regions.append([r.start, r.size, r.count, len(r.dense_mask()), len(offsets)])
            else:
                regions.append([r.start, r.size, r.count if r.offsets is not None else 0,
                                -1, 0])
        header["steps"].append({"step": st.step, "condition": st.condition,
                                "item": st.item_size, "scanned": st.scanned_bytes,
                                "unreadable": st.unreadable_bytes,
                                "vanished": [list(v) for v in st.vanished], "lost": st.lost,
                                "regions": regions})
    head = json.dumps(header).encode()
    with atomic_private_file(path, "wb") as f:
        f.write(SESSION_MAGIC + struct.pack("<I", len(head)) + head)
        for st in steps:
            for r in st.regions:
                if r.dense:
                    _write_array(f, r.dense_mask())
                    for pos in blobs[(id(st), r.start)]:
                        assert store is not None    # blobs has offsets only with one
                        blob = store.blob(r.snapshot_key(pos))
                        if blob is None:
                            blob = Blob(0, b"\0", FILL)
                        f.write(_POS.pack(pos, blob.codec) +
                                _RECORD.pack(blob.length, len(blob.data)))
                        f.write(blob.data)
                elif r.offsets is not None and r.count:
                    _write_array(f, r.offsets)
                    _write_array(f, r.sparse_values())


class _SessionReader:
    """Reads a session file's records, checking every size against what the
    header and the file allow before allocating."""

    def __init__(self, path: str, f: IO[bytes], size: int):
        self.path, self.f, self.size = path, f, size

    def bad(self, what: str) -> InvalidInput:
        return InvalidInput(f"{self.path} is not a valid lainview scan session: {what}")

    def exact(self, n: int, what: str) -> bytes:
        if n > self.size - self.f.tell():
            raise self.bad(f"it ends inside {what}")
        data = self.f.read(n)
        if len(data) != n:
            raise self.bad(f"it ends inside {what}")
        return data

    def record(self, limit: int, what: str, lz4_only: bool = True) -> tuple[int, bytes]:
        length, stored = _RECORD.unpack(self.exact(_RECORD.size, what))
        if length > limit:
            raise self.bad(f"{what}: a record of {length} bytes (at most {limit} expected)")
        if lz4_only and length > MAX_RATIO * stored + 64:
            raise self.bad(f"{what}: a record claims {length} bytes from {stored}")
        return length, self.exact(stored, what)

    def array(self, nbytes: int, what: str) -> np.ndarray:
        out = np.empty(nbytes, dtype=np.uint8)
        at = 0
        while at < nbytes:
            want = min(PIECE, nbytes - at)
            length, data = self.record(want, what)
            if length != want or not data:
                raise self.bad(f"{what}: a record of {length} bytes where {want} belong")
            try:
                n = lz4.block.decompress(data, uncompressed_size=length)
            except lz4.block.LZ4BlockError:
                raise self.bad(f"{what}: a compressed record is corrupt") from None
            if len(n) != length:
                raise self.bad(f"{what}: a compressed record has the wrong length")
            out[at:at + length] = np.frombuffer(n, dtype=np.uint8)
            at += length
        return out


def load_state(path: str, *, limits: ScanLimits = ScanLimits()) -> ScanState:
    """Read a scan written by :func:`save_state`. Snapshot chunks go to a new
    store (in memory up to ``limits.snapshot_memory``, spilled beyond).
    Raises InvalidInput naming the file and what is wrong with it, for any
    file that is not a whole, consistent session (nothing is left behind)."""
    steady_malloc()
    try:
        # O_NONBLOCK: a FIFO named as the session must not block the open
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as exc:
        raise InvalidInput(f"cannot read the scan session {path}: "
                           f"{exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InvalidInput(f"{path} is not a valid lainview scan session: "
                           "it is not a regular file")
    f = open(fd, "rb")
    with f:
        size = os.fstat(f.fileno()).st_size
        reader = _SessionReader(path, f, size)
        magic = f.read(len(SESSION_MAGIC))
        if magic != SESSION_MAGIC:
            if magic.startswith(b"PK"):
                raise reader.bad("it is in an older format (run the first scan again)")
            raise reader.bad("it does not start like one")
        workdir = tempfile.mkdtemp(prefix="lainview-scan-")
        store = None
        try:
            (n,) = struct.unpack("<I", reader.exact(4, "the header"))
            if n > _MAX_HEADER:
                raise reader.bad(f"a header of {n} bytes")
            try:
                header = json.loads(reader.exact(n, "the header").decode())
            except (UnicodeDecodeError, ValueError) as exc:
                raise reader.bad(f"its header is not JSON ({exc})") from None
            state, store = _load_steps(reader, header, workdir, limits)
            if f.tell() != size:
                raise reader.bad(f"{size - f.tell()} bytes after the last record")
            return state
        except InvalidInput:
            if store is not None:
                store.close()
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        except (KeyError, IndexError, TypeError, ValueError, OverflowError,
                struct.error) as exc:
            if store is not None:
                store.close()
            shutil.rmtree(workdir, ignore_errors=True)
            raise reader.bad(f"{type(exc).__name__}: {exc}") from None
        except BaseException:
            if store is not None:
                store.close()
            shutil.rmtree(workdir, ignore_errors=True)
            raise


def _field(reader: "_SessionReader", obj: object, name: str, kind: type, what: str, *,
           low: int | None = None, high: int | None = None) -> Any:
    """``obj[name]``, checked to be a ``kind`` within [low, high]; raises
    the reader's InvalidInput naming ``what`` otherwise."""
    if not isinstance(obj, dict) or name not in obj:
        raise reader.bad(f"{what} has no {name!r}")
    value = obj[name]
    if kind is int and (not isinstance(value, int) or isinstance(value, bool)):
        raise reader.bad(f"{what}: {name} is not an integer")
    if kind is not int and not isinstance(value, kind):
        raise reader.bad(f"{what}: {name} is not a {kind.__name__}")
    if low is not None and value < low:
        raise reader.bad(f"{what}: {name} {value} is below {low}")
    if high is not None and value > high:
        raise reader.bad(f"{what}: {name} {value} is above {high}")
    return value


def _load_steps(reader: _SessionReader, header: object, workdir: str,
                limits: ScanLimits) -> tuple[ScanState, SnapshotStore]:
    b = reader
    if not isinstance(header, dict) or header.get("version") != 2:
        raise b.bad(f"unsupported version {header.get('version') if isinstance(header, dict) else None}")
    pid = _field(b, header, "pid", int, "the header", low=1, high=1 << 22)
    start_ticks = header.get("start_ticks")
    if start_ticks is not None and (not isinstance(start_ticks, int) or start_ticks < 0):
        raise b.bad("the header: start_ticks is not a count of ticks")
    name = _field(b, header, "type", str, "the header")
    if name not in value_types.names():
        raise b.bad(f"unknown value type {name!r}")
    scan_type = ScanType(name, bool(header.get("big_endian", False)))
    align = _field(b, header, "align", int, "the header", low=1, high=4096)
    chunk = _field(b, header, "chunk", int, "the header", low=8 * align, high=_MAX_CHUNK)
    if chunk % (8 * align):
        raise b.bad(f"the chunk {chunk} is not a multiple of 8 x the alignment {align}")
    steps = _field(b, header, "steps", list, "the header")
    if not steps:
        raise b.bad("it holds no scan step")
    store = SnapshotStore(workdir, chunk, limits.snapshot_memory)
    states = []
    for k, step in enumerate(steps):
        what = f"step {k + 1}"
        item = _field(b, step, "item", int, what, low=1, high=1 << 16)
        if scan_type.numeric and item != scan_type.size:
            raise b.bad(f"{what}: item size {item} for {name}")
        gen = store.new_generation()
        regions = []
        last_end = 0
        for i, entry in enumerate(_field(b, step, "regions", list, what)):
            where = f"{what}, region {i + 1}"
            if not isinstance(entry, list) or len(entry) != 5 or \
                    not all(isinstance(v, int) and not isinstance(v, bool) for v in entry):
                raise b.bad(f"{where} is not five integers")
            start, size, count, mask_len, n_blobs = entry
            if start < last_end or size <= 0 or start + size > _MAX_ADDRESS:
                raise b.bad(f"{where}: range {start:#x}+{size:#x} is out of order or bounds")
            last_end = start + size
            positions = -(-size // align)
            if not 0 <= count <= positions:
                raise b.bad(f"{where}: {count} candidates in {positions} positions")
            r = RegionMatches(start, size, count=count)
            if mask_len >= 0:
                if mask_len > (positions + 7) // 8 or count > 8 * mask_len:
                    raise b.bad(f"{where}: a mask of {mask_len} bytes")
                r.mask = b.array(mask_len, f"{where}'s mask")
                if int(_popcount_bytes(r.mask)) != count:
                    raise b.bad(f"{where}: its mask does not hold {count} candidates")
                if not 0 <= n_blobs <= -(-size // chunk):
                    raise b.bad(f"{where}: {n_blobs} snapshot chunks")
                r.snapshot = gen
                prev = -1
                for _ in range(n_blobs):
                    pos, codec = _POS.unpack(b.exact(_POS.size, f"{where}'s snapshot"))
                    if pos % chunk or pos >= size or pos <= prev:
                        raise b.bad(f"{where}: a snapshot chunk at offset {pos:#x}")
                    prev = pos
                    # Bounded by the chunk (checked above), whatever the codec.
                    length, data = b.record(chunk + item, f"{where}'s snapshot",
                                            lz4_only=False)
                    blob = Blob(length, data, codec)
                    try:
                        blob.unpack()      # corrupt blocks are refused now, not later
                    except InvalidInput:
                        raise b.bad(f"{where}: a snapshot chunk at offset {pos:#x} is "
                                    "corrupt") from None
                    store.put_blob((gen, start, pos), blob)
            else:
                if n_blobs:
                    raise b.bad(f"{where}: snapshot chunks in a sparse region")
                off_size = _offset_itemsize(size)
                if count:
                    offs = b.array(count * off_size, f"{where}'s offsets").view(
                        np.uint32 if off_size == 4 else np.uint64)
                    if np.any(np.diff(offs.astype(np.int64)) <= 0) or \
                            int(offs[-1]) + item > size or int(offs[0]) % align or \
                            np.any(offs % align):
                        raise b.bad(f"{where}: its offsets are not ascending aligned "
                                    "offsets inside it")
                    vals = b.array(count * item, f"{where}'s values")
                    r.offsets = offs
                    r.values = vals.view(scan_type.dtype) if scan_type.numeric else \
                        vals.reshape(count, item)
                else:
                    r.offsets = np.empty(0, dtype=np.uint32)
            regions.append(r)
        vanished = _field(b, step, "vanished", list, what)
        if not all(isinstance(v, list) and len(v) == 2 and
                   all(isinstance(x, int) for x in v) for v in vanished):
            raise b.bad(f"{what}: vanished is not a list of ranges")
        states.append(ScanState(
            pid=pid, start_ticks=start_ticks, scan_type=scan_type, align=align,
            item_size=item, regions=regions, workdir=workdir,
            step=_field(b, step, "step", int, what, low=1),
            condition=str(step.get("condition", "")),
            scanned_bytes=_field(b, step, "scanned", int, what, low=0),
            unreadable_bytes=_field(b, step, "unreadable", int, what, low=0),
            vanished=[tuple(v) for v in vanished],
            lost=_field(b, step, "lost", int, what, low=0), store=store))
    current = states[-1]
    current.history = states[:-1]
    current.prepare_index()
    return current, store


def _popcount_bytes(mask: np.ndarray) -> int:
    pad = (-len(mask)) % 8
    words = np.concatenate([mask, np.zeros(pad, np.uint8)]).view(np.uint64) if pad \
        else mask.view(np.uint64)
    return int(_popcount(words).sum(dtype=np.int64))


def check_same_process(state: ScanState, start_ticks: int | None = None) -> None:
    """Refuse a scan ``state`` whose process is gone or is not the one the
    scan was made on: its start time (``start_ticks``, read afresh from
    /proc/<pid>/stat when not given) must be the one the first scan
    recorded. A reused pid never yields matches. Raises TargetExited."""
    if start_ticks is None:
        start_ticks = _process_start(state.pid)
    if start_ticks is None:
        raise TargetExited(f"process {state.pid} has exited", op="scan",
                           errno=_errno.ESRCH, pid=state.pid)
    if state.start_ticks is None:
        raise TargetExited(f"cannot tell whether process {state.pid} is the process this "
                           "scan was made on (its start time was not recorded)", op="scan",
                           errno=_errno.ESRCH, pid=state.pid)
    if start_ticks != state.start_ticks:
        raise TargetExited(f"process {state.pid} is not the process this scan was made on "
                           "(it exited, or its pid was reused)", op="scan",
                           errno=_errno.ESRCH, pid=state.pid)


__all__ = ["ScanType", "Pattern", "Mode", "Condition", "ScanState", "ScanLimits",
           "AreaFilter", "SKIPPED_KINDS", "RegionMatches", "LiveCount", "first_scan", "next_scan",
           "undo", "make_condition", "check_same_process",
           "save_state", "load_state", "is_session_file", "SESSION_MAGIC",
           "LainviewError"]
