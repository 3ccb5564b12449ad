"""Pointer-path locations (``base->+0x18->+0x8``) in the watch list,
bookmarks, go-to and patches, against a compiled C child whose pointers
change between refreshes (tests/c/pointer_chain.c): resolved again on every
refresh through the backend thread, a broken chain said in the cell and
mended when the chain is whole again, writes to the address resolved at
that moment (journaled, with the path as their location), sessions."""

from __future__ import annotations

import struct

from lainview.backend.locations import Location, locate, parse_location
from lainview.backend.patch import Patch, PatchWrite
from lainview.models.watch_model import ADDRESS, VALUE, WatchEntry, WatchModel

from tests.models.qt_support import attach
from tests.pointer_chain_support import chain_child  # noqa: F401


def _path(ws, child) -> Location:
    base = locate(child.info["global"], ws.target.areas)
    return parse_location(f"{base.text}->+0x18->+0x8")


def _value(model: WatchModel, entry: WatchEntry) -> str:
    return model.data(model.index(model.row_of(entry), VALUE))


def test_a_watched_pointer_path_follows_the_chain_on_every_refresh(qtbot, workspace,
                                                                     chain_child):  # noqa: F811
    attach(qtbot, workspace, chain_child.pid)
    watch = workspace.watch
    location = _path(workspace, chain_child)
    entry = watch.add(location, watch_type("u32"), "value")
    assert entry.location.steps == (0x18, 0x8)
    qtbot.waitUntil(lambda: _value(watch, entry) == "1000", timeout=10000)
    assert entry.address == chain_child.value
    first = chain_child.value
    # The child moves the value: the next refresh follows the pointers to it.
    chain_child.command("move")
    chain_child.command("set 1234")
    assert chain_child.value != first
    qtbot.waitUntil(lambda: _value(watch, entry) == "1234", timeout=10000)
    assert entry.address == chain_child.value
    # A chain that breaks says where, in the cell, and mends when whole again.
    chain_child.command("break")
    qtbot.waitUntil(lambda: _value(watch, entry).startswith("unresolved: at level 2"),
                    timeout=10000)
    assert "not mapped" in _value(watch, entry)
    assert entry.address is None or entry.unresolved
    chain_child.command("fix")
    qtbot.waitUntil(lambda: _value(watch, entry) == "1234", timeout=10000)
    assert not entry.unresolved
    assert watch.data(watch.index(watch.row_of(entry), ADDRESS)) == location.text


def test_a_write_goes_where_the_path_leads_at_that_moment_and_is_journaled(
        qtbot, workspace, chain_child):  # noqa: F811
    attach(qtbot, workspace, chain_child.pid)
    watch = workspace.watch
    entry = watch.add(_path(workspace, chain_child), watch_type("u32"))
    qtbot.waitUntil(lambda: _value(watch, entry) == "1000", timeout=10000)
    watch.set_paused(True)              # no refresh between the move and the write
    chain_child.command("move")
    moved = chain_child.value
    assert moved != entry.address
    assert watch.setData(watch.index(watch.row_of(entry), VALUE), "77")
    qtbot.waitUntil(lambda: chain_child.command("peek")["number"] == 77, timeout=10000)
    [written] = workspace.backend.journal_entries(chain_child.pid).result()
    assert (written.address, written.new) == (moved, struct.pack("<I", 77))
    assert Location.from_json(written.location) == entry.location


def test_bookmarks_and_go_to_follow_a_pointer_path(qtbot, workspace, chain_child):  # noqa: F811
    attach(qtbot, workspace, chain_child.pid)
    location = _path(workspace, chain_child)
    mark = workspace.bookmarks.add("value", location, size=4)
    qtbot.waitUntil(lambda: mark.address == chain_child.value, timeout=10000)
    chain_child.command("move")
    qtbot.waitUntil(lambda: mark.address == chain_child.value, timeout=10000)
    chain_child.command("break")
    qtbot.waitUntil(lambda: mark.address is None and "at level 2" in mark.unresolved,
                    timeout=10000)
    chain_child.command("fix")
    task = workspace.go_to_task(location.text)
    qtbot.waitUntil(task.done, timeout=10000)
    assert task.result() == chain_child.value
    assert workspace.cursor.address == chain_child.value


