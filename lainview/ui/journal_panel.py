"""The write-journal dock: every write, newest first, with revert buttons
and the outcome of the last revert, one line per entry."""

from __future__ import annotations

from PySide6.QtCore import QObject, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QHeaderView,
                               QFileDialog, QLabel, QPushButton, QTableView, QVBoxLayout,
                               QWidget)

from lainview.backend.journal import RevertOutcome
from lainview.models.journal_model import (ID, NEW, OLD, SORT_ROLE, TARGET,
                                           TIME, WHERE, JournalModel, target_key)

from .fit import FitLabel, ScrollingText
from .tables import list_rows
from .theme import hex_color, mono_font, text_style

STATUS_TONES = {"reverted": "ok", "already": "muted", "conflict": "warn", "gone": "faint",
                "failed": "error"}


class JournalFilter(QSortFilterProxyModel):
    """Newest first; optionally only one target's writes."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.key: tuple | None = None
        self.setSortRole(SORT_ROLE)

    def set_target(self, key: tuple | None) -> None:
        self.key = key
        self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent) -> bool:  # noqa: N802
        if self.key is None:
            return True
        model = self.sourceModel()
        assert isinstance(model, JournalModel)      # set in the panel
        entry = model.entry(row)
        return target_key(entry) == self.key


class JournalPanel(QWidget):
    def __init__(self, model: JournalModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.proxy = JournalFilter(self)
        self.proxy.setSourceModel(model)
        self.targets = QComboBox()
        self.targets.setToolTip("show the writes to one target")
        self.targets.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.revert_button = QPushButton("Revert selected")
        self.revert_button.setToolTip("put the old bytes back, newest first (checks that "
                                      "nobody changed them since)")
        self.revert_all = QPushButton("Revert all for target")
        self.revert_all.setToolTip("revert every write to the selected entry's target, "
                                   "newest first")
        self.export_button = QPushButton("Export patch…")
        self.export_button.setToolTip("save the selected writes (or all of the target's) as a "
                                      "patch file that `lainview apply` re-applies to a later "
                                      "run of the program, found by module+offset")
        self.force = QCheckBox("force")
        self.force.setToolTip("revert even where the memory changed since the write")
        self.table = QTableView()
        self.table.setModel(self.proxy)
        list_rows(self.table, multi=True)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(ID, Qt.SortOrder.DescendingOrder)
        self.table.setFont(mono_font(9.5))
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setFont(self.font())
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        mw = self.table.fontMetrics().horizontalAdvance("0")
        for section, chars in ((ID, 5), (TIME, 20), (TARGET, 23), (WHERE, 16), (OLD, 13),
                              (NEW, 13)):
            self.table.setColumnWidth(section, mw * chars + 16)
        # Any number of outcomes (revert all: one line each) in a box that
        # scrolls: never a label as tall as the list.
        self.results = ScrollingText(max_lines=6)
        self.results.hide()
        self.caption = FitLabel(min_chars=8, elide=Qt.TextElideMode.ElideMiddle)
        self.caption.setStyleSheet(text_style("muted"))

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel("Target"))
        top.addWidget(self.targets)
        top.addStretch(1)
        top.addWidget(self.force)
        top.addWidget(self.revert_button)
        top.addWidget(self.revert_all)
        top.addWidget(self.export_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.setSpacing(4)
        column.addLayout(top)
        column.addWidget(self.table, 1)
        column.addWidget(self.results)
        column.addWidget(self.caption)

        self.revert_button.clicked.connect(self.revert_selected)
        self.revert_all.clicked.connect(self.revert_target)
        self.export_button.clicked.connect(self.export_patch)
        self.targets.currentIndexChanged.connect(
            lambda _i: self.proxy.set_target(self.targets.currentData()))
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        model.loaded.connect(self._on_loaded)
        model.reverted.connect(self.show_outcomes)
        self._on_loaded()

    def sizeHint(self):  # noqa: N802
        from PySide6.QtCore import QSize
        return QSize(900, 240)

    def selected_entries(self):
        rows = {self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()}
        return [self.model.entry(r) for r in sorted(rows)]

    def revert_selected(self):
        entries = self.selected_entries()
        if entries:
            return self.model.revert_entries(entries, force=self.force.isChecked())
        return None

    def revert_target(self):
        entries = self.selected_entries()
        key = target_key(entries[0]) if entries else self.targets.currentData()
        if key is None:
            return None
        return self.model.revert_target(key, force=self.force.isChecked())

    def export_patch(self):
        entries = [e for e in self.selected_entries() if e.kind == "process"]
        if not entries:
            key = self.targets.currentData()
            entries = self.model.exportable_for_target(key) if key is not None else []
        if not entries:
            self.results.setText("Select process writes (or a target) to export.")
            self.results.show()
            return None
        path, _ = QFileDialog.getSaveFileName(self, "Export patch", "patch.lainview-patch.json",
                                              "lainview patches (*.json)")
        return self.model.export_patch(entries, path) if path else None

    def show_outcomes(self, outcomes: list[RevertOutcome]) -> None:
        if not outcomes:
            self.results.setText("Nothing to revert.")
        else:
            lines = [f"<span style='color:{hex_color(STATUS_TONES.get(o.status, 'text'))}'>"
                     f"<b>#{o.entry_id} {o.status}</b></span> — {o.message}" for o in outcomes]
            self.results.setText("<br>".join(lines))
        self.results.show()

    def _on_loaded(self) -> None:
        keys: dict[tuple, str] = {}
        for entry in self.model.entries:
            keys.setdefault(target_key(entry), entry.label)
        current = self.targets.currentData()
        self.targets.blockSignals(True)
        self.targets.clear()
        self.targets.addItem(f"all ({len(keys)})", None)
        for key, label in reversed(list(keys.items())):
            self.targets.addItem(label, key)
        index = self.targets.findData(current) if current is not None else 0
        self.targets.setCurrentIndex(max(index, 0))
        self.targets.blockSignals(False)
        entries = self.model.entries
        failed = sum(e.status in ("failed", None) for e in entries)
        text = f"{len(entries)} write{'s' if len(entries) != 1 else ''} in " \
               f"{self.model.backend.journal.path}"
        if failed:
            text += f" · {failed} failed or without outcome"
        self.caption.setText(text)
        self._update_buttons()

    def _update_buttons(self, *_args) -> None:
        has = bool(self.table.selectionModel().selectedRows())
        self.revert_button.setEnabled(has)
        self.revert_all.setEnabled(has or self.targets.currentData() is not None)
