"""A fast item delegate and table view for large or live tables of
one-line text (the symbol browser, the watch list, the scanner's matches).

Qt's stock delegate lays every painted cell's text out three times (its
size, its elision, its drawing) and asks the model seven roles through
Python; with ~90 visible cells that is most of a keystroke in the symbol
browser. :class:`FastTextDelegate` asks three roles (display, font,
foreground) and draws a cached :class:`QStaticText`, laid out once per
(text, font, width): typing keeps most visible rows, so most cells are
drawn without any layout. Selection, alternate rows and disabled state look
as with the stock delegate; the cell with the keyboard focus is painted by
the stock delegate (its focus frame is the style's).

:class:`FastTextTable` goes further: it paints its visible rows in one pass
(one model call per row), leaving only the selected and current rows to
the stock path — after a keystroke in the symbol browser the table repaints
every visible cell, and a Python call per cell is most of that time.
"""

from __future__ import annotations

from typing import NamedTuple

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRect, Qt
from PySide6.QtGui import (QColor, QFont, QFontMetricsF, QPainter, QPaintEvent, QPalette,
                           QStaticText)
from PySide6.QtWidgets import (QAbstractItemView, QStyle, QStyledItemDelegate,
                               QStyleOptionViewItem, QTableView, QWidget)

from .editing import LiveEditDelegate

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_SELECTED = QStyle.StateFlag.State_Selected.value     # plain ints: flag objects cost more
_FOCUS = QStyle.StateFlag.State_HasFocus.value
_ENABLED = QStyle.StateFlag.State_Enabled.value
_ACTIVE = QStyle.StateFlag.State_Active.value
_PANEL = QStyle.PrimitiveElement.PE_PanelItemViewItem
_RIGHT = Qt.AlignmentFlag.AlignRight.value
_NORMAL, _INACTIVE, _DISABLED = (QPalette.ColorGroup.Normal, QPalette.ColorGroup.Inactive,
                                 QPalette.ColorGroup.Disabled)
CACHE_LIMIT = 4096      # laid-out texts kept; about 30 screens of a 4-column table


