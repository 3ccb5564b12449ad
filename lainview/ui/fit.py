"""Widgets that keep the window's minimum size fixed whatever they show.

A plain ``QLabel`` asks for room for its whole text: one long path, error or
result list and the dock (and then the window) grows to match. These take
what the layout gives them instead:

- :class:`ElidedLabel`: one line, elided with "…" where the text does not
  fit, the whole text in its tooltip; its minimum width is a fixed number of
  characters, never the text's.
- :class:`FitLabel`: a one-line ``QLabel`` (rich text allowed) whose
  minimum width is a fixed number of characters; where the text does not
  fit it shows it as plain text elided, the whole in the tooltip.
- :class:`ScrollingText`: any number of lines in a bounded box that scrolls.
- :class:`DockScroll`: the frame every dock's content sits in; if a dock is
  made smaller than its content, the content scrolls instead of the window
  growing.
- :func:`first_start_size`: the size a top-level window opens at, cut to
  the screen it is on.
- :class:`FlowLayout`: a row of buttons that wraps onto more rows where the
  dock is narrower than the row; its minimum width is its widest button's.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QTextDocumentFragment
from PySide6 import QtCore, QtGui
from PySide6.QtWidgets import (QFrame, QLabel, QLayout, QLayoutItem, QScrollArea, QSizePolicy, QStatusBar, QStyle,
                               QStyleOption, QTextBrowser, QWidget)


#: The share of the screen's available width and height a window may take
#: when it first opens.
SCREEN_SHARE = 0.92


def first_start_size(widget: QWidget, preferred: QSize, fallback: QSize | None = None) -> QSize:
    """The size (logical pixels) a top-level window opens at: ``preferred``,
    but no more than ``SCREEN_SHARE`` of the available geometry of the
    screen ``widget`` is on (Qt's ``QWidget.screen()``: the primary screen
    until it is shown). ``fallback`` (default ``preferred``) when there is
    no screen. Raises nothing."""
    screen = widget.screen()
    if screen is None:
        return fallback if fallback is not None else preferred
    area = screen.availableGeometry()
    return QSize(min(preferred.width(), int(area.width() * SCREEN_SHARE)),
                 min(preferred.height(), int(area.height() * SCREEN_SHARE)))


class ElidedLabel(QFrame):
    """One line of plain text, elided to the width it is given.

    ``min_chars``: the minimum width in average characters, or ``min_text``:
    the width of that text (the text's own length never raises it). ``elide``: where the "…" goes (right keeps the
    start visible, left the end — for paths, the file name). ``color``: a
    theme colour for the text, or None for the palette's text colour."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *, min_chars: int = 8,
                 elide: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
                 color: QColor | None = None, bold: bool = False, min_text: str = ""):
        super().__init__(parent)
        self._text = ""
        self._base_tip = ""
        self._min_chars = min_chars
        self._min_text = min_text
        self._elide = elide
        self._color = color
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        if bold:
            font = self.font()
            font.setBold(True)
            self.setFont(font)
        self.setText(text)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 - QLabel's name
        if text == self._text:
            return
        self._text = text
        self._update_tip()
        self.updateGeometry()
        self.update()

    def set_full_text(self, text: str) -> None:
        self.setText(text)

    def set_color(self, color: QColor | None) -> None:
        self._color = color
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        metrics = self.fontMetrics()
        margins = self.contentsMargins()
        return QSize(max(self.minimumSizeHint().width(), metrics.horizontalAdvance(self._text)
                         + 2 + margins.left() + margins.right()),
                     self.minimumSizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        metrics = self.fontMetrics()
        margins = self.contentsMargins()
        width = max(metrics.averageCharWidth() * self._min_chars,
                    metrics.horizontalAdvance(self._min_text))
        return QSize(width + 2 + margins.left() + margins.right(),
                     metrics.height() + 2 + margins.top() + margins.bottom())

    def elided_text(self) -> str:
        """What is drawn at the current width."""
        return self.fontMetrics().elidedText(self._text, self._elide, self.contentsRect().width())

    def setToolTip(self, tip: str) -> None:  # noqa: N802 - shown while the text fits
        self._base_tip = tip
        self._update_tip()

    def _update_tip(self) -> None:
        fits = self.fontMetrics().horizontalAdvance(self._text) <= self.contentsRect().width()
        tip = self._base_tip if fits or not self._text else self._text
        super().setToolTip(tip)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._update_tip()

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        painter = QPainter(self)
        painter.setPen(self._color if self._color is not None
                       else self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawText(self.contentsRect(), Qt.AlignmentFlag.AlignVCenter
                         | Qt.AlignmentFlag.AlignLeft, self.elided_text())
        painter.end()


class FitLabel(QLabel):
    """A one-line label for text that changes (counts, captions, messages).

    ``setText`` takes plain or rich text; ``text()`` gives it back. The
    minimum width is ``min_chars`` average characters, never the text's;
    when the label is narrower than its text, the text is shown plain and
    elided (``elide``), and the tooltip holds all of it."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *, min_chars: int = 8,
                 elide: Qt.TextElideMode = Qt.TextElideMode.ElideRight):
        super().__init__(parent)
        self._full = ""
        self._plain = ""
        self._min_chars = min_chars
        self._elide = elide
        self._shown: str | None = None
        self._base_tip = ""
        self.setWordWrap(False)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setText(text)

    def text(self) -> str:
        return self._full

    def setText(self, text: str) -> None:  # noqa: N802
        if text == self._full and self._shown is not None:
            return
        self._full = text
        self._plain = (QTextDocumentFragment.fromHtml(text).toPlainText()
                       if QtGui.Qt.mightBeRichText(text) else text)
        self._fit()
        self.updateGeometry()

    def _needed(self) -> int:
        # Bold and spans make rich text a little wider than its plain text.
        return int(self.fontMetrics().horizontalAdvance(self._plain) * 1.08) + 4

    def _fit(self) -> None:
        width = self.contentsRect().width()
        if self._needed() <= width or not self._plain:
            shown, tip = self._full, ""
        else:
            shown = self.fontMetrics().elidedText(self._plain, self._elide, width)
            tip = self._plain
        if shown != self._shown:
            self._shown = shown
            super().setText(shown)
        super().setToolTip(tip or self._base_tip)

    def setToolTip(self, tip: str) -> None:  # noqa: N802 - shown while the text fits
        self._base_tip = tip
        if self._shown == self._full:
            super().setToolTip(tip)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(max(self._needed(), self.minimumSizeHint().width()),
                     super().minimumSizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.fontMetrics().averageCharWidth() * self._min_chars,
                     super().minimumSizeHint().height())


class ScrollingText(QTextBrowser):
    """Rich text of any length in a box at most ``max_lines`` high that
    scrolls; ``text()`` gives the plain text back (like a label's)."""

    def __init__(self, parent: QWidget | None = None, *, max_lines: int = 6):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setOpenLinks(False)
        self.setLineWrapMode(QTextBrowser.LineWrapMode.WidgetWidth)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Maximum)
        self.document().setDocumentMargin(3)
        self._max_lines = max_lines
        self.document().contentsChanged.connect(self.updateGeometry)

    def setText(self, html: str) -> None:  # noqa: N802 - QLabel's name
        self.setHtml(html)

    def text(self) -> str:
        return self.toPlainText()

    def _line(self) -> int:
        return self.fontMetrics().lineSpacing()

    def sizeHint(self) -> QSize:  # noqa: N802
        frame = 2 * self.frameWidth() + 8
        lines = max(1, min(self._max_lines, self.document().lineCount()))
        return QSize(200, lines * self._line() + frame)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(60, self._line() + 2 * self.frameWidth() + 8)


class DockScroll(QScrollArea):
    """The frame around a dock's content: the content is laid out at the
    dock's size, and scrolls if the dock is made smaller than the content's
    minimum — so no content can raise the window's minimum size."""

    MINIMUM = QSize(120, 80)

    def __init__(self, content: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusProxy(content)

    def content(self) -> QWidget:
        widget = self.widget()
        assert widget is not None       # set in __init__, never taken
        return widget

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return self.MINIMUM

    def sizeHint(self) -> QSize:  # noqa: N802
        return self.content().sizeHint()


class ElidingStatusBar(QStatusBar):
    """A status bar whose temporary message (``showMessage``) is elided with
    "…" where it does not fit (QStatusBar cuts it off mid-letter); the whole
    message is its tooltip while shown. ``currentMessage()`` stays whole."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.messageChanged.connect(self.setToolTip)

    def message_rect(self) -> "QtCore.QRect":
        """Where the message is painted: left of the permanent fields (and
        the size grip), which stay visible while a message is shown."""
        right = self.width()
        for child in self.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly):
            if child.isVisible() and child.geometry().left() > 0:
                right = min(right, child.geometry().left())
        return self.contentsRect().adjusted(6, 0, 0, 0).intersected(
            QtCore.QRect(0, 0, max(0, right - 4), self.height()))

    def elided_message(self) -> str:
        """The message as painted: whole, or cut with "…" to its room."""
        return self.fontMetrics().elidedText(self.currentMessage(), Qt.TextElideMode.ElideRight,
                                             self.message_rect().width())

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        if not self.currentMessage():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        option = QStyleOption()
        option.initFrom(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_PanelStatusBar, option, painter,
                                   self)
        painter.setPen(self.palette().windowText().color())
        painter.drawText(self.message_rect(), Qt.AlignmentFlag.AlignLeading
                         | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextSingleLine,
                         self.elided_message())


class FlowLayout(QLayout):
    """Widgets left to right, wrapped onto the next row where the width
    runs out (Qt's flow layout example): a button row that fits a narrow
    dock. Minimum width: the widest item's; height for a width: the rows
    that width needs."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 4):
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self.setSpacing(spacing)
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return self._arrange(QtCore.QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QtCore.QRect) -> None:  # noqa: N802
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802
        width = sum(i.sizeHint().width() for i in self._items) \
            + self.spacing() * max(len(self._items) - 1, 0)
        height = max((i.sizeHint().height() for i in self._items), default=0)
        m = self.contentsMargins()
        return QSize(width + m.left() + m.right(), height + m.top() + m.bottom())

    def minimumSize(self) -> QSize:  # noqa: N802
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _arrange(self, rect: QtCore.QRect, move: bool) -> int:
        """Place the items in rows within ``rect`` (only measure unless
        ``move``); the height the rows take."""
        m = self.contentsMargins()
        left, right = rect.x() + m.left(), rect.right() - m.right()
        x, y, row = left, rect.y() + m.top(), 0
        gap = self.spacing()
        for item in self._items:
            hint = item.sizeHint()
            if x > left and x + hint.width() - 1 > right:
                x, y, row = left, y + row + gap, 0
            if move:
                item.setGeometry(QtCore.QRect(QtCore.QPoint(x, y), hint))
            x += hint.width() + gap
            row = max(row, hint.height())
        return y + row - rect.y() + m.bottom()
