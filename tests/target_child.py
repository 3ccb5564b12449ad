"""A real target process with known memory, for the tests.

Run as ``python target_child.py DIR``. It maps, in one reserved range:

    page 0  rw-  bytes 0..255 repeated
    page 1  ---  PROT_NONE guard
    page 2  r--  read-only, "READONLY" then 0xAA
    page 3  rw-  "COUNTER" then a u32 the child increments on "tick"

plus a file mapping whose path has spaces, a mapping of a file that is then
deleted, and a memfd mapping. It prints one JSON line of addresses, then
answers commands on stdin, one per line:

    peek ADDR LEN   -> hex of its own view of that memory
    tick            -> increments the counter, prints "ok"
    exit
"""

import ctypes
import json
import mmap
import os
import sys

PAGE = mmap.PAGESIZE
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]

PROT_NONE, PROT_READ, PROT_WRITE = 0, 1, 2
MAP_PRIVATE, MAP_SHARED, MAP_ANONYMOUS = 0x02, 0x01, 0x20


def main() -> None:
    workdir = sys.argv[1]
    base = libc.mmap(None, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    assert base and base != ctypes.c_void_p(-1).value
    ctypes.memmove(base, bytes(range(256)) * (PAGE // 256), PAGE)
    ro = base + 2 * PAGE
    ctypes.memmove(ro, b"READONLY" + b"\xaa" * (PAGE - 8), PAGE)
    counter = base + 3 * PAGE
    ctypes.memmove(counter, b"COUNTER\0", 8)
    assert libc.mprotect(base + PAGE, PAGE, PROT_NONE) == 0
    assert libc.mprotect(ro, PAGE, PROT_READ) == 0

    spaced = os.path.join(workdir, "a file with spaces.bin")
    with open(spaced, "wb") as f:
        f.write(bytes(PAGE) + b"SPACED" + bytes(PAGE - 6))
    fd = os.open(spaced, os.O_RDONLY)
    spaced_map = libc.mmap(None, PAGE, PROT_READ, MAP_PRIVATE, fd, PAGE)
    os.close(fd)

    doomed = os.path.join(workdir, "deleted.bin")
    with open(doomed, "wb") as f:
        f.write(b"DELETED" + bytes(PAGE - 7))
    fd = os.open(doomed, os.O_RDONLY)
    deleted_map = libc.mmap(None, PAGE, PROT_READ, MAP_PRIVATE, fd, 0)
    os.close(fd)
    os.unlink(doomed)

    mfd = os.memfd_create("lainview-test")
    os.ftruncate(mfd, PAGE)
    memfd_map = libc.mmap(None, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0)
    ctypes.memmove(memfd_map, b"MEMFD", 5)

    print(json.dumps({"pid": os.getpid(), "base": base, "guard": base + PAGE, "ro": ro,
                      "counter": counter, "spaced": spaced_map, "spaced_path": spaced,
                      "deleted": deleted_map, "memfd": memfd_map, "page": PAGE}), flush=True)
    value = 0
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "peek":
            print(ctypes.string_at(int(cmd[1], 16), int(cmd[2])).hex(), flush=True)
        elif cmd[0] == "tick":
            value += 1
            ctypes.memmove(counter + 8, value.to_bytes(4, "little"), 4)
            print("ok", flush=True)
        elif cmd[0] == "exit":
            break


if __name__ == "__main__":
    main()
