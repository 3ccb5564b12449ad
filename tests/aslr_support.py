"""A small compiled PIE program, run several times at different ASLR bases,
for the tests of locations that must survive a restart."""

from __future__ import annotations

from pathlib import Path

from tests import c_child
from tests.c_child import CChild

SOURCE = Path(__file__).with_name("aslr_prog.c")


def aslr_enabled() -> bool:
    try:
        return Path("/proc/sys/kernel/randomize_va_space").read_text().strip() != "0"
    except OSError:
        return False


Run = CChild


def build(directory: Path) -> Path:
    return c_child.build(SOURCE, directory, "-O0", "-fPIE", "-pie")


def start(exe: Path) -> Run:
    return c_child.start(exe)
