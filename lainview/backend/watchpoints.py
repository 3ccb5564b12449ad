"""Hardware watchpoints on another process's threads, through perf_event_open.

"What writes (or accesses) this address?" answered without stopping the
target: no ptrace attach, no signal. For each thread of the target one
``PERF_TYPE_BREAKPOINT`` event (``HW_BREAKPOINT_W`` or ``HW_BREAKPOINT_RW``,
``bp_len`` 1, 2, 4 or 8 bytes at an address aligned to it) samples every hit
(``sample_period`` 1) into a ring buffer shared with the kernel: the
instruction pointer and the thread id (``PERF_SAMPLE_IP | PERF_SAMPLE_TID``),
user space only (``exclude_kernel``). The target runs on; the kernel writes,
we read.

On x86 a data breakpoint is a trap taken *after* the access: the reported IP
is that of the instruction after the one that accessed the address. Decoding
backwards from it is unreliable, so the hits keep that IP (``WatchHit.ip``);
naming the accessing instruction is done by decoding forward from a known
boundary (a symbol's start) to the instruction that ends at ``ip``, where a
disassembler is available (:class:`HitNamer`, the one seam for it; :func:`name_hits`).

Threads created while the watch is armed are found by listing
``/proc/PID/task`` at every step (``POLL_SECONDS``, 50 ms at most) and
opening an event for each new one. Why not ``inherit``: the kernel refuses to
mmap an inherited per-thread event (cpu -1), so inheriting needs one event
per CPU per thread (2 x nthreads fds here, N x nthreads on a big machine,
each counted against the debug registers), and without ``inherit_thread``
(Linux 5.13) events would follow forked children into other address spaces.
The cost of polling: a new thread's hits in its first moments (before the
next step lists it, 50 ms at most) are not seen; the result says how many
threads were watched.

Ring buffers: 1 + ``RING_PAGES`` pages each. ``data_head`` is read as one
aligned 64-bit load, then the records; ``data_tail`` is stored after they
are copied out. That is the order the kernel's protocol needs (smp_rmb after
the head, smp_mb before the tail store); on x86-64 (total store order) the
hardware keeps loads in order and keeps a store after earlier loads, and the
interpreter's calls are compiler barriers, so no fence instruction is needed.
This module therefore arms watchpoints on x86-64 only (``InvalidInput``
elsewhere). Records that cross the ring's end are reassembled;
``PERF_RECORD_LOST`` records are counted (``WatchSnapshot.lost``).

Every descriptor and mapping belongs to the generator :func:`watch`, run as
bulk work on the backend thread (``Target.watchpoint``): each step drains the
rings and then waits at most ``POLL_SECONDS`` for other requests, which run
between steps. Stopping (``WatchLive.stop``), the target exiting, or the
generator being closed frees every event.
"""

from __future__ import annotations

import ctypes
import errno as _errno
import mmap
import os
import platform
import struct
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from .errors import (InvalidInput, LainviewError, PermissionDenied, TargetExited,
                     WatchpointLimit, WatchpointUnsupported)
from .locations import locate
from .memory import MemoryArea
from .processes import effective_capabilities, has_address_space

# -- the ABI (linux/perf_event.h, linux/hw_breakpoint.h) ---------------------------------------

PERF_TYPE_BREAKPOINT = 5
HW_BREAKPOINT_R = 1
HW_BREAKPOINT_W = 2
HW_BREAKPOINT_RW = HW_BREAKPOINT_R | HW_BREAKPOINT_W
PERF_SAMPLE_IP = 1 << 0
PERF_SAMPLE_TID = 1 << 1
PERF_SAMPLE_REGS_USER = 1 << 12
PERF_RECORD_LOST = 2
PERF_RECORD_THROTTLE = 5
PERF_RECORD_SAMPLE = 9
PERF_FLAG_FD_CLOEXEC = 1 << 3
PERF_EVENT_IOC_ENABLE = 0x2400
PERF_EVENT_IOC_DISABLE = 0x2401

_ATTR_DISABLED = 1 << 0
_ATTR_EXCLUDE_KERNEL = 1 << 5
_ATTR_EXCLUDE_HV = 1 << 6

_SYS_PERF_EVENT_OPEN = {"x86_64": 298}