class FastTextDelegate(LiveEditDelegate):
    """Paints one line of plain text per cell (left, vertically centred,
    elided as the view's ``textElideMode`` says), from the model's display,
    font and foreground roles. Other roles (icons, check boxes, alignment,
    background) are not drawn: use it on tables that have none. Its editors,
    where a model has any, are never overwritten by live updates
    (:class:`LiveEditDelegate`)."""

    def __init__(self, view: QAbstractItemView):
        super().__init__(view)
        self._view = view
        # (text, the model's font, width) -> the laid-out text and the font
        # it was laid out in, for the view's font and elide mode in _base and
        # _mode
        self._texts: dict[tuple, tuple[QStaticText, QFont, float]] = {}
        # keys of texts drawn once without a layout (first_sight)
        self._seen: set[tuple] = set()
        self._base = QFont()
        self._mode = Qt.TextElideMode.ElideRight
        # a resolved font -> its metrics, widest character, ascent and the
        # height QStaticText gives a line of it
        self._metrics: dict[QFont, FontInfo] = {}
        # the model's font (None: the view's) -> (resolved font, its FontInfo)
        self._resolved: dict[QFont | None, tuple[QFont, FontInfo]] = {}
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
        if state & _SELECTED:
            style.drawPrimitive(_PANEL, option, painter, view)
            pen = option.palette.color(_group(state), QPalette.ColorRole.HighlightedText)
        else:
            brush = model.data(index, _FOREGROUND)
            pen = option.palette.color(_group(state), QPalette.ColorRole.Text) \
                if brush is None else brush
        self.draw_text(painter, option.rect, text, font, QFont(option.font),
                       pen if isinstance(pen, QColor) else pen.color())

    def margin(self) -> int:
        """The text's left and right margin in a cell (logical px): the
        style's, as QCommonStyle's."""
        style = self._view.style()
        if style is not self._style:
            self._style = style
            self._margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None,
                                             self._view) + 1
        return self._margin

    def use(self, base: QFont) -> None:
        """Lay texts out for ``base`` (the view's font) and the view's elide
        mode from now on; the cache is dropped when either changed."""
        mode = self._view.textElideMode()
        if base != self._base or mode != self._mode:
            self._base, self._mode = QFont(base), mode
            self._texts.clear()
            self._seen.clear()
            self._resolved.clear()

    def _font(self, font: QFont | None) -> tuple[QFont, "FontInfo"]:
        """The font a cell's text is drawn in (``font`` resolved against
        the view's) and what is known of it."""
        hit = self._resolved.get(font)
        if hit is None:
            resolved = self._base if font is None else font.resolve(self._base)
            info = self._metrics.get(resolved)
            if info is None:
                metrics = QFontMetricsF(resolved)
                line = QStaticText("0")
                line.prepare(font=resolved)
                info = self._metrics[resolved] = FontInfo(
                    metrics, metrics.maxWidth(), metrics.ascent(), round(line.size().height()))
            hit = self._resolved[font] = (resolved, info)
        return hit

    def first_sight(self, text: str, font: QFont | None,
                    width: int) -> tuple[QFont, "FontInfo"] | None:
        """For a text not laid out before that needs no measuring (printable
        ASCII, short enough that even its widest characters fit ``width``):
        the font to draw it in and its FontInfo, to draw it directly with
        QPainter.drawText, which costs a third of laying a QStaticText out
        and drawing it once (a live value is a new text at every refresh).
        Its key is remembered: seen again, it is laid out for the cache.
        None for any other text (use :meth:`laid_out`)."""
        key = (text, font, width)
        if key in self._texts or key in self._seen or not (text.isascii()
                                                          and text.isprintable()):
            return None
        resolved, info = self._font(font)
        if not 0 < len(text) * info.widest <= width:
            return None
        if len(self._seen) >= CACHE_LIMIT:
            self._seen.clear()
        self._seen.add(key)
        return resolved, info

    def laid_out(self, text: str, font: QFont | None,
                 width: int) -> tuple[QStaticText, QFont, float]:
        """``text`` laid out to fit ``width`` px (elided as the view says) in
        ``font`` (None: the view's font given to :meth:`use`): the cached
        QStaticText, the resolved font to draw it in and the shown text's
        advance (px; what the stock delegate right-aligns by, which can
        differ from the QStaticText's width by a pixel)."""
        key = (text, font, width)
        laid_out = self._texts.get(key)
        if laid_out is None:
            font, info = self._font(font)
            metrics = info.metrics
            # No printable ASCII character is wider than the font's widest:
            # a short such text needs no measuring. Others may be drawn from
            # fallback fonts, or hold tabs: measured.
            shown = text if 0 < len(text) * info.widest <= width and text.isascii() \
                and text.isprintable() \
                or metrics.horizontalAdvance(text) <= width \
                else metrics.elidedText(text, self._mode, width)
            static = QStaticText(shown)
            static.setTextFormat(Qt.TextFormat.PlainText)
            static.prepare(font=font)
            if len(self._texts) >= CACHE_LIMIT:
                self._texts.clear()
            laid_out = self._texts[key] = (static, font, metrics.horizontalAdvance(shown))
        return laid_out

    def draw_text(self, painter: QPainter, rect: QRect, text: str, font: QFont | None,
                  base: QFont, pen: QColor) -> None:
        """One cell's text, left and vertically centred in ``rect``."""
        margin = self.margin()
        width = rect.width() - 2 * margin
        if width <= 0:
            return
        self.use(base)
        static, font, _advance = self.laid_out(text, font, width)
        painter.save()
        painter.setFont(font)
        painter.setPen(pen)
        painter.drawStaticText(QPointF(rect.x() + margin,
                                       rect.y() + centred(rect.height(), static)), static)
        painter.restore()


