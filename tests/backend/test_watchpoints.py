"""Hardware watchpoints (backend/watchpoints.py) on a real C child that never stops."""

from __future__ import annotations

import gc
import mmap
import os
import subprocess
import sys

import pytest

from lainview.backend import watchpoints as wp
from lainview.backend.errors import InvalidInput, PermissionDenied, WatchpointLimit
from lainview.backend.service import Backend
from tests.conftest import run_as_nobody
from tests.watch_support import WatchChild, build, watch_child, watch_exe  # noqa: F401

pytestmark = pytest.mark.skipif(os.uname().machine != "x86_64", reason="x86-64 watchpoints")


def run_for(gen, steps=None):
    """Step a watch generator to its end; its final snapshot."""
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        return stop.value


def functions_hit(watch_child, snapshot):
    return {watch_child.function_of(h.ip) for h in snapshot.hits}


def never_traced(pid):
    with open(f"/proc/{pid}/status") as f:
        status = dict(line.split(":", 1) for line in f if ":" in line)
    return status["TracerPid"].strip() == "0" and not status["State"].strip().startswith("t")


def test_write_watchpoint_reports_exactly_the_two_writers_and_the_child_runs_on(watch_child,
                                                                               backend):
    target = backend.attach(watch_child.pid).result(10)
    fds = fd_count()
    live = wp.WatchLive()
    future = target.watchpoint(watch_child.watched, 4, live=live)
    before = watch_child.read_progress()
    seen = []

    def enough():
        snap = live.snapshot()
        if snap is not None and snap.total:
            seen.append((snap.total, watch_child.read_progress()))
        return len(seen) >= 2 and seen[-1][0] > seen[0][0] and seen[-1][1] > seen[0][1] \
            and snap.total > 200

    import time
    deadline = time.monotonic() + 20
    while not enough():
        assert time.monotonic() < deadline, seen[-3:]
        # Interactive requests run while the watch is armed (never behind it).
        assert target.read(watch_child.progress, 8).result(2).data
        assert never_traced(watch_child.pid)
    live.stop()
    final = future.result(10)
    assert final.ended == "stopped"
    assert fd_count() == fds                   # the backend thread freed every event
    assert functions_hit(watch_child, final) == {"writer_one", "writer_two"}
    assert len(final.hits) == 2 and final.lost == 0
    assert watch_child.read_progress() > before
    one, two = sorted(final.hits, key=lambda h: h.ip)
    assert abs(one.hits - two.hits) <= 2       # both run once a round
    named = target.name_hits(final.hits).result(30)
    assert_named_as_objdump_says(watch_child, named, {"writer_one", "writer_two"})


def assert_named_as_objdump_says(watch_child, named, functions):
    """Each hit is the accessing instruction objdump finds in its function
    (not the one after it), named module!function+offset."""
    by_function = {watch_child.function_of(h.address): h for h in named}
    assert set(by_function) == functions
    for function, hit in by_function.items():
        address, mnemonic = watch_child.accesses[function]
        start = watch_child.functions[function][0]
        assert hit.address == address and hit.ip > address
        assert hit.symbol == f"watch_target!{function}" + (f"+{address - start:#x}"
                                                           if address > start else "")
        assert hit.location.startswith("watch_target+0x")      # module+offset, ASLR-proof
        assert hit.instruction.split()[0] == mnemonic and "rip" in hit.instruction


def test_access_watchpoint_adds_the_reader(watch_child, backend):
    final = run_for(wp.watch(watch_child.pid, watch_child.watched, 4, True, wp.WatchLive(),
                             seconds=0.5))
    assert functions_hit(watch_child, final) == {"writer_one", "writer_two", "reader"}
    assert final.ended == "time is up" and final.total > 30
    target = backend.attach(watch_child.pid).result(10)
    named = target.name_hits(final.hits).result(30)
    assert_named_as_objdump_says(watch_child, named, {"writer_one", "writer_two", "reader"})


