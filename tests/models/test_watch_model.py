"""The watch list against real children: live values, one batched read per
tick, unreadable values, journaled edits, freezes that hold and stop, plot
samples, re-resolution after a restart, kernel symbols, sessions."""

from __future__ import annotations

import struct
import time

import pytest
from PySide6.QtCore import Qt

from lainview.backend.errors import InvalidInput
from lainview.backend.locations import Location, locate
from lainview.models.watch_model import (ADDRESS, FREEZE, PLOT, VALUE, WatchEntry, WatchModel)
from lainview.models.watch_values import ValueType

from tests.conftest import spawn_child
from tests.models.qt_support import attach


def u32(child, address: int) -> int:
    return int.from_bytes(child.peek(address, 4), "little")


def value_of(model: WatchModel, entry: WatchEntry) -> str:
    return model.data(model.index(model.row_of(entry), VALUE))


@pytest.fixture
def watch(qtbot, workspace, child):
    attach(qtbot, workspace, child.pid)
    return workspace.watch


def test_values_refresh_live_with_one_batched_read_per_tick(qtbot, qtmodeltester, watch,
                                                              child, workspace):
    counter = watch.add_address(child.counter + 8, "u32", label="counter")
    pattern = [watch.add_address(child.base + i, "u8") for i in range(1, 6)]
    text = watch.add_address(child.counter, "utf8", 7, label="magic")
    target = workspace.target.target
    calls = []
    real = target.read_many

    def counting(ranges):
        ranges = list(ranges)
        calls.append(len(ranges))
        return real(ranges)
    target.read_many = counting
    qtbot.waitUntil(lambda: counter.data is not None and text.data is not None, timeout=10000)
    assert value_of(watch, counter) == "0" and value_of(watch, text) == "COUNTER"
    assert [value_of(watch, e) for e in pattern] == ["1", "2", "3", "4", "5"]
    assert child.command("tick") == "ok" and child.command("tick") == "ok"
    qtbot.waitUntil(lambda: value_of(watch, counter) == "2", timeout=10000)
    assert counter.changed_at > 0
    # Every request carried all seven entries: one read per tick, not one per value.
    assert calls and set(calls) == {7}
    assert len(calls) <= watch.ticks
    watch.set_display(counter, "hex")
    assert value_of(watch, counter) == "0x00000002"
    with pytest.raises(InvalidInput):
        watch.set_display(counter, "float")
    qtmodeltester.check(watch)


def test_unreadable_and_unresolved_values_say_why(qtbot, watch, child):
    # (A PROT_NONE page is read by force now; an I/O mapping never is.)
    with open(f"/proc/{child.pid}/maps") as f:
        vvar = next(int(line.split("-")[0], 16) for line in f if "[vvar]" in line)
    guard = watch.add_address(vvar, "u32")
    elsewhere = watch.add(Location("module", "/no/such/lib.so", 0x10), ValueType.of("u32"))
    qtbot.waitUntil(lambda: guard.error != "", timeout=10000)
    assert value_of(watch, guard).startswith("unreadable: E") and \
        f" at {vvar:#x}: 4 bytes not readable: " in value_of(watch, guard)
    assert value_of(watch, elsewhere).startswith(
        f"unresolved: no module named /no/such/lib.so in the map of pid {child.pid}; modules: ")
    red = watch.data(watch.index(watch.row_of(elsewhere), ADDRESS), Qt.ItemDataRole.ForegroundRole)
    assert red.name() == "#b42318"


def test_editing_writes_the_child_and_journals(qtbot, watch, child, workspace):
    entry = watch.add_address(child.counter + 8, "i32")
    qtbot.waitUntil(lambda: entry.data is not None, timeout=10000)
    index = watch.index(watch.row_of(entry), VALUE)
    assert watch.setData(index, "-5")
    qtbot.waitUntil(lambda: child.peek(child.counter + 8, 4) == struct.pack("<i", -5),
                    timeout=10000)
    qtbot.waitUntil(lambda: value_of(watch, entry) == "-5", timeout=10000)
    journal = workspace.backend.journal_entries(child.pid).result()
    assert [(e.address, e.old, e.new, e.status) for e in journal] == \
        [(child.counter + 8, bytes(4), struct.pack("<i", -5), "ok")]
    # A value that does not parse writes nothing and says why, in the row.
    assert not watch.setData(index, "lots")
    assert value_of(watch, entry) == "not written: 'lots' is not an i32 value"
    assert len(workspace.backend.journal_entries(child.pid).result()) == 1