def test_sessions_keep_pointer_paths(qtbot, workspace, chain_child):  # noqa: F811
    attach(qtbot, workspace, chain_child.pid)
    location = _path(workspace, chain_child)
    assert parse_location(location.text).text == location.text
    entry = workspace.watch.add(location, watch_type("u32"), "value")
    back = WatchModel.parse_json(workspace.watch.to_json())
    assert [e.location for e in back] == [entry.location]
    mark = workspace.bookmarks.add("value", location, size=4)
    marks = workspace.bookmarks.parse_json(workspace.bookmarks.to_json())
    assert [b.location for b in marks] == [mark.location]


def test_a_patch_resolves_a_pointer_path_when_applied(qtbot, workspace, chain_child):  # noqa: F811
    attach(qtbot, workspace, chain_child.pid)
    location = _path(workspace, chain_child)
    chain_child.command("move")
    patch = Patch(chain_child.proc.args[0], (), (
        PatchWrite(location, struct.pack("<I", 1000), struct.pack("<I", 5)),))
    report = workspace.backend.apply_patch(patch, chain_child.pid).result()
    assert report.applied, report.outcomes
    assert report.outcomes[0].address == chain_child.value
    assert chain_child.command("peek")["number"] == 5


def watch_type(name: str):
    from lainview.models.watch_values import ValueType
    return ValueType.of(name)


