"""The Backend facade: attach, reads, journaled writes, revert, bulk reads."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from lainview.backend.errors import Cancelled, FaultError, JournalError, TargetExited
from lainview.backend.journal import Journal
from lainview.backend.service import Backend


def test_attach_auto_without_module_uses_proc_and_says_why(backend, child):
    if os.path.isdir("/sys/class/lainko"):
        pytest.skip("the lainko module is loaded here")
    target = backend.attach(child.pid).result(10)
    assert target.info.backend == "procfs"
    assert target.info.reason.startswith("/proc: the lainko module is not loaded")
    assert target.identity.exe == os.path.realpath(sys.executable)


def test_attach_lainmemu_explicitly_without_module_fails_clearly(backend, child):
    if os.path.isdir("/sys/class/lainko"):
        pytest.skip("the lainko module is loaded here")
    from lainview.backend.errors import DeviceUnavailable
    with pytest.raises(DeviceUnavailable, match="uses /proc instead"):
        backend.attach(child.pid, "lainmemu").result(10)


def test_write_is_journaled_before_and_after(backend, child):
    target = backend.attach(child.pid).result(10)
    result = target.write(child.counter + 32, b"\x01\x02\x03").result(10)
    assert child.peek(child.counter + 32, 3) == b"\x01\x02\x03"
    records = [json.loads(line) for line in backend.journal.path.read_text().splitlines()]
    assert [r["type"] for r in records] == ["intent", "outcome"]
    intent, outcome = records
    assert intent["id"] == result.journal_id == outcome["id"]
    assert intent["target"]["pid"] == child.pid and intent["target"]["start_ticks"]
    assert intent["address"] == child.counter + 32
    assert intent["old"] == "000000" and intent["new"] == "010203"
    assert outcome["status"] == "ok" and outcome["written"] == 3


def test_failed_write_is_journaled_as_failed_and_writes_nothing(backend, child):
    target = backend.attach(child.pid).result(10)
    with pytest.raises(FaultError):
        target.write(0x1000, b"\x01").result(10)         # never mapped
    # Unreadable old bytes: refused before any intent, nothing to revert.
    assert backend.journal.entries() == []


def test_journal_unavailable_means_no_write(tmp_path, child):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    b = Backend(journal=Journal(blocker / "journal.jsonl"))
    try:
        target = b.attach(child.pid).result(10)
        with pytest.raises(JournalError, match="no write was made"):
            target.write(child.counter + 40, b"\xff").result(10)
    finally:
        b.shutdown()
    assert child.peek(child.counter + 40, 1) == b"\0"


def test_revert_one_entry_and_all_for_a_pid_in_reverse_order(backend, child):
    target = backend.attach(child.pid).result(10)
    addr = child.counter + 48
    first = target.write(addr, b"AAAA").result(10)
    second = target.write(addr, b"BBBB").result(10)
    target.write(addr + 8, b"CC").result(10)
    out = backend.revert([second.journal_id]).result(10)
    assert [(o.entry_id, o.status) for o in out] == [(second.journal_id, "reverted")]
    assert child.peek(addr, 4) == b"AAAA"
    out = backend.revert(pid=child.pid).result(10)
    assert [o.status for o in out] == ["reverted", "reverted"]
    assert out[0].entry_id > out[1].entry_id == first.journal_id
    assert child.peek(addr, 4) == bytes(4) and child.peek(addr + 8, 2) == bytes(2)


def test_revert_refuses_when_memory_changed_since(backend, child):
    target = backend.attach(child.pid).result(10)
    entry = target.write(child.counter + 8, b"\x05\x00\x00\x00").result(10)
    child.command("tick")   # the child overwrites the same u32 with 1
    (out,) = backend.revert([entry.journal_id]).result(10)
    assert out.status == "conflict" and "changed since the write" in out.message
    assert child.peek(child.counter + 8, 4) == b"\x01\x00\x00\x00"
    (out,) = backend.revert([entry.journal_id], force=True).result(10)
    assert out.status == "reverted" and child.peek(child.counter + 8, 4) == bytes(4)


def test_revert_of_an_exited_process_says_so(backend, child):
    target = backend.attach(child.pid).result(10)
    entry = target.write(child.counter + 8, b"\x09").result(10)
    child.kill()
    (out,) = backend.revert([entry.journal_id]).result(10)
    assert out.status == "gone"


WRITER = textwrap.dedent("""
    import sys
    from lainview.backend.service import Backend
    pid, addr = int(sys.argv[1]), int(sys.argv[2])
    backend = Backend()
    target = backend.attach(pid).result()
    target.write(addr, b"\\x11\\x11").result()
    print("first", flush=True)
    sys.stdin.readline()          # killed here, between two writes
    target.write(addr + 2, b"\\x22\\x22").result()
