"""The scanner's controller and virtual match model against real children:
first and next scans, undo, cancel within one chunk, a child killed mid-scan,
a million matches that stay virtual, and the visible values refreshing with
one batched read per refresh."""

from __future__ import annotations

import struct

import pytest

from lainview.backend import scan
from lainview.backend.scan import AreaFilter, ScanLimits
from lainview.models.palette import color
from lainview.models.scan_model import (ADDRESS, ADDRESS_ROLE, AREA, BLOCK_ROWS,
                                        MAX_BLOCKS, PREVIOUS, VALUE, MatchModel,
                                        ScanController)
from lainview.models.attached_target import TargetState
from PySide6.QtCore import Qt

FOREGROUND = Qt.ItemDataRole.ForegroundRole

from tests.conftest import spawn_child
from tests.models.qt_support import attach


@pytest.fixture
def scanner(workspace):
    return workspace.scanner


def run(qtbot, task, timeout: int = 30000):
    assert task is not None, "the scan did not start"
    qtbot.waitUntil(task.done, timeout=timeout)
    task.result()


def plant(child, offset: int, data: bytes) -> int:
    address = child.scan + offset
    assert child.command(f"poke {address:x} {data.hex()}") == "ok"
    return address


def scan_area(child) -> AreaFilter:
    return AreaFilter(ranges=((child.scan, child.scan + 4 * child.page),))


def test_first_exact_scan_next_scans_and_undo(qtbot, workspace, scanner, child):
    attach(qtbot, workspace, child.pid)
    page = child.page
    addrs = [plant(child, off, struct.pack("<i", 100)) for off in (0, 8, 2 * page + 4, 3 * page)]
    run(qtbot, scanner.first_scan("i32", "exact", "100", areas=scan_area(child)))
    model = scanner.matches
    assert scanner.state.count == model.rowCount() == 4
    assert [model.address(r) for r in range(4)] == addrs
    assert model.data(model.index(1, ADDRESS)) == f"{addrs[1]:012x}"
    assert model.data(model.index(1, ADDRESS), ADDRESS_ROLE) == addrs[1]
    assert model.data(model.index(1, PREVIOUS)) == "100"
    assert model.data(model.index(0, AREA)).startswith("anon ")
    assert "4 matches · 16.0 KiB scanned in " in scanner.last_message
    assert "4.0 KiB unreadable" in scanner.last_message
    assert not scanner.can_undo

    plant(child, 8, struct.pack("<i", 150))
    plant(child, 3 * page, struct.pack("<i", 99))
    run(qtbot, scanner.next_scan("changed"))
    assert [model.address(r) for r in range(model.rowCount())] == [addrs[1], addrs[3]]
    # Previous: the value at the step before, not the one this step found.
    assert model.data(model.index(0, PREVIOUS)) == "100"
    assert model.data(model.index(1, PREVIOUS)) == "100"
    assert model.previous(0) == struct.pack("<i", 150)
    assert scanner.can_undo
    run(qtbot, scanner.next_scan("increased-by", "50", ))
    assert scanner.state.count == 0 and model.rowCount() == 0   # 150 is unchanged since
    run(qtbot, scanner.undo())
    assert [model.address(r) for r in range(model.rowCount())] == [addrs[1], addrs[3]]
    assert "back to step 2" in scanner.last_message
    run(qtbot, scanner.next_scan("exact", "99"))
    assert [model.address(r) for r in range(model.rowCount())] == [addrs[3]]


def test_bad_input_is_a_message_and_nothing_starts(qtbot, workspace, scanner, child):
    attach(qtbot, workspace, child.pid)
    assert scanner.first_scan("i8", "exact", "300") is None
    assert "does not fit in i8" in scanner.last_message and scanner.last_message_is_error
    assert scanner.first_scan("i32", "range", "5") is None
    assert "LOW..HIGH" in scanner.last_message
    assert scanner.next_scan("changed") is None
    assert "first scan first" in scanner.last_message
    assert not scanner.running


def test_cancel_stops_within_one_chunk(qtbot, workspace, scanner, child):
    attach(qtbot, workspace, child.pid)
    chunk = 4096
    everything = AreaFilter(include_readonly=True, include_file_backed=True)
    task = scanner.first_scan("u8", "exact", "1", areas=everything,
                              limits=ScanLimits(chunk=chunk))
    job = scanner.job
    qtbot.waitUntil(lambda: job.progress[0] > 0, timeout=10000)
    at = job.progress[0]
    scanner.cancel()
    run(qtbot, task)
    assert job.progress[0] - at <= chunk < job.progress[1] - job.progress[0]
    assert "cancelled" in scanner.last_message and scanner.state is None
    assert not scanner.running and scanner.can_scan


