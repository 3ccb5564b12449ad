"""The structure dock on the live demo: paste its struct's C declaration,
place it at the struct (or at a pointer path, found again when the pointer
moves), see the known values refresh live, edit a field (written to the
demo through the journaled path), watch a field by its path, and a bad
header or a location that does not resolve said in the panel."""

from __future__ import annotations

import struct

from PySide6.QtCore import Qt

from lainview.ui.structure_dock import EXAMPLE

from lainview.models.watch_model import HEADERS as WATCH_HEADERS
from tests.models.qt_support import open_demo_window

VALUE_COLUMN = WATCH_HEADERS.index("Value")


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
    # kept as the location the hex view names it by, found again each refresh
    assert model.placement.location.text == "memfd:lainview-demo+0xf80"
    assert model.placement.name == "demo"
    # placed: the definition folds away so the tree gets the dock's height
    assert panel._form.isHidden() and not panel.toggle_button.isChecked()
    assert panel.focus_target() is panel.tree
    panel.toggle_button.click()
    assert not panel._form.isHidden() and panel.focus_target() is panel.type_edit
    qtbot.waitUntil(lambda: _value(model, "magic") == str(0x4E49414C))
    assert panel.note.text() == (f"demo (struct demo) at memfd:lainview-demo+0xf80 = "
                                 f"{demo.struct:#x}, 40 bytes")
    assert model.address == demo.struct
    assert model.data(model.find("name")).startswith('"')
    assert model.rowCount() == 6
    # position swings every 0.1 s: the view follows without a reset
    resets = []
    model.modelReset.connect(lambda: resets.append(1))
    first = _value(model, "position")
    qtbot.waitUntil(lambda: _value(model, "position") != first, timeout=5000)
    assert not resets
    # the hex view's API: the placed leaf fields' byte ranges
    spans = [(s.start, s.size, s.path, s.depth) for s in model.field_spans()]
    assert spans[0] == (demo.struct, 4, "magic", 1)
    assert (demo.struct + 24, 16, "name", 1) in spans and len(spans) == 6
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
    assert "declarations:1:21:" in feature.panel.note.text()
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
    qtbot.waitUntil(lambda: model.address == demo.struct, timeout=10000)
    speed = model.find("speed").siblingAtColumn(0)
    assert feature.go_to_field(speed)
    assert window.workspace.cursor.address == demo.struct + 8
    assert not feature.go_to_field(model.find("speed"))     # the value column edits
    watch = window.workspace.watch
    assert feature.watch_field(model.find("health"))
    assert feature.watch_field(model.find("name"))
    qtbot.waitUntil(lambda: len(watch.entries) == 2)
    health, name = watch.entries
    assert (health.where, health.vtype.name) == ("demo.health", "i32")
    assert (name.where, name.vtype.name, name.vtype.length) == ("demo.name", "utf8", 16)
    assert health.location.text == "memfd:lainview-demo+0xf84"
    qtbot.waitUntil(lambda: health.address == demo.struct + 4 and health.data is not None,
                    timeout=10000)
    assert watch.data(watch.index(0, 2)) == "demo.health"
    assert not feature.watch_field(model.find("pad").parent())


