"""The data inspector dock: a table over ``InspectorModel``."""

from __future__ import annotations

from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QTableView, QVBoxLayout,
                               QWidget)

from lainview.models.inspector_model import InspectorModel

from .theme import mono_font


class InspectorPanel(QWidget):
    def __init__(self, model: InspectorModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.caption = QLabel()
        self.caption.setStyleSheet("color: #5b6b84;")
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
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addWidget(self.caption)
        column.addWidget(self.table, 1)
        model.cursor.moved.connect(self._update_caption)
        self._update_caption()

    def sizeHint(self):  # noqa: N802
        from PySide6.QtCore import QSize
        return QSize(420, 400)

    def _update_caption(self) -> None:
        self.caption.setText(f"at {self.model.cursor.address:#x} · double-click a value to edit")
