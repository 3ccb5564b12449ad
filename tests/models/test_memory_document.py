"""The page-cache document against a real demo process."""

import os
import struct
import time

from lainview.backend.memory import PAGE_SIZE
from lainview.models.memory_document import FADE_SECONDS, CellState
from lainview.models.attached_target import TargetState

from .qt_support import attach, open_demo, wait_loaded


def test_pages_hold_the_childs_bytes_and_holes_stay_unreadable(qtbot, workspace, demo):
    open_demo(qtbot, workspace, demo)
    doc = workspace.document
    assert doc.bytes_at(demo.string, 30) == demo.peek(demo.string, 30)
    doc.set_visible(demo.guard - 32, demo.guard + 64)
    wait_loaded(qtbot, doc)
    cells = doc.cells(demo.guard - 4, 8)
    assert [c.state for c in cells[:4]] != [CellState.UNREADABLE] * 4
    # The PROT_NONE guard page is read by force: real bytes, marked no-access.
    assert bytes(c.value for c in cells[4:]) == b"No-a"
    assert {c.state for c in cells[4:]} == {CellState.NO_ACCESS}
    # Outside the region nothing is read: unreadable, never zeros.
    assert doc.cell(doc.region.end).state == CellState.UNREADABLE
    # Pages not read yet are PENDING, never zeros.
    doc.pages.pop(demo.readonly, None)
    assert doc.cell(demo.readonly).state == CellState.PENDING


def test_a_byte_the_child_changes_shows_as_changed_then_fades(qtbot, workspace, demo):
    open_demo(qtbot, workspace, demo)
    doc = workspace.document
    qtbot.waitUntil(lambda: doc.cell(demo.counter).state == CellState.CHANGED, timeout=5000)
    counter = struct.unpack("<Q", demo.peek(demo.counter, 8))[0]
    assert counter > 1
    # A byte the child does not touch never shows as changed.
    assert doc.cell(demo.string).state == CellState.READABLE
    # Paused: the highlight fades out and the value stops moving.
    doc.set_paused(True)
    qtbot.waitUntil(lambda: doc.cell(demo.counter).state == CellState.READABLE,
                    timeout=int(FADE_SECONDS * 1000) + 3000)
    assert not doc.live


def test_write_undo_redo_reach_the_child(qtbot, workspace, demo):
    open_demo(qtbot, workspace, demo)
    doc = workspace.document
    address = demo.string
    before = demo.peek(address, 2)
    task = doc.write(address, b"\x4a\x4b")
    qtbot.waitUntil(task.done)
    assert task.result() is True
    assert demo.peek(address, 2) == b"JK"
    assert doc.undo_stack.count() == 1 and doc.bytes_at(address, 2) == b"JK"
    task = doc.undo()
    qtbot.waitUntil(task.done)
    assert task.result() is True
    assert demo.peek(address, 2) == before
    assert doc.bytes_at(address, 2) == before
    task = doc.redo()
    qtbot.waitUntil(task.done)
    assert demo.peek(address, 2) == b"JK"
    # Writes are journaled by the backend.
    entries = workspace.backend.journal_entries(pid=demo.pid).result()
    assert len(entries) == 3 and entries[0].new == b"JK" and entries[1].new == before


def test_a_typed_byte_is_written_once_and_unchanged_bytes_not_at_all(qtbot, workspace, demo):
    open_demo(qtbot, workspace, demo)
    doc = workspace.document
    address = demo.string                       # "H" = 0x48
    # The high nibble is staged: shown as edited, nothing written.
    doc.type_nibble(address, 0x4, high=True)
    assert doc.cell(address).state == CellState.WRITING and doc.cell(address).value == 0x48
    assert workspace.backend.journal_entries(pid=demo.pid).result() == []
    doc.type_nibble(address, 0xA, high=False)
    qtbot.waitUntil(lambda: demo.peek(address, 1) == b"\x4a", timeout=10000)
    qtbot.waitUntil(lambda: doc.undo_stack.count() == 1, timeout=10000)
    # A byte typed over itself writes nothing.
    task = doc.write(address, b"\x4a")
    qtbot.waitUntil(task.done)
    assert task.result() is True and doc.undo_stack.count() == 1
    # Moving away after one nibble writes that byte (once).
    doc.type_nibble(address + 1, 0xF, high=True)
    task = doc.settle_nibble()
    qtbot.waitUntil(task.done)
    assert demo.peek(address + 1, 1) == bytes([0xF0 | (ord("e") & 0x0F)])
    journal = workspace.backend.journal_entries(pid=demo.pid).result()
    assert [(e.address, e.old, e.new) for e in journal] == [
        (address, b"H", b"\x4a"), (address + 1, b"e", b"\xf5")]
    qtbot.waitUntil(doc.undo().done)
    assert demo.peek(address + 1, 1) == b"e"
    # Undo with a half-typed byte drops it: nothing was written for it.
    doc.type_nibble(address + 2, 0x0, high=True)
    qtbot.waitUntil(doc.undo().done)
    assert doc.staged_nibble is None and doc.cell(address + 2).state != CellState.WRITING
    assert doc.settle_nibble() is None and doc.undo_stack.index() == 1
    assert len(workspace.backend.journal_entries(pid=demo.pid).result()) == 3