def test_freeze_holds_a_value_the_child_keeps_changing(qtbot, watch, child):
    entry = watch.add_address(child.counter + 8, "u32")
    qtbot.waitUntil(lambda: entry.data is not None, timeout=10000)
    assert watch.setData(watch.index(watch.row_of(entry), VALUE), "42")
    qtbot.waitUntil(lambda: value_of(watch, entry) == "42", timeout=10000)
    assert watch.setData(watch.index(watch.row_of(entry), FREEZE), Qt.CheckState.Checked,
                         Qt.ItemDataRole.CheckStateRole)
    assert entry.frozen and entry.frozen_data == struct.pack("<I", 42)
    for _ in range(3):
        assert child.command("tick") == "ok"        # the child writes 1, 2, 3 over it
        qtbot.waitUntil(lambda: u32(child, child.counter + 8) == 42, timeout=10000)
    qtbot.waitUntil(lambda: entry.freeze_writes >= 3, timeout=10000)
    assert watch.data(watch.index(watch.row_of(entry), FREEZE)) == "frozen"
    # Unfrozen, the child's next write stays.
    watch.set_frozen(entry, False)
    assert child.command("tick") == "ok"
    qtbot.waitUntil(lambda: value_of(watch, entry) == "4", timeout=10000)


def test_a_freeze_is_one_journal_entry_and_reverts_to_the_bytes_before(qtbot, watch, child,
                                                                       workspace):
    backend = workspace.backend
    entry = watch.add_address(child.counter + 8, "u32")
    qtbot.waitUntil(lambda: entry.data is not None, timeout=10000)
    before = child.peek(child.counter + 8, 4)
    assert watch.set_frozen(entry, True, struct.pack("<I", 42))
    qtbot.waitUntil(lambda: u32(child, child.counter + 8) == 42, timeout=10000)
    for _ in range(3):
        assert child.command("tick") == "ok"        # the child writes over it
        qtbot.waitUntil(lambda: u32(child, child.counter + 8) == 42, timeout=10000)
    qtbot.waitUntil(lambda: entry.freeze_writes >= 4, timeout=10000)
    [held] = backend.journal_entries(child.pid).result()
    assert (held.freeze, held.address, held.old, held.new, held.status, held.ended) == \
        (True, child.counter + 8, before, struct.pack("<I", 42), "ok", None)
    watch.set_frozen(entry, False)
    qtbot.waitUntil(lambda: backend.journal_entries(child.pid).result()[0].ended is not None
                    and not watch.freezer._inflight, timeout=10000)
    [ended] = backend.journal_entries(child.pid).result()
    assert ended.rewrites == entry.freeze_writes and ended.status == "ok"
    # Three fsynced records however often it wrote: the intent, the first
    # write's outcome, the end with the count.
    records = backend.journal.path.read_text().splitlines()
    assert len(records) == 3 and entry.freeze_writes >= 4
    assert workspace.journal.outcome_text(ended).startswith(
        f"freeze ended ") and f"after {ended.rewrites} writes" in \
        workspace.journal.outcome_text(ended)
    [outcome] = backend.revert([ended.id]).result()
    assert outcome.status == "reverted", outcome
    assert child.peek(child.counter + 8, 4) == before


def test_reverting_a_holding_freeze_stops_it_first(qtbot, watch, child, workspace):
    entry = watch.add_address(child.counter + 8, "u32")
    qtbot.waitUntil(lambda: entry.data is not None, timeout=10000)
    before = child.peek(child.counter + 8, 4)
    assert watch.set_frozen(entry, True, struct.pack("<I", 77))
    qtbot.waitUntil(lambda: entry.freeze_writes >= 1, timeout=10000)
    [held] = workspace.backend.journal_entries(child.pid).result()
    task = workspace.journal.revert_entries([held])
    qtbot.waitUntil(task.done, timeout=10000)
    assert [o.status for o in task.result()] == ["reverted"]
    assert not entry.frozen and entry.freeze_note == "stopped: its write was reverted"
    assert child.peek(child.counter + 8, 4) == before
    assert not watch._freeze_timer.isActive()       # nothing writes it back
    entries = workspace.backend.journal_entries(child.pid).result()
    assert entries[0].ended is not None and entries[1].reverts == held.id


