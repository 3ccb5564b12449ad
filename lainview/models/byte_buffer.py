"""The bytes a hex document shows, whatever reads them: snapshots of spans
of the target with their unreadable holes, what changed since the last
snapshot (and when, for the fading highlight), and the cell states the view
paints.

- :class:`ByteSnapshot`: one span (a 4 KiB page of a process, or one kernel
  value), replaced by each new read; bytes that differ from the previous
  read (and were readable in both) are marked changed.
- :class:`SnapshotCells`: what both documents answer from their snapshots
  and their edits (``pending_writes``, ``failed_writes``): cells, plain
  rows, bytes, hole reasons. A subclass says where an address's snapshot is
  (:meth:`SnapshotCells._locate`).

Used by :class:`~.memory_document.MemoryDocument` (pages read on its own)
and :class:`~.block_document.BlockDocument` (a block its owner gives it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from lainview.backend.memory import MemoryArea

from .hex_document import FADE_SECONDS, Cell, CellState


@dataclass(slots=True)
class ByteSnapshot:
    """The last read of [address, address + len(data))."""

    address: int
    data: bytes | None = None            # None until the first read
    unreadable: bytes | None = None      # mask (1 = hole) or None when all readable
    no_access: bytes | None = None       # mask (1 = PROT_NONE byte, read by force) or None
    hole_reasons: tuple = ()
    previous: bytes | None = None
    changed_at: dict[int, float] = field(default_factory=dict)   # offset -> when it changed
    applied_request: int = -1            # the newest read applied (documents drop older ones)

    def store(self, data: bytes, mask: bytes | None, reasons: tuple, now: float,
              no_access: bytes | None = None) -> bool:
        """A new read: bytes that differ from the last one, and were
        readable both times, are marked changed now. ``no_access`` marks
        bytes of pages without read permission (read by force). Returns
        whether anything a view shows differs from the last read (the
        bytes, which of them are unreadable or no-access, or why)."""
        old, old_mask = self.data, self.unreadable
        differs = old != data or old_mask != mask or self.no_access != no_access \
            or self.hole_reasons != reasons
        if old is not None and len(old) == len(data) and old != data:
            diff = np.frombuffer(old, np.uint8) != np.frombuffer(data, np.uint8)
            for m in (mask, old_mask):
                if m is not None:
                    diff &= np.frombuffer(m, np.uint8) == 0
            for offset in np.flatnonzero(diff).tolist():
                self.changed_at[offset] = now
        self.prune(now)
        self.previous = old
        self.data = data
        self.unreadable = mask
        self.no_access = no_access
        self.hole_reasons = reasons
        return differs

    def set_unreadable(self, size: int, reason: str) -> None:
        """Nothing of the span can be read, because of ``reason``."""
        self.previous = self.data
        self.data = bytes(size)
        self.unreadable = b"\x01" * size
        self.no_access = None
        self.hole_reasons = (reason,)
        self.changed_at.clear()

    def put(self, offset: int, data: bytes) -> None:
        """Bytes known to be there (written and read back): not a change
        made by the target."""
        if self.data is None:
            return
        n = max(0, min(len(data), len(self.data) - offset))
        buf = bytearray(self.data)
        buf[offset:offset + n] = data[:n]
        self.data = bytes(buf)
        for i in range(offset, offset + n):
            self.changed_at.pop(i, None)

    def prune(self, now: float) -> None:
        if self.changed_at:
            self.changed_at = {o: t for o, t in self.changed_at.items()
                               if now - t < FADE_SECONDS}

    def fading(self, now: float) -> bool:
        return any(now - t < FADE_SECONDS for t in self.changed_at.values())

    def byte(self, offset: int) -> int | None:
        if self.data is None or not 0 <= offset < len(self.data):
            return None
        if self.unreadable is not None and self.unreadable[offset]:
            return None
        return self.data[offset]

    def cell(self, offset: int, now: float) -> Cell:
        if self.data is None:
            return Cell(None, CellState.PENDING)
        if self.unreadable is not None and self.unreadable[offset]:
            return Cell(None, CellState.UNREADABLE)
        if self.no_access is not None and self.no_access[offset]:
            return Cell(self.data[offset], CellState.NO_ACCESS)
        t = self.changed_at.get(offset)
        if t is not None and now - t < FADE_SECONDS:
            return Cell(self.data[offset], CellState.CHANGED, now - t)
        return Cell(self.data[offset], CellState.READABLE)

    def plain(self, offset: int, count: int, now: float) -> bytes | None:
        """The bytes when all are simply readable (no hole, no highlight)."""
        data = self.data
        if data is None or offset + count > len(data):
            return None
        if self.unreadable is not None and any(self.unreadable[offset:offset + count]):
            return None
        if self.no_access is not None and any(self.no_access[offset:offset + count]):
            return None
        if self.changed_at and any(offset <= o < offset + count and now - t < FADE_SECONDS
                                   for o, t in self.changed_at.items()):
            return None
        return data[offset:offset + count]


class SnapshotCells:
    """Cells, bytes and reasons from snapshots and edits (a mixin for the
    documents). Needs ``region``, ``pending_writes``, ``failed_writes`` and
    :meth:`_locate`."""

    region: MemoryArea | None
    pending_writes: dict[int, int]       # address -> byte edited, not confirmed written
    failed_writes: dict[int, str]        # address -> why its write failed

    def _locate(self, address: int) -> tuple[ByteSnapshot, int] | None:
        """The snapshot holding ``address`` and the offset in it, if any."""
        raise NotImplementedError

    def _in_region(self, address: int) -> bool:
        region = self.region
        return region is not None and region.start <= address < region.end

    def cell(self, address: int, now: float | None = None) -> Cell:
        return self.cells(address, 1, now)[0]

    def cells(self, address: int, count: int, now: float | None = None) -> list[Cell]:
        """``count`` cells from ``address``: outside the open span
        UNREADABLE; a failed write FAILED; an edit on its way (or staged)
        WRITING; else the snapshot's state (PENDING until read)."""
        now = time.monotonic() if now is None else now
        out: list[Cell] = []
        for a in range(address, address + count):
            if not self._in_region(a):
                out.append(Cell(None, CellState.UNREADABLE))
            elif a in self.failed_writes:
                out.append(Cell(self.pending_writes.get(a, self.byte_at(a)), CellState.FAILED))
            elif a in self.pending_writes:
                out.append(Cell(self.pending_writes[a], CellState.WRITING))
            elif (found := self._locate(a)) is None:
                out.append(Cell(None, CellState.PENDING))
            else:
                out.append(found[0].cell(found[1], now))
        return out

    def plain_row(self, address: int, count: int, now: float) -> bytes | None:
        """The row's bytes when every one of them is simply READABLE (the
        common case, painted without per-cell work); None otherwise."""
        region = self.region
        if region is None or address < region.start or address + count > region.end:
            return None
        if (self.pending_writes or self.failed_writes) and any(
                a in self.pending_writes or a in self.failed_writes
                for a in range(address, address + count)):
            return None
        found = self._locate(address)
        if found is None:
            return None
        return found[0].plain(found[1], count, now)

    def byte_at(self, address: int) -> int | None:
        """The byte last read, or None when unknown or unreadable."""
        if not self._in_region(address):
            return None
        found = self._locate(address)
        return None if found is None else found[0].byte(found[1])

    def bytes_at(self, address: int, size: int) -> bytes | None:
        """The bytes as shown: the last read with the edits on their way
        (or staged) over it; None if any is unknown or unreadable."""
        out = bytearray()
        for a in range(address, address + size):
            b = self.pending_writes.get(a)
            if b is None:
                b = self.byte_at(a)
            if b is None:
                return None
            out.append(b)
        return bytes(out)

    def hole_reason(self, address: int) -> str:
        found = self._locate(address)
        if found is None or not found[0].hole_reasons:
            return ""
        return "; ".join(dict.fromkeys(found[0].hole_reasons))
