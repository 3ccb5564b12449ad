"""/dev/lainmemu against a real target process, compared with the same
target's /proc/<pid>/maps and /proc/<pid>/mem (docs/lainmemu.md)."""

import ctypes
import errno
import json
import os
import stat
import subprocess
import sys
import threading

import pytest

from lainko_abi import PAGE_SIZE, IoctlArg, Memu, errno_of, memu_request, raw_ioctl, read_major, seek_address

pytestmark = pytest.mark.device

# The target maps known data and waits: an RW area, a read-only page, a file
# mapped at a page offset (named with '%' to catch format-string mangling),
# an area followed by a hole, and an extra thread.
TARGET = r"""
import ctypes, json, mmap, os, sys, threading
libc = ctypes.CDLL(None, use_errno=True)
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
PAGE = mmap.PAGESIZE

def addr(m):
    return ctypes.addressof(ctypes.c_char.from_buffer(m))

rw = mmap.mmap(-1, 2 * PAGE, flags=mmap.MAP_PRIVATE)
rw[:] = bytes(i % 251 for i in range(2 * PAGE))
ro = mmap.mmap(-1, PAGE, flags=mmap.MAP_PRIVATE)
ro[:] = b"read-only page!\n" * (PAGE // 16)
ro_addr = addr(ro)
assert libc.mprotect(ro_addr, PAGE, mmap.PROT_READ) == 0

path = sys.argv[1]
with open(path, "wb") as f:
    f.write(b"".join(bytes([65 + i]) * PAGE for i in range(3)))
fd = os.open(path, os.O_RDONLY)
fm = mmap.mmap(fd, PAGE, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ, offset=PAGE)

# Two pages, the second unmapped again: the first is followed by a hole.
edge = mmap.mmap(-1, 2 * PAGE, flags=mmap.MAP_PRIVATE)
shared = mmap.mmap(-1, PAGE)
edge[:PAGE] = b"E" * PAGE
edge_addr = addr(edge)
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
assert libc.munmap(edge_addr + PAGE, PAGE) == 0

stop = threading.Event()
worker = threading.Thread(target=stop.wait)
worker.start()
print(json.dumps({"rw": addr(rw), "ro": ro_addr, "edge": edge_addr, "tid": worker.native_id}), flush=True)
sys.stdin.readline()
stop.set()
"""


def _file_map_address(pid, path):
    for line in open(f"/proc/{pid}/maps"):
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5].rstrip("\n") == path:
            return int(fields[0].split("-")[0], 16)
    raise AssertionError(f"{path} not in /proc/{pid}/maps")


