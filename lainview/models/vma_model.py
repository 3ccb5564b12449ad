"""The memory-map table: one row per area, with what changed in the last
refresh (added areas are marked, removed ones stay one refresh, struck out)."""

from __future__ import annotations

import functools

from PySide6.QtCore import (QModelIndex, QObject, QPersistentModelIndex,
                            QSortFilterProxyModel, Qt)
from PySide6.QtGui import QBrush, QFont

from lainview.backend.memory import MemoryArea, Perm

from .formats import human_size
from .process_model import refilter
from .table import TableModel
from .fonts import mono_font
from .palette import color

START, END, SIZE, PERMS, OFFSET, PATH = range(6)
HEADERS = ("Start", "End", "Size", "Perms", "Offset", "Path")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
AREA_ROLE = Qt.ItemDataRole.UserRole + 2
STATUS_ROLE = Qt.ItemDataRole.UserRole + 3

KEPT, ADDED, REMOVED = "kept", "added", "removed"


def _key(area: MemoryArea) -> tuple:
    return (area.start, area.end, area.perms, area.offset, area.path)



@functools.cache
def _struck_out() -> QFont:
    """The view's font crossed out (a removed area's name and size): built
    once, not per painted cell."""
    font = QFont()
    font.setStrikeOut(True)
    return font

class VmaModel(TableModel):
    HEADERS = HEADERS

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._rows: list[tuple[MemoryArea, str]] = []
        self._first = True

    def set_areas(self, areas: list[MemoryArea]) -> None:
        """A new map: areas not seen before are ADDED, areas gone are kept
        once more as REMOVED. The first map marks nothing."""
        old = {_key(a): a for a, status in self._rows if status != REMOVED}
        new_keys = {_key(a) for a in areas}
        rows: list[tuple[MemoryArea, str]] = []
        for area in areas:
            status = KEPT if self._first or _key(area) in old else ADDED
            rows.append((area, status))
        if not self._first:
            rows.extend((a, REMOVED) for k, a in old.items() if k not in new_keys)
        rows.sort(key=lambda r: (r[0].start, r[1] == REMOVED))
        self._first = False
        if rows == self._rows:
            # The usual refresh: nothing changed. A reset would re-sort and
            # re-lay out the table for nothing (10-20 ms of the GUI thread).
            return
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def clear(self) -> None:
        self.beginResetModel()
        self._rows = []
        self._first = True
        self.endResetModel()

    def area(self, row: int) -> MemoryArea:
        return self._rows[row][0]

    def status(self, row: int) -> str:
        return self._rows[row][1]

    def counts(self) -> dict[str, int]:
        out = {KEPT: 0, ADDED: 0, REMOVED: 0}
        for _, status in self._rows:
            out[status] += 1
        return out

    def row_of_address(self, address: int) -> int | None:
        for i, (area, status) in enumerate(self._rows):
            if status != REMOVED and area.contains(address):
                return i
        return None

    # -- Qt model API ---------------------------------------------------------------------------
    def row_count(self) -> int:
        return len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        area, status = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == START:
                return f"{area.start:012x}"
            if column == END:
                return f"{area.end:012x}"
            if column == SIZE:
                return human_size(area.size)
            if column == PERMS:
                return area.perms.letters
            if column == OFFSET:
                return f"{area.offset:x}"
            return area.display_name + {ADDED: "  (new)", REMOVED: "  (gone)"}.get(status, "")
        if role == SORT_ROLE:
            # Qt sorts by QVariant; 64-bit addresses above 2**63 (vsyscall)
            # do not fit a qlonglong, so sort by zero-padded hex text.
            return (f"{area.start:016x}", f"{area.end:016x}", f"{area.size:016x}",
                    area.perms.letters, f"{area.offset:016x}", area.display_name)[column]
        if role == AREA_ROLE:
            return area
        if role == STATUS_ROLE:
            return status
        if role == Qt.ItemDataRole.BackgroundRole:
            if status == ADDED:
                return QBrush(color("row_added"))
            if status == REMOVED:
                return QBrush(color("row_removed"))
            return None
        if role == Qt.ItemDataRole.FontRole:
            if column in (START, END, OFFSET, PERMS):
                return mono_font(strike_out=status == REMOVED)
            return _struck_out() if status == REMOVED else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (START, END, SIZE, OFFSET):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [area.maps_line().rstrip()]
            if area.no_access:
                lines.append(f"no-access page ({area.perms.letters}): read through the "
                             "kernel's forced access, shown in its own style")
            elif area.uffd:
                lines.append("not read: registered with userfaultfd (a read could block)")
            elif not area.readable:
                lines.append("not readable: I/O mapping")
            if status == ADDED:
                lines.append("new since the previous refresh")
            elif status == REMOVED:
                lines.append("unmapped since the previous refresh")
            return "\n".join(lines)
        return None


class VmaFilterProxy(QSortFilterProxyModel):
    """Text filter (path, addresses, permissions) and a permission filter:
    only areas that have every permission in ``required``."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._words: list[str] = []
        self.required = Perm.NONE
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def set_filter_text(self, text: str) -> None:
        words = text.lower().split()
        if words != self._words:
            def change() -> None:
                self._words = words
            refilter(self, change)

    def set_required(self, perms: Perm) -> None:
        if perms != self.required:
            def change() -> None:
                self.required = perms
            refilter(self, change)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        model = self.sourceModel()
        area: MemoryArea = model.data(model.index(source_row, 0, source_parent), AREA_ROLE)
        if self.required and (area.perms & self.required) != self.required:
            return False
        if not self._words:
            return True
        haystack = (f"{area.start:x} {area.end:x} {area.perms.letters} {area.display_name}"
                    ).lower()
        return all(w.removeprefix("0x") in haystack for w in self._words)
