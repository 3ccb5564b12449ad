"""A hex document over one block of bytes held in memory: a kernel value
read by symbol name, shown by the same hex view and data inspector as a
process's memory.

Where :class:`~.memory_document.MemoryDocument` reads pages on its own and
writes each edit at once, this document only holds what its owner gives it
(:meth:`BlockDocument.set_snapshot`) and *stages* edits: typed bytes show as
edited (``WRITING``) until the owner writes them after the user confirms
(:meth:`BlockDocument.store_written`) or they are discarded.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from lainview.backend.errors import InvalidInput
from lainview.backend.memory import MemoryArea, Perm, ReadResult

from .hex_document import FADE_SECONDS, Cell, CellState

FADE_TICK_MS = 50


class BlockDocument(QObject):
    """``region`` is the block on display, [start, start + size)."""

    changed = Signal()              # something on screen may look different
    region_changed = Signal()       # a different block is open
    inline_message = Signal(str)    # for the panel's message line ("" hides it)
    staged_changed = Signal()       # edits were staged, written or discarded

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.region: MemoryArea | None = None
        self.data: bytes | None = None          # None until the first snapshot
        self.unreadable: bytes | None = None    # mask (1 = hole) or None
        self.unreadable_reason = ""
        self.changed_at: dict[int, float] = {}  # offset -> when it changed
        self.pending_writes: dict[int, int] = {}
        self.failed_writes: dict[int, str] = {}
        self.snapshots = 0
        self.describe_pointer_with: Callable[[int], str] | None = None
        self._read_only_reason: str | None = "nothing is open"
        self._fade_timer = QTimer(self)
        self._fade_timer.setInterval(FADE_TICK_MS)
        self._fade_timer.timeout.connect(self._fade_tick)

    # -- the block ---------------------------------------------------------------------------
    def open_block(self, start: int, size: int, label: str) -> None:
        """Show [start, start + size) as not read yet; staged edits are dropped."""
        self.region = MemoryArea(start, start + max(1, size), Perm.READ, path=label)
        self.data = None
        self.unreadable = None
        self.unreadable_reason = ""
        self.changed_at.clear()
        self.failed_writes.clear()
        had_staged = bool(self.pending_writes)
        self.pending_writes.clear()
        self.region_changed.emit()
        self.changed.emit()
        if had_staged:
            self.staged_changed.emit()

    def close_block(self) -> None:
        self.region = None
        self.data = None
        self.pending_writes.clear()
        self.failed_writes.clear()
        self.changed_at.clear()
        self._fade_timer.stop()
        self.region_changed.emit()
        self.staged_changed.emit()

    def set_snapshot(self, result: ReadResult) -> None:
        """New bytes of the block (the same span as the open one): bytes that
        differ from the previous snapshot are marked changed and fade."""
        region = self.region
        if region is None:
            return
        data = bytes(result.data[:region.size]).ljust(region.size, b"\0")
        mask = None
        if result.holes or len(result.data) < region.size:
            m = bytearray(region.size)
            for hole in result.holes:
                lo = max(0, hole.address - result.address)
                hi = min(region.size, hole.end - result.address)
                m[lo:hi] = b"\x01" * max(0, hi - lo)
            m[len(result.data):] = b"\x01" * max(0, region.size - len(result.data))
            mask = bytes(m)
            self.unreadable_reason = "; ".join(dict.fromkeys(h.reason for h in result.holes))
        else:
            self.unreadable_reason = ""
        now = time.monotonic()
        if self.data is not None and self.data != data:
            diff = np.frombuffer(self.data, np.uint8) != np.frombuffer(data, np.uint8)
            for m_ in (mask, self.unreadable):
                if m_ is not None:
                    diff &= np.frombuffer(m_, np.uint8) == 0
            for offset in np.flatnonzero(diff).tolist():
                self.changed_at[offset] = now
        self.data = data
        self.unreadable = mask
        self.snapshots += 1
        if self.changed_at:
            self._fade_timer.start()
        self.changed.emit()

    def set_unavailable(self, reason: str) -> None:
        """The block cannot be read at all: every byte shows ?? with ``reason``."""
        if self.region is None:
            return
        self.data = bytes(self.region.size)
        self.unreadable = b"\x01" * self.region.size
        self.unreadable_reason = reason
        self.changed_at.clear()
        self.changed.emit()

    @property
    def readable(self) -> bool:
        return self.data is not None and self.unreadable is None

    # -- editing is staged ------------------------------------------------------------------
    @property
    def read_only(self) -> bool:
        return self._read_only_reason is not None

    @property
    def read_only_reason(self) -> str:
        return self._read_only_reason or ""

    def set_read_only(self, reason: str | None) -> None:
        """``reason`` why edits are refused, or None to allow them."""
        self._read_only_reason = reason
        self.changed.emit()

    def write(self, address: int, data: bytes) -> bool:
        """Stage ``data`` at ``address`` (nothing reaches the target here).
        False, with an inline message, when the block is read-only or the
        bytes are outside it or not read."""
        region = self.region
        if self.read_only:
            self.inline_message.emit(f"read-only: {self.read_only_reason}")
            return False
        if region is None or address < region.start or address + len(data) > region.end:
            self.inline_message.emit("edits stay inside the value: change its size to "
                                     "reach further")
            return False
        if self.bytes_at(address, len(data)) is None and not all(
                a in self.pending_writes for a in range(address, address + len(data))):
            self.inline_message.emit(f"cannot edit {address:#x}: the bytes are not read yet "
                                     "or unreadable")
            return False
        for i, b in enumerate(bytes(data)):
            self.pending_writes[address + i] = b
            self.failed_writes.pop(address + i, None)
        self.staged_changed.emit()
        self.changed.emit()
        return True

    def type_nibble(self, address: int, digit: int, *, high: bool) -> None:
        """Stage hex ``digit`` into one nibble of the byte at ``address``
        (every edit here is staged until Write…). Raises InvalidInput when
        the byte is not known."""
        current = self.pending_writes.get(address)
        if current is None:
            current = self.byte_at(address)
        if current is None:
            raise InvalidInput(f"cannot edit {address:#x}: the byte is not readable"
                               + (f" ({self.unreadable_reason})" if self.unreadable_reason
                                  else " or not read yet"), address=address)
        value = (digit << 4) | (current & 0x0F) if high else (current & 0xF0) | digit
        self.write(address, bytes([value]))

    def settle_nibble(self, keep: int | None = None) -> None:
        """Nothing to do: a typed nibble is staged like every edit here."""

    @property
    def staged(self) -> bool:
        return bool(self.pending_writes)

    def staged_end(self) -> int | None:
        """The offset just past the last staged byte (a write by symbol name
        always starts at the symbol, so it covers [0, staged_end))."""
        if self.region is None or not self.pending_writes:
            return None
        return max(self.pending_writes) + 1 - self.region.start

    def apply_staged(self, current: bytes) -> bytes:
        """``current`` (the block's bytes from offset 0) with the staged edits."""
        edited = bytearray(current)
        start = self.region.start if self.region is not None else 0
        for address, b in self.pending_writes.items():
            if 0 <= address - start < len(edited):
                edited[address - start] = b
        return bytes(edited)

    def discard_staged(self) -> None:
        if self.pending_writes or self.failed_writes:
            self.pending_writes.clear()
            self.failed_writes.clear()
            self.staged_changed.emit()
            self.changed.emit()

    def store_written(self, offset: int, data: bytes) -> None:
        """Bytes that were written and read back: the snapshot holds them,
        the staged edits they cover are done."""
        region = self.region
        if region is None or self.data is None:
            return
        buf = bytearray(self.data)
        n = max(0, min(len(data), region.size - offset))
        buf[offset:offset + n] = data[:n]
        self.data = bytes(buf)
        for i in range(n):
            self.pending_writes.pop(region.start + offset + i, None)
            self.failed_writes.pop(region.start + offset + i, None)
            self.changed_at.pop(offset + i, None)
        self.staged_changed.emit()
        self.changed.emit()

    def mark_failed(self, reason: str) -> None:
        """The staged bytes could not be written, because of ``reason``."""
        for address in self.pending_writes:
            self.failed_writes[address] = reason
        self.changed.emit()

    # -- what the view paints -------------------------------------------------------------------
    def set_visible(self, start: int, end: int) -> None:
        """The whole block is in memory: nothing to fetch."""

    def cells(self, address: int, count: int, now: float | None = None) -> list[Cell]:
        now = time.monotonic() if now is None else now
        return [self._cell(a, now) for a in range(address, address + count)]

    def cell(self, address: int, now: float | None = None) -> Cell:
        return self._cell(address, time.monotonic() if now is None else now)

    def _cell(self, address: int, now: float) -> Cell:
        region = self.region
        if region is None or not region.start <= address < region.end:
            return Cell(None, CellState.UNREADABLE)
        if address in self.failed_writes:
            return Cell(self.pending_writes.get(address, self.byte_at(address)),
                        CellState.FAILED)
        if address in self.pending_writes:
            return Cell(self.pending_writes[address], CellState.WRITING)
        if self.data is None:
            return Cell(None, CellState.PENDING)
        offset = address - region.start
        if self.unreadable is not None and self.unreadable[offset]:
            return Cell(None, CellState.UNREADABLE)
        t = self.changed_at.get(offset)
        if t is not None and now - t < FADE_SECONDS:
            return Cell(self.data[offset], CellState.CHANGED, now - t)
        return Cell(self.data[offset], CellState.READABLE)

    def plain_row(self, address: int, count: int, now: float) -> bytes | None:
        region = self.region
        if region is None or self.data is None or self.unreadable is not None \
                or address < region.start or address + count > region.end:
            return None
        if self.pending_writes or self.failed_writes:
            return None
        lo = address - region.start
        if self.changed_at and any(lo <= o < lo + count and now - t < FADE_SECONDS
                                   for o, t in self.changed_at.items()):
            return None
        return self.data[lo:lo + count]

    def byte_at(self, address: int) -> int | None:
        region = self.region
        if region is None or self.data is None or not region.start <= address < region.end:
            return None
        offset = address - region.start
        if self.unreadable is not None and self.unreadable[offset]:
            return None
        return self.data[offset]

    def bytes_at(self, address: int, size: int) -> bytes | None:
        """The bytes as they will be after the staged edits, or None if any
        is unknown or unreadable."""
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
        return self.unreadable_reason

    def describe_pointer(self, value: int) -> str:
        if self.describe_pointer_with is None:
            return ""
        return self.describe_pointer_with(value)

    # -- fading -----------------------------------------------------------------------------------
    def _fade_tick(self) -> None:
        now = time.monotonic()
        self.changed_at = {o: t for o, t in self.changed_at.items() if now - t < FADE_SECONDS}
        if not self.changed_at:
            self._fade_timer.stop()
        self.changed.emit()

    def stop(self) -> None:
        self._fade_timer.stop()
