"""The hex editor's cursor and selection: a position in the open area, which
column it types into (hex or ASCII), which nibble, and an anchor for the
selection. Plain state with a change signal; the view draws it and the key
handling moves it."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from .hex_geometry import ASCII, HEX


class HexCursor(QObject):
    moved = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.start = 0          # the open area, [start, end)
        self.end = 0
        self.address = 0
        self.nibble = 0         # 0 = high nibble next, 1 = low
        self.part = HEX
        self.anchor: int | None = None

    def set_bounds(self, start: int, end: int) -> None:
        self.start, self.end = start, end
        self.anchor = None
        self.move_to(start)

    def clamp(self, address: int) -> int:
        if self.end <= self.start:
            return self.start
        return min(max(address, self.start), self.end - 1)

    def move_to(self, address: int, *, select: bool = False, nibble: int = 0) -> None:
        address = self.clamp(address)
        if select:
            if self.anchor is None:
                self.anchor = self.address
        else:
            self.anchor = None
        self.address = address
        self.nibble = nibble if self.part == HEX else 0
        self.moved.emit()

    def move_by(self, delta: int, *, select: bool = False) -> None:
        self.move_to(self.address + delta, select=select)

    def advance_nibble(self) -> None:
        """After typing a hex digit: low nibble next, or the next byte."""
        if self.nibble == 0:
            self.nibble = 1
            self.moved.emit()
        else:
            self.move_to(self.address + 1)

    def set_part(self, part: str) -> None:
        if part not in (HEX, ASCII):
            raise ValueError(part)
        self.part = part
        self.nibble = 0
        self.moved.emit()

    def toggle_part(self) -> None:
        self.set_part(ASCII if self.part == HEX else HEX)

    def select(self, first: int, last: int) -> None:
        """Select [first, last] inclusive, cursor on ``last``."""
        self.anchor = self.clamp(first)
        self.address = self.clamp(last)
        self.nibble = 0
        self.moved.emit()

    def clear_selection(self) -> None:
        if self.anchor is not None:
            self.anchor = None
            self.moved.emit()

    @property
    def selection(self) -> tuple[int, int]:
        """[lo, hi) of the selection; the cursor byte alone when nothing is selected."""
        if self.anchor is None:
            return self.address, self.address + 1
        lo, hi = sorted((self.anchor, self.address))
        return lo, hi + 1

    @property
    def has_selection(self) -> bool:
        return self.anchor is not None and self.anchor != self.address

    def selected(self, address: int) -> bool:
        if self.anchor is None:
            return False
        lo, hi = self.selection
        return lo <= address < hi