def test_freeze_writes_need_an_open_freeze(workspace, watch, child):
    target = workspace.target.target
    with pytest.raises(InvalidInput, match="not an open freeze"):
        target.freeze_write(12345, child.counter + 8, b"\0\0\0\0").result()
    journal_id = target.freeze_begin(child.counter + 8, b"\x07\0\0\0").result()
    assert target.freeze_write(journal_id, child.counter + 8, b"\x07\0\0\0").result().new \
        == b"\x07\0\0\0"
    assert workspace.backend.freeze_end(journal_id).result() == 1
    with pytest.raises(InvalidInput, match="not an open freeze"):
        target.freeze_write(journal_id, child.counter + 8, b"\x07\0\0\0").result()
    [entry] = workspace.backend.journal_entries(child.pid).result()
    assert (entry.freeze, entry.rewrites, entry.old) == (True, 1, bytes(4))


def test_freeze_stops_visibly_when_the_child_is_killed(qtbot, watch, child, workspace):
    entry = watch.add_address(child.counter + 8, "u32")
    qtbot.waitUntil(lambda: entry.data is not None, timeout=10000)
    assert watch.set_frozen(entry, True)
    with qtbot.waitSignal(watch.status, timeout=10000,
                          check_params_cb=lambda text: "freeze" in text) as blocker:
        child.kill()
    assert blocker.args[0] == "target exited: 1 freeze stopped"
    assert not entry.frozen and entry.freeze_note == "stopped: target exited"
    assert watch.data(watch.index(watch.row_of(entry), FREEZE)) == "stopped"
    assert not watch._freeze_timer.isActive() and not watch.live
    assert value_of(watch, entry) == "0"            # the last value read stays shown
    # And cannot be frozen again.
    assert not watch.set_frozen(entry, True)
    assert "cannot freeze: the target has exited" in entry.freeze_note


def test_plot_receives_samples(qtbot, watch, child):
    entry = watch.add_address(child.counter + 8, "u32", label="counter")
    other = watch.add_address(child.base + 7, "u8")
    assert not watch.set_plotted(watch.add_address(child.counter, "utf8", 4), True)
    with qtbot.waitSignal(watch.plot_changed):
        assert watch.setData(watch.index(watch.row_of(entry), PLOT), Qt.CheckState.Checked,
                             Qt.ItemDataRole.CheckStateRole)
    watch.set_plotted(other, True)
    assert watch._timer.interval() == 50            # plotted entries: 20 Hz
    qtbot.waitUntil(lambda: bool((t := watch.history.trace(entry.key)) and t.count >= 3),
                    timeout=10000)
    for _ in range(2):
        assert child.command("tick") == "ok"
    qtbot.waitUntil(lambda: watch.history.trace(entry.key).last()[1] == 2.0, timeout=10000)
    times, values = watch.history.trace(entry.key).arrays()
    assert list(values[:1]) == [0.0] and values[-1] == 2.0
    assert all(b > a for a, b in zip(times, times[1:]))
    assert set(watch.history.trace(other.key).arrays()[1]) == {7.0}
    csv = watch.history.to_csv([(entry.key, "counter"), (other.key, "u8")])
    lines = csv.splitlines()
    assert lines[0] == "time_s,counter,u8"
    assert lines[-1].split(",")[1] == "2" and lines[-1].split(",")[2] == "7"
    watch.set_plotted(entry, False)
    assert watch.history.trace(entry.key) is None


def test_entries_resolve_again_in_a_restarted_child(qtbot, workspace, tmp_path):
    first = spawn_child(tmp_path)
    try:
        attach(qtbot, workspace, first.pid)
        watch = workspace.watch
        spaced = watch.add_address(first.spaced, "utf8", 6)
        anon = watch.add_address(first.counter, "utf8", 7)
        assert spaced.location.kind == "module" and anon.location.kind == "absolute"
        qtbot.waitUntil(lambda: spaced.data == b"SPACED", timeout=10000)
        saved = watch.to_json()
    finally:
        first.kill()
    second = spawn_child(tmp_path)
    try:
        attach(qtbot, workspace, second.pid)
        watch.replace_entries(WatchModel.parse_json(saved))
        spaced, anon = watch.entries
        qtbot.waitUntil(lambda: spaced.data == b"SPACED", timeout=10000)
        assert spaced.address == second.spaced, spaced
        assert spaced.address == second.spaced
        # The absolute address of the first run means nothing now.
        assert anon.address != second.counter
    finally:
        second.kill()


