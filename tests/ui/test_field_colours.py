"""A structure placed on the demo's struct tints its fields' bytes in the hex
view (alternating, so neighbours differ; bytes outside it untouched), and a
byte's tooltip names its field with type and live value. Real widgets
offscreen over the running demo; colours read from the viewport's pixels."""

from __future__ import annotations

import time

from PySide6.QtGui import QColor

from lainview.models import hex_geometry as geo
from lainview.models.field_spans import spans_of
from lainview.backend.c_decls import parse_header
from lainview.backend.ctypes_model import typed_value
from lainview.ui.structure_dock import EXAMPLE

from tests.models.qt_support import open_demo_window


def _cell_pixel(view, address: int, part: str = "hex") -> tuple[int, int]:
    """A point inside the cell of ``address`` where no glyph is drawn (its
    left padding), in viewport coordinates."""
    lay, region = view.layout_, view.document.region
    bpr = view.bytes_per_row
    row = geo.row_of(address, region.start, bpr) - view.first_row
    column = (address - geo.row_origin(region.start, bpr)) % bpr
    assert 0 <= row < view.rows_on_screen(), (hex(address), row, view.rows_on_screen())
    x = lay.hex_cell_x(column) - lay.char_width / 2 + 2 if part == "hex" \
        else lay.ascii_cell_x(column) + 1
    y = view._header_height + row * lay.line_height + 2
    return int(x - view.horizontalScrollBar().value()), int(y)


def _colours(view, addresses, part: str = "hex") -> list[QColor]:
    view.viewport().repaint()
    image = view.viewport().grab().toImage()
    dpr = image.devicePixelRatio()
    out = []
    for a in addresses:
        x, y = _cell_pixel(view, a, part)
        out.append(image.pixelColor(int(x * dpr), int(y * dpr)))
    return out


def _open(qtbot, window, demo):
    window.resize(1280, 720)
    open_demo_window(qtbot, window, demo)
    view = window.editor.view
    view.set_bytes_per_row(8)                  # every column in view at any dock width
    assert view.layout_.width <= view.viewport().width(), (view.layout_.width,
                                                           view.viewport().width())
    return view


def _place_demo_struct(qtbot, window, demo):
    _open(qtbot, window, demo)
    feature = window.features["structure"]
    feature.panel.declarations.setPlainText(EXAMPLE)
    feature.panel.type_edit.setText("struct demo")
    assert window.show_address(demo.struct + 0x14)    # cursor away from the struct's bytes
    window.workspace.cursor.move_to(demo.struct)
    assert feature.place_at_cursor(), feature.panel.note.text()
    window.workspace.cursor.move_to(demo.struct + 0x2c)
    qtbot.waitUntil(lambda: feature.model.data(feature.model.find("magic")) == str(0x4E49414C))
    return feature


def test_placed_fields_are_tinted_alternately_and_the_rest_is_not(qtbot, window, demo):
    feature = _place_demo_struct(qtbot, window, demo)
    view = window.editor.view
    s = demo.struct
    # magic +0, health +4, speed +8, pad +0xc, position +0x10, name +0x18..+0x28
    probes = [s + 1, s + 5, s + 9, s + 0xd, s + 0x11, s + 0x19, s + 0x28, s - 8]
    document = window.workspace.document
    document.set_paused(True)          # no amber "changed" highlights over the probes
    qtbot.waitUntil(lambda: not document.has_fading(time.monotonic()), timeout=5000)
    feature.model.clear()
    before = _colours(view, probes)
    before_ascii = _colours(view, probes, "ascii")
    assert len({c.name() for c in before}) == 1           # one background everywhere
    window.workspace.cursor.move_to(s)
    assert feature.place_at_cursor()
    window.workspace.cursor.move_to(s + 0x2c)
    qtbot.waitUntil(lambda: len(window.features["fields"].overlay.spans) == 6)
    overlay = window.features["fields"].overlay
    assert [(sp.start - s, sp.size, sp.path) for sp in overlay.spans] == [
        (0, 4, "magic"), (4, 4, "health"), (8, 4, "speed"), (0xc, 4, "pad"),
        (0x10, 8, "position"), (0x18, 16, "name")]
    after = _colours(view, probes)
    after_ascii = _colours(view, probes, "ascii")
    fields, outside = after[:6], after[6:]
    for b, a in zip(before, fields):
        assert a != b, (a.name(), b.name())                # every field's bytes tinted
    assert [c.name() for c in outside] == [c.name() for c in before[6:]]   # the rest is not
    for left, right in zip(fields, fields[1:]):
        assert left != right                               # neighbours differ
    assert fields[0] == fields[2] and fields[1] == fields[3]   # alternating
    assert all(a != b for a, b in zip(after_ascii[:6], before_ascii[:6]))
    assert after_ascii[6] == before_ascii[6]
    # cleared: the tints go
    feature.model.clear()
    assert [c.name() for c in _colours(view, probes)] == [c.name() for c in before]


