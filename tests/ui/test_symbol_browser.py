"""The kernel-symbol browser: on this machine's real kallsyms (typing
filters 100k+ rows, a symbol without a readable source explains why), on a
gcc-built vmlinux image (read-only: editing off, with the reason), and
through the kmem stand-in (tests/backend/fake_kmem.c): read, follow pointer,
patch with confirmation (cancel writes nothing), EFAULT explained, journal,
revert, hold and release."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt

from lainview.backend import kmem
from lainview.backend.journal import Journal, default_journal_path
from lainview.models.hex_document import CellState
from lainview.models.kernel_workspace import KernelWorkspace
from lainview.models.symbol_model import NAME
from lainview.ui.symbol_browser import SymbolBrowser
from tests.kmem_support import build as build_fake_kmem, fake_memory
from tests.models.qt_support import open_editor

KALLSYMS = "/proc/kallsyms"
needs_kallsyms = pytest.mark.skipif(not os.access(KALLSYMS, os.R_OK),
                                    reason=f"{KALLSYMS} is not readable here")
BASE = 0xFFFFFFFFC0000000


@pytest.fixture
def open_browser(qtbot, gui_backend, no_widgets_left):
    """Make a KernelWorkspace (kwargs: its source) with a browser over it,
    loaded; both are stopped and closed after the test."""
    made = []

    def make(**kw) -> SymbolBrowser:
        ws = KernelWorkspace(gui_backend, **kw)
        browser = SymbolBrowser(ws)
        qtbot.addWidget(browser)
        browser.resize(1440, 860)
        browser.show()
        qtbot.waitExposed(browser)
        made.append(browser)
        task = ws.start()
        # Generous: loading the real kallsyms under the VM harness's
        # emulated CPU (TCG) takes over 20 s; waitUntil returns at once when done.
        qtbot.waitUntil(task.done, timeout=120000)
        return browser

    yield make
    for browser in made:
        browser.workspace.stop()
        browser.close()


def select(qtbot, browser: SymbolBrowser, name: str, module: str | None = None) -> None:
    assert browser.select_symbol(name, module)
    controller = browser.workspace.value
    qtbot.waitUntil(lambda: controller.symbol is not None and controller.symbol.name == name,
                    timeout=5000)


def wait_value(qtbot, browser: SymbolBrowser) -> None:
    controller = browser.workspace.value
    qtbot.waitUntil(lambda: controller.value is not None or bool(controller.error), timeout=5000)


# -- the real kallsyms -----------------------------------------------------------------------------

@needs_kallsyms
def test_typing_filters_the_real_symbols(qtbot, open_browser):
    browser = open_browser()
    model = browser.workspace.symbols
    total = model.rowCount()
    with open(KALLSYMS) as f:
        assert total == sum(1 for _ in f) > 100_000
    assert f"{total:,} of {total:,} symbols" in browser.symbols.count.text()
    qtbot.keyClicks(browser.symbols.filter, "sched_clock")
    qtbot.waitUntil(lambda: not model.filter_pending and model.pattern == "sched_clock",
                    timeout=3000)
    shown = model.rowCount()
    assert 0 < shown < total
    assert all("sched_clock" in model.data(model.index(r, NAME)).lower() for r in range(shown))
    assert f"{shown:,} of {total:,} symbols" in browser.symbols.count.text()
    # Regex mode and a type filter through the combo boxes.
    browser.symbols.filter.clear()
    browser.symbols.mode.setCurrentText("regex")
    qtbot.keyClicks(browser.symbols.filter, "^sched_clock$")
    qtbot.waitUntil(lambda: not model.filter_pending and model.pattern == "^sched_clock$",
                    timeout=3000)
    assert [model.data(model.index(r, NAME)) for r in range(model.rowCount())] == \
        ["sched_clock"] * model.rowCount() and model.rowCount() >= 1
    qtbot.keyClicks(browser.symbols.filter, "(")
    qtbot.waitUntil(lambda: bool(model.filter_error), timeout=3000)
    assert browser.symbols.error.isVisible() and "last valid result" in browser.symbols.error.text()
    shown = _shown_text(browser.symbols.error)          # what the user reads: no entities
    assert "&#" not in shown and "&amp;" not in shown and "&lt;" not in shown
    assert model.filter_error in shown
    browser.symbols.mode.setCurrentText("substring")
    browser.symbols.filter.setText("")
    index = next(i for i in range(browser.symbols.types.count())
                 if browser.symbols.types.itemData(i) == "text")
    browser.symbols.types.setCurrentIndex(index)
    qtbot.waitUntil(lambda: not model.filter_pending, timeout=3000)
    assert 0 < model.rowCount() < total
    assert all(model.data(model.index(r, 2))[0] in "Tt" for r in range(0, model.rowCount(), 997))


@needs_kallsyms
def test_sorting_by_clicking_headers(qtbot, open_browser):
    browser = open_browser()
    model = browser.workspace.symbols
    browser.symbols.filter.setText("irq_")
    model.apply_filter()
    header = browser.symbols.table.horizontalHeader()
    header.setSortIndicator(NAME, Qt.SortOrder.AscendingOrder)
    names = [model.data(model.index(r, NAME)) for r in range(model.rowCount())]
    assert names == sorted(names)
    header.setSortIndicator(NAME, Qt.SortOrder.DescendingOrder)
    assert [model.data(model.index(r, NAME)) for r in range(model.rowCount())] == \
        sorted(names, reverse=True)


@needs_kallsyms
@pytest.mark.skipif(os.access("/dev/lainkmem", os.R_OK) or os.access("/proc/kcore", os.R_OK),
                    reason="the kmem device or /proc/kcore is readable: values would be "
                           "(tests/vm/test_kernel_sources_device.py runs this as nobody)")
def test_a_symbol_without_a_readable_source_explains_why(qtbot, open_browser):
    browser = open_browser()
    ws = browser.workspace
    assert ws.info.source == "kallsyms"
    chips = browser.source_bar.chips
    assert chips["list"].text() == "✓ list" and chips["read"].text() == "✗ read"
    assert "kmem device" in chips["write"].toolTip()
    # Why the sources that could read were passed over, in the bar's reason.
    reason = browser.source_bar.reason.text()
    assert "not chosen: kmem: " in reason and "; kcore: " in reason
    select(qtbot, browser, "_stext")
    wait_value(qtbot, browser)
    notice = browser.value.notice
    assert notice.isVisible()
    text = notice.text()
    assert "Values cannot be read here" in text and "/proc/kcore" in text
    # Why kmem cannot read, said once (it was repeated for editing): the
    # module to load, or (the VM, as nobody) that the device is root-only.
    if os.path.exists("/dev/lainkmem"):
        assert text.count("cannot open /dev/lainkmem") == 1 and "root-only" in text, text
    else:
        assert "lainko" in text and text.count("no kmem device") == 1, text
    assert "Editing is off too." in notice.text()
    document = ws.document
    start = document.region.start
    assert start == ws.table.find("_stext").address
    assert document.cell(start).state == CellState.UNREADABLE
    assert "needs the kmem device" in document.hole_reason(start)
    # Typing in the hex view is refused with the reason; nothing is staged.
    browser.value.view.setFocus()
    qtbot.keyClicks(browser.value.view, "90")
    assert not document.staged
    assert "read-only: editing is off" in browser.value.message.text()
    assert not browser.value.staged_bar.isVisible()
    # Hold is off, and says why.
    browser.left_tabs.setCurrentWidget(browser.modules)
    assert not browser.modules.hold.isEnabled()
    assert "kmem device" in browser.modules.why.text()


# -- an offline image (read-only) ---------------------------------------------------------------------

@pytest.fixture
def vmlinux(tmp_path):
    if not shutil.which("gcc"):
        pytest.skip("gcc is needed to build a test image")
    (tmp_path / "img.c").write_text(
        'const char linux_banner[] = "Linux version 9.9.9-lainview";\n'
        "unsigned long lainview_counter = 0x1122334455667788;\n"
        "unsigned long *lainview_pointer = &lainview_counter;\n"
        "void _start(void) { for (;;) ; }\n")
    image = tmp_path / "vmlinux"
    subprocess.run(["gcc", "-nostdlib", "-static", "-no-pie", "-O0", "-o", str(image),
                    str(tmp_path / "img.c")], check=True)
    return image


def test_an_image_reads_values_and_keeps_editing_off(qtbot, open_browser, vmlinux):
    browser = open_browser(source="image", images=(str(vmlinux),))
    ws = browser.workspace
    assert ws.info.source == "image" and ws.value.can("read") and not ws.value.can("write")
    assert browser.source_bar.chips["read"].text() == "✓ read"
    select(qtbot, browser, "linux_banner")
    wait_value(qtbot, browser)
    symbol = ws.table.find("linux_banner")
    assert ws.document.region.start == symbol.address
    assert ws.document.bytes_at(symbol.address, 12) == b"Linux versio"
    assert "via" in browser.value.details.text()
    # Editing is disabled, with the reason shown and given when typing.
    assert ws.document.read_only
    assert "read-only snapshot" in browser.value.notice.text()
    browser.value.view.setFocus()
    qtbot.keyClicks(browser.value.view, "ff")
    assert not ws.document.staged
    assert "read-only snapshot" in browser.value.message.text()
    assert ws.document.bytes_at(symbol.address, 1) == b"L"
    # The inspector shows the typed value; the pointer follows through the image.
    select(qtbot, browser, "lainview_counter")
    wait_value(qtbot, browser)
    qtbot.waitUntil(lambda: ws.inspector.data(ws.inspector.index(7, 1)) == str(0x1122334455667788),
                    timeout=3000)
    select(qtbot, browser, "lainview_pointer")
    wait_value(qtbot, browser)
    counter = ws.table.find("lainview_counter").address
    assert ws.inspector.data(ws.inspector.index(11, 1)) == "lainview_counter"
    browser.value.size_box.setValue(8)
    browser.value.follow.setChecked(True)
    qtbot.waitUntil(lambda: ws.value.value is not None and ws.value.value.indirect, timeout=5000)
    assert ws.document.region.start == counter
    assert ws.document.bytes_at(counter, 8) == (0x1122334455667788).to_bytes(8, "little")
    assert f"→ {counter:#x} (lainview_counter)" in browser.value.details.text()


# -- the kmem stand-in, in this process ------------------------------------------------------------

@pytest.fixture
def fake_kmem(tmp_path, monkeypatch):
    """The preloadable kmem stand-in, compiled and loaded into this process.

    LD_PRELOAD cannot interpose on a process that is already running, so the
    stand-in's ``ioctl`` is called through ctypes for the six MIOC requests
    (every other request goes to the real fcntl.ioctl). The struct the
    backend builds, the errno contract and the memory file are the
    stand-in's, as in tests/test_kcli.py. Symbols: a kallsyms file naming the
    stand-in's symbols; modules: a /proc/modules naming its module."""
    lib = ctypes.CDLL(str(build_fake_kmem(tmp_path)), use_errno=True)
    node = fake_memory(tmp_path / "kmem")
    monkeypatch.setenv("FAKE_KMEM_PATH", str(node))
    real_ioctl = kmem.fcntl.ioctl

    def ioctl(fd, request, arg=0, mutate_flag=True):
        if not 0x4D04 <= request <= 0x4D09:
            return real_ioctl(fd, request, arg, mutate_flag)
        if isinstance(arg, ctypes.Structure):
            pointer = ctypes.cast(ctypes.pointer(arg), ctypes.c_void_p)
        else:
            keep = ctypes.create_string_buffer(bytes(arg), len(arg))
            pointer = ctypes.cast(keep, ctypes.c_void_p)
        rc = lib.ioctl(ctypes.c_int(fd), ctypes.c_ulong(request), pointer)
        if rc < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        return rc

    monkeypatch.setattr(kmem.fcntl, "ioctl", ioctl)
    symbols = tmp_path / "kallsyms"
    symbols.write_text(
        f"{BASE:016x} D fake_var\n{BASE + 64:016x} R fake_ro\n"
        f"{BASE + 128:016x} D fake_ptr\n{BASE + 256:016x} D fake_target\n"
        f"{BASE + 512:016x} d fake_var\t[fakemod]\n{BASE + 576:016x} d mod_only\t[fakemod]\n")
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "modules").write_text(f"fakemod 16384 0 - Live {BASE:#x}\n")
    return SimpleNamespace(node=node, kwargs=dict(source="kmem", kmem_path=str(node),
                                                  kallsyms_path=str(symbols), proc=str(proc)))


