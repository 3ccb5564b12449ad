"""The structure view as a feature of the main window: a dock (tabbed with
the data inspector) where the user pastes C declarations, names a type and
places it at the cursor; the fields show as a tree with live values
(models/structure_model.py); double-click a field to go to it, Watch field
adds it to the watch list; View ▸ Structure, Go ▸ Focus the structure
(Alt+7)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPlainTextEdit,
                               QPushButton, QTreeView, QVBoxLayout, QWidget)

from lainview.backend.errors import InvalidInput
from lainview.models.field_overlay import byte_size
from lainview.models.structure_model import VALUE, StructureModel

EXAMPLE = ("struct demo {\n    uint32_t magic;\n    int32_t health;\n    float speed;\n"
           "    uint32_t pad;\n    double position;\n    char name[16];\n};")


class StructurePanel(QWidget):
    """Declarations box, type field, Place button, a note line and the tree."""

    def __init__(self, model: StructureModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.declarations = QPlainTextEdit()
        self.declarations.setPlaceholderText("C declarations, e.g.\n" + EXAMPLE)
        self.declarations.setMinimumHeight(40)
        self.declarations.setMaximumHeight(110)
        self.type_edit = QLineEdit()
        self.type_edit.setPlaceholderText("type, e.g. struct demo")
        self.place_button = QPushButton("Place at cursor")
        self.debug_button = QPushButton("Type from debug info")
        self.debug_button.setToolTip("show the global variable at the cursor with its type "
                                     "from its module's DWARF (a program built with -g)")
        self.watch_button = QPushButton("Watch field")
        self.watch_button.setToolTip("add the selected field to the watch list")
        self.note = QLabel(model.note)
        self.note.setWordWrap(True)
        self.note.setMinimumWidth(10)
        self.tree = QTreeView()
        self.tree.setModel(model)
        self.tree.setUniformRowHeights(True)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.tree.header().setStretchLastSection(True)
        row = QHBoxLayout()
        row.addWidget(self.place_button)
        row.addWidget(self.debug_button)
        row.addWidget(self.watch_button)
        row.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(2, 2, 2, 2)
        column.addWidget(self.declarations)
        column.addWidget(self.type_edit)
        column.addLayout(row)
        column.addWidget(self.note)
        column.addWidget(self.tree, 1)
        model.placed_changed.connect(self._placed)
        model.note_changed.connect(self.note.setText)
        model.modelReset.connect(self._expand)
        self.tree.expanded.connect(lambda _index: self.tree.resizeColumnToContents(0))

    def show_note(self, text: str) -> None:
        self.note.setText(text)

    def _placed(self) -> None:
        self.note.setText(self.model.note)
        if self.model.ctype is not None:
            self.type_edit.setText(self.model.ctype.c_name())

    def _expand(self) -> None:
        self.tree.expandToDepth(0)
        for c in range(3):
            self.tree.resizeColumnToContents(c)


class StructureFeature:
    def __init__(self, window):
        self.window = window
        ws = window.workspace
        self.model = StructureModel(ws.document, ws.target)
        window.on_close(self.model.stop)
        self.panel = StructurePanel(self.model)
        self.dock = window.add_dock("structure", "Structure", self.panel,
                                    Qt.DockWidgetArea.RightDockWidgetArea,
                                    tabify_with="inspector")
        window.add_action("Go", "Focus the &structure",
                          lambda: window.show_dock("structure", self.panel.type_edit), "Alt+7")
        self.panel.place_button.clicked.connect(self.place_at_cursor)
        self.panel.type_edit.returnPressed.connect(self.place_at_cursor)
        self.panel.debug_button.clicked.connect(self.type_from_debug_info)
        self.panel.watch_button.clicked.connect(
            lambda: self.watch_field(self.panel.tree.currentIndex()))
        self.panel.tree.doubleClicked.connect(self.go_to_field)
        window.add_key_note("Structure", "double-click a field's name",
                            "go to the field in the hex view")
        ws.document.inline_message.connect(self._message)

    def _message(self, text: str) -> None:
        if self.model.last_error and text == self.model.last_error:
            self.panel.show_note(text)

    def go_to_field(self, index) -> bool:
        """Double-click on a field (not its value, which edits): the hex
        view goes to the field and selects its bytes, the cursor on the
        first."""
        node = self.model.node(index)
        if node is None or node.address is None or index.column() == VALUE:
            return False
        if not self.window.show_address(node.address):
            return False
        size = byte_size(node)
        if size > 1:
            self.window.workspace.cursor.select(node.address + size - 1, node.address)
        return True

    def watch_field(self, index) -> bool:
        """Add the field at ``index`` to the watch list (by its most durable
        location), labelled with its field path."""
        what = self.model.watch_type(index)
        node = self.model.node(index)
        if what is None or node is None:
            self.panel.show_note("select a number, enum or char[] field to watch")
            return False
        address, type_name, length = what
        self.window.workspace.watch.add_address(address, type_name, length,
                                                f"{self.model.type_name}.{node.path}")
        self.window.show_dock("watch")
        return True

    def type_from_debug_info(self):
        """The global at the cursor, typed from its module's DWARF."""
        ws = self.window.workspace
        if ws.document.region is None:
            self.panel.show_note("open an area first, then type the global at the cursor")
            return None
        return self.model.type_from_debug_info(ws.cursor.address)

    def place_at_cursor(self) -> bool:
        """Parse the declarations and place the typed type at the cursor;
        a bad header or type is said in the panel's note line."""
        ws = self.window.workspace
        if ws.document.region is None:
            self.panel.show_note("open an area first, then place the type at the cursor")
            return False
        try:
            names = self.model.set_declarations(self.panel.declarations.toPlainText())
            name = self.panel.type_edit.text().strip() or (names[0] if names else "")
            if not name:
                raise InvalidInput("name a type (the declarations declare none)")
            self.panel.type_edit.setText(name)
            self.model.place(name, ws.cursor.address)
        except InvalidInput as exc:
            self.panel.show_note(str(exc))
            return False
        return True
