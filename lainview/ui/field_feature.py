"""A placed structure in the hex view: its fields' bytes tinted (alternating,
so neighbours differ), a byte's field named in its tooltip (path, type,
live value), and *Select field* in the hex view's context menu: selects the
bytes of the field under the cursor and shows it in the Structure dock's
tree. The spans come from the structure dock's model
(lainview/models/field_overlay.py)."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QObject
from PySide6.QtGui import QAction

from lainview.models.field_overlay import FieldOverlay


class FieldFeature(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.structure = window.features["structure"]
        self.overlay = FieldOverlay(self.structure.model, self)
        self.view = window.editor.view
        self.view.set_field_source(self.overlay)
        self.cursor = window.workspace.cursor
        self.select_action = QAction("Select field", self.view)
        self.select_action.setToolTip("select the bytes of the placed structure's field "
                                      "under the cursor, and show it in the Structure dock")
        self.select_action.triggered.connect(lambda _checked=False: self.select_field())
        self.view.addAction(self.select_action)          # the hex view's context menu
        self.cursor.moved.connect(self._update_action)
        self.overlay.changed.connect(self._update_action)
        self._update_action()

    def _update_action(self) -> None:
        """The action names the field under the cursor (the context menu
        moves the cursor to the byte clicked before it opens)."""
        span = self.overlay.span_at(self.cursor.address)
        self.select_action.setEnabled(span is not None)
        self.select_action.setText(f"Select field {span.path}" if span is not None
                                   else "Select field (no structure placed here)")

    def select_field(self, address: int | None = None) -> bool:
        """Select the bytes of the field holding ``address`` (default: the
        cursor's), cursor on its first byte, and make it the Structure
        tree's current row; False (said in the status bar) when no placed
        field holds it."""
        address = self.cursor.address if address is None else address
        span = self.overlay.span_at(address)
        if span is None:
            self.window.show_status(f"{address:#x} is in no field of a placed structure")
            return False
        self.cursor.select(span.end - 1, span.start)
        model = self.structure.model
        index = model.find(span.nodes[0].path).siblingAtColumn(0)
        if index.isValid():
            tree = self.structure.panel.tree
            tree.scrollTo(index)
            tree.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
        return True