def memory(fake, offset: int, size: int) -> bytes:
    return fake.node.read_bytes()[offset:offset + size]


def journal_entries() -> list:
    return Journal(default_journal_path()).entries()


def test_kmem_reads_and_follows_pointers(qtbot, open_browser, fake_kmem):
    browser = open_browser(**fake_kmem.kwargs)
    ws = browser.workspace
    assert ws.info.source == "kmem" and ws.info.writable
    assert all(chip.text().startswith("✓") for chip in browser.source_bar.chips.values())
    select(qtbot, browser, "fake_var")
    wait_value(qtbot, browser)
    assert ws.value.size == 64                      # the distance to fake_ro
    assert ws.document.region.start == BASE
    assert ws.document.bytes_at(BASE, 8) == b"VARVALUE"
    assert "via kmem READKSYM" in browser.value.details.text()
    assert not ws.document.read_only and not browser.value.notice.isVisible()
    # The same name in a module: the module's own value.
    select(qtbot, browser, "fake_var", "fakemod")
    qtbot.waitUntil(lambda: ws.document.bytes_at(BASE + 512, 8) == b"MODVALUE", timeout=5000)
    # A live value: a change made behind lainview's back shows up, flagged.
    select(qtbot, browser, "fake_var")
    qtbot.waitUntil(lambda: ws.document.bytes_at(BASE, 8) == b"VARVALUE", timeout=5000)
    browser.value.rate.setValue(20)
    browser.value.live.setChecked(True)
    with open(fake_kmem.node, "r+b") as f:
        f.seek(3)
        f.write(b"#")
    qtbot.waitUntil(lambda: ws.document.byte_at(BASE + 3) == ord("#"), timeout=5000)
    assert ws.document.cell(BASE + 3).state == CellState.CHANGED
    browser.value.live.setChecked(False)
    # Follow pointer: IREADKSYM, shown where the pointer points.
    select(qtbot, browser, "fake_ptr")
    wait_value(qtbot, browser)
    browser.value.follow.setChecked(True)
    qtbot.waitUntil(lambda: ws.value.value is not None and ws.value.value.indirect, timeout=5000)
    assert ws.document.region.start == 256
    assert ws.document.bytes_at(256, 8) == b"POINTED!"
    assert "via kmem IREADKSYM" in browser.value.details.text()
    assert "→ 0x100" in browser.value.details.text()


