"""Bookmarks across a restart at a different base, the journal model and
its reverts, and session files saved, reopened on a restarted program, and
refused when malformed."""

from __future__ import annotations

import json
import os
import struct

from pathlib import Path

import pytest

from lainview.backend.errors import InvalidInput
from lainview.backend.locations import Location
from lainview.models.bookmarks import ADDRESS, BookmarkModel
from lainview.models.journal_model import OUTCOME, target_key
from lainview.models.session_file import SessionData, read_session
from lainview.models.sessions import recent_sessions

from tests.aslr_support import aslr_enabled, build, start
from tests.conftest import spawn_child
from tests.models.qt_support import attach


def run(qtbot, coro_or_task, timeout=10000):
    import asyncio
    task = asyncio.ensure_future(coro_or_task)
    qtbot.waitUntil(task.done, timeout=timeout)
    return task.result()


# -- bookmarks -------------------------------------------------------------------------------------

def test_bookmarks_resolve_after_a_restart_at_a_different_base(qtbot, qtmodeltester, workspace,
                                                                tmp_path):
    exe = build(tmp_path)
    first = start(exe)
    try:
        attach(qtbot, workspace, first.pid)
        marks = workspace.bookmarks
        bss = marks.add_address(first.bss, "marker", "set by main()", size=10)
        data = marks.add_address(first.data, "data_var", size=4)
        assert bss.location.kind == "module" and bss.location.name == str(exe)
        assert [m.address for m in marks.markers_in(first.bss, first.bss + 1)] == [first.bss]
        saved = marks.to_json()
        qtmodeltester.check(marks)
    finally:
        first.stop()
    second = start(exe)
    try:
        if aslr_enabled():
            assert second.bss != first.bss
        with qtbot.waitSignal(workspace.bookmarks.markers_changed, timeout=10000):
            attach(qtbot, workspace, second.pid)
        assert (bss.address, data.address) == (second.bss, second.data)
        marks.replace(BookmarkModel.parse_json(saved))
        assert [b.address for b in marks.bookmarks] == [second.bss, second.data]
        target = workspace.target.target
        assert target.read(second.bss, 10).result().data == b"BSS-MARKER"
        workspace.go_to(marks.bookmarks[0].location.text)
        assert workspace.cursor.address == second.bss
        qtmodeltester.check(marks)
    finally:
        second.stop()


def test_unresolved_bookmarks_say_why_and_bad_ones_are_refused(qtbot, workspace, child):
    attach(qtbot, workspace, child.pid)
    marks = workspace.bookmarks
    gone = marks.add("gone", Location("module", "/opt/nothing/libgone.so", 0x40))
    assert gone.address is None
    assert marks.data(marks.index(0, ADDRESS)).startswith(
        f"unresolved: no module named /opt/nothing/libgone.so in the map of pid {child.pid}; ")
    with pytest.raises(InvalidInput):
        marks.add("k", Location.kernel_symbol("jiffies"))
    for raw, message in [({}, "must be a list"), ([{"name": ""}], "bookmark 1: a bookmark needs"),
                         ([{"name": "x", "size": 0}], "bad size"),
                         ([{"name": "x", "location": {"kind": "?"}}], "unknown location kind")]:
        with pytest.raises(InvalidInput, match=message):
            BookmarkModel.parse_json(raw)


# -- the journal ----------------------------------------------------------------------------------

def test_journal_model_lists_writes_and_reverts_them(qtbot, qtmodeltester, workspace, child):
    attach(qtbot, workspace, child.pid)
    journal = workspace.journal
    journal.start()
    target = workspace.target.target
    address = child.counter + 8
    target.write(address, b"\x01\x00\x00\x00").result()
    target.write(address, b"\x02\x00\x00\x00").result()
    target.write(child.base, b"\xee").result()
    qtbot.waitUntil(lambda: journal.rowCount() == 3, timeout=10000)   # the file poll finds them
    qtmodeltester.check(journal)
    assert journal.data(journal.index(0, OUTCOME)) == "ok"
    assert journal.data(journal.index(1, 4)) == "01 00 00 00" and \
        journal.data(journal.index(1, 5)) == "02 00 00 00"
    assert journal.data(journal.index(0, 2)).startswith(f"pid {child.pid}")
    # Revert one entry: the second write of the counter.
    with qtbot.waitSignal(journal.reverted, timeout=10000) as blocker:
        journal.revert_entries([journal.entry(1)])
    assert [o.status for o in blocker.args[0]] == ["reverted"]
    assert child.peek(address, 4) == b"\x01\x00\x00\x00"
    qtbot.waitUntil(lambda: journal.rowCount() == 4, timeout=10000)
    assert "reverted by #4" in journal.data(journal.index(1, OUTCOME))
    assert journal.data(journal.index(3, OUTCOME)) == "revert of #2 · ok"
    # Revert everything left for this process, newest first, each reported.
    key = target_key(journal.entry(0))
    assert [e.id for e in journal.revertible_for_target(key)] == [3, 1]
    with qtbot.waitSignal(journal.reverted, timeout=10000) as blocker:
        journal.revert_target(key)
    assert [(o.entry_id, o.status) for o in blocker.args[0]] == [(3, "reverted"), (1, "reverted")]
    assert child.peek(address, 4) == bytes(4) and child.peek(child.base, 1) == b"\x00"
    qtbot.waitUntil(lambda: journal.rowCount() == 6, timeout=10000)
    assert journal.revertible_for_target(key) == []
    qtmodeltester.check(journal)


