"""The watch-list dock: an add row (location, type, label), the table, the
refresh rate and freeze interval, and a context menu. The panel turns user
gestures into calls on :class:`~lainview.models.watch_model.WatchModel`;
it emits ``go_to``/``bookmark`` for the window to act on."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QHBoxLayout,
                               QHeaderView, QInputDialog, QLineEdit, QMenu, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from lainview.backend.errors import LainviewError
from lainview.models.watch_model import (ADDRESS, ENTRY_ROLE, FREEZE, LABEL, PLOT, TYPE, VALUE,
                                         WatchEntry, WatchModel)
from lainview.backend import value_types
from lainview.models.watch_values import ValueType

from .editing import LiveEditDelegate, keep_typing
from .fit import FitLabel
from .tables import Edit, list_rows, select_only
from .text_delegate import FastTextTable
from .theme import hex_color, mono_font, text_style


class TypeDelegate(LiveEditDelegate):
    """Edits the Type column with a combo of the scanner's types (and an
    editable text for lengths: utf8[32])."""

    def createEditor(self, parent, option, index):  # noqa: N802
        combo = QComboBox(parent)
        combo.setEditable(True)
        for name in value_types.names():
            combo.addItem(ValueType.of(name).label)
        return combo

    def fill_editor(self, editor, index):
        editor.setCurrentText(index.data(Qt.ItemDataRole.EditRole))

    def setModelData(self, editor, model, index):  # noqa: N802
        model.setData(index, editor.currentText())


class WatchPanel(QWidget):
    go_to = Signal(object)          # an address (64-bit)
    bookmark = Signal(object)       # WatchEntry
    disassemble = Signal(object)    # an address (64-bit)
    find_what = Signal(object, bool)   # WatchEntry, access (False: writes only)
    find_pointers = Signal(object)  # WatchEntry: start a pointer scan for its address

    def __init__(self, model: WatchModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        # -- the add row
        self.location = QLineEdit()
        self.location.setPlaceholderText("0x7f…, [heap]+0x40, game+0x1f40, kernel:jiffies")
        self.location.setClearButtonEnabled(True)
        self.type = QComboBox()
        for kind in value_types.kinds():
            self.type.addItem(kind.name)
            self.type.setItemData(self.type.count() - 1, kind.tip, Qt.ItemDataRole.ToolTipRole)
        self.type.setCurrentText("i32")
        self.length = QSpinBox()
        self.length.setRange(1, 4096)
        self.length.setValue(16)
        self.length.setPrefix("len ")
        self.length.setToolTip("characters of a string, bytes of a byte array")
        self.label = QLineEdit()
        self.label.setPlaceholderText("label (optional)")
        self.add_button = QPushButton("Add")
        self.add_button.setToolTip("add to the watch list (Enter)")
        self.error = FitLabel(min_chars=10)
        self.error.setStyleSheet(text_style("error"))
        self.error.hide()
        # -- the table
        self.table = FastTextTable()        # the Value column repaints up to 20 times a second
        self.table.setModel(model)
        list_rows(self.table, multi=True,
                  edits=Edit.DoubleClicked | Edit.EditKeyPressed | Edit.SelectedClicked)
        self.table.setFont(mono_font(9.5))
        # A pointer path's end (->+0x18->+0x8) says as much as its start.
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        keep_typing(self.table)         # live refreshes never touch an open editor
        self.table.setItemDelegateForColumn(TYPE, TypeDelegate(self.table))
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header = self.table.horizontalHeader()
        header.setFont(self.font())
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(VALUE, QHeaderView.ResizeMode.Stretch)
        mw = self.table.fontMetrics().horizontalAdvance("0")
        for section, chars in ((FREEZE, 9), (LABEL, 10), (ADDRESS, 20), (TYPE, 8), (PLOT, 5)):
            self.table.setColumnWidth(section, int(mw * chars + 16))
        # -- the bottom row
        self.summary = FitLabel(min_chars=8)
        self.summary.setStyleSheet(text_style("muted"))
        self.rate = QDoubleSpinBox()
        self.rate.setRange(0.5, 60.0)
        self.rate.setDecimals(1)
        self.rate.setSuffix(" Hz")
        self.rate.setValue(model.refresh_hz)
        self.rate.setToolTip("how often the list shows new values (plotted values are "
                             "sampled for the plot at its own rate)")
        self.freeze_ms = QSpinBox()
        self.freeze_ms.setRange(10, 60000)
        self.freeze_ms.setSingleStep(50)
        self.freeze_ms.setSuffix(" ms")
        self.freeze_ms.setPrefix("freeze every ")
        self.freeze_ms.setValue(model.freeze_interval_ms)
        self.freeze_ms.setToolTip("how often frozen values are checked and written back")
        self.pause = QPushButton("Pause")
        self.pause.setCheckable(True)

        add_row = QHBoxLayout()
        add_row.setContentsMargins(0, 0, 0, 0)
        add_row.addWidget(self.location, 3)
        add_row.addWidget(self.type)
        add_row.addWidget(self.length)
        add_row.addWidget(self.label, 1)
        add_row.addWidget(self.add_button)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.rate)
        bottom.addWidget(self.freeze_ms)
        bottom.addWidget(self.pause)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.setSpacing(4)
        column.addLayout(add_row)
        column.addWidget(self.error)
        column.addWidget(self.table, 1)
        column.addLayout(bottom)

        self.location.returnPressed.connect(self.add_typed)
        self.label.returnPressed.connect(self.add_typed)
        self.add_button.clicked.connect(self.add_typed)
        self.type.currentTextChanged.connect(self._type_changed)
        self.rate.valueChanged.connect(model.set_refresh_rate)
        self.freeze_ms.valueChanged.connect(model.set_freeze_interval)
        self.pause.toggled.connect(self._pause)
        self.table.customContextMenuRequested.connect(self._menu)
        self.table.doubleClicked.connect(self._double_clicked)
        model.rowsInserted.connect(self._update_summary)
        model.rowsRemoved.connect(self._update_summary)
        model.modelReset.connect(self._update_summary)
        model.dataChanged.connect(self._update_summary_soon)
        self.remove_action = QAction("Remove", self)
        self.remove_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.remove_action.triggered.connect(self.remove_selected)
        self.table.addAction(self.remove_action)
        self._type_changed(self.type.currentText())
        self._update_summary()

    def sizeHint(self):  # noqa: N802
        from PySide6.QtCore import QSize
        return QSize(760, 260)

    # -- adding -----------------------------------------------------------------------------------
    def add_typed(self) -> WatchEntry | None:
        try:
            type_text = ValueType.of(self.type.currentText(), self.length.value()).label
            entry = self.model.add_text(self.location.text(), type_text, self.label.text())
        except LainviewError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return None
        self.error.hide()
        self.location.clear()
        self.label.clear()
        select_only(self.table, self.model.row_of(entry))
        return entry

    def _type_changed(self, name: str) -> None:
        self.length.setVisible(value_types.get(name).sized)

    def _pause(self, paused: bool) -> None:
        self.model.set_paused(paused)
        self.pause.setText("Resume" if paused else "Pause")
        self._update_summary()

    # -- selection and the menu -------------------------------------------------------------------
    def selected_entries(self) -> list[WatchEntry]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.entry(r) for r in rows]

    def remove_selected(self) -> None:
        rows = [self.model.row_of(e) for e in self.selected_entries()]
        self.model.remove_rows(rows)

    def _double_clicked(self, index: QModelIndex) -> None:
        if index.column() == ADDRESS:
            entry = index.data(ENTRY_ROLE)
            if entry is not None and entry.address is not None:
                self.go_to.emit(entry.address)

    def _menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        entry: WatchEntry = index.data(ENTRY_ROLE)
        entries = self.selected_entries() or [entry]
        menu = QMenu(self)
        if entry.address is not None:
            menu.addAction("Show in the hex view", lambda: self.go_to.emit(entry.address))
            menu.addAction("Bookmark this address", lambda: self.bookmark.emit(entry))
            menu.addAction("Disassemble here", lambda: self.disassemble.emit(entry.address))
            menu.addAction("Find what writes to this", lambda: self.find_what.emit(entry, False))
            menu.addAction("Find what accesses this", lambda: self.find_what.emit(entry, True))
            find = menu.addAction("Find pointers to this…", lambda: self.find_pointers.emit(entry))
            find.setEnabled(not entry.is_kernel)
        menu.addAction("Edit value…", lambda: self.table.edit(self.model.index(
            self.model.row_of(entry), VALUE)))
        freeze = menu.addAction("Freeze" if not entry.frozen else "Unfreeze",
                                lambda: [self.model.set_frozen(e, not entry.frozen)
                                         for e in entries])
        freeze.setEnabled(entry.frozen or entry.data is not None)
        plot = menu.addAction("Plot", lambda: [self.model.set_plotted(e, not entry.plotted)
                                               for e in entries])
        plot.setCheckable(True)
        plot.setChecked(entry.plotted)
        plot.setEnabled(entry.vtype.numeric)
        shown = menu.addMenu("Show as")
        for fmt in entry.vtype.formats():
            def show_as(f: str = fmt) -> None:
                for e in entries:
                    if f in e.vtype.formats():
                        self.model.set_display(e, f)
            action = shown.addAction(fmt, show_as)
            action.setCheckable(True)
            action.setChecked(entry.display == fmt)
        menu.addAction("Unit for the plot axis…", lambda: self._ask_unit(entries))
        menu.addSeparator()
        menu.addAction(self.remove_action)
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def _ask_unit(self, entries: list[WatchEntry]) -> None:
        unit, ok = QInputDialog.getText(self, "Plot unit", "Unit (e.g. HP, m/s, ms):",
                                        text=entries[0].unit)
        if ok:
            for entry in entries:
                entry.unit = unit.strip()
            self.model.plot_changed.emit()

    # -- the summary line ---------------------------------------------------------------------------
    def _update_summary_soon(self, *_args) -> None:
        # dataChanged arrives every tick; the counts change rarely.
        frozen = sum(e.frozen for e in self.model.entries)
        if getattr(self, "_last_frozen", None) != frozen:
            self._update_summary()

    def _update_summary(self, *_args) -> None:
        entries = self.model.entries
        frozen = sum(e.frozen for e in entries)
        self._last_frozen = frozen
        plotted = sum(e.plotted for e in entries)
        unresolved = sum(bool(e.unresolved) for e in entries)
        parts = [f"{len(entries)} watched"]
        if frozen:
            parts.append(f"{frozen} frozen")
        if plotted:
            parts.append(f"{plotted} plotted")
        if unresolved:
            parts.append(f"<span style='color:{hex_color('error')}'>{unresolved} unresolved</span>")
        if self.model.paused:
            parts.append(f"<span style='color:{hex_color('warn')}'>paused</span>")
        if not entries:
            parts = ["Add an address above, or press Ctrl+W on a byte in the hex view"]
        self.summary.setText(" · ".join(parts))
