"""Random requests against both lainko devices: random request numbers,
structures, pointers, names and lengths. Every call must either succeed or
fail with an errno the interface defines; a kernel oops ends the VM run
(oops=panic) and fails it. Set LAINKO_FUZZ_SEED to replay a run and
LAINKO_FUZZ_REQUESTS to change the count per device (default 10,000)."""

import collections
import ctypes
import errno
import mmap
import os
import random
import subprocess
import time

import pytest

from lainko_abi import (
    SELFTEST_MODULE,
    MIOC_IREADKSYM,
    MIOC_IWRITEKSYM,
    MIOC_LOCKSYM,
    MIOC_READKSYM,
    MIOC_UNLOCKSYM,
    MIOC_WRITEKSYM,
    PAGE_SIZE,
    IoctlArg,
    MiocRksym,
    memu_request,
    raw_ioctl,
    read_ksym,
    read_major,
    seek_address,
    write_ksym,
)

pytestmark = pytest.mark.device

SEED = int(os.environ.get("LAINKO_FUZZ_SEED", "20250101"))
REQUESTS = int(os.environ.get("LAINKO_FUZZ_REQUESTS", "10000"))

BAD_POINTERS = [
    0,
    1,
    8,
    0xFFF,
    0x10000,
    0x00007FFFFFFFF000,
    0x0000800000000000,
    0x8000000000000000,
    0xFFFF800000000000,
    0xFFFF888000000000,
    0xFFFFFFFF81000000,
    0xFFFFFFFFFF600000,
    0xFFFFFFFFFFFFF000,
    0xFFFFFFFFFFFFFFFF,
]
LENGTHS = [0, 1, 7, 8, 64, 4095, 4096, 4097, 65536, 1 << 20, 1 << 31, 1 << 32, 1 << 63, (1 << 64) - 1]
# Kernel symbols whose memory, or the memory they point to, is plain RAM
# (safe to read at any length), and symbols that are read-only (any write
# must be refused).
READ_SYMBOLS = ["init_uts_ns", "saved_command_line", "jiffies", "linux_banner", "vm_swappiness"]
READ_ONLY_SYMBOLS = ["linux_banner", "_stext", "schedule"]
MODULE_NAMES = [None, "lainko", "no_such_module", "m" * 55, "m" * 56, "m" * 300, "", "lainko:"]


class Guarded:
    """Two read-write pages followed by an inaccessible one, so every
    transfer that runs past the buffer faults instead of touching the
    interpreter's memory."""

    def __init__(self, rng):
        self.map = mmap.mmap(-1, 3 * PAGE_SIZE, flags=mmap.MAP_PRIVATE)
        self.map[: 2 * PAGE_SIZE] = rng.randbytes(2 * PAGE_SIZE)
        self.base = ctypes.addressof(ctypes.c_char.from_buffer(self.map))
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        assert libc.mprotect(self.base + 2 * PAGE_SIZE, PAGE_SIZE, 0) == 0  # PROT_NONE

    def pointer(self, rng):
        return self.base + rng.choice([0, PAGE_SIZE, 2 * PAGE_SIZE - 8, 2 * PAGE_SIZE - 1, rng.randrange(2 * PAGE_SIZE)])

    def string(self, rng, text):
        """text, NUL-terminated, at the end of the buffer when it fits."""
        data = text.encode() + b"\0"
        if len(data) > 2 * PAGE_SIZE:
            data = data[: 2 * PAGE_SIZE]
        offset = rng.choice([0, 2 * PAGE_SIZE - len(data)])
        ctypes.memmove(self.base + offset, data, len(data))
        return self.base + offset


def random_name(rng):
    kind = rng.randrange(4)
    if kind == 0:
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz_0123456789.:$") for _ in range(rng.randrange(1, 40)))
    if kind == 1:
        return "x" * rng.choice([0, 510, 511, 512, 513, 2000])
    if kind == 2:
        return "".join(chr(rng.randrange(1, 256)) for _ in range(rng.randrange(1, 64)))
    return rng.choice(["init_uts_ns:", ":init_uts_ns", "lainko_selftest:lainko_kmem_banner", "%s%n"])


def pick_pointer(rng, guarded):
    return guarded.pointer(rng) if rng.random() < 0.5 else rng.choice(BAD_POINTERS + [rng.getrandbits(64)])


def pick_length(rng):
    return rng.choice(LENGTHS + [rng.randrange(1, 3 * PAGE_SIZE), rng.getrandbits(64)])


def name_pointer(rng, guarded, names):
    roll = rng.random()
    if roll < 0.1:
        return rng.choice(BAD_POINTERS)
    name = rng.choice(names) if roll < 0.7 else random_name(rng)
    return guarded.string(rng, name)


