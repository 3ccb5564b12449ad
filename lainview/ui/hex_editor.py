"""The hex editor panel: a title row (area, refresh controls), the hex view,
a search bar (Ctrl+F) and an inline message line for errors."""

from __future__ import annotations

from collections.abc import Callable
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QSizePolicy, QHBoxLayout, QLabel, QLineEdit,
                               QProgressBar, QPushButton, QToolButton, QVBoxLayout, QWidget)

from lainview.models.cursor import HexCursor
from lainview.backend import value_types
from lainview.backend.wording import counted
from lainview.models.formats import human_size
from lainview.models.memory_document import MemoryDocument

from .fit import ElidedLabel
from .hex_view import HexView
from .theme import box_style, color


class SearchBar(QWidget):
    """Needle, kind, progress and cancel; the window runs the search."""

    search_requested = Signal(str, str)   # text, kind
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        self.kind = QComboBox()
        for kind in value_types.kinds():
            self.kind.addItem(kind.name)
            self.kind.setItemData(self.kind.count() - 1, kind.tip, Qt.ItemDataRole.ToolTipRole)
        self.kind.setCurrentText("bytes")
        self.kind.setToolTip("what the needle is: bytes in hex (de ad be ef), text, or a "
                             "number (little-endian)")
        self.needle = QLineEdit()
        # Short enough to show whole at the 1280x720 goal; the keys in the tooltip.
        self.needle.setPlaceholderText("search this area")
        self.needle.setToolTip("Enter: search this area · F3: next match · Escape: close")
        self.needle.setClearButtonEnabled(True)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel = QPushButton("Cancel")
        self.cancel.hide()
        self.result = ElidedLabel(min_chars=6)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        row.addWidget(QLabel("Find"))
        row.addWidget(self.kind)
        row.addWidget(self.needle, 1)
        row.addWidget(self.progress)
        row.addWidget(self.cancel)
        row.addWidget(self.result, 1)
        row.addWidget(self.close_button)
        self.needle.returnPressed.connect(
            lambda: self.search_requested.emit(self.needle.text(), self.kind.currentText()))
        self.cancel.clicked.connect(self.cancel_requested)
        self.close_button.clicked.connect(self.hide)

    def set_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel.setVisible(running)
        if running:
            self.progress.setValue(0)
            self.result.setText("")

    def open(self) -> None:
        self.show()
        self.needle.setFocus()
        self.needle.selectAll()

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Esc closes the bar
        if event.key() == Qt.Key.Key_Escape:
            self.hide()
            return
        super().keyPressEvent(event)


