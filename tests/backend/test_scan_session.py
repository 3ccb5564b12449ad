"""Scan session files: streamed and compressed, memory bounded on every
path (measured on a real CLI child), and validated on load."""

from __future__ import annotations

import glob
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from lainview.backend.errors import InvalidInput
from lainview.backend.scan import (SESSION_MAGIC, AreaFilter, Mode, ScanLimits, ScanType,
                                   load_state, make_condition, save_state)

BIG_CHILD = r"""
import ctypes, mmap, sys
m = mmap.mmap(-1, int(sys.argv[1]))          # zeros, never touched: no RSS
base = ctypes.addressof(ctypes.c_char.from_buffer(m))
print(base, flush=True)
sys.stdin.readline()
"""

MEASURE = r"""
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"rc": done.returncode, "out": done.stdout, "err": done.stderr,
                  "peak": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}))
"""


def measured(*args: str) -> tuple[dict | None, int, str]:
    """Run the CLI in a fresh process whose only child it is: its JSON
    report and its peak RSS in bytes (ru_maxrss of the children)."""
    done = subprocess.run([sys.executable, "-c", "import json\n" + MEASURE, sys.executable,
                           "-m", "lainview", *args], capture_output=True, text=True,
                          timeout=600)
    result = json.loads(done.stdout)
    assert result["rc"] == 0, result["err"]
    return json.loads(result["out"]), result["peak"], result["err"]


@pytest.fixture
def big_target():
    size = 256 << 20
    proc = subprocess.Popen([sys.executable, "-c", BIG_CHILD, str(size)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    base = int(proc.stdout.readline())
    yield proc.pid, base, size
    proc.kill()
    proc.wait(10)


def test_session_paths_hold_the_memory_bound(big_target, tmp_path):
    """i32 0 over 256 MiB of zeros with --session: first, next and undo
    each peak within what memory_bytes reports plus a few chunks (over the
    same command on one page, which is the interpreter's own cost)."""
    pid, base, size = big_target
    chunk = 1 << 20
    small = str(tmp_path / "small.scan")
    _, floor, _ = measured("scan", str(pid), "--type", "i32", "--value", "0",
                           "--area", f"{base:x}-{base + 4096:x}", "--session", small, "--json")
    session = str(tmp_path / "big.scan")
    steps = [("first", ["scan", str(pid), "--type", "i32", "--value", "0",
                        "--area", f"{base:x}-{base + size:x}", "--session", session]),
             ("next", ["scan", "--session", session, "--next", "unchanged"]),
             ("undo", ["scan", "--session", session, "--undo"])]
    held = 0            # what the session file given to a step holds
    for label, args in steps:
        report, peak, _ = measured(*args, "--json")
        assert report["count"] == size // 4, label
        # One bit per position, kept (not the 64 M offsets a sparse scan would hold).
        assert report["memory_bytes"] <= 2 * size // 4 // 8 + (1 << 20), label
        held = max(held, report["memory_bytes"])
        assert peak - floor <= held + 8 * chunk, (label, peak - floor, report["memory_bytes"])
        held = report["memory_bytes"]
    # Compressed: zeros cost next to nothing in the file.
    assert os.path.getsize(session) < 4 << 20
