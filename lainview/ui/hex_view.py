"""The hex view: a QAbstractScrollArea that paints only the visible rows of
the open area, from the document's page cache.

All geometry comes from ``lainview.models.hex_geometry``; the bytes and
their states from the document (``HexDocument.cells``); the cursor from ``HexCursor``.
This widget measures the font, paints, and turns keys and clicks into
cursor moves and document writes.
"""

from __future__ import annotations

import math
import time
from typing import Protocol

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal, SignalInstance
from PySide6.QtGui import (QColor, QContextMenuEvent, QFontMetricsF, QImage, QKeyEvent,
                           QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF, QResizeEvent,
                           QWheelEvent)
from PySide6.QtWidgets import QAbstractScrollArea, QMenu, QToolTip, QWidget

from lainview.backend.errors import LainviewError
from lainview.backend.memory import MemoryArea
from lainview.models import hex_geometry as geo
from lainview.models.cursor import HexCursor
from lainview.models.bookmarks import BookmarkModel
from lainview.models.field_spans import FieldSpan
from lainview.models.hex_document import FADE_SECONDS, Cell, CellState, HexDocument

from .theme import HexColors, mono_font


class FieldSource(Protocol):
    """What the hex view needs of a placed structure's fields
    (``lainview.models.field_overlay.FieldOverlay``)."""

    @property
    def changed(self) -> SignalInstance: ...

    @property
    def generation(self) -> int:
        """Counts changes of the spans (a view's cached rows follow it)."""

    def spans_in(self, lo: int, hi: int) -> list[FieldSpan]: ...

    def describe(self, address: int) -> str: ...

HEX_DIGITS = "0123456789abcdefABCDEF"
USER_ADDRESS_DIGITS = geo.address_digits_for(0x7fff_ffff_f000)   # 12: x86-64 user space
_PRINTABLE = [chr(b) if 0x20 <= b < 0x7f else "." for b in range(256)]
# Fast-path tables: a plain row is drawn as two strings, non-zero bytes in
# the text colour and zero bytes dimmed, each with blanks for the other.
_PAIR_TEXT = [f"{b:02x}" if b else "  " for b in range(256)]
_PAIR_ZERO = ["00" if b == 0 else "  " for b in range(256)]
_ASCII_TEXT = [" " if b == 0 else _PRINTABLE[b] for b in range(256)]
_ASCII_ZERO = ["." if b == 0 else " " for b in range(256)]


