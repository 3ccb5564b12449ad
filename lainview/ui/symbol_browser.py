"""The kernel-symbol browser: the symbol table with its filter bar and the
modules on the left; the selected symbol's value in the hex view, with the
data inspector, on the right.

Widgets only: filtering is :class:`~lainview.models.symbol_model.SymbolTableModel`'s,
reading and patching :class:`~lainview.models.kernel_workspace.KernelValueController`'s.
Typed bytes are staged; Write… asks for confirmation (:class:`PatchDialog`)
and only then does the controller write.
"""

from __future__ import annotations

import asyncio
import html
import sys

from PySide6.QtCore import QModelIndex, QSize, QStringListModel, Qt, Signal
from PySide6.QtGui import QFontMetrics, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (QCheckBox, QComboBox, QCompleter, QDoubleSpinBox,
                               QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListView, QMenu,
                               QPushButton, QSpinBox, QSplitter, QTableView, QTabWidget,
                               QToolButton, QTreeView, QVBoxLayout, QWidget)

from lainview.backend.errors import LainviewError
from lainview.backend.kallsyms import KERNEL
from lainview.models.images import save_png
from lainview.models.kernel_workspace import MAX_SIZE, KernelWorkspace, PatchProposal
from lainview.models.symbol_model import (ADDRESS, KERNEL_LABEL, MODES, MODULE, NAME,
                                          SYMBOL_INDEX_ROLE, TYPE)

from .fit import ElidedLabel, first_start_size
from .hex_view import HexView
from .inspector_panel import InspectorPanel
from .patch_dialog import PatchDialog
from .tables import list_rows, select_only
from .text_delegate import FastTextTable
from .theme import box_style, hex_color, mono_font, text_style

TYPE_PRESETS = (
    ("All types", None),
    ("Variables: data, bss, rodata", "Dd,Bb,Rr"),
    ("Text (code)", "text"),
    ("Data", "data"),
    ("BSS", "bss"),
    ("Read-only data", "rodata"),
    ("Weak", "weak"),
    ("Global", "global"),
    ("Local", "local"),
)

def _banner(style: str) -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.RichText)            # its texts are escaped: never shown as entities
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setStyleSheet(style)
    label.hide()
    return label