class FastTextTable(QTableView):
    """A table view for large or live tables of one-line text: it paints its
    visible rows in one pass — one ``cells`` call to the model per row
    when the model has it, the texts laid out once by its
    :class:`FastTextDelegate` — instead of one delegate call and seven model
    calls per cell.

    ``cells(row, columns)`` gives a list indexed by logical column that
    holds, for each of ``columns`` (the ones being painted; the others may
    hold anything), what the roles would give: ``(text, font,
    foreground)``, or ``(text, font, foreground, background, alignment)``
    (a QColor or QBrush or None; Qt.AlignmentFlag or None: left), or None
    for a cell the stock delegate paints (a check box, an icon). Without
    ``cells``, the display, font and foreground roles are asked. Rows that
    hold the selection or the focused cell, columns with their own delegate
    and any view given another item delegate are painted as QTableView
    paints them, so every pixel is the stock view's."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.text_delegate = FastTextDelegate(self)
        self.setItemDelegate(self.text_delegate)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        model = self.model()
        delegate = self.text_delegate
        if model is None or self.itemDelegate() is not delegate or self.showGrid() \
                or not model.rowCount():
            super().paintEvent(event)
            return
        region = event.rect()
        header = self.horizontalHeader()
        columns = []
        for visual in range(header.count()):
            column = header.logicalIndex(visual)
            if header.isSectionHidden(column):
                continue
            x, width = header.sectionViewportPosition(column), header.sectionSize(column)
            if x + width > region.left() and x <= region.right() and width > 0:
                columns.append((column, x, width))
        first = self.rowAt(region.top())
        last = self.rowAt(region.bottom())
        if not columns or first < 0:
            return
        if last < 0:
            last = model.rowCount() - 1
        special = self._special_rows(first, last)
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        state = option.state.value
        group = _group(state)
        text_pen = option.palette.color(group, QPalette.ColorRole.Text)
        alternate = option.palette.brush(group, QPalette.ColorRole.AlternateBase) \
            if self.alternatingRowColors() else None
        delegate.use(option.font)
        laid_out, first_sight = delegate.laid_out, delegate.first_sight
        cells = getattr(model, "cells", None)
        wanted = [column for column, _x, _w in columns]
        own = {column for column, _x, _w in columns if self.itemDelegateForColumn(column)}
        margin = delegate.margin()
        left = columns[0][1]
        right = columns[-1][1] + columns[-1][2]
        painter = QPainter(self.viewport())
        try:       # an exception with the painter open would take Qt down
            shown_font = shown_pen = None
            for row in range(first, last + 1):
                y = self.rowViewportPosition(row)
                height = self.rowHeight(row)
                if row in special:
                    for column, x, width in columns:
                        self._stock_cell(painter, option, row, column, QRect(x, y, width, height))
                    shown_font = shown_pen = None       # the stock path leaves its own
                    continue
                if alternate is not None and row & 1:
                    painter.fillRect(QRect(left, y, right - left, height), alternate)
                texts = cells(row, wanted) if cells is not None else None
                for column, x, width in columns:
                    background = align = None
                    if texts is not None:
                        cell = texts[column]
                        if cell is None or column in own:
                            rect = QRect(x, y, width, height)
                            if min(x + width, region.right() + 1) - max(x, region.left()) < margin:
                                # Qt's update of a cell overlaps its neighbour by
                                # a pixel: only a background can show there
                                fill = model.data(model.index(row, column), _BACKGROUND)
                                if fill is not None:
                                    painter.fillRect(rect, fill)
                                continue
                            self._stock_cell(painter, option, row, column, rect)
                            shown_font = shown_pen = None
                            continue
                        if len(cell) == 3:
                            text, font, pen = cell
                        else:
                            text, font, pen, background, align = cell
                    else:
                        index = model.index(row, column)
                        text = model.data(index, _DISPLAY)
                        font = model.data(index, _FONT)
                        pen = model.data(index, _FOREGROUND)
                    if background is not None:
                        painter.fillRect(QRect(x, y, width, height), background)
                    if not text or width <= 2 * margin:
                        continue
                    text = str(text)
                    flush_right = align is not None and align & _RIGHT
                    pen = text_pen if pen is None else pen if isinstance(pen, QColor) \
                        else pen.color()
                    if pen is not shown_pen:
                        painter.setPen(pen)
                        shown_pen = pen
                    direct = first_sight(text, font, width - 2 * margin)
                    if direct is not None:         # drawn where the QStaticText would be
                        font, info = direct
                        if font is not shown_font:
                            painter.setFont(font)
                            shown_font = font
                        left_x = x + width - margin - info.metrics.horizontalAdvance(text) \
                            if flush_right else x + margin
                        painter.drawText(QPointF(left_x, y + (height - info.line) // 2
                                                 + info.ascent), text)
                        continue
                    static, font, advance = laid_out(text, font, width - 2 * margin)
                    if font is not shown_font:
                        painter.setFont(font)
                        shown_font = font
                    left_x = x + width - margin - advance if flush_right else x + margin
                    painter.drawStaticText(QPointF(left_x, y + centred(height, static)), static)
        finally:
            painter.end()

    def _special_rows(self, first: int, last: int) -> set[int]:
        """Rows in first..last holding a selected cell or the current one."""
        rows: set[int] = set()
        selection = self.selectionModel()
        if selection is None:
            return rows
        chosen = selection.selection()
        for span in (chosen.at(n) for n in range(chosen.count())):
            rows.update(range(max(first, span.top()), min(last, span.bottom()) + 1))
        current = self.currentIndex()
        if current.isValid() and first <= current.row() <= last:
            rows.add(current.row())
        return rows

    def _stock_cell(self, painter: QPainter, option: QStyleOptionViewItem, row: int,
                    column: int, rect: QRect) -> None:
        """One cell as QTableView paints it (QTableViewPrivate::drawCell)."""
        model = self.model()
        selection = self.selectionModel()
        current = self.currentIndex()
        focus = (self.hasFocus() or self.viewport().hasFocus()) and current.isValid()
        index = model.index(row, column)
        cell = QStyleOptionViewItem(option)
        cell.rect = rect
        if self.alternatingRowColors() and row & 1:
            cell.features |= QStyleOptionViewItem.ViewItemFeature.Alternate
        else:
            cell.features &= ~QStyleOptionViewItem.ViewItemFeature.Alternate
        if selection is not None and selection.isSelected(index):
            cell.state |= QStyle.StateFlag.State_Selected
        if cell.state & QStyle.StateFlag.State_Enabled:
            if not model.flags(index) & Qt.ItemFlag.ItemIsEnabled:
                cell.state &= ~QStyle.StateFlag.State_Enabled
                cell.palette.setCurrentColorGroup(_DISABLED)
            else:
                cell.palette.setCurrentColorGroup(_NORMAL)
        if focus and index == current:
            cell.state |= QStyle.StateFlag.State_HasFocus
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewRow, cell, painter,
                                   self)
        delegate = self.itemDelegateForIndex(index)
        if delegate is self.text_delegate:      # its own paint is text only: Qt's whole cell
            QStyledItemDelegate.paint(delegate, painter, cell, index)
        else:
            delegate.paint(painter, cell, index)


class FontInfo(NamedTuple):
    """What the painters need of a font: its metrics, its widest
    character, its ascent and the height (whole px) QStaticText gives one
    line of it (the stock delegate centres that height in a cell)."""

    metrics: QFontMetricsF
    widest: float
    ascent: float
    line: int


def centred(height: int, static: QStaticText) -> int:
    """The top of ``static`` centred in ``height`` px, in whole pixels as
    QStyle.alignedRect places the stock delegate's text (a half pixel
    rounded differently moved every text a pixel)."""
    return (height - round(static.size().height())) // 2


def _group(state: int) -> QPalette.ColorGroup:
    if not state & _ENABLED:
        return _DISABLED
    return _NORMAL if state & _ACTIVE else _INACTIVE

