"""LainmemuSession against the real device. These run where the lainko
module is loaded (the VM harness); elsewhere they skip, saying why."""

import errno
import os

import pytest

from lainview.backend.errors import DeviceUnavailable, PermissionDenied, TargetExited
from lainview.backend.lainmemu import LainmemuSession
from lainview.backend.lainmemu_abi import discover
from lainview.backend.procfs import ProcfsSession


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
def session(child):
    s = LainmemuSession(child.pid)
    yield s
    s.close()


def test_map_matches_proc(child, session):
    with ProcfsSession(child.pid) as proc:
        expected = [(a.start, a.end, a.perms, a.offset, a.path) for a in proc.areas()]
    got = [(a.start, a.end, a.perms, a.offset, a.path) for a in session.areas()
           if a.path != "[vsyscall]"]
    expected = [e for e in expected if e[4] != "[vsyscall]"]
    assert got == expected


def test_read_write_and_read_only_page(child, session):
    assert session.read(child.base, 4).require() == b"\0\1\2\3"
    session.write(child.counter + 16, b"\x11\x22")
    assert child.peek(child.counter + 16, 2) == b"\x11\x22"
    session.write(child.ro, b"DEVICE!!")
    assert child.peek(child.ro, 8) == b"DEVICE!!"


def test_guard_page_reads_as_procfs_does_marked_no_access(child, session):
    """The device reads a PROT_NONE page as /proc/<pid>/mem does (forced
    access); the bytes are marked as a no-access page, not a hole."""
    r = session.read(child.guard - 4, 8 + child.page)
    assert r.byte_at(child.guard - 1) == 255 and r.byte_at(child.guard) == 0
    assert r.holes == () and r.is_no_access(child.guard) and not r.is_no_access(child.guard - 1)


def test_exit_gives_target_exited(child, session):
    child.kill()
    with pytest.raises(TargetExited):
        session.read(child.base, 4)


def test_missing_pid():
    with pytest.raises(TargetExited):
        LainmemuSession(2**22 + 4321)


def test_kernel_thread_refused():
    with pytest.raises(PermissionDenied, match="kernel thread"):
        LainmemuSession(2)