class SymbolPanel(QWidget):
    """Filter bar, hidden-address note, the table and the count."""

    def __init__(self, workspace: KernelWorkspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model = workspace.symbols
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("filter symbols… (substring; * ? [ ] in glob mode)")
        self.filter.setClearButtonEnabled(True)
        self.mode = QComboBox()
        self.mode.addItems(MODES)
        self.mode.setToolTip("substring and glob ignore case; regex is Python syntax, "
                             "searched anywhere in the name")
        self.module = QComboBox()
        self.module.setToolTip("only this module's symbols")
        self.module.setMinimumContentsLength(14)
        self.module.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.types = QComboBox()
        for text, spec in TYPE_PRESETS:
            self.types.addItem(text, spec)
        self.types.setToolTip("symbol types: T/t text, D/d data, B/b bss, R/r read-only data, "
                              "W/w V/v weak; upper case is global, lower case local")
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.RichText)
        self.error.setStyleSheet(text_style("error"))
        self.error.setWordWrap(True)
        self.error.hide()
        self.hidden_note = _banner(box_style("note", radius=True))
        self.table = FastTextTable()            # ~122k rows, repainted per key
        self.table.setModel(model)
        list_rows(self.table)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        vertical = self.table.verticalHeader()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        digit = self.fontMetrics().horizontalAdvance("0")
        mono_digit = QFontMetrics(mono_font(self.font().pointSizeF())).horizontalAdvance("0")
        self.table.setColumnWidth(ADDRESS, int(mono_digit * 16 + 28))
        # Names get the room: the type shows its letter and kind ("T text"),
        # the scope is in the tooltip; modules are short names.
        self.table.setColumnWidth(TYPE, int(digit * 7 + 16))
        self.table.setColumnWidth(MODULE, int(digit * 8 + 16))
        header.setMinimumSectionSize(int(digit * 4))
        self.count = QLabel()
        self.count.setStyleSheet(f"color: {hex_color('muted')};")

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.filter, 1)
        bar.addWidget(self.mode)
        bar2 = QHBoxLayout()
        bar2.setContentsMargins(0, 0, 0, 0)
        bar2.addWidget(QLabel("Module"))
        bar2.addWidget(self.module, 1)
        bar2.addSpacing(8)
        bar2.addWidget(QLabel("Type"))
        bar2.addWidget(self.types, 1)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.setSpacing(4)
        column.addLayout(bar)
        column.addLayout(bar2)
        column.addWidget(self.error)
        column.addWidget(self.hidden_note)
        column.addWidget(self.table, 1)
        column.addWidget(self.count)

        self.filter.textChanged.connect(model.set_pattern)
        self.filter.returnPressed.connect(self._filter_enter)
        self.mode.currentTextChanged.connect(model.set_mode)
        self.module.currentIndexChanged.connect(
            lambda _i: model.set_module(self.module.currentData()))
        self.types.currentIndexChanged.connect(
            lambda _i: model.set_types(self.types.currentData()))
        model.filter_error_changed.connect(self._show_error)
        model.filtered.connect(self._update_count)
        self._update_count()

    def fill_modules(self, modules: list[str]) -> None:
        self.module.blockSignals(True)
        self.module.clear()
        self.module.addItem("All modules", None)
        self.module.addItem(f"{KERNEL_LABEL} (the kernel proper)", KERNEL)
        for name in sorted(modules):
            self.module.addItem(name, name)
        self.module.blockSignals(False)

    def set_hidden_reason(self, reason: str | None) -> None:
        if reason:
            self.hidden_note.setText(f"<b>Addresses are hidden.</b> {html.escape(reason)}")
            self.hidden_note.show()
        else:
            self.hidden_note.hide()

    def _filter_enter(self) -> None:
        self.model.apply_filter()
        if self.model.shown:
            self.table.setFocus()
            if not self.table.currentIndex().isValid():
                select_only(self.table, 0)

    def _show_error(self, text: str) -> None:
        self.error.setText(f"{html.escape(text)} — showing the last valid result" if text else "")
        self.error.setVisible(bool(text))
        self.filter.setStyleSheet(f"QLineEdit {{ border: 1px solid {hex_color('invalid_border')}; }}" if text else "")

    def _update_count(self) -> None:
        model = self.model
        text = f"{model.shown:,} of {model.total:,} symbols"
        if model.filter_runs:
            text += f" · filtered in {model.last_filter_seconds * 1000:.1f} ms"
        self.count.setText(text)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Down and self.filter.hasFocus():
            self.table.setFocus()
            if not self.table.currentIndex().isValid() and self.model.shown:
                select_only(self.table, 0)
            return
        super().keyPressEvent(event)


