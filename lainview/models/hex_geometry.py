"""Where every byte of the hex view sits on screen, and back: pure arithmetic.

No Qt here. The view measures its font once (character width, line height)
and hands the numbers to :class:`HexLayout`; everything else — column
positions, hit testing, which rows are visible, and the mapping between a
64-bit row index and a 32-bit scroll bar — is computed here and tested
without a window.

Layout of one row, in character cells::

    <address digits> ␣␣ <hh ␣>×bpr (an extra space every 8 bytes) ␣␣ <ascii×bpr>
"""

from __future__ import annotations

from dataclasses import dataclass

# A QScrollBar holds an int; keep well inside it so page steps never overflow.
SCROLL_MAX = (1 << 30)

BYTES_PER_ROW_CHOICES = (8, 16, 32)
GROUP = 8       # an extra space after every GROUP bytes in the hex column

HEX, ASCII = "hex", "ascii"


@dataclass(frozen=True, slots=True)
class Hit:
    """What a point on the view lands on."""

    row: int            # row index from the first visible row's origin (absolute)
    column: int         # byte index in the row, 0..bpr-1
    part: str           # HEX or ASCII
    nibble: int         # 0 = high nibble, 1 = low (HEX only)


@dataclass(frozen=True, slots=True)
class HexLayout:
    """Column geometry for one font and row width."""

    char_width: float
    line_height: int
    bytes_per_row: int = 16
    address_digits: int = 12
    margin: float = 6.0

    def __post_init__(self) -> None:
        if self.bytes_per_row not in BYTES_PER_ROW_CHOICES:
            raise ValueError(f"bytes per row must be one of {BYTES_PER_ROW_CHOICES}")
        if self.char_width <= 0 or self.line_height <= 0:
            raise ValueError("font metrics must be positive")

    # -- columns, in character cells ---------------------------------------------------
    def hex_cell_chars(self, column: int) -> int:
        """Character offset of byte ``column``'s first hex digit from the hex column start."""
        return column * 3 + column // GROUP

    @property
    def hex_chars(self) -> int:
        return self.hex_cell_chars(self.bytes_per_row - 1) + 2

    @property
    def hex_x(self) -> float:
        return self.margin + (self.address_digits + 2) * self.char_width

    @property
    def ascii_x(self) -> float:
        return self.hex_x + (self.hex_chars + 2) * self.char_width

    @property
    def width(self) -> float:
        return self.ascii_x + self.bytes_per_row * self.char_width + self.margin

    def hex_cell_x(self, column: int) -> float:
        return self.hex_x + self.hex_cell_chars(column) * self.char_width

    def ascii_cell_x(self, column: int) -> float:
        return self.ascii_x + column * self.char_width

    def hex_row_template(self) -> list[int]:
        """Character offsets of every byte's hex pair (for building row strings)."""
        return [self.hex_cell_chars(c) for c in range(self.bytes_per_row)]

    # -- rows ----------------------------------------------------------------------------------
    def visible_rows(self, viewport_height: int) -> int:
        """Rows that fit, counting a partly visible last row."""
        return max(1, -(-viewport_height // self.line_height))

    def full_rows(self, viewport_height: int) -> int:
        return max(1, viewport_height // self.line_height)

    # -- hit testing ----------------------------------------------------------------------------
    def hit(self, x: float, y: float, first_row: int) -> Hit | None:
        """The byte under (x, y), or None outside both byte columns. Points
        in the gaps between hex pairs snap to the nearest byte."""
        if y < 0:
            return None
        row = first_row + int(y // self.line_height)
        if self.hex_x - self.char_width <= x < self.ascii_x - self.char_width:
            chars = (x - self.hex_x) / self.char_width
            best, nibble = 0, 0
            for column in range(self.bytes_per_row):
                start = self.hex_cell_chars(column)
                if chars < start + 2.5 or column == self.bytes_per_row - 1:
                    best = column
                    nibble = 1 if chars >= start + 1 else 0
                    break
            return Hit(row, best, HEX, nibble)
        if self.ascii_x - self.char_width <= x < self.width:
            column = int((x - self.ascii_x) // self.char_width)
            return Hit(row, min(max(column, 0), self.bytes_per_row - 1), ASCII, 0)
        return None


# -- rows of a memory area -----------------------------------------------------------------------
def row_origin(start: int, bytes_per_row: int) -> int:
    """The address of row 0: ``start`` rounded down to a row boundary."""
    return start - start % bytes_per_row


def total_rows(start: int, end: int, bytes_per_row: int) -> int:
    if end <= start:
        return 0
    origin = row_origin(start, bytes_per_row)
    return -(-(end - origin) // bytes_per_row)


def row_of(address: int, start: int, bytes_per_row: int) -> int:
    return (address - row_origin(start, bytes_per_row)) // bytes_per_row


def row_address(row: int, start: int, bytes_per_row: int) -> int:
    return row_origin(start, bytes_per_row) + row * bytes_per_row


def max_first_row(rows: int, rows_on_screen: int) -> int:
    return max(0, rows - rows_on_screen)


def clamp_first_row(first_row: int, rows: int, rows_on_screen: int) -> int:
    return min(max(0, first_row), max_first_row(rows, rows_on_screen))


def scroll_first_row_to_show(first_row: int, row: int, rows_on_screen: int) -> int:
    """The first row after scrolling just enough to bring ``row`` fully into view."""
    if row < first_row:
        return row
    if row >= first_row + rows_on_screen:
        return row - rows_on_screen + 1
    return first_row


# -- the 32-bit scroll bar -----------------------------------------------------------------------
def scrollbar_range(max_row: int) -> int:
    """The scroll bar's maximum for ``max_row`` scrollable rows: the row
    itself while it fits, else SCROLL_MAX (positions are then scaled)."""
    return max_row if max_row <= SCROLL_MAX else SCROLL_MAX


def row_to_scroll(first_row: int, max_row: int) -> int:
    if max_row <= SCROLL_MAX:
        return first_row
    return (first_row * SCROLL_MAX) // max_row


def scroll_to_row(value: int, max_row: int) -> int:
    """The first row for a scroll bar position. Exact when the row count fits
    in the bar; otherwise scaled so 0 is the top and SCROLL_MAX the bottom."""
    if max_row <= SCROLL_MAX:
        return min(max(0, value), max_row)
    value = min(max(0, value), SCROLL_MAX)
    if value == SCROLL_MAX:
        return max_row
    return (value * max_row) // SCROLL_MAX


def address_digits_for(end: int) -> int:
    """Hex digits needed for the largest address shown (at least 8, even)."""
    digits = max(8, len(f"{max(end - 1, 0):x}"))
    return digits + digits % 2
