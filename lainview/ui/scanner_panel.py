"""The scanner dock: what to look for and where (the form), and the matches
(progress, messages, the table) — side by side when the dock is wide enough
for the form and every match column, else the form above the matches, in a
splitter whose handle position is remembered in the settings. Widgets only: every action goes to the ``ScanController``; the
window decides what "show in the hex editor" and "add to watch" do."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QModelIndex, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (QFontMetrics, QGuiApplication, QKeySequence, QPainter,
                           QStandardItemModel)
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QFrame,
                               QGridLayout, QHBoxLayout, QHeaderView, QLabel, QLayout, QLineEdit,
                               QMenu,
                               QProgressBar, QPushButton, QScrollArea, QSizePolicy, QSplitter,
                               QStyle,
                               QStyleOptionProgressBar, QVBoxLayout, QWidget)

from lainview.backend import scan, value_types
from lainview.models import settings
from lainview.models.formats import human_size
from lainview.models.scan_model import (ADDRESS, ADDRESS_ROLE, AREA, MODE_LABELS,
                                        NEXT_MODE_ORDER, PREVIOUS, VALUE, VALUE_MODES,
                                        ScanController, ScanProgress, gib_per_s)

from .fit import FitLabel
from .tables import list_rows, select_only, visible_rows
from .text_delegate import FastTextTable
from .theme import mono_font, set_text_tone, text_style

FIRST_TEXT, NEXT_TEXT = "First scan", "Next scan"
ENTER_MARK = "↵"                   # on the button Enter in the value field presses
MAX_ROWS_PER_ACTION = 10_000       # rows one context-menu action takes
#: The widest texts the address and value columns are sized for: a 64-bit
#: address, and an f64 with all 17 significant digits of its shortest form.
ADDRESS_SAMPLE = "f" * 16
VALUE_SAMPLE = "-0.30000000000000004"     # 17 significant digits
MATCH_ROWS_SHOWN = 4               # rows of matches the stacked layout asks room for
MATCH_ROWS_KEPT = 2                # ... and keeps visible before the form scrolls


class ProgressLine(QWidget):
    """A progress bar that repaints with the rest of the window.
    (``QProgressBar.setValue`` repaints at once, synchronously: a few ms
    of the GUI thread ten times a second while a scan runs.)"""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._fraction = 0.0
        self._text = ""
        self._size_hint = QProgressBar().sizeHint()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_progress(self, fraction: float, text: str) -> None:
        if (fraction, text) != (self._fraction, self._text):
            self._fraction, self._text = fraction, text
            self.update()

    def fraction(self) -> float:
        return self._fraction

    def text(self) -> str:
        return self._text

    def sizeHint(self) -> QSize:  # noqa: N802 - as tall as Qt's own bar
        return self._size_hint

    def paintEvent(self, _event) -> None:  # noqa: N802
        option = QStyleOptionProgressBar()
        option.initFrom(self)
        option.minimum, option.maximum = 0, 1000
        option.progress = int(self._fraction * 1000)
        option.text = self._text
        option.textVisible = True
        option.textAlignment = Qt.AlignmentFlag.AlignCenter
        option.state |= QStyle.StateFlag.State_Horizontal
        painter = QPainter(self)
        self.style().drawControl(QStyle.ControlElement.CE_ProgressBar, option, painter, self)
        painter.end()


class ScannerPanel(QWidget):
    open_address = Signal(object)          # int: show this address in the hex editor
    add_to_watch = Signal(object, str)     # int address, type name (64-bit: not a C int)

    def __init__(self, controller: ScanController,
                 selected_ranges: Callable[[], list[tuple[int, int]]] | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.model = controller.matches
        self.selected_ranges = selected_ranges or (lambda: [])
        self._build()
        self._connect()
        self._type_changed()
        self._update_buttons()
        self._show_state()

    # -- building --------------------------------------------------------------------------------
    def _build(self) -> None:
        self.type_combo = QComboBox()
        for kind in value_types.kinds():
            self.type_combo.addItem(kind.name, kind.name)
            self.type_combo.setItemData(self.type_combo.count() - 1, kind.tip,
                                        Qt.ItemDataRole.ToolTipRole)
        self.type_combo.setCurrentText("i32")
        self.big_endian = QCheckBox("big-endian")
        self.align_combo = QComboBox()
        self.align_combo.addItem("aligned", False)
        self.align_combo.addItem("any offset", True)
        self.align_combo.setToolTip("aligned: only at multiples of the type's size (faster, "
                                    "and where compilers put values)\nany offset: every byte")
        self.tolerance = QLineEdit()
        self.tolerance.setPlaceholderText("1e-6")
        self.tolerance.setToolTip("floats match within this distance")
        self.tolerance.setMaximumWidth(70)
        self.tolerance_label = QLabel("±")

        self.value_edit = QLineEdit()
        self.value_edit.setClearButtonEnabled(True)
        self.value_edit.setFont(mono_font(10))

        self.first_mode = QComboBox()
        for mode in scan.FIRST_MODES:
            self.first_mode.addItem(MODE_LABELS[mode], mode)
        self.first_button = QPushButton(FIRST_TEXT)
        self.first_button.setToolTip("scan the chosen areas afresh (replaces the matches)")
        self.new_button = QPushButton("New scan")
        self.new_button.setToolTip("clear the matches and start over")
        self.next_mode = QComboBox()
        for mode in NEXT_MODE_ORDER:
            self.next_mode.addItem(MODE_LABELS[mode], mode)
        self.next_button = QPushButton(NEXT_TEXT)
        self.next_button.setToolTip("keep the matches that pass this test now")
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("go back to the matches before the last next scan")
        for button in (self.first_button, self.next_button):
            button.setDefault(False)
            button.setAutoDefault(False)
        # What Enter in the value field runs: the row the user chose last
        # (First until a scan has matches, then Next, First again when the
        # First row's mode is chosen). Its button is the default one and
        # carries the ↵ mark.
        self.enter_runs = "first"

        self.include_readonly = QCheckBox("read-only")
        self.include_file_backed = QCheckBox("file-backed")
        self.include_shared = QCheckBox("shared")
        self.only_selected = QCheckBox("only selected")
        self.only_selected.setToolTip("scan only the areas selected in the memory map")
        self.include_readonly.setToolTip("also scan areas that cannot be written")
        self.include_file_backed.setToolTip("also scan read-only mappings of files (code, "
                                            "constants); writable .data/.bss always are")
        self.include_shared.setToolTip("also scan shared mappings (MAP_SHARED, shm)")

        self.progress = ProgressLine()
        self.progress.set_progress(0.0, "idle")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)

        self.summary = FitLabel(min_chars=8)
        self.summary.setStyleSheet(text_style("muted"))
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = FitLabel(min_chars=8)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.table = FastTextTable()        # repainted as a scan ends and at each refresh
        self.table.setModel(self.model)
        list_rows(self.table, multi=True)
        # A number cut at its end would read as another number: cut in the
        # middle, keeping the sign, the first digits and the exponent (and
        # an area's offset).
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        rows = self.table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(24)
        for column, width in self.column_widths().items():
            self.table.setColumnWidth(column, width)

        # What to look for.
        what = QFormLayout()
        what.setContentsMargins(0, 0, 0, 0)
        what.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        what.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        type_row = QHBoxLayout()
        type_row.addWidget(self.type_combo)
        type_row.addWidget(self.align_combo)
        type_row.addWidget(self.big_endian)
        type_row.addWidget(self.tolerance_label)
        type_row.addWidget(self.tolerance)
        type_row.addStretch(1)
        what.addRow("Type", type_row)
        what.addRow("Value", self.value_edit)
        first_row = QHBoxLayout()
        first_row.addWidget(self.first_mode, 1)
        first_row.addWidget(self.first_button)
        first_row.addWidget(self.new_button)
        next_row = QHBoxLayout()
        next_row.addWidget(self.next_mode, 1)
        next_row.addWidget(self.next_button)
        next_row.addWidget(self.undo_button)
        self.first_button.setMinimumWidth(96)
        self.next_button.setMinimumWidth(96)
        what.addRow("First", first_row)
        what.addRow("Next", next_row)
        areas = QGridLayout()
        areas.setContentsMargins(0, 0, 0, 0)
        areas.setVerticalSpacing(2)
        areas.addWidget(self.include_readonly, 0, 0)
        areas.addWidget(self.include_file_backed, 0, 1)
        areas.addWidget(self.include_shared, 0, 2)
        areas.addWidget(self.only_selected, 0, 3)
        what.addRow("Also scan", areas)
        what.labelForField(areas).setToolTip("writable private areas are always scanned")
        self.form = QWidget()
        self.form.setLayout(what)
        # Made smaller than the form (by the user or a short dock), the form
        # scrolls rather than push the matches away.
        self.form_scroll = QScrollArea()
        self.form_scroll.setWidget(self.form)
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QFrame.Shape.NoFrame)

        # The matches: what the last scan found, how the running one goes,
        # messages, and the table.
        texts = QVBoxLayout()
        texts.setContentsMargins(0, 0, 0, 0)
        texts.setSpacing(0)
        texts.addWidget(self.summary)
        texts.addWidget(self.message)
        running = QHBoxLayout()
        running.setContentsMargins(0, 0, 0, 0)
        running.addLayout(texts, 1)
        running.addWidget(self.progress)
        running.addWidget(self.cancel_button)
        self.progress.setMinimumWidth(120)
        self.progress.setMaximumWidth(260)
        self._running_row = running
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(2)
        right.addLayout(running)
        right.addWidget(self.table, 1)
        self.results = QWidget()
        self.results.setLayout(right)

        # Side by side when the panel has room for the form and a table
        # whose columns all show; otherwise the form above the matches, so
        # the table gets the dock's full width. The user can move the
        # handle; where it was is remembered for each arrangement.
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.form_scroll)
        self.splitter.addWidget(self.results)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.splitterMoved.connect(self._remember_split)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 4, 6, 4)
        outer.addWidget(self.splitter)
        self._arranged_for: bool | None = None

    def column_widths(self) -> dict[int, int]:
        """Widths (logical px) of the match columns: a 16-digit address and
        an f64 of 17 significant digits (:data:`VALUE_SAMPLE`) in the cells' monospace font,
        plus the cell margins; the area column takes what is left."""
        metrics = QFontMetrics(mono_font(self.table.font().pointSizeF()))
        margin = 2 * (self.table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin,
                                                     None, self.table) + 1) + 8
        value = metrics.horizontalAdvance(VALUE_SAMPLE) + margin
        return {ADDRESS: metrics.horizontalAdvance(ADDRESS_SAMPLE) + margin,
                VALUE: value, PREVIOUS: value, AREA: metrics.horizontalAdvance("0" * 12)}

    def results_width(self) -> int:
        """The width the matches need to show every column without
        scrolling (logical px)."""
        widths = self.column_widths()
        return sum(widths.values()) + 2 * self.table.frameWidth() \
            + self.table.verticalScrollBar().sizeHint().width()

    def _matches_height(self, rows: int = MATCH_ROWS_SHOWN) -> int:
        """The height (logical px) of the matches with ``rows`` rows."""
        row = self.table.verticalHeader().defaultSectionSize()
        return self._running_row.sizeHint().height() \
            + self.table.horizontalHeader().sizeHint().height() + rows * row \
            + 2 * self.table.frameWidth() + _layout_of(self.results).spacing()

    def sizeHint(self) -> QSize:  # noqa: N802 - the form above a few rows of matches
        form = self.form.sizeHint()
        margins = _layout_of(self).contentsMargins()
        return QSize(max(form.width(), self.results_width()) + margins.left() + margins.right(),
                     form.height() + self.splitter.handleWidth() + self._matches_height()
                     + margins.top() + margins.bottom())

    def _arrange(self) -> None:
        """Side by side or stacked for the panel's width, and where the
        handle is: where the user left it, else the whole form if there is
        room for it and two rows of matches, else those rows first (the
        form scrolls)."""
        margins = _layout_of(self).contentsMargins()
        width = self.width() - margins.left() - margins.right()
        form = self.form.minimumSizeHint()
        side = width >= form.width() + self.splitter.handleWidth() + self.results_width()
        if side != self._arranged_for:
            self._arranged_for = side
            self.splitter.setOrientation(Qt.Orientation.Horizontal if side
                                         else Qt.Orientation.Vertical)
            self.form_scroll.setMinimumWidth(form.width() + self.form_scroll.verticalScrollBar()
                                             .sizeHint().width() if side else 0)
        saved = settings.value(self._split_key(), 0, int) or 0
        if side:
            total = width
            first = saved or max(form.width(), min(self.form.sizeHint().width(), total // 2))
        else:
            total = self.height() - margins.top() - margins.bottom()
            # The whole form while a couple of match rows still show (a
            # half-cut "Also scan" row hid the shared-areas choice at 1280x720).
            first = saved or min(self.form.sizeHint().height(),
                                 total - self._matches_height(MATCH_ROWS_KEPT))
            first = max(first, self.table.verticalHeader().defaultSectionSize() * 2)
        self.splitter.setSizes([first, max(0, total - first - self.splitter.handleWidth())])

    def _split_key(self) -> str:
        side = self.splitter.orientation() == Qt.Orientation.Horizontal
        return f"scanner/form_{'width' if side else 'height'}"

    def _remember_split(self, position: int, _index: int) -> None:
        settings.set_value(self._split_key(), position)

    def _connect(self) -> None:
        c = self.controller
        self.type_combo.currentIndexChanged.connect(self._type_changed)
        self.first_mode.currentIndexChanged.connect(lambda: self._placeholder(self.first_mode))
        self.next_mode.currentIndexChanged.connect(lambda: self._placeholder(self.next_mode))
        self.first_mode.activated.connect(lambda: self.set_enter_runs("first"))
        self.next_mode.activated.connect(lambda: self.set_enter_runs("next"))
        self.first_button.clicked.connect(self.start_first)
        self.next_button.clicked.connect(self.start_next)
        self.new_button.clicked.connect(self.new_scan)
        self.undo_button.clicked.connect(c.undo)
        self.cancel_button.clicked.connect(c.cancel)
        self.value_edit.returnPressed.connect(self._enter)
        self.only_selected.toggled.connect(self._only_selected)
        c.running_changed.connect(self._running)
        c.progress_changed.connect(self._progress)
        c.state_changed.connect(self._show_state)
        c.state_changed.connect(self._update_buttons)
        c.message.connect(self._message)
        self.table.doubleClicked.connect(self._activated)
        self.table.activated.connect(self._activated)
        self.table.customContextMenuRequested.connect(self._context_menu)
        # Tell the model which rows are on screen, once per event-loop turn.
        self._visible_timer = QTimer(self)
        self._visible_timer.setSingleShot(True)
        self._visible_timer.setInterval(0)
        self._visible_timer.timeout.connect(self._report_visible)
        self.table.verticalScrollBar().valueChanged.connect(self._visible_timer.start)
        self.model.modelReset.connect(self._visible_timer.start)

    # -- the form ----------------------------------------------------------------------------------
    def type_name(self) -> str:
        return self.type_combo.currentData()

    def _type_changed(self) -> None:
        kind = value_types.get(self.type_name())
        self.big_endian.setEnabled(len(kind.byte_orders) > 1)
        self.tolerance.setVisible(kind.is_float)
        self.tolerance_label.setVisible(kind.is_float)
        self.type_combo.setToolTip(kind.tip)
        for combo in (self.first_mode, self.next_mode):
            items = combo.model()
            assert isinstance(items, QStandardItemModel)     # a QComboBox's own
            for i in range(combo.count()):
                ok = combo.itemData(i) in kind.modes
                items.item(i).setEnabled(ok)
            if not items.item(combo.currentIndex()).isEnabled():
                combo.setCurrentIndex(next(i for i in range(combo.count())
                                           if items.item(i).isEnabled()))
        self._placeholder(self.first_mode if self.enter_runs == "first" else self.next_mode)

    def _placeholder(self, combo: QComboBox) -> None:
        mode: scan.Mode = combo.currentData()
        if mode not in VALUE_MODES:
            text = "(no value needed)"
        elif mode is scan.Mode.RANGE:
            text = "low..high, e.g. 10..20"
        elif mode in (scan.Mode.INCREASED_BY, scan.Mode.DECREASED_BY):
            text = "by how much, e.g. 1"
        else:
            text = value_types.get(self.type_name()).example
        self.value_edit.setPlaceholderText(text)

    def area_filter(self) -> scan.AreaFilter:
        ranges: tuple[tuple[int, int], ...] = ()
        if self.only_selected.isChecked():
            ranges = tuple(self.selected_ranges())
        return scan.AreaFilter(include_readonly=self.include_readonly.isChecked(),
                               include_file_backed=self.include_file_backed.isChecked(),
                               include_shared=self.include_shared.isChecked(), ranges=ranges)

    def _only_selected(self, on: bool) -> None:
        for box in (self.include_readonly, self.include_file_backed, self.include_shared):
            box.setEnabled(not on)

    # -- actions -----------------------------------------------------------------------------------
    def start_first(self):
        if self.only_selected.isChecked() and not self.selected_ranges():
            self._message("scan: select one or more mapped areas in the memory map first "
                          "(or untick “only selected”)", error=True)
            return None
        return self.controller.first_scan(
            self.type_name(), self.first_mode.currentData(), self.value_edit.text(),
            big_endian=self.big_endian.isChecked() and self.big_endian.isEnabled(),
            any_alignment=self.align_combo.currentData(), areas=self.area_filter(),
            tolerance=self.tolerance.text())

    def start_next(self):
        return self.controller.next_scan(self.next_mode.currentData(), self.value_edit.text(),
                                         tolerance=self.tolerance.text())

    def new_scan(self) -> None:
        """Clear the matches; Enter runs a first scan again."""
        self.controller.reset()
        self.set_enter_runs("first")
        self._message("cleared · type a value and press Enter for a first scan", error=False)

    def set_enter_runs(self, row: str) -> None:
        """Make Enter in the value field run the "first" or "next" row."""
        if row == "next" and self.controller.state is None:
            row = "first"
        self.enter_runs = row
        self._update_buttons()
        self._placeholder(self.first_mode if row == "first" else self.next_mode)

    def _enter(self) -> None:
        if self.enter_runs == "next" and self.controller.can_next:
            self.start_next()
        elif self.enter_runs == "first" and self.controller.can_scan:
            self.start_first()

    # -- feedback ----------------------------------------------------------------------------------
    def _running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        if running:
            self.progress.set_progress(0.0, "starting…")
            self._message("", error=False)
        elif self.controller.last_outcome == "done":
            rate = self.controller.last_rate
            self.progress.set_progress(1.0, f"done · {gib_per_s(rate)}" if rate else "done")
            self.set_enter_runs("next")
        else:
            self.progress.set_progress(self.progress.fraction(), self.controller.last_outcome)
        self._update_buttons()

    def _progress(self, progress: ScanProgress) -> None:
        self.progress.set_progress(progress.fraction,
                                   f"{progress.fraction:.0%} · {gib_per_s(progress.rate)}")
        self._message(f"{progress.found:,} found so far · {human_size(progress.done)} of "
                      f"{human_size(progress.total)}", error=False)

    def _show_state(self) -> None:
        c = self.controller
        text = c.describe_state()
        if c.state is not None:
            st = c.state.scan_type
            text = f"<b>{text.split(' · ', 1)[0]}</b> · {st.name}" \
                   f"{' big-endian' if st.big_endian else ''} · " + text.split(" · ", 1)[1]
        self.summary.setText(text)
        self._update_buttons()

    def _message(self, text: str, error: bool | None = None) -> None:
        if error is None:
            error = self.controller.last_message_is_error
        set_text_tone(self.message, "error" if error else "text")
        self.message.setText(text)

    def _update_buttons(self) -> None:
        c = self.controller
        self.first_button.setEnabled(c.can_scan)
        self.next_button.setEnabled(c.can_next)
        self.undo_button.setEnabled(c.can_undo)
        self.next_mode.setEnabled(c.state is not None)
        self.new_button.setEnabled(c.state is not None and not c.running)
        if self.enter_runs == "next" and c.state is None:
            self.enter_runs = "first"
        for button, row, text in ((self.first_button, "first", FIRST_TEXT),
                                  (self.next_button, "next", NEXT_TEXT)):
            here = self.enter_runs == row
            button.setDefault(here)
            button.setText(f"{text} {ENTER_MARK}" if here else text)

    # -- the table ---------------------------------------------------------------------------------
    def _report_visible(self) -> None:
        self.model.set_visible_rows(*visible_rows(self.table))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._arrange()
        self._visible_timer.start()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._arrange()
        self._visible_timer.start()

    def hideEvent(self, event) -> None:  # noqa: N802
        super().hideEvent(event)
        self.model.set_visible_rows(0, -1)

    def selected_rows(self) -> list[int]:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        out = sorted(i.row() for i in rows)[:MAX_ROWS_PER_ACTION]
        if not out and self.table.currentIndex().isValid():
            out = [self.table.currentIndex().row()]
        return out

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_address.emit(self.model.data(index, ADDRESS_ROLE))

    def context_menu(self, rows: list[int]) -> QMenu:
        """The menu for these rows (built apart from showing it, for tests)."""
        menu = QMenu(self)
        addresses = [self.model.address(r) for r in rows]
        if not addresses:
            return menu
        first = addresses[0]
        show = menu.addAction(f"Show {first:#x} in the hex editor",
                              lambda: self.open_address.emit(first))
        show.setShortcut(QKeySequence("Return"))
        type_name = self.model.type_name()
        many = f" ({len(addresses)})" if len(addresses) > 1 else ""
        def add_all() -> None:
            for a in addresses:
                self.add_to_watch.emit(a, type_name)
        menu.addAction(f"Add to watch list{many}", add_all)
        menu.addSeparator()
        menu.addAction(f"Copy address{'es' if many else ''}{many}", lambda: QGuiApplication
                       .clipboard().setText("\n".join(f"{a:#x}" for a in addresses)))
        labels = [self.model.area_label(a) for a in addresses]
        if any(labels):
            menu.addAction("Copy as area+offset", lambda: QGuiApplication.clipboard().setText(
                "\n".join(label or f"{a:#x}" for a, label in zip(addresses, labels))))
        return menu

    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        rows = self.selected_rows()
        if index.row() not in rows:
            select_only(self.table, index.row())
            rows = [index.row()]
        self.context_menu(rows).exec(self.table.viewport().mapToGlobal(pos))

    def focus_value(self) -> None:
        self.value_edit.setFocus()
        self.value_edit.selectAll()


def _layout_of(widget: QWidget) -> QLayout:
    """The layout the panel gave ``widget`` when it built it."""
    layout = widget.layout()
    assert layout is not None
    return layout