def test_a_failed_write_marks_the_cell_and_leaves_undo_clean(qtbot, workspace, demo):
    open_demo(qtbot, workspace, demo)
    doc = workspace.document
    messages = []
    doc.inline_message.connect(messages.append)
    task = doc.write(demo.guard + 16, b"\x00")
    qtbot.waitUntil(task.done)
    assert task.result() is False
    assert doc.undo_stack.count() == 0
    assert doc.cell(demo.guard + 16).state == CellState.FAILED
    assert any(m.startswith("write failed: E") and f"at {demo.guard + 16:#x}" in m
               for m in messages), messages


def test_stale_replies_are_dropped(qtbot, workspace, demo):
    open_demo(qtbot, workspace, demo)
    doc = workspace.document
    page = demo.base
    target = workspace.target.target
    old = target.read(page, PAGE_SIZE).result()
    demo.poke(demo.string, b"NEW!")
    new = target.read(page, PAGE_SIZE).result()
    doc._apply(10_000, [page], [new])
    dropped = doc.dropped_replies
    doc._apply(9_999, [page], [old])            # an older request answering late
    assert doc.dropped_replies == dropped + 1
    assert doc.bytes_at(demo.string, 4) == b"NEW!"


def test_scrolling_away_cancels_queued_reads(qtbot, slow_backend, demo):
    from lainview.models.workspace import Workspace
    from .qt_support import attach
    ws = Workspace(slow_backend)
    try:
        attach(qtbot, ws, demo.pid)
        ws.open_span(demo.base, demo.base + demo.size, "demo", demo.base)
        doc = ws.document
        doc.set_paused(True)
        doc.set_visible(demo.base, demo.base + 64)
        doc.set_visible(demo.readonly, demo.readonly + 64)   # before the first is served
        doc.set_visible(demo.base, demo.base + 64)
        assert doc.dropped_replies >= 1
        wait_loaded(qtbot, doc)
        assert doc.bytes_at(demo.string, 5) == b"Hello"
    finally:
        ws.stop()


def test_killed_child_turns_read_only_and_keeps_the_last_data(qtbot, workspace, demo):
    open_demo(qtbot, workspace, demo)
    doc = workspace.document
    last = doc.bytes_at(demo.string, 16)
    states = []
    workspace.target.state_changed.connect(states.append)
    demo.kill()
    qtbot.waitUntil(lambda: workspace.target.state == TargetState.EXITED, timeout=5000)
    assert states[-1] == TargetState.EXITED.value
    assert doc.read_only and not doc.live
    assert doc.bytes_at(demo.string, 16) == last
    task = doc.write(demo.string, b"x")
    qtbot.waitUntil(task.done)
    assert task.result() is False and doc.undo_stack.count() == 0


def test_the_demo_span_and_its_area_are_named_as_memfd(qtbot, workspace, demo):
    # The demo opened as "demo mapping" and, after go-to, as
    # "/memfd:lainview-demo (deleted)": one name, the location grammar's.
    from .qt_support import attach
    attach(qtbot, workspace, demo.pid)
    workspace.open_span(demo.base, demo.base + demo.size, address=demo.counter)
    assert workspace.document.region.display_name == "memfd:lainview-demo"
    from lainview.backend.memory import area_at
    area = area_at(workspace.target.areas, demo.counter)
    workspace.open_area(area, demo.counter)
    assert workspace.document.region.display_name == "memfd:lainview-demo"


