"""The process picker's table: every process, with whether lainview can
attach to it and, when not, the backend's reason (shown as a tooltip)."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import (QModelIndex, QObject, QPersistentModelIndex,
                            QSortFilterProxyModel, Qt, Signal)
from PySide6.QtGui import QBrush, QPalette, QGuiApplication

from lainview.backend.errors import LainviewError
from lainview.backend.processes import ProcessInfo
from lainview.backend.service import Backend

from .formats import human_size
from .palette import color as palette_color
from .table import TableModel

PID, NAME, USER, MEMORY, COMMAND = range(5)
HEADERS = ("PID", "Name", "User", "Memory", "Command line")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
INFO_ROLE = Qt.ItemDataRole.UserRole + 2


def refilter(proxy: QSortFilterProxyModel, change) -> None:
    """Apply ``change`` to a proxy's filter state and re-run the filter
    (Qt 6.9+ wants begin/endFilterChange; older ones invalidateFilter)."""
    if hasattr(proxy, "beginFilterChange"):
        proxy.beginFilterChange()
        change()
        proxy.endFilterChange()
    else:
        change()
        proxy.invalidateFilter()


class ProcessModel(TableModel):
    HEADERS = HEADERS

    loading_changed = Signal(bool)
    failed = Signal(str)

    def __init__(self, backend: Backend | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.backend = backend
        self._rows: list[ProcessInfo] = []
        self._request = 0
        self.loading = False

    # -- data ------------------------------------------------------------------------------
    def set_processes(self, processes: list[ProcessInfo]) -> None:
        """Replace the rows, keeping rows of processes that are still there
        (so the selection survives a refresh)."""
        new = list(processes)
        old_pids = [p.pid for p in self._rows]
        if old_pids == [p.pid for p in new]:
            self._rows = new
            if new:
                self.dataChanged.emit(self.index(0, 0), self.index(len(new) - 1, len(HEADERS) - 1))
            return
        self.beginResetModel()
        self._rows = new
        self.endResetModel()

    def process(self, row: int) -> ProcessInfo:
        return self._rows[row]

    async def refresh(self) -> bool:
        """Fetch the list on the backend thread; an older reply that arrives
        after a newer request was made is dropped."""
        if self.backend is None:
            return False
        self._request += 1
        request = self._request
        self._set_loading(True)
        try:
            processes = await asyncio.wrap_future(self.backend.list_processes())
        except LainviewError as exc:
            if request == self._request:
                self.failed.emit(str(exc))
                self._set_loading(False)
            return False
        if request != self._request:
            return False
        self.set_processes(processes)
        self._set_loading(False)
        return True

    def _set_loading(self, loading: bool) -> None:
        self.loading = loading
        self.loading_changed.emit(loading)

    # -- Qt model API ----------------------------------------------------------------------------
    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
        if self._rows[index.row()].attachable:
            flags |= Qt.ItemFlag.ItemIsEnabled
        return flags

    def row_count(self) -> int:
        return len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        p = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (str(p.pid), p.name, p.user, human_size(p.rss), p.cmdline or f"[{p.name}]")[column]
        if role == SORT_ROLE:
            return (p.pid, p.name.lower(), p.user, p.rss, p.cmdline)[column]
        if role == INFO_ROLE:
            return p
        if role == Qt.ItemDataRole.ToolTipRole:
            if not p.attachable:
                return f"cannot attach: {p.reason}"
            return p.exe or p.cmdline
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (PID, MEMORY):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and not p.attachable:
            app = QGuiApplication.instance()
            color = app.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text) \
                if isinstance(app, QGuiApplication) else palette_color("disabled")
            return QBrush(color)
        return None


class ProcessFilterProxy(QSortFilterProxyModel):
    """Filters on pid, name, user, command line and memory as you type;
    every word must match somewhere (case-insensitive)."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._words: list[str] = []
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def set_filter_text(self, text: str) -> None:
        words = text.lower().split()
        if words != self._words:
            def change() -> None:
                self._words = words
            refilter(self, change)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        if not self._words:
            return True
        model = self.sourceModel()
        p: ProcessInfo = model.data(model.index(source_row, 0, source_parent), INFO_ROLE)
        haystack = f"{p.pid} {p.name} {p.user} {p.cmdline} {human_size(p.rss)}".lower()
        return all(w in haystack for w in self._words)