def stage(qtbot, browser, address: int, hex_digits: str) -> None:
    view = browser.value.view
    browser.workspace.cursor.move_to(address)
    view.setFocus()
    qtbot.keyClicks(view, hex_digits)


def test_patch_confirmation_cancel_then_write_and_revert(qtbot, open_browser, fake_kmem):
    browser = open_browser(**fake_kmem.kwargs)
    ws = browser.workspace
    select(qtbot, browser, "fake_var")
    qtbot.waitUntil(lambda: ws.document.bytes_at(BASE, 8) == b"VARVALUE", timeout=5000)
    stage(qtbot, browser, BASE + 2, "4142")        # "VA" + "AB" + "VALUE"
    assert ws.document.staged and browser.value.staged_bar.isVisible()
    assert ws.document.cell(BASE + 2).state == CellState.WRITING
    assert memory(fake_kmem, 0, 8) == b"VARVALUE"   # typing writes nothing
    browser.value.write.click()
    qtbot.waitUntil(lambda: browser.patch_dialog is not None, timeout=5000)
    dialog = browser.patch_dialog
    assert dialog.proposal.old == b"VARV" and dialog.proposal.new == b"VAAB"
    assert dialog.proposal.address == BASE and dialog.proposal.changed_offsets == [2, 3]
    assert "fake_var" in dialog.symbol_label.text()
    assert f"{BASE:#x}" in dialog.address_label.text()
    text = dialog.bytes_view.toPlainText()
    assert "56 41 52 56" in text and "56 41 41 42" in text     # current | after
    assert "WRITEKSYM" in dialog.what_label.text() and "2 of them change" in dialog.what_label.text()
    assert "first 2 unchanged bytes" in dialog.notes.text()
    assert dialog.cancel_button.isDefault()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: browser.patch_dialog is None, timeout=3000)
    assert memory(fake_kmem, 0, 8) == b"VARVALUE"   # cancelling writes nothing
    assert journal_entries() == []
    assert ws.document.staged and "cancelled" in browser.value.message.text()
    # Confirm: written, read back, journaled.
    browser.value.write.click()
    qtbot.waitUntil(lambda: browser.patch_dialog is not None, timeout=5000)
    with qtbot.waitSignal(ws.value.written, timeout=5000) as done:
        qtbot.mouseClick(browser.patch_dialog.write_button, Qt.MouseButton.LeftButton)
    result = done.args[0]
    assert memory(fake_kmem, 0, 8) == b"VAABALUE"
    assert result.old == b"VARV" and result.new == b"VAAB"
    [entry] = journal_entries()
    assert (entry.id, entry.kind, entry.status) == (result.journal_id, "kernel", "ok")
    assert (entry.target["symbol"], entry.address, entry.old, entry.new) == \
        ("fake_var", BASE, b"VARV", b"VAAB")
    assert not ws.document.staged and ws.document.bytes_at(BASE, 8) == b"VAABALUE"
    assert "wrote 4 bytes to fake_var" in browser.value.message.text()
    assert f"entry {result.journal_id}" in browser.value.message.text()
    # Revert through the journal.
    assert browser.value.revert.isVisible()
    browser.value.revert.click()
    qtbot.waitUntil(lambda: memory(fake_kmem, 0, 8) == b"VARVALUE", timeout=5000)
    qtbot.waitUntil(lambda: ws.document.bytes_at(BASE, 8) == b"VARVALUE", timeout=5000)
    assert "reverted" in browser.value.message.text()


