"""``module!symbol+off`` locations resolve to nm's address plus the
module's base everywhere a location is resolved: the GUI's go-to, a watch
entry, a bookmark, the CLI's read and write, and the API; in a PIE and a
fixed-address build of tests/c/code_target.c."""

from __future__ import annotations

import subprocess
import sys

import lainview
from lainview.backend.locations import parse_location
from tests.code_target import code_run, nm  # noqa: F401  (fixture)
from tests.models.qt_support import attach


def test_symbol_locations_resolve_everywhere(qtbot, workspace, code_run):
    exe = code_run.exe
    text = f"{exe.name}!lv_bump+0x4"
    expected = code_run.info["lv_bump"] + 4
    # nm's value, the module's lowest mapped address, the page-aligned lowest PT_LOAD:
    with open(f"/proc/{code_run.pid}/maps") as f:
        base = min(int(line.split("-")[0], 16) for line in f if line.rstrip().endswith(str(exe)))
    vaddr0 = 0x400000 if "nopie" in exe.name else 0
    assert base + nm(exe)["lv_bump"][0] - vaddr0 + 4 == expected

    attach(qtbot, workspace, code_run.pid)
    qtbot.waitUntil(lambda: workspace.target.symbols is not None, timeout=10000)
    assert workspace.go_to(text) == expected
    assert workspace.cursor.address == expected

    entry = workspace.watch.add_text(f"{exe.name}!counter", "i64")
    assert entry.address == code_run.info["counter"], entry.unresolved
    mark = workspace.bookmarks.add("bump", parse_location(text))
    assert mark.address == expected, mark.unresolved
    assert workspace.target.name_of(expected) == text

    out = subprocess.run([sys.executable, "-m", "lainview", "read", str(code_run.pid), text, "4",
                          "--raw"], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == workspace.target.target.read(expected, 4).result(10).require()
    wrote = subprocess.run([sys.executable, "-m", "lainview", "write", str(code_run.pid),
                            f"{exe.name}!counter", "2a 00 00 00 00 00 00 00"],
                           capture_output=True, timeout=60)
    assert wrote.returncode == 0, wrote.stderr
    assert workspace.target.target.read(code_run.info["counter"], 8).result(10).require() \
        == (42).to_bytes(8, "little")

    with lainview.attach(code_run.pid, writable=False) as p:
        assert p.resolve(text) == expected


def test_an_unknown_symbol_is_bad_input_naming_it(code_run):
    out = subprocess.run([sys.executable, "-m", "lainview", "read", str(code_run.pid),
                          f"{code_run.exe.name}!no_such_function", "4"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "no_such_function" in out.stderr
    assert "Traceback" not in out.stderr