def test_a_refresh_answering_after_pause_leaves_the_view_still(qtbot, slow_backend, demo):
    """Pause holds the bytes on screen: a refresh sent before it, served
    after the target changed, is dropped rather than shown."""
    from lainview.models.workspace import Workspace
    from .qt_support import attach
    ws = Workspace(slow_backend)
    try:
        attach(qtbot, ws, demo.pid)
        ws.open_span(demo.base, demo.base + demo.size, "demo", demo.base)
        doc = ws.document
        doc.set_paused(True)
        doc.set_visible(demo.base, demo.base + 64)
        wait_loaded(qtbot, doc)
        before = doc.bytes_at(demo.string, 4)
        doc.set_paused(False)
        doc.refresh_now()                     # served 250 ms from now
        assert doc.inflight >= 1
        demo.poke(demo.string, b"NEW!")
        doc.set_paused(True)
        dropped = doc.dropped_replies
        qtbot.waitUntil(lambda: doc.inflight == 0, timeout=5000)
        assert doc.dropped_replies > dropped
        assert doc.bytes_at(demo.string, 4) == before != b"NEW!"
        doc.set_paused(False)                 # going live again shows the new bytes
        qtbot.waitUntil(lambda: doc.bytes_at(demo.string, 4) == b"NEW!", timeout=5000)
    finally:
        ws.stop()


def test_a_read_cancelled_before_its_task_runs_is_dropped_quietly(qtbot, slow_backend, demo):
    """The view moving (or an area opening) cancels a read whose task has
    not run yet: the task must end quietly (a new user's first start showed
    "internal error in the hex document (_await_read): KeyError: 1")."""
    from lainview.models.workspace import Workspace
    from .qt_support import attach
    ws = Workspace(slow_backend)
    try:
        attach(qtbot, ws, demo.pid)
        ws.open_span(demo.base, demo.base + demo.size, "demo", demo.base)
        doc = ws.document
        doc.set_paused(True)
        request = doc._request([demo.base], refresh=False)
        task = next(t for t in doc._tasks._tasks if not t.done())
        doc._cancel_inflight(lambda pages: True)          # before the task first runs
        assert request not in doc._inflight
        qtbot.waitUntil(task.done, timeout=5000)
        assert task.cancelled() or task.exception() is None
    finally:
        ws.stop()


def test_a_refresh_that_finds_the_same_bytes_repaints_nothing(qtbot, workspace, demo):
    """Every live refresh says ``refreshed`` (views that read on their own
    use it as their heartbeat), but ``changed`` (repaint) only when a byte,
    or which bytes are unreadable, differs, or a change is still fading: an
    idle view at 10 Hz costs no repaint."""
    attach(qtbot, workspace, demo.pid)
    still = demo.map(0x10000)                   # zeros that nothing touches
    doc = workspace.document
    workspace.open_span(still, still + 0x10000, "still", still)
    doc.set_visible(still, still + 0x400)
    wait_loaded(qtbot, doc)
    refreshed, changed = [], []
    doc.refreshed.connect(lambda: refreshed.append(1))
    doc.changed.connect(lambda: changed.append(doc.has_fading(time.monotonic())))
    qtbot.waitUntil(lambda: len(refreshed) >= 5, timeout=10000)
    assert changed == []
    fd = os.open(f"/proc/{demo.pid}/mem", os.O_RDWR)   # a change from outside
    try:
        os.pwrite(fd, b"\x2a", still + 8)
    finally:
        os.close(fd)
    qtbot.waitUntil(lambda: doc.cell(still + 8).state == CellState.CHANGED, timeout=5000)
    assert changed and doc.byte_at(still + 8) == 0x2a
    # While it fades every refresh repaints, and one more after the fade has
    # ended (the view last painted it nearly faded); then none does.
    qtbot.waitUntil(lambda: doc.cell(still + 8).state == CellState.READABLE,
                    timeout=int(FADE_SECONDS * 1000) + 3000)
    qtbot.wait(300)
    assert changed[-1] is False            # the last repaint shows it faded
    changed.clear()
    count = len(refreshed)
    qtbot.waitUntil(lambda: len(refreshed) >= count + 3, timeout=10000)
    assert changed == []