def test_a_read_only_symbol_write_is_explained(qtbot, open_browser, fake_kmem):
    browser = open_browser(**fake_kmem.kwargs)
    ws = browser.workspace
    select(qtbot, browser, "fake_ro")
    qtbot.waitUntil(lambda: ws.document.bytes_at(BASE + 64, 8) == b"READONLY", timeout=5000)
    stage(qtbot, browser, BASE + 64, "58")
    browser.request_patch()
    qtbot.waitUntil(lambda: browser.patch_dialog is not None, timeout=5000)
    assert browser.patch_dialog.proposal.new == b"XEADONLY"[:1]
    browser.patch_dialog.accept()
    qtbot.waitUntil(lambda: "write failed" in browser.value.message.text(), timeout=5000)
    text = browser.value.message.text()
    assert "EFAULT" in text and "read-only kernel memory" in text and "nothing was written" in text
    assert "fake_ro is read-only data (type R)" in text
    assert memory(fake_kmem, 64, 8) == b"READONLY"
    assert ws.document.cell(BASE + 64).state == CellState.FAILED
    assert "read-only" in ws.document.failed_writes[BASE + 64]
    [entry] = journal_entries()
    assert entry.status == "failed" and entry.target["symbol"] == "fake_ro"
    browser.value.discard.click()
    assert not ws.document.staged and ws.document.cell(BASE + 64).state == CellState.READABLE


