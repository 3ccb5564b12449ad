"""The structure view as a feature of the main window: a dock (tabbed with
the data inspector) where the user pastes C declarations, names a type and
places it at the cursor or at a location (a pointer path too); the fields
show as a tree with live values (models/structure_model.py); double-click a
field to go to it, Watch field adds it to the watch list by its field path;
View ▸ Structure, Go ▸ Focus the structure (Alt+7). The declarations box
sits above the tree in a splitter and folds away (*Declarations…*), so the
tree gets the dock's height at 1280x720."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QPainter, QPaintEvent, QRegion
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLineEdit,
                               QPlainTextEdit, QPushButton, QSplitter, QTreeView, QVBoxLayout,
                               QWidget)

from lainview.backend.errors import InvalidInput
from lainview.backend.locations import parse_location
from lainview.models.field_spans import byte_size
from lainview.models.structure_model import VALUE, StructureModel

from .fit import FitLabel, FlowLayout
from .text_delegate import FastTextDelegate

EXAMPLE = ("struct demo {\n    uint32_t magic;\n    int32_t health;\n    float speed;\n"
           "    uint32_t pad;\n    double position;\n    char name[16];\n};")


class StructureTree(QTreeView):
    """The fields tree: F2 (or *Edit value*) on any cell of a row edits the
    row's Value cell; on a row that cannot be edited it emits
    ``not_editable`` with the row's index (the panel says why)."""

    not_editable = Signal(QModelIndex)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """A live refresh repaints only the value cells that changed (one
        rectangle each: StructureModel announces runs of changed rows).
        QTreeView paints an update of several rectangles as whole rows,
        every column of each (four cells a changed value); painted one
        rectangle at a time, each is only the cells it covers."""
        region = event.region()
        if region.rectCount() < 2 or self.isAnimated():
            super().paintEvent(event)
            return
        self.executeDelayedItemsLayout()
        painter = QPainter(self.viewport())
        try:
            for rect in region:  # type: ignore[attr-defined]  # QRegion iterates its rectangles
                self.drawTree(painter, QRegion(rect))
        finally:
            painter.end()                # before the backing store ends its paint

    def edit(self, index, trigger=None, event=None):
        if trigger is None:                              # the slot edit(index)
            return self.edit_value(index)
        if trigger == QAbstractItemView.EditTrigger.EditKeyPressed:
            return self.edit_value(index)
        return super().edit(index, trigger, event)

    def edit_value(self, index: QModelIndex) -> bool:
        """Open the editor on the Value cell of ``index`` 's row; False
        (``not_editable`` emitted) when that cell cannot be edited."""
        value = index.siblingAtColumn(VALUE)
        if not index.isValid() or not self.model().flags(value) & Qt.ItemFlag.ItemIsEditable:
            self.not_editable.emit(index)
            return False
        self.setCurrentIndex(value)
        return super().edit(value, QAbstractItemView.EditTrigger.EditKeyPressed,
                            None)  # type: ignore[call-overload]  # Qt takes no event


