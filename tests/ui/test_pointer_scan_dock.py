"""The pointer-scan dock in the real window, against a compiled C child
holding a pointer chain (tests/c/pointer_chain.c): a scan started from a
watch entry finds the chain, a result goes to the watch list, and the
watch follows the chain when the child moves the value."""

from __future__ import annotations

import threading

from PySide6.QtGui import QGuiApplication

from lainview.backend.locations import locate
from lainview.models.pointer_scan_model import ADDRESS, PATH, VALUE as PTR_VALUE
from lainview.models.watch_model import VALUE as WATCH_VALUE

from tests.models.qt_support import attach
from tests.pointer_chain_support import chain_child  # noqa: F401


def _scan_from_watch(qtbot, window, chain_child):  # noqa: F811
    ws = window.workspace
    attach(qtbot, ws, chain_child.pid)
    entry = ws.watch.add_address(chain_child.value, "u32", label="value")
    qtbot.waitUntil(lambda: entry.data is not None, timeout=10000)
    # The watch list's context menu: Find pointers to this…
    window.watch_docks.watch_panel.find_pointers.emit(entry)
    panel = window.features["pointer scan"].panel
    assert window.docks["pointer scan"].isVisible()
    assert f"{chain_child.value:#x}" in panel.goal.text() and "value" in panel.goal.text()
    panel.depth_box.setValue(3)
    task = panel.start()
    assert task is not None
    qtbot.waitUntil(task.done, timeout=60000)
    assert task.result() == "done", ws.pointers.last_message
    return ws, panel, entry


def test_a_scan_from_a_watch_entry_lists_the_chain(qtbot, qtmodeltester, window,
                                                   chain_child):  # noqa: F811
    ws, panel, _entry = _scan_from_watch(qtbot, window, chain_child)
    model = panel.model
    qtmodeltester.check(model)
    assert model.rowCount() >= 1
    want = f"{locate(chain_child.info['global'], ws.target.areas).text}->+0x18->+0x8"
    texts = [model.data(model.index(r, PATH)) for r in range(model.rowCount())]
    assert want in texts, texts
    row = texts.index(want)
    panel.table.scrollTo(model.index(row, PATH))
    # The visible rows are resolved and read: the address now and the value.
    qtbot.waitUntil(lambda: model.data(model.index(row, PTR_VALUE)) == "1000", timeout=10000)
    assert model.data(model.index(row, ADDRESS)) == f"{chain_child.value:012x}"
    assert "listed" in panel.summary.text()
    panel.table.selectRow(row)
    panel.copy_button.click()
    assert QGuiApplication.clipboard().text() == want


def test_the_first_result_goes_to_the_watch_list_and_follows_the_chain(
        qtbot, window, chain_child):  # noqa: F811
    ws, panel, _entry = _scan_from_watch(qtbot, window, chain_child)
    model = panel.model
    first = model.path(0)
    panel.table.selectRow(0)
    assert panel.watch_button.isEnabled()
    panel.watch_button.click()
    entry = ws.watch.entries[-1]
    assert entry.location.steps == first.offsets and entry.location.text == first.text
    assert entry.label == "value"
    assert window.docks["watch"].isVisible()
    watch = ws.watch
    shown = lambda: watch.data(watch.index(watch.row_of(entry), WATCH_VALUE))  # noqa: E731
    qtbot.waitUntil(lambda: shown() == "1000", timeout=10000)
    assert entry.address == chain_child.value
    # The child moves the value and changes it: the watch follows the chain.
    before = chain_child.value
    chain_child.command("move")
    chain_child.command("set 4321")
    assert chain_child.value != before
    qtbot.waitUntil(lambda: shown() == "4321", timeout=10000)
    assert entry.address == chain_child.value
    # The plain watch the scan started from still reads the old address.
    assert ws.watch.entries[0].address == before


def test_rescan_by_value_keeps_the_paths_that_still_lead_to_it(qtbot, window,
                                                                chain_child):  # noqa: F811
    ws, panel, _entry = _scan_from_watch(qtbot, window, chain_child)
    model = panel.model
    before = model.rowCount()
    chain_child.command("move")
    chain_child.command("set 31337")
    panel.rescan_by.setCurrentIndex(panel.rescan_by.findData("value"))
    panel.rescan_edit.setText("31337")
    task = panel.rescan()
    qtbot.waitUntil(task.done, timeout=30000)
    assert task.result() == "done", ws.pointers.last_message
    kept = [model.path(r).text for r in range(model.rowCount())]
    want = f"{locate(chain_child.info['global'], ws.target.areas).text}->+0x18->+0x8"
    assert want in kept and len(kept) < before, kept
    assert "kept" in ws.pointers.last_message
    assert not panel.origin.isVisible()


