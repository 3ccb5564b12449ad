"""Typed symbols in the kernel browser, on real widgets offscreen: a
gcc-built vmlinux with DWARF gives init_uts_ns its type automatically; a
type chosen with type-ahead over this machine's real BTF
(/sys/kernel/btf/vmlinux) shows the value as a tree and is remembered for
the symbol in the next browser; without BTF or DWARF, or without a source
that can read, the browser says why (no traceback)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from PySide6.QtCore import Qt

from lainview.models import settings
from lainview.models.kernel_typing import settings_key
from tests.ui.test_symbol_browser import (BASE, fake_kmem, open_browser, select,  # noqa: F401
                                          wait_value)

BTF = "/sys/kernel/btf/vmlinux"
needs_btf = pytest.mark.skipif(not os.access(BTF, os.R_OK),
                               reason=f"{BTF} is not readable here (no CONFIG_DEBUG_INFO_BTF)")

IMAGE_C = r"""
struct new_utsname {
    char sysname[65]; char nodename[65]; char release[65];
    char version[65]; char machine[65]; char domainname[65];
};
enum lv_state { LV_IDLE = 0, LV_RUNNING = 2 };
struct uts_namespace {
    struct new_utsname name;
    void *user_ns;
    enum lv_state state;
    unsigned int flags : 3;
    unsigned int more : 5;
};
struct uts_namespace init_uts_ns = {
    { "Linux", "(none)", "9.9.9-lainview", "#1 SMP", "x86_64", "(none)" }, 0, LV_RUNNING, 5, 17 };
