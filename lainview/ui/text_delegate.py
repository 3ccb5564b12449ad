"""A fast item delegate for large read-only tables of one-line text.

Qt's stock delegate lays every painted cell's text out three times (its
size, its elision, its drawing) and asks the model seven roles through
Python; with ~90 visible cells that is most of a keystroke in the symbol
browser. :class:`FastTextDelegate` asks three roles (display, font,
foreground) and draws a cached :class:`QStaticText`, laid out once per
(text, font, width): typing keeps most visible rows, so most cells are
drawn without any layout. Selection, alternate rows and disabled state look
as with the stock delegate; the cell with the keyboard focus is painted by
the stock delegate (its focus frame is the style's).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPalette, QStaticText
from PySide6.QtWidgets import (QAbstractItemView, QStyle, QStyledItemDelegate,
                               QStyleOptionViewItem)

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_SELECTED = QStyle.StateFlag.State_Selected.value     # plain ints: flag objects cost more
_FOCUS = QStyle.StateFlag.State_HasFocus.value
_ENABLED = QStyle.StateFlag.State_Enabled.value
_ACTIVE = QStyle.StateFlag.State_Active.value
_PANEL = QStyle.PrimitiveElement.PE_PanelItemViewItem
_NORMAL, _INACTIVE, _DISABLED = (QPalette.ColorGroup.Normal, QPalette.ColorGroup.Inactive,
                                 QPalette.ColorGroup.Disabled)
CACHE_LIMIT = 4096      # laid-out texts kept; about 30 screens of a 4-column table


class FastTextDelegate(QStyledItemDelegate):
    """Paints one line of plain text per cell (left, vertically centred,
    elided as the view's ``textElideMode`` says), from the model's display,
    font and foreground roles. Other roles (icons, check boxes, alignment,
    background) are not drawn: use it on tables that have none."""

    def __init__(self, view: QAbstractItemView):
        super().__init__(view)
        self._view = view
        # (text, the model's font, the view's font, width, elide mode) -> the
        # laid-out text and the font it was laid out in
        self._texts: dict[tuple, tuple[QStaticText, QFont]] = {}
        self._style: QStyle | None = None
        self._margin = 0

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        # Called for every visible cell on every repaint: few attribute reads
        # on ``option`` (each one copies), int state bits, one dict lookup.
        state = option.state.value
        if state & _FOCUS:
            super().paint(painter, option, index)   # the focus frame is the style's
            return
        view = self._view
        model = index.model()
        text = model.data(index, _DISPLAY)
        if not text:
            if state & _SELECTED:
                view.style().drawPrimitive(_PANEL, option, painter, view)
            return
        if not isinstance(text, str):
            text = str(text)
        font = model.data(index, _FONT)
        style = view.style()
        if style is not self._style:
            self._style = style
            self._margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None,
                                             view) + 1      # QCommonStyle's text margin
        if state & _SELECTED:
            style.drawPrimitive(_PANEL, option, painter, view)
            pen = option.palette.color(_group(state), QPalette.ColorRole.HighlightedText)
        else:
            brush = model.data(index, _FOREGROUND)
            pen = option.palette.color(_group(state), QPalette.ColorRole.Text) \
                if brush is None else brush
        rect = option.rect
        margin = self._margin
        width = rect.width() - 2 * margin
        if width <= 0:
            return
        mode = view.textElideMode()
        base = QFont(option.font)        # a copy: option.font lives only as long as option
        key = (text, font, base, width, mode)
        laid_out = self._texts.get(key)
        if laid_out is None:
            font = base if font is None else font.resolve(base)
            metrics = QFontMetricsF(font)
            shown = text if metrics.horizontalAdvance(text) <= width \
                else metrics.elidedText(text, mode, width)
            static = QStaticText(shown)
            static.setTextFormat(Qt.TextFormat.PlainText)
            static.prepare(font=font)
            if len(self._texts) >= CACHE_LIMIT:
                self._texts.clear()
            laid_out = self._texts[key] = (static, font)
        static, font = laid_out
        painter.save()
        painter.setFont(font)
        painter.setPen(pen if isinstance(pen, QColor) else pen.color())
        painter.drawStaticText(QPointF(rect.x() + margin,
                                       rect.y() + (rect.height() - static.size().height()) / 2),
                               static)
        painter.restore()


def _group(state: int) -> QPalette.ColorGroup:
    if not state & _ENABLED:
        return _DISABLED
    return _NORMAL if state & _ACTIVE else _INACTIVE