def test_results_from_a_process_that_exited_say_so(qtbot, window, chain_child):  # noqa: F811
    ws, panel, _entry = _scan_from_watch(qtbot, window, chain_child)
    chain_child.stop()
    ws.refresh_areas()
    qtbot.waitUntil(lambda: panel.origin.isVisible(), timeout=10000)
    assert "which has exited" in panel.origin.text()
    assert ws.pointers.rescan(address=0x1000) is None
    assert "no live target" in ws.pointers.last_message


def test_find_pointers_from_the_hex_view_and_cancel(qtbot, window, chain_child):  # noqa: F811
    ws = window.workspace
    attach(qtbot, ws, chain_child.pid)
    window.show_address(chain_child.value)
    assert ws.cursor.address == chain_child.value
    texts = [a.text() for _menu, a in window.registered_actions()]
    assert "Find &pointers to the cursor…" in texts
    assert ("View", "Pointer scan") in [(m, a.text()) for m, a in window.registered_actions()]
    feature = window.features["pointer scan"]
    feature.find_for_cursor()
    request = ws.pointers.request
    assert request is not None and request.address == chain_child.value
    assert request.label == "hex view"
    assert window.docks["pointer scan"].isVisible()
    panel = feature.panel
    # The backend thread is held: the scan waits its turn, and Cancel stops
    # it before it starts (a small target's scan could finish first).
    gate = threading.Event()
    busy = ws.backend.thread.submit(gate.wait, 30)
    task = panel.start()
    assert task is not None and panel.cancel_button.isVisibleTo(panel)
    assert ws.pointers.start() is None and "running" in ws.pointers.last_message
    ws.pointers.cancel()
    gate.set()
    qtbot.waitUntil(lambda: task.done() and busy.done(), timeout=30000)
    assert task.result() == "cancelled"
    assert "cancelled" in panel.message.text()
    assert not ws.pointers.running and not panel.cancel_button.isVisibleTo(panel)
    # Bad input in the form: one line, nothing starts.
    panel.max_offset.setText("lots")
    assert panel.start() is None
    assert "not a hex number" in panel.message.text()


def test_a_restarted_program_rescanned_keeps_the_chain(qtbot, window, chain_child,
                                                        tmp_path):  # noqa: F811
    from tests.pointer_chain_support import start
    ws, panel, _entry = _scan_from_watch(qtbot, window, chain_child)
    want = f"{locate(chain_child.info['global'], ws.target.areas).text}->+0x18->+0x8"
    chain_child.stop()
    second = start(tmp_path / "pointer_chain")        # the same program, run again
    try:
        attach(qtbot, ws, second.pid)
        qtbot.waitUntil(lambda: panel.origin.isVisible(), timeout=10000)
        assert f"pid {chain_child.pid}" in panel.origin.text()
        second.command("set 2024")
        panel.rescan_by.setCurrentIndex(panel.rescan_by.findData("value"))
        panel.rescan_edit.setText("2024")
        task = panel.rescan()
        qtbot.waitUntil(task.done, timeout=30000)
        assert task.result() == "done", ws.pointers.last_message
        kept = [panel.model.path(r).text for r in range(panel.model.rowCount())]
        assert want in kept, kept
        assert not panel.origin.isVisible()
        # The kept path, bookmarked from the watch list, follows the chain there.
        row = kept.index(want)
        entry = window.features["pointer scan"].watch_result(row)
        window.watch_docks.watch_panel.bookmark.emit(entry)
        mark = ws.bookmarks.bookmarks[-1]
        assert mark.location == entry.location
        qtbot.waitUntil(lambda: mark.address == second.value, timeout=10000)
    finally:
        second.stop()


def test_a_closed_pointer_scan_dock_reads_no_rows(qtbot, window, chain_child):  # noqa: F811
    """Only rows on screen are resolved: closing the dock stops the reads,
    opening it again resumes them."""
    _ws, panel, _entry = _scan_from_watch(qtbot, window, chain_child)
    model = panel.model
    qtbot.waitUntil(lambda: len(model._visible_rows()) > 0, timeout=10000)
    window.docks["pointer scan"].close()
    qtbot.waitUntil(lambda: len(model._visible_rows()) == 0, timeout=5000)
    interval = model._timer.interval()
    qtbot.wait(interval)                       # a read already in flight lands
    count = model.refresh_count
    qtbot.wait(4 * interval)
    assert model.refresh_count == count
    window.docks["pointer scan"].show()
    qtbot.waitUntil(lambda: model.refresh_count > count, timeout=10000)


def test_refreshes_that_read_the_same_repaint_no_result_row(qtbot, window, chain_child):  # noqa: F811
    """The visible paths are resolved and read twice a second; rows whose
    address and value read the same are not announced (not repainted)."""
    _ws, panel, _entry = _scan_from_watch(qtbot, window, chain_child)
    model = panel.model
    qtbot.waitUntil(lambda: model.refresh_count >= 2, timeout=10000)
    changes = []
    model.dataChanged.connect(lambda top, bottom, roles: changes.append((top.row(), bottom.row())))
    count = model.refresh_count
    qtbot.waitUntil(lambda: model.refresh_count >= count + 2, timeout=10000)
    assert changes == []