def test_journal_entries_of_a_gone_target_stay_and_report_gone(qtbot, workspace, child):
    attach(qtbot, workspace, child.pid)
    journal = workspace.journal
    workspace.target.target.write(child.base, b"\x55").result()
    run(qtbot, journal.reload())
    child.kill()
    assert journal.rowCount() == 1
    with qtbot.waitSignal(journal.reverted, timeout=10000) as blocker:
        journal.revert_entries([journal.entry(0)])
    assert blocker.args[0][0].status == "gone"
    run(qtbot, journal.reload())
    assert journal.rowCount() == 1


# -- sessions -------------------------------------------------------------------------------------

def test_session_survives_a_restart_of_the_target(qtbot, workspace, tmp_path):
    path = str(tmp_path / "game.lainview.json")
    first = spawn_child(tmp_path)
    try:
        attach(qtbot, workspace, first.pid)
        watch = workspace.watch
        watch.add_address(first.spaced, "utf8", 6, label="spaced")
        watch.add_address(first.memfd, "utf8", 5, label="memfd")
        workspace.bookmarks.add_address(first.spaced + 2, "in the file", "ACED")
        area = next(a for a in workspace.target.areas if a.start == first.spaced)
        workspace.open_area(area, first.spaced + 3)
        assert run(qtbot, workspace.sessions.save(path, {"bytes_per_row": 32}))
    finally:
        first.kill()
    saved = json.loads(open(path).read())
    assert saved["format"] == "lainview-session" and saved["version"] == 2
    assert saved["target"]["cmdline"][-1] == str(tmp_path) and "pid" not in saved["target"]
    assert recent_sessions()[0] == path
    workspace.watch.clear()
    second = spawn_child(tmp_path)
    try:
        with qtbot.waitSignal(workspace.sessions.view_restored, timeout=10000) as restored:
            assert run(qtbot, workspace.sessions.open(path)) == "opened"
        assert restored.args[0]["bytes_per_row"] == 32
        assert workspace.target.pid == second.pid
        spaced, memfd = workspace.watch.entries
        qtbot.waitUntil(lambda: spaced.data == b"SPACED" and memfd.data == b"MEMFD",
                        timeout=10000)
        assert spaced.address == second.spaced and memfd.address == second.memfd
        assert workspace.bookmarks.bookmarks[0].address == second.spaced + 2
        assert workspace.document.region.start == second.spaced
        assert workspace.cursor.address == second.spaced + 3
    finally:
        second.kill()


def test_several_matching_processes_offer_a_pick(qtbot, workspace, tmp_path):
    """Two processes run the session's program: while one is attached, the
    session opens on it; attached to neither, the user picks."""
    first, second = spawn_child(tmp_path), spawn_child(tmp_path)
    path = str(tmp_path / "s.lainview.json")
    try:
        attach(qtbot, workspace, first.pid)
        workspace.watch.add_address(first.spaced, "utf8", 6)
        assert run(qtbot, workspace.sessions.save(path))
        assert run(qtbot, workspace.sessions.open(path)) == "opened"
        assert workspace.target.pid == first.pid
        run(qtbot, workspace.target.detach())
        with qtbot.waitSignal(workspace.sessions.pick_needed, timeout=10000) as pick:
            assert run(qtbot, workspace.sessions.open(path)) == "pick"
        assert {p.pid for p in pick.args[0]} == {first.pid, second.pid}
        assert run(qtbot, workspace.sessions.choose(second.pid)) == "opened"
        assert workspace.target.pid == second.pid
        qtbot.waitUntil(lambda: workspace.watch.entries[0].data == b"SPACED", timeout=10000)
    finally:
        first.kill()
        second.kill()


