"""The structure dock on the live demo: paste its struct's C declaration,
place it at the struct, see the known values refresh live, edit a field
(written to the demo through the journaled path), and a bad header said in
the panel."""

from __future__ import annotations

import struct

from PySide6.QtCore import Qt

from lainview.ui.structure_dock import EXAMPLE

from tests.models.qt_support import open_demo_window


def _value(model, path: str):
    return model.data(model.find(path))


def test_placed_struct_shows_live_fields_and_writes_a_field(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    feature = window.features["structure"]
    panel, model = feature.panel, feature.model
    window.show_dock("structure")
    panel.declarations.setPlainText(EXAMPLE)
    panel.type_edit.setText("struct demo")
    window.workspace.cursor.move_to(demo.struct)
    assert feature.place_at_cursor(), panel.note.text()
    assert panel.note.text() == f"struct demo at {demo.struct:#x} (40 bytes)"
    qtbot.waitUntil(lambda: _value(model, "magic") == str(0x4E49414C))
    assert model.data(model.find("name")).startswith('"')
    assert model.rowCount() == 6
    # position swings every 0.1 s: the view follows without a reset
    resets = []
    model.modelReset.connect(lambda: resets.append(1))
    first = _value(model, "position")
    qtbot.waitUntil(lambda: _value(model, "position") != first, timeout=5000)
    assert not resets
    # editing a field writes it into the demo (journaled, like every write)
    journal = window.workspace.journal
    entries = len(journal.entries)
    assert model.setData(model.find("health"), "77")
    qtbot.waitUntil(lambda: demo.peek(demo.struct + 4, 4) == struct.pack("<i", 77),
                    timeout=5000)
    qtbot.waitUntil(lambda: _value(model, "health") == "77", timeout=5000)
    journal.reload()
    qtbot.waitUntil(lambda: len(journal.entries) > entries, timeout=5000)
    assert journal.entries[-1].address == demo.struct + 4
    # a value that does not fit is refused, nothing written
    assert not model.setData(model.find("health"), "99999999999")
    assert "health" in model.last_error
    assert demo.peek(demo.struct + 4, 4) == struct.pack("<i", 77)


def test_bad_declarations_are_said_in_the_panel(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    feature = window.features["structure"]
    feature.panel.declarations.setPlainText("struct demo { int x }")
    feature.panel.type_edit.setText("struct demo")
    assert not feature.place_at_cursor()
    assert "line 1, column 21" in feature.panel.note.text()
    feature.panel.declarations.setPlainText(EXAMPLE)
    feature.panel.type_edit.setText("struct nope")
    assert not feature.place_at_cursor()
    assert "no struct 'nope'" in feature.panel.note.text()


def test_go_to_a_field_and_watch_it(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    feature = window.features["structure"]
    model = feature.model
    feature.panel.declarations.setPlainText(EXAMPLE)
    window.workspace.cursor.move_to(demo.struct)
    assert feature.place_at_cursor()          # the type field empty: the first declared
    assert feature.panel.type_edit.text() == "struct demo"
    speed = model.find("speed").siblingAtColumn(0)
    assert feature.go_to_field(speed)
    assert window.workspace.cursor.address == demo.struct + 8
    assert not feature.go_to_field(model.find("speed"))     # the value column edits
    watch = window.workspace.watch
    assert feature.watch_field(model.find("health"))
    assert feature.watch_field(model.find("name"))
    qtbot.waitUntil(lambda: len(watch.entries) == 2)
    health, name = watch.entries
    assert (health.label, health.vtype.name) == ("struct demo.health", "i32")
    assert (name.vtype.name, name.vtype.length) == ("utf8", 16)
    assert health.location.text.endswith("+0xf84")      # memfd:lainview-demo+0xf84, durable
    assert not feature.watch_field(model.find("pad").parent())


def test_a_pointer_to_a_struct_is_followed_to_the_heap(qtbot, window, tmp_path):
    """tests/c/struct_target.c: its global struct player placed from
    tests/c/player.h; `held` points at a heap struct item, shown as its
    child `*` with the heap values."""
    import json
    import shutil
    import subprocess
    from pathlib import Path

    import pytest
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    c_dir = Path(__file__).parent.parent / "c"
    exe = tmp_path / "struct_target"
    subprocess.run(["gcc", "-O0", "-I", str(c_dir), "-o", str(exe),
                    str(c_dir / "struct_target.c")], check=True)
    proc = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        ws = window.workspace
        task = ws.spawn(window.attach_and_open(proc.pid, info["player"]))
        qtbot.waitUntil(task.done, timeout=10000)
        assert task.result()
        feature = window.features["structure"]
        model = feature.model
        feature.panel.declarations.setPlainText((c_dir / "player.h").read_text())
        feature.panel.type_edit.setText("struct player")
        ws.cursor.move_to(info["player"])
        assert feature.place_at_cursor(), feature.panel.note.text()
        qtbot.waitUntil(lambda: _value(model, "hp") == "1234", timeout=10000)
        qtbot.waitUntil(lambda: model.find("held->name").isValid(), timeout=10000)
        assert _value(model, "held->name") == '"heap sword"'
        assert _value(model, "held->kind") == '"KIND_SWORD"'
        held = model.find("held").siblingAtColumn(0)
        assert model.rowCount(held) == 1
        assert model.rowCount(model.find("nothing").siblingAtColumn(0)) == 0
        pointee = model.index(0, 0, held)
        assert model.data(pointee) == "*" and model.node(pointee).address == info["heap"]
        # a pointee's fields are shown, not edited (they lie outside the open area)
        assert not model.flags(model.find("held->count")) & Qt.ItemFlag.ItemIsEditable
        assert not model.setData(model.find("held->count"), "43")
        assert model.flags(model.find("hp")) & Qt.ItemFlag.ItemIsEditable
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


def test_the_note_follows_the_bytes_arriving(qtbot, window, demo):
    """Placed before its page is read, the note says so, then says where it is."""
    open_demo_window(qtbot, window, demo)
    feature = window.features["structure"]
    model = feature.model
    model.set_declarations(EXAMPLE)
    model.place("struct demo", demo.base + demo.size + 0x100000)    # outside the open area
    assert "not in the open area" in feature.panel.note.text()
    assert _value(model, "magic") == "??"
    model.place("struct demo", demo.struct)
    qtbot.waitUntil(lambda: feature.panel.note.text()
                    == f"struct demo at {demo.struct:#x} (40 bytes)")


def test_type_from_debug_info_places_the_global_at_the_cursor(qtbot, window, tmp_path):
    """A C child built with -g (tests/c/struct_target.c): with the cursor
    inside its global ``player``, "Type from debug info" shows the global
    from its first byte, typed from the program's DWARF, with live values
    and the heap pointer followed; on the heap (no module) it says why."""
    from pathlib import Path
    from tests.c_child import build, start
    c_dir = Path(__file__).parent.parent / "c"
    exe = build(c_dir / "struct_target.c", tmp_path, "-g", "-O0", "-I", str(c_dir))
    child = start(exe)
    try:
        ws = window.workspace
        task = ws.spawn(window.attach_and_open(child.pid, None))
        qtbot.waitUntil(task.done, timeout=10000)
        assert task.result()
        ws.open_span(child.player & ~0xFFF, (child.player & ~0xFFF) + 0x2000, "player",
                     child.player + 12)
        feature = window.features["structure"]
        panel, model = feature.panel, feature.model
        window.show_dock("structure")
        panel.debug_button.click()
        qtbot.waitUntil(lambda: model.ctype is not None, timeout=10000)
        assert model.address == child.player and model.type_name == "player"
        assert panel.type_edit.text() == "struct player"
        qtbot.waitUntil(lambda: _value(model, "hp") == "1234", timeout=5000)
        assert _value(model, "name") == '"lain"'
        assert _value(model, "favourite") == '"KIND_SHIELD"'
        qtbot.waitUntil(lambda: model.find("held->name").isValid()
                        and _value(model, "held->name") == '"heap sword"', timeout=5000)
        ws.cursor.move_to(child.heap)
        done = feature.model.type_from_debug_info(child.heap)
        qtbot.waitUntil(done.done, timeout=5000)
        assert done.result() is False and "in no mapped file" in panel.note.text()
    finally:
        child.stop()