class ModulePanel(QWidget):
    """Loaded modules with their holders; hold and release."""

    hold_requested = Signal(str)
    release_requested = Signal(str)

    def __init__(self, workspace: KernelWorkspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = workspace.modules
        self.note = _banner(box_style("note", radius=True))
        self.table = QTableView()
        self.table.setModel(self.model)
        list_rows(self.table, wrap=True)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.hold = QPushButton("Hold")
        self.hold.setToolTip("LOCKSYM: keep the module loaded while lainview holds it")
        self.release = QPushButton("Release")
        self.release.setToolTip("UNLOCKSYM: give one hold back")
        self.why = QLabel()
        self.why.setTextFormat(Qt.TextFormat.RichText)
        self.why.setWordWrap(True)
        self.why.setStyleSheet(f"color: {hex_color('muted')};")
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.hold)
        buttons.addWidget(self.release)
        buttons.addWidget(self.why, 1)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addWidget(self.note)
        column.addWidget(self.table, 1)
        column.addLayout(buttons)
        self.hold.clicked.connect(lambda: self._emit(self.hold_requested))
        self.release.clicked.connect(lambda: self._emit(self.release_requested))
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self.update_buttons())
        self.model.modelAboutToBeReset.connect(self._remember)
        self.model.modelReset.connect(self._on_reset)
        self._kept: str | None = None
        self.model.dataChanged.connect(lambda *_: self.update_buttons())
        self._can_hold, self._why_not = False, "the kernel source is not open yet"
        self._on_reset()

    def set_capability(self, can_hold: bool, why_not: str) -> None:
        self._can_hold, self._why_not = can_hold, why_not
        self.update_buttons()

    def selected(self) -> str | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.module(index.row()).name

    def select(self, name: str) -> None:
        row = self.model.row_of(name)
        if row is not None:
            select_only(self.table, row)

    def _emit(self, signal) -> None:
        name = self.selected()
        if name:
            signal.emit(name)

    def _remember(self) -> None:
        self._kept = self.selected()

    def _on_reset(self) -> None:
        if self._kept:
            self.select(self._kept)     # a refreshed list keeps the module selected
        note = self.model.note
        self.note.setText(html.escape(note) if note else "")
        self.note.setVisible(bool(note))
        self.update_buttons()

    def update_buttons(self) -> None:
        name = self.selected()
        row = self.model.row_of(name) if name else None
        module = self.model.module(row) if row is not None else None
        held = self.model.holds.get(name, 0) if name else 0
        loadable = module is not None and module.loaded and not module.pseudo
        self.hold.setEnabled(self._can_hold and loadable)
        self.release.setEnabled(self._can_hold and held > 0)
        if not self._can_hold:
            self.why.setText(f"Hold and release are off: {html.escape(self._why_not)}")
        elif module is not None and not loadable:
            self.why.setText(f"{html.escape(module.name)} is not a loadable module")
        elif self.model.holds:
            self.why.setText("held by lainview: " + ", ".join(
                f"{m} ×{n}" for m, n in sorted(self.model.holds.items())))
        else:
            self.why.setText("select a module to hold it")


