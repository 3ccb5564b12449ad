"""The value scanner: find where a value lives, then narrow it down.

A *first scan* walks the chosen areas in chunks of about 1 MiB, read into one
reused buffer on the backend thread, and compares each chunk with numpy. A
*next scan* re-reads only the chunks that still hold candidates and keeps
the ones that changed, stayed, grew, shrank, or now hold a value.

Candidates of one area are kept in one of two forms:

- **sparse**: sorted offsets (uint32/uint64) and the value bytes seen last,
  when they are few enough (``ScanLimits.sparse_max`` in all);
- **dense**: a bit per position plus a snapshot of the area's bytes in a file
  under the scan's directory, for "unknown initial value" scans and other
  huge candidate sets. Memory then stays at one bit per position.

A first exact, range or pattern scan starts sparse. Once the candidates kept
in all areas pass ``sparse_max``, an area whose offsets and values would cost
more than its mask turns dense mid-scan: the candidates it kept so far become
bits, and their values are written to the snapshot at their offsets (no
second read of the target; only candidate positions of a snapshot are ever
read back). So a first scan holds at most ``sparse_max`` x (offset + value)
bytes plus one bit per scanned position, e.g. 8 MiB for i32 ``0`` over 256 MiB
instead of 512 MiB.

``ScanState.memory_bytes`` and ``disk_bytes`` tell the user what a scan costs.
Each step keeps the previous state for one ``undo`` (dense snapshots are
written to a new file, never in place; the step before that is deleted).
"""

from __future__ import annotations

import bisect
import enum
import errno as _errno
import glob
import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field, replace
from typing import Generator

import numpy as np

from .errors import InvalidInput, LainviewError, TargetExited
from .files import atomic_private_file
from .memory import Hole, MemoryArea, Perm, page_buffer, page_ceil, page_floor
from .session import ProcessSession

# Chunks are read and compared on the backend thread, one after the other.
# Comparing chunk N on a worker while chunk N+1 is read was measured slower
# here (2 vCPUs, 1 MiB chunks: 3.2-3.8 vs 3.9-4.6 GiB/s read+compare inline):
# a hand-off alone (futex wake and a context switch) costs about as much as
# the compare, and the worker compares a buffer that sits in the reading
# core's L2, so it is slower than inline (~490 vs ~300 us per read+compare).
CHUNK = 1 << 20
INDEX_BLOCK = 4096       # bytes of a dense mask (32,768 positions) per index entry

# -- types and values ------------------------------------------------------------------

_NUMERIC = {"i8": "i1", "u8": "u1", "i16": "i2", "u16": "u2", "i32": "i4", "u32": "u4",
            "i64": "i8", "u64": "u8", "f32": "f4", "f64": "f8"}
TYPE_NAMES = tuple(_NUMERIC) + ("bytes", "utf8", "utf16le")


@dataclass(frozen=True, slots=True)
class ScanType:
    """What is scanned for: a numeric type with its byte order, or a byte
    pattern (``bytes``; strings are patterns too)."""

    name: str
    big_endian: bool = False

    def __post_init__(self):
        if self.name not in TYPE_NAMES:
            raise InvalidInput(f"unknown value type {self.name!r}: choose one of "
                               f"{', '.join(TYPE_NAMES)}")

    @property
    def numeric(self) -> bool:
        return self.name in _NUMERIC

    @property
    def is_float(self) -> bool:
        return self.name in ("f32", "f64")

    @property
    def dtype(self) -> np.dtype:
        if not self.numeric:
            raise InvalidInput(f"{self.name} is not a numeric type")
        return np.dtype(("<" if not self.big_endian else ">") + _NUMERIC[self.name])

    @property
    def size(self) -> int:
        return self.dtype.itemsize if self.numeric else 1

    @property
    def natural_alignment(self) -> int:
        if self.numeric:
            return self.size
        return 2 if self.name == "utf16le" else 1


@dataclass(frozen=True, slots=True)
class Pattern:
    """A byte pattern; ``mask`` is 0 where the pattern has a ``??`` wildcard."""

    data: bytes
    mask: bytes

    def __len__(self) -> int:
        return len(self.data)

    def matches(self, candidate: bytes) -> bool:
        return all((c & m) == (d & m) for c, d, m in zip(candidate, self.data, self.mask))

    def text(self) -> str:
        """The pattern as typed: hex bytes, ``??`` for each wildcard."""
        return " ".join(f"{d:02x}" if m else "??" for d, m in zip(self.data, self.mask))


