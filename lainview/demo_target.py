"""A small live process to look at: ``python -m lainview.demo_target``.

It maps three adjacent pages (of a memfd named ``lainview-demo``, so the
mapping has a name that stays the same from run to run) and lays them out so
that every cell state of the hex view shows on one screen:

- page 0 (rw-): a byte pattern, then near its end a u64 counter that
  goes up by one every 100 ms (from the value in memory, as a game's would:
  a value written into it is where it counts on from, and a freeze holds it), a greeting string and a small struct
  (``DemoStruct`` below) whose ``position`` swings as a sine every tick;
- page 1 (---s): a no-access guard page, a shared mapping of the memfd with
  PROT_NONE: the target cannot touch it, a debugger reads it through the
  kernel's forced access (the hex view shows its bytes in the no-access
  style) but cannot write it (a forced write to a shared mapping without
  write permission fails);
- page 2 (r--): a read-only page with a message in it.

It also holds a value that moves on every run, found again through a
pointer path (the pointer scanner's demo): a u32 ``gold`` (12345, one more
every second) in an object in anonymous memory, reached as
``memfd:lainview-demo+0xfc0->+0x18->+0x8``: the pointer at page 0's
``CHAIN_OFFSET`` points to a "player" object, whose field at +0x18 points to
an "inventory" object holding ``gold`` at +0x8. The anonymous mapping is
placed wherever the kernel puts it (ASLR), so the value's address changes
from run to run while the path stays the same.

On start it prints one line, ``lainview-demo {json}``, with its pid and the
addresses of each part, and flushes it, so a parent (lainview --demo, the
tests) can go straight to them. It exits when its parent dies, when stdin
closes (if stdin is a pipe), or on SIGTERM.

Commands on stdin (one per line), for tests that need the target's own
view of its memory: ``peek ADDR N`` prints ``peek <hex>``; ``poke ADDR HEX``
changes its own memory and prints ``poked``; ``map SIZE`` maps a new
anonymous area and prints ``mapped <hex address>``; ``move`` moves the
inventory object elsewhere in the anonymous mapping (the pointer at
player+0x18 follows, the old copy is zeroed) and prints ``moved <hex address
of gold>``.
"""

from __future__ import annotations

import ctypes
import json
import math
import mmap
import os
import select
import signal
import stat
import struct
import sys
import time

PAGE = mmap.PAGESIZE
GREETING = b"Hello from the lainview demo! Edit me in the hex view.\x00"
GUARD_TEXT = b"No-access guard page (---s): read by force, never written.\x00"
READONLY_TEXT = b"This page is read-only (r--p). lainview writes it like /proc/<pid>/mem does.\x00"

# struct DemoStruct { u32 magic; i32 health; f32 speed; u32 pad; f64 position; char name[16]; }
STRUCT_FORMAT = "<Iif4xd16s"
STRUCT_MAGIC = 0x4E49414C  # the bytes "LAIN" read as a little-endian u32

PATTERN_SIZE = 0xE00
COUNTER_OFFSET = 0xF00
STRING_OFFSET = 0xF20
STRUCT_OFFSET = 0xF80
POSITION_OFFSET = STRUCT_OFFSET + 16      # DemoStruct.position (f64)
GUARD_OFFSET = PAGE
READONLY_OFFSET = 2 * PAGE
SIZE = 3 * PAGE
# The pointer chain: page 0 + CHAIN_OFFSET -> player; player + 0x18 ->
# inventory; inventory + 0x8 = gold (u32), all but the first in anonymous memory.
CHAIN_OFFSET = 0xFC0
# The anonymous mapping: a PROT_NONE page, then the objects' page. The guard
# keeps the objects from directly following a library's writable data, where
# they would count as its .bss (static memory) and end every pointer path.
HEAP_SIZE = 2 * PAGE
PLAYER_OFFSET = PAGE + 0x40               # in the anonymous mapping
PLAYER_INVENTORY = 0x18
INVENTORY_OFFSETS = (PAGE + 0x200, PAGE + 0x600)    # where ``move`` puts the inventory
INVENTORY_GOLD = 0x8
GOLD_START = 12345
MEMFD_NAME = "lainview-demo"

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_libc.mprotect.restype = ctypes.c_int
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                       ctypes.c_int, ctypes.c_long]
_libc.mmap.restype = ctypes.c_void_p
_MAP_FIXED = 0x10
PR_SET_PDEATHSIG = 1


