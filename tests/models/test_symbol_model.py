"""The kernel-symbol models against this machine's real /proc/kallsyms (and
the view of it an unprivileged user gets), the block document, and the value
controller without a readable source."""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess

import numpy as np
import pytest
from PySide6.QtCore import Qt

from lainview.backend import kallsyms
from lainview.backend.memory import Hole, ReadResult
from lainview.models.block_document import BlockDocument
from lainview.models.hex_document import CellState
from lainview.models.symbol_model import (ADDRESS, MODULE, NAME, SYMBOL_INDEX_ROLE, TYPE,
                                          ModuleModel, SymbolTableModel)

from tests.conftest import run_as_nobody

KALLSYMS = "/proc/kallsyms"


@pytest.fixture(scope="module")
def real_table():
    if not os.access(KALLSYMS, os.R_OK):
        pytest.skip(f"{KALLSYMS} is not readable here")
    table = kallsyms.load_kallsyms().prepare()
    return table


@pytest.fixture
def model(qapp, real_table):
    m = SymbolTableModel(debounce_ms=10)
    m.set_table(real_table)
    yield m
    m.deleteLater()


def grep_count(*args: str) -> int:
    out = subprocess.run(["grep", "-c", *args, KALLSYMS], capture_output=True, text=True)
    return int(out.stdout.strip() or 0)


def names_of(model) -> list[str]:
    return [model.table.names[i] for i in model.rows.tolist()]


# -- the table model ---------------------------------------------------------------------------

def test_model_tester_on_the_real_table(qtmodeltester, model):
    assert model.rowCount() == len(model.table) > 100_000
    qtmodeltester.check(model)
    model.set_pattern("sched")
    model.apply_filter()
    qtmodeltester.check(model)
    model.sort(NAME, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model)


def test_typing_narrows_the_real_rows(qtbot, model):
    total = model.rowCount()
    counts = []
    for text in ("s", "sc", "sch", "sche", "sched"):
        model.set_pattern(text)
        assert model.filter_pending            # debounced, not run on the keystroke
        qtbot.waitUntil(lambda: not model.filter_pending, timeout=2000)
        counts.append(model.rowCount())
    assert total > counts[0] >= counts[1] >= counts[2] >= counts[3] >= counts[4] > 0
    # grep counts independently: a name can hold "sched", a hex address or type cannot.
    assert counts[-1] == grep_count("-i", "sched")
    assert all("sched" in n.lower() for n in names_of(model))
    # Narrowing the previous result gives what a fresh search gives.
    assert model.rows.tolist() == model.table.select("sched", mode="substring").tolist()


def test_a_burst_of_keys_filters_once(qtbot, model):
    runs = model.filter_runs
    for text in ("v", "vf", "vfs", "vfs_", "vfs_r"):
        model.set_pattern(text)
    qtbot.waitUntil(lambda: not model.filter_pending, timeout=2000)
    assert model.filter_runs == runs + 1
    assert all(n.lower().find("vfs_r") >= 0 for n in names_of(model))


def test_by_default_the_keys_of_one_event_loop_turn_filter_once_at_its_end(qtbot, qapp,
                                                                           real_table):
    """The default coalescing adds no delay: the filter runs at the next
    turn of the event loop, once for every key queued before it."""
    from PySide6.QtCore import QCoreApplication
    model = SymbolTableModel()
    model.set_table(real_table)
    runs = model.filter_runs
    for text in ("v", "vf", "vfs"):
        model.set_pattern(text)
    assert model.filter_pending and model.filter_runs == runs
    QCoreApplication.processEvents()            # one turn, no waiting
    assert not model.filter_pending and model.filter_runs == runs + 1
    assert model.rows.tolist() == real_table.select("vfs", mode="substring").tolist()
    model.deleteLater()


@pytest.mark.parametrize("mode, pattern", [("glob", "sched_*"), ("glob", "*_INIT"),
                                           ("regex", r"^__x64_sys_\w+$"), ("regex", "tick|jiff")])
def test_glob_and_regex_filters(model, mode, pattern):
    model.set_mode(mode)
    model.set_pattern(pattern)
    model.apply_filter()
    if mode == "glob":
        rx = re.compile(fnmatch.translate(pattern), re.IGNORECASE)
        expected = [n for n in model.table.names if rx.match(n)]
    else:
        expected = [n for n in model.table.names if re.search(pattern, n)]
    assert names_of(model) == expected and expected