def test_progress_reports_rate_and_live_count(qtbot, workspace, scanner, child):
    attach(qtbot, workspace, child.pid)
    # Each step (1 MiB) takes at least 0.1 s: a scan of the child's ~15 MiB
    # lasts over a second, so the 100 ms poll reports it while it runs.
    workspace.backend.thread.request_delay = 0.1
    seen = []
    scanner.progress_changed.connect(seen.append)
    task = scanner.first_scan("u8", "unknown", areas=AreaFilter(include_readonly=True,
                                                                  include_file_backed=True),
                              limits=ScanLimits(chunk=1 << 20, snapshot_memory=0))
    run(qtbot, task)
    assert seen and seen[0].total > 10 << 20 and len(seen) > 2
    running = [p for p in seen if p.found > 0 and p.rate > 0]
    assert running and all(f"{p.found:,} found" in p.describe() for p in running)
    assert "GiB/s" in seen[-1].describe() or "MiB/s" in seen[-1].describe()
    assert scanner.state.count > 0 and scanner.state.disk_bytes > 0
    assert "on disk" in scanner.describe_state()


def test_child_killed_mid_scan_gives_a_clean_message(qtbot, workspace, scanner, tmp_path):
    child = spawn_child(tmp_path)
    try:
        attach(qtbot, workspace, child.pid)
        plant(child, 0, struct.pack("<i", 4242))
        run(qtbot, scanner.first_scan("i32", "exact", "4242", areas=scan_area(child)))
        assert scanner.state.count == 1
        everything = AreaFilter(include_readonly=True, include_file_backed=True)
        task = scanner.first_scan("u8", "exact", "1", areas=everything,
                                  limits=ScanLimits(chunk=4096))
        job = scanner.job
        qtbot.waitUntil(lambda: job.progress[0] > 0, timeout=10000)
        child.kill()
        run(qtbot, task)
    finally:
        child.kill()
    assert "the target exited" in scanner.last_message
    assert "last results are kept" in scanner.last_message
    assert workspace.target.state == TargetState.EXITED
    assert not scanner.running and not scanner.can_scan
    assert scanner.state.count == 1 and scanner.matches.rowCount() == 1   # still browsable
    assert scanner.first_scan("i32", "exact", "1") is None
    assert "it has exited" in scanner.last_message
    # ... and the next target scans as usual.
    (tmp_path / "other").mkdir()
    other = spawn_child(tmp_path / "other")
    try:
        attach(qtbot, workspace, other.pid)
        assert scanner.state is None                  # a new target starts afresh
        plant(other, 16, struct.pack("<i", 777))
        run(qtbot, scanner.first_scan("i32", "exact", "777", areas=scan_area(other)))
        assert scanner.state.addresses().tolist() == [other.scan + 16]
    finally:
        other.kill()


def test_match_model_passes_qtmodeltester(qtbot, qtmodeltester, workspace, scanner, child):
    attach(qtbot, workspace, child.pid)
    for off in (0, 64, 3 * child.page + 4):
        plant(child, off, struct.pack("<i", -5))
    run(qtbot, scanner.first_scan("i32", "exact", "-5", areas=scan_area(child)))
    scanner.matches.set_visible_rows(0, 10)
    qtbot.waitUntil(lambda: scanner.matches.refresh_count > 0, timeout=10000)
    qtmodeltester.check(scanner.matches, force_py=True)
    # The tester stays connected: it checks the reset to a dense state, every
    # u32 of the first page (1,024 rows, several blocks), and that state's rows.
    first_page = AreaFilter(ranges=((child.scan, child.scan + child.page),))
    run(qtbot, scanner.first_scan("u32", "unknown", areas=first_page))
    assert scanner.matches.rowCount() == child.page // 4