def kmem_request(rng, guarded, kmem_fds, memu_fd):
    """One random kmem call; returns its errno, or 0."""
    if rng.random() < 0.05:
        # A kmem request on the lainmemu minor is always ENXIO.
        result = call(memu_fd, rng.randrange(0x4D04, 0x4D0A), pick_pointer(rng, guarded))
        assert result == errno.ENXIO
        return result
    request = rng.choice(
        [MIOC_READKSYM, MIOC_IREADKSYM, MIOC_WRITEKSYM, MIOC_IWRITEKSYM, MIOC_LOCKSYM, MIOC_UNLOCKSYM]
        + [rng.getrandbits(32), 0x4D03, 0x4D0A]
    )
    fd = rng.choice(kmem_fds)
    if request in (MIOC_LOCKSYM, MIOC_UNLOCKSYM):
        arg = name_pointer(rng, guarded, ["lainko", "no_such_module", "m" * 56])
        return call(fd, request, arg)
    if request not in (MIOC_READKSYM, MIOC_IREADKSYM, MIOC_WRITEKSYM, MIOC_IWRITEKSYM):
        return call(fd, request, pick_pointer(rng, guarded))
    if rng.random() < 0.05:
        return call(fd, request, rng.choice(BAD_POINTERS))

    write = request in (MIOC_WRITEKSYM, MIOC_IWRITEKSYM)
    length = pick_length(rng)
    mod = None
    if not write:
        names = READ_SYMBOLS + ["lainko_kmem_banner", "lainko_kmem_scratch"]
        mod_choice = rng.choice(MODULE_NAMES)
    elif request == MIOC_WRITEKSYM and rng.random() < 0.3:
        # The only writable target: lainko's own scratch buffer, in bounds.
        names = ["lainko_kmem_scratch"]
        mod_choice = rng.choice([None, "lainko", SELFTEST_MODULE])
        length = rng.randrange(0, 65)
    else:
        # Names that cannot resolve to writable memory: read-only data,
        # text, or (indirect) pointers that are not kernel addresses.
        names = READ_ONLY_SYMBOLS + ["init_uts_ns" if request == MIOC_IWRITEKSYM else "linux_banner"]
        mod_choice = rng.choice([None, "lainko", "no_such_module", "m" * 56])
    if mod_choice is not None:
        mod = rng.choice([guarded.string(rng, mod_choice)] * 9 + [rng.choice(BAD_POINTERS[1:])])
    sym = name_pointer(rng, guarded, names)
    rk = MiocRksym(mod, sym, pick_pointer(rng, guarded), length)
    return call(fd, request, ctypes.addressof(rk))


def call(fd, request, arg):
    try:
        raw_ioctl(fd, request, arg)
    except OSError as exc:
        return exc.errno
    return 0


KMEM_ERRNOS = {0, errno.EINVAL, errno.ENXIO, errno.EBADF, errno.ENOENT, errno.ENAMETOOLONG, errno.EFAULT}
# EOVERFLOW: the VFS refuses a transfer at a position above 2**63 whose
# length would wrap past the end of the address space.
MEMU_ERRNOS = {
    0, errno.ESRCH, errno.EFAULT, errno.EIO, errno.ENOMEM, errno.ENOTTY, errno.ENXIO, errno.EINVAL, errno.EOVERFLOW
}


def test_fuzz_kmem(kmem_node, memu_node):
    rng = random.Random(SEED)
    guarded = Guarded(rng)
    fds = [os.open(kmem_node, flags) for flags in (os.O_RDONLY, os.O_WRONLY, os.O_RDWR)]
    memu_fd = os.open(memu_node, os.O_RDWR)
    scratch = read_ksym(fds[0], "lainko_kmem_scratch", 64, modname=SELFTEST_MODULE)
    outcomes = collections.Counter()
    try:
        for i in range(REQUESTS):
            result = kmem_request(rng, guarded, fds, memu_fd)
            outcomes[errno.errorcode.get(result, str(result))] += 1
            assert result in KMEM_ERRNOS, f"request {i} (seed {SEED}): errno {result}"
    finally:
        while call(fds[0], MIOC_UNLOCKSYM, guarded.string(rng, "lainko")) == 0:
            pass
        write_ksym(fds[2], "lainko_kmem_scratch", scratch, modname=SELFTEST_MODULE)
        for fd in fds + [memu_fd]:
            os.close(fd)
    print(f"kmem fuzz, seed {SEED}: {dict(outcomes)}")
    assert outcomes["0"] > REQUESTS // 50
    assert outcomes["EFAULT"] > 0 and outcomes["ENOENT"] > 0


