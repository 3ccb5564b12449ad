"""Asks which process a session should open on, when several run the
session's program."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem,
                               QVBoxLayout, QWidget)

from lainview.backend.processes import ProcessInfo
from lainview.models.formats import human_size


class SessionPickDialog(QDialog):
    def __init__(self, program: str, candidates: list[ProcessInfo],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Open the session on which process?")
        self.list = QListWidget()
        for info in candidates:
            item = QListWidgetItem(f"{info.pid:>7}   {human_size(info.rss):>9}   {info.cmdline}")
            item.setData(Qt.ItemDataRole.UserRole, info.pid)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        text = QLabel(f"{len(candidates)} processes run <b>{program}</b>. The session's "
                      "watches and bookmarks are resolved against the one you pick.")
        text.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        column = QVBoxLayout(self)
        column.addWidget(text)
        column.addWidget(self.list, 1)
        column.addWidget(buttons)
        self.resize(640, 300)

    @property
    def pid(self) -> int | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None