def test_in_a_stripped_program_the_accessing_instruction_is_still_found(watch_exe, backend):
    """No symbol to decode from: several leads before the IP agree on it."""
    stripped = watch_exe.with_name("watch_target_stripped")
    subprocess.run(["strip", "-o", str(stripped), str(watch_exe)], check=True)
    watch_child = WatchChild(watch_exe, run=stripped)
    try:
        final = run_for(wp.watch(watch_child.pid, watch_child.watched, 4, True, wp.WatchLive(),
                                 seconds=0.3))
        target = backend.attach(watch_child.pid).result(10)
        named = target.name_hits(final.hits).result(30)
    finally:
        watch_child.kill()
    assert {watch_child.function_of(h.ip) for h in named} == {"writer_one", "writer_two", "reader"}
    for hit in named:
        address, mnemonic = watch_child.accesses[watch_child.function_of(hit.ip)]
        assert hit.address == address and hit.instruction.split()[0] == mnemonic
        assert hit.symbol is None and hit.location.startswith("watch_target_stripped+0x")


def test_a_thread_started_after_arming_is_watched(watch_child):
    live = wp.WatchLive()
    gen = wp.watch(watch_child.pid, watch_child.watched, 4, False, live)
    next(gen)                                   # armed
    threads_at_arming = live.snapshot().threads
    watch_child.start_thread()
    for _ in range(400):
        next(gen)
        snap = live.snapshot()
        if "late_writer" in functions_hit(watch_child, snap) and snap.total > 100:
            break
    live.stop()
    final = run_for(gen)
    assert "late_writer" in functions_hit(watch_child, final)
    assert final.threads == threads_at_arming + 1


def test_killing_the_child_ends_the_watch_with_a_message(watch_child, backend):
    target = backend.attach(watch_child.pid).result(10)
    live = wp.WatchLive()
    future = target.watchpoint(watch_child.watched, 4, live=live)
    import time
    deadline = time.monotonic() + 20
    while (live.snapshot() is None or live.snapshot().total < 10):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    watch_child.kill()
    final = future.result(10)
    assert final.ended == f"process {watch_child.pid} exited"
    assert functions_hit(watch_child, final) == {"writer_one", "writer_two"}


def fd_count():
    """This process's open descriptors, after a collection: a pipe an
    earlier test left to the garbage collector must not close in the middle
    of a count (it made this two fewer during a watch)."""
    gc.collect()
    return len(os.listdir("/proc/self/fd"))


def test_stopping_frees_every_event(watch_child):
    before = fd_count()
    live = wp.WatchLive()
    gen = wp.watch(watch_child.pid, watch_child.watched,
                   8 if watch_child.watched % 8 == 0 else 4, False, live)
    next(gen)
    watch_child.start_thread()
    for _ in range(5):
        next(gen)
    assert fd_count() >= before + 3             # main, worker, late thread
    live.stop()
    run_for(gen)
    assert fd_count() == before
    gen = wp.watch(watch_child.pid, watch_child.watched, 4, False, wp.WatchLive())
    next(gen)
    gen.close()                                 # closed mid-watch (backend shutdown, cancel)
    assert fd_count() == before


def test_a_fifth_watchpoint_on_a_thread_says_there_are_four_debug_registers(watch_child):
    before = fd_count()
    gens = [wp.watch(watch_child.pid, watch_child.watched, 4, False, wp.WatchLive())
            for _ in range(4)]
    for gen in gens:
        next(gen)
    fifth = wp.watch(watch_child.pid, watch_child.progress, 8, False, wp.WatchLive())
    with pytest.raises(WatchpointLimit) as info:
        next(fifth)
    assert info.value.errno == 28 and "4 per thread" in str(info.value)
    for gen in gens:
        gen.close()
    assert fd_count() == before


@pytest.mark.parametrize("address,length,words", [
    (0x1002, 4, "aligned to 4"), (0x1000, 3, "1, 2, 4 or 8"), (0x1004, 8, "aligned to 8")])
