"""`lainview ptrscan` as users run it, against the pointer-chain child
(tests/c/ptr_chain.c) run twice: scan in run 1 into a session file, rescan
against run 2; exit codes 2 (bad input) and 1 (failed) without a traceback,
nothing left in TMPDIR."""

from __future__ import annotations

import json
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ptrscan_support import VALUE, left_behind, ptrchain_exe, runs  # noqa: F401


def lainview(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lainview", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_scan_then_rescan_in_a_second_run(runs, tmp_path):
    one = runs(1)
    session = tmp_path / "hp.ptrscan"
    done = lainview("ptrscan", one.pid, hex(one["value"]), "--depth", 3, "--limit", 100000,
                    "--session", session, "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert stat.S_IMODE(session.stat().st_mode) == 0o600
    by_path = {p["path"]: p for p in out["paths"]}
    chain = [p for p in out["paths"] if p["offsets"] == [0x18, 0x8]
             and p["base"].startswith("ptr_chain+")]
    assert chain and all(p["resolved"] == one["value"] for p in out["paths"])
    root_off = chain[0]["base"]
    assert by_path[f"{root_off}->+0x18->+0x8"]["base"] == root_off
    assert out["total"] >= len(out["paths"]) > 0 and out["map"]["pointers"] > 0
    decoys = {f"{root_off}->+0x20->+0x8", f"{root_off}->+0x10->+0x18"}
    assert decoys <= set(by_path)

    two = runs(2)
    done = lainview("ptrscan", "--session", session, "--rescan", two.pid, hex(two["value"]),
                    "--json")
    assert done.returncode == 0, done.stderr
    kept = json.loads(done.stdout)
    texts = {p["path"] for p in kept["paths"]}
    assert f"{root_off}->+0x18->+0x8" in texts and not decoys & texts
    assert all(p["resolved"] == two["value"] for p in kept["paths"])
    assert kept["before"] == len(out["paths"]) > kept["total"]
    # The session now holds only the kept paths; a rescan by value keeps the chain.
    done = lainview("ptrscan", "--session", session, "--rescan", two.pid,
                    "--value", VALUE, "--type", "i64")
    assert done.returncode == 0, done.stderr
    assert f"{root_off}->+0x18->+0x8  = {two['value']:#x}" in done.stdout.splitlines()
    # A stale value keeps nothing: the session is left as it was, exit 1
    # (a new user lost every path to a value that had changed since).
    before = session.read_bytes()
    done = lainview("ptrscan", "--session", session, "--rescan", two.pid,
                    "--value", "12345", "--type", "i64")
    assert done.returncode == 1, done
    assert "is left as it was" in done.stderr and session.read_bytes() == before
    assert not left_behind()


def test_text_output_lists_paths_and_counts(runs):
    one = runs(1)
    done = lainview("ptrscan", one.pid, hex(one["value"]), "--depth", 2, "--limit", 3)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 3
    assert "listed 3 (--limit)" in done.stderr and "# map:" in done.stderr


@pytest.mark.parametrize("args", [
    ("--depth", "0"), ("--depth", "17"), ("--max-offset", "0x1000000"), ("--value", "1"),
])
def test_bad_settings_exit_2(runs, args):
    one = runs(1)
    done = lainview("ptrscan", one.pid, hex(one["value"]), *args)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("lainview ptrscan: ")


def test_bad_invocations_exit_2(tmp_path, runs):
    one = runs(1)
    bad = tmp_path / "bad.ptrscan"
    bad.write_text('{"format": "lainview-pointer-scan", "version": 1, "paths": 3}')
    for args in (("ptrscan",), ("ptrscan", one.pid),
                 ("ptrscan", "--rescan", one.pid, "0x10"),
                 ("ptrscan", "--session", bad, "--rescan", one.pid, "0x10"),
                 ("ptrscan", "--session", tmp_path / "missing", "--rescan", one.pid, "0x10"),
                 ("ptrscan", "--session", bad, "--rescan", one.pid, "--value", "1"),
                 ("ptrscan", one.pid, "nosuchmodule+0x10")):
        done = lainview(*args)
        assert done.returncode == 2 and "Traceback" not in done.stderr, (args, done.stderr)


def test_a_process_that_is_gone_exits_1(runs):
    one = runs(1)
    pid, value = one.pid, one["value"]
    one.stop()
    done = lainview("ptrscan", pid, hex(value))
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert not left_behind()


SCAN_TARGET = Path(__file__).with_name("c") / "scan_target.c"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_the_map_stops_it_and_leaves_nothing(tmp_path, sig):
    """A 256 MiB target: the map is being read when the signal comes."""
    exe = tmp_path / "scan_target"
    subprocess.run(["gcc", "-O2", "-o", str(exe), str(SCAN_TARGET)], check=True)
    big = 256 << 20
    target = subprocess.Popen([str(exe), "1", str(big), "0"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(target.stdout.readline())
        proc = subprocess.Popen([sys.executable, "-m", "lainview", "ptrscan", str(target.pid),
                                 hex(info["private"])], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        while not left_behind():
            try:
                proc.wait(timeout=0.005)
                break
            except subprocess.TimeoutExpired:
                pass
        assert proc.poll() is None, "the map was done before it could be interrupted"
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 128 + sig, stderr
        assert stderr.strip() == f"lainview ptrscan: stopped by {sig.name}"
        assert not left_behind()
    finally:
        target.kill()
        target.wait()
