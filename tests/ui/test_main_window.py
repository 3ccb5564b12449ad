"""The window against real processes: picker, VMA table, hex view typing,
undo, unreadable pages, live changes, a killed target, never blocking."""

import os
import subprocess
import sys
import time

from PySide6.QtCore import QTimer, Qt
from PySide6.QtWidgets import QLineEdit

from lainview.models import settings
from lainview.models.memory_document import CellState
from lainview.models.jobs import JobKind
from lainview.models.attached_target import TargetState
from lainview.ui.main_window import MainWindow

from tests.models.qt_support import open_demo_window, wait_loaded


def test_picker_filters_and_attaches_on_enter(qtbot, window, demo):
    picker = window.show_picker()
    qtbot.waitUntil(lambda: picker.model.rowCount() > 0, timeout=10000)
    total = picker.proxy.rowCount()
    qtbot.keyClicks(picker.filter, f"{demo.pid}")
    assert 1 <= picker.proxy.rowCount() < total
    qtbot.keyClicks(picker.filter, " demo_target")
    assert picker.proxy.rowCount() == 1
    assert f"1 of {total}" in picker.status.text()
    qtbot.keyClick(picker.filter, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(window.workspace.target.live and window.workspace.document.region),
                    timeout=10000)
    assert window.workspace.target.pid == demo.pid
    assert f"pid {demo.pid}" in window.target_label.text()
    used = window.workspace.target.target.info.backend            # "procfs" or "lainmemu"
    assert ("lainmemu" if used == "lainmemu" else "/proc") in window.backend_label.text()
    assert "live" in window.state_label.text()
    assert settings.recent_targets()[0][0] == demo.pid
    assert not picker.isVisible()


