"""A child process with many areas, for the benches that need one.

It maps N pages with every other page read-only, so the kernel cannot merge
them: N areas, N/2 writable ones, each writable page holding the i32
``PLANTED`` at offset 16. :func:`spawn` returns the child (waiting on its
stdin; close it, or kill it, to end it) and the address of its first page.
"""

from __future__ import annotations

import subprocess
import sys

PLANTED = 123456789

_CHILD = r"""
import ctypes, mmap, sys
n, planted = int(sys.argv[1]), int(sys.argv[2])
page = mmap.PAGESIZE
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
base = libc.mmap(None, max(n, 1) * page, 3, 0x22, -1, 0)
value = planted.to_bytes(4, "little")
for i in range(0, n, 2):
    ctypes.memmove(base + i * page + 16, value, 4)
for i in range(1, n, 2):
    assert libc.mprotect(base + i * page, page, 1) == 0
print(base, flush=True)
sys.stdin.readline()
"""


def spawn(areas: int) -> tuple[subprocess.Popen[str], int]:
    """A child with ``areas`` areas, and the address of its first page."""
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(areas), str(PLANTED)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    return child, int(child.stdout.readline())