def test_hold_and_release_a_module(qtbot, open_browser, fake_kmem):
    browser = open_browser(**fake_kmem.kwargs)
    panel = browser.modules
    browser.left_tabs.setCurrentWidget(panel)
    assert browser.left_tabs.tabText(1) == "Modules (1)"
    assert not panel.release.isEnabled()
    panel.select("fakemod")
    assert panel.hold.isEnabled()
    panel.hold.click()
    qtbot.waitUntil(lambda: browser.workspace.holds.get("fakemod") == 1, timeout=5000)
    panel.hold.click()
    qtbot.waitUntil(lambda: browser.workspace.holds.get("fakemod") == 2, timeout=5000)
    model = browser.workspace.modules
    assert model.data(model.index(model.row_of("fakemod"), 5)) == "2 holds"
    assert "fakemod ×2" in panel.why.text()
    assert panel.release.isEnabled()
    panel.release.click()
    qtbot.waitUntil(lambda: browser.workspace.holds.get("fakemod") == 1, timeout=5000)
    panel.release.click()
    qtbot.waitUntil(lambda: "fakemod" not in browser.workspace.holds, timeout=5000)
    assert not panel.release.isEnabled()
    # The device itself refuses a release with no hold left (EINVAL), shown in the status.
    task = browser.workspace.spawn(browser.workspace.release("fakemod"))
    qtbot.waitUntil(task.done, timeout=5000)
    assert task.result() is False
    assert "EINVAL" in browser.status.text() and "no hold on it is left" in browser.status.text()