def test_session_json_round_trip_and_malformed_entries(watch, child):
    entry = watch.add_address(child.counter + 8, "f32", label="speed")
    entry.unit = "m/s"
    entry.display = "hex"
    entry.plotted = True
    back = WatchModel.parse_json(watch.to_json())[0]
    assert (back.location, back.vtype, back.label, back.display, back.unit, back.plotted) == \
        (entry.location, entry.vtype, "speed", "hex", "m/s", True)
    for raw, message in [({}, "watch list must be a list"),
                         ([{"location": {"kind": "absolute", "name": "", "offset": 1},
                            "type": {"name": "i33"}}], "watch entry 1: unknown value type"),
                         ([5], "watch entry 1: a watch entry must be an object"),
                         ([{"location": {"kind": "absolute", "name": "", "offset": 1},
                            "type": {"name": "u8"}, "display": "roman"}],
                          "unknown display format")]:
        with pytest.raises(InvalidInput, match=message):
            WatchModel.parse_json(raw)


def test_kernel_symbols_are_watched_through_the_kernel_source(qtbot, qtmodeltester, workspace,
                                                              tmp_path):
    from lainview.backend.kernel import KernelBackend
    from tests.kernel_image import build_image
    watch = workspace.watch
    watch.set_kernel(None)                  # (the workspace's own source is auto)
    entry = watch.add_kernel_symbol("counter", "u32", label="counter")
    assert value_of(watch, entry).startswith("unresolved: no kernel source")
    watch.set_kernel(KernelBackend(workspace.backend, source="image",
                                   images=[str(build_image(tmp_path))]))
    missing = watch.add_text("kernel:no_such_symbol", "u32")
    second_byte = watch.add_text("kernel:counter+1", "u8")
    before = watch.add_text("kernel:counter-0x4", "u32")
    assert value_of(watch, before) == ("unresolved: kernel:counter-0x4: the watch list reads "
                                       "a kernel value from its symbol on, so its offset "
                                       "cannot be negative")
    watch.set_plotted(entry, True)
    qtbot.waitUntil(lambda: entry.data is not None and missing.error != "", timeout=10000)
    assert value_of(watch, entry) == str(0x11223344)
    qtbot.waitUntil(lambda: second_byte.data is not None, timeout=10000)
    assert value_of(watch, second_byte) == str(0x33)
    assert "no_such_symbol" in value_of(watch, missing)
    qtbot.waitUntil(lambda: bool((t := watch.history.trace(entry.key)) and t.count >= 2),
                    timeout=10000)
    # The image is a read-only snapshot: the write is refused and says so.
    task = watch.write_text(entry, "1")
    qtbot.waitUntil(task.done, timeout=10000)
    assert value_of(watch, entry).startswith("write failed:") and "read-only" in \
        value_of(watch, entry)
    qtmodeltester.check(watch)


def test_typed_entries_and_type_edits(qtbot, watch, child):
    entry = watch.add_text(f"{child.base + 0x10:#x}", "u16 be")
    qtbot.waitUntil(lambda: entry.data is not None, timeout=10000)
    assert value_of(watch, entry) == str(0x1011)
    assert watch.setData(watch.index(watch.row_of(entry), 3), "bytes[4]")
    qtbot.waitUntil(lambda: entry.data is not None, timeout=10000)
    assert value_of(watch, entry) == "10 11 12 13"
    assert not watch.setData(watch.index(watch.row_of(entry), 3), "u16[3]")
    with pytest.raises(InvalidInput):
        watch.add_text("nowhere+0x10", "u8")


def test_value_types_of_the_watch_list_come_from_the_registry():
    assert [ValueType.for_selection(n).label for n in (1, 2, 3, 4, 8, 5000)] == \
        ["u8", "i16", "bytes[3]", "i32", "i64", "bytes[4096]"]
    assert ValueType.parse("utf16le[4]").size == 8
    assert ValueType.parse("f64 be").label == "f64 be"
    with pytest.raises(InvalidInput, match="only bytes, utf8, utf16le take a length"):
        ValueType.parse("i32[4]")
    f32 = ValueType.of("f32", big_endian=True)
    assert f32.formats() == ("auto", "float", "hex")
    assert f32.format(struct.pack(">f", 1.123)) == "1.123"
    assert f32.format(struct.pack(">f", 1.5), "hex") == "0x3fc00000"
    assert f32.encode("0x3fc00000", "hex") == struct.pack(">f", 1.5)
    text = ValueType.of("utf8", 4)
    assert text.encode("ab") == b"ab\0" and text.format(b"a\tb\0") == "a\\tb"
    with pytest.raises(InvalidInput, match="5 bytes do not fit in utf8\\[4\\]"):
        text.encode("abcde")


