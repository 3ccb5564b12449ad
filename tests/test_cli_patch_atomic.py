"""Patches are all or nothing (issue 11): the check predicts what the
kernel will do, overlapping writes are refused, and a write that fails
midway is rolled back through the journal. Real child, real CLI, a real
full file system for the failure midway."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.test_cli_journal import fill, journal_file, lainview, small_fs  # noqa: F401

# A target with an anonymous read-write page and a shared read-only mapping
# of a file opened read-only (r--s): the kernel refuses forced writes there.
SHARED_CHILD = textwrap.dedent("""
    import ctypes, json, mmap, os, sys
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    path = sys.argv[1]
    with open(path, "wb") as f:
        f.write(b"SHARED" + bytes(mmap.PAGESIZE - 6))
    fd = os.open(path, os.O_RDONLY)
    shared = libc.mmap(None, mmap.PAGESIZE, 1, 1, fd, 0)          # PROT_READ, MAP_SHARED
    anon = libc.mmap(None, mmap.PAGESIZE, 3, 0x22, -1, 0)         # rw, private anonymous
    print(json.dumps({"shared": shared, "anon": anon}), flush=True)
    for line in sys.stdin:
        addr, n = line.split()
        print(ctypes.string_at(int(addr), int(n)).hex(), flush=True)
""")


@pytest.fixture
def shared_child(tmp_path):
    backing = tmp_path / "backing.bin"
    proc = subprocess.Popen([sys.executable, "-c", SHARED_CHILD, str(backing)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    info = json.loads(proc.stdout.readline())

    def peek(address: int, size: int) -> bytes:
        proc.stdin.write(f"{address} {size}\n")
        proc.stdin.flush()
        return bytes.fromhex(proc.stdout.readline().strip())
    info.update(pid=proc.pid, peek=peek, backing=backing)
    yield info
    proc.kill()
    proc.wait(10)


def patch_file(path: Path, writes: list[tuple[int, bytes, bytes]]) -> Path:
    path.write_text(json.dumps({
        "format": "lainview-patch", "version": 1,
        "program": {"exe": sys.executable, "cmdline": []},
        "writes": [{"location": {"kind": "absolute", "name": "", "offset": a},
                    "old": old.hex(), "new": new.hex()} for a, old, new in writes]}))
    return path


def test_shared_read_only_mapping_is_refused_at_check_time(shared_child, tmp_path):
    c = shared_child
    patch = patch_file(tmp_path / "p.json", [(c["anon"], b"\0", b"\1"),
                                             (c["shared"], b"SH", b"XX")])
    dry = lainview("apply", patch, "--pid", c["pid"], "--dry-run")
    assert dry.returncode == 1
    assert "would write" in dry.stdout          # the first write alone would go
    assert "unwritable: shared mapping without write permission (r--s)" in dry.stdout
    out = lainview("apply", patch, "--pid", c["pid"])
    assert out.returncode == 1 and "nothing written" in out.stderr
    assert c["peek"](c["anon"], 1) == b"\0" and c["peek"](c["shared"], 2) == b"SH"
    assert c["backing"].read_bytes()[:6] == b"SHARED"
    assert json.loads(lainview("journal", "--json").stdout) == []
    # A plain write there is refused before it is journaled, for the same reason.
    direct = lainview("write", c["pid"], hex(c["shared"]), "58")
    assert direct.returncode == 1 and "shared mapping without write permission" in direct.stderr
    assert json.loads(lainview("journal", "--json").stdout) == []


def test_overlapping_writes_are_refused(shared_child, tmp_path):
    c = shared_child
    patch = patch_file(tmp_path / "p.json", [(c["anon"], bytes(4), b"AAAA"),
                                             (c["anon"] + 2, bytes(4), b"BBBB"),
                                             (c["anon"] + 64, bytes(1), b"C")])
    out = lainview("apply", patch, "--pid", c["pid"])
    assert out.returncode == 1 and "nothing written" in out.stderr
    assert out.stdout.count("overlap: overlaps write") == 2
    assert c["peek"](c["anon"], 6) == bytes(6) and c["peek"](c["anon"] + 64, 1) == b"\0"
    assert json.loads(lainview("journal", "--json").stdout) == []


def test_failure_midway_is_rolled_back_through_the_journal(child, small_fs):  # noqa: F811
    env = {"XDG_STATE_HOME": str(small_fs / "state")}
    (small_fs / "state" / "lainview").mkdir(parents=True, mode=0o700)
    page = bytes(range(256)) * 16
    patch = patch_file(small_fs / "p.json", [(child.counter + 8, b"\0", b"\x07"),
                                             (child.base, page, b"\x5a" * 4096)])
    # Room for the small write's records and its rollback, not for the
    # 16 KiB intent of the second write: it fails after the first is made.
    fill(small_fs, leave=8192)
    out = lainview("apply", patch, "--pid", child.pid, env=env)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "rolled back" in out.stdout and "No space left on device" in out.stdout
    assert "the ones before it were rolled back" in out.stderr
    assert child.peek(child.counter + 8, 1) == b"\0" and child.peek(child.base, 4096) == page
    (small_fs / "filler").unlink()
    entries = json.loads(lainview("journal", "--json", env=env).stdout)
    assert [(e["id"], e["reverts"], e["status"]) for e in entries] == [(1, None, "ok"),
                                                                       (2, 1, "ok")]
    assert journal_file(small_fs / "state").read_bytes().endswith(b"\n")
    assert os.path.exists(patch)


@pytest.mark.parametrize("make,message", [
    (lambda p: os.mkfifo(p), "is not a regular file"),
    (lambda p: p.write_text("[" * 200_000), "nested too deeply"),
    (lambda p: os.truncate(p.write_text("") or p, 17 << 20), "is larger than 16 MiB"),
    (lambda p: p.write_bytes(b"\xff\xfe{"), "is not text: not a patch"),
], ids=["fifo", "deep", "huge", "binary"])
def test_hostile_patch_files_are_refused_at_once(tmp_path, make, message):
    path = tmp_path / "patch.json"
    make(path)
    out = subprocess.run([sys.executable, "-m", "lainview", "apply", str(path), "--pid", "1",
                          "--dry-run"], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and message in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.splitlines()) == 1