class Target:
    def __init__(self, tmp_path):
        self.path = str(tmp_path / "map%s%n%x.bin")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", TARGET, self.path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        info = json.loads(self.proc.stdout.readline())
        self.pid = self.proc.pid
        self.rw, self.ro, self.edge, self.tid = info["rw"], info["ro"], info["edge"], info["tid"]
        self.file = _file_map_address(self.pid, self.path)

    def exit(self):
        """Let the target exit without reaping it (it becomes a zombie)."""
        self.proc.stdin.write(b"\n")
        self.proc.stdin.flush()
        self.proc.stdin.close()

    def state(self):
        with open(f"/proc/{self.pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]

    def mem(self, addr, size):
        with open(f"/proc/{self.pid}/mem", "rb", buffering=0) as f:
            return os.pread(f.fileno(), size, addr)

    def stop(self):
        if self.proc.returncode is None and not self.proc.stdin.closed:
            self.exit()
        self.proc.wait(timeout=30)


@pytest.fixture
def target(tmp_path):
    t = Target(tmp_path)
    yield t
    t.stop()


@pytest.fixture
def memu(memu_node):
    with Memu(memu_node) as m:
        yield m


def proc_maps(pid):
    entries = []
    for line in open(f"/proc/{pid}/maps", "rb"):
        fields = line.rstrip(b"\n").split(maxsplit=5)
        start, end = (int(x, 16) for x in fields[0].split(b"-"))
        path = fields[5] if len(fields) == 6 else b""
        entries.append((start, end, fields[1].decode(), int(fields[2], 16), path))
    return entries


def perms(flags):
    return "".join(
        (
            "r" if flags & 1 else "-",
            "w" if flags & 2 else "-",
            "x" if flags & 4 else "-",
            "s" if flags & 0x80 else "p",  # VM_MAYSHARE, as /proc shows it
        )
    )


def test_class_attributes_and_nodes(memu_node, kmem_node):
    major = read_major("lainmemu_major")
    assert read_major("memu_major") == major
    assert read_major("kmem_major") == major
    for node, minor in ((memu_node, 0), (kmem_node, 1)):
        st = os.stat(node)
        assert stat.S_ISCHR(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == 0o600
        assert (os.major(st.st_rdev), os.minor(st.st_rdev)) == (major, minor)


def test_request_numbers_follow_the_table(memu_node):
    m = read_major()
    assert memu_request("OPEN_TGT", m) == 0x40080000 | (m & 0xFF) << 8
    assert memu_request("RELEASE_TGT", m) == 0x00000001 | (m & 0xFF) << 8
    assert memu_request("GET_MAP", m) == 0xC0080002 | (m & 0xFF) << 8
    assert memu_request("GET_MAP_SZ", m) == 0x40080003 | (m & 0xFF) << 8


def test_map_matches_proc_maps(memu, target):
    assert memu.open_target(target.pid) == 0
    expected = proc_maps(target.pid)
    size = memu.map_size()
    entries = memu.get_map()

    areas = len(expected)
    assert size >= areas + 1 + (areas + 1) // 10
    got = []
    for start, end, pgoff, flags, path in entries:
        offset = pgoff * PAGE_SIZE if path.startswith(b"/") else None
        got.append((start, end, perms(flags), offset, path))
    want = [(s, e, p, off if path.startswith(b"/") else None, path) for s, e, p, off, path in expected]
    assert got == want

    by_start = {e[0]: e for e in entries}
    assert by_start[target.file][2] == 1  # file_off in pages
    assert by_start[target.file][4] == target.path.encode()  # '%' kept verbatim
    rw = by_start[target.rw]
    assert rw[2] == target.rw // PAGE_SIZE  # raw vm_pgoff of anonymous memory
    assert rw[4] == b""
    assert perms(by_start[target.ro][3]) == "r--p"
    names = {e[4] for e in entries}
    assert {b"[heap]", b"[stack]", b"[vdso]", b"[vvar]"} <= names


def test_get_map_needs_get_map_sz(memu, target):
    memu.open_target(target.pid)
    buf = ctypes.create_string_buffer(4128 * 4)
    assert errno_of(memu.call, "GET_MAP", buf=buf) == errno.ENOMEM
    cap = memu.map_size()
    assert memu.call("GET_MAP", buf=ctypes.create_string_buffer(cap * 4128)) == len(proc_maps(target.pid))


def test_get_map_stops_at_the_last_size(memu, target):
    # GET_MAP never writes more records than the last GET_MAP_SZ allowed,
    # whatever the buffer size.
    memu.open_target(target.pid)
    cap = memu.map_size()
    buf = ctypes.create_string_buffer((cap + 8) * 4128)
    ctypes.memset(buf, 0x5A, len(buf))
    count = memu.call("GET_MAP", buf=buf)
    assert count <= cap
    assert buf.raw[count * 4128 :] == b"\x5a" * (len(buf) - count * 4128)


def test_reads_match_proc_mem(memu, target):
    memu.open_target(target.pid)
    for addr, size in ((target.rw, 2 * PAGE_SIZE), (target.ro, PAGE_SIZE), (target.file, PAGE_SIZE), (target.rw + 100, 5000)):
        data = memu.pread(addr, size)
        assert data == target.mem(addr, size)
    assert memu.pread(target.file, 8) == b"B" * 8
    assert memu.pread(target.rw, 4) == bytes([0, 1, 2, 3])


def test_writes_reach_rw_and_read_only_pages(memu, target):
    memu.open_target(target.pid)
    assert memu.pwrite(target.rw + 10, b"written!") == 8
    assert target.mem(target.rw + 10, 8) == b"written!"
    # Across the page boundary inside the area.
    assert memu.pwrite(target.rw + PAGE_SIZE - 3, b"abcdef") == 6
    assert target.mem(target.rw + PAGE_SIZE - 3, 6) == b"abcdef"
    # Forced write into a read-only page, as /proc/<pid>/mem allows.
    assert memu.pwrite(target.ro, b"PATCHED") == 7
    assert target.mem(target.ro, 16) == b"PATCHED" + b"read-only page!\n"[7:]
    assert [e for e in proc_maps(target.pid) if e[0] == target.ro][0][2] == "r--p"


def test_read_and_write_return_the_byte_count_and_advance(memu, target):
    memu.open_target(target.pid)
    fd = memu.fd
    assert os.lseek(fd, target.rw, os.SEEK_SET) == target.rw
    assert os.read(fd, 100) == target.mem(target.rw, 100)
    assert os.lseek(fd, 0, os.SEEK_CUR) == target.rw + 100
    assert os.write(fd, b"xyz") == 3
    assert os.lseek(fd, 0, os.SEEK_CUR) == target.rw + 103
    assert target.mem(target.rw + 100, 3) == b"xyz"
    assert os.lseek(fd, -50, os.SEEK_CUR) == target.rw + 53


def test_short_transfer_at_a_hole_and_eio_inside_it(memu, target):
    memu.open_target(target.pid)
    hole = target.edge + PAGE_SIZE
    assert memu.pread(target.edge, 2 * PAGE_SIZE) == b"E" * PAGE_SIZE
    assert memu.pread(hole - 8, 64) == b"E" * 8
    assert errno_of(memu.pread, hole, 16) == errno.EIO
    assert errno_of(memu.pwrite, hole, b"x") == errno.EIO
    assert memu.pwrite(hole - 4, b"12345678") == 4
    assert errno_of(memu.pread, 0, 16) == errno.EIO
    # pread(2) refuses positions above 2**63 itself; seek there and read.
    assert seek_address(memu.fd, 0xFFFF800000000000) == 0xFFFF800000000000
    assert errno_of(os.read, memu.fd, 16) == errno.EIO


def test_seek_end_is_einval_and_high_positions_are_kept(memu):
    assert errno_of(os.lseek, memu.fd, 0, os.SEEK_END) == errno.EINVAL
    # Addresses above 2**63 are positions too (FMODE_UNSIGNED_OFFSET).
    high = 0xFFFFFFFFFF600000
    assert seek_address(memu.fd, high) == high


def test_seek_into_the_errno_range_is_eoverflow(memu):
    """As drivers/char/mem.c: a position that lseek's caller would take for
    -errno (the last 4095 of the address space) is refused, and the
    position is kept."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.lseek.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int]
    libc.lseek.restype = ctypes.c_int64
    last_ok = 0xFFFFFFFFFFFFF000
    assert seek_address(memu.fd, last_ok) == last_ok
    for addr in (0xFFFFFFFFFFFFF001, 0xFFFFFFFFFFFFFFF7, 0xFFFFFFFFFFFFFFFF):
        ctypes.set_errno(0)
        assert libc.lseek(memu.fd, addr - (1 << 64), os.SEEK_SET) == -1
        assert ctypes.get_errno() == errno.EOVERFLOW
    ctypes.set_errno(0)
    assert libc.lseek(memu.fd, 1, os.SEEK_CUR) == -1
    assert ctypes.get_errno() == errno.EOVERFLOW
    assert libc.lseek(memu.fd, 0, os.SEEK_CUR) & ((1 << 64) - 1) == last_ok


def test_missing_pid_and_non_leader_give_esrch(memu, target):
    pid_max = int(open("/proc/sys/kernel/pid_max").read())
    unused = next(p for p in range(pid_max - 1, 1, -1) if not os.path.exists(f"/proc/{p}"))
    assert errno_of(memu.open_target, unused) == errno.ESRCH
    assert errno_of(memu.open_target, 0) == errno.ESRCH
    assert errno_of(memu.open_target, -1) == errno.ESRCH
    assert target.tid != target.pid
    assert errno_of(memu.open_target, target.tid) == errno.ESRCH


def test_kernel_thread_gives_efault(memu):
    kthreadd = 2
    assert open(f"/proc/{kthreadd}/comm").read().strip() == "kthreadd"
    assert errno_of(memu.open_target, kthreadd) == errno.EFAULT


def test_unprivileged_caller_is_refused(memu_node, target):
    # The node is root-only, so the descriptor is opened as root and the
    # child drops to nobody before asking for a root-owned target.
    fd = os.open(memu_node, os.O_RDWR)
    child = os.fork()
    if child == 0:
        code = 99
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            arg = IoctlArg(None, target.pid)
            raw_ioctl(fd, memu_request("OPEN_TGT", read_major()), ctypes.addressof(arg))
            code = 0
        except OSError as exc:
            code = exc.errno
        finally:
            os._exit(code)
    os.close(fd)
    _, status = os.waitpid(child, 0)
    assert os.WEXITSTATUS(status) in (errno.EACCES, errno.EPERM)


def test_no_target_gives_esrch(memu):
    assert errno_of(memu.pread, 0x400000, 16) == errno.ESRCH
    assert errno_of(memu.pwrite, 0x400000, b"x") == errno.ESRCH
    assert errno_of(memu.map_size) == errno.ESRCH
    assert errno_of(memu.call, "GET_MAP", buf=ctypes.create_string_buffer(4128)) == errno.ESRCH
    assert memu.release() == 0


def test_release_then_retarget(memu, target):
    memu.open_target(target.pid)
    assert memu.release() == 0
    assert errno_of(memu.pread, target.rw, 4) == errno.ESRCH
    memu.open_target(os.getpid())
    mine = ctypes.create_string_buffer(b"own memory", 10)
    assert memu.pread(ctypes.addressof(mine), 10) == b"own memory"
    memu.open_target(target.pid)  # replaces the earlier target
    assert memu.pread(target.rw, 4) == bytes([0, 1, 2, 3])


def test_every_call_copies_its_argument_first(memu, target):
    memu.open_target(target.pid)
    for name in ("OPEN_TGT", "RELEASE_TGT", "GET_MAP", "GET_MAP_SZ"):
        assert errno_of(raw_ioctl, memu.fd, memu_request(name, memu.major), 8) == errno.EFAULT
    assert errno_of(raw_ioctl, memu.fd, memu_request("GET_MAP", memu.major) ^ 0x10000, 0) == errno.ENOTTY


def test_exited_target_gives_esrch_until_released(memu, target):
    # The target is this test's unreaped child, so it stays a zombie on its
    # own; the module holds its task_struct (not the zombie state), and its
    # address space is gone: every call but RELEASE_TGT gives ESRCH.
    memu.open_target(target.pid)
    target.exit()
    for _ in range(1000):
        if target.state() == "Z":
            break
        threading.Event().wait(0.01)
    assert target.state() == "Z"
    assert errno_of(memu.map_size) == errno.ESRCH
    assert errno_of(memu.call, "GET_MAP", buf=ctypes.create_string_buffer(4128)) == errno.ESRCH
    assert errno_of(memu.pread, target.rw, 4) == errno.ESRCH
    assert errno_of(memu.pwrite, target.rw, b"x") == errno.ESRCH
    assert errno_of(memu.open_target, target.pid) == errno.ESRCH
    assert os.path.exists(f"/proc/{target.pid}")
    assert memu.release() == 0
    assert memu.release() == 0


def test_reaped_target_still_held_safely(memu, target):
    # The module's task reference outlives the reaping; calls keep failing
    # cleanly and closing drops the reference.
    memu.open_target(target.pid)
    target.stop()
    assert not os.path.exists(f"/proc/{target.pid}")
    assert errno_of(memu.map_size) == errno.ESRCH
    assert errno_of(memu.pread, target.rw, 4) == errno.ESRCH