def parse_pattern(text: str, scan_type: ScanType) -> Pattern:
    """``bytes``: hex with ``??`` wildcards ("de ad ?? ef"); ``utf8`` and
    ``utf16le``: the text itself, encoded."""
    if scan_type.name == "utf8":
        data = text.encode("utf-8")
    elif scan_type.name == "utf16le":
        data = text.encode("utf-16-le")
    else:
        tokens = re.sub(r"0x", " ", text, flags=re.IGNORECASE).replace(",", " ").split()
        if len(tokens) == 1 and len(tokens[0]) > 2:
            tokens = re.findall(r"..", tokens[0]) if len(tokens[0]) % 2 == 0 else tokens
        out, mask = bytearray(), bytearray()
        for tok in tokens:
            if tok == "??":
                out.append(0)
                mask.append(0)
            elif re.fullmatch(r"[0-9a-fA-F]{2}", tok):
                out.append(int(tok, 16))
                mask.append(0xFF)
            else:
                raise InvalidInput(f"malformed byte pattern: {tok!r} (expected two hex "
                                   "digits or ?? per byte, e.g. 'de ad ?? ef')")
        if not any(mask):
            raise InvalidInput("a byte pattern needs at least one byte that is not ??")
        return Pattern(bytes(out), bytes(mask))
    if not data:
        raise InvalidInput("cannot scan for an empty string")
    return Pattern(data, b"\xff" * len(data))


def parse_number(text: str, scan_type: ScanType):
    """A value of ``scan_type`` from text; range-checked for integers."""
    t = text.strip().lower()
    try:
        if scan_type.is_float:
            return float(t)
        value = int(t, 16) if t.startswith(("0x", "-0x")) else int(t, 10)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a {scan_type.name} value") from None
    info = np.iinfo(scan_type.dtype)
    if not info.min <= value <= info.max:
        raise InvalidInput(f"{value} does not fit in {scan_type.name} "
                           f"({info.min}..{info.max})")
    return value


# -- conditions ---------------------------------------------------------------------------

class Mode(enum.Enum):
    EXACT = "exact"
    RANGE = "range"
    UNKNOWN = "unknown"           # first scan only: remember everything
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    INCREASED = "increased"
    DECREASED = "decreased"
    INCREASED_BY = "increased-by"
    DECREASED_BY = "decreased-by"


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

    def describe(self) -> str:
        if self.pattern is not None:
            return f"{self.mode.value} {self.pattern.text()}"
        if self.mode is Mode.RANGE:
            return f"range {self.low}..{self.high}"
        if self.value is not None:
            return f"{self.mode.value} {self.value}"
        return self.mode.value


def make_condition(scan_type: ScanType, mode: Mode | str, value: str | None = None,
                   *, tolerance: float | None = None) -> Condition:
    """Build a condition from user text. RANGE takes "LOW..HIGH"."""
    mode = Mode(mode) if isinstance(mode, str) else mode
    tol = float(tolerance) if tolerance is not None else (1e-6 if scan_type.is_float else 0.0)
    if tol < 0:
        raise InvalidInput("the tolerance must not be negative")
    if not scan_type.numeric:
        if mode is not Mode.EXACT and mode not in (Mode.CHANGED, Mode.UNCHANGED, Mode.UNKNOWN):
            raise InvalidInput(f"{scan_type.name} scans can be exact, changed or unchanged, "
                               f"not {mode.value}")
        if mode is Mode.EXACT:
            if value is None:
                raise InvalidInput("an exact scan needs a value")
            return Condition(mode, pattern=parse_pattern(value, scan_type))
        return Condition(mode)
    if mode in (Mode.EXACT, Mode.INCREASED_BY, Mode.DECREASED_BY):
        if value is None:
            raise InvalidInput(f"a {mode.value} scan needs a value")
        return Condition(mode, value=parse_number(value, scan_type), tolerance=tol)
    if mode is Mode.RANGE:
        if value is None or ".." not in value:
            raise InvalidInput("a range scan needs LOW..HIGH, e.g. 10..20")
        low_text, high_text = value.split("..", 1)
        low, high = parse_number(low_text, scan_type), parse_number(high_text, scan_type)
        if low > high:
            raise InvalidInput(f"empty range {low}..{high}")
        return Condition(mode, low=low, high=high, tolerance=tol)
    return Condition(mode, tolerance=tol)


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
        return np.abs(cur - cond.value) <= tol if is_float else cur == cond.value
    if mode is Mode.RANGE:
        return (cur >= cond.low - tol) & (cur <= cond.high + tol) if is_float \
            else (cur >= cond.low) & (cur <= cond.high)
    if mode is Mode.UNKNOWN:
        return np.ones(cur.shape, dtype=bool)
    assert prev is not None
    if mode is Mode.CHANGED:
        return np.abs(cur - prev) > tol if is_float else cur != prev
    if mode is Mode.UNCHANGED:
        return np.abs(cur - prev) <= tol if is_float else cur == prev
    if mode is Mode.INCREASED:
        return cur > prev + tol if is_float else cur > prev
    if mode is Mode.DECREASED:
        return cur < prev - tol if is_float else cur < prev
    delta = cond.value if mode is Mode.INCREASED_BY else -cond.value
    if is_float:
        return np.abs((cur - prev) - delta) <= tol
    with np.errstate(over="ignore"):
        return (cur - prev) == np.array(delta).astype(cur.dtype)


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
    snapshot: str | None = None           # dense: file with the area's bytes
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
            self.block_starts = _block_starts(self.mask)
        return self.block_starts

    def offsets_between(self, start: int, stop: int, align: int) -> np.ndarray:
        """Offsets (from ``self.start``) of candidates start..stop-1 of this region."""
        if not self.count or stop <= start:
            return np.empty(0, np.int64)
        if not self.dense:
            return self.offsets[start:stop].astype(np.int64)
        starts = self.prepare_index()
        out = []
        block = int(np.searchsorted(starts, start, side="right")) - 1
        i = start
        while i < stop and block < len(starts):
            lo = block * INDEX_BLOCK
            bits = np.flatnonzero(np.unpackbits(self.mask[lo:lo + INDEX_BLOCK]))
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
    chunk: int = CHUNK
    sparse_max: int = 20_000_000     # candidates kept as offsets before going dense