WATCH_LENGTHS = (1, 2, 4, 8)
DEBUG_REGISTERS = 4          # x86: DR0-DR3, per thread
RING_PAGES = 16              # data pages per thread (a power of two): 64 KiB, ~2,700 hits
POLL_SECONDS = 0.05          # the longest one step waits for other requests

# The user registers a hit may record (arch/x86/include/uapi/asm/perf_regs.h),
# by their bit in sample_regs_user; the kernel writes them in bit order.
X86_REGISTERS = {"rax": 0, "rbx": 1, "rcx": 2, "rdx": 3, "rsi": 4, "rdi": 5, "rbp": 6,
                 "rsp": 7, "rip": 8, "eflags": 9, "r8": 16, "r9": 17, "r10": 18, "r11": 19,
                 "r12": 20, "r13": 21, "r14": 22, "r15": 23}
_REGS_MASK = sum(1 << bit for bit in X86_REGISTERS.values())
_REG_NAMES = tuple(sorted(X86_REGISTERS, key=X86_REGISTERS.__getitem__))

_HEADER = struct.Struct("<IHH")        # struct perf_event_header: type, misc, size
_SAMPLE = struct.Struct("<QII")        # PERF_SAMPLE_IP | PERF_SAMPLE_TID: ip, pid, tid
_U64 = struct.Struct("<Q")
_REGS = struct.Struct(f"<{len(_REG_NAMES)}Q")

# struct perf_event_mmap_page: where the ring's control words are.
_DATA_HEAD = 1024
_DATA_TAIL = 1032
_DATA_OFFSET = 1040
_DATA_SIZE = 1048


class _PerfEventAttr(ctypes.Structure):
    """struct perf_event_attr up to PERF_ATTR_SIZE_VER5 (112 bytes)."""

    _fields_ = [
        ("type", ctypes.c_uint32),
        ("size", ctypes.c_uint32),
        ("config", ctypes.c_uint64),
        ("sample_period", ctypes.c_uint64),
        ("sample_type", ctypes.c_uint64),
        ("read_format", ctypes.c_uint64),
        ("flags", ctypes.c_uint64),
        ("wakeup_events", ctypes.c_uint32),
        ("bp_type", ctypes.c_uint32),
        ("bp_addr", ctypes.c_uint64),
        ("bp_len", ctypes.c_uint64),
        ("branch_sample_type", ctypes.c_uint64),
        ("sample_regs_user", ctypes.c_uint64),
        ("sample_stack_user", ctypes.c_uint32),
        ("clockid", ctypes.c_int32),
        ("sample_regs_intr", ctypes.c_uint64),
        ("aux_watermark", ctypes.c_uint32),
        ("sample_max_stack", ctypes.c_uint16),
        ("reserved_2", ctypes.c_uint16),
    ]


_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long


def _perf_event_open(attr: _PerfEventAttr, tid: int) -> int:
    """One event on thread ``tid`` (any CPU); the fd, or OSError."""
    number = _SYS_PERF_EVENT_OPEN[platform.machine()]
    fd = _syscall(ctypes.c_long(number), ctypes.byref(attr), ctypes.c_int(tid),
                  ctypes.c_int(-1), ctypes.c_int(-1), ctypes.c_ulong(PERF_FLAG_FD_CLOEXEC))
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return int(fd)


# -- what a watch reports --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class WatchHit:
    """One instruction's hits. ``ip``: the instruction pointer the CPU
    reported, on x86 the instruction *after* the one that accessed the
    address; ``hits``: how many times; ``threads``: the thread ids seen;
    ``registers``: the user registers at its latest hit, (name, value) in
    X86_REGISTERS order, when the watch records them (else empty)."""

    ip: int
    hits: int
    threads: tuple[int, ...]
    registers: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class WatchSnapshot:
    """A watch so far (or at its end). ``hits``: per instruction, most hits
    first; ``total``: every hit; ``lost``: hits the kernel dropped because a
    ring was full (PERF_RECORD_LOST); ``threads``: threads watched in all;
    ``seconds``: time armed; ``ended``: None while running, else why it
    ended ("stopped", "time is up", "process 123 exited"); ``throttled``:
    how often the kernel paused recording because hits came faster than
    kernel.perf_event_max_sample_rate (hits then go uncounted)."""

    address: int
    length: int
    access: bool
    hits: tuple[WatchHit, ...]
    total: int
    lost: int
    threads: int
    seconds: float
    ended: str | None = None
    throttled: int = 0

    @property
    def rate(self) -> float:
        """Hits per second over the whole watch."""
        return self.total / self.seconds if self.seconds > 0 else 0.0


