"""The process picker dialog: filter as you type, refresh on demand and
every few seconds, attach with double-click or Enter."""

from __future__ import annotations


from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout,
                               QHeaderView, QLabel, QLineEdit, QPushButton, QTableView,
                               QToolTip, QVBoxLayout, QWidget)

from lainview.models.process_model import (COMMAND, INFO_ROLE, MEMORY, NAME, PID, USER,
                                           ProcessFilterProxy, ProcessModel)
from lainview.models.tasks import TaskSet

from .tables import list_rows
from .theme import text_style

REFRESH_MS = 3000


class ProcessPicker(QDialog):
    """Emits ``chosen(pid)``; the window attaches."""

    chosen = Signal(int)

    def __init__(self, model: ProcessModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Attach to a process — lainview")
        self.model = model
        self.proxy = ProcessFilterProxy(self)
        self.proxy.setSourceModel(model)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("filter by pid, name, user, command line… (every word must match)")
        self.filter.setClearButtonEnabled(True)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setShortcut("F5")
        self.table = QTableView()
        self.table.setModel(self.proxy)
        list_rows(self.table)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(PID, Qt.SortOrder.DescendingOrder)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        char = self.fontMetrics().horizontalAdvance("0")
        for section, chars in ((PID, 8), (NAME, 18), (USER, 10), (MEMORY, 10)):
            self.table.setColumnWidth(section, char * chars + 16)
        header.setSectionResizeMode(COMMAND, QHeaderView.ResizeMode.Stretch)
        self.status = QLabel()
        self.status.setStyleSheet(text_style("muted"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.attach_button = buttons.addButton("Attach", QDialogButtonBox.ButtonRole.AcceptRole)
        self.attach_button.setDefault(True)
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.refresh_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(buttons)
        column = QVBoxLayout(self)
        column.addLayout(top)
        column.addWidget(self.table, 1)
        column.addLayout(bottom)
        self.resize(980, 560)

        self.filter.textChanged.connect(self._filter_changed)
        self.refresh_button.clicked.connect(self.refresh)
        self.table.doubleClicked.connect(self._attach_index)
        buttons.accepted.connect(lambda: self._attach_index(self.table.currentIndex()))
        buttons.rejected.connect(self.reject)
        model.loading_changed.connect(self._update_status)
        model.failed.connect(self._failed)
        model.modelReset.connect(self._update_status)
        model.modelReset.connect(QToolTip.hideText)     # the rows under the mouse changed
        self.proxy.layoutChanged.connect(self._update_status)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._tasks = TaskSet("the process list")
        self.filter.installEventFilter(self)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.filter.setFocus()
        self.refresh()
        self._timer.start()

    def hideEvent(self, event) -> None:  # noqa: N802
        self._timer.stop()
        super().hideEvent(event)

    def done(self, result: int) -> None:
        self._timer.stop()
        self._tasks.cancel_all()
        super().done(result)

    def refresh(self) -> None:
        if self.model.loading:
            return
        self._tasks.spawn(self.model.refresh())

    def _failed(self, text: str) -> None:
        self.status.setText(f"could not list processes: {text}")

    def _filter_changed(self, text: str) -> None:
        QToolTip.hideText()         # it described a row that may not be there any more
        self.proxy.set_filter_text(text)
        self._update_status()
        if self.proxy.rowCount() and not self.table.currentIndex().isValid():
            self.table.setCurrentIndex(self.proxy.index(0, 0))

    def _update_status(self, *_args) -> None:
        total = self.model.rowCount()
        shown = self.proxy.rowCount()
        blocked = sum(1 for r in range(shown)
                      if not self.proxy.data(self.proxy.index(r, 0), INFO_ROLE).attachable)
        text = f"{shown} of {total} processes shown"
        if blocked:
            text += f" · {blocked} of them greyed out (cannot attach; hover for why)"
        if self.model.loading:
            text += " · refreshing…"
        self.status.setText(text)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        # Arrow keys in the filter box move through the list; Enter attaches.
        if obj is self.filter and isinstance(event, QKeyEvent) \
                and event.type() == event.Type.KeyPress:
            if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown,
                               Qt.Key.Key_PageUp):
                self.table.setFocus()
                self.table.keyPressEvent(event)
                return True
        return super().eventFilter(obj, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._attach_index(self.table.currentIndex())
            return
        super().keyPressEvent(event)

    def _attach_index(self, index: QModelIndex) -> None:
        if not index.isValid():
            rows = self.proxy.rowCount()
            if rows != 1:
                self.status.setText("select a process first")
                return
            index = self.proxy.index(0, 0)
        info = self.proxy.data(index, INFO_ROLE)
        if info is None:
            return
        if not info.attachable:
            self.status.setText(f"cannot attach to {info.pid} ({info.name}): {info.reason}")
            return
        self.chosen.emit(info.pid)
        self.accept()