def test_the_kernel_inspector_keeps_what_is_typed_while_the_value_changes(qtbot, open_browser,
                                                                          fake_kmem):
    from lainview.models.inspector_model import LITTLE
    browser = open_browser(**fake_kmem.kwargs)
    ws = browser.workspace
    select(qtbot, browser, "fake_var")
    qtbot.waitUntil(lambda: ws.document.bytes_at(BASE, 8) == b"VARVALUE", timeout=5000)
    browser.value.rate.setValue(20)
    browser.value.live.setChecked(True)
    index = ws.inspector.index(ws.inspector.names.index("u64"), LITTLE)
    table = browser.inspector.table
    editor = open_editor(qtbot, table, index)
    for n, ch in enumerate("100"):
        shown = index.data()
        with open(fake_kmem.node, "r+b") as f:      # the value changes under the editor
            f.write(n.to_bytes(8, "little"))
        qtbot.waitUntil(lambda: index.data() != shown, timeout=5000)
        qtbot.keyClicks(editor, ch)
    assert editor.text() == "100"
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: ws.document.staged, timeout=5000)
    assert ws.document.bytes_at(BASE, 8) == (100).to_bytes(8, "little")     # staged
    browser.value.live.setChecked(False)


def test_a_kernel_patch_that_changes_nothing_is_not_offered(qtbot, open_browser, fake_kmem):
    browser = open_browser(**fake_kmem.kwargs)
    ws = browser.workspace
    select(qtbot, browser, "fake_var")
    qtbot.waitUntil(lambda: ws.document.bytes_at(BASE, 8) == b"VARVALUE", timeout=5000)
    stage(qtbot, browser, BASE, "5641")             # "VA" over "VA"
    assert ws.document.staged
    with qtbot.waitSignal(ws.value.message, timeout=5000) as said:
        browser.value.write.click()
    assert said.args[0] == "nothing to write: fake_var already holds the edited bytes"
    assert browser.patch_dialog is None and not ws.document.staged
    assert journal_entries() == []


def test_a_kernel_freeze_in_the_watch_list_is_one_journal_entry(qtbot, gui_backend, fake_kmem):
    """Through the workspace's one kernel service, made from the options."""
    from lainview.models.workspace import Workspace
    ws = Workspace(gui_backend, kernel_options=fake_kmem.kwargs)
    try:
        watch = ws.watch
        entry = watch.add_text("kernel:fake_var", "bytes[8]", "var")
        qtbot.waitUntil(lambda: entry.data == b"VARVALUE", timeout=10000)
        assert watch.set_frozen(entry, True, b"FROZEN!!")
        qtbot.waitUntil(lambda: memory(fake_kmem, 0, 8) == b"FROZEN!!", timeout=10000)
        for _ in range(2):
            with open(fake_kmem.node, "r+b") as f:      # the "kernel" changes it
                f.write(b"CHANGED!")
            qtbot.waitUntil(lambda: memory(fake_kmem, 0, 8) == b"FROZEN!!", timeout=10000)
        watch.set_frozen(entry, False)
        qtbot.waitUntil(lambda: journal_entries() and journal_entries()[0].ended is not None
                        and not watch.freezer._inflight, timeout=10000)
        [held] = journal_entries()
        assert (held.kind, held.freeze, held.old, held.new) == \
            ("kernel", True, b"VARVALUE", b"FROZEN!!")
        assert held.rewrites == entry.freeze_writes >= 3
        [outcome] = ws.kernel.backend.revert([held.id]).result()
        assert outcome.status == "reverted", outcome
        assert memory(fake_kmem, 0, 8) == b"VARVALUE"
    finally:
        ws.stop()


