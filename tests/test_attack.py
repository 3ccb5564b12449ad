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


def test_export_never_replaces_a_device_node_or_fifo(tmp_path, child):
    """`journal --export /dev/null` as root used to rename a regular file
    over /dev/null. A FIFO or device at the destination is refused, exit 2."""
    assert lainview("write", child.pid, f"{child.base:x}", "41").returncode == 0
    fifo = tmp_path / "patch.json"
    os.mkfifo(fifo)
    out = lainview("journal", "--pid", child.pid, "--export", fifo)
    assert out.returncode == 2, out
    assert "not a regular file" in out.stderr
    import stat
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".patch")] == []