class MemuFuzzer:
    def __init__(self, rng, memu_node, guarded):
        self.rng = rng
        self.guarded = guarded
        self.major = read_major()
        self.fd = os.open(memu_node, os.O_RDWR)
        self.victim = None
        self.target = None
        self.respawn()

    def respawn(self):
        if self.victim:
            self.victim.kill()
            self.victim.wait()
        self.victim = subprocess.Popen(["sleep", "3600"])
        # Random writes land in the victim only once it is parked in
        # nanosleep: it never runs user code again (it dies by SIGKILL).
        # Garbage executed under TCG can oops the guest on its own (a
        # 32-bit far return was seen to), which would hide real failures.
        for _ in range(3000):
            if self.parked():
                return
            time.sleep(0.01)
        raise AssertionError("the victim process never went to sleep")

    def parked(self):
        try:
            with open(f"/proc/{self.victim.pid}/syscall") as f:
                return f.read().split()[0] in ("35", "230")  # nanosleep, clock_nanosleep
        except (OSError, IndexError):
            return False

    def close(self):
        os.close(self.fd)
        self.victim.kill()
        self.victim.wait()

    def pid(self):
        rng = self.rng
        return rng.choice(
            [self.victim.pid] * 4 + [os.getpid(), 1, 2, 0, -1, rng.getrandbits(31), rng.randrange(1, 400), 0x7FFFFFFF]
        )

    def addresses(self):
        rng = self.rng
        if self.target is not None and rng.random() < 0.7:
            try:
                lines = open(f"/proc/{self.target}/maps").read().splitlines()
            except OSError:
                lines = []
            if lines:
                start, end = (int(x, 16) for x in rng.choice(lines).split()[0].split("-"))
                return rng.choice([start, end - 1, end, start + rng.randrange(end - start), end - 8])
        return rng.choice(BAD_POINTERS[:8] + [rng.getrandbits(47)])

    def ioctl(self):
        rng = self.rng
        valid = {name: memu_request(name, self.major) for name in ("OPEN_TGT", "RELEASE_TGT", "GET_MAP", "GET_MAP_SZ")}
        choice = rng.choice(list(valid) + ["random", "kmem"])
        if choice == "random":
            request = rng.getrandbits(32)
            if request in valid.values():
                return 0
        elif choice == "kmem":
            request = rng.randrange(0x4D04, 0x4D0A)
        else:
            request = valid[choice]
        if rng.random() < 0.1:
            return call(self.fd, request, rng.choice(BAD_POINTERS))
        pid = self.pid()
        arg = IoctlArg(pick_pointer(rng, self.guarded), pid)
        result = call(self.fd, request, ctypes.addressof(arg))
        if choice == "OPEN_TGT" and result == 0:
            self.target = pid
        elif choice == "RELEASE_TGT" and result == 0:
            self.target = None
        return result

    def transfer(self):
        rng = self.rng
        addr = self.addresses()
        size = rng.choice([0, 1, 8, PAGE_SIZE, PAGE_SIZE + 1, rng.randrange(1, 70000)])
        # Writes only ever go to the disposable target.
        write = self.target == self.victim.pid and rng.random() < 0.5
        try:
            if addr >= 1 << 63 or rng.random() < 0.2:
                seek_address(self.fd, addr | (rng.getrandbits(1) << 63))
                if write:
                    os.write(self.fd, rng.randbytes(size))
                else:
                    os.read(self.fd, size)
            elif write:
                os.pwrite(self.fd, rng.randbytes(size), addr)
            else:
                os.pread(self.fd, size, addr)
        except OSError as exc:
            return exc.errno
        return 0

    def step(self):
        rng = self.rng
        roll = rng.random()
        if roll < 0.01:
            self.respawn()
            return 0
        if roll < 0.02:
            try:
                os.lseek(self.fd, 0, rng.choice([os.SEEK_END, 3, 4]))
            except OSError as exc:
                return exc.errno
            return 0
        return self.ioctl() if roll < 0.5 else self.transfer()


def test_fuzz_lainmemu(memu_node):
    rng = random.Random(SEED + 1)
    guarded = Guarded(rng)
    fuzzer = MemuFuzzer(rng, memu_node, guarded)
    outcomes = collections.Counter()
    try:
        for i in range(REQUESTS):
            result = fuzzer.step()
            outcomes[errno.errorcode.get(result, str(result))] += 1
            assert result in MEMU_ERRNOS, f"request {i} (seed {SEED + 1}): errno {result}"
    finally:
        fuzzer.close()
    print(f"lainmemu fuzz, seed {SEED + 1}: {dict(outcomes)}")
    assert outcomes["0"] > REQUESTS // 20
    assert outcomes["ESRCH"] > 0 and outcomes["EIO"] > 0
