"""The memory-map panel: filter box, permission filters, refresh, the table,
and its context menu. It emits what the user asked for; the window acts."""

from __future__ import annotations

from PySide6.QtCore import (QItemSelection, QItemSelectionModel, QModelIndex, QPoint, Qt,
                            Signal)
from PySide6.QtGui import QAction, QFontMetrics, QGuiApplication
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QHeaderView, QLineEdit,
                               QMenu, QProgressBar, QPushButton, QTableView, QToolButton,
                               QVBoxLayout, QWidget)

from lainview.backend.memory import MemoryArea, Perm
from lainview.models.vma_model import AREA_ROLE, REMOVED, VmaFilterProxy, VmaModel

from .fit import FitLabel
from .tables import list_rows, select_only
from .theme import hex_color, text_style, mono_font


class VmaPanel(QWidget):
    open_area = Signal(object)           # MemoryArea
    dump_area = Signal(object)           # MemoryArea
    disassemble_area = Signal(object)    # MemoryArea
    refresh_requested = Signal()

    def __init__(self, model: VmaModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.proxy = VmaFilterProxy(self)
        self.proxy.setSourceModel(model)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("filter: path, address, perms…")
        self.filter.setClearButtonEnabled(True)
        self.only_writable = QCheckBox("w")
        self.only_writable.setToolTip("only writable areas")
        self.only_exec = QCheckBox("x")
        self.only_exec.setToolTip("only executable areas")
        self.only_readable = QCheckBox("r")
        self.only_readable.setToolTip("only readable areas")
        self.refresh = QToolButton()
        self.refresh.setText("⟳")
        self.refresh.setToolTip("refresh the memory map now (it also refreshes every 2 s)")
        self.table = QTableView()
        self.table.setModel(self.proxy)
        # Several areas can be chosen, for the scanner's "only the selected areas".
        list_rows(self.table, multi=True)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        # Long paths keep their file name visible: "…/libc.so.6".
        self.table.setTextElideMode(Qt.TextElideMode.ElideLeft)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # Columns just wide enough for what they hold, so the path shows.
        digit = QFontMetrics(mono_font(9.5)).horizontalAdvance("0")
        ui_digit = self.fontMetrics().horizontalAdvance("0")
        for section, width in ((0, digit * 12 + 14), (1, digit * 12 + 14), (2, ui_digit * 8 + 12),
                              (3, digit * 4 + 16), (4, digit * 6 + 14)):
            self.table.setColumnWidth(section, width)
        self.summary = FitLabel(min_chars=8)
        self.summary.setStyleSheet(text_style("muted"))
        self.dump_progress = QProgressBar()
        self.dump_progress.hide()
        self.dump_cancel = QPushButton("Cancel dump")
        self.dump_cancel.hide()

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.filter, 1)
        top.addWidget(self.only_readable)
        top.addWidget(self.only_writable)
        top.addWidget(self.only_exec)
        top.addWidget(self.refresh)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.dump_progress)
        bottom.addWidget(self.dump_cancel)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addLayout(top)
        column.addWidget(self.table, 1)
        column.addLayout(bottom)

        self.filter.textChanged.connect(self.proxy.set_filter_text)
        for box in (self.only_readable, self.only_writable, self.only_exec):
            box.toggled.connect(self._perm_filter)
        self.refresh.clicked.connect(self.refresh_requested)
        self.table.doubleClicked.connect(self._activated)
        self.table.activated.connect(self._activated)
        self.table.customContextMenuRequested.connect(self._context_menu)
        model.modelReset.connect(self._update_summary)
        # A new map resets the model: the selection (the scanner's "only
        # selected" areas) is kept by address, not dropped.
        self._kept_selection: list[tuple[int, int]] = []
        model.modelAboutToBeReset.connect(self._keep_selection)
        model.modelReset.connect(self._restore_selection)

    def least_width(self) -> int:
        """The narrowest first width (logical px) that still shows whole
        Start and End columns."""
        return self.table.columnWidth(0) + self.table.columnWidth(1) \
            + self.table.verticalScrollBar().sizeHint().width() + 2 * self.table.frameWidth() \
            + 2 * _margin(self) + 2

    def sizeHint(self):  # noqa: N802 - the dock's first width fits every column
        from PySide6.QtCore import QSize
        return QSize(540, 600)

    def _keep_selection(self) -> None:
        self._kept_selection = self.selected_ranges()

    def _restore_selection(self) -> None:
        """Select again the areas of the new map that overlap the ranges
        selected before it (an area split by mprotect stays selected as
        its parts; one unmapped is not selected as its "removed" row)."""
        kept, self._kept_selection = self._kept_selection, []
        if not kept:
            return
        selection = QItemSelection()
        for row in range(self.model.rowCount()):
            area = self.model.area(row)
            if self.model.status(row) == REMOVED or not any(
                    area.start < end and start < area.end for start, end in kept):
                continue
            index = self.proxy.mapFromSource(self.model.index(row, 0))
            if index.isValid():
                selection.select(index, index)
        if not selection.isEmpty():
            self.table.selectionModel().select(
                selection, QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)

    def _perm_filter(self) -> None:
        perms = Perm.NONE
        if self.only_readable.isChecked():
            perms |= Perm.READ
        if self.only_writable.isChecked():
            perms |= Perm.WRITE
        if self.only_exec.isChecked():
            perms |= Perm.EXEC
        self.proxy.set_required(perms)

    def area_at_index(self, index: QModelIndex) -> MemoryArea | None:
        if not index.isValid():
            return None
        return self.proxy.data(index, AREA_ROLE)

    def _activated(self, index: QModelIndex) -> None:
        area = self.area_at_index(index)
        if area is not None:
            self.open_area.emit(area)

    def _context_menu(self, pos: QPoint) -> None:
        area = self.area_at_index(self.table.indexAt(pos))
        if area is None:
            return
        menu = QMenu(self)
        menu.addAction("Open in hex editor", lambda: self.open_area.emit(area))
        code: QAction = menu.addAction("Disassemble", lambda: self.disassemble_area.emit(area))
        code.setEnabled(bool(area.perms & Perm.EXEC))
        menu.addSeparator()
        menu.addAction(f"Copy start address  {area.start:#x}",
                       lambda: QGuiApplication.clipboard().setText(f"{area.start:#x}"))
        menu.addAction("Copy maps line",
                       lambda: QGuiApplication.clipboard().setText(area.maps_line().rstrip()))
        dump: QAction = menu.addAction("Dump area to file…", lambda: self.dump_area.emit(area))
        dump.setEnabled(area.readable)
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def selected_ranges(self) -> list[tuple[int, int]]:
        """[start, end) of every selected area that is still mapped (a row
        shown as removed names an area that is gone)."""
        rows = self.table.selectionModel().selectedRows()
        out = []
        for index in rows:
            source = self.proxy.mapToSource(index)
            if source.isValid() and self.model.status(source.row()) != REMOVED:
                area = self.model.area(source.row())
                out.append((area.start, area.end))
        return sorted(out)

    def select_address(self, address: int) -> None:
        row = self.model.row_of_address(address)
        if row is None:
            return
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if index.isValid():
            select_only(self.table, index.row())
            self.table.scrollTo(index)

    def _update_summary(self) -> None:
        counts = self.model.counts()
        text = f"{counts['kept'] + counts['added']} areas"
        changes = []
        if counts["added"]:
            changes.append(f"<span style='color:{hex_color('added')}'>+{counts['added']} new</span>")
        if counts["removed"]:
            changes.append(f"<span style='color:{hex_color('error')}'>−{counts['removed']} gone</span>")
        if changes:
            text += " · " + ", ".join(changes) + " since last refresh"
        self.summary.setText(text)


def _margin(widget: QWidget) -> int:
    layout = widget.layout()
    return layout.contentsMargins().left() if layout is not None else 0
