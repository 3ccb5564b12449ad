"""tests/c/code_target.c built as a PIE and as a fixed-address (non-PIE)
executable and run: named, non-inlined functions for the module-symbol and
disassembly tests (and the watchpoint tests, which may share it)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

SOURCE = Path(__file__).with_name("c") / "code_target.c"
BUILDS = {"pie": ["-fPIE", "-pie"], "nopie": ["-fno-pie", "-no-pie"]}
FUNCTIONS = ("lv_add", "lv_bump", "lv_loop", "main")


def build(directory: Path, kind: str) -> Path:
    if not shutil.which("gcc"):
        pytest.skip("gcc is needed to build the code target")
    exe = directory / f"code_target_{kind}"
    subprocess.run(["gcc", "-O1", "-g0", *BUILDS[kind], "-o", str(exe), str(SOURCE)],
                   check=True)
    return exe


@dataclass
class CodeRun:
    exe: Path
    proc: subprocess.Popen
    info: dict

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def start(exe: Path) -> CodeRun:
    proc = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise RuntimeError("code_target failed to start")
    return CodeRun(exe, proc, json.loads(line))


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


@pytest.fixture(params=sorted(BUILDS))
def code_run(request, tmp_path):
    run = start(build(tmp_path, request.param))
    yield run
    run.stop()
