"""ProcfsMemory against real child processes and the kernel's own /proc files."""

import errno
import os
import signal

import pytest

from lainview.backend.errors import (FaultError, PermissionDenied, TargetExited)
from lainview.backend.memory import Perm
from lainview.backend.procfs import ProcfsMemory


@pytest.fixture
def memory(child):
    s = ProcfsMemory(child.pid)
    yield s
    s.close()


def test_maps_equal_the_kernels(child, memory):
    with open(f"/proc/{child.pid}/maps") as f:
        kernel_lines = f.read().splitlines()
    assert [a.maps_line() for a in memory.areas()] == kernel_lines


def test_maps_cover_spaces_deleted_memfd_and_guard(child, memory):
    areas = {a.start: a for a in memory.areas()}
    spaced = areas[child.spaced]
    assert spaced.path == child.spaced_path and " " in spaced.path
    assert spaced.offset == child.page and spaced.perms == Perm.READ
    assert areas[child.deleted].path.endswith("deleted.bin (deleted)")
    assert areas[child.deleted].deleted
    assert areas[child.memfd].path == "/memfd:lainview-test (deleted)"
    assert areas[child.memfd].perms == Perm.READ | Perm.WRITE | Perm.SHARED
    guard = areas[child.guard]
    assert guard.perms == Perm.NONE and guard.size == child.page and not guard.readable


def test_read_known_bytes(child, memory):
    r = memory.read(child.base, child.page)
    assert r.complete and r.data == bytes(range(256)) * (child.page // 256)
    assert memory.read(child.spaced, 6).require() == b"SPACED"
    assert memory.read(child.memfd, 5).require() == b"MEMFD"
    assert memory.read(child.deleted, 7).require() == b"DELETED"


def test_guard_page_reads_as_the_kernel_allows_marked_no_access(child, memory):
    """/proc/<pid>/mem reads a PROT_NONE page for a ptrace-capable caller:
    lainview reads it too, and marks its bytes as a no-access page."""
    page = child.page
    fd = os.open(f"/proc/{child.pid}/mem", os.O_RDWR)
    try:
        os.pwrite(fd, b"GUARDED!", child.guard + 16)      # the kernel's forced write
    finally:
        os.close(fd)
    r = memory.read(child.base + page - 8, page + 16)
    assert r.holes == () and r.data[:8] == bytes(range(248, 256))
    assert r.data[8 + 16:8 + 24] == b"GUARDED!" and r.byte_at(child.guard + 16) == ord("G")
    assert [(s.address, s.size) for s in r.no_access] == [(child.guard, page)]
    assert r.is_no_access(child.guard) and r.is_no_access(child.guard + page - 1)
    assert not r.is_no_access(child.guard - 1) and not r.is_no_access(child.ro)
    assert r.byte_at(child.ro) == ord("R")
    area = memory.area_at(child.guard)
    assert area.no_access and not area.readable       # the scanner still skips it


def test_the_scanners_path_still_skips_no_access_pages(child, memory):
    view = memoryview(bytearray(3 * child.page))
    holes = memory.read_into(child.base, view)
    assert [(h.address, h.size, h.errno) for h in holes] == \
        [(child.guard, child.page, errno.EACCES)]
    assert "no read permission (---p)" in holes[0].reason


def test_unmapped_range_is_a_hole(child, memory):
    r = memory.read(0x1000, 64)
    assert not r.complete and r.holes[0].reason == "not mapped"
    assert r.holes[0].errno == errno.EFAULT and r.holes[0].size == 64


def test_write_round_trip_seen_by_the_child(child, memory):
    addr = child.counter + 16
    result = memory.write(addr, b"\xde\xad\xbe\xef")
    assert result.old == bytes(4) and result.new == b"\xde\xad\xbe\xef"
    assert child.peek(addr, 4) == b"\xde\xad\xbe\xef"


def test_write_reaches_a_read_only_page(child, memory):
    result = memory.write(child.ro, b"PATCHED!")
    assert result.old == b"READONLY"
    assert child.peek(child.ro, 8) == b"PATCHED!"


def test_write_to_a_gap_writes_nothing(child, memory):
    with pytest.raises(FaultError) as info:
        memory.write(0x1000 - 4, b"\x01" * 8)     # page 0 is never mapped
    assert info.value.address == 0x1000 - 4


def test_write_reaches_a_private_guard_page_as_proc_mem_does(child, memory):
    result = memory.write(child.base + child.page - 4, b"\x01" * 8)   # into the guard
    assert result.new == b"\x01" * 8
    fd = os.open(f"/proc/{child.pid}/mem", os.O_RDONLY)
    try:
        assert os.pread(fd, 4, child.guard) == b"\x01" * 4
    finally:
        os.close(fd)
    with pytest.raises(FaultError):
        memory.write(0x1000, b"\x01")


def test_target_exit_gives_target_exited(child, memory):
    memory.read(child.base, 16).require()
    child.kill()
    with pytest.raises(TargetExited) as info:
        memory.read(child.base, 16)
    assert info.value.errno == errno.ESRCH and info.value.pid == child.pid
    with pytest.raises(TargetExited):
        memory.areas()
    with pytest.raises(TargetExited):
        memory.write(child.base, b"\0")


def test_missing_pid_gives_target_exited():
    with pytest.raises(TargetExited):
        ProcfsMemory(2**22 + 12345)


def test_kernel_thread_cannot_be_attached():
    # pid 2 is kthreadd: its /proc/<pid>/mem opens, but it has no address space.
    with pytest.raises(PermissionDenied, match="kernel thread"):
        ProcfsMemory(2)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to an unprivileged user")
def test_unprivileged_attach_to_root_process_is_denied(child):
    pid = os.fork()
    if pid == 0:   # the child drops to nobody and tries to attach
        code = 3
        try:
            os.setgroups([])
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)
            try:
                ProcfsMemory(child.pid)
                code = 1
            except PermissionDenied as exc:
                code = 0 if (exc.errno in (errno.EACCES, errno.EPERM)
                             and "not root" in exc.message) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_process_vm_readv_fast_path_and_slow_path_agree(child, memory):
    # The fast path covers a fully readable range; the slow path (by area,
    # through /proc/<pid>/mem) is taken when the range crosses the guard.
    fast = memory.read(child.base, child.page).data
    slow = memory.read(child.base, 2 * child.page)
    assert slow.data[:child.page] == fast and slow.no_access[0].address == child.guard


def test_stopped_target_still_reads(child, memory):
    os.kill(child.pid, signal.SIGSTOP)
    try:
        assert memory.read(child.base, 4).require() == b"\0\1\2\3"
    finally:
        os.kill(child.pid, signal.SIGCONT)