def test_a_refresh_repaints_only_the_values_that_changed(qtbot, watch, child):
    """A hundred watched values at 10 Hz: a refresh announces (dataChanged)
    only the Value cells whose text changed, as runs of consecutive rows;
    rows that read the same are not repainted, and the Address column only
    when a row is first read (or its address moves)."""
    entries = [watch.add_address(child.base + i, "u8") for i in range(1, 6)]
    counter = watch.add_address(child.counter + 8, "u32", label="counter")
    qtbot.waitUntil(lambda: all(e.data is not None for e in [*entries, counter]),
                    timeout=10000)
    ticks = watch.ticks
    qtbot.waitUntil(lambda: watch.ticks >= ticks + 2, timeout=10000)   # first reads announced
    changes: list[tuple[int, int, int, int]] = []
    watch.dataChanged.connect(lambda top, bottom, roles: changes.append(
        (top.row(), bottom.row(), top.column(), bottom.column())))
    ticks = watch.ticks
    qtbot.waitUntil(lambda: watch.ticks >= ticks + 3, timeout=10000)
    assert changes == []                            # nothing changed: nothing repainted
    assert child.command("tick") == "ok"
    qtbot.waitUntil(lambda: value_of(watch, counter) == "1", timeout=10000)
    row = watch.row_of(counter)
    # Its Value cell, and only it (its fading highlight is that cell too).
    assert set(changes) == {(row, row, VALUE, VALUE)}, changes
    # The highlight fades out over a second; the row stays announced, so no
    # refresh repaints its Address or Type cells meanwhile.
    qtbot.waitUntil(lambda: watch.poller.fading(counter, time.monotonic()) is None,
                    timeout=10000)
    ticks = watch.ticks
    qtbot.waitUntil(lambda: watch.ticks >= ticks + 3, timeout=10000)
    assert set(changes) == {(row, row, VALUE, VALUE)}, changes


def test_a_new_map_repaints_only_rows_whose_location_moved(qtbot, watch, workspace, child):
    """The map is read again every few seconds: rows that still resolve to
    where they did are not repainted (repainting every row was a 10 ms
    stall of the GUI thread with a hundred watches). A row whose location
    does change is announced as any refresh announces it (``_refreshed``,
    tested with pointer paths)."""
    entries = [watch.add_address(child.base + i, "u8") for i in range(1, 4)]
    qtbot.waitUntil(lambda: all(e.data is not None for e in entries), timeout=10000)
    ticks = watch.ticks
    qtbot.waitUntil(lambda: watch.ticks >= ticks + 2, timeout=10000)
    changes: list[tuple[int, int]] = []
    watch.dataChanged.connect(lambda top, bottom, roles: changes.append(
        (top.row(), bottom.row())))
    task = workspace.spawn(workspace.target.refresh_areas())
    qtbot.waitUntil(task.done, timeout=10000)
    assert task.result() is not None            # a map was read and announced
    assert changes == []


def test_the_list_is_told_at_its_own_rate_while_the_plot_samples_faster(qtbot, watch,
                                                                           child):
    """Plotted entries are read at 20 Hz for the plot; the table hears of
    new values at the list's rate (here 2 Hz), not at every plot tick."""
    entry = watch.add_address(child.counter + 8, "u32", label="counter")
    watch.set_refresh_rate(2.0)
    watch.set_plotted(entry, True)
    qtbot.waitUntil(lambda: bool((t := watch.history.trace(entry.key)) and t.count >= 2),
                    timeout=10000)
    announced: list[int] = []
    watch.poller.refreshed.connect(lambda entries: announced.append(len(entries)))
    ticks, samples, started = watch.ticks, watch.history.trace(entry.key).count, \
        time.monotonic()
    qtbot.wait(1500)
    elapsed = time.monotonic() - started
    sampled = watch.history.trace(entry.key).count - samples
    assert watch.ticks - ticks >= 10 and sampled >= 10      # the plot's 20 Hz
    assert 1 <= len(announced) <= elapsed * 2 + 1, (announced, elapsed)


