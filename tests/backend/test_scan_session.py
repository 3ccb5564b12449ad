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


# -- round trip and validation ---------------------------------------------------------------------

def _leftovers() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "lainview-scan-*")))


@pytest.fixture
def saved(backend, child, tmp_path):
    """A two-step session (dense u16 with spilled snapshots, then a sparse
    i32-like narrowing is not possible on one type, so: unknown, then
    changed), saved to a file; the state stays open for comparison."""
    target = backend.attach(child.pid).result(10)
    for off in range(0, 64, 2):
        assert child.command(f"poke {child.scan + off:x} {bytes([off + 1, 0]).hex()}") == "ok"
    st_ = ScanType("u16")
    limits = ScanLimits(chunk=4096, sparse_max=0, snapshot_memory=0)
    areas = AreaFilter(ranges=((child.scan, child.scan + 4 * child.page),))
    first = target.scan_first(st_, make_condition(st_, Mode.UNKNOWN), areas=areas,
                              limits=limits).result(30)
    assert first.disk_bytes > 0             # spilled: no snapshot memory allowed
    assert child.command(f"poke {child.scan + 6:x} 0900") == "ok"
    assert child.command(f"poke {child.scan + 3 * child.page + 8:x} 0100") == "ok"
    state = target.scan_next(first, make_condition(st_, Mode.UNCHANGED), limits=limits).result(30)
    path = str(tmp_path / "two-steps.scan")
    save_state(state, path)
    yield target, state, path, limits
    state.close()


def test_a_session_round_trip_keeps_every_step(saved):
    target, state, path, limits = saved
    assert os.stat(path).st_mode & 0o777 == 0o600
    before = _leftovers()
    loaded = load_state(path, limits=ScanLimits(chunk=4096, snapshot_memory=0))
    assert loaded.count == state.count and loaded.step == 2
    assert loaded.matches(0, loaded.count)[0].tolist() == state.matches(0, state.count)[0].tolist()
    assert loaded.matches(0, loaded.count)[1].tolist() == state.matches(0, state.count)[1].tolist()
    back = target.scan_undo(loaded).result(10)
    assert back.count == state.history[0].count
    assert back.matches(0, 40)[1].tolist() == state.history[0].matches(0, 40)[1].tolist()
    changed = target.scan_next(back, make_condition(ScanType("u16"), Mode.CHANGED),
                               limits=limits).result(30)
    assert changed.count == 2
    back.close()
    assert _leftovers() == before


def _split(data: bytes) -> tuple[dict, bytes]:
    n = struct.unpack_from("<I", data, len(SESSION_MAGIC))[0]
    at = len(SESSION_MAGIC) + 4
    return json.loads(data[at:at + n]), data[at + n:]


def _join(header: dict, rest: bytes) -> bytes:
    head = json.dumps(header).encode()
    return SESSION_MAGIC + struct.pack("<I", len(head)) + head + rest


def _refused(path: str, text: str = "") -> None:
    before = _leftovers()
    with pytest.raises(InvalidInput) as info:
        load_state(path)
    assert path in str(info.value) and text in str(info.value), str(info.value)
    assert _leftovers() == before


HEADER_FAULTS = {
    "align 0": (lambda h: h.update(align=0), "align 0 is below 1"),
    "chunk 0": (lambda h: h.update(chunk=0), "chunk 0 is below"),
    "chunk not a multiple": (lambda h: h.update(chunk=4100), "not a multiple"),
    "unknown type": (lambda h: h.update(type="i128"), "unknown value type"),
    "version 1": (lambda h: h.update(version=1), "unsupported version"),
    "no steps": (lambda h: h.update(steps=[]), "no scan step"),
    "no pid": (lambda h: h.pop("pid"), "no 'pid'"),
    "string align": (lambda h: h.update(align="4"), "not an integer"),
    "item 0": (lambda h: h["steps"][0].update(item=0), "item 0"),
    "item of another type": (lambda h: h["steps"][0].update(item=8), "item size 8"),
    "huge mask": (lambda h: h["steps"][0]["regions"][0].__setitem__(3, 1 << 40), "a mask of"),
    "more candidates than positions":
        (lambda h: h["steps"][0]["regions"][0].__setitem__(2, 1 << 40), "candidates in"),
    "region not five integers":
        (lambda h: h["steps"][0]["regions"][0].__setitem__(0, "x"), "five integers"),
    "overlapping regions": (lambda h: h["steps"][0]["regions"].append(
        list(h["steps"][0]["regions"][0])), "out of order"),
    "count that the mask does not hold":
        (lambda h: h["steps"][0]["regions"][0].__setitem__(2, 5), "does not hold 5"),
    "vanished not ranges": (lambda h: h["steps"][0].update(vanished=[1]), "vanished"),
}


@pytest.mark.parametrize("fault", sorted(HEADER_FAULTS))
def test_a_malformed_header_is_refused_clearly(saved, tmp_path, fault):
    _, _, path, _ = saved
    header, rest = _split(open(path, "rb").read())
    edit, text = HEADER_FAULTS[fault]
    edit(header)
    bad = tmp_path / "bad.scan"
    bad.write_bytes(_join(header, rest))
    _refused(str(bad), text)


def test_truncated_and_damaged_files_are_refused_never_crash(saved, tmp_path):
    _, _, path, _ = saved
    data = open(path, "rb").read()
    bad = str(tmp_path / "bad.scan")
    for cut in sorted({0, 3, len(SESSION_MAGIC), len(SESSION_MAGIC) + 2,
                       *range(len(SESSION_MAGIC) + 4, len(data), max(1, len(data) // 150))}):
        with open(bad, "wb") as f:
            f.write(data[:cut])
        _refused(bad)
    with open(bad, "wb") as f:
        f.write(data + b"\0")
    _refused(bad, "after the last record")
    # Damage anywhere: refused with InvalidInput, or (a flipped bit inside a
    # compressed block that still decompresses) loaded; never another error.
    rng = np.random.default_rng(5)
    before = _leftovers()
    for _ in range(300):
        damaged = bytearray(data)
        for at in rng.integers(len(SESSION_MAGIC), len(data), int(rng.integers(1, 4))):
            damaged[int(at)] ^= 1 << int(rng.integers(0, 8))
        with open(bad, "wb") as f:
            f.write(damaged)
        try:
            load_state(bad).close()
        except InvalidInput as exc:
            assert bad in str(exc)
    assert _leftovers() == before
    # The .npz files of earlier versions, and other files.
    with open(bad, "wb") as f:
        f.write(b"PK\x03\x04" + bytes(100))
    _refused(bad, "older format")
    with open(bad, "wb") as f:
        f.write(b"hello")
    _refused(bad, "does not start like one")


def test_cli_refuses_a_malformed_session_in_one_line(saved, tmp_path):
    _, _, path, _ = saved
    header, rest = _split(open(path, "rb").read())
    header["align"] = 0
    bad = tmp_path / "bad.scan"
    bad.write_bytes(_join(header, rest))
    before = _leftovers()
    done = subprocess.run([sys.executable, "-m", "lainview", "scan", "--session", str(bad),
                           "--next", "changed"], capture_output=True, text=True, timeout=120)
    # Bad input: exit 2, as everywhere in the CLI.
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "align 0" in lines[0], done.stderr
    assert _leftovers() == before
