"""Dissect as a feature of the main window: right-click a byte in the hex
view ▸ Dissect here, and the Dissect dock (tabbed with the data inspector;
Go ▸ Focus the dissect, Alt+0) lists each 8-byte slot from there with its
guessed type, live value and why; the Type column's combo changes a guess;
*Declare as struct* hands the slots as C declarations to the Structure dock
and places them at the same address. Widgets and wiring only: the guesses
are backend/dissect.py, the rows models/dissect_model.py."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel,
                               QLineEdit, QPushButton, QSpinBox, QStyleOptionViewItem,
                               QTableView, QVBoxLayout, QWidget)

from lainview.backend.dissect import CHOICES, MAX_DISSECT, SLOT
from lainview.backend.errors import InvalidInput
from lainview.models.dissect_model import ADDRESS, OFFSET, TYPE, DissectModel

from .editing import LiveEditDelegate
from .fit import ElidedLabel


class KindDelegate(LiveEditDelegate):
    """The Type column's editor: a combo of the kinds a slot may be; the
    choice is applied as soon as it is picked. Filled once when it opens
    (live refreshes never touch it)."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,  # noqa: N802
                     index: QModelIndex | QPersistentModelIndex) -> QWidget:
        if index.column() != TYPE:
            return super().createEditor(parent, option, index)
        combo = QComboBox(parent)
        combo.addItems([k.value for k in CHOICES])
        combo.activated.connect(lambda _i, c=combo: self._chosen(c))
        return combo

    def _chosen(self, combo: QComboBox) -> None:
        self.commitData.emit(combo)
        self.closeEditor.emit(combo)

    def fill_editor(self, editor: QWidget, index: QModelIndex) -> None:
        if isinstance(editor, QComboBox):
            editor.setCurrentText(str(index.data()))
        else:
            super().fill_editor(editor, index)

    def setModelData(self, editor: QWidget, model,  # noqa: N802
                     index: QModelIndex | QPersistentModelIndex) -> None:
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentText())
        else:
            super().setModelData(editor, model, index)


class DissectPanel(QWidget):
    """The note, the size and *At cursor*, the struct's name and *Declare
    as struct*, and the slots table."""

    def __init__(self, model: DissectModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.note = ElidedLabel(model.note)
        self.size_box = QSpinBox()
        self.size_box.setRange(SLOT, MAX_DISSECT)
        self.size_box.setSingleStep(SLOT)
        self.size_box.setValue(model.size)
        self.size_box.setSuffix(" bytes")
        self.size_box.setToolTip("how many bytes to dissect (8 per slot)")
        self.at_cursor = QPushButton("At cursor")
        self.at_cursor.setToolTip("dissect from the hex view's cursor")
        self.name_edit = QLineEdit("dissected")
        self.name_edit.setPlaceholderText("struct name")
        self.name_edit.setToolTip("the name of the struct the slots are declared as")
        self.declare = QPushButton("Declare as struct")
        self.declare.setToolTip("the slots as C declarations in the Structure dock, "
                                "placed at this address")
        self.table = QTableView()
        self.table.setModel(model)
        self.delegate = KindDelegate(self.table)
        self.table.setItemDelegate(self.delegate)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.SelectedClicked)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        header.setMinimumSectionSize(36)
        # labels at the left of their section: a column wider than a narrow dock (the value,
        # the why) shows its label where it starts, not centred out of sight
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        # Offset, type and value first (a narrow dock shows them), why and address after;
        # sized to their contents once per dissection (not on every live refresh).
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        model.modelReset.connect(self.table.resizeColumnsToContents)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        first = QHBoxLayout()
        first.addWidget(self.size_box)
        first.addWidget(self.at_cursor)
        first.addStretch(1)
        second = QHBoxLayout()
        second.addWidget(QLabel("struct"))
        second.addWidget(self.name_edit, 1)
        second.addWidget(self.declare)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addWidget(self.note)
        column.addLayout(first)
        column.addLayout(second)
        column.addWidget(self.table, 1)
        model.note_changed.connect(self.note.setText)


class DissectFeature:
    def __init__(self, window):
        self.window = window
        ws = self.workspace = window.workspace
        self.model = DissectModel(ws.target, ws.document, window)
        window.on_close(self.model.stop)
        self.panel = DissectPanel(self.model)
        self.dock = window.add_dock("dissect", "Dissect", self.panel,
                                    Qt.DockWidgetArea.RightDockWidgetArea,
                                    tabify_with="inspector")
        window.add_action("Go", "Focus the dissec&t",
                          lambda: window.show_dock("dissect", self.panel.table), "Alt+0")
        view = window.editor.view
        here = QAction("Dissect here", view)
        here.setToolTip("guess what each 8-byte slot from this byte holds (Dissect dock)")
        here.triggered.connect(lambda _checked=False: self.dissect_cursor())
        view.addAction(here)                 # the hex view's context menu
        self.panel.at_cursor.clicked.connect(lambda _checked=False: self.dissect_cursor())
        self.panel.declare.clicked.connect(lambda _checked=False: self.declare())
        self.panel.name_edit.returnPressed.connect(self.declare)
        self.panel.table.doubleClicked.connect(self._double_clicked)
        window.add_key_note("Dissect", "double-click an offset or address",
                            "go to the slot in the hex view")

    def dissect_cursor(self) -> bool:
        """Dissect from the hex view's cursor, the size in the panel."""
        ws = self.workspace
        if ws.document.region is None:
            self.window.show_status("dissect: open an area first")
            return False
        return self.dissect(ws.cursor.address)

    def dissect(self, address: int, size: int | None = None) -> bool:
        try:
            self.model.open(address, size if size is not None else self.panel.size_box.value())
        except InvalidInput as exc:
            self.window.show_status(f"dissect: {exc}")
            return False
        self.panel.size_box.setValue(self.model.size)
        self.window.show_dock("dissect")
        return True

    def _double_clicked(self, index: QModelIndex) -> None:
        if index.column() in (OFFSET, ADDRESS) and 0 <= index.row() < len(self.model.slots):
            self.window.show_address(self.model.slots[index.row()].address)

    def declare(self) -> bool:
        """The slots as C declarations of ``struct NAME`` appended to the
        Structure dock's declarations (``NAME_2``, … where NAME is taken),
        placed at the dissected address as the dock's placement (named after
        the type); a bad name, declarations that do not parse or nothing
        dissected is said in the panel's note."""
        model = self.model
        if model.address is None:
            self.panel.note.setText("nothing dissected yet: right-click a byte ▸ Dissect here")
            return False
        structure = self.window.features["structure"]
        spanel = structure.panel
        try:
            text, type_name = model.declaration_after(spanel.declarations.toPlainText(),
                                                      self.panel.name_edit.text())
            structure.model.set_declarations(text)
            placement = structure.model.place(type_name, model.address)
        except InvalidInput as exc:
            self.panel.note.setText(str(exc))
            return False
        spanel.declarations.setPlainText(text)
        spanel.type_edit.setText(type_name)
        spanel.name_edit.setText(placement.name)
        self.window.show_dock("structure")
        self.window.show_status(f"{type_name} declared from {len(model.slots)} slots and "
                                f"placed at {model.address:#x} (Structure dock)")
        return True
