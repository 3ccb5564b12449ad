"""The preloadable kmem stand-in (tests/backend/fake_kmem.c) and the memory
file it serves: the backend, CLI and UI tests of kernel reads and writes
share both."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SOURCE = Path(__file__).with_name("backend") / "fake_kmem.c"


def build(directory: Path) -> Path:
    """``directory/fake_kmem.so`` (the test is skipped where there is no gcc)."""
    if not shutil.which("gcc"):
        pytest.skip("gcc is needed to build the kmem stand-in")
    out = directory / "fake_kmem.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-o", str(out),
                    str(SOURCE), "-ldl"], check=True)
    return out


def fake_memory(path: Path) -> Path:
    """Write the memory file at ``path``, laid out as fake_kmem.c's symbols
    say: fake_var at 0, fake_ro at 64 (read-only), fake_ptr at 128 holding
    256, fake_target at 256, fakemod's fake_var at 512."""
    mem = bytearray(4096)
    mem[0:8] = b"VARVALUE"
    mem[64:72] = b"READONLY"
    mem[128:136] = (256).to_bytes(8, "little")
    mem[256:264] = b"POINTED!"
    mem[512:520] = b"MODVALUE"
    path.write_bytes(bytes(mem))
    return path