@dataclass
class ScanState:
    """One step of a scan: its candidates, what it cost, and its history."""

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
    history: list["ScanState"] = field(default_factory=list, repr=False)

    @property
    def count(self) -> int:
        return sum(r.count for r in self.regions)

    @property
    def memory_bytes(self) -> int:
        return sum(r.memory_bytes() for r in self.regions) + \
            sum(s.memory_bytes for s in self.history)

    @property
    def disk_bytes(self) -> int:
        total = 0
        for state in [self, *self.history]:
            for r in state.regions:
                if r.snapshot and os.path.exists(r.snapshot):
                    total += os.stat(r.snapshot).st_blocks * 512   # files are sparse
        return total

    def addresses(self, limit: int | None = None) -> np.ndarray:
        """Candidate addresses, ascending (at most ``limit``)."""
        out = []
        remaining = limit if limit is not None else self.count
        for r in self.regions:
            if remaining <= 0:
                break
            if not r.count:
                continue
            offs = r.offsets if not r.dense else \
                np.flatnonzero(np.unpackbits(r.mask)[:_positions(r, self)]) * self.align
            offs = offs[:remaining]
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
        rows = np.zeros((len(offs), self.item_size), np.uint8)
        try:
            snap = np.memmap(region.snapshot, dtype=np.uint8, mode="r")
        except (OSError, ValueError):
            snap = None
        if snap is not None and len(offs):
            ok = offs + self.item_size <= len(snap)
            idx = offs[ok][:, None] + np.arange(self.item_size)
            rows[ok] = snap[idx]
        del snap
        return rows.view(self.scan_type.dtype).reshape(-1) if typed else rows

    def values_at(self, addresses: list[int]) -> list[bytes | None]:
        """This step's value (``item_size`` bytes, target order) of each
        address; None where the address is not a candidate of this step or
        its value was not kept. The match list asks the step before for the
        values of the rows it shows (its *Previous* column)."""
        starts = [r.start for r in self.regions]
        out: list[bytes | None] = []
        snaps: dict[int, np.ndarray | None] = {}
        for address in addresses:
            k = bisect.bisect_right(starts, address) - 1
            region = self.regions[k] if k >= 0 else None
            off = address - region.start if region is not None else -1
            if region is None or not region.count or not 0 <= off <= region.size - \
                    self.item_size or off % self.align:
                out.append(None)
                continue
            if region.dense:
                pos = off // self.align
                if not (int(region.mask[pos >> 3]) >> (7 - (pos & 7))) & 1:
                    out.append(None)
                    continue
                if k not in snaps:
                    try:
                        snaps[k] = np.memmap(region.snapshot, dtype=np.uint8, mode="r")
                    except (OSError, ValueError, TypeError):
                        snaps[k] = None
                snap = snaps[k]
                ok = snap is not None and off + self.item_size <= len(snap)
                out.append(snap[off:off + self.item_size].tobytes() if ok else None)
                continue
            j = int(np.searchsorted(region.offsets, off))
            if j >= len(region.offsets) or int(region.offsets[j]) != off \
                    or region.values is None:
                out.append(None)
                continue
            out.append(np.asarray(region.values[j]).tobytes())
        return out

    def close(self) -> None:
        """Delete the scan's files (snapshots of every step)."""
        shutil.rmtree(self.workdir, ignore_errors=True)


