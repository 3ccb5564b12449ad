"""A target that registers memory with userfaultfd and never serves the
faults: lainview must not hang on it. Registered areas are unreadable by
default (smaps VmFlags um/uw/ui), with that reason; opting in reads what
is present; and a transfer the kernel never finishes does not wedge the
backend: waiting requests fail with the reason, shutdown and exit complete."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lainview.backend.errors import FaultError
from lainview.backend.service import Backend
from lainview.backend.thread import THREAD_NAME, BackendStuck

SOURCE = Path(__file__).parent.parent / "uffd_child.c"


@pytest.fixture(scope="module")
def uffd_binary(tmp_path_factory):
    if not shutil.which("gcc"):
        pytest.skip("gcc is needed to build the userfaultfd target")
    out = tmp_path_factory.mktemp("uffd") / "uffd_child"
    subprocess.run(["gcc", "-O1", "-o", str(out), str(SOURCE)], check=True)
    return out


@pytest.fixture
def uffd_child(uffd_binary):
    proc = subprocess.Popen([str(uffd_binary)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line:
        err = proc.stderr.read()
        proc.wait()
        pytest.skip(f"userfaultfd is not available here: {err.strip()}")
    info = json.loads(line)
    info["pid"] = proc.pid
    info["proc"] = proc
    yield info
    proc.kill()
    proc.wait()


def test_registered_areas_are_unreadable_with_the_reason(uffd_child, tmp_path):
    with Backend() as backend:
        target = backend.attach(uffd_child["pid"]).result(timeout=30)
        areas = target.areas().result(timeout=30)
        registered = [a for a in areas if a.uffd]
        assert [(a.start, a.end) for a in registered] == [
            (uffd_child["present"], uffd_child["missing"] + 4096)]
        assert not registered[0].readable
        # The missing page would block a transfer for ever: it is a hole, at once.
        result = target.read(uffd_child["missing"], 16).result(timeout=30)
        (hole,) = result.holes
        assert "userfaultfd" in hole.reason and result.byte_at(uffd_child["missing"]) is None
        assert target.read(uffd_child["normal"], 4).result(timeout=30).require() == b"NNNN"
        with pytest.raises(FaultError, match="userfaultfd"):
            target.write(uffd_child["missing"], b"\x01").result(timeout=30)
        assert backend.journal_entries().result(timeout=30) == []


def test_the_cli_says_why_and_opting_in_reads_present_pages(uffd_child):
    run = lambda *a: subprocess.run([sys.executable, "-m", "lainview", *map(str, a)],  # noqa
                                    capture_output=True, text=True, timeout=60)
    out = run("read", uffd_child["pid"], hex(uffd_child["missing"]), 16)
    assert out.returncode == 1 and "userfaultfd" in out.stderr and "--userfaultfd" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    out = run("read", uffd_child["pid"], hex(uffd_child["present"]), 8, "--userfaultfd")
    assert out.returncode == 0 and "50 50 50 50 50 50 50 50" in out.stdout


def test_one_stuck_transfer_does_not_wedge_the_backend(uffd_child):
    backend = Backend()
    backend.thread.stuck_after = 1.0
    try:
        target = backend.attach(uffd_child["pid"]).result(timeout=30)
        target.set_read_userfaultfd(True).result(timeout=30)
        stuck = target.read(uffd_child["missing"], 16)       # blocks in the kernel
        waiting = target.read(uffd_child["normal"], 4)       # queued behind it
        with pytest.raises(BackendStuck, match="userfaultfd"):
            waiting.result(timeout=30)
        with pytest.raises(BackendStuck, match="for [0-9]+ s"):
            backend.list_processes().result(timeout=5)       # failed at once, not queued
        assert not stuck.done()
        started = time.monotonic()
        with pytest.raises(BackendStuck, match="did not stop"):
            backend.shutdown()
        assert time.monotonic() - started < 5
    finally:
        # The target going away releases its userfaultfd and the blocked read.
        uffd_child["proc"].kill()
        uffd_child["proc"].wait()
        backend.thread._thread.join(30)
    assert not backend.thread._thread.is_alive()
    assert THREAD_NAME == backend.thread._thread.name


def test_the_cli_exits_when_interrupted_in_a_stuck_read(uffd_child):
    proc = subprocess.Popen([sys.executable, "-m", "lainview", "read", str(uffd_child["pid"]),
                             hex(uffd_child["missing"]), "16", "--userfaultfd"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    mem = f"/proc/{uffd_child['pid']}/mem"
    deadline = time.monotonic() + 60
    def attached() -> bool:
        for fd in os.listdir(f"/proc/{proc.pid}/fd"):
            try:
                if os.readlink(f"/proc/{proc.pid}/fd/{fd}") == mem:
                    return True
            except OSError:
                continue
        return False
    while not attached():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1)            # into the read, blocked in the kernel
    assert proc.poll() is None
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - started < 15
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err


def test_the_scanner_skips_registered_areas(uffd_child):
    """By kind and by range: a registered area is never read by a scan (its
    missing page would block the backend), counted as unreadable in a
    range; the normal page beside it is scanned."""
    from lainview.backend import scan
    page = uffd_child["missing"] - uffd_child["present"]
    st_ = scan.ScanType("bytes")
    with Backend() as backend:
        target = backend.attach(uffd_child["pid"], writable=False).result(timeout=30)
        by_kind = target.scan_first(st_, scan.make_condition(st_, scan.Mode.EXACT, "50 50 50 50"),
                                    align=1).result(timeout=30)
        assert by_kind.count == 0 and by_kind.scanned_bytes > 0
        normal = target.scan_first(st_, scan.make_condition(st_, scan.Mode.EXACT, "4e 4e 4e 4e"),
                                   align=1).result(timeout=30)
        assert uffd_child["normal"] in normal.addresses().tolist()
        ranged = target.scan_first(
            st_, scan.make_condition(st_, scan.Mode.EXACT, "50 50 50 50"), align=1,
            areas=scan.AreaFilter(ranges=((uffd_child["present"],
                                           uffd_child["missing"] + page),))).result(timeout=30)
        assert ranged.count == 0 and ranged.unreadable_bytes == 2 * page
        for s in (by_kind, normal, ranged):
            s.close()
