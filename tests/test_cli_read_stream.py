"""`lainview read` of large ranges streams: bounded memory for 64 MiB,
an exact hex dump, and 16 GiB of mostly unmapped space in one quick pass
that reports the holes. Real child processes, the real CLI."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap

import pytest

MIB = 1 << 20
PAGE = os.sysconf("SC_PAGE_SIZE")

BIG_CHILD = textwrap.dedent("""
    import ctypes, json, mmap, sys
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    PAGE, SIZE = mmap.PAGESIZE, int(sys.argv[1])
    # [SIZE bytes rw][one page unmapped][one page rw]
    base = libc.mmap(None, SIZE + 2 * PAGE, 3, 0x22, -1, 0)
    filler = bytes(range(256)) * (PAGE // 256)
    for page in range((SIZE + 2 * PAGE) // PAGE):
        ctypes.memmove(base + page * PAGE, page.to_bytes(8, "little") + filler[8:], PAGE)
    assert libc.munmap(base + SIZE, PAGE) == 0
    print(json.dumps({"base": base, "size": SIZE, "after": base + SIZE + PAGE}), flush=True)
    sys.stdin.readline()
""")


def page_bytes(index: int) -> bytes:
    return index.to_bytes(8, "little") + (bytes(range(256)) * (PAGE // 256))[8:]


@pytest.fixture
def big_child():
    proc = subprocess.Popen([sys.executable, "-c", BIG_CHILD, str(64 * MIB)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    info = json.loads(proc.stdout.readline())
    info["pid"] = proc.pid
    yield info
    proc.kill()
    proc.wait()


def run_measured(*args) -> tuple[int, bytes, str, int]:
    """Run the CLI with stdout to a pipe we drain; (exit code, sha256 of
    stdout, stderr, peak RSS in KiB of that process alone, from wait4)."""
    proc = subprocess.Popen([sys.executable, "-m", "lainview", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    digest, total = hashlib.sha256(), 0
    while chunk := proc.stdout.read(MIB):
        digest.update(chunk)
        total += len(chunk)
    err = proc.stderr.read().decode()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    proc.stderr.close()
    return proc.returncode, digest.digest(), err, usage.ru_maxrss


def test_raw_read_of_64_mib_streams_in_bounded_memory(big_child):
    size = big_child["size"]
    code, _digest, err, small_rss = run_measured("read", big_child["pid"],
                                                 hex(big_child["base"]), 16, "--raw")
    assert code == 0, err
    code, digest, err, big_rss = run_measured("read", big_child["pid"],
                                              hex(big_child["base"]), size, "--raw")
    assert code == 0, err
    expected = hashlib.sha256()
    for page in range(size // PAGE):
        expected.update(page_bytes(page))
    assert digest == expected.digest()
    # One 1 MiB buffer, however long the range: reading 64 MiB costs no more
    # than a few MiB over reading 16 bytes (holding it would cost 64+ MiB).
    assert big_rss - small_rss < 16 * 1024, (small_rss, big_rss)


def test_hex_dump_of_64_mib_streams_in_bounded_memory(big_child):
    code, _digest, err, small_rss = run_measured("read", big_child["pid"],
                                                 hex(big_child["base"]), 16)
    assert code == 0, err
    code, _digest, err, big_rss = run_measured("read", big_child["pid"],
                                               hex(big_child["base"]), big_child["size"])
    assert code == 0, err
    assert big_rss - small_rss < 24 * 1024, (small_rss, big_rss)


def reference_line(row: int, cells: list) -> str:
    """One dump line, byte by byte: None = unreadable, "" = outside the range."""
    hexes = ["  " if c == "" else "??" if c is None else f"{c:02x}" for c in cells]
    text = "".join(" " if c == "" else "?" if c is None else
                   (chr(c) if 0x20 <= c < 0x7F else ".") for c in cells)
    return f"{row:016x}  {' '.join(hexes[:8])}  {' '.join(hexes[8:])}  |{text}|"


def test_hex_dump_of_a_known_region_is_exact(big_child):
    """From 20 bytes before the unmapped page to 20 bytes into the page
    after it: the last bytes of the mapping, the hole as its first row and
    `*`, then the next page; the hole named on stderr; exit 1."""
    gap = big_child["base"] + big_child["size"]
    start, end = gap - 20, gap + PAGE + 20
    last_page = page_bytes(big_child["size"] // PAGE - 1)
    after = page_bytes(big_child["size"] // PAGE + 1)
    expected = [
        reference_line(gap - 32, [""] * 12 + list(last_page[-20:-16])),
        reference_line(gap - 16, list(last_page[-16:])),
        reference_line(gap, [None] * 16),
        "*",
        reference_line(gap + PAGE, list(after[:16])),
        reference_line(gap + PAGE + 16, list(after[16:20]) + [""] * 12),
    ]
    out = subprocess.run([sys.executable, "-m", "lainview", "read", str(big_child["pid"]),
                          hex(start), str(end - start)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 1
    assert out.stdout.splitlines() == expected
    assert out.stderr.strip() == (f"lainview read: EFAULT at {gap:#x}: {PAGE} bytes "
                                  "unreadable: not mapped")


def test_raw_stops_at_the_first_unreadable_byte(big_child):
    gap = big_child["base"] + big_child["size"]
    out = subprocess.run([sys.executable, "-m", "lainview", "read", str(big_child["pid"]),
                          hex(gap - 8), "32", "--raw"], capture_output=True, timeout=120)
    assert out.returncode == 1
    assert out.stdout == page_bytes(big_child["size"] // PAGE - 1)[-8:]
    assert f"EFAULT at {gap:#x}: stopped after 8 bytes".encode() in out.stderr


def test_16_gib_of_mostly_unmapped_space_finishes_reporting_the_holes(big_child):
    """16 GiB from the start of the mapping: 64 MiB read, the rest skipped
    unread (the dump shows each gap as one row and `*`). The timeout is a
    hang guard, not a speed check."""
    start, size = big_child["base"], 16 << 30
    out = subprocess.run([sys.executable, "-m", "lainview", "read", str(big_child["pid"]),
                          hex(start), str(size)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    gap = start + big_child["size"]
    assert f"lainview read: EFAULT at {gap:#x}: {PAGE} bytes unreadable: not mapped" \
        in out.stderr
    assert "Traceback" not in out.stderr
    rows = out.stdout.count("\n")
    assert 64 * MIB // 16 <= rows < 64 * MIB // 16 + 2 * 1024 * 1024
