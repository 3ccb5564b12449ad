"""Code as a feature of the main window: the Disassembly dock (a tab beside
the watch list) and the Modules dock (a tab beside the memory map), Go ▸
Disassemble at the cursor (also in the hex view's context menu), and
"Disassemble" from the memory map, bookmarks and symbols. The logic is in
lainview/models/code_models.py; this file holds widgets only."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLineEdit, QSplitter, QTableView,
                               QVBoxLayout, QWidget)

from lainview.backend.errors import InvalidInput
from lainview.models.code_models import (INSTRUCTION, MODULE_ROLE, SYMBOL_ROLE, TARGET,
                                         DisassemblyModel, ModuleSymbolsModel, ModulesModel)

from .fit import FitLabel
from .theme import mono_font

TEXT_TYPES = frozenset("TtWiI")          # nm letters of code


def _table(model) -> QTableView:
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 4)
    table.horizontalHeader().setStretchLastSection(True)
    table.setWordWrap(False)
    return table


class DisassemblyPanel(QWidget):
    def __init__(self, model: DisassemblyModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.go = QLineEdit()
        self.go.setPlaceholderText("location to disassemble: libc.so.6!getpid, 0x401000, …")
        self.caption = FitLabel("Right-click a byte in the hex view ▸ Disassemble here, or "
                                "type a location. Double-click a target to follow it.")
        self.table = _table(model)
        self.table.setFont(mono_font(10))
        # A long module!symbol+off keeps its offset in view: elide the middle.
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        for col in range(model.columnCount() - 1):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        chars = self.table.fontMetrics().averageCharWidth()
        for col, width in enumerate((17, 24, 12, 34)):
            self.table.setColumnWidth(col, chars * width)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.go)
        layout.addWidget(self.caption)
        layout.addWidget(self.table, 1)
        self.table.verticalScrollBar().valueChanged.connect(self._scrolled)
        model.rowsInserted.connect(self._inserted)
        model.opened.connect(lambda row: self.table.scrollTo(model.index(row, 0),
                                                             QAbstractItemView.ScrollHint.PositionAtTop))
        model.status.connect(self.caption.setText)

    def _scrolled(self, value: int) -> None:
        if value == self.table.verticalScrollBar().minimum() and self.model.lines:
            self.model.fetch_above()

    def _inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        if first == 0 and len(self.model.lines) > last + 1:
            # Lines decoded above: keep the ones on screen where they were.
            bar = self.table.verticalScrollBar()
            bar.setValue(bar.value() + last + 1)


class ModulesPanel(QWidget):
    def __init__(self, modules: ModulesModel, symbols: ModuleSymbolsModel,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.modules_model, self.symbols_model = modules, symbols
        self.modules = _table(modules)
        self.modules.setSortingEnabled(False)
        self.search = QLineEdit()
        self.search.setPlaceholderText("symbols: a substring, or a glob with * ? [")
        self.search.setClearButtonEnabled(True)
        self.symbols = _table(symbols)
        self.caption = FitLabel("Select a module to list its symbols; double-click a "
                                "function to disassemble it.")
        lower = QWidget()
        column = QVBoxLayout(lower)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.search)
        column.addWidget(self.caption)
        column.addWidget(self.symbols, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.modules)
        split.addWidget(lower)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(split)
        self.search.textChanged.connect(lambda _t: self._filter())
        self.modules.selectionModel().selectionChanged.connect(lambda *_: self._filter())
        symbols.modelReset.connect(self._count)

    def selected_module(self):
        rows = self.modules.selectionModel().selectedRows()
        return rows[0].data(MODULE_ROLE) if rows else None

    def _filter(self) -> None:
        module = self.selected_module()
        self.symbols_model.set_filter(self.search.text().strip(),
                                      module.path if module is not None else None)

    def _count(self) -> None:
        model = self.symbols_model
        if model.error:
            self.caption.setText(model.error)
            return
        shown = len(model.symbols)
        self.caption.setText(f"{shown}{'+' if model.more else ''} symbols"
                             " · double-click: disassemble a function, show data in hex")


class CodeFeature(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        ws = self.workspace = window.workspace
        self.model = DisassemblyModel(ws.target, ws)
        self.modules_model = ModulesModel(ws.target, ws)
        self.symbols_model = ModuleSymbolsModel(ws.target, ws)
        self.panel = DisassemblyPanel(self.model)
        self.modules_panel = ModulesPanel(self.modules_model, self.symbols_model)
        self.dock = window.add_dock("disassembly", "Disassembly", self.panel,
                                    Qt.DockWidgetArea.BottomDockWidgetArea, tabify_with="watch")
        self.modules_dock = window.add_dock("modules", "Modules", self.modules_panel,
                                            Qt.DockWidgetArea.LeftDockWidgetArea,
                                            tabify_with="memory map")
        self.disassemble_action: QAction = window.add_action(
            "Go", "&Disassemble at the cursor", self.disassemble_cursor)
        window.add_action("Go", "Focus the d&isassembly",
                          lambda: window.show_dock("disassembly", self.panel.table), "Alt+8")
        window.add_action("Go", "Focus the &modules",
                          lambda: window.show_dock("modules", self.modules_panel.modules),
                          "Alt+9")
        view = window.editor.view
        here = QAction("Disassemble here", view)
        here.triggered.connect(self.disassemble_cursor)
        view.addAction(here)                 # the hex view's context menu
        self.panel.table.doubleClicked.connect(self._follow)
        self.panel.go.returnPressed.connect(self._go)
        self.modules_panel.symbols.doubleClicked.connect(self._symbol)
        self.modules_panel.modules.doubleClicked.connect(
            lambda index: self.disassemble(index.data(MODULE_ROLE).base))
        window.vma_panel.disassemble_area.connect(lambda area: self.disassemble(area.start))
        window.features["bookmarks"].panel.disassemble.connect(
            lambda b: self.disassemble(b.address))
        window.watch_docks.watch_panel.disassemble.connect(self.disassemble)

    # -- opening -------------------------------------------------------------------------------
    def disassemble(self, address: int | None):
        """Show the disassembly at ``address`` (decoded from the boundary
        before it) in the dock, raised."""
        if address is None:
            self.window.show_status("disassemble: no address")
            return None
        self.window.show_dock("disassembly", self.panel.table)
        return self.model.open(address)

    def disassemble_cursor(self):
        ws = self.workspace
        if ws.document.region is None:
            self.window.show_status("disassemble: open an area first")
            return None
        return self.disassemble(ws.cursor.address)

    def _go(self) -> None:
        try:
            address = self.model.resolve_text(self.panel.go.text())
        except InvalidInput as exc:
            self.panel.caption.setText(str(exc))
            return
        self.disassemble(address)

    def _follow(self, index: QModelIndex) -> None:
        row = index.row()
        link = self.model.link_at(row)
        if index.column() == TARGET and link is not None:
            address, kind = link
            if kind == "code":
                self.disassemble(address)
            else:
                self.window.show_address(address)
            return
        if index.column() == INSTRUCTION and link is not None and link[1] == "code":
            self.disassemble(link[0])
            return
        self.window.show_address(self.model.lines[row].address)

    def _symbol(self, index: QModelIndex) -> None:
        symbol = index.data(SYMBOL_ROLE)
        if symbol is None:
            return
        if symbol.type in TEXT_TYPES:
            self.disassemble(symbol.address)
        else:
            self.window.show_address(symbol.address)