# -- wiring ---------------------------------------------------------------------------------------------

@needs_kallsyms
def test_the_main_window_opens_the_browser_with_ctrl_k(qtbot, workspace, no_widgets_left):
    from PySide6.QtGui import QAction

    from lainview.ui.main_window import MainWindow
    window = MainWindow(workspace)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    action = next(a for a in window.findChildren(QAction) if a.text() == "&Kernel symbols…")
    assert action.shortcut().toString() == "Ctrl+K"
    action.trigger()
    browser = window.kernel_browser
    assert browser is not None and browser.isWindow() and browser.isVisible()
    qtbot.waitUntil(lambda: browser.workspace.table is not None, timeout=20000)
    assert browser.workspace.symbols.rowCount() > 100_000
    action.trigger()
    assert window.kernel_browser is browser      # one browser, raised again
    window.close()
    assert not browser.isVisible() and not browser.workspace.value.live


def test_app_kernel_flags():
    from lainview.app import parse_args
    args = parse_args(["--kernel", "--kmem", "/dev/x", "--ksource", "kmem"])
    assert (args.kernel, args.kmem, args.ksource, args.image) == (True, "/dev/x", "kmem", [])
    args = parse_args(["--kernel", "--kmem", "/dev/x", "--image", "a"])     # auto: either
    assert (args.ksource, args.image) == ("auto", ["a"])
    assert parse_args([]).kernel is False
    # A source chosen by name with an option it would ignore: usage error, exit 2.
    for argv in (["--ksource", "kmem", "--image", "a"], ["--ksource", "kallsyms", "--kmem", "x"]):
        with pytest.raises(SystemExit) as stop:
            parse_args(["--kernel", *argv])
        assert stop.value.code == 2


# -- the real kmem device (runs in the VM harness, where lainko is loaded) -----------------------

@pytest.mark.device
@pytest.mark.skipif(not os.path.exists("/dev/lainkmem") or os.geteuid() != 0,
                    reason="needs the real /dev/lainkmem (root): tests/vm/run.sh loads lainko")
def test_real_kmem_device_shows_init_uts_ns(qtbot, open_browser):
    import platform
    browser = open_browser(source="kmem")
    ws = browser.workspace
    assert ws.info.source == "kmem" and ws.info.writable
    select(qtbot, browser, "init_uts_ns")
    wait_value(qtbot, browser)
    assert not ws.value.error, ws.value.error
    start = ws.document.region.start
    data = ws.document.bytes_at(start, ws.value.size)
    assert data is not None and platform.release().encode() in data
    assert "via kmem READKSYM" in browser.value.details.text()