def test_bad_length_or_alignment_is_invalid_input(address, length, words):
    with pytest.raises(InvalidInput, match=words):
        next(wp.watch(os.getpid(), address, length, False, wp.WatchLive()))


def test_a_process_that_is_gone_is_target_exited():
    proc = subprocess.Popen(["true"])
    proc.wait()
    from lainview.backend.errors import TargetExited
    with pytest.raises(TargetExited):
        next(wp.watch(proc.pid, 0x1000, 4, False, wp.WatchLive()))


@pytest.mark.skipif(run_as_nobody() is None, reason="needs root to drop to user nobody")
def test_without_permission_the_error_names_what_is_missing(watch_child):
    code = ("import sys; from lainview.backend import watchpoints as wp\n"
            "from lainview.backend.errors import PermissionDenied\n"
            f"try: next(wp.watch({watch_child.pid}, {watch_child.watched}, 4, False, "
            "wp.WatchLive()))\n"
            "except PermissionDenied as e: print(e); sys.exit(3)\n")
    out = subprocess.run([*run_as_nobody(), sys.executable, "-c", code], capture_output=True,
                         text=True, timeout=60, cwd=os.getcwd(),
                         env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert out.returncode == 3, out.stderr
    paranoid = wp.perf_event_paranoid()
    assert "EACCES" in out.stdout or "EPERM" in out.stdout
    assert "without root, CAP_PERFMON or CAP_SYS_ADMIN" in out.stdout
    assert f"kernel.perf_event_paranoid is {paranoid}" in out.stdout
    assert f"process {watch_child.pid} must be one you may ptrace" in out.stdout
    assert issubclass(PermissionDenied, Exception)


# -- the ring parser ----------------------------------------------------------------------------

PAGE = mmap.PAGESIZE


def sample(ip, tid):
    body = ip.to_bytes(8, "little") + (1).to_bytes(4, "little") + tid.to_bytes(4, "little")
    return (wp.PERF_RECORD_SAMPLE.to_bytes(4, "little") + b"\0\0"
            + (8 + len(body)).to_bytes(2, "little") + body)


def lost(n):
    body = (7).to_bytes(8, "little") + n.to_bytes(8, "little")
    return (wp.PERF_RECORD_LOST.to_bytes(4, "little") + b"\0\0"
            + (8 + len(body)).to_bytes(2, "little") + body)


def throttle():
    body = bytes(24)
    return (wp.PERF_RECORD_THROTTLE.to_bytes(4, "little") + b"\0\0"
            + (8 + len(body)).to_bytes(2, "little") + body)


def fake_ring(records: bytes, tail: int):
    """A ring of one data page whose records start at ``tail`` (so they wrap)."""
    buf = mmap.mmap(-1, 2 * PAGE)
    size = PAGE
    for i, byte in enumerate(records):
        buf[PAGE + (tail + i) % size] = byte
    buf[1024:1032] = (tail + len(records)).to_bytes(8, "little")    # data_head
    buf[1032:1040] = tail.to_bytes(8, "little")                     # data_tail
    buf[1040:1048] = PAGE.to_bytes(8, "little")
    buf[1048:1056] = size.to_bytes(8, "little")
    return wp._Ring(-1, 1, buffer=buf), buf


@pytest.mark.parametrize("tail", [0, PAGE - 3, PAGE - 8, PAGE - 12, 5 * PAGE - 30])
def test_ring_records_that_wrap_around_the_end_are_read_whole(tail):
    records = (sample(0x401000, 11) + lost(5) + sample(0x401000, 12) + throttle()
               + sample(0x402000, 11))
    ring, buf = fake_ring(records, tail)
    hits: dict = {}
    assert ring.drain(hits) == (3, 5, 1)
    assert hits == {0x401000: {11: 1, 12: 1}, 0x402000: {11: 1}}
    assert int.from_bytes(buf[1032:1040], "little") == tail + len(records)   # tail advanced
    assert ring.drain(hits) == (0, 0, 0)
    ring.close()
