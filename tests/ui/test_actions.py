"""Every menu action and every shortcut does what it says, without an error
(issue 12: keys and actions that did nothing or raised)."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QTableWidget

from lainview.models import tasks
from lainview.ui.main_window import KeysDialog

from tests.models.qt_support import open_demo_window


def _no_file_dialogs(monkeypatch):
    for name in ("getSaveFileName", "getOpenFileName"):
        monkeypatch.setattr(QFileDialog, name, staticmethod(lambda *a, **k: ("", "")))


def _close_other_windows(window):
    for widget in QApplication.topLevelWidgets():
        if widget is not window and widget.isVisible() and widget.isWindow():
            widget.close()


def _errors():
    errors: list[str] = []
    remove = tasks.add_reporter(errors.append)
    return errors, remove


def test_every_menu_action_runs_without_error(qtbot, window, demo, monkeypatch):
    _no_file_dialogs(monkeypatch)
    open_demo_window(qtbot, window, demo)
    errors, remove = _errors()
    try:
        quit_action = None
        for menu, action in window.registered_actions():
            if action.text() == "&Quit":
                quit_action = action
                continue
            action.trigger()
            qtbot.wait(10)
            _close_other_windows(window)
            window.activateWindow()
        assert errors == []
        # The focus actions show their dock and focus its table (Alt+4/5/6
        # raised AttributeError: 'bool' object has no attribute 'show').
        for text, name in (("Focus the &watch list", "watch"), ("Focus the &bookmarks", "bookmarks"),
                           ("Focus the write &journal", "journal")):
            action = next(a for _m, a in window.registered_actions() if a.text() == text)
            window.docks[name].close()
            action.trigger()
            assert window.docks[name].isVisible()
        assert quit_action is not None
        quit_action.trigger()
        qtbot.waitUntil(lambda: not window.isVisible())
    finally:
        remove()


def test_every_shortcut_reaches_its_action(qtbot, window, demo, monkeypatch):
    _no_file_dialogs(monkeypatch)
    open_demo_window(qtbot, window, demo)
    write = window.workspace.document.write(demo.string, b"Q")       # something to undo
    qtbot.waitUntil(lambda: write.done() and window.undo_action.isEnabled(), timeout=10000)
    window.activateWindow()
    qtbot.waitActive(window)
    fired: dict[int, int] = {}
    pairs = [(a, key) for _menu, a in window.registered_actions() for key in a.shortcuts()
             if a.text() != "&Quit"]
    assert len(pairs) >= 25
    for action in {id(a): a for a, _key in pairs}.values():
        action.triggered.connect(lambda _c=False, k=id(action): fired.__setitem__(
            k, fired.get(k, 0) + 1))
    missed = []
    for action, key in pairs:
        if action is window.redo_action and key == pairs_first(pairs, action):
            qtbot.waitUntil(action.isEnabled, timeout=10000)     # once the undo is done
        if not action.isEnabled():          # redo's second key, with nothing left to redo
            continue
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
        before = fired.get(id(action), 0)
        window.editor.view.setFocus()
        QTest.keySequence(window.editor.view, key)
        qtbot.wait(5)
        if fired.get(id(action), 0) == before:
            missed.append((key.toString(), action.text()))
        _close_other_windows(window)
        window.activateWindow()
    assert missed == [], missed
    assert fired.get(id(window.undo_action)) == 1 and fired.get(id(window.redo_action), 0) >= 1


def pairs_first(pairs, action):
    return next(key for a, key in pairs if a is action)


def test_escape_closes_the_find_bar_and_the_go_to_bar(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    bar = window.editor.search_bar
    bar.open()
    assert bar.isVisible()
    qtbot.keyClick(bar.needle, Qt.Key.Key_Escape)
    assert not bar.isVisible()
    window.go_bar.open()
    qtbot.keyClick(window.go_bar.edit, Qt.Key.Key_Escape)
    assert not window.go_bar.isVisible()


def test_f1_is_a_table_of_every_shortcut(qtbot, window):
    dialog = window.show_keys()
    qtbot.addWidget(dialog)
    assert isinstance(dialog, KeysDialog) and isinstance(dialog.table, QTableWidget)
    rows = dialog.rows()
    for _menu, action in window.registered_actions():
        for key in action.shortcuts():
            text = key.toString(QKeySequence.SequenceFormat.NativeText)
            assert any(text in keys.split(" / ") for keys, _what, _where in rows), text
    assert ("Alt+4", "Focus the watch list", "Go") in rows
    assert any(keys == "Tab" and where == "hex view" for keys, _w, where in rows)
    dialog.close()


def test_go_to_a_number_past_64_bits_says_out_of_range(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    window.go_bar.open()
    qtbot.keyClicks(window.go_bar.edit, "0xffffffffffffffffffff")
    qtbot.keyClick(window.go_bar.edit, Qt.Key.Key_Return)
    assert "address out of range" in window.go_bar.error.text()
    window.go_bar.edit.setText("[heap]+0x10000000000000000")
    qtbot.keyClick(window.go_bar.edit, Qt.Key.Key_Return)
    assert "offset out of range" in window.go_bar.error.text()
    window.go_bar.edit.setText("[heap]+0xffffffffffffffff")
    qtbot.keyClick(window.go_bar.edit, Qt.Key.Key_Return)
    assert "offset 0xffffffffffffffff is past the end of [heap]" in window.go_bar.error.text()


def test_a_scan_match_double_clicked_is_centred(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    ws, view = window.workspace, window.editor.view
    ws.cursor.move_to(demo.base)
    panel = window.scanner_panel
    panel.type_combo.setCurrentText("u32")
    panel.value_edit.setText(str(0x4E49414C))          # the demo struct's magic
    task = panel.start_first()
    qtbot.waitUntil(task.done, timeout=30000)
    model = ws.scanner.matches
    row = next(r for r in range(model.rowCount()) if model.address(r) == demo.struct)
    index = model.index(row, 0)
    panel.table.doubleClicked.emit(index)
    assert ws.cursor.address == demo.struct
    shown = (demo.struct - view.document.region.start) // view.bytes_per_row - view.first_row
    assert abs(shown - view.rows_on_screen() // 2) <= 1