class ValuePanel(QWidget):
    """The selected symbol: title, size, follow pointer, live refresh, the
    hex view, the staged-edit bar and the message line."""

    def __init__(self, workspace: KernelWorkspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.controller = workspace.value
        self.title = QLabel("<b>No symbol selected</b>")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QLabel()
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setStyleSheet(f"color: {hex_color('muted')};")
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.size_box = QSpinBox()
        self.size_box.setRange(1, MAX_SIZE)
        self.size_box.setSuffix(" bytes")
        self.size_box.setToolTip("how many bytes to read; guessed from the distance to the next "
                             "symbol (at most 256)")
        self.size_box.setKeyboardTracking(False)
        self.size_note = QLabel()
        self.size_note.setStyleSheet(f"color: {hex_color('muted')};")
        self.follow = QCheckBox("Follow pointer")
        self.follow.setToolTip("read where the pointer stored at the symbol points "
                               "(IREADKSYM through the kmem device, or the pointed-to "
                               "address through kcore or an image)")
        self.refresh = QToolButton()
        self.refresh.setText("⟳")
        self.refresh.setToolTip("read the value again now (F5)")
        self.live = QCheckBox("Live")
        self.live.setToolTip("re-read the value on a timer; changed bytes flash")
        self.rate = QDoubleSpinBox()
        self.rate.setRange(0.2, 30.0)
        self.rate.setDecimals(1)
        self.rate.setSuffix(" Hz")
        self.rate.setValue(self.controller.refresh_hz)
        self.notice = _banner(box_style("note", radius=True))
        self.view = HexView(workspace.document, workspace.cursor)
        self.view.placeholder = "Select a symbol to read its value."
        # Room for the address, 16 bytes and their ASCII without scrolling sideways.
        self.view.setMinimumWidth(int(self.view.layout_.width) + 24)
        self.typing = workspace.typing
        self.type_edit = QLineEdit()
        self.type_edit.setPlaceholderText("type, e.g. struct uts_namespace (type-ahead over "
                                          "the kernel's BTF)")
        self.type_edit.setClearButtonEnabled(True)
        self.type_edit.setToolTip("show the symbol's value as this C type; Enter applies, and "
                                  "the choice is remembered for the symbol")
        self.type_names = QStringListModel(self)
        self.completer = QCompleter(self.type_names, self)
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setMaxVisibleItems(12)
        popup = self.completer.popup()
        if isinstance(popup, QListView):
            popup.setUniformItemSizes(True)         # type names: one line each, laid out once
        self.type_edit.textEdited.connect(self._complete)     # before the completer's own
        self.type_edit.setCompleter(self.completer)
        self.completer.activated.connect(self._choose)
        self.type_apply = QPushButton("Show as type")
        self.type_apply.setToolTip("show the value as the typed type (Enter)")
        self.type_forget = QPushButton("Forget")
        self.type_forget.setToolTip("forget the type chosen for this symbol")
        self.type_note = ElidedLabel()
        self.type_note.setStyleSheet(f"color: {hex_color('muted')};")
        self.tree = QTreeView()
        self.tree.setModel(self.typing.structure)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.tree.header().setStretchLastSection(True)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.staged_label = QLabel()
        self.write = QPushButton("Write…")
        self.write.setToolTip("review the edit and confirm before anything is written "
                              "(Ctrl+S)")
        self.discard = QPushButton("Discard")
        self.discard.setToolTip("drop the edits that were not written")
        self.staged_bar = QWidget()
        self.staged_bar.setObjectName("stagedBar")
        self.staged_bar.setStyleSheet(f"#stagedBar {{ {box_style('staged', radius=True)} }}")
        staged_row = QHBoxLayout(self.staged_bar)
        staged_row.setContentsMargins(6, 2, 6, 2)
        staged_row.addWidget(self.staged_label, 1)
        staged_row.addWidget(self.discard)
        staged_row.addWidget(self.write)
        self.staged_bar.hide()
        self.message = _banner(box_style("error", radius=True))
        self.revert = QPushButton("Revert last write")
        self.revert.hide()

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.title, 1)
        top.addWidget(self.details)
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(QLabel("Size"))
        controls.addWidget(self.size_box)
        controls.addWidget(self.size_note)
        controls.addSpacing(12)
        controls.addWidget(self.follow)
        controls.addStretch(1)
        controls.addWidget(self.live)
        controls.addWidget(self.rate)
        controls.addWidget(self.refresh)
        message_row = QHBoxLayout()
        message_row.setContentsMargins(0, 0, 0, 0)
        message_row.addWidget(self.message, 1)
        message_row.addWidget(self.revert, 0, Qt.AlignmentFlag.AlignTop)
        column = QVBoxLayout(self)
        column.setContentsMargins(6, 6, 6, 4)
        column.setSpacing(5)
        column.addLayout(top)
        column.addLayout(controls)
        type_row = QHBoxLayout()
        type_row.setContentsMargins(0, 0, 0, 0)
        type_row.addWidget(QLabel("Type"))
        type_row.addWidget(self.type_edit, 1)
        type_row.addWidget(self.type_apply)
        type_row.addWidget(self.type_forget)
        column.addLayout(type_row)
        column.addWidget(self.type_note)
        column.addWidget(self.notice)
        self.tabs.addTab(self.view, "Bytes")
        self.tabs.addTab(self.tree, "Structure")
        column.addWidget(self.tabs, 1)
        column.addWidget(self.staged_bar)
        column.addLayout(message_row)

        c = self.controller
        self.size_box.valueChanged.connect(c.set_size)
        self.follow.toggled.connect(c.set_indirect)
        self.refresh.clicked.connect(c.refresh)
        self.live.toggled.connect(c.set_live)
        self.rate.valueChanged.connect(c.set_refresh_rate)
        self.discard.clicked.connect(workspace.document.discard_staged)
        c.changed.connect(self.update_labels)
        self.type_edit.returnPressed.connect(lambda: self._choose(self.type_edit.text()))
        self.type_apply.clicked.connect(lambda: self._choose(self.type_edit.text()))
        self.type_forget.clicked.connect(lambda: self._choose(""))
        self.typing.changed.connect(self.update_type)
        self.typing.structure.modelReset.connect(self._expand_tree)
        self.update_type()
        c.message.connect(self.show_message)
        workspace.document.inline_message.connect(self.show_message)
        workspace.document.staged_changed.connect(self._update_staged)
        self.view.status_message.connect(self.show_message)
        self.update_labels()

    def _complete(self, text: str) -> None:
        self.type_names.setStringList(self.typing.search(text))

    def _choose(self, name: str):
        popup = self.completer.popup()
        if popup is not None and popup.isVisible():
            popup.hide()
        return self.typing.choose(name)

    def popup_visible(self) -> bool:
        popup = self.completer.popup()
        return popup is not None and popup.isVisible()

    def update_type(self) -> None:
        """The type field, its note and the tab shown follow the symbol's type."""
        t = self.typing
        if not self.type_edit.hasFocus() or t.type_name:
            self.type_edit.setText(t.type_name)
        self.type_note.set_full_text(t.note)
        self.type_note.setVisible(bool(t.note))
        has_symbol = self.controller.symbol is not None
        for w in (self.type_edit, self.type_apply):
            w.setEnabled(has_symbol and t.available)
        self.type_forget.setEnabled(t.origin in ("chosen", "remembered"))
        self.tabs.setCurrentWidget(self.tree if t.type_name else self.view)

    def _expand_tree(self) -> None:
        self.tree.expandToDepth(0)
        for c in range(3):
            self.tree.resizeColumnToContents(c)

    def show_message(self, text: str, ok: bool = False) -> None:
        if not text:
            self.message.hide()
            return
        self.message.setStyleSheet(box_style("ok", radius=True) if ok or text.startswith("wrote ") else box_style("error", radius=True))
        self.message.setText(html.escape(text))
        self.message.show()

    def _update_staged(self) -> None:
        document = self.workspace.document
        n = len(document.pending_writes)
        failed = bool(document.failed_writes)
        self.staged_bar.setVisible(n > 0)
        if n:
            end = document.staged_end() or n
            self.staged_label.setText(
                f"<b>{n} byte{'s' if n != 1 else ''} edited</b>, not written"
                + (" (the last write failed)" if failed else "")
                + (f" · a write covers bytes 0–{end - 1} of the symbol" if end > 1
                   else " · a write covers byte 0 of the symbol"))

    def update_labels(self) -> None:
        c = self.controller
        symbol = c.symbol
        if symbol is None:
            self.title.setText("<b>No symbol selected</b>")
            self.details.setText("")
            self.size_note.setText("")
            self.notice.hide()
            for w in (self.size_box, self.follow, self.refresh, self.live, self.rate):
                w.setEnabled(False)
            return
        for w in (self.size_box, self.follow, self.refresh, self.live, self.rate):
            w.setEnabled(True)
        module = f" <span style='color:{hex_color('muted')}'>[{html.escape(symbol.module)}]</span>" \
            if symbol.module else ""
        self.title.setText(f"<b>{html.escape(symbol.name)}</b>{module}")
        table = c.table
        where = "address hidden" if table is not None and table.addresses_hidden \
            else f"{symbol.address:#x}"
        details = f"{symbol.type} · {symbol.meaning} · {where}"
        value = c.value
        if c.indirect and value is not None and value.pointer is not None:
            details += f" → {value.pointer:#x} ({html.escape(c.describe_pointer(value.pointer))})"
        if value is not None:
            details += f" · via {html.escape(value.via)}"
        self.details.setText(details)
        self.size_box.blockSignals(True)
        self.size_box.setValue(c.size)
        self.size_box.blockSignals(False)
        self.follow.blockSignals(True)
        self.follow.setChecked(c.indirect)
        self.follow.blockSignals(False)
        if c.size_guess is None:
            self.size_note.setText("(not guessed: addresses hidden)")
        elif c.size == c.size_guess:
            self.size_note.setText("(guessed from the next symbol)")
        else:
            self.size_note.setText(f"(guess: {c.size_guess})")
        notes = []
        if c.error:
            notes.append(html.escape(c.error))
        if c.ambiguity:
            notes.append(html.escape(c.ambiguity))
        if not c.can("write"):
            # Where nothing can read, writing lacks the same source: the read
            # error above already explains it; say it once.
            notes.append("Editing is off too." if not c.can("read") and c.error else
                         "Editing is off: " + html.escape(c.why_not("write")))
        self.notice.setText("<br>".join(notes))
        self.notice.setVisible(bool(notes))
        self.notice.setStyleSheet(box_style("error", radius=True) if c.error else box_style("note", radius=True))
        last = c.last_write
        self.revert.setVisible(last is not None)
        if last is not None:
            self.revert.setText(f"Revert the write to {last.name}")


