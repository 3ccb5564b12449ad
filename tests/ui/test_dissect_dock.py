"""The Dissect dock over real processes: tests/c/dissect_target.c's struct of
known slots guessed from the hex view's context menu, a guess changed, the
slots declared as a struct and placed in the Structure dock; unreadable
memory said in the note; on the demo, live refreshes leave an open type
editor alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from lainview.backend.dissect import SlotKind as K
from lainview.models.dissect_model import REASON, TYPE, VALUE

from tests import c_child
from tests.models.qt_support import open_demo_window

C_DIR = Path(__file__).parent.parent / "c"


@pytest.fixture
def blob(tmp_path):
    exe = c_child.build(C_DIR / "dissect_target.c", tmp_path, "-O0", "-g0")
    run = c_child.start(exe)
    yield run
    run.stop()


def _attach(qtbot, window, run, address: int) -> None:
    task = window.workspace.spawn(window.attach_and_open(run.pid, address))
    qtbot.waitUntil(task.done, timeout=10000)
    assert task.result()


def _values(model) -> list[str]:
    return [model.data(model.index(r, VALUE)) for r in range(model.rowCount())]


def test_dissect_here_guesses_the_known_slots_and_declares_a_struct(qtbot, window, blob):
    _attach(qtbot, window, blob, blob.blob)
    feature = window.features["dissect"]
    model, panel = feature.model, feature.panel
    panel.size_box.setValue(0x48)
    view = window.editor.view
    assert window.workspace.cursor.address == blob.blob
    here = next(a for a in view.actions() if a.text() == "Dissect here")
    here.trigger()
    assert window.docks["dissect"].isVisible()
    qtbot.waitUntil(lambda: model.rowCount() == 9, timeout=10000)
    assert [model.kind(r) for r in range(9)] == [
        K.POINTER, K.DOUBLE, K.STRING, K.INT64, K.INT32_PAIR, K.FLOAT_PAIR, K.ZERO, K.BYTES,
        K.POINTER]
    values = _values(model)
    assert values[1:7] == ["3.25", '"hello"', "42", "7, -3", "1.5, -0.25", "0"]
    assert values[0].startswith(f"{blob.heap:#x} → [heap]+0x")
    assert panel.note.text() == f"72 bytes at {blob.blob:#x}: 9 slots"
    # the user changes a guess: the value reads as the chosen type, kept over refreshes
    assert model.setData(model.index(5, TYPE), "int32[2]")
    reads = model.reads
    qtbot.waitUntil(lambda: model.reads > reads + 1, timeout=5000)
    assert model.kind(5) == K.INT32_PAIR
    assert model.data(model.index(5, VALUE)) == "1069547520, -1098907648"
    assert "chosen (guess: float[2]" in model.data(model.index(5, REASON))
    assert not model.setData(model.index(5, TYPE), "unreadable")
    assert model.setData(model.index(5, TYPE), "float[2]")
    # declared as a struct: the Structure dock holds it, placed at the address
    panel.name_edit.setText("blob_guess")
    assert feature.declare(), panel.note.text()
    structure = window.features["structure"]
    smodel = structure.model
    qtbot.waitUntil(lambda: smodel.root is not None and smodel.address is not None,
                    timeout=5000)
    assert (smodel.root.type, smodel.address) == ("struct blob_guess", blob.blob)
    assert structure.panel.type_edit.text() == "struct blob_guess"
    assert "char str_10[8];" in structure.panel.declarations.toPlainText()
    qtbot.waitUntil(lambda: smodel.rowCount() == 9, timeout=5000)
    names = [smodel.data(smodel.index(r, 0)) for r in range(smodel.rowCount())]
    assert names == ["ptr_00", "dbl_08", "str_10", "i64_18", "i32_20", "flt_28", "zero_30",
                     "raw_38", "ptr_40"]
    qtbot.waitUntil(lambda: smodel.data(smodel.find("dbl_08")) == "3.25", timeout=5000)
    assert smodel.data(smodel.find("str_10")) == '"hello"'
    assert smodel.data(smodel.find("i64_18")) == "42"
    assert window.docks["structure"].isVisible()
    # a name C does not take is said in the note, nothing placed
    panel.name_edit.setText("2 bad")
    assert not feature.declare()
    assert "not a C identifier" in panel.note.text()
    assert smodel.root.type == "struct blob_guess"


def test_unreadable_memory_is_said_in_the_note(qtbot, window, blob):
    _attach(qtbot, window, blob, blob.blob)
    feature = window.features["dissect"]
    model = feature.model
    assert feature.dissect(blob.edge, 32)          # 16 bytes mapped, then an unmapped page
    qtbot.waitUntil(lambda: model.rowCount() == 4, timeout=10000)
    assert feature.panel.note.text() == f"32 bytes at {blob.edge:#x}: 4 slots, 2 unreadable"
    assert [model.kind(r) for r in range(4)] == [K.DOUBLE, K.ZERO, K.UNREADABLE, K.UNREADABLE]
    assert _values(model)[2:] == ["??", "??"]
    assert not model.setData(model.index(2, TYPE), "double")      # nothing to read it as
    assert feature.dissect(blob.edge + 16, 16)
    qtbot.waitUntil(lambda: "nothing readable" in feature.panel.note.text(), timeout=10000)
    assert feature.panel.note.text().startswith(f"16 bytes at {blob.edge + 16:#x}: nothing "
                                                "readable (")
    assert not feature.dissect(blob.blob, 0)
    assert "dissect 1 to 4096 bytes" in window.statusBar().currentMessage()


def test_live_refresh_leaves_an_open_type_editor_alone(qtbot, window, demo):
    open_demo_window(qtbot, window, demo)
    feature = window.features["dissect"]
    model, table = feature.model, feature.panel.table
    assert feature.dissect(demo.struct, 0x28)
    qtbot.waitUntil(lambda: model.rowCount() == 5, timeout=10000)
    index = model.index(2, TYPE)                  # +0x10: the demo's swinging double
    assert model.kind(2) == K.DOUBLE
    table.setCurrentIndex(index)
    table.edit(index)
    from PySide6.QtWidgets import QComboBox
    qtbot.waitUntil(lambda: isinstance(table.focusWidget(), QComboBox))
    combo = table.focusWidget()
    assert combo.currentText() == "double"
    combo.setCurrentText("int64")                 # chosen, not yet committed
    first = model.data(model.index(2, VALUE))
    qtbot.waitUntil(lambda: model.data(model.index(2, VALUE)) != first, timeout=5000)
    assert table.focusWidget() is combo and combo.currentText() == "int64"
    assert model.kind(2) == K.DOUBLE
    combo.activated.emit(combo.currentIndex())    # picked: applied at once
    assert model.kind(2) == K.INT64


def test_declare_as_struct_appends_to_the_users_declarations(qtbot, window, blob):
    """The user's own declarations stay; the dissected struct is appended,
    renamed where its name is taken, placed, and the name box follows."""
    _attach(qtbot, window, blob, blob.blob)
    feature = window.features["dissect"]
    structure = window.features["structure"]
    mine = "struct dissected { int32_t x; };\nstruct other { int64_t y; };"
    structure.panel.declarations.setPlainText(mine)
    structure.panel.type_edit.setText("struct other")
    structure.panel.name_edit.setText("mine")
    assert structure.place(), structure.panel.note.text()
    assert feature.dissect(blob.blob, 16)
    qtbot.waitUntil(lambda: feature.model.rowCount() == 2, timeout=10000)
    assert feature.panel.name_edit.text() == "dissected"
    # a column wider than the dock shows its label where it starts (left-aligned labels)
    header = feature.panel.table.horizontalHeader()
    assert header.defaultAlignment() & Qt.AlignmentFlag.AlignLeft
    assert [feature.model.headerData(c, Qt.Orientation.Horizontal) for c in range(5)] == \
        ["Offset", "Type", "Value", "Why", "Address"]
    assert feature.declare(), feature.panel.note.text()
    text = structure.panel.declarations.toPlainText()
    assert text.startswith(mine) and "struct dissected_2 {" in text
    smodel = structure.model
    assert smodel.placement.type_name == "struct dissected_2"
    assert smodel.placement.name == "dissected_2"
    assert structure.panel.name_edit.text() == "dissected_2"
    assert structure.panel.type_edit.text() == "struct dissected_2"
    qtbot.waitUntil(lambda: smodel.address == blob.blob, timeout=5000)
    assert feature.declare()                               # again: the next free name
    assert smodel.placement.name == "dissected_3"
    assert "struct dissected_2 {" in structure.panel.declarations.toPlainText()
    # declarations that do not parse are said, nothing replaced
    structure.panel.declarations.setPlainText("struct broken {")
    assert not feature.declare()
    assert "Structure dock's declarations" in feature.panel.note.text()
    assert smodel.placement.name == "dissected_3"