def _mprotect(address: int, size: int, prot: int) -> None:
    if _libc.mprotect(address, size, prot) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def build() -> tuple[mmap.mmap, dict]:
    # Backed by a named memfd rather than anonymous memory, so that the map
    # shows "/memfd:lainview-demo" and a bookmark or watch made as
    # memfd:lainview-demo+0xf80 finds the struct again after a restart.
    fd = os.memfd_create(MEMFD_NAME)
    try:
        os.ftruncate(fd, SIZE)
        os.pwrite(fd, GUARD_TEXT, GUARD_OFFSET)
        region = mmap.mmap(fd, SIZE, flags=mmap.MAP_PRIVATE,
                           prot=mmap.PROT_READ | mmap.PROT_WRITE)
        base = ctypes.addressof(ctypes.c_char.from_buffer(region))
        # The guard page: the memfd's page 1, shared, PROT_NONE, over the private one.
        got = _libc.mmap(base + GUARD_OFFSET, PAGE, 0, mmap.MAP_SHARED | _MAP_FIXED, fd,
                         GUARD_OFFSET)
        if got != base + GUARD_OFFSET:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
    finally:
        os.close(fd)
    region[STRING_OFFSET:STRING_OFFSET + len(GREETING)] = GREETING
    region[STRUCT_OFFSET:STRUCT_OFFSET + struct.calcsize(STRUCT_FORMAT)] = struct.pack(
        STRUCT_FORMAT, STRUCT_MAGIC, 100, 1.5, 3.141592653589793, b"lain\x00")
    region[0:PATTERN_SIZE] = bytes(range(256)) * (PATTERN_SIZE // 256)
    region[READONLY_OFFSET:READONLY_OFFSET + len(READONLY_TEXT)] = READONLY_TEXT
    _mprotect(base + READONLY_OFFSET, PAGE, mmap.PROT_READ)
    heap = mmap.mmap(-1, HEAP_SIZE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    heap_base = ctypes.addressof(ctypes.c_char.from_buffer(heap))
    _mprotect(heap_base, PAGE, 0)                       # PROT_NONE
    _chain[:] = [heap, heap_base, 0]
    player = heap_base + PLAYER_OFFSET
    inventory = heap_base + INVENTORY_OFFSETS[0]
    struct.pack_into("<Q", region, CHAIN_OFFSET, player)
    struct.pack_into("<Q", heap, PLAYER_OFFSET + PLAYER_INVENTORY, inventory)
    struct.pack_into("<I", heap, INVENTORY_OFFSETS[0] + INVENTORY_GOLD, GOLD_START)
    layout = {
        "pid": os.getpid(),
        "base": base,
        "counter": base + COUNTER_OFFSET,
        "string": base + STRING_OFFSET,
        "struct": base + STRUCT_OFFSET,
        "guard": base + GUARD_OFFSET,
        "readonly": base + READONLY_OFFSET,
        "pattern": base,
        "size": SIZE,
        "gold": inventory + INVENTORY_GOLD,
        "gold_path": f"memfd:{MEMFD_NAME}+{CHAIN_OFFSET:#x}->+{PLAYER_INVENTORY:#x}"
                     f"->+{INVENTORY_GOLD:#x}",
    }
    return region, layout


def _handle_command(line: str, base: int, region: mmap.mmap) -> str:
    words = line.split()
    if len(words) == 3 and words[0] == "peek":
        address, size = int(words[1], 16), int(words[2])
        heap, heap_base = _chain[0], _chain[1]
        if heap_base + PAGE <= address < heap_base + HEAP_SIZE:     # gold's anonymous page
            return "peek " + heap[address - heap_base:address - heap_base + size].hex()
        offset = address - base
        return "peek " + region[offset:offset + size].hex()
    if len(words) == 3 and words[0] == "poke":
        offset = int(words[1], 16) - base
        data = bytes.fromhex(words[2])
        region[offset:offset + len(data)] = data
        return "poked"
    if len(words) == 2 and words[0] == "map":
        # A new anonymous mapping (for tests of the memory-map refresh).
        extra = mmap.mmap(-1, int(words[1]), flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        address = ctypes.addressof(ctypes.c_char.from_buffer(extra))
        _extra_maps[address] = extra
        return f"mapped {address:x}"
    if words == ["move"]:
        return f"moved {_move_inventory():x}"
    return f"error unknown command {line.strip()!r}"


_extra_maps: dict[int, mmap.mmap] = {}
# [the anonymous mapping, its address, which of INVENTORY_OFFSETS holds the inventory]
_chain: list = []


def _gold_offset() -> int:
    return INVENTORY_OFFSETS[_chain[2]] + INVENTORY_GOLD


def _move_inventory() -> int:
    """Copy the inventory to its other place, point the player at it, zero
    the old copy; the new address of gold."""
    heap, heap_base, which = _chain
    old, new = INVENTORY_OFFSETS[which], INVENTORY_OFFSETS[1 - which]
    heap[new:new + 0x40] = heap[old:old + 0x40]
    struct.pack_into("<Q", heap, PLAYER_OFFSET + PLAYER_INVENTORY, heap_base + new)
    heap[old:old + 0x40] = bytes(0x40)
    _chain[2] = 1 - which
    return heap_base + new + INVENTORY_GOLD


def main() -> int:
    try:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (AttributeError, OSError):
        pass
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    region, layout = build()
    base = layout["base"]
    print("lainview-demo " + json.dumps(layout), flush=True)
    try:
        stdin_is_pipe = stat.S_ISFIFO(os.fstat(0).st_mode)
    except OSError:
        stdin_is_pipe = False
    tick = 0
    next_tick = time.monotonic()
    while True:
        tick += 1
        # The counter lives in memory, read and written back each tick.
        counter = struct.unpack_from("<Q", region, COUNTER_OFFSET)[0]
        struct.pack_into("<Q", region, COUNTER_OFFSET, (counter + 1) % (1 << 64))
        # Something worth plotting: DemoStruct.position swings like a pendulum.
        region[POSITION_OFFSET:POSITION_OFFSET + 8] = struct.pack(
            "<d", 50.0 * math.sin(tick / 10.0))
        if tick % 10 == 0:          # gold: one more every second, counted on in memory
            heap = _chain[0]
            gold = struct.unpack_from("<I", heap, _gold_offset())[0]
            struct.pack_into("<I", heap, _gold_offset(), (gold + 1) % (1 << 32))
        next_tick += 0.1
        timeout = max(0.0, next_tick - time.monotonic())
        if stdin_is_pipe:
            ready, _, _ = select.select([sys.stdin], [], [], timeout)
            if ready:
                line = sys.stdin.readline()
                if not line:        # the parent closed our stdin: it is done with us
                    return 0
                print(_handle_command(line, base, region), flush=True)
        else:
            time.sleep(timeout)


if __name__ == "__main__":
    sys.exit(main())
