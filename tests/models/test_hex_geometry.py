"""The hex view's geometry, without a window."""

import pytest

from lainview.models import hex_geometry as geo


def layout(bpr=16):
    return geo.HexLayout(char_width=8.0, line_height=18, bytes_per_row=bpr, address_digits=12)


@pytest.mark.parametrize("bpr", [8, 16, 32])
def test_every_cell_hits_itself(bpr):
    lay = layout(bpr)
    for column in range(bpr):
        for nibble in (0, 1):
            x = lay.hex_cell_x(column) + nibble * lay.char_width + 1
            hit = lay.hit(x, 18 * 3 + 5, first_row=100)
            assert hit == geo.Hit(103, column, geo.HEX, nibble)
        hit = lay.hit(lay.ascii_cell_x(column) + 2, 1, first_row=0)
        assert hit == geo.Hit(0, column, geo.ASCII, 0)


def test_columns_do_not_overlap_and_groups_get_a_gap():
    lay = layout(16)
    xs = [lay.hex_cell_x(c) for c in range(16)]
    assert all(b - a >= 3 * lay.char_width for a, b in zip(xs, xs[1:]))
    assert xs[8] - xs[7] == 4 * lay.char_width          # the group gap
    assert lay.ascii_x > xs[-1] + 2 * lay.char_width
    assert lay.width > lay.ascii_cell_x(15)
    assert lay.hit(1, 5, 0) is None                     # the address column


def test_bad_layouts_are_refused():
    with pytest.raises(ValueError):
        geo.HexLayout(8.0, 18, bytes_per_row=12)
    with pytest.raises(ValueError):
        geo.HexLayout(0, 18)


def test_rows_of_an_unaligned_area():
    assert geo.row_origin(0x1008, 16) == 0x1000
    assert geo.total_rows(0x1008, 0x1010, 16) == 1
    assert geo.total_rows(0x1008, 0x1011, 16) == 2
    assert geo.row_of(0x1017, 0x1008, 16) == 1
    assert geo.row_address(1, 0x1008, 16) == 0x1010
    assert geo.total_rows(5, 5, 16) == 0


def test_rows_on_screen():
    lay = layout()
    assert lay.visible_rows(18 * 10) == 10
    assert lay.visible_rows(18 * 10 + 1) == 11          # a partly visible row is painted
    assert lay.full_rows(18 * 10 + 17) == 10


def test_scroll_mapping_is_exact_when_it_fits():
    for row in (0, 1, 12345, geo.SCROLL_MAX):
        assert geo.scrollbar_range(geo.SCROLL_MAX) == geo.SCROLL_MAX
        assert geo.scroll_to_row(geo.row_to_scroll(row, geo.SCROLL_MAX), geo.SCROLL_MAX) == row


def test_scroll_mapping_of_a_huge_area_fits_32_bits_and_reaches_both_ends():
    # A 128 TiB area at 16 bytes per row: 2**43 rows, far beyond an int scroll bar.
    max_row = (1 << 47) // 16 - 40
    assert geo.scrollbar_range(max_row) < 2 ** 31
    assert geo.scroll_to_row(0, max_row) == 0
    assert geo.scroll_to_row(geo.SCROLL_MAX, max_row) == max_row
    middle = geo.scroll_to_row(geo.SCROLL_MAX // 2, max_row)
    assert abs(middle - max_row // 2) <= max_row // geo.SCROLL_MAX + 1
    # Positions are monotonic, and a row maps to a bar value that maps back near it.
    values = [geo.row_to_scroll(r, max_row) for r in range(0, max_row, max_row // 1000)]
    assert values == sorted(values) and max(values) < 2 ** 31
    row = max_row // 3
    assert 0 <= row - geo.scroll_to_row(geo.row_to_scroll(row, max_row), max_row) \
        <= max_row // geo.SCROLL_MAX + 1


def test_clamp_and_scroll_to_show():
    assert geo.clamp_first_row(-5, 100, 10) == 0
    assert geo.clamp_first_row(95, 100, 10) == 90
    assert geo.clamp_first_row(3, 5, 10) == 0
    assert geo.scroll_first_row_to_show(50, 40, 10) == 40
    assert geo.scroll_first_row_to_show(50, 65, 10) == 56
    assert geo.scroll_first_row_to_show(50, 55, 10) == 50


def test_address_digits():
    assert geo.address_digits_for(0x1000) == 8
    assert geo.address_digits_for(0x7fff_ffff_f000) == 12
    assert geo.address_digits_for(0xffff_ffff_ff60_1000) == 16
