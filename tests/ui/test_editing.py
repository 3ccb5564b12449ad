"""Editing in the real window against the demo target, whose counter changes
every 100 ms: what the user types is what is written, once, and journaled
once (issue 12, "never lose what the user types" and "one edit, one journal
entry")."""

from __future__ import annotations

import struct

from PySide6.QtCore import Qt

from lainview.models.inspector_model import LITTLE
from lainview.models.watch_model import VALUE

from tests.models.qt_support import open_demo_window, open_editor



def _journal(ws, pid):
    return ws.backend.journal_entries(pid).result()


def _type_slowly(qtbot, editor, text: str, refreshed) -> None:
    """One key per live refresh: ``refreshed()`` is a counter that must move
    between keystrokes (so every key lands after at least one update)."""
    for ch in text:
        before = refreshed()
        qtbot.waitUntil(lambda: refreshed() >= before + 2, timeout=10000)
        qtbot.keyClicks(editor, ch)
    before = refreshed()
    qtbot.waitUntil(lambda: refreshed() >= before + 2, timeout=10000)


def test_inspector_editor_keeps_what_is_typed_while_the_counter_changes(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    ws = window.workspace
    ws.cursor.move_to(demo.counter)
    table = window.inspector_panel.table
    index = ws.inspector.index(ws.inspector.names.index("u64"), LITTLE)
    qtbot.waitUntil(lambda: index.data() not in ("…", "??"), timeout=10000)
    editor = open_editor(qtbot, table, index)
    _type_slowly(qtbot, editor, "100", lambda: ws.document.refresh_count)
    assert editor.text() == "100"
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(_journal(ws, demo.pid)) == 1, timeout=10000)
    entry = _journal(ws, demo.pid)[0]
    assert (entry.address, entry.new) == (demo.counter, struct.pack("<Q", 100))


def test_watch_editor_keeps_what_is_typed_while_the_counter_changes(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    ws = window.workspace
    entry = ws.watch.add_address(demo.counter, "u64", label="counter")
    qtbot.waitUntil(lambda: entry.data is not None, timeout=10000)
    panel = window.watch_docks.watch_panel
    window.watch_docks.watch_dock.show()
    window.watch_docks.watch_dock.raise_()
    qtbot.waitUntil(panel.table.isVisible, timeout=5000)
    editor = open_editor(qtbot, panel.table, ws.watch.index(0, VALUE))
    _type_slowly(qtbot, editor, "555", lambda: ws.watch.ticks)
    assert editor.text() == "555"
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(_journal(ws, demo.pid)) == 1, timeout=10000)
    written = _journal(ws, demo.pid)[0]
    assert (written.address, written.new) == (demo.counter, struct.pack("<Q", 555))


