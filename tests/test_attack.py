"""Faults found by attacking the CLI as a hostile user: each test is the
reproduction, run against real processes and real files."""
import os
import subprocess
import sys


def lainview(*args, timeout=30):
    return subprocess.run([sys.executable, "-m", "lainview", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def test_scan_next_on_a_fifo_session_is_refused_not_hung(tmp_path):
    fifo = tmp_path / "session"
    os.mkfifo(fifo)
    out = lainview("scan", "--session", fifo, "--next", "changed", timeout=20)
    assert out.returncode == 2, out.stderr
    assert "not a regular file" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
