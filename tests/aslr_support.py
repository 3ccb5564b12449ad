"""A small compiled PIE program, run several times at different ASLR bases,
for the tests of locations that must survive a restart."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

SOURCE = Path(__file__).with_name("aslr_prog.c")


def aslr_enabled() -> bool:
    try:
        return Path("/proc/sys/kernel/randomize_va_space").read_text().strip() != "0"
    except OSError:
        return False


@dataclass
class Run:
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
        pytest.skip("gcc is needed to build the ASLR test program")
    exe = directory / "aslr_prog"
    subprocess.run(["gcc", "-O0", "-fPIE", "-pie", "-o", str(exe), str(SOURCE)], check=True)
    return exe


def start(exe: Path) -> Run:
    proc = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise RuntimeError("the ASLR test program did not start")
    return Run(proc, json.loads(line))
