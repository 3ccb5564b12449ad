"""LainmemuMemory against the real device. These run where the lainko
module is loaded (the VM harness); elsewhere they skip, saying why."""

import errno
import os

import pytest

from lainview.backend.errors import DeviceUnavailable, PermissionDenied, TargetExited
from lainview.backend.lainmemu import LainmemuMemory
from lainview.backend.lainmemu_abi import discover
from lainview.backend.procfs import ProcfsMemory


def _device_reason() -> str | None:
    try:
        discover("/")
    except DeviceUnavailable as exc:
        return exc.message
    if os.geteuid() != 0:
        return "the lainmemu node is root-only"
    return None


pytestmark = [pytest.mark.device,
              pytest.mark.skipif(_device_reason() is not None,
                                 reason=f"needs the lainmemu device: {_device_reason()}")]


@pytest.fixture
def memory(child):
    s = LainmemuMemory(child.pid)
    yield s
    s.close()


def test_map_matches_proc(child, memory):
    with ProcfsMemory(child.pid) as proc:
        expected = [(a.start, a.end, a.perms, a.offset, a.path) for a in proc.areas()]
    got = [(a.start, a.end, a.perms, a.offset, a.path) for a in memory.areas()
           if a.path != "[vsyscall]"]
    expected = [e for e in expected if e[4] != "[vsyscall]"]
    assert got == expected


def test_read_write_and_read_only_page(child, memory):
    assert memory.read(child.base, 4).require() == b"\0\1\2\3"
    memory.write(child.counter + 16, b"\x11\x22")
    assert child.peek(child.counter + 16, 2) == b"\x11\x22"
    memory.write(child.ro, b"DEVICE!!")
    assert child.peek(child.ro, 8) == b"DEVICE!!"


def test_guard_page_reads_as_procfs_does_marked_no_access(child, memory):
    """The device reads a PROT_NONE page as /proc/<pid>/mem does (forced
    access); the bytes are marked as a no-access page, not a hole."""
    r = memory.read(child.guard - 4, 8 + child.page)
    assert r.byte_at(child.guard - 1) == 255 and r.byte_at(child.guard) == 0
    assert r.holes == () and r.is_no_access(child.guard) and not r.is_no_access(child.guard - 1)


def test_exit_gives_target_exited(child, memory):
    child.kill()
    with pytest.raises(TargetExited):
        memory.read(child.base, 4)


def test_missing_pid():
    with pytest.raises(TargetExited):
        LainmemuMemory(2**22 + 4321)


def test_kernel_thread_refused():
    with pytest.raises(PermissionDenied, match="kernel thread"):
        LainmemuMemory(2)