def _start_demo():
    import json
    import subprocess
    import sys
    from tests.models.qt_support import Demo
    proc = subprocess.Popen([sys.executable, "-m", "lainview.demo_target"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return Demo(proc, json.loads(proc.stdout.readline().split(" ", 1)[1]))


def test_the_demos_gold_is_found_through_a_pointer_path_after_a_restart(qtbot, workspace,
                                                                          tmp_path):
    """The issue's "done when": the demo's value, found by a pointer scan,
    watched on its path, is shown again after the demo restarts (a session)."""
    first = _start_demo()
    try:
        attach(qtbot, workspace, first.pid)
        pointers = workspace.pointers
        pointers.prepare(first.gold, watch_type("u32"), "gold")
        task = pointers.start()
        qtbot.waitUntil(task.done, timeout=60000)
        assert task.result() == "done", pointers.last_message
        texts = [p.text for p in pointers.results.paths]
        assert first.gold_path in texts, texts[:20]
        assert all(t.startswith("memfd:lainview-demo+0xfc0->") for t in texts), texts[:20]
        path = pointers.results.path(texts.index(first.gold_path))
        from lainview.models.pointer_scan_model import path_location
        entry = workspace.watch.add(path_location(path), watch_type("u32"), "gold")
        gold = lambda demo: int.from_bytes(demo.peek(demo.gold, 4), "little")  # noqa: E731
        qtbot.waitUntil(lambda: entry.data is not None and entry.address == first.gold,
                        timeout=10000)
        assert abs(int.from_bytes(entry.data, "little") - gold(first)) <= 1
        session = str(tmp_path / "gold.lainview")
        saving = workspace.spawn(workspace.sessions.save(session))
        qtbot.waitUntil(saving.done, timeout=10000)
        assert saving.result() is True
    finally:
        first.kill()
    second = _start_demo()
    try:
        assert second.gold != first.gold            # anonymous memory: it moved
        attach(qtbot, workspace, second.pid)
        said: list[str] = []
        workspace.sessions.status.connect(said.append)
        opening = workspace.spawn(workspace.sessions.open(session, second.pid))
        qtbot.waitUntil(opening.done, timeout=10000)
        assert opening.result() == "opened"
        # The path is not counted as unresolved: it is followed on refresh.
        assert said[-1].endswith(": 1 pointer path followed on each refresh"), said
        [again] = workspace.watch.entries
        assert again.location.text == first.gold_path
        qtbot.waitUntil(lambda: again.address == second.gold and again.data is not None,
                        timeout=10000)
        assert abs(int.from_bytes(again.data, "little") - gold(second)) <= 1
    finally:
        second.kill()


def test_a_frozen_pointer_path_is_held_where_it_leads_now(qtbot, workspace,
                                                           chain_child):  # noqa: F811
    attach(qtbot, workspace, chain_child.pid)
    watch = workspace.watch
    entry = watch.add(_path(workspace, chain_child), watch_type("u32"))
    qtbot.waitUntil(lambda: _value(watch, entry) == "1000", timeout=10000)
    first = chain_child.value
    assert watch.set_frozen(entry, True, struct.pack("<I", 55))
    qtbot.waitUntil(lambda: chain_child.command("peek")["number"] == 55, timeout=10000)
    chain_child.command("move")
    chain_child.command("set 9")
    assert chain_child.value != first
    qtbot.waitUntil(lambda: chain_child.command("peek")["number"] == 55, timeout=10000)
    qtbot.waitUntil(lambda: len(workspace.backend.journal_entries(chain_child.pid).result())
                    == 2, timeout=10000)
    old, new = workspace.backend.journal_entries(chain_child.pid).result()
    assert (old.address, new.address) == (first, chain_child.value)
    assert old.ended is not None and new.ended is None
    assert entry.frozen


def test_a_kernel_pointer_path_is_not_read_as_its_symbol(qtbot, workspace):
    """The watch list reads kernel values by symbol name: a path through
    kernel pointers is said to be unsupported, never read at the symbol."""
    watch = workspace.watch
    entry = watch.add(parse_location("kernel:jiffies->+0x8"), watch_type("u64"))
    assert entry.follows_pointers and "does not follow pointer paths" in entry.unresolved
    assert watch.kernel_values.readable([entry]) == []
    assert _value(watch, entry).startswith("unresolved: ")


def test_a_thread_stack_path_is_watched_bookmarked_and_gone_to(qtbot, workspace, tmp_path):
    """A pointer-scan result based on a thread's stack ([stack#1]-0x…) is a
    location like any other: the watch list shows the value through it, and
    so does a bare [stack#N] location (resolved on the backend thread)."""
    from lainview.backend.locations import LocationKind
    from tests import ptrscan_support
    child = ptrscan_support.start(ptrscan_support.build(tmp_path), 1)
    try:
        attach(qtbot, workspace, child.pid)
        target = workspace.target.target
        result = target.pointer_scan(child["value"], depth=1, stacks=True,
                                     limit=100_000).result(timeout=120)
        path = next(p for p in result.paths
                    if p.base.kind is LocationKind.THREAD_STACK and p.offsets == (8,))
        watch = workspace.watch
        entry = watch.add(path.location, watch_type("i64"), "on a stack")
        qtbot.waitUntil(lambda: _value(watch, entry) == str(ptrscan_support.VALUE),
                        timeout=10000)
        assert entry.address == child["value"]
        # The stack slot itself (no steps) holds the pointer to obj2.
        slot = watch.add(path.location.base, watch_type("u64"), "slot")
        qtbot.waitUntil(lambda: _value(watch, slot) == str(child["obj2"]), timeout=10000)
        mark = workspace.bookmarks.add("value", path.location, size=8)
        qtbot.waitUntil(lambda: mark.address == child["value"], timeout=10000)
        at = target.resolve(path.location.base, 8).result()
        assert workspace.go_to(path.location.base.text) is None     # resolved on the backend
        qtbot.waitUntil(lambda: workspace.cursor.address == at, timeout=10000)
    finally:
        child.stop()
