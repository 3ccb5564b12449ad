"""Adding a value type is one entry in the registry: a test-only f16
(numpy's float16), registered before the window opens and removed after,
is offered with its tip by the scanner dock, found by a real scan of a real
child, watched live by the watch list and shown and edited by the data
inspector."""

from __future__ import annotations

import struct

import pytest
from PySide6.QtCore import Qt

from lainview.backend import value_types
from lainview.backend.errors import InvalidInput
from lainview.backend.value_types import NumberKind
from lainview.models.inspector_model import LITTLE
from lainview.models.scan_model import VALUE
from lainview.models.watch_model import VALUE as WATCH_VALUE

TIP = "16-bit float, registered by a test"


@pytest.fixture
def f16():
    with value_types.registered(NumberKind("f16", "e", tip=TIP)) as kind:
        yield kind
    with pytest.raises(InvalidInput, match="unknown value type 'f16'"):
        value_types.get("f16")


@pytest.fixture
def window(qtbot, f16, window):
    """The shown main window (tests/ui/conftest.py), at a size where every
    dock has room."""
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: window.width() == 1400, timeout=5000)
    return window


def poke(child, address: int, value: float) -> None:
    assert child.command(f"poke {address:x} {struct.pack('<e', value).hex()}") == "ok"


def test_a_registered_type_reaches_the_scanner_watch_list_and_inspector(qtbot, window, child):
    task = window.attach(child.pid)
    qtbot.waitUntil(task.done, timeout=10000)
    assert task.result()
    planted = child.scan + 0x36
    poke(child, planted, -2.75)

    # The scanner dock offers it, with its tip, and settings for a float.
    panel = window.scanner_panel
    combo = panel.type_combo
    at = combo.findData("f16")
    assert at == combo.count() - 1
    assert combo.itemData(at, Qt.ItemDataRole.ToolTipRole) == TIP
    combo.setCurrentIndex(at)
    assert combo.toolTip() == TIP
    assert panel.tolerance.isVisibleTo(panel) and panel.big_endian.isEnabled()
    assert panel.value_edit.placeholderText() == "e.g. 1.5"

    # A real scan of the child's scan page finds the planted value.
    window.show_scanner()
    window.vma_panel.select_address(child.scan)
    panel.only_selected.setChecked(True)
    qtbot.keyClicks(panel.value_edit, "-2.75")
    qtbot.keyClick(panel.value_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not panel.controller.running, timeout=30000)
    model = panel.model
    assert [model.address(r) for r in range(model.rowCount())] == [planted], \
        panel.message.text()
    qtbot.waitUntil(lambda: model.data(model.index(0, VALUE)) == "-2.75", timeout=10000)

    # The watch list takes it from the match and follows the child.
    panel.add_to_watch.emit(planted, "f16")
    watch = window.workspace.watch
    (entry,) = watch.entries
    assert entry.vtype.label == "f16" and entry.vtype.size == 2
    qtbot.waitUntil(lambda: watch.data(watch.index(0, WATCH_VALUE)) == "-2.75", timeout=10000)
    poke(child, planted, 0.1)
    qtbot.waitUntil(lambda: watch.data(watch.index(0, WATCH_VALUE)) == "0.1", timeout=10000)
    type_box = window.watch_docks.watch_panel.type
    assert type_box.findText("f16") >= 0

    # The inspector has a row for it, shows the value and writes an edit.
    ws = window.workspace
    ws.open_address(planted)
    ws.cursor.move_to(planted)
    inspector = ws.inspector
    index = inspector.index(inspector.names.index("f16"), LITTLE)
    qtbot.waitUntil(lambda: index.data() == "0.1", timeout=10000)
    assert inspector.setData(index, "65504")
    qtbot.waitUntil(lambda: child.peek(planted, 2) == struct.pack("<e", 65504.0),
                    timeout=10000)
    assert not inspector.setData(index, "1e6")
    assert "does not fit in f16" in inspector.last_error