struct new_utsname lainview_utsname = { "Linux", "host", "1.2.3-btf", "#2", "x86_64", "" };
unsigned long lainview_counter = 7;
void _start(void) { for (;;) ; }
"""


def build(tmp_path, debug: bool):
    if not shutil.which("gcc"):
        pytest.skip("gcc is needed to build a test kernel image")
    d = tmp_path / ("g" if debug else "plain")
    d.mkdir()
    (d / "img.c").write_text(IMAGE_C)
    out = d / "vmlinux"
    subprocess.run(["gcc", "-O0", "-nostdlib", "-static", "-no-pie", *(["-g"] if debug else []),
                    "-o", str(out), str(d / "img.c")], check=True)
    return out


def wait_typed(qtbot, browser, name: str, field: str) -> None:
    typing = browser.workspace.typing
    qtbot.waitUntil(lambda: typing.type_name == name and typing.structure.find(field).isValid(),
                    timeout=10000)


def value_of(browser, path: str):
    model = browser.workspace.typing.structure
    index = model.find(path)
    assert index.isValid(), path
    return model.data(index)


def test_dwarf_of_the_image_types_init_uts_ns(qtbot, open_browser, tmp_path):  # noqa: F811
    image = build(tmp_path, debug=True)
    browser = open_browser(source="image", images=(str(image),))
    ws = browser.workspace
    qtbot.waitUntil(lambda: ws.typing.types is not None, timeout=10000)
    select(qtbot, browser, "init_uts_ns")
    wait_typed(qtbot, browser, "struct uts_namespace", "name.release")
    panel = browser.value
    qtbot.waitUntil(lambda: value_of(browser, "name.release") == '"9.9.9-lainview"',
                    timeout=5000)
    assert ws.typing.origin == "DWARF"
    assert value_of(browser, "name.sysname") == '"Linux"'
    assert value_of(browser, "state") == '"LV_RUNNING"'          # enums by name
    assert value_of(browser, "flags") == "5" and value_of(browser, "more") == "17"
    model = ws.typing.structure
    release = model.find("name.release")
    assert model.data(release.siblingAtColumn(1)) == "+0x82"      # 2 * 65
    assert model.data(release.siblingAtColumn(2)) == "char[65]"
    assert ws.value.size == model.ctype.size                        # the whole struct is read
    assert panel.tabs.currentWidget() is panel.tree and panel.tree.isVisible()
    assert panel.type_edit.text() == "struct uts_namespace"
    assert "DWARF" in panel.type_note.text()
    # A number: one row named after the symbol.
    select(qtbot, browser, "lainview_counter")
    qtbot.waitUntil(lambda: ws.typing.type_name == "long unsigned int"
                    and model.find("lainview_counter").isValid(), timeout=5000)
    qtbot.waitUntil(lambda: value_of(browser, "lainview_counter") == "7", timeout=5000)
    # A symbol DWARF gives no variable type (a function): back to the bytes,
    # a note asks for a type.
    select(qtbot, browser, "_start")
    qtbot.waitUntil(lambda: "choose a type" in ws.typing.note, timeout=5000)
    assert panel.tabs.currentWidget() is panel.view and model.root is None


@needs_btf
def test_a_btf_type_chosen_with_type_ahead_is_remembered(qtbot, open_browser, tmp_path):  # noqa: F811
    image = build(tmp_path, debug=False)
    browser = open_browser(source="image", images=(str(image),))
    ws = browser.workspace
    qtbot.waitUntil(lambda: ws.typing.types is not None, timeout=20000)
    assert ws.typing.available and ws.typing.types.btf is not None
    assert any("no DWARF" in n for n in ws.typing.types.notes)
    select(qtbot, browser, "lainview_utsname")
    wait_value(qtbot, browser)
    panel = browser.value
    qtbot.waitUntil(panel.type_edit.isEnabled, timeout=5000)
    panel.type_edit.setFocus()
    qtbot.keyClicks(panel.type_edit, "new_utsn")
    names = panel.type_names.stringList()
    assert names and names[0] == "struct new_utsname", names[:5]
    assert panel.popup_visible()
    qtbot.keyClick(panel.completer.popup(), Qt.Key.Key_Down)
    qtbot.keyClick(panel.completer.popup(), Qt.Key.Key_Return)
    wait_typed(qtbot, browser, "struct new_utsname", "release")
    qtbot.waitUntil(lambda: value_of(browser, "release") == '"1.2.3-btf"', timeout=5000)
    assert value_of(browser, "nodename") == '"host"'
    assert ws.typing.origin == "chosen"
    assert settings.value(settings_key("lainview_utsname", None), "", str) == \
        "struct new_utsname"
    # A new browser (the next run) restores the choice for that symbol.
    ws.stop()
    browser.close()
    again = open_browser(source="image", images=(str(image),))
    qtbot.waitUntil(lambda: again.workspace.typing.types is not None, timeout=20000)
    select(qtbot, again, "lainview_utsname")
    wait_typed(qtbot, again, "struct new_utsname", "release")
    assert again.workspace.typing.origin == "remembered"
    qtbot.waitUntil(lambda: value_of(again, "release") == '"1.2.3-btf"', timeout=5000)
    # Forget: the choice is gone, the bytes are shown again.
    again.value.type_forget.click()
    qtbot.waitUntil(lambda: again.workspace.typing.type_name == "", timeout=5000)
    assert settings.value(settings_key("lainview_utsname", None), "", str) == ""
    assert again.value.tabs.currentWidget() is again.value.view


@needs_btf
def test_an_unknown_type_is_said_and_nothing_breaks(qtbot, open_browser, tmp_path):  # noqa: F811
    image = build(tmp_path, debug=False)
    browser = open_browser(source="image", images=(str(image),))
    ws = browser.workspace
    qtbot.waitUntil(lambda: ws.typing.types is not None, timeout=20000)
    select(qtbot, browser, "lainview_counter")
    task = browser.value._choose("struct no_such_type_lainview")
    qtbot.waitUntil(task.done, timeout=5000)
    assert task.result() is False
    assert "no type" in ws.typing.note and ws.typing.type_name == ""
    assert settings.value(settings_key("lainview_counter", None), "", str) == ""


def test_without_btf_or_dwarf_the_browser_says_why(qtbot, open_browser, tmp_path):  # noqa: F811
    image = build(tmp_path, debug=False)
    empty = tmp_path / "no-btf"
    empty.mkdir()
    browser = open_browser(source="image", images=(str(image),), btf_dir=str(empty))
    ws = browser.workspace
    qtbot.waitUntil(lambda: ws.typing.types is not None, timeout=10000)
    select(qtbot, browser, "lainview_utsname")
    qtbot.waitUntil(lambda: "No types" in ws.typing.note, timeout=5000)
    assert "without BTF" in ws.typing.note and "no DWARF" in ws.typing.note
    assert not browser.value.type_edit.isEnabled()
    task = browser.value._choose("struct new_utsname")
    qtbot.waitUntil(task.done, timeout=5000)
    assert task.result() is False and "No types" in ws.typing.note


@needs_btf
def test_a_source_that_cannot_read_shows_the_shape_and_why(qtbot, open_browser, tmp_path):  # noqa: F811
    """The symbols-only source (a System.map): the type is shown with every
    value unknown, and the value panel says why nothing is read."""
    image = build(tmp_path, debug=False)
    out = subprocess.run(["nm", str(image)], capture_output=True, text=True, check=True).stdout
    system_map = tmp_path / "System.map"
    system_map.write_text(out)
    browser = open_browser(source="image", images=(str(system_map),))
    ws = browser.workspace
    qtbot.waitUntil(lambda: ws.typing.types is not None, timeout=20000)
    select(qtbot, browser, "lainview_utsname")
    qtbot.waitUntil(lambda: bool(ws.value.error), timeout=5000)
    task = browser.value._choose("struct new_utsname")
    qtbot.waitUntil(task.done, timeout=5000)
    assert task.result() is True
    assert value_of(browser, "release") == "??"
    assert "cannot" in browser.value.notice.text().lower() or "System.map" in \
        browser.value.notice.text()


def test_the_kernel_screenshot_selects_and_types_a_symbol(tmp_path):
    """``lainview --kernel --image vmlinux --address init_uts_ns --screenshot``
    renders the browser with the symbol selected and typed from DWARF; a
    symbol that does not exist is one line, exit 1."""
    import sys
    image = build(tmp_path, debug=True)
    shot = tmp_path / "kernel.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    argv = [sys.executable, "-m", "lainview", "--kernel", "--ksource", "image", "--image",
            str(image), "--screenshot", str(shot), "--address"]
    proc = subprocess.run([*argv, "init_uts_ns"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert shot.stat().st_size > 10000
    proc = subprocess.run([*argv, "no_such_symbol_lv"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1 and "no kernel symbol named no_such_symbol_lv" in proc.stderr
    assert "Traceback" not in proc.stderr


@needs_btf
def test_a_typed_kmem_value_refreshes_live(qtbot, open_browser, fake_kmem):  # noqa: F811
    """Through the kmem stand-in: a symbol typed ``u64`` (one row named
    after the symbol) follows a change made behind lainview's back on the
    live timer, as the bytes do, without resetting the tree."""
    browser = open_browser(**fake_kmem.kwargs)
    ws = browser.workspace
    qtbot.waitUntil(lambda: ws.typing.types is not None, timeout=20000)
    select(qtbot, browser, "fake_var")
    wait_value(qtbot, browser)
    task = browser.value._choose("u64")
    qtbot.waitUntil(task.done, timeout=5000)
    assert task.result() is True, ws.typing.note
    model = ws.typing.structure
    expected = str(int.from_bytes(b"VARVALUE", "little"))
    qtbot.waitUntil(lambda: model.find("fake_var").isValid()
                    and model.data(model.find("fake_var")) == expected, timeout=5000)
    assert ws.value.size == 8
    resets = []
    model.modelReset.connect(lambda: resets.append(1))
    browser.value.rate.setValue(20)
    browser.value.live.setChecked(True)
    with open(fake_kmem.node, "r+b") as f:
        f.write(b"NEWVALUE")
    changed = str(int.from_bytes(b"NEWVALUE", "little"))
    qtbot.waitUntil(lambda: model.data(model.find("fake_var")) == changed, timeout=5000)
    browser.value.live.setChecked(False)
    assert not resets