def _positions(region: RegionMatches, state: ScanState) -> int:
    return positions_count(region.size, state.item_size, state.align)


# -- choosing areas --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AreaFilter:
    """Which areas a first scan covers: writable private ones by default;
    read-only anonymous ones with ``include_readonly``, read-only file
    mappings with ``include_file_backed``, shared ones (which must pass the
    other tests too) with ``include_shared``."""

    include_readonly: bool = False
    include_file_backed: bool = False
    include_shared: bool = False
    ranges: tuple[tuple[int, int], ...] = ()     # a chosen set, e.g. from the VMA table

    def select(self, areas: list[MemoryArea]) -> list[MemoryArea]:
        if self.ranges:
            # A chosen set: every area in it, clipped to it (at page bounds);
            # unreadable ones too, so their pages are counted as skipped.
            out = []
            for a in areas:
                for s, e in self.ranges:
                    lo, hi = max(a.start, page_floor(s)), min(a.end, page_ceil(e))
                    if lo < hi:
                        out.append(replace(a, start=lo, end=hi))
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

def first_scan(session: ProcessSession, scan_type: ScanType, cond: Condition, *,
               align: int | None = None, areas: AreaFilter = AreaFilter(),
               limits: ScanLimits = ScanLimits(), workdir: str | None = None,
               start_ticks: int | None = None,
               live: LiveCount | None = None) -> Generator[int, None, ScanState]:
    """A bulk job: scan the chosen areas; yields bytes done, returns the state
    (indexed: see ``ScanState.prepare_index``). ``live`` counts as it goes."""
    live = live if live is not None else LiveCount()
    if cond.mode not in FIRST_MODES:
        raise InvalidInput(f"a first scan is exact, range or unknown, not {cond.mode.value}")
    align = align or scan_type.natural_alignment
    _check_chunk(limits, align)
    item = len(cond.pattern) if cond.pattern is not None else scan_type.size
    if cond.mode is Mode.UNKNOWN and not scan_type.numeric:
        item = 1
    chosen = areas.select(session.areas(refresh=True))
    if not chosen:
        raise InvalidInput("no areas to scan with these settings (try including "
                           "read-only or file-backed areas)")
    made = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix="lainview-scan-")
    try:
        return (yield from _first_scan(session, scan_type, cond, chosen, align, item, limits,
                                       workdir, start_ticks, live))
    except BaseException:
        # Cancelled, failed or the target exited: leave no snapshot behind.
        if made:
            shutil.rmtree(workdir, ignore_errors=True)
        raise


