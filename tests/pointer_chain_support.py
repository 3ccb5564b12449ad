"""A compiled C child holding a pointer chain (tests/c/pointer_chain.c):
global -> player, player+0x18 -> inventory, inventory+0x8 = a u32; the
tests move the inventory, break the chain and mend it through stdin."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

SOURCE = Path(__file__).with_name("c") / "pointer_chain.c"


@dataclass
class ChainChild:
    proc: subprocess.Popen
    info: dict

    @property
    def pid(self) -> int:
        return self.proc.pid

    def __getattr__(self, name):
        try:
            return self.info[name]
        except KeyError:
            raise AttributeError(name) from None

    def command(self, line: str) -> dict:
        """Send one command (move, break, fix, set N); the child's new state."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply:
            raise RuntimeError(f"the pointer-chain child died answering {line!r}")
        self.info = json.loads(reply)
        return self.info

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def build(directory: Path) -> Path:
    if not shutil.which("gcc"):
        pytest.skip("gcc is needed to build the pointer-chain test program")
    exe = directory / "pointer_chain"
    subprocess.run(["gcc", "-O0", "-fPIE", "-pie", "-o", str(exe), str(SOURCE)], check=True)
    return exe


def start(exe: Path) -> ChainChild:
    proc = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise RuntimeError("the pointer-chain child did not start")
    return ChainChild(proc, json.loads(line))


@pytest.fixture
def chain_child(tmp_path):
    child = start(build(tmp_path))
    yield child
    child.stop()