def test_hovering_a_field_byte_names_the_field_with_type_and_value(qtbot, window, demo):
    _place_demo_struct(qtbot, window, demo)
    view = window.editor.view
    s = demo.struct
    from PySide6.QtCore import QPoint
    tip = view.viewport_tooltip(QPoint(*_cell_pixel(view, s + 6)))
    assert f"{s + 6:#x}" in tip
    assert "struct demo.health: int32_t = " in tip and "(+0x4, 4 bytes)" in tip
    tip = view.viewport_tooltip(QPoint(*_cell_pixel(view, s + 0x1a, "ascii")))
    assert 'struct demo.name: char [16] = "' in tip or 'struct demo.name: char[16] = "' in tip
    # the value is the live one: the demo's position swings every 0.1 s
    texts = set()
    qtbot.waitUntil(lambda: texts.add(view.viewport_tooltip(
        QPoint(*_cell_pixel(view, s + 0x12)))) or len(texts) > 1, timeout=5000)
    assert all("struct demo.position: double = " in t for t in texts)
    # a byte of no field says nothing of fields
    assert "struct demo" not in view.viewport_tooltip(QPoint(*_cell_pixel(view, s + 0x29)))


def test_spans_merge_fields_sharing_bytes_and_skip_followed_pointees():
    decls = parse_header("""
        struct bits { unsigned a : 3; unsigned b : 5; unsigned char c; union { int i; float f; } u;
                      struct { short x, y; } pt[2]; };""", "t.h")
    t = decls.lookup("struct bits")
    root = typed_value(t, bytes(t.size), 0x1000)
    spans = [(sp.start - 0x1000, sp.size, sp.path, sp.depth) for sp in spans_of(root)]
    assert spans == [(0, 1, "a, b", 1), (1, 1, "c", 1), (4, 4, "u.i, u.f", 2),
                     (8, 2, "pt[0].x", 3), (10, 2, "pt[0].y", 3), (12, 2, "pt[1].x", 3),
                     (14, 2, "pt[1].y", 3)]
    assert spans_of(None) == []


def test_select_field_from_the_hex_views_context_menu(qtbot, window, demo):
    from PySide6.QtCore import QPoint
    feature = _place_demo_struct(qtbot, window, demo)
    view, cursor = window.editor.view, window.workspace.cursor
    s = demo.struct
    menu = view.context_menu_at(QPoint(*_cell_pixel(view, s + 6)))
    assert menu is not None and cursor.address == s + 6
    action = next(a for a in menu.actions() if a.text().startswith("Select field"))
    assert action.text() == "Select field health" and action.isEnabled()
    action.trigger()
    assert cursor.selection == (s + 4, s + 8) and cursor.address == s + 4
    current = feature.panel.tree.currentIndex()
    assert feature.model.node(current).path == "health"
    menu.deleteLater()
    # the text: all 16 bytes of name[16], clicked in the ASCII column
    menu = view.context_menu_at(QPoint(*_cell_pixel(view, s + 0x1f, "ascii")))
    action = next(a for a in menu.actions() if a.text().startswith("Select field"))
    assert action.text() == "Select field name"
    action.trigger()
    assert cursor.selection == (s + 0x18, s + 0x28)
    menu.deleteLater()
    # a byte of no field: the action is there, disabled, and says why
    menu = view.context_menu_at(QPoint(*_cell_pixel(view, s + 0x2a)))
    action = next(a for a in menu.actions() if a.text().startswith("Select field"))
    assert not action.isEnabled() and "no structure" in action.text()
    assert not window.features["fields"].select_field(s + 0x2a)
    menu.deleteLater()


def test_go_to_a_field_from_the_structure_tree_selects_its_bytes(qtbot, window, demo):
    feature = _place_demo_struct(qtbot, window, demo)
    cursor = window.workspace.cursor
    s = demo.struct
    window.show_address(s - 0x100)
    position = feature.model.find("position").siblingAtColumn(0)
    assert feature.go_to_field(position)
    assert cursor.address == s + 0x10 and cursor.selection == (s + 0x10, s + 0x18)
    view = window.editor.view
    row = geo.row_of(s + 0x10, view.document.region.start, view.bytes_per_row)
    assert view.first_row <= row < view.first_row + view.rows_on_screen()