def test_a_pointer_to_a_struct_is_followed_to_the_heap(qtbot, window, tmp_path):
    """tests/c/struct_target.c (built with -g): its global struct player
    placed from tests/c/player.h; `held` points at a heap struct item, shown
    as its child `*` with the heap values, and edited there: the write lands
    on the heap struct, is journaled and reverts."""
    from pathlib import Path

    from tests.c_child import build, start
    c_dir = Path(__file__).parent.parent / "c"
    exe = build(c_dir / "struct_target.c", tmp_path, "-g", "-O0", "-I", str(c_dir))
    child = start(exe)
    proc, info = child.proc, child.info
    try:
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
        # a pointee's fields are edited too: written at player+held->+0x0
        # through the journal, revertible
        assert model.flags(model.find("held->count")) & Qt.ItemFlag.ItemIsEditable
        assert model.flags(model.find("hp")) & Qt.ItemFlag.ItemIsEditable
        assert model.setData(model.find("held->count"), "43")
        qtbot.waitUntil(lambda: _value(model, "held->count") == "43", timeout=10000)
        assert _peek(proc.pid, info["heap"], 4) == struct.pack("<i", 43)
        assert model.setData(model.find("held->kind"), "KIND_SHIELD")
        qtbot.waitUntil(lambda: _value(model, "held->kind") == '"KIND_SHIELD"', timeout=10000)
        entries = ws.backend.journal_entries(proc.pid).result()
        count = next(e for e in entries if e.address == info["heap"])
        assert (count.old, count.new) == (struct.pack("<i", 42), struct.pack("<i", 43))
        [outcome] = ws.backend.revert([count.id]).result()
        assert outcome.status == "reverted", outcome
        assert _peek(proc.pid, info["heap"], 4) == struct.pack("<i", 42)
        qtbot.waitUntil(lambda: _value(model, "held->count") == "42", timeout=10000)
        # a pointer field's watch shows hex, as the tree does; a number's shows decimal
        watch = ws.watch
        assert feature.watch_field(model.find("held")) and feature.watch_field(model.find("hp"))
        qtbot.waitUntil(lambda: len(watch.entries) == 2 and all(
            e.data is not None for e in watch.entries), timeout=10000)
        held_watch, hp_watch = watch.entries
        assert held_watch.display == "hex" and hp_watch.display == "auto"
        shown = watch.data(watch.index(0, VALUE_COLUMN))     # the registry's hex: 8 bytes
        assert shown == f"0x{info['heap']:016x}" and _value(model, "held") == f"{info['heap']:#x}"
        assert watch.data(watch.index(1, VALUE_COLUMN)) == "1234"
    finally:
        child.stop()


def _peek(pid: int, address: int, size: int) -> bytes:
    with open(f"/proc/{pid}/mem", "rb") as mem:
        mem.seek(address)
        return mem.read(size)


def test_a_location_that_does_not_resolve_says_why(qtbot, window, demo):
    """Placed where nothing is mapped, the note says why and every value is
    ??; placed at the struct again, the values come."""
    open_demo_window(qtbot, window, demo)
    feature = window.features["structure"]
    model = feature.model
    model.set_declarations(EXAMPLE)
    model.place("struct demo", "memfd:lainview-demo+0xfc0->+0x10000000")
    qtbot.waitUntil(lambda: "is not mapped" in feature.panel.note.text(), timeout=10000)
    assert "at level 2" in model.unresolved
    assert _value(model, "magic") == "??" and model.field_spans() == []
    assert not model.flags(model.find("health")) & Qt.ItemFlag.ItemIsEditable
    model.place("struct demo", demo.struct)
    qtbot.waitUntil(lambda: feature.panel.note.text().startswith(
        "demo (struct demo) at memfd:lainview-demo+0xf80 = "), timeout=10000)
    assert _value(model, "magic") == str(0x4E49414C)


INVENTORY = "struct inventory { uint64_t tag; uint32_t gold; };"


def test_a_placement_at_a_pointer_path_follows_the_pointer(qtbot, window, demo):
    """The demo's inventory, placed at memfd:lainview-demo+0xfc0->+0x18->+0x0:
    when the demo moves it, the placement and a watch of its gold follow."""
    open_demo_window(qtbot, window, demo)
    feature = window.features["structure"]
    model, panel = feature.model, feature.panel
    panel.declarations.setPlainText(INVENTORY)
    panel.location_edit.setText("memfd:lainview-demo+0xfc0->+0x18->+0x0")
    panel.name_edit.setText("inv")
    assert feature.place(), panel.note.text()
    qtbot.waitUntil(lambda: model.address == demo.gold - 8, timeout=10000)
    qtbot.waitUntil(lambda: _value(model, "gold") not in (None, "??"), timeout=10000)
    assert int(_value(model, "gold")) >= 12345
    assert f"= {demo.gold - 8:#x}" in panel.note.text()
    assert feature.watch_field(model.find("gold"))
    watch = window.workspace.watch
    [entry] = watch.entries
    assert entry.where == "inv.gold"
    assert entry.location.text == "memfd:lainview-demo+0xfc0->+0x18->+0x8"
    qtbot.waitUntil(lambda: entry.address == demo.gold, timeout=10000)
    moved = int(demo.command("move").split()[1], 16)
    assert moved != demo.gold
    qtbot.waitUntil(lambda: model.address == moved - 8, timeout=10000)
    qtbot.waitUntil(lambda: entry.address == moved, timeout=10000)
    assert model.field_spans()[1][:2] == (moved, 4)   # (start, size) of gold




