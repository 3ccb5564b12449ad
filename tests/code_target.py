"""tests/c/code_target.c built as a PIE and as a fixed-address (non-PIE)
executable and run: named, non-inlined functions for the module-symbol and
disassembly tests (and the watchpoint tests, which may share it)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests import c_child
from tests.c_child import CChild

SOURCE = Path(__file__).with_name("c") / "code_target.c"
BUILDS = {"pie": ["-fPIE", "-pie"], "nopie": ["-fno-pie", "-no-pie"],
          # IBT: the PLT stubs live in .plt.sec, each after an endbr64
          "pie-ibt": ["-fPIE", "-pie", "-fcf-protection=full", "-Wl,-z,ibtplt"]}
FUNCTIONS = ("lv_add", "lv_bump", "lv_loop", "main")


def build(directory: Path, kind: str) -> Path:
    return c_child.build(SOURCE, directory, "-O1", "-g0", *BUILDS[kind],
                         name=f"code_target_{kind}")


CodeRun = CChild


def start(exe: Path) -> CodeRun:
    return c_child.start(exe)


def nm(exe: Path) -> dict[str, tuple[int, str, int]]:
    """name -> (value, nm letter, size) of every defined symbol nm lists
    (nm -S --defined-only; .symtab, all of them unique in this program)."""
    out = subprocess.run(["nm", "-S", "--defined-only", str(exe)], check=True,
                         capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4:
            value, size, letter, name = parts
        else:
            (value, letter, name), size = parts, "0"
        found[name] = (int(value, 16), letter, int(size, 16))
    return found


def objdump_plt(exe: Path) -> dict[str, int]:
    """name@plt -> address of each PLT stub objdump -d names (its synthetic
    symbols, from decoding the PLT against the dynamic relocations)."""
    out = subprocess.run(["objdump", "-d", str(exe)], check=True, capture_output=True,
                         text=True).stdout
    return {m.group(2): int(m.group(1), 16)
            for m in re.finditer(r"^([0-9a-f]+) <([^>+]+@plt)>:", out, re.M)}


@pytest.fixture(params=sorted(BUILDS))
def code_run(request, tmp_path):
    run = start(build(tmp_path, request.param))
    yield run
    run.stop()
