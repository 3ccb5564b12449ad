"""The pointer-scan dock: what it looks for (the address, from a watch entry
or the hex view), a small form (depth, max offset, thread stacks), live
progress and Cancel, the results (a virtual table: path, depth, the address
it leads to now, the value there), Rescan (by address or value, in the
process attached now) and the actions on a result: add to the watch list,
bookmark, copy the path. Widgets only: every action goes to the
``PointerScanController``; the window decides what the actions do."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout,
                               QHeaderView, QLabel, QLineEdit, QMenu, QPushButton, QSpinBox,
                               QTableView, QVBoxLayout, QWidget)

from lainview.backend import pointer_scan
from lainview.backend.errors import InvalidInput
from lainview.backend.locations import Location
from lainview.models.pointer_scan_model import (ADDRESS, DEPTH, HEADERS, PATH, PATH_ROLE, VALUE,
                                                PointerScanController, PtrProgress, ScanRequest)

from .fit import FitLabel
from .scanner_panel import ProgressLine
from .tables import list_rows, visible_rows
from .theme import mono_font, set_text_tone, text_style


class PointerScanPanel(QWidget):
    add_to_watch = Signal(int)          # a result row
    bookmark = Signal(int)              # a result row
    open_address = Signal(object)       # int: show this address in the hex editor

    def __init__(self, controller: PointerScanController, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.model = controller.results
        # -- what and how
        self.goal = FitLabel(min_chars=12)
        self.goal.setStyleSheet(text_style("muted"))
        self.depth_box = QSpinBox()
        self.depth_box.setRange(1, pointer_scan.MAX_DEPTH)
        self.depth_box.setValue(pointer_scan.DEFAULT_DEPTH)
        self.depth_box.setPrefix("depth ")
        self.depth_box.setToolTip("pointers followed at most (levels)")
        self.max_offset = QLineEdit(f"{pointer_scan.DEFAULT_MAX_OFFSET:#x}")
        self.max_offset.setToolTip("the largest offset from a pointer to what it leads to "
                                   "(hex): a field's place in its structure")
        self.max_offset.setMaximumWidth(self.max_offset.fontMetrics().horizontalAdvance("0" * 10)
                                        + 16)
        self.stacks = QCheckBox("stacks")
        self.stacks.setToolTip("thread stacks count as static bases too (as offsets from "
                               "the stack's top)")
        self.scan_button = QPushButton("Scan")
        self.scan_button.setToolTip("build the pointer map and search backwards from the value")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.progress = ProgressLine()
        self.progress.hide()
        self.message = FitLabel(min_chars=12)
        self.message.hide()
        self.origin = FitLabel(min_chars=12)
        self.origin.setStyleSheet(text_style("warn"))
        self.origin.hide()
        # -- the results
        self.table = QTableView()
        self.table.setModel(self.model)
        list_rows(self.table)
        self.table.setFont(mono_font(9.5))
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header = self.table.horizontalHeader()
        header.setFont(self.font())
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(PATH, QHeaderView.ResizeMode.Stretch)
        mw = self.table.fontMetrics().horizontalAdvance("0")
        depth_width = header.fontMetrics().horizontalAdvance(HEADERS[DEPTH]) + 16
        self.table.setColumnWidth(DEPTH, depth_width)
        for section, chars in ((ADDRESS, 12), (VALUE, 10)):
            self.table.setColumnWidth(section, int(mw * chars + 16))
        # -- rescan and the actions
        self.rescan_by = QComboBox()
        self.rescan_by.addItem("address", "address")
        self.rescan_by.addItem("value", "value")
        self.rescan_by.setToolTip("keep the paths that lead to this address, or to an address "
                                  "holding this value, in the process attached now")
        self.rescan_edit = QLineEdit()
        self.rescan_edit.setPlaceholderText("0x… or value")
        self.rescan_button = QPushButton("Rescan")
        self.watch_button = QPushButton("Watch")
        self.watch_button.setToolTip("add the selected path to the watch list")
        self.bookmark_button = QPushButton("Bookmark")
        self.copy_button = QPushButton("Copy path")
        self.summary = FitLabel(min_chars=10)
        self.summary.setStyleSheet(text_style("muted"))

        form = QHBoxLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addWidget(self.depth_box)
        form.addWidget(QLabel("max offset"))
        form.addWidget(self.max_offset)
        form.addWidget(self.stacks)
        form.addStretch(1)
        form.addWidget(self.scan_button)
        form.addWidget(self.cancel_button)
        rescan = QHBoxLayout()
        rescan.setContentsMargins(0, 0, 0, 0)
        rescan.addWidget(self.rescan_by)
        rescan.addWidget(self.rescan_edit, 1)
        rescan.addWidget(self.rescan_button)
        actions = QHBoxLayout()
        actions.setContentsMargins(0, 0, 0, 0)
        actions.addWidget(self.summary, 1)
        actions.addWidget(self.watch_button)
        actions.addWidget(self.bookmark_button)
        actions.addWidget(self.copy_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.setSpacing(4)
        column.addWidget(self.goal)
        column.addLayout(form)
        column.addWidget(self.progress)
        column.addWidget(self.message)
        column.addWidget(self.origin)
        column.addWidget(self.table, 1)
        column.addLayout(rescan)
        column.addLayout(actions)

        self._visible_timer = QTimer(self)
        self._visible_timer.setSingleShot(True)
        self._visible_timer.setInterval(30)
        self._visible_timer.timeout.connect(self._send_visible_rows)
        self.table.verticalScrollBar().valueChanged.connect(self._visible_timer.start)
        self.model.modelReset.connect(self._visible_timer.start)
        self.scan_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(controller.cancel)
        self.rescan_button.clicked.connect(self.rescan)
        self.rescan_edit.returnPressed.connect(self.rescan)
        self.watch_button.clicked.connect(lambda: self._act(self.add_to_watch.emit))
        self.bookmark_button.clicked.connect(lambda: self._act(self.bookmark.emit))
        self.copy_button.clicked.connect(lambda: self._act(self.copy_path))
        self.table.customContextMenuRequested.connect(self._menu)
        self.table.doubleClicked.connect(lambda index: self._open(index.row()))
        controller.requested.connect(self._show_request)
        controller.running_changed.connect(self._running)
        controller.progress_changed.connect(self._progress)
        controller.message.connect(self._message)
        controller.results_changed.connect(self._update)
        self.model.modelReset.connect(self._update)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self._show_request()
        self._update()

    def sizeHint(self):  # noqa: N802
        return QSize(640, 260)

    # -- the form -------------------------------------------------------------------------------
    def _show_request(self) -> None:
        request = self.controller.request
        if request is None:
            self.goal.setText("Find pointers to a value: right-click a watch entry or the hex "
                              "view, Find pointers to this…")
            return
        what = f" ({request.label})" if request.label else ""
        self.goal.setText(f"pointers to {request.address:#x}{what} as {request.vtype.label}")
        self.rescan_edit.setPlaceholderText(f"{request.address:#x}" if
                                            self.rescan_by.currentData() == "address"
                                            else request.vtype.label)

    def request(self) -> ScanRequest | None:
        """The controller's request with the form's settings; None (said in
        the message line) when the form does not read."""
        base = self.controller.request
        if base is None:
            self._message("pointer scan: pick a value first (right-click a watch entry or the "
                          "hex view: Find pointers to this…)", error=True)
            return None
        try:
            max_offset = int(self.max_offset.text().strip(), 16)
        except ValueError:
            self._message(f"max offset: {self.max_offset.text().strip()!r} is not a hex "
                          "number", error=True)
            return None
        return ScanRequest(base.address, base.vtype, self.depth_box.value(), max_offset,
                           self.stacks.isChecked(), base.limit, base.label)

    def start(self):
        request = self.request()
        return self.controller.start(request) if request is not None else None

    def rescan(self):
        text = self.rescan_edit.text().strip()
        if self.rescan_by.currentData() == "address":
            try:
                address = int(text, 16)
            except ValueError:
                self._message(f"rescan: type the value's address now, in hex (not {text!r})",
                              error=True)
                return None
            return self.controller.rescan(address=address)
        return self.controller.rescan(value_text=text)

    # -- progress and messages ------------------------------------------------------------------
    def _running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.scan_button.setEnabled(not running)
        self.rescan_button.setEnabled(not running)
        if running:
            self.progress.set_progress(0.0, "starting…")

    def _progress(self, progress: PtrProgress) -> None:
        self.progress.set_progress(progress.fraction, progress.describe())

    def _message(self, text: str, error: bool = False) -> None:
        failed = error or self.controller.last_outcome == "failed"
        set_text_tone(self.message, "error" if failed else "muted")
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _update(self) -> None:
        self.summary.setText(self.controller.describe())
        note = self.controller.origin_note()
        self.origin.setText(note)
        self.origin.setVisible(bool(note))
        self._update_actions()

    def _update_actions(self) -> None:
        row = self.selected_row()
        for button in (self.watch_button, self.bookmark_button, self.copy_button):
            button.setEnabled(row is not None)
        self.rescan_button.setEnabled(bool(self.model.paths) and not self.controller.running)

    # -- the results ----------------------------------------------------------------------------
    def _send_visible_rows(self) -> None:
        self.model.set_visible_rows(*visible_rows(self.table))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._visible_timer.start()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._visible_timer.start()

    def hideEvent(self, event) -> None:  # noqa: N802
        super().hideEvent(event)
        self.model.set_visible_rows(0, -1)       # a closed dock reads nothing

    def selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def _act(self, action) -> None:
        row = self.selected_row()
        if row is None:
            self._message("select a path first", error=True)
            return
        action(row)

    def copy_path(self, row: int) -> str:
        text = self.model.path(row).text
        QGuiApplication.clipboard().setText(text)
        self._message(f"copied {text}")
        return text

    def _open(self, row: int) -> None:
        address = self.model.address_now(row)
        if address is not None:
            self.open_address.emit(address)

    def _menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        row = index.row()
        path = index.data(PATH_ROLE)
        menu = QMenu(self)
        watch = menu.addAction("Add to the watch list", lambda: self.add_to_watch.emit(row))
        mark = menu.addAction("Bookmark", lambda: self.bookmark.emit(row))
        menu.addAction("Copy path", lambda: self.copy_path(row))
        shown = menu.addAction("Show in the hex view", lambda: self._open(row))
        shown.setEnabled(self.model.address_now(row) is not None)
        if not isinstance(path.base, Location):
            for action in (watch, mark):
                action.setEnabled(False)
                action.setToolTip("a thread-stack base is not a location the watch list "
                                  "can follow")
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def error(self, exc: InvalidInput) -> None:
        self._message(str(exc), error=True)