def test_vma_table_double_click_opens_the_area(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    panel = window.vma_panel
    panel.filter.setText(f"{demo.readonly:x}")
    rows = [panel.proxy.index(r, 0) for r in range(panel.proxy.rowCount())]
    index = next(i for i in rows if panel.area_at_index(i).start == demo.readonly)
    rect = panel.table.visualRect(index)
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    region = window.workspace.document.region
    assert (region.start, region.end) == (demo.readonly, demo.readonly + 4096)
    wait_loaded(qtbot, window.workspace.document)
    assert window.workspace.document.bytes_at(demo.readonly, 20) == b"This page is read-on"


def test_selecting_an_area_by_address_selects_only_it_even_with_ctrl_held(qtbot, window, demo):
    """The map's "select this address" (the scanner's only-selected areas
    rely on it) replaces the selection: with a modifier key held (or
    left reported held by an earlier key event) QTableView.selectRow would
    add the row to the selection instead."""
    open_demo_window(qtbot, window, demo)
    panel = window.vma_panel
    panel.select_address(demo.readonly)
    qtbot.keyPress(panel.table, Qt.Key.Key_Control, Qt.KeyboardModifier.ControlModifier)
    try:
        from PySide6.QtGui import QGuiApplication
        assert QGuiApplication.keyboardModifiers() & Qt.KeyboardModifier.ControlModifier
        panel.select_address(demo.base)
        [(start, end)] = panel.selected_ranges()
        assert start <= demo.base < end
    finally:
        qtbot.keyRelease(panel.table, Qt.Key.Key_Control)


def test_the_memory_map_keeps_its_selection_when_the_map_changes(qtbot, window, demo):
    """The map is refreshed every 2 s and reset when it changed: the areas
    selected (the scanner's "only selected") stay selected, by address."""
    open_demo_window(qtbot, window, demo)
    panel, ws = window.vma_panel, window.workspace
    panel.select_address(demo.readonly)
    [(start, end)] = panel.selected_ranges()
    resets = []
    panel.model.modelReset.connect(lambda: resets.append(1))
    extra = demo.map(8192)                               # the map changes
    qtbot.waitUntil(lambda: panel.model.row_of_address(extra) is not None, timeout=10000)
    assert resets
    assert panel.selected_ranges() == [(start, end)]


def test_a_removed_area_is_not_scanned_as_selected(qtbot, window, demo):
    """An area gone from the map stays listed once as "removed"; selected,
    it is not one of the scanner's "only selected" areas, and the scanner
    says to select mapped areas (not to include read-only ones)."""
    from lainview.models.vma_model import REMOVED
    from lainview.ui.tables import select_only
    open_demo_window(qtbot, window, demo)
    window.workspace._areas_timer.stop()             # this test gives the map
    panel = window.vma_panel
    model = panel.model
    areas = [model.area(r) for r in range(model.rowCount())]
    model.set_areas([a for a in areas if not a.contains(demo.readonly)])
    [gone] = [r for r in range(model.rowCount()) if model.status(r) == REMOVED]
    select_only(panel.table, panel.proxy.mapFromSource(model.index(gone, 0)).row())
    assert panel.table.selectionModel().selectedRows() and panel.selected_ranges() == []
    scanner = window.scanner_panel
    window.show_scanner()
    scanner.only_selected.setChecked(True)
    scanner.value_edit.setText("1")
    assert scanner.start_first() is None
    assert "mapped areas" in scanner.message.text()


def test_goto_typing_undo_in_the_hex_view(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    ws, view = window.workspace, window.editor.view
    # Ctrl+G to a known spot by area+offset-free address.
    window.go_bar.open()
    qtbot.keyClicks(window.go_bar.edit, f"{demo.string:#x}")
    qtbot.keyClick(window.go_bar.edit, Qt.Key.Key_Return)
    assert ws.cursor.address == demo.string and not window.go_bar.isVisible()
    row = (demo.string - view.document.region.start) // view.bytes_per_row
    assert view.first_row <= row < view.first_row + view.rows_on_screen()
    assert [c.value for c in ws.document.cells(demo.string, 5)] == list(b"Hello")
    # A bad location says why, inline.
    window.go_bar.open()
    qtbot.keyClicks(window.go_bar.edit, "nosuchlib.so+0x10")
    qtbot.keyClick(window.go_bar.edit, Qt.Key.Key_Return)
    assert "no module named" in window.go_bar.error.text()
    window.go_bar.hide()
    # Type two hex digits over 'H' (0x48): the child's memory changes.
    view.setFocus()
    ws.cursor.move_to(demo.string)
    qtbot.keyClicks(view, "7a")
    qtbot.waitUntil(lambda: demo.peek(demo.string, 1) == b"z", timeout=5000)
    assert ws.cursor.address == demo.string + 1
    # ASCII column: Tab, then characters.
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    qtbot.keyClicks(view, "AB")
    qtbot.waitUntil(lambda: demo.peek(demo.string, 3) == b"zAB", timeout=5000)
    qtbot.waitUntil(lambda: not ws.document.pending_writes)
    # Undo twice (two ASCII bytes), then the hex byte (one merged step).
    stack = ws.document.undo_stack
    assert stack.count() == 3, [stack.text(i) for i in range(stack.count())]
    for _ in range(3):
        before = stack.index()
        window.undo_action.trigger()
        qtbot.waitUntil(lambda: stack.index() == before - 1, timeout=5000)
    qtbot.waitUntil(lambda: demo.peek(demo.string, 3) == b"Hel", timeout=5000)
    assert ws.document.undo_stack.index() == 0


def test_no_access_page_shows_its_bytes_in_their_own_style(qtbot, window, demo):
    """The demo's PROT_NONE guard page is read as the kernel allows (forced
    access) and drawn as a no-access page: values, in their own colours.
    Whatever the window's size (the smallest, and the 1576x666 a user had
    saved): go-to puts the cell mid-view, whole."""
    open_demo_window(qtbot, window, demo)
    ws, view = window.workspace, window.editor.view
    for width, height in ((1024, 640), (1576, 666), (900, 420)):
        window.resize(width, height)
        qtbot.waitUntil(lambda: window.size().height() == height)
        window.go_bar.open()
        qtbot.keyClicks(window.go_bar.edit, f"{demo.guard:#x}")
        qtbot.keyClick(window.go_bar.edit, Qt.Key.Key_Return)
        row = (demo.guard - view.document.region.start) // view.bytes_per_row - view.first_row
        assert abs(row - view.rows_on_screen() // 2) <= 1, (row, view.rows_on_screen())
        wait_loaded(qtbot, ws.document)
        cell = ws.document.cell(demo.guard)
        assert cell.state == CellState.NO_ACCESS and cell.value is not None
        assert "no-access page" in view.viewport_tooltip(_cell_point(view, demo.guard))
        image = view.viewport().grab().toImage()
        point = _cell_point(view, demo.guard)
        colors = {image.pixelColor(point.x() + dx, point.y() + dy).name()
                  for dx in range(-2, 14) for dy in range(-6, 6)}
        assert view.colors.no_access_background.name() in colors
        assert view.colors.unreadable_background.name() not in colors


def _cell_point(view, address):
    from PySide6.QtCore import QPoint
    region = view.document.region
    lay = view.layout_
    row = (address - region.start) // view.bytes_per_row - view.first_row
    column = (address - region.start) % view.bytes_per_row
    return QPoint(int(lay.hex_cell_x(column) + lay.char_width) - view.horizontalScrollBar().value(),
                  int(view._header_height + row * lay.line_height + lay.line_height / 2))


def test_a_byte_the_child_changes_is_highlighted_after_refresh(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    ws = window.workspace
    demo.poke(demo.string + 40, b"Z")
    qtbot.waitUntil(lambda: ws.document.cell(demo.string + 40).state == CellState.CHANGED,
                    timeout=5000)
    assert ws.document.cell(demo.string + 40).value == ord("Z")


def test_killed_target_is_reported_and_the_ui_keeps_working(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    ws, view = window.workspace, window.editor.view
    last = ws.document.bytes_at(demo.string, 8)
    demo.kill()
    qtbot.waitUntil(lambda: ws.target.state == TargetState.EXITED, timeout=5000)
    qtbot.waitUntil(lambda: "exited" in window.state_label.text())
    assert window.editor.banner.isVisible() and "exited" in window.editor.banner.text()
    assert ws.document.bytes_at(demo.string, 8) == last
    view.setFocus()
    ws.cursor.move_to(demo.string)
    qtbot.keyClicks(view, "00")
    assert "read-only" in window.editor.message.text()
    # Still usable: navigate, select, copy.
    ws.go_to(f"{demo.string:#x}")
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert ws.selection_text("hex") == last[:2].hex(" ")


def test_copy_formats_from_the_selection(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    ws = window.workspace
    ws.cursor.move_to(demo.string)
    ws.cursor.move_to(demo.string + 4, select=True)
    window.editor.view.setFocus()
    window.copy("python")
    from PySide6.QtGui import QGuiApplication
    assert QGuiApplication.clipboard().text() == "b'" + "".join(f"\\x{b:02x}" for b in b"Hello") + "'"
    ws.cursor.move_to(demo.guard - 2)
    ws.cursor.move_to(demo.guard + 2, select=True)
    window.copy("hex")                  # the no-access page's bytes are real bytes
    tail = demo.peek(demo.guard - 2, 2)
    assert QGuiApplication.clipboard().text().replace(" ", "").lower() == \
        (tail + b"No-").hex()          # the selection includes its end


def test_search_finds_text_and_moves_the_cursor(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    ws = window.workspace
    bar = window.editor.search_bar
    bar.open()
    bar.kind.setCurrentText("utf8")
    qtbot.keyClicks(bar.needle, "lainview demo")
    qtbot.keyClick(bar.needle, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "match" in bar.result.text(), timeout=10000)
    assert ws.matches == [demo.string + len("Hello from the ")]
    assert ws.cursor.address == demo.string + len("Hello from the ")
    # An integer: the struct's magic.
    task = ws.spawn(ws.search(str(0x4E49414C), "u32"))
    qtbot.waitUntil(task.done, timeout=10000)
    assert task.result() == [demo.struct]


def test_dump_skips_and_reports_unreadable_pages(qtbot, window, demo, tmp_path):
    open_demo_window(qtbot, window, demo)
    ws = window.workspace
    path = tmp_path / "dump.bin"
    task = ws.spawn(ws.dump(ws.document.region, str(path)))
    qtbot.waitUntil(task.done, timeout=10000)
    outcome = task.result()
    data = path.read_bytes()
    assert len(data) == demo.size
    assert data[:256] == bytes(range(256))
    assert data[demo.string - demo.base:][:5] == b"Hello"
    assert data[demo.readonly - demo.base:][:9] == b"This page"
    assert outcome.unreadable == 4096 and outcome.holes[0].address == demo.guard
    assert "skipped" in outcome.summary()


def test_dump_can_be_cancelled(qtbot, slow_backend, demo, tmp_path, no_widgets_left):
    from lainview.models.workspace import Workspace
    ws = Workspace(slow_backend)
    window = MainWindow(ws)
    qtbot.addWidget(window)
    try:
        task = ws.spawn(ws.attach(demo.pid))
        qtbot.waitUntil(task.done, timeout=10000)
        stack = next(a for a in ws.target.areas if a.path == "[stack]")
        path = tmp_path / "stack.bin"
        task = ws.spawn(ws.dump(stack, str(path)))
        qtbot.waitUntil(lambda: JobKind.DUMP in ws.jobs)
        ws.jobs[JobKind.DUMP].future.progress  # noqa: B018 - progress is readable meanwhile
        ws.jobs[JobKind.DUMP].cancel()
        qtbot.waitUntil(task.done, timeout=10000)
        assert task.result() is None and not path.exists()
    finally:
        window.close()
        ws.stop()


def test_never_blocks_while_the_backend_is_slow(qtbot, slow_backend, demo, no_widgets_left):
    """Every backend request takes 250 ms; the event loop keeps running and
    typing lands while reads and writes are in flight."""
    from lainview.models.workspace import Workspace
    ws = Workspace(slow_backend)
    window = MainWindow(ws)
    qtbot.addWidget(window)
    window.show()
    line = QLineEdit()
    qtbot.addWidget(line)
    line.show()
    gaps = []
    last = [time.monotonic()]

    def tick():
        now = time.monotonic()
        gaps.append(now - last[0])
        last[0] = now
    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(5)
    try:
        task = ws.spawn(window.attach_and_open(demo.pid, None))
        qtbot.waitUntil(lambda: ws.target.state == TargetState.ATTACHING, timeout=2000)
        # While attaching (a 250 ms request), keys still land.
        line.setFocus()
        qtbot.keyClicks(line, "abc")
        assert line.text() == "abc" and not task.done()
        qtbot.waitUntil(task.done, timeout=10000)
        ws.open_span(demo.base, demo.base + demo.size, "demo", demo.string)
        qtbot.waitUntil(lambda: ws.document.inflight > 0)
        inflight_seen = 0
        for ch in "xyz":
            qtbot.keyClicks(line, ch)
            inflight_seen += ws.document.inflight > 0
        assert line.text() == "abcxyz" and inflight_seen >= 1
        write = ws.document.write(demo.string, b"Q")
        gaps.clear()
        last[0] = time.monotonic()
        qtbot.waitUntil(write.done, timeout=10000)
        assert demo.peek(demo.string, 1) == b"Q"
        assert max(gaps) < 0.1, f"the event loop stalled {max(gaps) * 1000:.0f} ms"
    finally:
        timer.stop()
        window.close()
        line.close()
        ws.stop()


def test_screenshot_command_renders_the_demo(tmp_path):
    """What the screenshot shows: the demo's three pages, their bytes read
    (none pending) and its PROT_NONE guard page as no-access cells."""
    import json
    path = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-m", "lainview", "--screenshot", str(path)],
                          env=env, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr
    shown = next(json.loads(line.split(" ", 1)[1]) for line in proc.stdout.splitlines()
                 if line.startswith("lainview-shown "))
    assert shown["state"] == "live" and shown["area"][1] - shown["area"][0] == 3 * 4096
    cells = shown["cells"]
    assert cells.get("pending", 0) == 0
    assert cells.get("no_access", 0) >= 16 and cells.get("readable", 0) >= 16
    from PySide6.QtGui import QImage
    assert not QImage(str(path)).isNull()
