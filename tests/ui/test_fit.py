"""The window fits small screens, and nothing it shows changes that: every
dock open, a scan with matches, a revert-all with 200 outcomes, long
messages, long paths and a long error (issue 12, Fit)."""

import os
import re
import subprocess
import sys

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics

from lainview.models.scan_model import ADDRESS, PREVIOUS, VALUE

from lainview.models.inspector_model import LITTLE
from lainview.models.journal_model import target_key
from lainview.ui.main_window import MINIMUM

from tests.models.qt_support import open_demo_window

LONG = "/very/long/path/" * 40 + "libsomething.so.6"


def _fits(size: QSize, goal: QSize = MINIMUM) -> bool:
    return size.width() <= goal.width() and size.height() <= goal.height()


def _dock_rects(window) -> dict:
    """Where each dock on screen is (a tab behind another is not)."""
    return {name: dock.geometry().getRect() for name, dock in window.docks.items()
            if dock.isVisible() and not dock.visibleRegion().isEmpty()}


def _open_every_dock(window) -> None:
    for dock in window.docks.values():
        dock.show()


def test_every_dock_open_the_window_fits_and_nothing_grows_it(qtbot, window, demo):
    _open_every_dock(window)
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.size() == QSize(1280, 720))
    assert _fits(window.minimumSizeHint()), window.minimumSizeHint()
    open_demo_window(qtbot, window, demo)
    ws = window.workspace
    window.show_dock("journal")
    qtbot.wait(50)
    before = _dock_rects(window)
    minimum = window.minimumSizeHint()

    # A scan with matches.
    panel = window.scanner_panel
    panel.type_combo.setCurrentText("u32")
    panel.value_edit.setText(str(0x4E49414C))          # the demo struct's magic, "LAIN"
    task = panel.start_first()
    qtbot.waitUntil(task.done, timeout=30000)
    qtbot.waitUntil(lambda: ws.scanner.matches.rowCount() >= 1, timeout=10000)
    _matches_show_every_column(qtbot, panel)

    # A watchpoint on the demo's counter, its hits listed live.
    watchpoint = window.features["watchpoint"]
    assert watchpoint.find(demo.counter, 8, False)
    qtbot.waitUntil(lambda: watchpoint.model.rowCount() >= 1, timeout=20000)
    watchpoint.model.stop()
    qtbot.waitUntil(lambda: not watchpoint.model.running, timeout=10000)
    window.show_dock("journal")

    # 200 journaled writes (each changes its byte: the string is ASCII, and
    # a write that changes nothing is not made), then revert them all.
    for i in range(200):
        ws.document.write(demo.string + i % 32, bytes([0x80 + i % 100]))
    qtbot.waitUntil(lambda: not ws.document.pending_writes, timeout=30000)
    journal = window.features["journal"].panel
    qtbot.waitUntil(lambda: len(ws.journal.entries) >= 200, timeout=20000)
    key = target_key(ws.journal.entries[-1])
    with qtbot.waitSignal(ws.journal.reverted, timeout=60000) as reverted:
        ws.journal.revert_target(key)
    assert len(reverted.args[0]) >= 200
    outcomes = reverted.args[0]
    assert journal.results.isVisible()
    assert len(journal.results.text().splitlines()) == len(outcomes)

    # Long messages, paths and errors everywhere text is shown.
    window.show_status("could not do it: " + LONG)
    window.editor.show_message("write failed: EFAULT at " + LONG)
    window.go_bar.open()
    qtbot.keyClicks(window.go_bar.edit, LONG[:300] + "+0x10")
    qtbot.keyClick(window.go_bar.edit, Qt.Key.Key_Return)
    assert "no module named" in window.go_bar.error.text()
    window.watch_docks.watch_panel.location.setText(LONG)
    window.watch_docks.watch_panel.add_button.click()
    panel._message("scan: " + LONG, error=True)
    _long_pointer_paths(qtbot, window)
    window.target_label.setText("pid 1 " + LONG)
    window.editor.title.setText(LONG)
    ws.status.emit(LONG)
    # Code: a disassembly of the interpreter's text and every module's symbols listed.
    code = window.features["code"]
    qtbot.waitUntil(lambda: ws.target.symbols is not None, timeout=10000)
    text = next(a for a in ws.target.areas if a.perms.letters.startswith("r-x"))
    code.disassemble(text.start)
    qtbot.waitUntil(lambda: bool(code.model.lines), timeout=10000)
    code.panel.go.setText(LONG + "!sym")
    code._go()
    code.modules_panel.search.setText("a")
    qtbot.waitUntil(lambda: len(code.symbols_model.symbols) > 0, timeout=10000)
    # Dissect: 512 slots of the demo (pointers named), a long name and note.
    dissect = window.features["dissect"]
    assert dissect.dissect(demo.base, 4096)
    qtbot.waitUntil(lambda: dissect.model.rowCount() == 512, timeout=10000)
    dissect.panel.name_edit.setText("x" * 300)
    dissect.panel.note.setText("dissect: " + LONG)
    qtbot.wait(50)
    assert _fits(window.minimumSizeHint()), window.minimumSizeHint()
    window.show_dock("inspector")                   # raised at the start
    window.show_dock("journal")                     # the tab raised before, as it was
    qtbot.wait(100)

    assert window.size() == QSize(1280, 720)
    assert _fits(window.minimumSizeHint()), window.minimumSizeHint()
    assert _fits(window.minimumSize())
    assert window.minimumSizeHint() == minimum
    assert _dock_rects(window) == before            # no dock jumped