""")


def test_revert_after_the_writer_was_killed_between_two_writes(backend, child):
    addr = child.counter + 64
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(child.pid), str(addr)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "first"
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.wait(10)
    assert child.peek(addr, 4) == b"\x11\x11\0\0"
    # An intent recorded by a writer that died before writing reads as unknown.
    backend.journal.record_intent(target={"kind": "process", "pid": child.pid},
                                  address=addr + 2, old=b"\0\0", new=b"\x33\x33")
    entries = backend.journal_entries(child.pid).result(10)
    assert [e.status for e in entries] == ["ok", None]
    out = backend.revert(pid=child.pid).result(10)
    assert [o.status for o in out] == ["already", "reverted"]
    assert child.peek(addr, 4) == bytes(4)


def test_journal_ids_are_unique_across_instances(tmp_path):
    path = tmp_path / "j.jsonl"
    a, b = Journal(path), Journal(path)
    ids = [j.record_intent(target={"pid": 1}, address=0, old=b"", new=b"")
           for j in (a, b, a, b)]
    assert ids == [1, 2, 3, 4]
    a.close(), b.close()


def test_bulk_read_reports_holes_and_feeds_the_consumer(backend, child):
    target = backend.attach(child.pid).result(10)
    chunks = []
    stats = target.read_bulk(child.base, 4 * child.page,
                             lambda a, v, h: chunks.append((a, bytes(v[:4]), h)),
                             chunk_size=child.page).result(10)
    assert [c[0] for c in chunks] == [child.base + i * child.page for i in range(4)]
    assert chunks[0][1] == b"\0\1\2\3" and chunks[2][1] == b"READ"
    assert stats.unreadable == child.page and stats.holes[0].address == child.guard


def test_running_bulk_read_can_be_cancelled(backend, child):
    import threading
    target = backend.attach(child.pid).result(10)
    first_chunk = threading.Event()
    resume = threading.Event()

    def consumer(address, view, holes):
        first_chunk.set()
        resume.wait(5)

    future = target.read_bulk(child.base, 1 << 30, consumer, chunk_size=child.page)
    assert first_chunk.wait(10)
    future.cancel()
    resume.set()
    with pytest.raises(Cancelled):
        future.result(10)
    assert future.progress[0] <= 2 * child.page


def test_read_many_returns_errors_per_item(backend, child):
    target = backend.attach(child.pid).result(10)
    a, hole = target.read_many([(child.base, 2), (0x1000, 2)]).result(10)
    assert a.data == b"\0\1" and hole.byte_at(0x1000) is None


def test_target_exit_through_the_facade(backend, child):
    target = backend.attach(child.pid).result(10)
    child.kill()
    with pytest.raises(TargetExited):
        target.read(child.base, 4).result(10)


def test_a_revert_is_journaled_at_the_location_the_write_was_given(backend, child):
    """The entry of a revert keeps the original entry's location in its
    words (``libc.so.6+0x…``), not the full path the map would give."""
    import os
    from lainview.backend.locations import Location, parse_location
    from lainview.backend.memory import Perm
    target = backend.attach(child.pid).result(10)
    areas = target.areas().result(10)
    libc = [a for a in areas if os.path.basename(a.path).startswith("libc.so")]
    if not libc:
        pytest.skip("the child has no libc.so mapping")
    rw = [a for a in libc if a.perms & Perm.WRITE][-1]
    address = rw.end - 8                      # the end of libc's writable data
    where = parse_location(f"{os.path.basename(rw.path)}+{address - min(a.start for a in libc):#x}")
    old = child.peek(address, 1)
    wrote = target.write_location(where, bytes([old[0] ^ 0x5a])).result(10)
    assert Location.from_json(backend.journal_entries(pid=child.pid).result(10)[-1].location) \
        == where
    [outcome] = backend.revert([wrote.journal_id]).result(10)
    assert outcome.status == "reverted" and child.peek(address, 1) == old
    [entry] = [e for e in backend.journal_entries(pid=child.pid).result(10)
               if e.reverts == wrote.journal_id]
    assert Location.from_json(entry.location) == where          # libc.so.6, as given