def _shown_text(label) -> str:
    """The text a QLabel displays (markup rendered, entities resolved)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QTextDocumentFragment
    from PySide6 import QtGui
    text = label.text()
    rich = label.textFormat() == Qt.TextFormat.RichText or (
        label.textFormat() == Qt.TextFormat.AutoText and QtGui.Qt.mightBeRichText(text))
    return QTextDocumentFragment.fromHtml(text).toPlainText() if rich else text


@needs_kallsyms
def test_the_symbol_table_paints_like_the_stock_view(qtbot, open_browser):
    """The table's one-pass painting (one model call per row, one cached
    layout per text) paints the same pixels as QTableView with Qt's stock
    delegate: elided names, alternate rows, the selected row, the coloured
    type and module columns, the mono addresses; a text is laid out once
    at most (on its second sight)."""
    from PySide6.QtWidgets import QStyledItemDelegate
    from lainview.ui.text_delegate import FastTextTable

    browser = open_browser()
    model = browser.workspace.symbols
    table = browser.symbols.table
    browser.splitter.setSizes([420, 1020])          # narrow enough to elide long names
    browser.symbols.filter.setText("sched_clock")
    model.apply_filter()
    table.selectRow(2)
    qtbot.waitUntil(lambda: model.rowCount() > 20)
    assert isinstance(table, FastTextTable)
    delegate = table.itemDelegate()
    assert delegate is table.text_delegate
    width = table.columnWidth(NAME)
    metrics = table.fontMetrics()
    assert any(metrics.horizontalAdvance(model.data(model.index(r, NAME))) > width
               for r in range(table.rowAt(table.viewport().height() - 1)))   # some are elided
    assert table.columnWidth(NAME) > 100
    # A text seen once is drawn without a layout; seen again, it is laid
    # out for the cache; after that, repainting lays nothing out. Each way
    # paints the stock view's pixels.
    delegate._texts.clear()
    delegate._seen.clear()                  # as if the rows came into view now
    first = table.viewport().grab().toImage()
    assert delegate._seen                   # short texts drawn without a layout
    cached = table.viewport().grab().toImage()
    laid_out = set(delegate._texts)
    table.viewport().repaint()
    assert set(delegate._texts) - laid_out == set() and laid_out
    stock = QStyledItemDelegate(table)
    table.setItemDelegate(stock)
    assert table.viewport().grab().toImage() == first == cached
    table.setItemDelegate(delegate)


@needs_kallsyms
def test_the_browser_opens_within_1280x720_and_2560x1440_at_scale_2(tmp_path):
    """Ctrl+K (or --kernel) on a 1280x720 screen, and on 2560x1440 at
    QT_SCALE_FACTOR=2: the browser window fits the screen (it opened at
    1440x860 logical pixels, its top line and right edge off screen)."""
    import re
    import sys
    for scale, width, height in ((1, 1280, 720), (2, 2560, 1440)):
        config = tmp_path / "screen.json"
        config.write_text('{"screens": [{"name": "s", "x": 0, "y": 0, "width": %d, '
                          '"height": %d, "logicalDpi": 96, "dpr": 1}]}' % (width, height))
        env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}",
                   QT_SCALE_FACTOR=str(scale))
        proc = subprocess.run([sys.executable, "-m", "lainview", "--kernel", "--screenshot",
                               str(tmp_path / "kernel.png")],
                              env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        m = re.search(r"\((\d+)x(\d+)\)", proc.stdout)
        assert m, proc.stdout
        shown = (int(m.group(1)), int(m.group(2)))         # device pixels
        assert shown[0] <= width and shown[1] <= height, (scale, shown)


def test_symbol_names_get_room_beside_the_value_panel(qtbot, gui_backend, no_widgets_left):
    """A new user's report: at a 1280x720 screen's window size the Name
    column was about 57 px (names drawn as "s…t", "x…l") while the Type
    column kept room for 21 digits. The names now get the Type column's
    slack: at least 12 digits' width at 1180x680 (the value panel's hex
    view keeps its fixed minimum beside it)."""
    from lainview.ui.symbol_browser import NAME, TYPE
    ws = KernelWorkspace(gui_backend)
    browser = SymbolBrowser(ws)
    qtbot.addWidget(browser)
    browser.resize(1180, 680)
    browser.show()
    qtbot.waitExposed(browser)
    table = browser.symbols.table
    digit = browser.fontMetrics().horizontalAdvance("0")
    # Later (1280x720 under Xvfb) names were still cut to "__pfx…art.0": the
    # type column now shows letter and kind (scope in the tooltip), so names
    # get at least 20 digits.
    qtbot.waitUntil(lambda: table.columnWidth(NAME) >= 20 * digit, timeout=5000)
    assert table.columnWidth(TYPE) >= browser.fontMetrics().horizontalAdvance("T  text")
    browser.close()


def test_an_image_symbols_code_is_disassembled(qtbot, open_browser, vmlinux):
    browser = open_browser(source="image", images=(str(vmlinux),))
    ws = browser.workspace
    qtbot.waitUntil(lambda: ws.table is not None, timeout=10000)
    start = ws.table.find("_start")
    task = browser.disassemble(start)
    qtbot.waitUntil(task.done, timeout=10000)
    model = browser.code.model
    assert browser.left_tabs.currentWidget() is browser.code
    assert model.lines[0].address == start.address and model.lines[0].location == "kernel:_start"
    # for (;;) ; at -O0: push rbp; mov rbp, rsp; jmp to itself
    jump = next(line for line in model.lines if line.mnemonic == "jmp")
    assert jump.target == jump.address and jump.target_location.startswith("kernel:_start+")