def test_structure_and_field_watch_are_saved_and_reopened_in_a_session(qtbot, window, demo,
                                                                       tmp_path):
    """Place the inventory at its pointer path, watch inv.gold, save the
    session; clear both, reopen it: the dock shows the placement again and
    the watch list the field path, resolved."""
    import asyncio
    open_demo_window(qtbot, window, demo)
    feature = window.features["structure"]
    model, panel = feature.model, feature.panel
    panel.declarations.setPlainText(INVENTORY)
    panel.location_edit.setText("memfd:lainview-demo+0xfc0->+0x18->+0x0")
    assert feature.place(), panel.note.text()
    qtbot.waitUntil(lambda: model.address == demo.gold - 8, timeout=10000)
    assert feature.watch_field(model.find("gold"))
    ws = window.workspace
    said: list[str] = []
    ws.sessions.status.connect(said.append)
    path = str(tmp_path / "demo.lainview.json")
    task = asyncio.ensure_future(ws.sessions.save(path))
    qtbot.waitUntil(task.done, timeout=10000)
    assert task.result()
    assert said[-1] == f"session saved to {path} (1 watch, 0 bookmarks, 1 placed structure)"
    # opening it over the placement and the watch asks, naming both
    assert ws.sessions.current_state() == ["1 watched value", "1 placed structure"]
    docks = window.watch_docks
    asking = docks.open_session(path, demo.pid)
    qtbot.waitUntil(lambda: docks.replace_question is not None, timeout=10000)
    assert "(1 watched value, 1 placed structure)" in docks.replace_question.text()
    docks.replace_question.button(docks.replace_question.StandardButton.Cancel).click()
    qtbot.waitUntil(asking.done, timeout=5000)
    assert asking.result() == "kept"
    import json
    saved = json.loads(open(path).read())
    assert saved["structures"] == [{"name": "inventory", "declarations": INVENTORY,
                                    "type": "struct inventory",
                                    "location": "memfd:lainview-demo+0xfc0->+0x18->+0x0"}]
    assert saved["watch"][0]["field"]["path"] == "inventory.gold"
    model.clear()
    panel.declarations.setPlainText("")
    ws.watch.clear()
    assert ws.sessions.current_state() == []
    task = asyncio.ensure_future(ws.sessions.open(path, demo.pid))
    qtbot.waitUntil(task.done, timeout=10000)
    assert task.result() == "opened"
    assert said[-1] == (f"session demo.lainview.json opened on pid {demo.pid}: 1 field watch "
                        "found again by field path on each refresh; 1 structure placed "
                        "(inventory)")
    assert model.placement is not None and model.placement.name == "inventory"
    assert panel.declarations.toPlainText() == INVENTORY
    qtbot.waitUntil(lambda: model.address == demo.gold - 8, timeout=10000)
    [entry] = ws.watch.entries
    assert entry.where == "inventory.gold"
    qtbot.waitUntil(lambda: entry.address == demo.gold and entry.data is not None,
                    timeout=10000)


def test_a_live_refresh_updates_only_the_changed_values(qtbot):
    """Same placement, same shape: only the fields whose bytes changed get a
    new value text and a dataChanged (one a run of consecutive rows the
    view shows), no reset; and the tree repaints only those value cells
    (QTreeView alone would repaint every column of each changed row)."""
    from PySide6.QtCore import QObject, Signal

    from lainview.models.structure_model import VALUE, StructureModel
    from lainview.ui.structure_dock import StructurePanel

    class Document(QObject):
        changed = Signal()
        refreshed = Signal()
        region_changed = Signal()
        inline_message = Signal(str)
        read_only = False
        paused = False
        region = object()
        data = bytearray(64)

        def bytes_at(self, address, size):
            return bytes(self.data[:size])

    doc = Document()
    model = StructureModel(doc)
    model.set_declarations("struct s { int a; int b; char name[8]; unsigned c : 3; "
                           "unsigned d : 5; double e; };")
    model.place("struct s", 0x1000)
    panel = StructurePanel(model)
    qtbot.addWidget(panel)
    panel.resize(400, 400)
    panel.show()
    qtbot.waitExposed(panel)
    assert _value(model, "a") == "0"
    texts = dict(model._texts)
    changes, resets = [], []
    model.dataChanged.connect(lambda top, bottom, roles: changes.append(
        (top.row(), bottom.row(), top.column())))
    model.modelReset.connect(lambda: resets.append(1))
    qtbot.wait(50)                                   # the first paint is over
    painted: list[tuple[int, int]] = []
    delegate = panel.tree.itemDelegate()
    paint = delegate.paint
    delegate.paint = lambda painter, option, index: (
        painted.append((index.row(), index.column())), paint(painter, option, index))
    struct.pack_into("<i", doc.data, 4, -7)
    doc.data[16] = 0b00101_011                       # c = 3, d = 5
    doc.changed.emit()
    assert changes == [(1, 1, VALUE), (3, 4, VALUE)] and not resets
    qtbot.waitUntil(lambda: bool(painted), timeout=2000)   # the pending update is painted
    qtbot.wait(50)
    # Value cells only: the changed rows, and at most the row below each run
    # (the update rectangle Qt computes may reach a pixel into it).
    assert {column for _, column in painted} == {VALUE}
    assert {1, 3, 4} <= {row for row, _ in painted} <= {1, 2, 3, 4, 5}
    assert (_value(model, "b"), _value(model, "c"), _value(model, "d")) == ("-7", "3", "5")
    assert id(model.find("a").internalPointer()) in model._texts   # kept, not rebuilt
    assert texts
    changes.clear()
    doc.changed.emit()                                # nothing changed: nothing said
    assert changes == []


