"""The common shape of lainview's flat table models.

- :class:`TableModel`: a flat table with fixed column headers (and their
  tooltips).
- :class:`VisibleRowsModel`: a table whose rows on screen show values read
  from the attached target, re-read on a timer while the target is live
  (the scanner's matches, the pointer scanner's paths).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from PySide6.QtCore import (QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex,
                            Qt, QTimer, Signal)

from .tasks import TaskSet

if TYPE_CHECKING:
    from .attached_target import AttachedTarget

ROW_FLAGS = (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
             | Qt.ItemFlag.ItemNeverHasChildren)


class TableModel(QAbstractTableModel):
    """A flat table: a subclass sets ``HEADERS`` (and optionally
    ``HEADER_TIPS``, a tooltip or None per column) and implements :meth:`row_count`
    (and ``data``); cells are enabled and selectable. Override ``flags``
    for more."""

    HEADERS: tuple[str, ...] = ()
    HEADER_TIPS: tuple[str | None, ...] = ()

    def row_count(self) -> int:
        raise NotImplementedError

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else self.row_count()

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole and section < len(self.HEADER_TIPS):
            return self.HEADER_TIPS[section]
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        return ROW_FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def rows_changed(self, rows: Iterable[int], first: int, last: int,
                     roles: list | None = None) -> None:
        """dataChanged (of ``roles``; None: all) over columns
        ``first``..``last`` of ``rows``, one a run of consecutive rows: a
        view repaints those cells (one rectangle a run) and no others. Live
        refreshes announce only the rows whose text changed this way:
        repainting every visible row at 10 Hz was most of the GUI thread's
        time."""
        for lo, hi in row_runs(rows):
            self.dataChanged.emit(self.index(lo, first), self.index(hi, last), roles or [])


def row_runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """``rows`` (any order, repeats allowed) as runs of consecutive rows:
    [(first, last), ...] in order."""
    runs: list[tuple[int, int]] = []
    for row in sorted(set(rows)):
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


class VisibleRowsModel(TableModel):
    """A table over many rows of which only those on screen are read.

    The view reports the rows it shows (:meth:`set_visible_rows`); every
    ``refresh_ms`` while there are such rows and the target is live, and at
    once when rows without values come on screen, the subclass's
    :meth:`refresh_values` reads them (one request, on ``self._tasks``) and
    emits ``values_refreshed`` (counting ``refresh_count``) when the reply
    is applied. A subclass implements :meth:`row_count`,
    :meth:`refresh_values` and :meth:`_lacks_values`."""

    values_refreshed = Signal()

    def __init__(self, target: AttachedTarget, refresh_ms: int, what: str,
                 parent: QObject | None = None):
        """``what`` names the rows in a failed task's report ("the scan matches")."""
        super().__init__(parent)
        self.target = target
        self.refresh_count = 0
        self._visible = (0, -1)               # rows on screen, inclusive
        self._tasks = TaskSet(what)
        self._timer = QTimer(self)
        self._timer.setInterval(refresh_ms)
        self._timer.timeout.connect(self.refresh_values)
        target.state_changed.connect(self._update_timer)

    def refresh_values(self) -> object:
        """Read the visible rows' values; None when nothing was asked."""
        raise NotImplementedError

    def _lacks_values(self, rows: range) -> bool:
        """Whether any of ``rows`` (not empty) has no value read yet."""
        raise NotImplementedError

    def set_visible_rows(self, first: int, last: int) -> None:
        """The view shows rows first..last (inclusive; last < first: none).
        Rows that came on screen without a value are read at once."""
        self._visible = (first, last)
        self._update_timer()
        rows = self._visible_rows()
        if rows and self._lacks_values(rows):
            self.refresh_values()

    def _visible_rows(self) -> range:
        first, last = self._visible
        return range(max(0, first), min(last, self.row_count() - 1) + 1)

    def _update_timer(self, *_args) -> None:
        if self.row_count() and self._visible_rows() and self.target.live:
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()

    def stop(self) -> None:
        """Stop refreshing (before the backend shuts down)."""
        self._timer.stop()
        self._tasks.cancel_all()
