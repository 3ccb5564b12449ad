"""The Disassembly and Modules docks on a real child (tests/c/code_target.c,
PIE and fixed-address): opened from the hex view's context menu, a symbol
and the memory map; links followed; rows decoded on demand both ways."""

from __future__ import annotations



from lainview.backend.memory import Perm
from lainview.models.code_models import MODULE_ROLE, TARGET
from tests.code_target import code_run  # noqa: F401  (fixture)


def _attach(qtbot, window, run):
    ws = window.workspace
    task = ws.spawn(window.attach_and_open(run.pid, None))
    qtbot.waitUntil(task.done, timeout=10000)
    assert task.result()
    qtbot.waitUntil(lambda: ws.target.symbols is not None, timeout=10000)
    return window.features["code"]


def _opened(qtbot, code, address):
    qtbot.waitUntil(lambda: code.model.address == address and bool(code.model.lines), timeout=10000)


def test_disassemble_here_follows_calls_and_data(qtbot, window, code_run):
    code = _attach(qtbot, window, code_run)
    ws = window.workspace
    bump = code_run.info["lv_bump"]
    assert window.show_address(bump)
    here = [a for a in window.editor.view.actions() if a.text() == "Disassemble here"]
    assert here
    here[0].trigger()
    _opened(qtbot, code, bump)
    model = code.model
    assert model.lines[0].address == bump
    assert model.data(model.index(0, 1)) == f"{code_run.exe.name}!lv_bump"
    assert code.dock.isVisible()

    call = next(r for r, line in enumerate(model.lines) if line.mnemonic == "call")
    assert model.data(model.index(call, TARGET)) == f"{code_run.exe.name}!lv_add"
    data = next(r for r, line in enumerate(model.lines) if line.target_kind == "data")
    code._follow(model.index(data, TARGET))                     # data: the hex view
    assert ws.cursor.address == code_run.info["counter"]
    code._follow(model.index(call, TARGET))                     # code: disassemble there
    _opened(qtbot, code, code_run.info["lv_add"])


def test_rows_are_decoded_on_demand_below_and_above(qtbot, window, code_run):
    code = _attach(qtbot, window, code_run)
    model = code.model
    loop = code_run.info["lv_loop"]
    code.disassemble(loop + 5)                  # inside an instruction of lv_loop
    _opened(qtbot, code, loop + 5)
    first = model.lines[0]
    assert first.address <= loop + 5 < first.end and first.location.startswith(
        f"{code_run.exe.name}!lv_loop")
    rows = model.rowCount()
    assert model.canFetchMore()
    model.fetchMore()
    qtbot.waitUntil(lambda: model.rowCount() > rows, timeout=10000)
    assert all(a.end == b.address for a, b in zip(model.lines, model.lines[1:]))
    top = model.lines[0].address
    task = model.fetch_above()
    assert task is not None
    qtbot.waitUntil(task.done, timeout=10000)
    assert model.lines[0].address < top and model.row_of(top) is not None


def test_modules_view_lists_files_and_finds_symbols(qtbot, window, code_run):
    code = _attach(qtbot, window, code_run)
    panel = code.modules_panel
    modules = code.modules_model
    qtbot.waitUntil(lambda: modules.rowCount() >= 2, timeout=10000)
    row = next(r for r in range(modules.rowCount())
               if modules.index(r, 0).data(MODULE_ROLE).path == str(code_run.exe))
    panel.modules.selectRow(row)
    panel.search.setText("lv_")
    names = {s.name for s in code.symbols_model.symbols}
    assert names == {"lv_add", "lv_bump", "lv_loop"}
    assert "3 symbols" in panel.caption.text()
    index = next(code.symbols_model.index(r, 0) for r in range(3)
                 if code.symbols_model.symbols[r].name == "lv_loop")
    code._symbol(index)
    _opened(qtbot, code, code_run.info["lv_loop"])


def test_the_memory_map_opens_an_executable_area(qtbot, window, code_run):
    code = _attach(qtbot, window, code_run)
    area = next(a for a in window.workspace.target.areas
                if a.perms & Perm.EXEC and a.path == str(code_run.exe))
    window.vma_panel.disassemble_area.emit(area)
    qtbot.waitUntil(lambda: bool(code.model.lines) and code.model.lines[0].address == area.start,
                    timeout=10000)


def test_a_typed_symbol_location_opens(qtbot, window, code_run):
    code = _attach(qtbot, window, code_run)
    code.panel.go.setText(f"{code_run.exe.name}!lv_add")
    code._go()
    _opened(qtbot, code, code_run.info["lv_add"])
    code.panel.go.setText(f"{code_run.exe.name}!nothing_here")
    code._go()
    assert "nothing_here" in code.panel.caption.text()


def test_a_bookmark_and_a_watch_entry_open_their_code(qtbot, window, code_run):
    code = _attach(qtbot, window, code_run)
    ws = window.workspace
    mark = ws.bookmarks.add_address(code_run.info["lv_add"], "add")
    window.features["bookmarks"].panel.disassemble.emit(mark)
    _opened(qtbot, code, code_run.info["lv_add"])
    entry = ws.watch.add_text(f"{code_run.exe.name}!lv_bump", "u8")
    window.watch_docks.watch_panel.disassemble.emit(entry.address)
    _opened(qtbot, code, code_run.info["lv_bump"])


def test_the_hex_views_one_context_menu_holds_every_features_action(qtbot, window, code_run):
    """Each feature adds its action to the hex view; the view owns the one
    menu (two features once set their own menu policy, and the last one
    hid the others' actions). A right-click moves the cursor to the byte
    clicked and offers them all."""
    from PySide6.QtCore import QPoint
    _attach(qtbot, window, code_run)
    bump = code_run.info["lv_bump"]
    assert window.show_address(bump)
    view = window.editor.view
    ws = window.workspace
    qtbot.waitUntil(view.isVisible)
    ws.cursor.move_to(bump + 0x20)
    pos = hit = None          # the first byte on screen that a click hits
    for y in range(view._header_height + 2, view.viewport().height(), 4):
        for x in range(0, view.viewport().width(), 4):
            hit = view._hit_address(QPoint(x, y))
            if hit is not None:
                pos = QPoint(x, y)
                break
        if hit is not None:
            break
    assert hit is not None and pos is not None and hit[0] != bump + 0x20
    menu = view.context_menu_at(pos)
    assert menu is not None and ws.cursor.address == hit[0]
    shown = [a.text() for a in menu.actions()]
    for text in ("&Watch the cursor", "&Bookmark the cursor", "Disassemble here",
                 "Find what &writes to this", "Find what a&ccesses this",
                 "Find pointers to this…"):
        assert text in shown, (text, shown)


def test_the_cursor_position_names_its_symbol(qtbot, window, code_run):
    """Module symbols are shown wherever an address is: the hex view's
    position label names the function the cursor is in."""
    _attach(qtbot, window, code_run)
    bump = code_run.info["lv_bump"]
    assert window.show_address(bump + 2)
    label = window.editor.position
    qtbot.waitUntil(lambda: f"{code_run.exe.name}!lv_bump+0x2" in label.toolTip(),
                    timeout=10000)
    assert label.toolTip().startswith(f"{bump + 2:#x} (+")