@dataclass
class WatchLive:
    """The shared view of a running watch: the job updates it after every
    step (on the backend thread); anyone may read :meth:`snapshot` or call
    :meth:`stop` from any thread."""

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _snapshot: WatchSnapshot | None = None
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def snapshot(self) -> WatchSnapshot | None:
        """The latest snapshot, None before the watch is armed."""
        with self._lock:
            return self._snapshot

    def stop(self) -> None:
        """Ask the watch to end at its next step (within POLL_SECONDS); its
        future then returns the final snapshot with ``ended`` "stopped"."""
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def _publish(self, snapshot: WatchSnapshot) -> None:
        with self._lock:
            self._snapshot = snapshot


# -- permission and limits, said plainly -------------------------------------------------------

_CAP_SYS_ADMIN = 21
_CAP_PERFMON = 38



def perf_event_paranoid() -> int | None:
    """The value of /proc/sys/kernel/perf_event_paranoid, None if unreadable."""
    try:
        with open("/proc/sys/kernel/perf_event_paranoid") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def permission_hint(pid: int) -> str:
    """What is missing for perf_event_open on ``pid``'s threads, on this machine."""
    caps = effective_capabilities()
    privileged = bool(caps & (1 << _CAP_PERFMON | 1 << _CAP_SYS_ADMIN))
    paranoid = perf_event_paranoid()
    parts = []
    if not privileged:
        parts.append("lainview runs without root, CAP_PERFMON or CAP_SYS_ADMIN")
    if paranoid is None:
        parts.append("kernel.perf_event_paranoid is unreadable")
    elif paranoid > 2:
        parts.append(f"kernel.perf_event_paranoid is {paranoid}: it must be 2 or lower "
                     "(or run with CAP_PERFMON) to watch user-space code")
    else:
        parts.append(f"kernel.perf_event_paranoid is {paranoid} (2 or lower is enough)")
    if not privileged:
        parts.append(f"without those capabilities process {pid} must be one you may "
                     "ptrace (your own user, not setuid)")
    return "; ".join(parts)


def _open_error(exc: OSError, pid: int, tid: int, address: int) -> LainviewError:
    err = exc.errno
    if err in (_errno.EACCES, _errno.EPERM):
        return PermissionDenied(
            f"perf_event_open on thread {tid} of process {pid} was refused: "
            f"{permission_hint(pid)}", op="watchpoint", errno=err, address=address, pid=pid)
    if err == _errno.ENOSPC:
        return WatchpointLimit(
            f"thread {tid} has no free debug register: x86 has {DEBUG_REGISTERS} per thread "
            "and they are all armed (by other watchpoints of lainview, a debugger or perf); "
            "stop one first", op="watchpoint", errno=err, address=address, pid=pid)
    if err in (_errno.ENODEV, _errno.EOPNOTSUPP, _errno.ENOENT):
        return WatchpointUnsupported(
            "this kernel or machine has no hardware breakpoints for perf "
            f"(perf_event_open said {os.strerror(err or 0)})",
            op="watchpoint", errno=err, address=address, pid=pid)
    if err == _errno.EINVAL:
        return InvalidInput(
            f"the kernel refused a watchpoint at {address:#x}: it must be a user-space "
            "address aligned to its length", op="watchpoint", errno=err, address=address,
            pid=pid)
    return LainviewError(f"perf_event_open on thread {tid} failed: {os.strerror(err or 0)}",
                         op="watchpoint", errno=err, address=address, pid=pid)


def check_request(address: int, length: int) -> None:
    """Raise InvalidInput unless a watchpoint of ``length`` bytes at
    ``address`` can be armed here (length 1/2/4/8, address aligned to it,
    x86-64)."""
    if length not in WATCH_LENGTHS:
        raise InvalidInput(f"a watchpoint is 1, 2, 4 or 8 bytes long, not {length}",
                           op="watchpoint")
    if address < 0 or address >= 1 << 64:
        raise InvalidInput(f"{address:#x} is not an address", op="watchpoint")
    if address % length:
        raise InvalidInput(
            f"a {length}-byte watchpoint must be at an address aligned to {length} "
            f"({address:#x} is {address % length} past {address - address % length:#x})",
            op="watchpoint", address=address)
    if platform.machine() not in _SYS_PERF_EVENT_OPEN:
        raise InvalidInput(f"watchpoints are armed on x86-64 only, not {platform.machine()}",
                           op="watchpoint")