def test_values_are_repainted_on_the_first_refresh_after_a_reattach(qtbot, watch, workspace,
                                                                   child):
    """Reattaching empties every row ("…"); the first refresh that reads
    the value again announces it, though it reads what it read before the
    detach (nothing may wait for the map's next refresh)."""
    entry = watch.add_address(child.base + 1, "u8")
    qtbot.waitUntil(lambda: value_of(watch, entry) == "1", timeout=10000)
    ticks = watch.ticks
    qtbot.waitUntil(lambda: watch.ticks >= ticks + 2, timeout=10000)
    task = workspace.spawn(workspace.target.detach())
    qtbot.waitUntil(task.done, timeout=10000)
    announced: list[str] = []
    row = watch.row_of(entry)
    watch.dataChanged.connect(lambda top, bottom, roles: announced.append(
        value_of(watch, entry)) if top.row() <= row <= bottom.row()
        and top.column() <= VALUE <= bottom.column() else None)
    attach(qtbot, workspace, child.pid)
    workspace._areas_timer.stop()          # no map refresh repaints every row meanwhile
    qtbot.waitUntil(lambda: "1" in announced, timeout=10000)


def test_a_watch_right_after_a_modules_bss_is_kept_at_its_address(qtbot, workspace, bss_tail):
    """Memory the kernel merged into a program's .bss area but beyond the
    ELF's .bss is no ``prog+offset``: once symbols are read (for this map
    or an earlier one), a watch (and a bookmark) added there keeps the
    address; one in the .bss keeps ``prog+offset``."""
    from lainview.backend.locations import LocationKind
    attach(qtbot, workspace, bss_tail.pid)
    target = workspace.target
    # The map changes every millisecond: symbols read for one map still
    # bound the .bss in the next (they were never taken, and the .bss
    # rule fell back to the map alone).
    assert bss_tail.command("churn") == "ok"
    qtbot.waitUntil(lambda: target.static_end() is not None, timeout=30000)
    symbols = target.symbols
    assert symbols is not None
    # A later map than the symbols were read for (the churn makes one within
    # a few reads) still has the .bss bounded.
    for _ in range(50):
        later = target.target.areas().result(10)
        if later != symbols.areas:
            break
    assert later != symbols.areas
    tail, path = bss_tail["tail"], next(a.file_path for a in later if a.path.endswith("bss_tail"))
    assert symbols.static_end_in(later)(path) == bss_tail["end"]
    assert locate(tail, later, symbols.static_end_in(later)) == Location.absolute(tail)
    beyond = workspace.watch.add_address(bss_tail["tail"], "u64")
    inside = workspace.watch.add_address(bss_tail["end"] - 8, "u64")
    assert beyond.location == Location.absolute(bss_tail["tail"])
    assert inside.location.kind is LocationKind.MODULE
    typed = workspace.watch.add_text(f"{bss_tail['tail'] + 8:#x}", "u64")
    assert typed.location == Location.absolute(bss_tail["tail"] + 8)
    mark = workspace.bookmarks.add_address(bss_tail["tail"] + 16)
    assert mark.location == Location.absolute(bss_tail["tail"] + 16)


def test_pausing_ends_the_change_highlights_at_once(qtbot, watch, child):
    """The highlight of a changed value fades at each tick; pausing stops
    the ticks, so it ends there (it stayed half faded until something else
    repainted the cell)."""
    counter = watch.add_address(child.counter + 8, "u32", label="counter")
    qtbot.waitUntil(lambda: value_of(watch, counter) == "0", timeout=10000)
    assert child.command("tick") == "ok"
    qtbot.waitUntil(lambda: value_of(watch, counter) == "1", timeout=10000)
    assert watch.poller.fading(counter, time.monotonic()) is not None
    row = watch.row_of(counter)
    with qtbot.waitSignal(watch.dataChanged, timeout=1000,
                          check_params_cb=lambda top, bottom, roles: top.row() <= row
                          <= bottom.row() and top.column() <= VALUE <= bottom.column()):
        watch.set_paused(True)
    assert watch.poller.fading(counter, time.monotonic()) is None
    assert watch.data(watch.index(row, VALUE), Qt.ItemDataRole.BackgroundRole) is None
