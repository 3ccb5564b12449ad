""""Find what writes to this" / "…accesses this" as a feature of the main
window: the actions (Edit menu, the hex view's and the watch list's context
menus) and the dock listing each instruction with its live hit count, the
hit rate and Stop. Wiring and widgets only: the logic is
models/watchpoint_model.py."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QPushButton,
                               QTableView, QVBoxLayout, QWidget)

from lainview.models.palette import color
from lainview.models.watchpoint_model import HIT_ROLE, SYMBOL, WatchpointModel

from .fit import ElidedLabel


class WatchpointPanel(QWidget):
    """The hits table, the status line (hits, rate, state) and Stop."""

    open_code = Signal(object)          # an instruction's address (64-bit), double-clicked

    def __init__(self, model: WatchpointModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.status = ElidedLabel("Right-click a value in the hex view or the watch list: "
                                  "Find what writes to this")
        # Shown when the hits are of a process no longer attached.
        self.origin = ElidedLabel("", color=color("warn"))
        self.origin.hide()
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(model.stop)
        self.table = QTableView()
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(SYMBOL, QHeaderView.ResizeMode.Stretch)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header.setMinimumSectionSize(40)
        self.table.doubleClicked.connect(self._double_clicked)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.stop_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addLayout(top)
        column.addWidget(self.origin)
        column.addWidget(self.table, 1)
        model.status_changed.connect(self.status.setText)
        model.running_changed.connect(self.stop_button.setEnabled)
        model.stale_changed.connect(self._stale)
        self._stale(model.stale_note)

    def _stale(self, note: str) -> None:
        """Mark the hits as another process's: the note, greyed rows, and
        double-click (the code at an address of that process) refused."""
        self.origin.setText(f"These hits are {note}: arm a new watch in this process."
                            if note else "")
        self.origin.setVisible(bool(note))
        self.table.setEnabled(not note)
        self.table.setToolTip(f"hits {note}" if note else "")

    def _double_clicked(self, index: QModelIndex) -> None:
        if self.model.stale:
            return
        hit = index.data(HIT_ROLE)
        if hit is not None:
            self.open_code.emit(self.model.code_address(hit))


class WatchpointFeature:
    def __init__(self, window):
        self.window = window
        ws = self.workspace = window.workspace
        self.model = WatchpointModel(ws.target, window)
        self.panel = WatchpointPanel(self.model)
        self.dock = window.add_dock("watchpoint", "Find what writes", self.panel,
                                    Qt.DockWidgetArea.BottomDockWidgetArea, tabify_with="watch")
        self.writes_action = window.add_action(
            "Edit", "Find what &writes to this", lambda: self.find_at_cursor(False),
            separator=True)
        self.accesses_action = window.add_action(
            "Edit", "Find what a&ccesses this", lambda: self.find_at_cursor(True))
        view = window.editor.view
        for action in (self.writes_action, self.accesses_action):
            view.addAction(action)           # the hex view's context menu
        window.features["watch"].watch_panel.find_what.connect(self.find_for_entry)
        self.panel.open_code.connect(self.open_code)
        window.on_close(self.model.shutdown)

    def find_at_cursor(self, access: bool) -> bool:
        """Watch the selection of the hex view, or at the cursor the type
        Ctrl+W would watch (made an aligned 1, 2, 4 or 8 bytes)."""
        ws = self.workspace
        if ws.document.region is None:
            self.window.show_status("find what writes: open an area first")
            return False
        lo, hi = ws.cursor.selection
        if ws.cursor.has_selection:
            return self.find(lo, hi - lo, access)
        # What Ctrl+W would watch there (u64 at an 8-aligned address, ...).
        return self.find(lo, self.window.features["watch"].type_for_cursor(lo).size, access)

    def find_for_entry(self, entry, access: bool) -> bool:
        if entry.address is None:
            self.window.show_status("find what writes: that watch has no address now")
            return False
        return self.find(entry.address, entry.vtype.size or 4, access)

    def find(self, address: int, size: int, access: bool) -> bool:
        started = self.model.start(address, size, access)
        self.dock.show()
        self.dock.raise_()
        self.window.show_status(f"finding what {self.model.what()} (see the Find what "
                                f"writes dock)" if started else self.model.status)
        return started

    def open_code(self, address: int) -> None:
        """The instruction in the Disassembly dock (the code feature)."""
        self.window.features["code"].disassemble(address)