class HexView(QAbstractScrollArea):
    """Paints [first_row, first_row + rows on screen) of the document's area."""

    status_message = Signal(str)

    def __init__(self, document: HexDocument, cursor: HexCursor,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.hex_cursor = cursor
        self.colors = HexColors()
        self.first_row = 0
        self.bytes_per_row = 16
        self._syncing_bar = False
        self._dragging = False
        self.last_paint_seconds = 0.0
        self.placeholder = ("No area open.\nDouble-click an area in the memory map, "
                            "or press Ctrl+G.")
        self.marker_source: BookmarkModel | None = None      # see set_marker_source
        self.field_source: FieldSource | None = None         # see set_field_source
        self._tints_signature: tuple | None = None
        self._tints: dict[int, tuple] = {}           # row address -> its field runs
        self._row_signature: tuple[object, ...] | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setMouseTracking(False)
        self.viewport().setAutoFillBackground(False)
        self.setFont(mono_font(10.5))
        self.verticalScrollBar().valueChanged.connect(self._on_scrollbar)
        self.horizontalScrollBar().valueChanged.connect(self.viewport().update)
        document.changed.connect(self.viewport().update)
        document.region_changed.connect(self._on_region)
        cursor.moved.connect(self._on_cursor)
        self._relayout()

    # -- geometry -------------------------------------------------------------------------------
    def _relayout(self) -> None:
        metrics = QFontMetricsF(self.font())
        self._ascent = metrics.ascent()
        region = self.document.region
        self.layout_ = geo.HexLayout(
            char_width=metrics.horizontalAdvance("0"),
            line_height=int(metrics.height() + 4),
            bytes_per_row=self.bytes_per_row,
            address_digits=geo.address_digits_for(region.end if region else 0))
        self._header_height = self.layout_.line_height + 4
        self._update_bars()
        self.viewport().update()

    def full_width(self) -> int:
        """The width (logical px) that shows a whole row, its ASCII column
        included: the layout's (with at least a user-space address's 12
        digits: the first layout is made before a target is open), the
        vertical scroll bar and the frame."""
        lay = self.layout_
        digits = max(0, USER_ADDRESS_DIGITS - lay.address_digits)
        return int(lay.width + digits * lay.char_width + 0.999) \
            + self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth()

    def set_bytes_per_row(self, n: int) -> None:
        if n != self.bytes_per_row:
            keep = self.hex_cursor.address
            self.bytes_per_row = n
            self._relayout()
            self.ensure_visible(keep, center=True)

    @property
    def rows(self) -> int:
        region = self.document.region
        if region is None:
            return 0
        return geo.total_rows(region.start, region.end, self.bytes_per_row)

    def _rows_height(self) -> int:
        return max(1, self.viewport().height() - self._header_height)

    def rows_on_screen(self) -> int:
        return self.layout_.full_rows(self._rows_height())

    def _max_row(self) -> int:
        return geo.max_first_row(self.rows, self.rows_on_screen())

    def _update_bars(self) -> None:
        max_row = self._max_row()
        bar = self.verticalScrollBar()
        self._syncing_bar = True
        bar.setRange(0, geo.scrollbar_range(max_row))
        bar.setPageStep(max(1, min(self.rows_on_screen(), geo.scrollbar_range(max_row) or 1)))
        bar.setSingleStep(1)
        bar.setValue(geo.row_to_scroll(self.first_row, max_row))
        self._syncing_bar = False
        hbar = self.horizontalScrollBar()
        extra = int(self.layout_.width - self.viewport().width())
        hbar.setRange(0, max(0, extra))
        hbar.setPageStep(max(1, self.viewport().width()))
        self._publish_visible()

    def _publish_visible(self) -> None:
        region = self.document.region
        if region is None:
            return
        start = geo.row_address(self.first_row, region.start, self.bytes_per_row)
        end = start + self.layout_.visible_rows(self._rows_height()) * self.bytes_per_row
        self.document.set_visible(max(start, region.start), min(end, region.end))

    def set_first_row(self, row: int) -> None:
        row = geo.clamp_first_row(row, self.rows, self.rows_on_screen())
        if row != self.first_row:
            self.first_row = row
            self._update_bars()
            self.viewport().update()

    def _on_scrollbar(self, value: int) -> None:
        if self._syncing_bar:
            return
        row = geo.scroll_to_row(value, self._max_row())
        if row != self.first_row:
            self.first_row = row
            self._publish_visible()
            self.viewport().update()

    def ensure_visible(self, address: int, *, center: bool = False) -> None:
        region = self.document.region
        if region is None:
            return
        row = geo.row_of(address, region.start, self.bytes_per_row)
        n = self.rows_on_screen()
        if center and not self.first_row <= row < self.first_row + n:
            self.set_first_row(row - n // 3)
        else:
            self.set_first_row(geo.scroll_first_row_to_show(self.first_row, row, n))

    def center_on(self, address: int) -> None:
        """Scroll so that ``address``'s row is in the middle of the view
        (a jump: go-to, a scan match, a bookmark)."""
        region = self.document.region
        if region is None:
            return
        row = geo.row_of(address, region.start, self.bytes_per_row)
        self.set_first_row(row - self.rows_on_screen() // 2)

    def _on_region(self) -> None:
        self.first_row = 0
        self._relayout()

    def _on_cursor(self) -> None:
        # A byte whose high nibble was typed is written once the cursor leaves it.
        cursor = self.hex_cursor
        self.document.settle_nibble(cursor.address if cursor.nibble == 1 else None)
        self.ensure_visible(self.hex_cursor.address)
        self.viewport().update()

    # -- painting ---------------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._update_bars()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        started = time.perf_counter()
        painter = QPainter(self.viewport())
        try:
            self._paint(painter)
            painter.resetTransform()
            self._paint_header(painter)
        finally:
            painter.end()
        self.last_paint_seconds = time.perf_counter() - started

    def _paint(self, p: QPainter) -> None:
        c = self.colors
        lay = self.layout_
        width = self.viewport().width()
        height = self.viewport().height()
        p.fillRect(0, 0, width, height, c.background)
        p.setFont(self.font())
        region = self.document.region
        if region is None:
            p.setPen(c.header_text)
            p.drawText(QRectF(0, 0, width, height), Qt.AlignmentFlag.AlignCenter,
                       self.placeholder)
            return
        dx = -self.horizontalScrollBar().value()
        p.translate(dx, self._header_height)
        height -= self._header_height
        cw, lh, bpr = lay.char_width, lay.line_height, self.bytes_per_row
        # Address column background (the rules between columns go over the rows).
        p.fillRect(QRectF(0, 0, lay.hex_x - cw, height), c.header_background)
        now = time.monotonic()
        cursor = self.hex_cursor
        sel_lo, sel_hi = cursor.selection if cursor.anchor is not None else (0, 0)
        baseline = self._ascent + 2
        rows = min(lay.visible_rows(height), self.rows - self.first_row)
        digits = lay.address_digits
        self._check_row_cache(rows)
        x0 = self._row_image_x
        cache = self._row_images
        p.setPen(c.address)
        address_x = int(lay.margin)
        for i in range(rows):
            address = geo.row_address(self.first_row + i, region.start, bpr)
            p.drawText(QPoint(address_x, int(i * lh + baseline)), f"{address:0{digits}x}")
        source = self.field_source
        for i in range(rows):
            address = geo.row_address(self.first_row + i, region.start, bpr)
            y = i * lh
            tints = self._row_tints(source, region, address) if source is not None else ()
            if sel_hi > address and sel_lo < address + bpr:
                # Rows with a selection are painted directly (never cached).
                self._paint_tints(p, tints, y)
                self._paint_cells(p, self.document.cells(address, bpr, now), address, y,
                                  sel_lo, sel_hi)
                continue
            plain = self.document.plain_row(address, bpr, now)
            key: object
            if plain is not None:
                key = plain
            else:
                cells = self.document.cells(address, bpr, now)
                if any(cell.state == CellState.CHANGED for cell in cells):
                    # Fading highlights change every frame: not worth caching.
                    self._paint_tints(p, tints, y)
                    self._paint_cells(p, cells, address, y, 0, 0)
                    continue
                key = tuple(cells)
            if tints:
                key = (key, tints)
            image = cache.pop(key, None)
            if image is None:
                image = self._row_image(plain, None if plain is not None else cells, address,
                                        tints)
            cache[key] = image          # (re)inserted last: least recently used go first
            p.drawImage(x0, y, image)
        while len(cache) > self._row_cache_limit:
            del cache[next(iter(cache))]
        p.setPen(QPen(c.rule, 1))
        p.drawLine(int(lay.hex_x - cw), 0, int(lay.hex_x - cw), height)
        p.drawLine(int(lay.ascii_x - cw), 0, int(lay.ascii_x - cw), height)
        if self.marker_source is not None:
            self._paint_markers(p, self.marker_source, region, rows)
        self._paint_cursor(p, region)

    # -- row images ---------------------------------------------------------------------------
    # A row's hex and ASCII columns depend only on its bytes and cell states,
    # so each is painted once into an image and reused while it stays on
    # screen (live refreshes mostly repaint unchanged rows; scrolling reuses
    # all but the rows coming in). Keyed by the row's bytes (plain rows) or
    # its cells; rows with a fading highlight or a selection are painted
    # directly. The image starts just left of the first cell's background.
    def _check_row_cache(self, rows: int) -> None:
        lay = self.layout_
        dpr = self.viewport().devicePixelRatioF()
        signature = (lay, self.font().key(), dpr, id(self.colors))
        if self._row_signature != signature:
            self._row_signature = signature
            self._row_images: dict = {}
            self._row_image_x = int(lay.hex_x - lay.char_width / 2) - 1
            self._row_image_size = (math.ceil(lay.width) - self._row_image_x, lay.line_height)
            self._row_dpr = dpr
        self._row_cache_limit = 3 * rows + 16

    def clear_row_cache(self) -> None:
        """Forget the cached row images (call after changing ``colors``)."""
        self._row_signature = None

    def _row_image(self, plain: bytes | None, cells: list[Cell] | None,
                   address: int, tints: tuple = ()) -> QImage:
        w, h = self._row_image_size
        dpr = self._row_dpr
        image = QImage(int(math.ceil(w * dpr)), int(math.ceil(h * dpr)),
                       QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(dpr)
        image.fill(self.colors.background)
        painter = QPainter(image)
        try:
            painter.setFont(self.font())
            painter.translate(-self._row_image_x, 0)
            self._paint_tints(painter, tints, 0)
            if plain is not None:
                self._paint_plain_row(painter, plain, self._ascent + 2)
            elif cells is not None:
                self._paint_cells(painter, cells, address, 0, 0, 0)
        finally:
            painter.end()
        return image

    def _paint_cells(self, p: QPainter, cells: list, address: int, y: float,
                     sel_lo: int, sel_hi: int) -> None:
        """One row, cell by cell, with its states; the row's top at ``y``."""
        c = self.colors
        lay = self.layout_
        cw, lh, bpr = lay.char_width, lay.line_height, self.bytes_per_row
        template = lay.hex_row_template()
        baseline = self._ascent + 2
        layers: dict[str, list[str]] = {}
        ascii_layers: dict[str, list[str]] = {}

        def put(key: str, column: int, pair: str, ch: str) -> None:
            hexline = layers.get(key)
            if hexline is None:
                hexline = layers[key] = [" "] * lay.hex_chars
                ascii_layers[key] = [" "] * bpr
            at = template[column]
            hexline[at] = pair[0]
            hexline[at + 1] = pair[1]
            ascii_layers[key][column] = ch

        for column, cell in enumerate(cells):
            a = address + column
            state = cell.state
            hx = lay.hex_cell_x(column)
            ax = lay.ascii_cell_x(column)
            if sel_lo <= a < sel_hi:
                p.fillRect(QRectF(hx - cw / 2, y, 3 * cw, lh), c.selection)
                p.fillRect(QRectF(ax, y, cw, lh), c.selection)
            value = cell.value
            if state == CellState.UNREADABLE:
                p.fillRect(QRectF(hx - cw / 2, y + 1, 3 * cw, lh - 2), c.unreadable_background)
                p.fillRect(QRectF(ax, y + 1, cw, lh - 2), c.unreadable_background)
                put("unreadable", column, "??", "?")
                continue
            if state == CellState.PENDING or value is None:
                put("pending", column, "··", "·")
                continue
            if state == CellState.NO_ACCESS:
                p.fillRect(QRectF(hx - cw / 2, y + 1, 3 * cw, lh - 2), c.no_access_background)
                p.fillRect(QRectF(ax, y + 1, cw, lh - 2), c.no_access_background)
                put("no_access", column, f"{value:02x}", _PRINTABLE[value])
                continue
            pair = f"{value:02x}"
            ch = _PRINTABLE[value]
            if state == CellState.CHANGED:
                bg = QColor(c.changed_background)
                bg.setAlphaF(max(0.0, 0.85 * (1.0 - cell.age / FADE_SECONDS)))
                p.fillRect(QRectF(hx - cw / 2, y + 1, 3 * cw, lh - 2), bg)
                p.fillRect(QRectF(ax, y + 1, cw, lh - 2), bg)
                put("changed", column, pair, ch)
            elif state == CellState.WRITING:
                p.fillRect(QRectF(hx - cw / 2, y + 1, 3 * cw, lh - 2), c.writing_background)
                put("writing", column, pair, ch)
            elif state == CellState.FAILED:
                p.fillRect(QRectF(hx - cw / 2, y + 1, 3 * cw, lh - 2), c.failed_background)
                p.fillRect(QRectF(ax, y + 1, cw, lh - 2), c.failed_background)
                put("failed", column, pair, ch)
            elif value == 0:
                put("zero", column, pair, ch)
            else:
                put("text", column, pair, ch)
        for key, hexline in layers.items():
            p.setPen(getattr(c, key if key != "changed" else "changed_text"))
            p.drawText(QPoint(int(lay.hex_x), int(y + baseline)), "".join(hexline))
            p.drawText(QPoint(int(lay.ascii_x), int(y + baseline)),
                       "".join(ascii_layers[key]))

    # -- markers (bookmarks) ----------------------------------------------------------------------
    def set_marker_source(self, source: BookmarkModel) -> None:
        """Draw ``source.markers_in(lo, hi)`` (spans with a colour and a
        label) over the bytes; repaint on ``source.markers_changed``."""
        self.marker_source = source
        source.markers_changed.connect(self.viewport().update)
        self.viewport().update()

    def _paint_markers(self, p: QPainter, source: BookmarkModel, region: MemoryArea,
                       rows: int) -> None:
        lay, bpr = self.layout_, self.bytes_per_row
        cw, lh = lay.char_width, lay.line_height
        lo = geo.row_address(self.first_row, region.start, bpr)
        hi = lo + rows * bpr
        for marker in source.markers_in(max(lo, region.start), min(hi, region.end)):
            color = QColor(marker.color)
            start = max(marker.address, lo, region.start)
            end = min(marker.address + marker.size, hi, region.end)
            for a in range(start, end):
                row = geo.row_of(a, region.start, bpr) - self.first_row
                column = (a - geo.row_origin(region.start, bpr)) % bpr
                y = row * lh
                hx = lay.hex_cell_x(column)
                p.fillRect(QRectF(hx - cw / 2, y + lh - 2, 3 * cw, 2), color)
                p.fillRect(QRectF(lay.ascii_cell_x(column), y + lh - 2, cw, 2), color)
                if a == marker.address:
                    flag = QPolygonF([QPointF(hx - cw / 2, y), QPointF(hx - cw / 2 + 6, y),
                                      QPointF(hx - cw / 2, y + 6)])
                    p.setPen(Qt.PenStyle.NoPen)
                    p.setBrush(color)
                    p.drawPolygon(flag)

    # -- fields (a placed structure) -------------------------------------------------------------
    def set_field_source(self, source: FieldSource | None) -> None:
        """Tint the bytes of ``source.spans_in(lo, hi)`` (a placed
        structure's fields: alternating tints under the text, stronger when
        nested; part of each row's cached image) and add
        ``source.describe(address)`` to a byte's tooltip; repaint on
        ``source.changed``."""
        if self.field_source is not None:
            self.field_source.changed.disconnect(self.viewport().update)
        self.field_source = source
        if source is not None:
            source.changed.connect(self.viewport().update)
        self.viewport().update()

    def _row_tints(self, source: FieldSource, region: MemoryArea, address: int) -> tuple:
        """The field runs of the row at ``address``: (first column, last
        column, parity, depth, whether the field starts in this row), one
        bisection of the source's spans, remembered while the spans, the
        row width and the area stay (part of the row image's key)."""
        signature = (source.generation, self.bytes_per_row, region.start, region.end)
        if self._tints_signature != signature or len(self._tints) > 4096:
            self._tints_signature = signature
            self._tints = {}
        hit = self._tints.get(address)
        if hit is None:
            bpr = self.bytes_per_row
            lo, hi = max(address, region.start), min(address + bpr, region.end)
            origin = geo.row_origin(region.start, bpr)
            hit = self._tints[address] = tuple(
                ((max(sp.start, lo) - origin) % bpr, (min(sp.end, hi) - 1 - origin) % bpr,
                 sp.ordinal & 1, min(max(sp.depth, 1), 3) - 1, sp.start >= lo)
                for sp in source.spans_in(lo, hi))
        return hit

    def _paint_tints(self, p: QPainter, tints: tuple, y: float) -> None:
        """A row's field runs as tinted backgrounds (under the text), a
        hairline before each field's first byte so neighbours part."""
        if not tints:
            return
        lay = self.layout_
        cw, lh = lay.char_width, lay.line_height
        fields = self.colors.fields
        for first, last, parity, depth, starts in tints:
            tint = fields[parity][depth]
            gap = 1 if starts else 0
            x0 = lay.hex_cell_x(first) - cw / 2 + gap
            p.fillRect(QRectF(x0, y + 1, lay.hex_cell_x(last) + 2.5 * cw - x0, lh - 2), tint)
            a0 = lay.ascii_cell_x(first) + gap
            p.fillRect(QRectF(a0, y + 1, lay.ascii_cell_x(last) + cw - a0, lh - 2), tint)

    def fields_at(self, address: int) -> str:
        """What the field source says of the byte at ``address`` ("" when
        no field holds it)."""
        return self.field_source.describe(address) if self.field_source is not None else ""

    def markers_at(self, address: int) -> list:
        if self.marker_source is None:
            return []
        return self.marker_source.markers_in(address, address + 1)

    def _paint_plain_row(self, p: QPainter, data: bytes, baseline: float) -> None:
        lay = self.layout_
        y = int(baseline)
        groups = range(0, len(data), geo.GROUP)
        text = "  ".join(" ".join(map(_PAIR_TEXT.__getitem__, data[g:g + geo.GROUP]))
                         for g in groups)
        zeros = "  ".join(" ".join(map(_PAIR_ZERO.__getitem__, data[g:g + geo.GROUP]))
                          for g in groups)
        hex_x, ascii_x = int(lay.hex_x), int(lay.ascii_x)
        p.setPen(self.colors.text)
        p.drawText(QPoint(hex_x, y), text)
        p.drawText(QPoint(ascii_x, y), "".join(map(_ASCII_TEXT.__getitem__, data)))
        if 0 in data:
            p.setPen(self.colors.zero)
            p.drawText(QPoint(hex_x, y), zeros)
            p.drawText(QPoint(ascii_x, y), "".join(map(_ASCII_ZERO.__getitem__, data)))

    def _paint_cursor(self, p: QPainter, region) -> None:
        lay = self.layout_
        cw, lh = lay.char_width, lay.line_height
        row = geo.row_of(self.hex_cursor.address, region.start, self.bytes_per_row)
        if not self.first_row <= row < self.first_row + lay.visible_rows(self._rows_height()):
            return
        y = (row - self.first_row) * lh
        column = (self.hex_cursor.address - geo.row_origin(region.start, self.bytes_per_row)) \
            % self.bytes_per_row
        hex_rect = QRectF(lay.hex_cell_x(column) - 1, y + 1, 2 * cw + 2, lh - 2)
        ascii_rect = QRectF(lay.ascii_cell_x(column), y + 1, cw, lh - 2)
        active, shadow = (hex_rect, ascii_rect) if self.hex_cursor.part == geo.HEX \
            else (ascii_rect, hex_rect)
        focused = self.hasFocus()
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(self.colors.cursor if focused else self.colors.address, 1.5))
        p.drawRect(active)
        p.fillRect(shadow, self.colors.cursor_shadow)
        if self.hex_cursor.part == geo.HEX:
            nx = lay.hex_cell_x(column) + self.hex_cursor.nibble * cw
            p.fillRect(QRectF(nx, y + lh - 4, cw, 2), self.colors.cursor)

    def viewportEvent(self, event) -> bool:  # noqa: N802
        if event.type() == event.Type.ToolTip:
            text = self.viewport_tooltip(event.pos())
            if text:
                QToolTip.showText(event.globalPos(), text, self.viewport())
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    def _paint_header(self, p: QPainter) -> None:
        """Column offsets above the rows; scrolls sideways, never down."""
        if self.document.region is None:
            return
        c, lay = self.colors, self.layout_
        dx = -self.horizontalScrollBar().value()
        width = self.viewport().width()
        p.fillRect(0, 0, width, self._header_height, c.header_background)
        p.setPen(QPen(c.rule, 1))
        p.drawLine(0, self._header_height - 1, width, self._header_height - 1)
        p.setPen(c.header_text)
        y = int(self._ascent + 4)
        p.drawText(QPoint(int(dx + lay.margin), y), "address")
        for column in range(self.bytes_per_row):
            p.drawText(QPoint(int(dx + lay.hex_cell_x(column)), y), f"{column:02x}")
        p.drawText(QPoint(int(dx + lay.ascii_x), y), "ascii")

    # -- input ------------------------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120
        if steps:
            self.set_first_row(self.first_row - int(round(steps * 3)) or
                               (self.first_row - (1 if steps > 0 else -1)))
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if self.document.region is None:
            return super().keyPressEvent(event)
        key = event.key()
        mods = event.modifiers()
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        bpr = self.bytes_per_row
        page = self.rows_on_screen() * bpr
        cursor = self.hex_cursor
        moves: dict[int, int] = {
            Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -bpr,
            Qt.Key.Key_Down: bpr, Qt.Key.Key_PageUp: -page, Qt.Key.Key_PageDown: page,
        }
        if key in moves:
            if key == Qt.Key.Key_Left and cursor.part == geo.HEX and cursor.nibble == 1 \
                    and not shift:
                cursor.nibble = 0
                cursor.moved.emit()
                return
            if key in (Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
                self.set_first_row(self.first_row + (self.rows_on_screen()
                                                     if moves[key] > 0 else -self.rows_on_screen()))
            cursor.move_by(moves[key], select=shift)
            return
        region = self.document.region
        if key == Qt.Key.Key_Home:
            target = region.start if ctrl else cursor.address - (
                cursor.address - geo.row_origin(region.start, bpr)) % bpr
            cursor.move_to(target, select=shift)
            return
        if key == Qt.Key.Key_End:
            target = region.end - 1 if ctrl else cursor.address - (
                cursor.address - geo.row_origin(region.start, bpr)) % bpr + bpr - 1
            cursor.move_to(target, select=shift)
            return
        if key == Qt.Key.Key_Tab or key == Qt.Key.Key_Backtab:
            cursor.toggle_part()
            return
        if key == Qt.Key.Key_Escape:
            cursor.clear_selection()
            return
        text = event.text()
        if text and not ctrl and not (mods & Qt.KeyboardModifier.AltModifier):
            if cursor.part == geo.HEX and len(text) == 1 and text in HEX_DIGITS:
                self._type_nibble(int(text, 16))
                return
            if cursor.part == geo.ASCII and len(text) == 1 and 0x20 <= ord(text) < 0x7f:
                self._type_char(ord(text))
                return
            if text.isprintable():
                # A key that types nothing says why instead of doing nothing.
                if cursor.part == geo.HEX:
                    self.status_message.emit(
                        f"{text!r} is not a hex digit: the hex column takes 0-9 and a-f "
                        "(Tab switches to the ASCII column)")
                else:
                    self.status_message.emit(
                        f"{text!r} is not printable ASCII: the ASCII column takes characters "
                        "0x20-0x7e (Tab switches to the hex column)")
                return
        super().keyPressEvent(event)

    def focusNextPrevChild(self, next_: bool) -> bool:  # noqa: N802
        # Tab switches between the hex and ASCII columns; Alt+1/2/3 move focus.
        if self.document.region is not None:
            return False
        return super().focusNextPrevChild(next_)

    def _editable(self) -> bool:
        if self.document.read_only:
            self.status_message.emit("read-only: " + self.document.read_only_reason)
            return False
        return True

    def _type_nibble(self, digit: int) -> None:
        if not self._editable():
            return
        cursor = self.hex_cursor
        try:
            self.document.type_nibble(cursor.address, digit, high=cursor.nibble == 0)
        except LainviewError as exc:
            self.status_message.emit(str(exc))
            return
        cursor.advance_nibble()

    def _type_char(self, value: int) -> None:
        if not self._editable():
            return
        address = self.hex_cursor.address
        if self.document.byte_at(address) is None:
            self.status_message.emit(f"cannot edit {address:#x}: the byte is not readable")
            return
        self.document.write(address, bytes([value]))
        self.hex_cursor.move_to(address + 1)

    def _hit_address(self, pos) -> tuple[int, str, int] | None:
        region = self.document.region
        if region is None:
            return None
        x = pos.x() + self.horizontalScrollBar().value()
        hit = self.layout_.hit(x, pos.y() - self._header_height, self.first_row)
        if hit is None:
            return None
        address = geo.row_address(hit.row, region.start, self.bytes_per_row) + hit.column
        return self.hex_cursor.clamp(address), hit.part, hit.nibble

    def context_menu_at(self, pos: QPoint) -> QMenu | None:
        """The one context menu of the hex view, for a right-click at
        ``pos`` (viewport coordinates): the actions features add to the view
        (``addAction``: watch, bookmark, disassemble, find what writes, find
        pointers, …), acting on the byte clicked (the cursor moves there
        unless it is inside the selection). None when no feature added one."""
        hit = self._hit_address(QPointF(pos))
        if hit is not None:
            lo, hi = self.hex_cursor.selection
            if not lo <= hit[0] < hi:
                self.hex_cursor.move_to(hit[0])
        if not self.actions():
            return None
        menu = QMenu(self)
        menu.addActions(self.actions())
        return menu

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802
        menu = self.context_menu_at(event.pos())
        if menu is not None:
            menu.exec(event.globalPos())
            menu.deleteLater()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        hit = self._hit_address(event.position())
        if hit is None or event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        address, part, nibble = hit
        if part != self.hex_cursor.part:
            self.hex_cursor.part = part
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        self.hex_cursor.move_to(address, select=shift, nibble=nibble)
        self._dragging = True

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if not self._dragging:
            return super().mouseMoveEvent(event)
        hit = self._hit_address(event.position())
        if hit is not None and hit[0] != self.hex_cursor.address:
            self.hex_cursor.move_to(hit[0], select=True)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._dragging = False
        super().mouseReleaseEvent(event)

    def viewport_tooltip(self, pos) -> str:
        hit = self._hit_address(pos)
        if hit is None:
            return ""
        address = hit[0]
        cell = self.document.cell(address)
        if cell.state == CellState.UNREADABLE:
            return f"{address:#x}: unreadable — {self.document.hole_reason(address) or 'not mapped'}"
        if cell.state == CellState.FAILED:
            return f"{address:#x}: {self.document.failed_writes.get(address, '')}"
        if cell.state == CellState.PENDING:
            return f"{address:#x}: not read yet"
        if cell.state == CellState.NO_ACCESS:
            return (f"{address:#x}: no-access page (no read permission): the target cannot "
                    "read this byte; lainview reads it through the kernel's forced access")
        region = self.document.region
        if region is None:
            return ""
        text = f"{address:#x}  ({region.display_name}+{address - region.start:#x})"
        fields = self.fields_at(address)
        if fields:
            text += "\n" + fields
        for marker in self.markers_at(address):
            text += f"\n★ {marker.label}"
        return text

    def focusInEvent(self, event) -> None:  # noqa: N802
        super().focusInEvent(event)
        self.viewport().update()

    def focusOutEvent(self, event) -> None:  # noqa: N802
        super().focusOutEvent(event)
        self.document.settle_nibble()
        self.viewport().update()

    # -- header in the viewport margin --------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._update_bars()

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == event.Type.FontChange:
            self._relayout()