def test_a_live_refresh_never_touches_an_open_editor(qtbot, window, demo):
    """position swings every 0.1 s: an editor open on it keeps what the user
    typed while the other values go on refreshing."""
    from PySide6.QtWidgets import QLineEdit
    open_demo_window(qtbot, window, demo)
    feature = window.features["structure"]
    model, panel = feature.model, feature.panel
    window.show_dock("structure")
    model.set_declarations(EXAMPLE)
    model.place("struct demo", demo.struct)
    qtbot.waitUntil(lambda: _value(model, "position") not in (None, "??"), timeout=10000)
    index = model.find("position")
    panel.tree.setCurrentIndex(index)
    panel.tree.edit(index)
    qtbot.waitUntil(lambda: panel.tree.findChild(QLineEdit) is not None)
    editor = panel.tree.findChild(QLineEdit)
    editor.setText("12.5")
    first = _value(model, "position")
    qtbot.waitUntil(lambda: _value(model, "position") != first, timeout=5000)
    later = _value(model, "position")
    qtbot.waitUntil(lambda: _value(model, "position") != later, timeout=5000)
    assert editor.text() == "12.5"


def test_a_paused_hex_view_holds_the_structure_still(qtbot, window, demo):
    """position swings every 0.1 s; Pause on the hex view holds the
    Structure dock still too, from the moment it is pressed (the hex view
    goes on repainting while its last changes fade: no reason to read),
    and Resume brings it back to life."""
    open_demo_window(qtbot, window, demo)
    feature = window.features["structure"]
    model = feature.model
    window.show_dock("structure")
    model.set_declarations(EXAMPLE)
    model.place("struct demo", demo.struct)
    qtbot.waitUntil(lambda: _value(model, "position") not in (None, "??"), timeout=10000)
    first = _value(model, "position")
    qtbot.waitUntil(lambda: _value(model, "position") != first, timeout=5000)
    document = window.workspace.document
    document.set_paused(True)
    qtbot.wait(150)                                  # a read already sent lands
    held = _value(model, "position")
    qtbot.wait(1000)                                 # inside the fade of the last changes
    assert _value(model, "position") == held
    document.set_paused(False)
    qtbot.waitUntil(lambda: _value(model, "position") != held, timeout=5000)


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
        qtbot.waitUntil(lambda: model.address == child.player, timeout=10000)
        assert model.placement.name == "player"
        # kept as C text, so a session keeps it as it keeps a pasted header
        assert "struct player {" in model.placement.declarations
        assert "struct player {" in panel.declarations.toPlainText()
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


