"""The Qt models, checked by qtmodeltester and against real processes."""

import os

import pytest
from PySide6.QtCore import Qt

from lainview.backend.memory import Perm, parse_maps
from lainview.models.inspector_model import BIG, LITTLE, POINTS_INTO
from lainview.models.process_model import INFO_ROLE, ProcessFilterProxy, ProcessModel
from lainview.models.vma_model import ADDED, AREA_ROLE, REMOVED, STATUS_ROLE, VmaFilterProxy

from .qt_support import attach, open_demo


def test_process_model_and_filter(qtbot, qtmodeltester, gui_backend, demo):
    model = ProcessModel(gui_backend)
    task = __import__("asyncio").ensure_future(model.refresh())
    qtbot.waitUntil(task.done, timeout=10000)
    assert task.result() is True
    qtmodeltester.check(model)
    pids = {model.process(r).pid for r in range(model.rowCount())}
    assert demo.pid in pids and os.getpid() in pids
    proxy = ProcessFilterProxy()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)
    everything = proxy.rowCount()
    proxy.set_filter_text(f"{demo.pid} lainview.demo_target")
    assert 1 <= proxy.rowCount() < everything
    shown = {proxy.data(proxy.index(r, 0), INFO_ROLE).pid for r in range(proxy.rowCount())}
    assert demo.pid in shown
    proxy.set_filter_text("no-such-process-name-xyzzy")
    assert proxy.rowCount() == 0
    proxy.set_filter_text("")
    assert proxy.rowCount() == everything


def test_unattachable_processes_are_disabled_with_the_reason(qtbot, gui_backend):
    model = ProcessModel(gui_backend)
    task = __import__("asyncio").ensure_future(model.refresh())
    qtbot.waitUntil(task.done, timeout=10000)
    blocked = [r for r in range(model.rowCount()) if not model.process(r).attachable]
    if not blocked:
        pytest.skip("every process here is attachable (no kernel threads visible)")
    index = model.index(blocked[0], 1)
    assert not model.flags(index) & Qt.ItemFlag.ItemIsEnabled
    assert model.data(index, Qt.ItemDataRole.ToolTipRole).startswith("cannot attach: ")
    assert model.process(blocked[0]).reason in model.data(index, Qt.ItemDataRole.ToolTipRole)


def test_vma_model_matches_proc_maps(qtbot, qtmodeltester, workspace, demo):
    attach(qtbot, workspace, demo.pid)
    model = workspace.vma
    qtmodeltester.check(model)
    with open(f"/proc/{demo.pid}/maps") as f:
        expected = parse_maps(f.read())
    shown = [model.area(r) for r in range(model.rowCount())]
    assert [(a.start, a.end, a.perms, a.offset, a.path) for a in shown] == \
        [(a.start, a.end, a.perms, a.offset, a.path) for a in expected]
    row = model.row_of_address(demo.guard)
    assert model.data(model.index(row, 3)) == "---s"      # the demo's shared guard page
    assert model.data(model.index(row, 0)) == f"{demo.guard:012x}"
    assert model.data(model.index(row, 2)) == "4.0 KiB"


def test_vma_refresh_marks_added_and_removed(qtbot, workspace, demo):
    attach(qtbot, workspace, demo.pid)
    model = workspace.vma
    assert model.counts()[ADDED] == 0
    new = demo.map(5 * 4096)
    task = workspace.refresh_areas()
    qtbot.waitUntil(task.done)
    row = model.row_of_address(new)
    assert row is not None
    status = model.data(model.index(row, 0), STATUS_ROLE)
    # The kernel may merge the new mapping with a neighbour; either way the
    # area holding it is new.
    assert status == ADDED
    assert model.data(model.index(row, 5)).endswith("(new)")
    assert model.counts()[ADDED] >= 1
    # Fake a removal by refreshing with one area missing: the missing one is kept, struck out.
    areas = list(workspace.target.areas)
    gone = areas.pop(0)
    model.set_areas(areas)
    removed = [model.area(r) for r in range(model.rowCount()) if model.status(r) == REMOVED]
    assert removed == [gone]
    # The same map again (the usual 2 s refresh) resets nothing; the next
    # one after that drops the struck-out row.
    resets = []
    model.modelReset.connect(lambda: resets.append(1))
    model.set_areas(areas)
    assert resets == [1] and model.counts()[REMOVED] == 0
    model.set_areas(list(areas))
    assert resets == [1]


def test_vma_filter_by_text_and_permission(qtbot, qtmodeltester, workspace, demo):
    attach(qtbot, workspace, demo.pid)
    proxy = VmaFilterProxy()
    proxy.setSourceModel(workspace.vma)
    qtmodeltester.check(proxy)
    total = proxy.rowCount()
    proxy.set_required(Perm.WRITE)
    assert 0 < proxy.rowCount() < total
    assert all(proxy.data(proxy.index(r, 0), AREA_ROLE).perms & Perm.WRITE
               for r in range(proxy.rowCount()))
    proxy.set_required(Perm.EXEC)
    assert all(proxy.data(proxy.index(r, 0), AREA_ROLE).perms & Perm.EXEC
               for r in range(proxy.rowCount()))
    proxy.set_required(Perm.NONE)
    proxy.set_filter_text("[stack]")
    assert proxy.rowCount() == 1
    proxy.set_filter_text(f"{demo.guard:x}")
    # The guard page starts where the rw page ends: both rows name that address.
    starts = {proxy.data(proxy.index(r, 0), AREA_ROLE).start for r in range(proxy.rowCount())}
    assert demo.guard in starts and proxy.rowCount() == 2
    # Sorting by size puts the smallest first.
    proxy.set_filter_text("")
    proxy.sort(2, Qt.SortOrder.AscendingOrder)
    sizes = [proxy.data(proxy.index(r, 0), AREA_ROLE).size for r in range(proxy.rowCount())]
    assert sizes == sorted(sizes)


def test_inspector_shows_and_edits_the_bytes_at_the_cursor(qtbot, qtmodeltester, workspace, demo):
    open_demo(qtbot, workspace, demo)
    model = workspace.inspector
    qtmodeltester.check(model)
    workspace.cursor.move_to(demo.struct)           # u32 magic 0x4E49414C, i32 health 100
    u32 = model.names.index("u32")
    assert model.data(model.index(u32, LITTLE)) == str(0x4E49414C)
    assert model.data(model.index(u32, BIG)) == str(0x4C41494E)
    workspace.cursor.move_to(demo.struct + 4)
    i32 = model.names.index("i32")
    assert model.data(model.index(i32, LITTLE)) == "100"
    assert model.setData(model.index(i32, LITTLE), "-7")
    qtbot.waitUntil(lambda: demo.peek(demo.struct + 4, 4) == (-7).to_bytes(4, "little", signed=True))
    qtbot.waitUntil(lambda: model.data(model.index(i32, LITTLE)) == "-7")
    assert not model.setData(model.index(i32, LITTLE), "not a number")
    assert "is not an i32 value" in model.last_error
    # The pointer row names the area a pointer points into.
    workspace.document.write(demo.struct + 8, demo.guard.to_bytes(8, "little"))
    qtbot.waitUntil(lambda: demo.peek(demo.struct + 8, 8) == demo.guard.to_bytes(8, "little"))
    workspace.cursor.move_to(demo.struct + 8)
    qtbot.waitUntil(lambda: "+0x0 (---s)" in model.data(model.index(model.names.index(POINTS_INTO), LITTLE)))