def test_a_million_matches_stay_virtual(qtbot, workspace, scanner, demo):
    attach(qtbot, workspace, demo.pid)
    size = 1 << 20
    base = demo.map(size)
    run(qtbot, scanner.first_scan("u8", "unknown",
                                  areas=AreaFilter(ranges=((base, base + size),))))
    model = scanner.matches
    assert scanner.state.count == model.rowCount() == size
    assert model.materialised_rows == 0
    # Rows anywhere, in any order: only their blocks are made.
    for row in (size - 1, 0, 777_777, 1234, size // 2):
        assert model.address(row) == base + row
        assert model.data(model.index(row, PREVIOUS)) == "0"
    assert model.blocks_made == 5 and model.materialised_rows <= 5 * BLOCK_ROWS
    for row in range(0, size, size // (MAX_BLOCKS * 4)):
        model.address(row)
    assert model.materialised_rows <= MAX_BLOCKS * BLOCK_ROWS
    # The values of the rows on screen come in.
    model.set_visible_rows(777_770, 777_790)
    qtbot.waitUntil(lambda: model.current(777_777) is not None, timeout=10000)
    assert model.data(model.index(777_777, VALUE)) == "0"
    # Next scan over the dense state.
    # (The demo pokes only its own mapping: write through lainview.)
    workspace.target.target.write(base + 777_777, b"\x2a").result(10)
    run(qtbot, scanner.next_scan("changed"))
    assert model.rowCount() == 1 and model.address(0) == base + 777_777
    # Previous: the value at the step before (read from its dense snapshot).
    assert model.data(model.index(0, PREVIOUS)) == "0" and model.previous(0) == b"\x2a"


def test_visible_values_refresh_with_one_read_per_refresh(qtbot, workspace, scanner, child):
    attach(qtbot, workspace, child.pid)
    addrs = [plant(child, off, struct.pack("<i", 31337)) for off in range(0, 64, 8)]
    run(qtbot, scanner.first_scan("i32", "exact", "31337", areas=scan_area(child)))
    model = scanner.matches
    target = workspace.target.target
    calls = []
    real = target.read_many

    def counting(ranges):
        ranges = list(ranges)
        calls.append(ranges)
        return real(ranges)
    target.read_many = counting
    model.set_visible_rows(2, 5)
    qtbot.waitUntil(lambda: model.refresh_count >= 1, timeout=10000)
    assert model.data(model.index(3, VALUE)) == "31337"
    assert model.data(model.index(3, VALUE), FOREGROUND) is None   # unchanged: plain
    # Refreshes that read the same values repaint nothing; a changed value
    # repaints its own cell only.
    changes = []
    model.dataChanged.connect(lambda top, bottom, roles: changes.append(
        (top.row(), bottom.row(), top.column(), bottom.column())))
    count = model.refresh_count
    qtbot.waitUntil(lambda: model.refresh_count >= count + 2, timeout=10000)
    assert changes == []
    plant(child, 24, struct.pack("<i", 4))                         # row 3
    qtbot.waitUntil(lambda: model.data(model.index(3, VALUE)) == "4", timeout=5000)
    assert set(changes) == {(3, 3, VALUE, VALUE)}
    assert model.data(model.index(3, VALUE), FOREGROUND) == color("changed")
    assert model.data(model.index(3, PREVIOUS)) == "31337"
    # One request per refresh, for exactly the visible rows.
    assert calls and all(c == [(a, 4) for a in addrs[2:6]] for c in calls)
    assert model.current(0) is None                            # never on screen: never read
    # Off screen: no more reads.
    model.set_visible_rows(0, -1)
    n = len(calls)
    qtbot.wait(600)
    assert len(calls) == n


def test_stale_value_replies_are_dropped(qtbot, workspace, scanner, child):
    attach(qtbot, workspace, child.pid)
    plant(child, 0, struct.pack("<i", 8080))
    run(qtbot, scanner.first_scan("i32", "exact", "8080", areas=scan_area(child)))
    model = scanner.matches
    model.set_visible_rows(0, 0)
    qtbot.waitUntil(lambda: model.refresh_count >= 1, timeout=10000)
    # A reply older than the newest one applied is dropped ...
    dropped = model.dropped_replies
    assert not model.apply_values(0, model._generation, [model.address(0)], [None])
    assert model.current(0) == struct.pack("<i", 8080)
    assert model.dropped_replies == dropped + 1
    # ... and so is one meant for an earlier scan step: the state changes
    # before the reply can arrive (it is handled on this thread's loop).
    plant(child, 0, struct.pack("<i", 9090))
    qtbot.waitUntil(lambda: model._inflight is None or model._inflight.done(), timeout=5000)
    qtbot.waitUntil(lambda: model.refresh_values() is not None, timeout=5000)
    model.set_state(scanner.state)
    qtbot.waitUntil(lambda: model.dropped_replies == dropped + 2, timeout=10000)


def test_areas_are_labelled_as_go_to_reads_them(qtbot, workspace, child):
    from lainview.backend.locations import parse_location, resolve
    attach(qtbot, workspace, child.pid)
    model = MatchModel(workspace.target)
    spaced = child.spaced + 10
    label = model.area_label(spaced)
    assert label == f"a file with spaces.bin+{10:#x}"
    assert resolve(parse_location(label), workspace.target.areas) == spaced
    heap = next((a for a in workspace.target.areas if a.path == "[heap]"), None)
    if heap is not None:
        assert model.area_label(heap.start + 0x20) == "[heap]+0x20"
    # Anonymous memory is named by its area's start: the kernel may have
    # merged the child's mapping with an anonymous neighbour.
    anon = next(a for a in workspace.target.areas if a.start <= child.scan < a.end)
    assert model.area_label(child.scan + 4).startswith(
        f"anon {anon.start:#x}+{child.scan + 4 - anon.start:#x}")
    assert model.area_label(8) == ""
    model.deleteLater()


def test_the_controller_alone_needs_no_widgets(qtbot, workspace):
    controller = ScanController(workspace.target)
    assert controller.describe_state() == "no scan yet"
    assert controller.first_scan("i32", scan.Mode.EXACT, "1") is None
    assert "no live target" in controller.last_message
    controller.stop()
    controller.deleteLater()


def test_attaching_elsewhere_mid_scan_drops_its_result(qtbot, workspace, scanner, child,
                                                       monkeypatch, tmp_path):
    import glob
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    attach(qtbot, workspace, child.pid)
    workspace.backend.thread.request_delay = 0.02
    try:
        task = scanner.first_scan("u8", "unknown", areas=scan_area(child),
                                  limits=ScanLimits(chunk=4096))
        job = scanner.job
        qtbot.waitUntil(lambda: job.progress[0] > 0, timeout=10000)
        scanner.reset()                       # what attaching to another target does
        assert not scanner.running and scanner.state is None and scanner.can_scan
        run(qtbot, task)
    finally:
        workspace.backend.thread.request_delay = 0
    assert scanner.state is None and scanner.matches.rowCount() == 0
    qtbot.waitUntil(lambda: not glob.glob(str(tmp_path / "lainview-scan-*")), timeout=5000)


def test_a_first_scan_says_which_kinds_of_areas_it_left_out(qtbot, workspace, scanner, child):
    # The child maps a memfd MAP_SHARED (how emulators hold guest RAM) and
    # read-only pages: the default areas leave them out, and say so.
    attach(qtbot, workspace, child.pid)
    run(qtbot, scanner.first_scan("bytes", "exact", "4d 45 4d 46 44 ff ee"))
    assert scanner.state.count == 0
    assert "not scanned:" in scanner.last_message
    assert "shared" in scanner.last_message and "“shared”" in scanner.last_message
    assert "read-only" in scanner.last_message and "under Areas" in scanner.last_message
    run(qtbot, scanner.first_scan("bytes", "exact", "4d 45 4d 46 44", areas=AreaFilter(
        include_shared=True, include_readonly=True, include_file_backed=True)))
    assert child.memfd in [scanner.matches.address(r) for r in range(scanner.state.count)]
    assert "not scanned" not in scanner.last_message


def test_the_match_list_shows_values_as_typed(qtbot, workspace, scanner, child):
    attach(qtbot, workspace, child.pid)
    f32 = plant(child, 0, struct.pack("<f", 1.123))
    text = plant(child, 64, "Alice\n".encode())
    model = scanner.matches
    run(qtbot, scanner.first_scan("f32", "exact", "1.123", areas=scan_area(child)))
    assert [model.address(r) for r in range(model.rowCount())] == [f32]
    assert model.data(model.index(0, PREVIOUS)) == "1.123"
    model.set_visible_rows(0, 0)
    qtbot.waitUntil(lambda: model.data(model.index(0, VALUE)) == "1.123", timeout=5000)
    run(qtbot, scanner.first_scan("utf8", "exact", "Alice\n", areas=scan_area(child)))
    assert [model.address(r) for r in range(model.rowCount())] == [text]
    assert model.data(model.index(0, PREVIOUS)) == "Alice\\n"     # text; what cannot show, escaped