def test_malformed_sessions_are_refused_and_change_nothing(qtbot, workspace, child, tmp_path):
    attach(qtbot, workspace, child.pid)
    entry = workspace.watch.add_address(child.base, "u8", label="keep me")
    good = SessionData(exe="/bin/true", cmdline=["true"]).to_json()
    cases = {
        "notjson": ("{", "is not valid JSON (line 1"),
        "binary": (b"\xff\xfe\x00", "is not text"),
        "other": (json.dumps({"hello": 1}), "not a lainview session file"),
        "future": (json.dumps({**good, "version": 99}), "version 99, newer than this"),
        "noexe": (json.dumps({**good, "target": {"exe": "", "cmdline": []}}),
                  "has no executable path"),
        "badwatch": (json.dumps({**good, "watch": [{"location": {"kind": "absolute",
                                                               "name": "", "offset": 1},
                                                  "type": {"name": "u99"}}]}),
                     "watch entry 1: unknown value type"),
        "badmark": (json.dumps({**good, "bookmarks": [{"name": "x", "size": -1}]}),
                    "bookmark 1: bad size"),
        "badstruct": (json.dumps({**good, "structures": [{"declarations": "", "type": "int"}]}),
                      "structure 1: a placement needs 'location' as text"),
        "badheader": (json.dumps({**good, "structures": [
            {"name": "p", "declarations": "struct p { int x }", "type": "struct p",
             "location": "0x10"}]}), "structure 1 (p): declarations:1:18: syntax error"),
        "badfield": (json.dumps({**good, "watch": [{
            "location": {"kind": "absolute", "name": "", "offset": 16}, "type": {"name": "i32"},
            "field": {"path": "p.y", "placement": {
                "name": "p", "declarations": "struct p { int x; };", "type": "struct p",
                "location": "0x10"}}}]}),
            "watch entry 1: field path 'p.y': 'struct p' has no field 'y'"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        with qtbot.waitSignal(workspace.sessions.status, timeout=10000) as status:
            assert run(qtbot, workspace.sessions.open(str(path))) == "invalid"
        assert status.args[0].startswith("session not opened: ") and message in status.args[0], \
            (name, status.args[0])
        assert workspace.watch.entries == [entry] and workspace.target.pid == child.pid
    # The hostile corpus (tests/corpus/session-*.json): NaN intervals, ints
    # past what Qt takes, deep nesting... all refused, nothing half-applied.
    rates = (workspace.watch.refresh_hz, workspace.watch.plot_hz,
             workspace.watch.freeze_interval_ms, workspace.document.refresh_hz)
    corpus = sorted((Path(__file__).parent.parent / "corpus").glob("session-*.json"))
    assert len(corpus) >= 10
    for path in corpus:
        with qtbot.waitSignal(workspace.sessions.status, timeout=10000) as status:
            assert run(qtbot, workspace.sessions.open(str(path))) == "invalid", path.name
        assert status.args[0].startswith("session not opened: "), status.args[0]
        assert workspace.watch.entries == [entry] and workspace.target.pid == child.pid
        assert (workspace.watch.refresh_hz, workspace.watch.plot_hz,
                workspace.watch.freeze_interval_ms, workspace.document.refresh_hz) == rates
    with pytest.raises(InvalidInput, match="cannot read"):
        read_session(tmp_path / "missing.json")
    assert not os.path.exists(tmp_path / "missing.json")


def test_saving_without_a_target_says_so(qtbot, workspace, tmp_path):
    with qtbot.waitSignal(workspace.sessions.status) as status:
        assert not run(qtbot, workspace.sessions.save(str(tmp_path / "x.json")))
    assert "attach to a process first" in status.args[0]
    assert not (tmp_path / "x.json").exists()


def test_session_with_no_running_process_resolves_on_attach(qtbot, workspace, tmp_path):
    first = spawn_child(tmp_path)
    path = str(tmp_path / "later.lainview.json")
    try:
        attach(qtbot, workspace, first.pid)
        workspace.watch.add_address(first.spaced, "utf8", 6)
        assert run(qtbot, workspace.sessions.save(path))
    finally:
        first.kill()
    run(qtbot, workspace.target.detach())
    assert run(qtbot, workspace.sessions.open(path)) == "no-process"
    entry = workspace.watch.entries[0]
    assert entry.address is None and entry.unresolved
    second = spawn_child(tmp_path)
    try:
        attach(qtbot, workspace, second.pid)
        qtbot.waitUntil(lambda: entry.data == b"SPACED", timeout=10000)
        assert entry.address == second.spaced
    finally:
        second.kill()


def test_edits_from_the_watch_list_reach_the_journal_model(qtbot, workspace, child):
    attach(qtbot, workspace, child.pid)
    journal = workspace.journal
    journal.start()
    entry = workspace.watch.add_address(child.counter + 8, "u32")
    qtbot.waitUntil(lambda: entry.data is not None, timeout=10000)
    workspace.watch.write_text(entry, "7")
    qtbot.waitUntil(lambda: journal.rowCount() == 1, timeout=10000)
    assert journal.entry(0).new == struct.pack("<I", 7)
