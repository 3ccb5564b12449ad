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

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFontMetricsF, QPainter, QPalette, QStaticText
from PySide6.QtWidgets import (QAbstractItemView, QStyle, QStyledItemDelegate,
                               QStyleOptionViewItem)

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_SELECTED = QStyle.StateFlag.State_Selected
_FOCUS = QStyle.StateFlag.State_HasFocus
_ENABLED = QStyle.StateFlag.State_Enabled
_ACTIVE = QStyle.StateFlag.State_Active
_PANEL = QStyle.PrimitiveElement.PE_PanelItemViewItem
CACHE_LIMIT = 4096      # laid-out texts kept; about 30 screens of a 4-column table


class FastTextDelegate(QStyledItemDelegate):
    """Paints one line of plain text per cell (left, vertically centred,
    elided as the view's ``textElideMode`` says), from the model's display,
    font and foreground roles. Other roles (icons, check boxes, alignment,
    background) are not drawn: use it on tables that have none."""

    def __init__(self, view: QAbstractItemView):
        super().__init__(view)
        self._view = view
        self._texts: dict[tuple, QStaticText] = {}

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        state = option.state
        if state & _FOCUS:
            super().paint(painter, option, index)   # the focus frame is the style's
            return
        view = self._view
        model = index.model()
        text = model.data(index, _DISPLAY)
        if text is None:
            text = ""
        elif not isinstance(text, str):
            text = str(text)
        font = model.data(index, _FONT)
        font = option.font if font is None else font.resolve(option.font)
        if state & _SELECTED:
            style = view.style()
            style.drawPrimitive(_PANEL, option, painter, view)
            group = _group(state)
            pen = option.palette.color(group, QPalette.ColorRole.HighlightedText)
        else:
            brush = model.data(index, _FOREGROUND)
            pen = brush if brush is not None \
                else option.palette.color(_group(state), QPalette.ColorRole.Text)
            style = None
        if not text:
            return
        rect = option.rect
        margin = self._margin(style or view.style())
        width = rect.width() - 2 * margin
        if width <= 0:
            return
        mode = view.textElideMode()
        key = (text, font.key(), width, mode)
        static = self._texts.get(key)
        if static is None:
            metrics = QFontMetricsF(font)
            shown = text if metrics.horizontalAdvance(text) <= width \
                else metrics.elidedText(text, mode, width)
            static = QStaticText(shown)
            static.setTextFormat(Qt.TextFormat.PlainText)
            static.prepare(font=font)
            if len(self._texts) >= CACHE_LIMIT:
                self._texts.clear()
            self._texts[key] = static
        painter.save()
        painter.setFont(font)
        painter.setPen(pen if not hasattr(pen, "color") else pen.color())
        height = static.size().height()
        painter.drawStaticText(rect.x() + margin, rect.y() + (rect.height() - height) / 2, static)
        painter.restore()

    def _margin(self, style: QStyle) -> int:
        # QCommonStyle's text margin: the focus frame's margin plus one
        return style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self._view) + 1


def _group(state) -> QPalette.ColorGroup:
    if not state & _ENABLED:
        return QPalette.ColorGroup.Disabled
    return QPalette.ColorGroup.Normal if state & _ACTIVE else QPalette.ColorGroup.Inactive