class HexEditor(QWidget):
    def __init__(self, document: MemoryDocument, cursor: HexCursor,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.hex_cursor = cursor
        self.view = HexView(document, cursor)
        # Every text in the header and under the view is elided to the room
        # it gets: a long path or message never widens the window.
        self.title = ElidedLabel(min_chars=8, bold=True, elide=Qt.TextElideMode.ElideLeft)
        self.detail = ElidedLabel(min_chars=6, color=color("muted"))
        self.live_badge = ElidedLabel(min_text="● live")
        # The position starts with the address and is never narrower than
        # 16 hex digits: the address is never cut (the offset may be). The
        # window shows it in its status bar.
        self.position = ElidedLabel(min_text="0x0000000000000000", color=color("muted"))
        self.bytes_per_row = QComboBox()
        for n in (8, 16, 32):
            self.bytes_per_row.addItem(f"{n} bytes/row", n)
        self.bytes_per_row.setCurrentIndex(1)
        self.rate = QDoubleSpinBox()
        self.rate.setRange(0.5, 60.0)
        self.rate.setDecimals(1)
        self.rate.setSuffix(" Hz")
        self.rate.setValue(document.refresh_hz)
        self.rate.setToolTip("live refresh rate of the visible pages")
        self.pause = QPushButton("Pause")
        self.pause.setCheckable(True)
        self.pause.setToolTip("pause or resume the live refresh (F5 refreshes once)")
        self.search_bar = SearchBar()
        self.search_bar.hide()
        self.message = ElidedLabel(min_chars=10)
        self.message.setObjectName("inlineMessage")
        self.message.setStyleSheet("#inlineMessage { " + box_style("error", border="border-top")
                                   + " }")
        self.message.hide()
        self.banner = ElidedLabel(min_chars=10)
        self.banner.setObjectName("exitBanner")
        self.banner.setStyleSheet("#exitBanner { " + box_style("note", border="border-bottom")
                                  + " }")
        self.banner.hide()

        top = QHBoxLayout()
        top.setContentsMargins(6, 4, 6, 4)
        # The area's name first; its range and size take what is left.
        self.detail.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        top.addWidget(self.title)
        top.addWidget(self.detail, 1)
        top.addSpacing(12)
        top.addSpacing(12)
        top.addWidget(self.live_badge)
        top.addWidget(self.rate)
        top.addWidget(self.pause)
        top.addWidget(self.bytes_per_row)
        column = self.column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addLayout(top)
        column.addWidget(self.banner)
        column.addWidget(self.view, 1)
        column.addWidget(self.search_bar)
        column.addWidget(self.message)

        self.bytes_per_row.currentIndexChanged.connect(
            lambda _i: self.view.set_bytes_per_row(self.bytes_per_row.currentData()))
        self.rate.valueChanged.connect(document.set_refresh_rate)
        self.pause.toggled.connect(self._on_pause)
        document.region_changed.connect(self._update_title)
        document.live_changed.connect(self._update_live)
        document.inline_message.connect(self.show_message)
        self.view.status_message.connect(self.show_message)
        cursor.moved.connect(self._update_position)
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.timeout.connect(self.message.hide)
        self._update_title()
        self._update_live(document.live)

    def minimumSizeHint(self):  # noqa: N802
        """The minimum with every bar (go-to, find, message, banner) shown,
        so showing one never raises the window's minimum size."""
        hint = super().minimumSizeHint()
        column = self.layout()
        extra = 0
        for i in range(column.count()):
            widget = column.itemAt(i).widget()
            if widget is not None and widget.isHidden():
                extra += widget.minimumSizeHint().height() + column.spacing()
        hint.setHeight(hint.height() + extra)
        return hint

    def _on_pause(self, paused: bool) -> None:
        self.document.set_paused(paused)
        self.pause.setText("Resume" if paused else "Pause")

    def _update_title(self) -> None:
        region = self.document.region
        if region is None:
            self.title.setText("Hex editor")
            self.detail.setText("no area open")
            return
        self.title.setText(region.display_name)
        self.detail.setText(f"{region.start:#x}–{region.end:#x} · {self.document.perms_text} · "
                            f"{human_size(region.size)}")

    def _update_live(self, live: bool) -> None:
        if live:
            text, tone = "● live", "ok"
        elif self.document.paused:
            text, tone = "❚❚ paused", "warn"
        else:
            text, tone = "○ not refreshing", "faint"
        self.live_badge.setText(text)
        self.live_badge.set_color(color(tone))

    # What names an address (``libc.so.6!getpid+0x4``) in the position
    # label, once the main window gives it the attached target's symbols.
    name_of: Callable[[int], str | None] | None = None

    def refresh_position(self) -> None:
        """Say the cursor's position again (the symbols arrived)."""
        self._update_position()

    def _update_position(self) -> None:
        region = self.document.region
        if region is None:
            self.position.setText("")
            return
        lo, hi = self.hex_cursor.selection
        address = self.hex_cursor.address
        text = f"{address:#x} (+{address - region.start:#x})"
        if self.hex_cursor.has_selection:
            text += f" · {counted(hi - lo, 'byte')} selected"
        name = self.name_of(address) if self.name_of is not None else None
        if name and "!" in name:                 # a symbol holds it: libc.so.6!getpid+0x4
            text += f" · {name}"
        self.position.setText(text)
        self.position.setToolTip(text)

    def show_message(self, text: str) -> None:
        """An error or note under the view; empty text hides it."""
        if not text:
            self.message.hide()
            return
        self.message.setText(text)
        self.message.show()
        self._message_timer.start(8000)

    def set_exited(self, reason: str) -> None:
        self.banner.setText(f"Target exited — showing the last data read, read-only. "
                            f"({reason})")
        self.banner.show()
        self.pause.setEnabled(False)
        self._update_live(False)

    def clear_exited(self) -> None:
        self.banner.hide()
        self.pause.setEnabled(True)