def _long_pointer_paths(qtbot, window) -> None:
    """The pointer-scan dock, raised, with a long path, goal and message;
    then the scanner's tab is raised again."""
    from lainview.backend.locations import Location, LocationKind
    from lainview.backend.pointer_scan import PointerPath
    from lainview.models.watch_values import ValueType
    window.show_dock("pointer scan")
    pointers = window.workspace.pointers
    pointers.prepare(0x7FFF_FFFF_F000, ValueType.of("f64"), "watch: " + LONG)
    path = PointerPath(Location(LocationKind.MODULE, LONG, 0x1F40), (0x18,) * 16)
    pointers.results.set_paths([path] * 3, ValueType.of("f64"))
    window.features["pointer scan"].panel._message("pointer scan: " + LONG, error=True)
    qtbot.wait(50)
    assert window.size() == QSize(1280, 720)
    assert _fits(window.minimumSizeHint()), window.minimumSizeHint()
    window.show_dock("scanner")


def _matches_show_every_column(qtbot, panel) -> None:
    """The match table, at the window's size, shows a 16-digit address, an
    f64 of 17 significant digits and its previous value (in the cells' own
    font) and the area column, without scrolling sideways."""
    table, model = panel.table, panel.model
    font = model.data(model.index(0, ADDRESS), Qt.ItemDataRole.FontRole)
    metrics = QFontMetrics(QFont(font).resolve(table.font()))
    address = metrics.horizontalAdvance("f" * 16)
    value = metrics.horizontalAdvance(repr(-(0.1 + 0.2)))    # an f64's shortest form
    assert table.viewport().width() >= address + 2 * value, (table.viewport().width(),
                                                               address, value)
    assert table.columnWidth(ADDRESS) >= address
    assert table.columnWidth(VALUE) >= value and table.columnWidth(PREVIOUS) >= value
    qtbot.waitUntil(lambda: table.horizontalScrollBar().maximum() == 0)
    area = table.horizontalHeader().sectionViewportPosition(3)
    assert area + metrics.horizontalAdvance("[heap]") <= table.viewport().width()


def test_the_scanner_handle_is_remembered(qtbot, window, tmp_path):
    from lainview.ui.scanner_panel import ScannerPanel
    window.resize(1280, 720)
    window.show_dock("scanner")
    panel = window.scanner_panel
    qtbot.waitUntil(lambda: panel.form_scroll.height() > 0)
    splitter = panel.splitter
    assert splitter.orientation() == Qt.Orientation.Vertical     # a bottom dock at 1280 px
    first = splitter.sizes()[0]
    splitter.moveSplitter(first - 40, 1)
    moved = splitter.sizes()[0]
    assert moved < first
    again = ScannerPanel(window.workspace.scanner)
    qtbot.addWidget(again)
    again.resize(panel.size())
    again.show()
    qtbot.waitUntil(lambda: again.splitter.sizes()[0] == moved)


