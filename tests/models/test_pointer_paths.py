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
