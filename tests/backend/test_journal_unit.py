"""The one journaled-write unit of work (journal.journaled_write) and the one
revert (journal.revert_entries): process writes and kernel writes go
through the same code, and a revert reaches each entry's kind."""

from __future__ import annotations

import os

import pytest

from lainview.backend.errors import (JournalError, LainviewError, PartialWrite,
                                     VerifyMismatch)
from lainview.backend.journal import (Journal, JournalEntry, RevertOutcome, WriteIntent,
                                      journaled_write, revert_entries)

KERNEL_TARGET = {"kind": "kernel", "symbol": "lainview_var", "module": None}


def intent(new: bytes = b"\x02\x02", **kw) -> WriteIntent:
    return WriteIntent(KERNEL_TARGET, 0x1000, b"\x01\x01", new, **kw)


def test_the_intent_is_on_disk_before_the_write_and_the_outcome_after(tmp_path):
    journal = Journal(tmp_path / "j.jsonl")
    seen: list[int] = []

    def write() -> str:
        # The intent is readable from another Journal on the same file,
        # with no outcome yet, while the write runs.
        [entry] = Journal(journal.path).entries()
        assert entry.id in seen and entry.status is None and entry.new == b"\x02\x02"
        return "written"

    entry_id, result = journaled_write(journal, intent(reverts=None), write,
                                       on_intent=seen.append)
    assert result == "written" and seen == [entry_id]
    [entry] = journal.entries()
    assert (entry.status, entry.written, entry.error) == ("ok", 2, None)


@pytest.mark.parametrize("exc, status, written", [
    (LainviewError("refused"), "failed", 0),
    (PartialWrite("wrote 1 of 2 bytes", written=1), "partial", 1),
    (VerifyMismatch("reads back 0303"), "verify-mismatch", 2),
])
def test_a_failed_write_records_its_outcome_and_raises(tmp_path, exc, status, written):
    journal = Journal(tmp_path / "j.jsonl")

    def write() -> None:
        raise exc
    with pytest.raises(type(exc)):
        journaled_write(journal, intent(), write)
    [entry] = journal.entries()
    assert (entry.status, entry.written, entry.error) == (status, written, str(exc))


def test_no_intent_no_write(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    calls = []
    with pytest.raises(JournalError, match="no write was made"):
        journaled_write(Journal(blocker / "j.jsonl"), intent(), lambda: calls.append(1))
    assert calls == []


class FileKernel:
    """A RevertTarget for kernel entries over a real file: the symbol's
    bytes are the file's first bytes. Writes go through journaled_write."""

    def __init__(self, path, journal: Journal):
        self.path, self.journal, self.closed = path, journal, False

    def gone(self, entry: JournalEntry) -> str | None:
        return None if os.path.exists(self.path) else "the file is gone"

    def current(self, entry: JournalEntry) -> bytes:
        return self.path.read_bytes()[:len(entry.old)]

    def where(self, entry: JournalEntry) -> str:
        return entry.target["symbol"]

    def write(self, data: bytes, reverts: int | None = None) -> int:
        old = self.path.read_bytes()[:len(data)]
        entry_id, _ = journaled_write(
            self.journal, WriteIntent(KERNEL_TARGET, None, old, data, reverts),
            lambda: self.path.write_bytes(data + self.path.read_bytes()[len(data):]))
        return entry_id

    def write_old(self, entry: JournalEntry) -> int:
        return self.write(entry.old, reverts=entry.id)

    def close(self) -> None:
        self.closed = True


def test_one_revert_serves_process_and_kernel_entries_newest_first(backend, child, tmp_path):
    memory = tmp_path / "kernel.bin"
    memory.write_bytes(b"\0" * 8)
    kernel = FileKernel(memory, backend.journal)
    backend.revert_targets["kernel"] = lambda: kernel
    target = backend.attach(child.pid).result(10)
    addr = child.counter + 56
    p1 = target.write(addr, b"PP").result(10).journal_id
    k1 = kernel.write(b"KK")
    p2 = target.write(addr, b"QQ").result(10).journal_id
    assert memory.read_bytes()[:2] == b"KK" and child.peek(addr, 2) == b"QQ"
    # Every write of both kinds, newest first, each by its kind's target.
    out = backend.revert().result(10)
    assert [(o.entry_id, o.status) for o in out] == [(p2, "reverted"), (k1, "reverted"),
                                                      (p1, "reverted")]
    assert out[1].message == "restored 2 bytes of lainview_var" and kernel.closed
    assert memory.read_bytes() == b"\0" * 8 and child.peek(addr, 2) == b"\0\0"
    entries = {e.id: e for e in backend.journal.entries()}
    assert entries[out[1].new_entry_id].reverts == k1
    assert entries[out[1].new_entry_id].kind == "kernel"
    # Done: a second revert finds nothing; by id, "already".
    assert backend.revert().result(10) == []
    [again] = backend.revert([k1]).result(10)
    assert again.status == "already" and again.message == \
        "lainview_var already holds the old bytes"
    # Changed by someone else: a conflict, unless forced.
    k2 = kernel.write(b"ZZ")
    memory.write_bytes(b"XY" + memory.read_bytes()[2:])
    [conflict] = backend.revert([k2], kind="kernel").result(10)
    assert conflict.status == "conflict" and "lainview_var changed since the write" in \
        conflict.message
    [forced] = backend.revert([k2], force=True).result(10)
    assert forced.status == "reverted" and memory.read_bytes()[:2] == b"\0\0"


def test_a_kind_without_a_target_fails_with_why(tmp_path):
    journal = Journal(tmp_path / "j.jsonl")
    entry_id, _ = journaled_write(journal, intent(), lambda: None)

    def broken():
        raise LainviewError("cannot open the kernel source: no kmem device")
    assert revert_entries(journal, {}) == [RevertOutcome(
        entry_id, "failed", "no kernel source here to revert a kernel write")]
    assert revert_entries(journal, {"kernel": broken}) == [RevertOutcome(
        entry_id, "failed", "cannot open the kernel source: no kmem device")]
    with pytest.raises(LainviewError, match="no process write 99"):
        revert_entries(journal, {}, [99], kind="process")