def test_the_cursor_position_always_shows_the_whole_address(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    window.resize(1024, 640)
    qtbot.waitUntil(lambda: window.size() == QSize(1024, 640))
    ws = window.workspace
    ws.cursor.move_to(demo.string)
    ws.cursor.move_to(demo.string + 100, select=True)
    qtbot.wait(20)
    position = window.editor.position
    digits = QFontMetrics(position.font()).horizontalAdvance("0x" + "0" * 16)
    assert position.width() >= digits
    assert position.elided_text().startswith(f"{demo.string + 100:#x}")


def test_the_inspector_opens_wide_enough_for_a_64_bit_value(qtbot, workspace, no_widgets_left):
    from lainview.ui.main_window import MainWindow
    window = MainWindow(workspace)            # a first start on a 1280x720 screen
    qtbot.addWidget(window)
    window.resize(1280 * 92 // 100, 720 * 92 // 100)
    window.show()
    try:
        table = window.inspector_panel.table
        needed = table.fontMetrics().horizontalAdvance("-9223372036854775808")
        qtbot.waitUntil(lambda: table.columnWidth(LITTLE) >= needed, timeout=5000)
    finally:
        window.close()


def test_reset_layout_restores_the_default(qtbot, window):
    qtbot.wait(50)                      # the first start's layout is in place
    default = _dock_rects(window)
    window.docks["inspector"].close()
    window.docks["scanner"].setFloating(True)
    window.resizeDocks([window.docks["memory map"]], [700], Qt.Orientation.Horizontal)
    qtbot.wait(20)
    assert _dock_rects(window) != default
    reset = next(a for menu, a in window.registered_actions() if "Reset" in a.text())
    window.resize(1000, 700)
    reset.trigger()
    qtbot.waitUntil(lambda: _dock_rects(window) == default, timeout=5000)
    assert not window.docks["scanner"].isFloating()


def _window_report(scale: int, width: int, height: int, tmp_path) -> dict:
    """Render the demo on an offscreen screen of width x height device
    pixels at QT_SCALE_FACTOR=scale; the sizes --screenshot reports."""
    config = tmp_path / "screen.json"
    config.write_text('{"screens": [{"name": "s", "x": 0, "y": 0, "width": %d, "height": %d, '
                      '"logicalDpi": 96, "dpr": 1}]}' % (width, height))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}",
               QT_SCALE_FACTOR=str(scale))
    shot = tmp_path / "shot.png"
    proc = subprocess.run([sys.executable, "-m", "lainview", "--screenshot", str(shot)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    m = re.search(r"window (\d+)x(\d+), minimum (\d+)x(\d+), screen (\d+)x(\d+)", proc.stdout)
    assert m, proc.stdout
    w, h, mw, mh, sw, sh = map(int, m.groups())
    return dict(window=QSize(w, h), minimum=QSize(mw, mh), screen=QSize(sw, sh))


def test_fits_1280x720_at_scale_1_and_2560x1440_at_scale_2(tmp_path):
    for scale, width, height in ((1, 1280, 720), (2, 2560, 1440)):
        report = _window_report(scale, width, height, tmp_path)
        assert report["screen"] == QSize(1280, 720)                  # logical pixels
        assert _fits(report["window"], report["screen"]), report
        assert _fits(report["minimum"]), report


def test_the_scanner_form_goes_beside_the_matches_only_when_both_fit(qtbot, workspace,
                                                                     no_widgets_left):
    """A wide dock: form and matches side by side, the table as wide as its
    columns need; narrower: the form above, the table the dock's width."""
    from lainview.ui.scanner_panel import ScannerPanel
    panel = ScannerPanel(workspace.scanner)
    qtbot.addWidget(panel)
    panel.show()
    table = panel.table
    panel.resize(1400, 300)
    qtbot.waitUntil(lambda: panel.splitter.orientation() == Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: table.width() >= panel.results_width())
    assert panel.form_scroll.width() >= panel.form.minimumSizeHint().width()
    panel.resize(700, 360)
    qtbot.waitUntil(lambda: panel.splitter.orientation() == Qt.Orientation.Vertical)
    qtbot.waitUntil(lambda: table.width() >= panel.width() - 20)
    assert panel.form_scroll.height() + table.height() <= panel.height()
    panel.close()


def test_a_first_start_at_1280x720_shows_the_whole_scanner_form_and_map_columns(qtbot, window,
                                                                                 demo):
    """At the size a 1280x720 screen opens the window (1177x662): the
    scanner's form is whole (its "Also scan" row was cut in half), the memory
    map shows whole Start and End columns, and the hex view gets the rest
    of the top row, its whole row where the inspector's 64-bit width and
    the map's columns leave room (a 1920 px window shows every column)."""
    from tests.models.qt_support import open_demo_window
    open_demo_window(qtbot, window, demo)
    for width, height in ((1177, 662), (1766, 993)):
        window.resize(width, height)
        qtbot.waitUntil(lambda: window.width() == width, timeout=5000)
        window._apply_default_sizes()           # what a first start does at this size
        qtbot.wait(100)
        scanner = window.scanner_panel
        assert scanner.form_scroll.viewport().height() >= scanner.form.sizeHint().height()
        assert window.docks["memory map"].width() >= window.vma_panel.least_width() - 2
        view = window.editor.view
        inspector = window.docks["inspector"].width()
        assert inspector >= window.inspector_panel.default_width() - 2
        left = width - window.vma_panel.least_width() - inspector - 40
        assert view.width() >= min(view.full_width(), left), (view.width(), view.full_width())
        if width > 1700:
            assert view.width() >= view.full_width()
