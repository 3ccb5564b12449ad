"""The data inspector dock: a table over ``InspectorModel``."""

from __future__ import annotations

from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QTableView,
                               QVBoxLayout, QWidget)

from lainview.models.inspector_model import BIG, LITTLE, InspectorModel

from .editing import keep_typing
from .fit import FitLabel
from .theme import mono_font, text_style


class InspectorPanel(QWidget):
    def __init__(self, model: InspectorModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.caption = FitLabel(min_chars=8)
        self.caption.setStyleSheet(text_style("muted"))
        self.table = QTableView()
        self.table.setModel(model)
        self.table.setFont(mono_font(9.5))
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        keep_typing(self.table)         # live refreshes never touch an open editor
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        # One byte order at a time keeps 20-digit values whole in a narrow
        # dock; "both" shows them side by side.
        self.byte_order = QComboBox()
        for label, shown in (("little-endian", (LITTLE,)), ("big-endian", (BIG,)),
                             ("both", (LITTLE, BIG))):
            self.byte_order.addItem(label, shown)
        self.byte_order.setToolTip("byte order of the values shown (and edited)")
        self.byte_order.currentIndexChanged.connect(self._show_byte_order)
        self._show_byte_order()
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.caption, 1)
        top.addWidget(self.byte_order)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addLayout(top)
        column.addWidget(self.table, 1)
        model.cursor.moved.connect(self._update_caption)
        self._update_caption()

    def default_width(self) -> int:
        """Wide enough for the type column and a 64-bit value
        (-9223372036854775808) in one byte order, with the frame."""
        metrics = self.table.fontMetrics()
        value = metrics.horizontalAdvance("-9223372036854775808") + 24
        kind = metrics.horizontalAdvance("pointer") + 24
        return value + kind + 2 * self.table.frameWidth() + 16 + \
            self.table.verticalScrollBar().sizeHint().width()

    def sizeHint(self):  # noqa: N802
        from PySide6.QtCore import QSize
        return QSize(self.default_width(), 400)

    def _show_byte_order(self) -> None:
        shown = self.byte_order.currentData() or (LITTLE,)
        for col in (LITTLE, BIG):
            self.table.setColumnHidden(col, col not in shown)

    def _update_caption(self) -> None:
        self.caption.setText(f"at {self.model.cursor.address:#x}")
        self.caption.setToolTip("the values of the bytes at the cursor; double-click one to edit "
                                "it (the write goes through the backend and is journaled)")
