"""What the hex view and the data inspector need from a document, whatever
the bytes are: a process's memory (:class:`~.memory_document.MemoryDocument`,
read page by page) or one kernel value (:class:`~.block_document.BlockDocument`,
one block read by symbol name).

The view only paints :class:`Cell` states and calls :meth:`HexDocument.write`
and :meth:`HexDocument.type_nibble`;
where the bytes come from and what a write means (at once, or staged until
the user confirms) is the document's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

from PySide6.QtCore import SignalInstance

from lainview.backend.memory import MemoryArea

FADE_SECONDS = 1.5          # how long a changed byte stays highlighted


class CellState(IntEnum):
    READABLE = 0
    UNREADABLE = 1      # a hole: shown as ??, never as a value
    PENDING = 2         # not read yet
    CHANGED = 3         # differs from the previous refresh (fading)
    WRITING = 4         # an edit on its way to the target (or staged, not yet written)
    FAILED = 5          # the last write here failed
    NO_ACCESS = 6       # a real byte of a page without read permission (PROT_NONE),
                        # read through the kernel's forced access: its own style


@dataclass(frozen=True, slots=True)
class Cell:
    value: int | None
    state: CellState
    age: float = 0.0            # seconds since the change, for CHANGED


class HexDocument(Protocol):
    """The interface of a hex document."""

    @property
    def changed(self) -> SignalInstance:
        """Qt signal (): the bytes or their states changed; repaint."""

    @property
    def refreshed(self) -> SignalInstance:
        """Qt signal (): the target was read again, whether or not the
        bytes changed (the heartbeat of views that read on their own)."""

    @property
    def region_changed(self) -> SignalInstance:
        """Qt signal (): another span is open."""

    @property
    def inline_message(self) -> SignalInstance:
        """Qt signal (str): a message to show beside the bytes."""

    region: MemoryArea | None           # the span on display, [start, end)
    pending_writes: dict[int, int]      # address -> byte edited but not confirmed written
    failed_writes: dict[int, str]       # address -> why its write failed

    @property
    def read_only(self) -> bool: ...

    @property
    def paused(self) -> bool:
        """The live refresh holds still (Pause): views that read the target
        on their own (Structure, Dissect) hold still with it, and a
        ``changed`` while paused (a highlight fading) is no reason to read."""

    @property
    def read_only_reason(self) -> str: ...

    @property
    def perms_text(self) -> str:
        """The permissions of the open span, as maps letters (several when mixed)."""

    def set_visible(self, start: int, end: int) -> None: ...

    def cells(self, address: int, count: int, now: float | None = None) -> list[Cell]: ...

    def cell(self, address: int, now: float | None = None) -> Cell: ...

    def plain_row(self, address: int, count: int, now: float) -> bytes | None: ...

    def byte_at(self, address: int) -> int | None: ...

    def bytes_at(self, address: int, size: int) -> bytes | None: ...

    def hole_reason(self, address: int) -> str: ...

    def describe_pointer(self, value: int) -> str: ...

    def write(self, address: int, data: bytes): ...

    def type_nibble(self, address: int, digit: int, *, high: bool) -> None:
        """Type one hex digit into the high or low nibble of a byte; raises
        InvalidInput saying why the byte cannot be edited."""

    def settle_nibble(self, keep: int | None = None) -> object:
        """Finish a byte whose high nibble was typed (unless it is at ``keep``);
        what it returns (a write's task, or None) is the document's own."""

