"""The pointer-chain child (tests/c/ptr_chain.c), compiled as PIE and run
several times (ASLR moves its heap, its module and its stacks), for the
pointer scanner's tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

SOURCE = Path(__file__).with_name("c") / "ptr_chain.c"
VALUE = 0x5eed1234abcd


@dataclass
class ChainRun:
    proc: subprocess.Popen
    info: dict

    @property
    def pid(self) -> int:
        return self.proc.pid

    def __getitem__(self, name: str) -> int:
        return self.info[name]

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("exit\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=5)


def build(directory: Path) -> Path:
    if not shutil.which("gcc"):
        pytest.skip("gcc is needed to build the pointer-chain program")
    exe = directory / "ptr_chain"
    subprocess.run(["gcc", "-O0", "-fPIE", "-pie", "-pthread", "-o", str(exe), str(SOURCE)],
                   check=True)
    return exe


def start(exe: Path, run: int) -> ChainRun:
    """Run ``exe``; run 1 sets the decoys into the chain, other runs elsewhere."""
    proc = subprocess.Popen([str(exe), str(run)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise RuntimeError("the pointer-chain program did not start")
    run = ChainRun(proc, json.loads(line))
    _wait_blocked(run.pid)
    return run


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