class SourceBar(QWidget):
    """The kernel source, why it was chosen, and what it can and cannot do."""

    def __init__(self, workspace: KernelWorkspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.source = QLabel()
        self.source.setTextFormat(Qt.TextFormat.RichText)
        self.reason = ElidedLabel()
        self.reason.setStyleSheet(f"color: {hex_color('muted')};")
        self.chips: dict[str, QLabel] = {}
        row = QHBoxLayout()
        row.addWidget(self.source)
        row.addSpacing(6)
        for capability, _, _ in workspace.value.capabilities():
            chip = QLabel()
            chip.setObjectName(f"cap_{capability}")
            self.chips[capability] = chip
            row.addWidget(chip)
        row.addSpacing(10)
        row.addWidget(self.reason, 1)
        row.setContentsMargins(8, 6, 8, 4)
        self.setLayout(row)
        self.update_source()

    def update_source(self) -> None:
        ws = self.workspace
        info = ws.info
        if info is None:
            self.source.setText("Source: <b>…</b>")
            self.reason.set_full_text(ws.error or "opening the kernel source…")
        else:
            self.source.setText(f"Source: <b>{html.escape(info.source)}</b>")
            others = ws.value.passed_over()
            self.reason.set_full_text(info.reason + (" · not chosen: " + "; ".join(others)
                                                     if others else ""))
        for capability, chip in self.chips.items():
            ok = info is not None and info.can(capability)
            why = ws.value.why_not(capability)
            color, bg, mark = (hex_color("ok_fg"), hex_color("ok_bg"), "✓") if ok else \
                (hex_color("error_fg"), hex_color("error_bg"), "✗")
            chip.setText(f"{mark} {capability}")
            chip.setStyleSheet(f"color: {color}; background: {bg}; border-radius: 8px;"
                               " padding: 1px 8px;")
            chip.setToolTip(f"{capability}: yes" if ok else f"{capability}: no — {why}")


class SymbolBrowser(QWidget):
    """The whole browser, over a :class:`KernelWorkspace`."""

    def __init__(self, workspace: KernelWorkspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = ws = workspace
        self.patch_dialog: PatchDialog | None = None
        self.code = None                    # the Disassembly tab, made when first asked for
        self.setWindowTitle("Kernel symbols — lainview")
        self.source_bar = SourceBar(ws)
        self.symbols = SymbolPanel(ws)
        self.modules = ModulePanel(ws)
        self.value = ValuePanel(ws)
        self.inspector = InspectorPanel(ws.inspector)
        self.inspector.caption.setText("the bytes at the cursor · double-click a value to edit")
        self.left_tabs = QTabWidget()
        self.left_tabs.addTab(self.symbols, "Symbols")
        self.left_tabs.addTab(self.modules, "Modules")
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.value)
        right.addWidget(self.inspector)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.left_tabs)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 5)
        self.splitter.setStretchFactor(1, 4)
        self.splitter.setSizes([780, 660])     # the symbol names get the room, not the hex view's margin
        right.setSizes([470, 330])
        self.right = right
        self._structure_room = False        # the typed tree got the room once
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)      # messages, never markup
        self.status.setStyleSheet(f"color: {hex_color('muted')}; padding: 2px 8px;")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.source_bar)
        column.addWidget(self.splitter, 1)
        column.addWidget(self.status)

        self.symbols.table.selectionModel().currentRowChanged.connect(self._on_current)
        self.symbols.table.customContextMenuRequested.connect(self._context_menu)
        ws.symbols.filtered.connect(self._reselect)
        ws.status.connect(self.status.setText)
        ws.loaded.connect(self._on_loaded)
        ws.holds_changed.connect(self.modules.update_buttons)
        self.value.write.clicked.connect(self.request_patch)
        self.value.revert.clicked.connect(lambda: ws.spawn(ws.value.revert_last()))
        self.modules.hold_requested.connect(lambda name: ws.spawn(ws.hold(name)))
        self.modules.release_requested.connect(lambda name: ws.spawn(ws.release(name)))
        ws.value.changed.connect(self.source_bar.update_source)
        ws.typing.changed.connect(self._room_for_structure)
        self._selected: int | None = None
        for keys, slot in (("Ctrl+S", self.request_patch), ("Ctrl+Return", self.request_patch),
                           ("F5", ws.value.refresh), ("Ctrl+F", self.focus_filter),
                           ("Ctrl+L", self.focus_filter)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        if ws.table is not None or ws.error:
            self._on_loaded()

    def sizeHint(self) -> QSize:  # noqa: N802
        """1440x860, cut to the screen it opens on."""
        return first_start_size(self, QSize(1440, 860))

    # -- loading ---------------------------------------------------------------------------------
    def _on_loaded(self) -> None:
        ws = self.workspace
        self.source_bar.update_source()
        table = ws.table
        if table is not None:
            self.symbols.fill_modules(table.module_names)
            self.symbols.set_hidden_reason(table.hidden_reason if table.addresses_hidden
                                           else None)
        self.modules.set_capability(ws.value.can("hold"), ws.value.why_not("hold"))
        self.left_tabs.setTabText(1, f"Modules ({ws.modules.rowCount()})")
        self.value.update_labels()

    def _room_for_structure(self) -> None:
        """The first typed value shown: the field tree gets most of the
        right side (the inspector below keeps a third); later the user's
        split is kept."""
        if self._structure_room or not self.workspace.typing.type_name:
            return
        self._structure_room = True
        total = sum(self.right.sizes())
        if total > 0:
            self.right.setSizes([total * 2 // 3, total - total * 2 // 3])

    def focus_filter(self) -> None:
        self.left_tabs.setCurrentWidget(self.symbols)
        self.symbols.filter.setFocus()
        self.symbols.filter.selectAll()

    # -- selection -------------------------------------------------------------------------------
    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        index = current.data(SYMBOL_INDEX_ROLE)
        if index is None or index == self._selected:
            return
        self._selected = index
        self.workspace.value.select(index)

    def _reselect(self) -> None:
        """After a new filter or sort: keep the selected symbol selected."""
        if self._selected is None:
            return
        row = self.workspace.symbols.row_of(self._selected)
        if row is None:
            return
        table = self.symbols.table
        table.selectionModel().blockSignals(True)
        select_only(table, row, NAME)
        table.selectionModel().blockSignals(False)
        table.viewport().update()
        table.scrollTo(table.currentIndex())

    def select_symbol(self, name: str, module: str | None = None) -> bool:
        """Select the first symbol named ``name`` (e.g. from a test or go-to)."""
        table = self.workspace.table
        if table is None:
            return False
        found = table.lookup(name, module)
        if not found:
            return False
        row = self.workspace.symbols.row_of(found[0])
        if row is None:
            self.symbols.filter.clear()
            self.workspace.symbols.set_pattern("")
            self.workspace.symbols.apply_filter()
            row = self.workspace.symbols.row_of(found[0])
        if row is None:
            return False
        select_only(self.symbols.table, row)
        self.symbols.table.scrollTo(self.workspace.symbols.index(row, NAME))
        return True

    def _context_menu(self, pos) -> None:
        index = self.symbols.table.indexAt(pos)
        if not index.isValid():
            return
        i = index.data(SYMBOL_INDEX_ROLE)
        table = self.workspace.table
        if table is None:
            return
        symbol = table.symbol(i)
        menu = QMenu(self)
        menu.addAction(f"Copy name  {symbol.name}",
                       lambda: QGuiApplication.clipboard().setText(symbol.name))
        if not table.addresses_hidden:
            menu.addAction(f"Copy address  {symbol.address:#x}",
                           lambda: QGuiApplication.clipboard().setText(f"{symbol.address:#x}"))
        if symbol.module:
            menu.addAction(f"Show only module {symbol.module}",
                           lambda: self._filter_module(symbol.module))
        if symbol.type in "Tt":
            menu.addAction("Disassemble", lambda: self.disassemble(symbol))
        menu.exec(self.symbols.table.viewport().mapToGlobal(pos))

    def disassemble(self, symbol):
        """Show ``symbol``'s code (read through the kernel source) in the
        Disassembly tab."""
        from lainview.models.code_models import KernelDisassemblyModel
        from .code_feature import DisassemblyPanel
        if self.code is None:
            self.code = DisassemblyPanel(KernelDisassemblyModel(self.workspace.kernel, self))
            self.code.go.hide()
            self.left_tabs.addTab(self.code, "Disassembly")
        self.left_tabs.setCurrentWidget(self.code)
        return self.code.model.open_symbol(symbol.name, symbol.module or None)

    def _filter_module(self, module: str) -> None:
        combo = self.symbols.module
        i = combo.findData(module)
        if i >= 0:
            combo.setCurrentIndex(i)

    # -- patching --------------------------------------------------------------------------------
    def request_patch(self):
        """Write…: read the current bytes, then ask for confirmation."""
        return self.workspace.spawn(self._request_patch())

    async def _request_patch(self) -> None:
        if self.patch_dialog is not None:
            return
        proposal = await self.workspace.value.propose_patch()
        if proposal is None:
            return
        self.open_patch_dialog(proposal)

    def open_patch_dialog(self, proposal: PatchProposal) -> PatchDialog:
        info = self.workspace.info
        dialog = PatchDialog(proposal, device=info.device if info else None, parent=self)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.patch_dialog = dialog
        dialog.accepted.connect(lambda: self.workspace.spawn(
            self.workspace.value.commit(proposal)))
        dialog.finished.connect(self._dialog_closed)
        dialog.open()
        return dialog

    def _dialog_closed(self, result: int) -> None:
        dialog, self.patch_dialog = self.patch_dialog, None
        if dialog is not None:
            if not result:
                self.value.show_message("not written: the write was cancelled; the edits are "
                                        "still staged (Discard drops them)", ok=True)
            dialog.deleteLater()

    def closeEvent(self, event) -> None:  # noqa: N802
        self.value.live.setChecked(False)
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop timers and tasks and close (the main window is closing)."""
        self.workspace.stop()
        self.close()

    async def wait_loaded(self, timeout: float = 20.0) -> bool:
        """Until the source is open and the symbols are in (or failed)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (self.workspace.loading or (self.workspace.table is None
                                           and not self.workspace.error)) \
                and loop.time() < deadline:
            await asyncio.sleep(0.05)
        return self.workspace.table is not None

    async def screenshot(self, path: str, symbol: str | None = None,
                         timeout: float = 15.0) -> int:
        """Load, select ``symbol`` (or the first data symbol), let its value
        and its type (DWARF, or the one chosen before) come in (or their
        reasons not to), and save the window to ``path``.
        1 (with one line on stderr) if the symbols or the value never came."""
        def fail(why: str) -> int:
            print(f"lainview: no screenshot: {' '.join(why.split())}", file=sys.stderr)
            return 1
        if not await self.wait_loaded(timeout):
            return fail(f"the kernel symbols did not load: {self.workspace.error or 'timed out'}")
        table = self.workspace.table
        if table is None:
            return fail("the kernel symbols did not load")
        name = symbol
        if name is None:
            data = table.select(types="Dd")
            name = table.names[int(data[0])] if len(data) else (table.names[0]
                                                                  if len(table) else None)
        if not name:
            return fail("the kernel symbol table is empty")
        if not self.select_symbol(name):
            return fail(f"no kernel symbol named {name} in {table.source}")
        value = self.workspace.value
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while value.value is None and not value.error and loop.time() < deadline:
            await asyncio.sleep(0.05)
        if value.value is None and not value.error:
            return fail(f"the value of {name} did not arrive within {timeout:g} s")
        typing = self.workspace.typing
        while (typing.types is None or typing.note.startswith("loading")
               or (typing.type_name and typing.structure.root is None)) \
                and loop.time() < deadline:
            await asyncio.sleep(0.05)        # the type (DWARF, remembered) and its tree
        await asyncio.sleep(0.2)
        pixmap = self.grab()
        try:
            save_png(pixmap, path)
        except LainviewError as exc:
            return fail(str(exc))
        print(f"lainview: wrote {path} ({pixmap.width()}x{pixmap.height()})")
        return 0


def open_kernel_browser(backend, parent: QWidget | None = None, **options) -> SymbolBrowser:
    """A symbol browser window over ``backend`` (``options``: ``kernel=``
    the application's KernelBackend, or the kernel source as KernelWorkspace
    takes it), loading in the background."""
    workspace = KernelWorkspace(backend, **options)
    browser = SymbolBrowser(workspace, parent)
    browser.setWindowFlag(Qt.WindowType.Window, True)
    browser.resize(browser.sizeHint())
    workspace.start()
    return browser