class StructurePanel(QWidget):
    """Declarations box (in a splitter above the tree, folded by the
    *Declarations…* button), type, name and location fields, Place and
    Watch buttons (a row that wraps in a narrow dock), a note line and the
    tree (its context menu: Go to field, Watch field, Edit value; F2 on any
    cell edits the row's value)."""

    def __init__(self, model: StructureModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.declarations = QPlainTextEdit()
        self.declarations.setPlaceholderText("C declarations, e.g.\n" + EXAMPLE)
        self.declarations.setMinimumHeight(24)
        self.type_edit = QLineEdit()
        self.type_edit.setPlaceholderText("type, e.g. struct demo")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("name")
        self.name_edit.setToolTip("the placement's name, the first word of its field paths "
                                  "(default: the type's name)")
        self.location_edit = QLineEdit()
        self.location_edit.setPlaceholderText("at the cursor, or a location: "
                                              "memfd:lainview-demo+0xfc0->+0x0")
        self.location_edit.setToolTip("where to place the type: empty for the hex view's "
                                      "cursor, or any location (module+offset, [heap]+0x10, "
                                      "a pointer path base->+0x18), found again on every "
                                      "refresh")
        self.place_button = QPushButton("Place")
        self.place_button.setToolTip("place the type at the location (empty: the cursor)")
        self.debug_button = QPushButton("From DWARF")
        self.debug_button.setToolTip("show the global variable at the cursor with its type "
                                     "from its module's DWARF (a program built with -g)")
        self.watch_button = QPushButton("Watch field")
        self.watch_button.setToolTip("add the selected field to the watch list by its field path")
        self.toggle_button = QPushButton("Declarations…")
        self.toggle_button.setCheckable(True)
        self.toggle_button.setChecked(True)
        self.toggle_button.setToolTip("show or fold away the declarations, type and location "
                                      "(folded once placed: the tree gets the space)")
        self.note = FitLabel(model.note)          # one line, elided; all of it in the tooltip
        self.tree = StructureTree()
        self.tree.setModel(model)
        self.tree.setUniformRowHeights(True)
        self.tree.setMinimumHeight(48)          # the splitter may squeeze it to ~2 rows
        # cells painted cheaply (a 10 Hz refresh), an open editor never overwritten
        self.tree.setItemDelegate(FastTextDelegate(self.tree))
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.tree.header().setStretchLastSection(True)
        # the buttons' actions on the field under the pointer, in its context menu
        self.go_action = QAction("Go to field", self.tree)
        self.go_action.setToolTip("show the field's bytes in the hex view")
        self.watch_action = QAction("Watch field", self.tree)
        self.watch_action.setToolTip("add the field to the watch list by its field path")
        self.edit_action = QAction("Edit value", self.tree)
        self.edit_action.setToolTip("edit the field's value (F2), written to the target, "
                                    "journaled")
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.tree.addActions([self.go_action, self.watch_action, self.edit_action])
        self.edit_action.triggered.connect(
            lambda _checked=False: self.tree.edit_value(self.tree.currentIndex()))
        # the definition (declarations, type, name, location) folds away once
        # placed, so the tree gets the dock's height; a splitter between them
        self._form = form = QWidget()
        top = QVBoxLayout(form)
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(2)
        top.addWidget(self.declarations, 1)
        names = QHBoxLayout()
        names.addWidget(self.type_edit, 2)
        names.addWidget(self.name_edit, 1)
        top.addLayout(names)
        top.addWidget(self.location_edit)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(form)
        self.splitter.addWidget(self.tree)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([120, 300])
        row = FlowLayout(spacing=2)              # wraps in a narrow dock (1280x720)
        row.addWidget(self.toggle_button)
        row.addWidget(self.place_button)
        row.addWidget(self.debug_button)
        row.addWidget(self.watch_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(2, 2, 2, 2)
        column.setSpacing(2)
        column.addLayout(row)
        column.addWidget(self.note)
        column.addWidget(self.splitter, 1)
        self.toggle_button.toggled.connect(self.show_declarations)
        model.placed_changed.connect(self._placed)
        model.note_changed.connect(self.note.setText)
        model.modelReset.connect(self._expand)
        self.tree.expanded.connect(lambda _index: self.tree.resizeColumnToContents(0))
        # tell the model which rows are on screen (a live refresh repaints those)
        for signal in (self.tree.expanded, self.tree.collapsed,
                       self.tree.verticalScrollBar().valueChanged, model.modelReset,
                       model.rowsInserted, model.rowsRemoved):
            signal.connect(self._tell_shown)
        self.tree.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Resize and watched is self.tree.viewport():
            self._tell_shown()
        return False

    def _tell_shown(self, *_args) -> None:
        """The model learns the rows the tree shows now (about 30)."""
        height = self.tree.viewport().height()
        index = self.tree.indexAt(QPoint(1, 1))
        shown = []
        while index.isValid() and self.tree.visualRect(index).top() <= height:
            shown.append(index)
            index = self.tree.indexBelow(index)
        self.model.set_shown(shown)

    def show_declarations(self, on: bool) -> None:
        """Show the definition (declarations, type, name, location) above
        the tree, or fold it away. Shown, it takes at most half the
        splitter's height (the tree keeps the rest)."""
        self._form.setVisible(on)
        if on:
            height = self.splitter.height()
            top = min(130, height // 2)
            self.splitter.setSizes([top, max(height - top, 1)])
        if self.toggle_button.isChecked() != on:
            self.toggle_button.setChecked(on)

    def focus_target(self) -> QWidget:
        """Where Go ▸ Focus the structure puts the keyboard: the type field
        while the definition shows, else the tree."""
        return self.type_edit if self.toggle_button.isChecked() else self.tree

    def show_note(self, text: str) -> None:
        self.note.setText(text)

    def _placed(self) -> None:
        self.note.setText(self.model.note)
        placement = self.model.placement
        if placement is not None and self.type_edit.text().strip() != placement.type_name:
            self.type_edit.setText(placement.type_name)
        if placement is not None and placement.declarations \
                and self.declarations.toPlainText() != placement.declarations:
            self.declarations.setPlainText(placement.declarations)   # e.g. from DWARF

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
                          lambda: window.show_dock("structure", self.panel.focus_target()),
                          "Alt+7")
        self.panel.place_button.clicked.connect(self.place)
        self.panel.type_edit.returnPressed.connect(self.place)
        self.panel.location_edit.returnPressed.connect(self.place)
        self.panel.debug_button.clicked.connect(self.type_from_debug_info)
        self.panel.watch_button.clicked.connect(
            lambda: self.watch_field(self.panel.tree.currentIndex()))
        self.panel.tree.doubleClicked.connect(self.go_to_field)
        tree = self.panel.tree
        self.panel.go_action.triggered.connect(
            lambda _checked=False: self.go_to_field(tree.currentIndex().siblingAtColumn(0)))
        self.panel.watch_action.triggered.connect(
            lambda _checked=False: self.watch_field(tree.currentIndex()))
        tree.not_editable.connect(
            lambda index: self.panel.show_note(self.model.why_not_editable(index)))
        window.add_key_note("Structure", "double-click a field's name",
                            "go to the field in the hex view")
        ws.document.inline_message.connect(self._message)
        ws.sessions.structures = (self.placements, self.restore)

    def placements(self) -> list:
        """What a session saves: the placed structure, if any."""
        p = self.model.placement
        return [p] if p is not None and p.declarations else []   # C text to keep

    def restore(self, placements: list) -> None:
        """A session's placements: the first is shown (declarations, type,
        name and location filled in); none clears the dock."""
        if not placements:
            self.model.clear()
            return
        p = placements[0]
        self.panel.declarations.setPlainText(p.declarations)
        self.panel.type_edit.setText(p.type_name)
        self.panel.name_edit.setText(p.name)
        try:
            self.model.set_placement(p)
            self.panel.show_declarations(False)
        except InvalidInput as exc:
            self.panel.show_note(str(exc))
        self.window.show_dock("structure")

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
        """Add the field at ``index`` to the watch list by its field path
        (``demo.health``, ``player.held->count``), resolved again on every
        refresh."""
        what = self.model.watch_type(index)
        if what is None:
            self.panel.show_note("select a number, enum, pointer or char[] field to watch")
            return False
        path, type_name, length = what
        try:
            self.window.workspace.watch.add_field(self.model.field_for(path), type_name, length)
        except InvalidInput as exc:
            self.panel.show_note(str(exc))
            return False
        self.window.show_dock("watch")
        return True

    def place(self) -> bool:
        """Place the type at the location typed in the panel, or at the
        cursor when none is."""
        text = self.panel.location_edit.text().strip()
        if not text:
            return self.place_at_cursor()
        try:
            location = parse_location(text)
        except InvalidInput as exc:
            self.panel.show_note(str(exc))
            return False
        return self._place(location)

    def type_from_debug_info(self):
        """The global at the cursor, typed from its module's DWARF."""
        ws = self.window.workspace
        if ws.document.region is None:
            self.panel.show_note("open an area first, then type the global at the cursor")
            return None
        return self.model.type_from_debug_info(ws.cursor.address)

    def place_at_cursor(self) -> bool:
        """Parse the declarations and place the typed type at the cursor
        (kept as the location the hex view names it by:
        ``memfd:lainview-demo+0xf80``); a bad header or type is said in
        the panel's note line."""
        ws = self.window.workspace
        if ws.document.region is None:
            self.panel.show_note("open an area first, then place the type at the cursor")
            return False
        return self._place(ws.cursor.address)

    def _place(self, where) -> bool:
        try:
            names = self.model.set_declarations(self.panel.declarations.toPlainText())
            name = self.panel.type_edit.text().strip() or (names[0] if names else "")
            if not name:
                raise InvalidInput("name a type (the declarations declare none)")
            self.panel.type_edit.setText(name)
            self.model.place(name, where, self.panel.name_edit.text().strip() or None)
        except InvalidInput as exc:
            self.panel.show_note(str(exc))
            return False
        self.panel.show_declarations(False)
        return True