def _first_scan(session, scan_type, cond, chosen, align, item, limits, workdir, start_ticks,
                live):
    state = ScanState(pid=session.pid, start_ticks=start_ticks, scan_type=scan_type,
                      align=align, item_size=item, regions=[], workdir=workdir,
                      step=1, condition=cond.describe())
    buf = np.frombuffer(page_buffer(limits.chunk + item), dtype=np.uint8)   # page-aligned
    view = memoryview(buf)
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
    for area in chosen:
        region = RegionMatches(start=area.start, size=area.size)
        dense = None
        if cond.mode is Mode.UNKNOWN:
            dense = _DenseWriter(_snapshot_name(workdir, 1, area), area.size,
                                 positions_count(area.size, item, align), align, limits.chunk)
        offs, vals = [], []
        n_sparse = 0
        readable_any = False
        for pos in range(0, area.size, limits.chunk):
            # Read the chunk plus the bytes a value starting near its end needs.
            this = min(limits.chunk, area.size - pos)
            end = min(area.size, pos + this + spill)
            n_pos = min(positions_count(end - pos, item, align), -(-this // align))
            chunk = buf[:end - pos]
            holes = session.read_into(area.start + pos, view[:end - pos], areas=[area])
            if holes:
                state.unreadable_bytes += _overlap(holes, area.start + pos, this)
                readable_any |= sum(h.size for h in holes) < end - pos
                ok = _hole_free_positions(holes, area.start + pos, n_pos, align, item)
            else:
                readable_any = True
                ok = None
            if cond.mode is Mode.UNKNOWN:
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
                    values = chunk[found[:, None] + np.arange(item)] if len(found) else None
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
                    # Too many candidates to keep as offsets and values: from
                    # here on this area is a bit per position plus a snapshot
                    # (see _DenseWriter), whichever cost less.
                    n_total = positions_count(area.size, item, align)
                    if kept > limits.sparse_max and \
                            n_sparse * (_offset_itemsize(area.size) + item) > n_total // 8:
                        dense = _DenseWriter(_snapshot_name(workdir, 1, area), area.size,
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
            region.mask, region.snapshot = dense.finish()
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
    the snapshot file.

    Only the snapshot bytes at candidate positions matter (next scans and
    the match list read nothing else), so a chunk without candidates is
    left a hole in the sparse file. A first exact/range/pattern scan that
    turns dense part-way converts the offsets and values it kept so far
    (``convert_sparse``): their bytes go to the snapshot at their offsets,
    so nothing is read twice and the values are the ones that matched.
    """

    def __init__(self, name: str, size: int, n_total: int, align: int, chunk: int):
        self.name, self.size, self.align, self.chunk = name, size, align, chunk
        self.mask = np.zeros((n_total + 7) // 8, dtype=np.uint8)
        self.file = open(name, "wb")
        self._bits = np.empty(chunk // align + 1, dtype=bool)

    def _set_bits(self, pos: int, idx: np.ndarray, n_pos: int) -> None:
        bits = self._bits[:n_pos]
        bits[:] = False
        bits[idx] = True
        b0 = pos // self.align // 8
        self.mask[b0:b0 + (n_pos + 7) // 8] = np.packbits(bits)

    def put_chunk(self, pos, chunk, this, ok, n_pos) -> None:
        """Every readable position is a candidate (unknown initial value)."""
        b0 = pos // self.align // 8
        self.mask[b0:b0 + (n_pos + 7) // 8] = np.packbits(ok) if ok is not None \
            else _all_set(n_pos)
        self.file.seek(pos)
        self.file.write(memoryview(chunk[:this]))

    def put_hits(self, pos, chunk, this, idx, n_pos) -> None:
        """Candidates ``idx`` (position indices in this chunk)."""
        if not len(idx):
            return
        self._set_bits(pos, idx, n_pos)
        # The whole read, so a value straddling the chunk's end is whole
        # even when the next chunk holds no candidate (and is a hole).
        self.file.seek(pos)
        self.file.write(memoryview(chunk))

    def convert_sparse(self, offs: list, vals: list, item: int) -> None:
        """Take over the sparse candidates kept so far: one array of offsets
        (from the area's start) and one of their values per chunk, in chunk
        order, none empty."""
        buf = np.zeros(self.chunk + item, dtype=np.uint8)
        lanes = np.arange(item)
        for o, v in zip(offs, vals):
            o = o.astype(np.int64)
            pos = int(o[0]) // self.chunk * self.chunk
            end = min(self.size, pos + self.chunk + item - 1)
            n_pos = min(positions_count(end - pos, item, self.align),
                        -(-min(self.chunk, self.size - pos) // self.align))
            rel = o - pos
            self._set_bits(pos, rel // self.align, n_pos)
            # The matched values, at their offsets; from the first one on, so
            # the bytes a value of the chunk before spilled here are kept.
            lo, hi = int(rel[0]), int(rel[-1]) + item
            buf[lo:hi] = 0
            buf[rel[:, None] + lanes] = v.view(np.uint8).reshape(len(o), item)
            self.file.seek(pos + lo)
            self.file.write(memoryview(buf[lo:hi]))

    def finish(self) -> tuple[np.ndarray, str]:
        self.file.truncate(self.size)
        self.file.close()
        return self.mask, self.name


def next_scan(session: ProcessSession, state: ScanState, cond: Condition, *,
              limits: ScanLimits = ScanLimits(),
              live: LiveCount | None = None) -> Generator[int, None, ScanState]:
    """A bulk job: narrow ``state`` with ``cond``; returns the new state (whose
    history holds ``state`` for undo). ``live`` counts the candidates kept."""
    counter = live if live is not None else LiveCount()
    if cond.mode is Mode.UNKNOWN:
        raise InvalidInput("'unknown' is for first scans only")
    if not state.scan_type.numeric and cond.mode not in (Mode.EXACT, Mode.CHANGED,
                                                        Mode.UNCHANGED):
        raise InvalidInput(f"{state.scan_type.name} scans narrow by exact, changed or "
                           "unchanged only")
    if state.pid != session.pid:
        raise InvalidInput(f"this scan belongs to process {state.pid}, not {session.pid}")
    try:
        return (yield from _next_scan(session, state, cond, limits, counter))
    except BaseException:
        # The new step's snapshots (named after it) are of no use now.
        for name in glob.glob(os.path.join(glob.escape(state.workdir),
                                           f"step{state.step + 1}-*.bin")):
            os.unlink(name)
        raise


def _next_scan(session, state, cond, limits, counter):
    step = state.step + 1
    new = ScanState(pid=state.pid, start_ticks=state.start_ticks, scan_type=state.scan_type,
                    align=state.align, item_size=state.item_size, regions=[],
                    workdir=state.workdir, step=step, condition=cond.describe(),
                    history=[_without_history(state)])
    live = {(a.start, a.end): a for a in session.areas(refresh=True)}
    new_holes = 0
    done = 0
    for region in state.regions:
        if not region.count:
            new.regions.append(RegionMatches(region.start, region.size))
            continue
        area = next((a for a in live.values() if a.start <= region.start
                     and region.start + region.size <= a.end), None)
        if area is None:
            new.vanished.append((region.start, region.start + region.size))
            new.regions.append(RegionMatches(region.start, region.size))
            done += region.size
            yield done
            continue
        if region.dense:
            out, holes = yield from _next_dense(session, state, new, region, area, cond,
                                                limits, done, counter)
        else:
            out, holes = yield from _next_sparse(session, state, region, area, cond,
                                                 limits, done, counter)
        new_holes += holes
        done += region.size
        new.regions.append(out)
    new.unreadable_bytes = new_holes
    new.scanned_bytes = done
    if new.count <= limits.sparse_max:
        for i, region in enumerate(new.regions):
            if region.dense:
                new.regions[i] = _to_sparse(region, new)
    new.prepare_index()
    # Undo goes back one step: what ``state`` could undo to is dropped now.
    for older in state.history:
        _drop_files(older, keep=state)
    state.history = []
    return new


def _next_sparse(session, state, region, area, cond, limits, done_before, live):
    """Re-read only the chunks holding candidates; test them against their
    last values."""
    item, st = state.item_size, state.scan_type
    buf = np.frombuffer(page_buffer(limits.chunk + item), dtype=np.uint8)   # page-aligned
    view = memoryview(buf)
    keep_offs, keep_vals = [], []
    unreadable = 0
    offsets = region.offsets.astype(np.int64)
    for pos in range(0, region.size, limits.chunk):
        lo, hi = np.searchsorted(offsets, [pos, pos + limits.chunk])
        if lo == hi:
            continue
        sel = offsets[lo:hi]
        end = min(region.size, int(sel[-1]) + item)
        holes = session.read_into(region.start + pos, view[:end - pos], areas=[area])
        unreadable += _overlap(holes, region.start + pos, end - pos)
        rel = sel - pos
        ok = np.ones(len(sel), dtype=bool)
        for h in holes:
            h0, h1 = h.address - region.start - pos, h.end - region.start - pos
            ok &= ~((rel + item > h0) & (rel < h1))
        if st.numeric:
            cur = _gather(buf, rel, st)
            prev = region.values[lo:hi]
            hit = evaluate(cur, cond, prev) & ok
            keep_vals.append(cur[hit])
        else:
            rows = buf[rel[:, None] + np.arange(item)]
            prev = region.values[lo:hi]
            if cond.mode is Mode.EXACT:
                pat = cond.pattern
                m = np.frombuffer(pat.mask, np.uint8)
                hit = np.all((rows & m) == (np.frombuffer(pat.data, np.uint8) & m), axis=1)
            else:
                same = np.all(rows == prev, axis=1)
                hit = same if cond.mode is Mode.UNCHANGED else ~same
            hit &= ok
            keep_vals.append(rows[hit])
        keep_offs.append(sel[hit])
        live.found += int(np.count_nonzero(hit))
        yield done_before + min(region.size, pos + limits.chunk)
    out = RegionMatches(region.start, region.size)
    out.offsets = _offset_array(np.concatenate(keep_offs) if keep_offs else np.empty(0, int),
                                region.size)
    out.values = np.concatenate(keep_vals) if keep_vals else None
    out.count = len(out.offsets)
    return out, unreadable


def _next_dense(session, state, new, region, area, cond, limits, done_before, live):
    """Compare the area with its snapshot chunk by chunk; write the new
    snapshot to a new file (the old one stays for undo). Only chunks that
    keep candidates are written; the rest stay holes in a sparse file."""
    item, align, st = state.item_size, state.align, state.scan_type
    buf = np.frombuffer(page_buffer(limits.chunk + item), dtype=np.uint8)   # page-aligned
    view = memoryview(buf)
    unreadable = 0
    count = 0
    packed = []
    snap_old = np.memmap(region.snapshot, dtype=np.uint8, mode="r")
    name = _snapshot_name(new.workdir, new.step, area, region.start)
    with open(name, "wb") as snap_new:
        for pos in range(0, region.size, limits.chunk):
            this = min(limits.chunk, region.size - pos)
            end = min(region.size, pos + limits.chunk + item - 1)
            p0 = pos // align
            n_pos = min(positions_count(end - pos, item, align), -(-this // align))
            cand = np.unpackbits(region.mask[p0 // 8:(p0 + n_pos + 7) // 8],
                                 count=n_pos).view(bool)
            if not cand.any():
                # No candidates here: never read again, so leave a hole in
                # the (sparse) snapshot file.
                snap_new.seek(this, os.SEEK_CUR)
                packed.append(np.zeros((n_pos + 7) // 8, dtype=np.uint8))
                yield done_before + pos + this
                continue
            holes = session.read_into(region.start + pos, view[:end - pos], areas=[area])
            unreadable += _overlap(holes, region.start + pos, this)
            ok = _hole_free_positions(holes, region.start + pos, n_pos, align, item)
            prev_bytes = np.asarray(snap_old[pos:end])
            if st.numeric:
                cur = values_at(buf[:end - pos], st, align, n_pos)
                prev = values_at(prev_bytes, st, align, n_pos)
                hit = evaluate(cur, cond, prev)
            else:
                same = buf[:n_pos * align:align] == prev_bytes[:n_pos * align:align]
                hit = same if cond.mode is Mode.UNCHANGED else ~same
            hit &= cand
            if ok is not None:
                hit &= ok
            hits = int(np.count_nonzero(hit))
            count += hits
            live.found += hits
            packed.append(np.packbits(hit))
            if not hits:
                snap_new.seek(this, os.SEEK_CUR)
            else:
                # Write the whole read, tail included: a value that starts in
                # this chunk and ends in the next must find its last bytes
                # even if the next chunk keeps no candidate (and is a hole).
                fresh = buf[:end - pos]
                if holes:
                    # Unreadable bytes keep their old snapshot values.
                    fresh = fresh.copy()
                    for h in holes:
                        a = max(0, h.address - region.start - pos)
                        b = min(end - pos, h.end - region.start - pos)
                        if a < b:
                            fresh[a:b] = snap_old[pos + a:pos + b]
                snap_new.write(memoryview(fresh))
                snap_new.seek(pos + this)
            yield done_before + pos + this
        snap_new.truncate(region.size)
    del snap_old
    out = RegionMatches(region.start, region.size, mask=np.concatenate(packed), snapshot=name,
                        count=count)
    return out, unreadable


def undo(state: ScanState) -> ScanState:
    """The state before the last step (one step of undo is kept)."""
    if not state.history:
        raise InvalidInput("there is no earlier scan step to go back to")
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


def _check_chunk(limits: ScanLimits, align: int) -> None:
    # Dense masks are packed per chunk: a chunk must hold whole bytes of bits.
    if limits.chunk % (8 * align):
        raise InvalidInput(f"the scan chunk ({limits.chunk}) must be a multiple of "
                           f"8 x the alignment ({align})")


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
        return np.bitwise_count(words)
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
    return table[words.view(np.uint8)].reshape(-1, 8).sum(axis=1, dtype=np.uint8)


def _without_history(state: ScanState) -> ScanState:
    return replace(state, history=[])


def _drop_files(state: ScanState, keep: ScanState) -> None:
    """Delete ``state``'s snapshot files that ``keep`` does not use."""
    kept = {r.snapshot for r in keep.regions if r.snapshot}
    for r in state.regions:
        if r.snapshot and r.snapshot not in kept and os.path.exists(r.snapshot):
            os.unlink(r.snapshot)


def _snapshot_name(workdir: str, step: int, area: MemoryArea, start: int | None = None) -> str:
    return os.path.join(workdir, f"step{step}-{start if start is not None else area.start:x}.bin")


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
    positions = np.flatnonzero(np.unpackbits(region.mask)[:n_total]) * state.align
    snap = np.memmap(region.snapshot, dtype=np.uint8, mode="r")
    rows = np.asarray(snap)[positions[:, None] + np.arange(state.item_size)] \
        if len(positions) else np.empty((0, state.item_size), np.uint8)
    if state.scan_type.numeric:
        values = np.ascontiguousarray(rows).view(state.scan_type.dtype).reshape(-1)
    else:
        values = rows
    del snap
    return RegionMatches(region.start, region.size,
                         offsets=_offset_array(positions, region.size), values=values,
                         count=len(positions))


# -- saving a scan for the CLI ------------------------------------------------------------------

def save_state(state: ScanState, path: str) -> None:
    """Write the scan (all steps' candidates, snapshots included) to one .npz file."""
    arrays = {}
    meta = {"version": 1, "pid": state.pid, "start_ticks": state.start_ticks,
            "type": state.scan_type.name, "big_endian": state.scan_type.big_endian,
            "align": state.align, "item": state.item_size, "steps": []}
    for depth, st in enumerate([*state.history, _without_history(state)]):
        regions = []
        for i, r in enumerate(st.regions):
            key = f"s{depth}r{i}"
            entry = {"start": r.start, "size": r.size, "count": r.count, "dense": r.dense}
            if r.dense:
                arrays[key + "mask"] = r.mask
                arrays[key + "snap"] = np.fromfile(r.snapshot, dtype=np.uint8)
            elif r.offsets is not None:
                arrays[key + "offs"] = r.offsets
                if r.values is not None:
                    arrays[key + "vals"] = r.values
            regions.append(entry)
        meta["steps"].append({"step": st.step, "condition": st.condition,
                              "scanned": st.scanned_bytes, "unreadable": st.unreadable_bytes,
                              "vanished": st.vanished, "regions": regions})
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with atomic_private_file(path, "wb") as f:
        np.savez(f, **arrays)


def load_state(path: str) -> ScanState:
    try:
        data = np.load(path)
        meta = json.loads(bytes(data["meta"]).decode())
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidInput(f"{path} is not a lainview scan session: {exc}") from None
    if meta.get("version") != 1:
        raise InvalidInput(f"{path}: unsupported scan session version {meta.get('version')}")
    workdir = tempfile.mkdtemp(prefix="lainview-scan-")
    scan_type = ScanType(meta["type"], meta["big_endian"])
    states = []
    for depth, step in enumerate(meta["steps"]):
        regions = []
        for i, entry in enumerate(step["regions"]):
            key = f"s{depth}r{i}"
            r = RegionMatches(entry["start"], entry["size"], count=entry["count"])
            if entry["dense"]:
                r.mask = data[key + "mask"]
                r.snapshot = os.path.join(workdir, f"step{step['step']}-{r.start:x}.bin")
                data[key + "snap"].tofile(r.snapshot)
            else:
                r.offsets = data[key + "offs"] if key + "offs" in data else \
                    np.empty(0, dtype=np.uint32)
                r.values = data[key + "vals"] if key + "vals" in data else None
            regions.append(r)
        states.append(ScanState(pid=meta["pid"], start_ticks=meta["start_ticks"],
                                scan_type=scan_type, align=meta["align"],
                                item_size=meta["item"], regions=regions, workdir=workdir,
                                step=step["step"], condition=step["condition"],
                                scanned_bytes=step["scanned"],
                                unreadable_bytes=step["unreadable"],
                                vanished=[tuple(v) for v in step["vanished"]]))
    current = states[-1]
    current.history = states[:-1]
    return current


def is_session_file(path: str) -> bool:
    """Whether ``path`` is a regular file in :func:`save_state`'s format:
    what a first scan may overwrite without being forced. Reads only the
    file's directory of members; never raises."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        with zipfile.ZipFile(path) as z:
            return "meta.npy" in z.namelist()
    except (OSError, ValueError, zipfile.BadZipFile):
        return False


def check_same_process(state: ScanState, start_ticks: int | None) -> None:
    if state.start_ticks is not None and start_ticks != state.start_ticks:
        raise TargetExited(f"process {state.pid} is not the process this scan was made on "
                           "(it exited, or its pid was reused)", op="scan",
                           errno=_errno.ESRCH, pid=state.pid)


__all__ = ["ScanType", "Pattern", "Mode", "Condition", "ScanState", "ScanLimits",
           "AreaFilter", "RegionMatches", "LiveCount", "first_scan", "next_scan", "undo", "make_condition",
           "parse_pattern", "parse_number", "save_state", "load_state", "is_session_file", "TYPE_NAMES",
           "LainviewError"]