def test_a_bad_regex_keeps_the_last_result_and_says_why(qtbot, model):
    model.set_mode("regex")
    model.set_pattern("^do_sys")
    model.apply_filter()
    before = model.rows.copy()
    with qtbot.waitSignal(model.filter_error_changed) as blocker:
        model.set_pattern("^do_sys(")
        model.apply_filter()
    assert "bad regular expression" in blocker.args[0] and "missing )" in blocker.args[0]
    assert np.array_equal(model.rows, before)
    model.set_pattern("^do_sys_")
    model.apply_filter()
    assert model.filter_error == ""


def test_module_and_type_filters(model):
    table = model.table
    pseudo = next((m for m in table.module_names), None)
    if pseudo is not None:
        model.set_module(pseudo)
        assert model.rowCount() == grep_count("-F", f"\t[{pseudo}]")
        assert {model.data(model.index(r, MODULE)) for r in range(model.rowCount())} == {pseudo}
    model.set_module("")            # the kernel proper
    assert model.rowCount() == len(table) - sum(
        grep_count("-F", f"\t[{m}]") for m in table.module_names)
    model.set_module(None)
    model.set_types("T")
    awk = subprocess.run(["awk", '$2 == "T"', KALLSYMS], capture_output=True, text=True)
    assert model.rowCount() == len(awk.stdout.splitlines())
    assert model.data(model.index(0, TYPE)) == "T  text"
    assert model.data(model.index(0, TYPE), Qt.ItemDataRole.ToolTipRole) == "T: text, global"
    model.set_types("local")
    assert set(chr(table.types[i]) for i in model.rows.tolist()) <= set("abcdgirstuvw")
    model.set_types("T")
    model.set_pattern("sched")
    model.apply_filter()
    assert all(chr(table.types[i]) == "T" and "sched" in table.names[i].lower()
               for i in model.rows.tolist())


def test_sort_by_every_column_keeps_the_filter(model):
    table = model.table
    model.set_pattern("irq")
    model.apply_filter()
    matched = set(model.rows.tolist())
    model.sort(NAME)
    assert names_of(model) == sorted(names_of(model))
    model.sort(NAME, Qt.SortOrder.DescendingOrder)
    assert names_of(model) == sorted(names_of(model), reverse=True)
    model.sort(ADDRESS)
    addresses = table.addresses[model.rows]
    assert np.all(addresses[1:] >= addresses[:-1])
    model.sort(TYPE)
    letters = table.types[model.rows]
    assert np.all(letters[1:] >= letters[:-1])
    model.sort(MODULE)
    mods = [table.modules[table.module_ids[i]] for i in model.rows.tolist()]
    assert mods == sorted(mods)
    assert set(model.rows.tolist()) == matched
    # The sort stays while the filter changes.
    model.set_pattern("irq_")
    model.apply_filter()
    mods = [table.modules[table.module_ids[i]] for i in model.rows.tolist()]
    assert mods == sorted(mods) and all("irq_" in n.lower() for n in names_of(model))
    model.sort(-1)
    assert model.rows.tolist() == sorted(model.rows.tolist())


def test_rows_map_back_to_symbols(model):
    model.set_pattern("_stext")
    model.apply_filter()
    row = next(r for r in range(model.rowCount())
               if model.data(model.index(r, NAME)) == "_stext")
    index = model.data(model.index(row, NAME), SYMBOL_INDEX_ROLE)
    symbol = model.table.symbol(index)
    assert symbol.name == "_stext"
    assert model.data(model.index(row, ADDRESS)) == f"{symbol.address:016x}"
    assert model.row_of(index) == row
    assert model.row_of(-1) is None


def test_hidden_addresses_from_an_unprivileged_read(qtmodeltester, qapp, tmp_path):
    prefix = run_as_nobody()
    if prefix is None:
        pytest.skip("needs root to read /proc/kallsyms as user nobody")
    path = tmp_path / "kallsyms"
    with open(path, "wb") as out:
        subprocess.run([*prefix, "cat", KALLSYMS], stdout=out, check=True)
    table = kallsyms.load_kallsyms(str(path))
    if not table.addresses_hidden:
        pytest.skip("this kernel shows addresses to everyone (kptr_restrict=0, "
                    "perf_event_paranoid<=1)")
    model = SymbolTableModel()
    model.set_table(table)
    assert model.rowCount() == len(table) > 100_000
    assert model.data(model.index(0, ADDRESS)) == "hidden"
    tooltip = model.data(model.index(0, ADDRESS), Qt.ItemDataRole.ToolTipRole)
    assert tooltip.startswith("addresses hidden: ") and "CAP_SYSLOG" in tooltip
    assert "addresses hidden" in model.headerData(ADDRESS, Qt.Orientation.Horizontal,
                                                  Qt.ItemDataRole.ToolTipRole)
    model.set_pattern("sched")
    model.apply_filter()
    assert model.rowCount() == grep_count("-i", "sched")
    qtmodeltester.check(model)
    model.deleteLater()


