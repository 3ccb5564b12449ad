"""The bookmarks dock: the list (name, location, resolved address, comment),
editable in place; a click jumps there in the hex view."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QHeaderView, QMenu, QTableView, QVBoxLayout,
                               QWidget)

from lainview.models.bookmarks import (ADDRESS, BOOKMARK_ROLE, COMMENT, LOCATION, NAME, Bookmark,
                                       BookmarkModel)

from .editing import keep_typing
from .fit import FitLabel
from .tables import Edit, list_rows
from .theme import hex_color, text_style



class BookmarkPanel(QWidget):
    jump = Signal(object)            # an address (64-bit)
    watch = Signal(object)           # Bookmark
    disassemble = Signal(object)     # Bookmark

    def __init__(self, model: BookmarkModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.table = QTableView()
        self.table.setModel(model)
        list_rows(self.table, multi=True, edits=Edit.EditKeyPressed | Edit.SelectedClicked)
        keep_typing(self.table)         # map refreshes never touch an open editor
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        mw = self.fontMetrics().horizontalAdvance("0")
        for section, chars in ((NAME, 12), (LOCATION, 21), (ADDRESS, 14)):
            self.table.setColumnWidth(section, mw * chars + 16)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.caption = FitLabel(min_chars=8)
        self.caption.setStyleSheet(text_style("muted"))
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.setSpacing(4)
        column.addWidget(self.table, 1)
        column.addWidget(self.caption)
        self.remove_action = QAction("Remove", self)
        self.remove_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.remove_action.triggered.connect(self.remove_selected)
        self.table.addAction(self.remove_action)
        self.table.activated.connect(self._activated)
        self.table.doubleClicked.connect(self._activated)
        self.table.customContextMenuRequested.connect(self._menu)
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset,
                       model.markers_changed):
            signal.connect(self._update_caption)
        self._update_caption()

    def _activated(self, index: QModelIndex) -> None:
        if index.column() in (NAME, ADDRESS) or not (index.flags() & Qt.ItemFlag.ItemIsEditable):
            bookmark: Bookmark = index.data(BOOKMARK_ROLE)
            if bookmark is not None and bookmark.address is not None:
                self.jump.emit(bookmark.address)

    def remove_selected(self) -> None:
        self.model.remove_rows([i.row() for i in self.table.selectionModel().selectedRows()])

    def _menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        bookmark: Bookmark = index.data(BOOKMARK_ROLE)
        menu = QMenu(self)
        go = menu.addAction("Show in the hex view", lambda: self.jump.emit(bookmark.address))
        go.setEnabled(bookmark.address is not None)
        menu.addAction("Rename", lambda: self.table.edit(self.model.index(index.row(), NAME)))
        menu.addAction("Edit comment",
                       lambda: self.table.edit(self.model.index(index.row(), COMMENT)))
        menu.addAction("Edit location",
                       lambda: self.table.edit(self.model.index(index.row(), LOCATION)))
        watch = menu.addAction("Add to the watch list", lambda: self.watch.emit(bookmark))
        watch.setEnabled(bookmark.address is not None)
        code = menu.addAction("Disassemble here", lambda: self.disassemble.emit(bookmark))
        code.setEnabled(bookmark.address is not None)
        menu.addSeparator()
        menu.addAction(self.remove_action)
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def _update_caption(self, *_args) -> None:
        marks = self.model.bookmarks
        unresolved = sum(b.address is None for b in marks)
        if not marks:
            self.caption.setText("No bookmarks. Ctrl+B on a byte in the hex view adds one.")
        else:
            text = f"{len(marks)} bookmark{'s' if len(marks) != 1 else ''}"
            if unresolved:
                text += f" · <span style='color:{hex_color('error')}'>{unresolved} unresolved</span>"
            self.caption.setText(text + " · double-click to jump, F2 to rename")