def test_hex_typing_journals_one_entry_per_changed_byte(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    ws, view = window.workspace, window.editor.view
    ws.cursor.move_to(demo.string)              # "Hello" = 48 65 6c 6c 6f
    view.setFocus()
    qtbot.keyClicks(view, "4a")
    qtbot.waitUntil(lambda: demo.peek(demo.string, 1) == b"\x4a", timeout=10000)
    qtbot.keyClicks(view, "f401")
    qtbot.keyClicks(view, "6c")                 # over 6c: changes nothing
    qtbot.waitUntil(lambda: demo.peek(demo.string, 4) == b"\x4a\xf4\x01l", timeout=10000)
    assert ws.cursor.address == demo.string + 4
    qtbot.waitUntil(lambda: not ws.document.pending_writes, timeout=10000)
    journal = _journal(ws, demo.pid)
    assert [(e.address - demo.string, e.old.hex(), e.new.hex()) for e in journal] == [
        (0, "48", "4a"), (1, "65", "f4"), (2, "6c", "01")]
    assert ws.document.undo_stack.count() == 3


def test_non_hex_keys_in_the_hex_column_say_why(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    ws, view = window.workspace, window.editor.view
    ws.cursor.move_to(demo.string)
    view.setFocus()
    with qtbot.waitSignal(view.status_message, timeout=2000) as blocker:
        qtbot.keyClicks(view, "z")
    assert "'z' is not a hex digit" in blocker.args[0]
    assert ws.cursor.address == demo.string and _journal(ws, demo.pid) == []


def test_enter_on_an_unchanged_value_writes_nothing(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    ws = window.workspace
    health = ws.watch.add_address(demo.struct + 4, "i32", label="health")
    qtbot.waitUntil(lambda: health.data is not None, timeout=10000)
    panel = window.watch_docks.watch_panel
    window.watch_docks.watch_dock.show()
    window.watch_docks.watch_dock.raise_()
    qtbot.waitUntil(panel.table.isVisible, timeout=5000)
    editor = open_editor(qtbot, panel.table, ws.watch.index(0, VALUE))
    assert editor.text() == "100"
    with qtbot.waitSignal(ws.watch.status, timeout=10000) as blocker:
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert blocker.args[0] == "health already holds 100: nothing written"
    # The inspector: the same value typed again writes nothing either.
    ws.cursor.move_to(demo.struct + 4)
    i32 = ws.inspector.index(ws.inspector.names.index("i32"), LITTLE)
    qtbot.waitUntil(lambda: i32.data() == "100", timeout=10000)
    with qtbot.waitSignal(ws.document.inline_message, timeout=10000,
                          check_params_cb=lambda t: t.startswith("nothing written")):
        assert ws.inspector.setData(i32, "100")
    assert _journal(ws, demo.pid) == []


# -- the kernel source has one owner ------------------------------------------------------------

def test_one_kernel_service_from_the_options_serves_watch_journal_and_browser(
        qtbot, gui_backend, tmp_path, no_widgets_left):
    from lainview.app import kernel_options, parse_args
    from lainview.models.workspace import Workspace
    from lainview.ui.main_window import MainWindow
    from tests.kernel_image import build_image
    image = str(build_image(tmp_path))
    options = kernel_options(parse_args(["--ksource", "image", "--image", image]))
    ws = Workspace(gui_backend, kernel_options=options)
    window = MainWindow(ws)
    qtbot.addWidget(window)
    try:
        window.show()
        # kernel:NAME in the watch list reads through it, no browser needed.
        entry = ws.watch.add_text("kernel:counter", "u32", "counter")
        qtbot.waitUntil(lambda: entry.data is not None or entry.error != "", timeout=10000)
        assert ws.watch.data(ws.watch.index(0, VALUE)) == str(0x11223344), entry.error
        browser = window.show_kernel_symbols()
        assert browser.workspace.kernel is ws.kernel is ws.watch.kernel
        # The journal's reverts reach kernel writes through the same service.
        assert ws.journal.backend.revert_targets["kernel"] == ws.kernel.reverter
        qtbot.waitUntil(lambda: browser.workspace.info is not None, timeout=10000)
        assert browser.workspace.info.source == "image"
    finally:
        window.close()
        ws.stop()


# -- small fixes ---------------------------------------------------------------------------------

def test_a_search_selects_the_whole_match(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    ws = window.workspace
    bar = window.editor.search_bar
    bar.open()
    bar.kind.setCurrentText("utf8")
    qtbot.keyClicks(bar.needle, "demo")
    qtbot.keyClick(bar.needle, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "match" in bar.result.text(), timeout=10000)
    first = demo.string + len("Hello from the lainview ")
    assert ws.matches[0] == first
    assert ws.cursor.selection == (first, first + 4) and ws.cursor.address == first
    assert ws.cursor.selected(first + 3) and not ws.cursor.selected(first + 4)
    ws.cursor.move_to(demo.base)
    ws.next_match(+1)                           # F3: the whole match again
    assert ws.cursor.selection == (first, first + 4)


def test_ctrl_w_on_an_8_byte_selection_watches_8_bytes(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    ws, view = window.workspace, window.editor.view
    ws.cursor.move_to(demo.counter)
    view.setFocus()
    for _ in range(7):
        qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert ws.cursor.selection == (demo.counter, demo.counter + 8)
    qtbot.keyClick(view, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    entry = ws.watch.entries[-1]
    assert entry.vtype.size == 8 and entry.address == demo.counter, entry.vtype
    # Selected with the mouse: 8 bytes of the struct.
    from tests.ui.test_watch_ui import _point_of
    view.ensure_visible(demo.struct)
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=_point_of(view, demo.struct))
    qtbot.mouseMove(view.viewport(), _point_of(view, demo.struct + 7))
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton,
                       pos=_point_of(view, demo.struct + 7))
    assert ws.cursor.selection == (demo.struct, demo.struct + 8)
    qtbot.keyClick(view, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    entry = ws.watch.entries[-1]
    assert entry.vtype.size == 8 and entry.address == demo.struct, entry.vtype


def test_duplicate_watches_are_refused(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    watch = window.workspace.watch
    first = watch.add_address(demo.struct + 4, "i32", label="health")
    with qtbot.waitSignal(watch.status) as said:
        again = watch.add_address(demo.struct + 4, "i32")
    assert again is first and len(watch.entries) == 1
    assert said.args[0] == "already watched: memfd:lainview-demo+0xf84 as i32 (row 1)"
    other = watch.add_address(demo.struct + 4, "u32")      # another type is another watch
    assert other is not first and len(watch.entries) == 2
    # A session listing one location twice: watched once.
    saved = watch.to_json()
    watch.replace_entries(watch.parse_json(saved + saved[:1]))
    assert [e.vtype.label for e in watch.entries] == ["i32", "u32"]


def _demo_session(qtbot, window, demo, tmp_path) -> str:
    """The demo open in the window, its counter watched, saved as a session."""
    open_demo_window(qtbot, window, demo)
    ws, docks = window.workspace, window.watch_docks
    ws.watch.add_address(demo.counter, "u64", label="counter")
    path = str(tmp_path / "s.lainview")
    task = ws.spawn(ws.sessions.save(path, docks.view_settings()))
    qtbot.waitUntil(task.done, timeout=10000)
    assert task.result() is True
    return path


def test_opening_a_session_asks_before_replacing_the_watch_list(qtbot, window, demo, tmp_path):
    path = _demo_session(qtbot, window, demo, tmp_path)
    ws, docks = window.workspace, window.watch_docks
    ws.watch.add_address(demo.struct + 4, "i32", label="health")
    task = docks.open_session(path)                    # reads the file, then asks
    qtbot.waitUntil(lambda: docks.replace_question is not None, timeout=10000)
    box = docks.replace_question
    assert box.isVisible()
    assert "replaces the current watch list, bookmarks and structure (2 watched values)" \
        in box.text()
    box.button(box.StandardButton.Cancel).click()
    qtbot.waitUntil(task.done, timeout=5000)
    assert task.result() == "kept" and docks.replace_question is None
    assert [e.label for e in ws.watch.entries] == ["counter", "health"]
    # a bad session file is refused before anything is asked
    bad = tmp_path / "bad.lainview"
    bad.write_text(open(path).read().replace('"watch"', '"watch": 3, "x"', 1))
    task = docks.open_session(str(bad))
    qtbot.waitUntil(task.done, timeout=10000)
    assert task.result() == "invalid" and docks.replace_question is None
    assert [e.label for e in ws.watch.entries] == ["counter", "health"]
    docks.open_session(path)
    qtbot.waitUntil(lambda: docks.replace_question is not None, timeout=10000)
    replace = next(b for b in docks.replace_question.buttons() if b.text() == "Replace")
    replace.click()
    qtbot.waitUntil(lambda: docks.opening is not None and docks.opening.done(), timeout=10000)
    assert docks.opening.result() == "opened"
    assert [e.label for e in ws.watch.entries] == ["counter"]


def test_the_header_of_a_mixed_span_shows_each_permission(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    detail = window.editor.detail.text()
    assert "rw-p + ---s + r--p" in detail, detail
    window.workspace.open_area(next(a for a in window.workspace.target.areas
                                    if a.start == demo.readonly))
    assert "· r--p ·" in window.editor.detail.text()


def test_the_picker_counts_shown_greyed_processes_and_drops_stale_tooltips(qtbot, window,
                                                                           demo):
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QToolTip

    from lainview.models.process_model import INFO_ROLE
    picker = window.show_picker()
    qtbot.waitUntil(lambda: picker.model.rowCount() > 0, timeout=10000)
    blocked = [p for p in (picker.model.process(r) for r in range(picker.model.rowCount()))
               if not p.attachable]
    QToolTip.showText(picker.table.viewport().mapToGlobal(QPoint(5, 5)), "pid 1: stale",
                      picker.table.viewport())
    assert QToolTip.isVisible()
    qtbot.keyClicks(picker.filter, f"{demo.pid}")
    # Qt hides a tooltip 300 ms after being asked to; left alone it stays 10 s.
    qtbot.waitUntil(lambda: not QToolTip.isVisible(), timeout=2000)
    # Only the demo is shown, and it can be attached to: none of the greyed-out
    # processes elsewhere in the list is counted.
    assert picker.proxy.rowCount() == 1 and blocked
    assert "greyed out" not in picker.status.text(), picker.status.text()
    picker.filter.setText("kthreadd")       # a kernel thread: greyed out, and shown
    shown_blocked = sum(not picker.proxy.data(picker.proxy.index(r, 0), INFO_ROLE).attachable
                        for r in range(picker.proxy.rowCount()))
    assert shown_blocked >= 1
    assert f"· {shown_blocked} of them greyed out" in picker.status.text()
    picker.reject()


def test_a_session_opens_on_the_attached_process_when_another_runs_it_too(qtbot, window,
                                                                          demo, tmp_path):
    """Two demos run; the window is attached to one: opening its session
    uses the attached process without asking which (it asked "pick one"
    whenever a second demo ran on the machine)."""
    from tests.models.qt_support import start_demo
    path = _demo_session(qtbot, window, demo, tmp_path)
    ws = window.workspace
    ws.watch.remove_rows(list(range(len(ws.watch.entries))))
    second = start_demo()
    try:
        task = ws.spawn(ws.sessions.open(path))
        qtbot.waitUntil(task.done, timeout=10000)
        assert task.result() == "opened" and ws.target.pid == demo.pid
        assert [e.label for e in ws.watch.entries] == ["counter"]
    finally:
        second.kill()