def test_module_model(qtmodeltester, qapp, real_table):
    modules = kallsyms.list_modules(real_table)
    model = ModuleModel()
    model.set_modules(modules)
    qtmodeltester.check(model)
    assert model.rowCount() == len(modules.modules)
    for row, info in enumerate(modules.modules):
        assert model.data(model.index(row, 0)) == info.name
    if modules.modules:
        name = modules.modules[0].name
        model.set_holds({name: 2})
        assert model.data(model.index(0, 5)) == "2 holds"
    model.deleteLater()


# -- the block document ---------------------------------------------------------------------------

@pytest.fixture
def block(qapp):
    doc = BlockDocument()
    yield doc
    doc.stop()
    doc.deleteLater()


def test_block_snapshot_changes_and_holes(qtbot, block):
    block.open_block(0x1000, 8, "value")
    assert block.cell(0x1000).state == CellState.PENDING
    block.set_snapshot(ReadResult(0x1000, b"ABCDEFGH"))
    assert block.bytes_at(0x1000, 8) == b"ABCDEFGH"
    assert block.plain_row(0x1000, 8, 0.0) == b"ABCDEFGH"
    block.set_snapshot(ReadResult(0x1000, b"ABCDxFGH"))
    assert block.cell(0x1004).state == CellState.CHANGED
    assert block.cell(0x1003).state == CellState.READABLE
    qtbot.waitUntil(lambda: block.cell(0x1004).state == CellState.READABLE, timeout=4000)
    block.set_snapshot(ReadResult(0x1000, b"ABCD\0\0\0\0",
                                  (Hole(0x1004, 4, reason="not mapped"),)))
    assert block.cell(0x1005).state == CellState.UNREADABLE
    assert block.byte_at(0x1005) is None and block.hole_reason(0x1005) == "not mapped"
    assert block.cell(0x1008).state == CellState.UNREADABLE     # outside the block


def test_block_edits_are_staged_not_written(qtbot, block):
    block.open_block(0x2000, 8, "value")
    block.set_snapshot(ReadResult(0x2000, b"\x01\x02\x03\x04\x05\x06\x07\x08"))
    with qtbot.waitSignal(block.inline_message) as refused:
        assert block.write(0x2002, b"\xff") is False
    assert refused.args[0].startswith("read-only: nothing is open")
    block.set_read_only(None)
    with qtbot.waitSignal(block.staged_changed):
        assert block.write(0x2002, b"\xaa") is True
    assert block.write(0x2005, b"\xbb\xcc") is True
    assert block.write(0x2007, b"\x00\x00") is False        # past the end
    assert block.cell(0x2002).state == CellState.WRITING and block.cell(0x2002).value == 0xAA
    assert block.data == b"\x01\x02\x03\x04\x05\x06\x07\x08"  # nothing changed underneath
    assert block.bytes_at(0x2000, 8) == b"\x01\x02\xaa\x04\x05\xbb\xcc\x08"
    assert block.staged_end() == 7
    assert block.apply_staged(b"\x11" * 7) == b"\x11\x11\xaa\x11\x11\xbb\xcc"
    block.mark_failed("EFAULT: read-only")
    assert block.cell(0x2005).state == CellState.FAILED
    block.store_written(0, b"\x01\x02\xaa\x04\x05\xbb\xcc")
    assert not block.staged and block.data == b"\x01\x02\xaa\x04\x05\xbb\xcc\x08"
    assert block.cell(0x2005).state == CellState.READABLE
    block.write(0x2000, b"\x99")
    block.discard_staged()
    assert not block.staged and block.byte_at(0x2000) == 1
    block.set_read_only("no device")
    assert block.read_only_reason == "no device"


def test_block_unavailable_shows_why(block):
    block.open_block(0xffffffff81000000, 16, "_stext")
    block.set_unavailable("values cannot be read here: no kmem device")
    assert all(c.state == CellState.UNREADABLE for c in block.cells(0xffffffff81000000, 16))
    assert block.hole_reason(0xffffffff81000000) == "values cannot be read here: no kmem device"