def test_the_panel_fits_its_dock_and_the_tree_menu_does_what_the_buttons_do(qtbot, window,
                                                                          demo):
    """At the window's default layout (1280x720) the button row wraps rather
    than widen the panel past its dock; the tree's context menu goes to,
    watches and edits the current field."""
    from PySide6.QtWidgets import QLineEdit
    window.resize(1280, 720)
    open_demo_window(qtbot, window, demo)
    feature = window.features["structure"]
    panel, model = feature.panel, feature.model
    window.show_dock("structure")
    dock = window.docks["structure"]
    qtbot.waitUntil(lambda: dock.width() > 0 and panel.isVisible())
    assert panel.minimumSizeHint().width() <= dock.width(), (panel.minimumSizeHint(), dock.width())
    panel.declarations.setPlainText(EXAMPLE)
    window.workspace.cursor.move_to(demo.struct)
    assert feature.place_at_cursor()
    qtbot.waitUntil(lambda: model.address == demo.struct, timeout=10000)
    assert panel.minimumSizeHint().width() <= dock.width()
    texts = [a.text() for a in panel.tree.actions()]
    assert texts == ["Go to field", "Watch field", "Edit value"]
    panel.tree.setCurrentIndex(model.find("speed").siblingAtColumn(0))
    panel.go_action.trigger()
    assert window.workspace.cursor.address == demo.struct + 8
    panel.tree.setCurrentIndex(model.find("health").siblingAtColumn(2))
    panel.watch_action.trigger()
    watch = window.workspace.watch
    qtbot.waitUntil(lambda: len(watch.entries) == 1)
    assert watch.entries[0].where == "demo.health"
    panel.tree.setCurrentIndex(model.index(-1, 0))
    panel.edit_action.trigger()
    assert panel.note.text() == "select a field to edit"
    panel.tree.setCurrentIndex(model.find("pad").siblingAtColumn(0))
    panel.edit_action.trigger()
    qtbot.waitUntil(lambda: panel.tree.findChild(QLineEdit) is not None)
    assert panel.tree.currentIndex() == model.find("pad")       # the Value cell edits


def test_f2_on_any_cell_edits_the_value_or_says_why_not(qtbot, window, demo):
    """F2 on the Field cell of a number edits its Value cell; on a struct
    the note line says why nothing opens; a bitfield is edited by
    read-modify-write of its bytes."""
    from PySide6.QtWidgets import QLineEdit
    open_demo_window(qtbot, window, demo)
    feature = window.features["structure"]
    panel, model = feature.panel, feature.model
    window.show_dock("structure")
    panel.declarations.setPlainText(
        "struct inner { uint32_t magic; };\n"
        "struct outer { struct inner in; uint32_t low : 3; uint32_t high : 29; };")
    panel.type_edit.setText("struct outer")
    window.workspace.cursor.move_to(demo.struct)
    assert feature.place_at_cursor(), panel.note.text()
    qtbot.waitUntil(lambda: _value(model, "in.magic") == str(0x4E49414C), timeout=10000)
    tree = panel.tree
    tree.setFocus()
    tree.setCurrentIndex(model.find("in.magic").siblingAtColumn(0))
    qtbot.keyClick(tree, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: tree.findChild(QLineEdit) is not None)
    assert tree.currentIndex() == model.find("in.magic")
    editor = tree.findChild(QLineEdit)
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: tree.findChild(QLineEdit) is None or
                    not tree.findChild(QLineEdit).isVisible())
    tree.setCurrentIndex(model.find("in").siblingAtColumn(1))
    qtbot.keyClick(tree, Qt.Key.Key_F2)
    assert "in (struct inner) is edited field by field" in panel.note.text()
    # a bitfield is edited by read-modify-write of the bytes its bits touch (journaled)
    assert demo.peek(demo.struct + 4, 4) == struct.pack("<i", 100)       # low 4, high 12
    qtbot.waitUntil(lambda: _value(model, "low") == "4" and _value(model, "high") == "12",
                    timeout=5000)
    tree.setCurrentIndex(model.find("low").siblingAtColumn(0))
    qtbot.keyClick(tree, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: tree.findChild(QLineEdit) is not None
                    and tree.findChild(QLineEdit).isVisible())
    assert tree.currentIndex() == model.find("low")
    editor = tree.findChild(QLineEdit)
    editor.setText("3")
    journal = window.workspace.journal
    entries = len(journal.entries)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: demo.peek(demo.struct + 4, 4) == struct.pack("<i", 99),
                    timeout=5000)
    qtbot.waitUntil(lambda: _value(model, "low") == "3", timeout=5000)
    assert _value(model, "high") == "12"
    journal.reload()
    qtbot.waitUntil(lambda: len(journal.entries) > entries, timeout=5000)
    assert journal.entries[-1].address == demo.struct + 4
    assert not model.setData(model.find("low"), "8")
    assert model.last_error == "low: 8 does not fit in 3 bits (0..7)"
    assert model.setData(model.find("high"), "13")
    qtbot.waitUntil(lambda: demo.peek(demo.struct + 4, 4) == struct.pack("<i", 107),
                    timeout=5000)
