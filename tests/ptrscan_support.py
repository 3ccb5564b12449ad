"""The pointer-chain child (tests/c/ptr_chain.c), compiled as PIE and run
several times (ASLR moves its heap, its module and its stacks), for the
pointer scanner's tests."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

from tests import c_child
from tests.c_child import CChild

SOURCE = Path(__file__).with_name("c") / "ptr_chain.c"
VALUE = 0x5eed1234abcd


class ChainRun(CChild):
    def stop(self, farewell: str | None = "exit") -> None:
        super().stop(farewell)


def build(directory: Path) -> Path:
    return c_child.build(SOURCE, directory, "-O0", "-fPIE", "-pie", "-pthread")


def start(exe: Path, run: int) -> ChainRun:
    """Run ``exe``; run 1 sets the decoys into the chain, other runs elsewhere."""
    child = c_child.start(exe, str(run), kind=ChainRun)
    assert isinstance(child, ChainRun)
    _wait_blocked(child.pid)
    return child


def _wait_blocked(pid: int, timeout: float = 10.0) -> None:
    """Until every thread sleeps (blocked in read): its stack then holds still."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = []
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
            except OSError:
                continue
            states.append(stat.rpartition(")")[2].split()[0])
        if len(states) == 2 and all(s == "S" for s in states):
            return
        time.sleep(0.005)
    raise RuntimeError(f"the pointer-chain program's threads did not block: {states}")


def left_behind() -> list[str]:
    """The pointer scanner's temporary directories in TMPDIR (none may stay)."""
    return [n for n in os.listdir(tempfile.gettempdir()) if n.startswith("lainview-ptrscan-")]


@pytest.fixture(scope="module")
def ptrchain_exe(tmp_path_factory) -> Path:
    """The pointer-chain program, built once per test module."""
    return build(tmp_path_factory.mktemp("ptrchain"))


@pytest.fixture
def runs(ptrchain_exe):
    """``runs(n)``: start run ``n`` of the pointer-chain program (stopped
    after the test)."""
    started = []

    def run(n: int) -> ChainRun:
        r = start(ptrchain_exe, n)
        started.append(r)
        return r
    yield run
    for r in started:
        r.stop()
