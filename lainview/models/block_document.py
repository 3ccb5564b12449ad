"""A hex document over one block of bytes held in memory: a kernel value
read by symbol name, shown by the same hex view and data inspector as a
process's memory.

Where :class:`~.memory_document.MemoryDocument` reads pages on its own and
writes each edit at once, this document only holds what its owner gives it
(:meth:`BlockDocument.set_snapshot`) and *stages* edits: typed bytes show as
edited (``WRITING``) until the owner writes them after the user confirms
(:meth:`BlockDocument.store_written`) or they are discarded. The bytes are
one :class:`~.byte_buffer.ByteSnapshot`, the buffer the process document
keeps per page: the same diff, fade and cell states.
"""

from __future__ import annotations

import time
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from lainview.backend.errors import InvalidInput
from lainview.backend.memory import MemoryArea, Perm, ReadResult

from .byte_buffer import ByteSnapshot, SnapshotCells

FADE_TICK_MS = 50


class BlockDocument(QObject, SnapshotCells):
    """``region`` is the block on display, [start, start + size)."""

    changed = Signal()              # something on screen may look different
    refreshed = Signal()            # the block was read again, changed or not
    region_changed = Signal()       # a different block is open
    inline_message = Signal(str)    # for the panel's message line ("" hides it)
    staged_changed = Signal()       # edits were staged, written or discarded

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.region: MemoryArea | None = None
        self.snapshot: ByteSnapshot | None = None     # the block's bytes, once read
        self.pending_writes: dict[int, int] = {}
        self.failed_writes: dict[int, str] = {}
        self.describe_pointer_with: Callable[[int], str] | None = None
        self._read_only_reason: str | None = "nothing is open"
        self._fade_timer = QTimer(self)
        self._fade_timer.setInterval(FADE_TICK_MS)
        self._fade_timer.timeout.connect(self._fade_tick)

    # -- the block ---------------------------------------------------------------------------
    def open_block(self, start: int, size: int, label: str) -> None:
        """Show [start, start + size) as not read yet; staged edits are dropped."""
        self.region = MemoryArea(start, start + max(1, size), Perm.READ, path=label)
        self.snapshot = ByteSnapshot(start)
        self.failed_writes.clear()
        had_staged = bool(self.pending_writes)
        self.pending_writes.clear()
        self.region_changed.emit()
        self.changed.emit()
        if had_staged:
            self.staged_changed.emit()

    def close_block(self) -> None:
        self.region = None
        self.snapshot = None
        self.pending_writes.clear()
        self.failed_writes.clear()
        self._fade_timer.stop()
        self.region_changed.emit()
        self.staged_changed.emit()

    def set_snapshot(self, result: ReadResult) -> None:
        """New bytes of the block (the same span as the open one): bytes that
        differ from the previous snapshot are marked changed and fade."""
        region, snapshot = self.region, self.snapshot
        if region is None or snapshot is None:
            return
        data = bytes(result.data[:region.size]).ljust(region.size, b"\0")
        mask = None
        reasons: tuple = ()
        if result.holes or len(result.data) < region.size:
            m = bytearray(region.size)
            for hole in result.holes:
                lo = max(0, hole.address - result.address)
                hi = min(region.size, hole.end - result.address)
                m[lo:hi] = b"\x01" * max(0, hi - lo)
            m[len(result.data):] = b"\x01" * max(0, region.size - len(result.data))
            mask = bytes(m)
            reasons = tuple(dict.fromkeys(h.reason for h in result.holes))
        differs = snapshot.store(data, mask, reasons, time.monotonic())
        if snapshot.changed_at:
            self._fade_timer.start()
        self.refreshed.emit()
        if differs:
            self.changed.emit()

    def set_unavailable(self, reason: str) -> None:
        """The block cannot be read at all: every byte shows ?? with ``reason``."""
        if self.region is None or self.snapshot is None:
            return
        self.snapshot.set_unreadable(self.region.size, reason)
        self.changed.emit()

    @property
    def data(self) -> bytes | None:
        """The block's bytes as last read (without staged edits), or None."""
        return self.snapshot.data if self.snapshot is not None else None

    @property
    def readable(self) -> bool:
        snapshot = self.snapshot
        return snapshot is not None and snapshot.data is not None \
            and snapshot.unreadable is None

    # -- editing is staged ------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        """Never: a block is read when asked, not refreshed on a timer."""
        return False

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
                               + (f" ({r})" if (r := self.hole_reason(address))
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
        region, snapshot = self.region, self.snapshot
        if region is None or snapshot is None or snapshot.data is None:
            return
        snapshot.put(offset, data)
        n = max(0, min(len(data), region.size - offset))
        for i in range(n):
            self.pending_writes.pop(region.start + offset + i, None)
            self.failed_writes.pop(region.start + offset + i, None)
        self.staged_changed.emit()
        self.changed.emit()

    def mark_failed(self, reason: str) -> None:
        """The staged bytes could not be written, because of ``reason``."""
        for address in self.pending_writes:
            self.failed_writes[address] = reason
        self.changed.emit()

    # -- what the view paints (cells, plain_row, byte_at, bytes_at: SnapshotCells) ---------------
    def set_visible(self, start: int, end: int) -> None:
        """The whole block is in memory: nothing to fetch."""

    def _locate(self, address: int) -> tuple[ByteSnapshot, int] | None:
        snapshot = self.snapshot
        if snapshot is None or self.region is None:
            return None
        return snapshot, address - self.region.start

    @property
    def perms_text(self) -> str:
        return self.region.perms.letters if self.region is not None else ""

    def describe_pointer(self, value: int) -> str:
        if self.describe_pointer_with is None:
            return ""
        return self.describe_pointer_with(value)

    # -- fading -----------------------------------------------------------------------------------
    def _fade_tick(self) -> None:
        snapshot = self.snapshot
        if snapshot is not None:
            snapshot.prune(time.monotonic())
        if snapshot is None or not snapshot.changed_at:
            self._fade_timer.stop()
        self.changed.emit()

    def stop(self) -> None:
        self._fade_timer.stop()