# -- one thread's event and ring --------------------------------------------------------------

class _Ring:
    """One thread's perf event, its ring buffer, and the parser of its records."""

    def __init__(self, fd: int, tid: int, buffer: mmap.mmap | None = None,
                 pages: int = RING_PAGES, registers: bool = False):
        """``buffer``: an already mapped ring (tests), else the event's
        ring of ``pages`` data pages is mapped (OSError if refused)."""
        self.fd = fd
        self.tid = tid
        self.registers = registers
        self.last_registers: dict[int, tuple[int, ...]] = {}   # ip -> registers at its last hit
        page = mmap.PAGESIZE
        self.map = buffer if buffer is not None else mmap.mmap(
            fd, (1 + pages) * page, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        self._head = ctypes.c_uint64.from_buffer(self.map, _DATA_HEAD)
        self._tail = ctypes.c_uint64.from_buffer(self.map, _DATA_TAIL)
        offset = ctypes.c_uint64.from_buffer(self.map, _DATA_OFFSET).value
        size = ctypes.c_uint64.from_buffer(self.map, _DATA_SIZE).value
        # Kernels before 4.1 leave data_offset/data_size 0: the data starts one page in.
        self.data_offset = offset or page
        self.data_size = size or RING_PAGES * page

    def drain(self, hits: dict[int, dict[int, int]]) -> tuple[int, int, int]:
        """Parse every record the kernel has written; add samples to
        ``hits[ip][tid]``. Returns (samples, lost, throttled): hits the
        kernel dropped for a full ring (PERF_RECORD_LOST) and the times it
        throttled the event (PERF_RECORD_THROTTLE: hits above
        kernel.perf_event_max_sample_rate are not recorded)."""
        head = self._head.value            # one aligned 64-bit load (see the module doc)
        tail = self._tail.value
        if head == tail:
            return 0, 0, 0
        size = self.data_size
        if head - tail > size:             # cannot happen with a writable tail; be safe
            tail = head - size
        # Copy the pending records out at once (two slices where they wrap).
        data = self._bytes(self.map, self.data_offset, size, tail % size, head - tail)
        samples = lost = throttled = 0
        at, end = 0, len(data)
        unpack = _HEADER.unpack_from
        while at + 8 <= end:
            kind, _misc, length = unpack(data, at)
            if length < 8 or at + length > end:
                break
            if kind == PERF_RECORD_SAMPLE and length >= 24:
                ip, _pid, tid = _SAMPLE.unpack_from(data, at + 8)
                if self.registers and length >= 32 + 8 * len(_REG_NAMES) \
                        and _U64.unpack_from(data, at + 24)[0]:
                    self.last_registers[ip] = _REGS.unpack_from(data, at + 32)
                per_thread = hits.get(ip)
                if per_thread is None:
                    per_thread = hits[ip] = {}
                per_thread[tid] = per_thread.get(tid, 0) + 1
                samples += 1
            elif kind == PERF_RECORD_LOST and length >= 24:
                lost += _U64.unpack_from(data, at + 16)[0]
            elif kind == PERF_RECORD_THROTTLE:
                throttled += 1
            at += length
        self._tail.value = tail + at       # after the records were copied out
        return samples, lost, throttled

    @staticmethod
    def _bytes(data: mmap.mmap, start: int, size: int, at: int, n: int) -> bytes:
        """``n`` bytes of the ring from offset ``at``, across its end if need be."""
        first = min(n, size - at)
        chunk = data[start + at:start + at + first]
        if first < n:
            chunk += data[start:start + n - first]
        return chunk

    def close(self) -> None:
        del self._head, self._tail        # the buffer exports must go before the mmap closes
        self.map.close()
        if self.fd >= 0:
            os.close(self.fd)


def _map_ring(fd: int, tid: int, pid: int, address: int, mapped: int,
              registers: bool = False) -> _Ring:
    """Thread ``tid``'s ring: RING_PAGES data pages, fewer when the kernel's
    limit on memory locked for perf rings is near (perf_event_mlock_kb per
    user, then RLIMIT_MEMLOCK, unless CAP_IPC_LOCK); PermissionDenied
    saying so when not even one page fits."""
    for pages in (RING_PAGES, 4, 1):
        try:
            return _Ring(fd, tid, pages=pages, registers=registers)
        except OSError as exc:
            if exc.errno not in (_errno.EPERM, _errno.ENOMEM):
                raise _open_error(exc, pid, tid, address) from None
            err = exc.errno
    try:
        with open("/proc/sys/kernel/perf_event_mlock_kb") as f:
            limit = f"{int(f.read())} KiB"
    except (OSError, ValueError):
        limit = "its limit"
    raise PermissionDenied(
        f"the kernel refused a ring buffer for thread {tid} after {mapped} others: memory "
        f"locked for perf rings is limited to kernel.perf_event_mlock_kb ({limit}) per user, "
        "then RLIMIT_MEMLOCK (run as root or with CAP_IPC_LOCK, or raise "
        "kernel.perf_event_mlock_kb)", op="watchpoint", errno=err, address=address, pid=pid)


# -- the watch ----------------------------------------------------------------------------------

Clock = Callable[[], float]


def _list_threads(pid: int) -> list[int] | None:
    """The thread ids of ``pid``, None once the process is gone."""
    try:
        return [int(name) for name in os.listdir(f"/proc/{pid}/task")]
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == _errno.ESRCH:
            return None
        raise



def watch(pid: int, address: int, length: int, access: bool, live: WatchLive, *,
          seconds: float | None = None, pause: Callable[[float], None] | None = None,
          clock: Clock = time.monotonic,
          registers: bool = False) -> Generator[int, None, WatchSnapshot]:
    """Arm a hardware watchpoint on every thread of ``pid`` and count its
    hits until ``live.stop()``, ``seconds`` pass or the process exits.

    A bulk job for the backend thread: each step drains the rings, picks up
    new threads, publishes a :class:`WatchSnapshot` to ``live`` and yields the
    total hits so far; ``pause(timeout)`` waits for other requests between
    steps (the backend thread's ``wait_idle``; default: sleep). ``access``:
    reads and writes (HW_BREAKPOINT_RW), else writes only. ``registers``:
    also record the user registers (PERF_SAMPLE_REGS_USER): each
    instruction keeps those of its latest hit. Returns the final
    snapshot. Raises InvalidInput (length, alignment, architecture),
    PermissionDenied (says what is missing), WatchpointLimit (no free debug
    register), WatchpointUnsupported, TargetExited (no such process).
    Every event is closed when it returns, raises or is closed."""
    check_request(address, length)
    wait = pause or time.sleep
    attr = _PerfEventAttr()
    attr.type = PERF_TYPE_BREAKPOINT
    attr.size = ctypes.sizeof(_PerfEventAttr)
    attr.config = 0
    attr.sample_period = 1
    attr.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID
    if registers:
        attr.sample_type |= PERF_SAMPLE_REGS_USER
        attr.sample_regs_user = _REGS_MASK
    attr.flags = _ATTR_EXCLUDE_KERNEL | _ATTR_EXCLUDE_HV
    attr.wakeup_events = 1
    attr.bp_type = HW_BREAKPOINT_RW if access else HW_BREAKPOINT_W
    attr.bp_addr = address
    attr.bp_len = length

    rings: dict[int, _Ring] = {}
    seen: set[int] = set()
    hits: dict[int, dict[int, int]] = {}
    total = lost = throttled = 0
    last_registers: dict[int, tuple[int, ...]] = {}
    started = clock()

    def arm_new(tids: list[int]) -> None:
        for tid in tids:
            if tid in seen:
                continue
            try:
                fd = _perf_event_open(attr, tid)
            except OSError as exc:
                if exc.errno == _errno.ESRCH:   # the thread ended before we got to it
                    seen.add(tid)
                    continue
                raise _open_error(exc, pid, tid, address) from None
            try:
                rings[tid] = _map_ring(fd, tid, pid, address, len(rings), registers)
            except BaseException:
                os.close(fd)
                raise
            seen.add(tid)

    def drain_one(ring: _Ring) -> None:
        nonlocal total, lost, throttled
        got, dropped, slowed = ring.drain(hits)
        total += got
        lost += dropped
        throttled += slowed

    def drain() -> None:
        for ring in rings.values():
            drain_one(ring)

    def snapshot(ended: str | None) -> WatchSnapshot:
        if registers:
            for ring in rings.values():
                last_registers.update(ring.last_registers)
                ring.last_registers.clear()
        rows = sorted(
            (WatchHit(ip, sum(per.values()), tuple(sorted(per)),
                      tuple(zip(_REG_NAMES, last_registers.get(ip, ()))))
             for ip, per in hits.items()),
            key=lambda h: (-h.hits, h.ip))
        return WatchSnapshot(address, length, access, tuple(rows), total, lost, len(seen),
                             clock() - started, ended, throttled)

    try:
        tids = _list_threads(pid)
        if tids is None:
            raise TargetExited(f"process {pid} has exited", op="watchpoint", pid=pid)
        arm_new(tids)
        started = clock()
        live._publish(snapshot(None))
        yield 0
        while True:
            drain()
            ended: str | None = None
            if live.stop_requested:
                ended = "stopped"
            elif seconds is not None and clock() - started >= seconds:
                ended = "time is up"
            else:
                tids = _list_threads(pid) if has_address_space(pid) else None
                if tids is None:
                    drain()
                    ended = f"process {pid} exited"
                else:
                    gone = set(rings) - set(tids)
                    for tid in gone:                # a thread ended: its last hits, then free it
                        drain_one(rings[tid])
                        rings.pop(tid).close()
                    arm_new(tids)
            result = snapshot(ended)
            live._publish(result)
            if ended is not None:
                return result
            yield total
            wait(POLL_SECONDS)
    finally:
        for ring in rings.values():
            ring.close()
        rings.clear()


# -- naming the hits: the one seam for symbols and the disassembler ------------------------------

class HitNamer(Protocol):
    """What names a hit's code: module symbols (``module!symbol+off``) and a
    disassembler that decodes forward from a known boundary. Until one is
    given, hits are named by their location in the map alone."""

    def symbol(self, address: int) -> str | None:
        """``module!symbol+0x4`` for ``address``, None where no symbol covers it."""
        ...

    def instruction_before(self, ip: int) -> tuple[int, str] | None:
        """(address, ``mnemonic operands``) of the instruction that ends at
        ``ip``, None when the decoder cannot tell."""
        ...


@dataclass(frozen=True, slots=True)
class NamedHit:
    """One instruction's hits, named. ``ip``: the IP the CPU reported (on
    x86 the instruction after the access); ``address``: the accessing
    instruction's address when it was decoded, else None; ``location``
    (``module+0x…`` by backend/locations.py) and ``symbol`` name
    ``address`` when known, else ``ip``; ``instruction``: its text, or None."""

    ip: int
    hits: int
    threads: tuple[int, ...]
    location: str
    symbol: str | None
    address: int | None
    instruction: str | None
    registers: tuple[tuple[str, int], ...] = ()

    def to_json(self) -> dict[str, object]:
        """``{ip, address, location, symbol, hits, threads, instruction}``,
        and ``registers: {name: value}`` (at the latest hit) when recorded."""
        out: dict[str, object] = {
            "ip": self.ip, "address": self.address, "location": self.location,
            "symbol": self.symbol, "hits": self.hits, "threads": list(self.threads),
            "instruction": self.instruction}
        if self.registers:
            out["registers"] = dict(self.registers)
        return out


def name_hits(hits: Sequence[WatchHit], areas: list[MemoryArea],
              namer: HitNamer | None = None) -> list[NamedHit]:
    """``hits`` named: by ``namer`` (symbol, accessing instruction) where it
    can, and by the location of the code in ``areas`` (a map of the target,
    sorted by start) always. Order kept."""
    out = []
    for hit in hits:
        decoded = namer.instruction_before(hit.ip) if namer is not None else None
        address, text = decoded if decoded is not None else (None, None)
        at = address if address is not None else hit.ip
        symbol = namer.symbol(at) if namer is not None else None
        out.append(NamedHit(hit.ip, hit.hits, hit.threads, locate(at, areas).text, symbol,
                            address, text, hit.registers))
    return out
