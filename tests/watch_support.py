"""The watchpoint target (tests/c/watch_target.c): built once per session,
run as a child with known code and data, for the backend, CLI and UI tests."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests import c_child

SOURCE = Path(__file__).with_name("c") / "watch_target.c"
FUNCTIONS = ("writer_one", "writer_two", "reader", "late_writer")


def build(directory: Path) -> Path:
    return c_child.build(SOURCE, directory, "-O2", "-pthread")


def symbol_sizes(exe: Path) -> dict[str, int]:
    """Each function's size, from ``nm -S`` (the test's independent source)."""
    out = subprocess.run(["nm", "-S", str(exe)], check=True, capture_output=True,
                         text=True).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] in FUNCTIONS:
            sizes[parts[3]] = int(parts[1], 16)
    return sizes


def watched_accesses(exe: Path) -> dict[str, tuple[int, str]]:
    """Per function, (offset from the function's start, mnemonic) of its
    instruction that names ``watched``, from ``objdump -d`` (independent of
    lainview's disassembler)."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(exe)], check=True,
                         capture_output=True, text=True).stdout
    found: dict[str, tuple[int, str]] = {}
    function, start = None, 0
    for line in out.splitlines():
        if line.endswith(">:"):
            address, name = line.split()
            function, start = name[1:-2], int(address, 16)
        elif function in FUNCTIONS and "<watched>" in line:
            address, text = line.split(":", 1)
            found[function] = (int(address, 16) - start, text.split()[0])
    return found


class WatchChild:
    """A running watch_target: ``watched``/``progress`` addresses, function
    address ranges (``functions[name] = (start, end)``)."""

    def __init__(self, exe: Path, prefix: list[str] | None = None, run: Path | None = None):
        """``run``: the program to run when not ``exe`` (a stripped copy;
        ``exe`` still gives the symbols the test checks against)."""
        self.proc = subprocess.Popen([*(prefix or []), str(run or exe)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        info = json.loads(self.proc.stdout.readline())
        self.pid = self.proc.pid
        self.watched: int = info["watched"]
        self.progress: int = info["progress"]
        sizes = symbol_sizes(exe)
        self.functions = {name: (info[name], info[name] + sizes[name]) for name in FUNCTIONS}
        self.accesses = {name: (info[name] + offset, mnemonic)
                         for name, (offset, mnemonic) in watched_accesses(exe).items()}

    def function_of(self, ip: int) -> str | None:
        """The function whose code holds ``ip`` (a hit's reported IP, the
        instruction after the access, is still inside the function: each
        ends with a ret after its access)."""
        for name, (start, end) in self.functions.items():
            if start <= ip < end:
                return name
        return None

    def start_thread(self) -> None:
        self.proc.stdin.write("thread\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == "started"

    def read_progress(self) -> int:
        with open(f"/proc/{self.pid}/mem", "rb") as f:
            f.seek(self.progress)
            return int.from_bytes(f.read(8), "little")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def watch_exe(tmp_path_factory):
    """The watchpoint target, built once per test module."""
    return build(tmp_path_factory.mktemp("watch-target"))


@pytest.fixture
def watch_child(watch_exe):
    c = WatchChild(watch_exe)
    yield c
    c.kill()
