"""The write journal: every write is recorded before it is attempted.

An append-only JSON Lines file in the user's state directory
(``$XDG_STATE_HOME/lainview/journal.jsonl``). Each write appends an
``intent`` record and fsyncs it *before* the write; the ``outcome`` is
appended after. A writer killed in between leaves an intent with no outcome,
which ``revert`` still handles by comparing the target's bytes with the old
and new ones. Several lainview processes may share the file: appends are
serialised with flock.

Record kinds (one JSON object per line, keys in this order for intents)::

    {"type":"intent","id":N,"time":T,"target":{...},"address":A,
     "old":"hex","new":"hex","reverts":M|null[,"location":{...}]}
    {"type":"outcome","id":N,"time":T,"status":"ok"|"failed"|"partial"|
     "verify-mismatch","written":W,"error":"..."|null[,"rewrites":R,"ended":T]}

A *freeze* (the watch list holding a value) is one entry: its intent
(``"freeze": true``; the bytes before the freeze and the held bytes) is on
disk before its first write, its re-writes are covered by it, and a later
outcome record carries ``rewrites`` (how many times the value was written)
and ``ended`` (when the freeze stopped); the newest outcome of an id wins
(:class:`OpenFreezes` keeps the open ones).

What the journal promises (README, "The write journal"):

- ``record_intent`` returns only once the whole record is on disk (every
  byte written, then fsync). If the disk is full or the file cannot be
  written, the partial record is cut off again and JournalError is raised:
  the caller must not write.
- Before appending, a damaged end of file (a line torn by a crash, or NUL
  bytes) is terminated so the new record starts on a line of its own; the
  damaged line is skipped on reading and reported (:attr:`Journal.notices`).
- Reading validates every record; lines of the wrong syntax or shape are
  skipped and reported as :class:`JournalProblem`, never raised.
- The file is opened without following symlinks, must be a regular file
  owned by the user, in a directory only the user can write (``files.py``).
- Listing streams: memory is bounded by a few bytes per entry id. A reader
  reads up to where the file ended while no append was under way (it takes
  the lock shared for a moment), so a concurrent append is never read as
  damage.

The API other parts build on: :func:`journaled_write` (the one unit of work
of every write, to a process or to the kernel: intent on disk, the write,
its outcome), :func:`revert_entries` (the one revert: reads each entry and
hands it to the :class:`RevertTarget` of its target kind), ``record_intent``
and ``record_outcome`` underneath them,
``iter_entries``/``entries``/``revertible``/``entry`` (reading),
``take_notices`` (repairs to show the user) and ``problems`` (what the last
read skipped).
"""

from __future__ import annotations

import array
import enum
import errno as _errno
import fcntl
import json
import math
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Protocol, TypeVar

from .errors import (InvalidInput, JournalError, LainviewError, NoSuchSymbol, TargetExited,
                     VerifyMismatch)
from .files import ensure_private_dir, open_state_file
from .memory import WriteStatus
from .wording import counted

if TYPE_CHECKING:
    from .locations import Location

BLOCK = 1 << 20
# A longer line is damaged: the largest write lainview journals is far smaller.
MAX_LINE = 64 << 20
_INTENT_PREFIX = re.compile(rb'\{"type":"intent","id":(\d{1,18})[,}]')
_OUTCOME_PREFIX = b'{"type":"outcome",'
# An outcome exactly as lainview writes it without an error: read without
# JSON. Compiled when the journal is first read (compiling it was a third of
# importing this module, which every CLI write does).
_OUTCOME_FAST_PATTERN = (rb'\{"type":"outcome","id":([1-9]\d{0,17}),"time":[0-9.eE+-]{1,32},'
                         rb'"status":"([A-Za-z0-9_-]{1,64})","written":(\d{1,18}|null),'
                         rb'"error":null\}')
_MAX_INT = 1 << 64


def default_journal_path() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local",
                                                          "state")
    return Path(base) / "lainview" / "journal.jsonl"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One write as the journal knows it. ``status`` is None when the
    writer died before recording an outcome."""

    id: int
    time: float
    target: dict[str, Any]
    address: int | None
    old: bytes
    new: bytes
    reverts: int | None = None
    location: dict[str, Any] | None = None     # where the bytes are, ASLR-proof (locations.py)
    status: str | None = None
    written: int | None = None
    error: str | None = None
    freeze: bool = False             # a freeze: one entry for all its re-writes
    rewrites: int | None = None      # a freeze's writes so far (or in all, once ended)
    ended: float | None = None       # when a freeze stopped (None: holding, or died)

    @property
    def pid(self) -> int | None:
        return self.target.get("pid")

    @property
    def kind(self) -> str:
        kind: str = self.target.get("kind", "process")
        return kind

    @property
    def label(self) -> str:
        if self.kind == "kernel":
            sym = self.target.get("symbol", "?")
            mod = self.target.get("module")
            return f"kernel {mod + ':' if mod else ''}{sym}"
        return f"pid {self.pid} {os.path.basename(self.target.get('exe') or '')}".rstrip()

    @property
    def where(self) -> str:
        """Where the write went, as the journal's views show it: a kernel
        write's symbol (and address); a process write's address, then the
        location it was given when that says more (``0x5648…
        [heap]+0x100000``, ``0x7f… libgame.so+0x1f40``)."""
        addr = "?" if self.address is None else f"{self.address:#x}"
        if self.kind == "kernel":
            sym = self.target.get("symbol", "?")
            return sym if self.address is None else f"{sym} ({addr})"
        place = self.place
        if place is None:
            return addr
        return addr if place.kind == "absolute" and not place.steps else f"{addr} {place.text}"

    @property
    def place(self) -> Location | None:
        """The location the entry kept (``location``), or None when it kept
        none or one that does not read as a location."""
        if self.location is None:
            return None
        from .locations import Location       # here: a write imports no location code
        try:
            return Location.from_json(self.location)
        except InvalidInput:
            return None

    @property
    def freeze_text(self) -> str | None:
        """How a freeze entry is said (None for an ordinary write): "freeze
        ended HH:MM:SS after N writes", or "freeze (holding, or lainview
        stopped before its end)". The count of writes is recorded when the
        freeze ends. One wording for the CLI's ``journal`` and the GUI's dock."""
        if not self.freeze:
            return None
        if self.ended is None:
            return "freeze (holding, or lainview stopped before its end)"
        n = self.rewrites or 0
        return (f"freeze ended {time.strftime('%H:%M:%S', time.localtime(self.ended))} "
                f"after {n} write{'' if n == 1 else 's'}")

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "time": self.time, "target": self.target,
                "address": self.address, "old": self.old.hex(), "new": self.new.hex(),
                "reverts": self.reverts, "location": self.location, "status": self.status, "written": self.written,
                "error": self.error, "freeze": self.freeze, "rewrites": self.rewrites,
                "ended": self.ended}


@dataclass(frozen=True, slots=True)
class JournalProblem:
    """A line of the journal that was skipped: 1-based line number, byte
    offset of its start, and why."""

    line: int
    offset: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line} (byte {self.offset}): {self.reason}"


@dataclass
class JournalProblems:
    """The skipped lines of one read: how many, and the first few."""

    count: int = 0
    first: list[JournalProblem] = field(default_factory=list)
    keep: int = 20

    def add(self, problem: JournalProblem) -> None:
        self.count += 1
        if len(self.first) < self.keep:
            self.first.append(problem)

    def __bool__(self) -> bool:
        return self.count > 0

    def summary(self, path: str | os.PathLike[str]) -> str:
        """One line for the user, e.g. "skipped 2 damaged lines of PATH
        (line 3 (byte 120): not JSON; ...)"."""
        shown = "; ".join(str(p) for p in self.first[:3])
        more = ", ..." if self.count > 3 else ""
        return (f"skipped {self.count} damaged line{'s' if self.count != 1 else ''} of "
                f"{path} ({shown}{more})")


class Journal:
    """Append-only, fsynced write journal (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = Path(path) if path else default_journal_path()
        self._fd: int | None = None
        self.notices: list[str] = []      # repairs made while appending, for the user
        self.problems = JournalProblems()  # what the last full read skipped

    # -- opening ------------------------------------------------------------------------------
    def _open(self) -> int:
        if self._fd is None:
            ensure_private_dir(self.path.parent, error=JournalError)
            self._fd = open_state_file(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT,
                                       error=JournalError)
        return self._fd

    # -- appending ----------------------------------------------------------------------------
    def _append(self, record: dict[str, Any], *, assign_id: bool) -> int | None:
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                start = self._end_on_boundary(fd)
                if assign_id:
                    record["id"] = self._last_id(fd, start) + 1
                data = (json.dumps(record, separators=(",", ":")) + "\n").encode()
                self._write_whole(fd, data, start)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        except OSError as exc:
            raise JournalError(f"cannot append to the write journal {self.path}: "
                               f"{exc.strerror or exc}", op="journal",
                               errno=exc.errno) from None
        return record.get("id")

    def _write_whole(self, fd: int, data: bytes, start: int) -> None:
        """Append ``data`` and fsync, or leave the file as it was (ending at
        ``start``) and raise JournalError saying why."""
        done = 0
        try:
            while done < len(data):
                n = os.write(fd, data[done:])
                if n <= 0:
                    raise OSError(_errno.ENOSPC, "the file system took no more bytes")
                done += n
            os.fsync(fd)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            try:
                os.ftruncate(fd, start)
                os.fsync(fd)
                undone = "cut off again"
            except OSError:
                undone = "left as a damaged line, skipped on reading"
            raise JournalError(
                f"cannot append to the write journal {self.path}: {reason} (only {done} "
                f"of {len(data)} bytes of the record reached the file; {undone})",
                op="journal", errno=exc.errno) from None

    def _end_on_boundary(self, fd: int) -> int:
        """Make the file end with a newline, terminating a damaged last line
        (torn by a crash, NUL bytes); returns the size. Linear in the
        damaged line's length."""
        size = os.fstat(fd).st_size
        if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
            return size
        line_start = _line_start(fd, size)
        self._write_whole(fd, b"\n", size)
        self.notices.append(
            f"the write journal {self.path} ended in a damaged line ({size - line_start} "
            f"bytes from byte {line_start}, torn by a crash or filled with NUL bytes); "
            "it was terminated and is skipped on reading")
        return size + 1

    def _last_id(self, fd: int, end: int) -> int:
        """The id of the last intent before ``end`` (a line boundary), read
        backwards block by block: linear in the bytes after that intent,
        whatever they hold (one torn line of 16 MB is read once)."""
        line_end = end              # the line looked at is [start, line_end)
        at = max(0, end - 1)        # the newline at end-1 ends the last line
        while at > 0:
            step = min(BLOCK, at)
            at -= step
            block = os.pread(fd, step, at)
            i = len(block)
            while (nl := block.rfind(b"\n", 0, i)) >= 0:
                start = at + nl + 1
                k = min(64, line_end - start)
                head = block[nl + 1:nl + 1 + k]
                if len(head) < k:
                    head = os.pread(fd, k, start)
                found = _intent_id(fd, start, line_end, head)
                if found is not None:
                    return found
                line_end, i = start, nl
        if line_end == 0:
            return 0
        return _intent_id(fd, 0, line_end, os.pread(fd, min(64, line_end), 0)) or 0

    def record_intent(self, *, target: dict[str, Any], address: int | None, old: bytes,
                      new: bytes, reverts: int | None = None,
                      location: dict[str, Any] | None = None,
                      freeze: bool = False) -> int:
        """Append and fsync the intent of a write; returns its id. Raises
        JournalError (saying why, e.g. the disk is full), in which case
        nothing of the record stays in the file and the write must not be
        made. ``location`` says where the bytes are in a form a later run
        can resolve (for patches). ``freeze``: the intent of a freeze, which
        covers every re-write of ``new`` until its end is recorded."""
        record: dict[str, Any] = {"type": "intent", "id": 0, "time": time.time(), "target": target,
                  "address": address, "old": old.hex(), "new": new.hex(), "reverts": reverts}
        if location is not None:
            record["location"] = location
        if freeze:
            record["freeze"] = True
        try:
            entry_id = self._append(record, assign_id=True)
            assert entry_id is not None     # assign_id: the id given
            return entry_id
        except JournalError as exc:
            raise JournalError(f"{exc.message}; no write was made", op="journal",
                               errno=exc.errno) from None

    def record_outcome(self, entry_id: int, status: WriteStatus, written: int,
                       error: str | None = None, *, rewrites: int | None = None,
                       ended: float | None = None) -> None:
        """Append the outcome of intent ``entry_id``. For a freeze,
        ``rewrites`` counts its writes so far and ``ended`` (a time) says it
        stopped; a later outcome for the same id replaces an earlier one.
        Raises JournalError; the intent stays, so the entry reads as
        "unknown" and is revertible."""
        record = {"type": "outcome", "id": entry_id, "time": time.time(),
                  "status": status, "written": written, "error": error}
        if rewrites is not None:
            record["rewrites"] = rewrites
        if ended is not None:
            record["ended"] = ended
        self._append(record, assign_id=False)

    def take_notices(self) -> list[str]:
        """The repairs made while appending since the last call (and forget them)."""
        out, self.notices = self.notices, []
        return out

    # -- reading ------------------------------------------------------------------------------
    def iter_entries(self, *, pid: int | None = None,
                     problems: JournalProblems | None = None) -> Iterator[JournalEntry]:
        """Every write, oldest first (with ``pid``: only those to that
        process), streamed: two passes over the file, memory bounded by a
        few bytes per entry id. Damaged lines are skipped and counted in
        ``problems``. Raises JournalError if the file cannot be opened (a
        missing file is an empty journal)."""
        problems = problems if problems is not None else JournalProblems()
        fd = self._open_for_reading()
        if fd is None:
            return
        try:
            # Read up to where the file ended while no append was under way
            # (appends hold the lock exclusively): no half-written record of
            # a concurrent writer is mistaken for a damaged line.
            fcntl.flock(fd, fcntl.LOCK_SH)
            try:
                end = os.fstat(fd).st_size
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
            # Pass 1: the outcomes, by id. Lines in lainview's own outcome
            # form are settled here (and reported here if damaged).
            outcomes = _Outcomes()
            outcome_fast = re.compile(_OUTCOME_FAST_PATTERN)      # cached by re after the first
            for number, offset, line in _lines(fd, end):
                if line.startswith(_OUTCOME_PREFIX):
                    m = outcome_fast.fullmatch(line)
                    if m:
                        written = m.group(3)
                        outcomes.put(int(m.group(1)), m.group(2).decode(),
                                     None if written == b"null" else int(written), None)
                        continue
                    rec = _parse(line)
                    reason = rec if isinstance(rec, str) else (
                        "not an outcome record" if not isinstance(rec, dict)
                        or rec.get("type") != "outcome" else _outcome_problem(rec))
                    if reason is None:
                        outcomes.put(rec["id"], rec["status"], rec.get("written"),
                                     rec.get("error"), rec.get("rewrites"), rec.get("ended"))
                    else:
                        problems.add(JournalProblem(number, offset, reason))
                elif b'"outcome"' in line and not _INTENT_PREFIX.match(line):
                    rec = _parse(line)      # an outcome in another key order
                    if isinstance(rec, dict) and rec.get("type") == "outcome" \
                            and _outcome_problem(rec) is None:
                        outcomes.put(rec["id"], rec["status"], rec.get("written"),
                                     rec.get("error"), rec.get("rewrites"), rec.get("ended"))
            # Pass 2: the intents, in file (= id) order, joined to their outcome.
            last_id = 0
            for number, offset, line in _lines(fd, end):
                if line.startswith(_OUTCOME_PREFIX) or not line.strip():
                    continue                  # settled in pass 1; a blank line holds nothing
                rec = _parse(line)
                if isinstance(rec, str):
                    problems.add(JournalProblem(number, offset, rec))
                    continue
                if isinstance(rec, dict) and rec.get("type") == "outcome" \
                        and _outcome_problem(rec) is None:
                    continue
                reason = _intent_problem(rec)
                if reason is None and rec["id"] <= last_id:
                    reason = f"id {rec['id']} is not above the previous intent's id {last_id}"
                if reason is not None:
                    problems.add(JournalProblem(number, offset, reason))
                    continue
                last_id = rec["id"]
                if pid is not None and rec["target"].get("pid") != pid:
                    continue
                status, written, error, rewrites, ended = outcomes.get(rec["id"])
                yield JournalEntry(
                    id=rec["id"], time=rec["time"], target=rec["target"],
                    address=rec["address"], old=bytes.fromhex(rec["old"]),
                    new=bytes.fromhex(rec["new"]), reverts=rec.get("reverts"),
                    location=rec.get("location"), status=status, written=written, error=error,
                    freeze=rec.get("freeze", False), rewrites=rewrites, ended=ended)
        finally:
            os.close(fd)

    def _open_for_reading(self) -> int | None:
        if not os.path.lexists(self.path):
            return None
        ensure_private_dir(self.path.parent, error=JournalError)
        try:
            return open_state_file(self.path, os.O_RDONLY, error=JournalError)
        except JournalError as exc:
            if exc.errno == _errno.ENOENT:
                return None
            raise

    def entries(self, *, pid: int | None = None) -> list[JournalEntry]:
        """All writes, oldest first; with ``pid``, only those to that
        process. What was skipped is in :attr:`problems`."""
        problems = JournalProblems()
        out = list(self.iter_entries(pid=pid, problems=problems))
        self.problems = problems
        return out

    def revertible(self, kind: str | None = None, entry_ids: list[int] | None = None, *,
                   pid: int | None = None) -> list[JournalEntry]:
        """The entries a revert should undo, newest first, of target
        ``kind`` ("process", "kernel"; None: every kind). With ids: exactly
        those (InvalidInput for an unknown id). Without: every write that is
        not itself a revert and has not been reverted. Writes that failed
        wrote nothing and are left out."""
        problems = JournalProblems()
        if entry_ids is not None:
            wanted = set(entry_ids)
            entries = [e for e in self.iter_entries(pid=pid, problems=problems)
                       if kind in (None, e.kind) and e.id in wanted]
            known = {e.id for e in entries}
            missing = [i for i in entry_ids if i not in known]
            if missing:
                raise InvalidInput(f"no {kind + ' ' if kind else ''}write {missing[0]} in "
                                   f"{self.path}")
        else:
            entries, reverted = [], set()
            for e in self.iter_entries(pid=pid, problems=problems):
                if kind not in (None, e.kind):
                    continue
                if e.reverts is not None:
                    reverted.add(e.reverts)
                elif e.status != "failed":
                    entries.append(e)
            entries = [e for e in entries if e.id not in reverted]
        self.problems = problems
        return sorted((e for e in entries if e.status != "failed"),
                      key=lambda e: e.id, reverse=True)

    def entry(self, entry_id: int) -> JournalEntry:
        for entry in self.iter_entries():
            if entry.id == entry_id:
                return entry
        raise InvalidInput(f"no journal entry {entry_id} in {self.path}")

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class OpenFreezes:
    """The freezes under way, each one journal entry (see the module's
    docstring): :meth:`begin` journals the intent before the first write,
    :meth:`check` refuses a write that no open freeze covers, :meth:`wrote`
    counts, :meth:`end` records the outcome with the count and the time.
    Used on the backend thread only, for processes and the kernel alike."""

    def __init__(self, journal: Journal):
        self.journal = journal
        self._open: dict[int, list[Any]] = {}     # journal id -> [key, held bytes, rewrites]

    def begin(self, key: tuple[object, ...], *, target: dict[str, Any], address: int | None,
              old: bytes, held: bytes, location: dict[str, Any] | None = None) -> int:
        """Journal a freeze of ``held`` over ``old`` at ``key`` (what it
        writes: an address, or a symbol); its id. JournalError: nothing may
        be written."""
        journal_id = self.journal.record_intent(target=target, address=address, old=old,
                                                new=held, location=location, freeze=True)
        self._open[journal_id] = [key, bytes(held), 0]
        return journal_id

    def check(self, journal_id: int, key: tuple[object, ...], data: bytes) -> None:
        """InvalidInput unless ``journal_id`` is an open freeze of ``data`` at ``key``."""
        freeze = self._open.get(journal_id)
        if freeze is None or freeze[0] != key or freeze[1] != bytes(data):
            raise InvalidInput(f"journal entry {journal_id} is not an open freeze of "
                               f"{bytes(data).hex()} there: the write is not journaled",
                               op="write")

    def wrote(self, journal_id: int) -> int:
        """Count one write of the freeze (the first also records an outcome)."""
        freeze = self._open[journal_id]
        freeze[2] += 1
        if freeze[2] == 1:
            self._outcome(journal_id, WriteStatus.OK, len(freeze[1]), None, 1, None)
        rewrites: int = freeze[2]
        return rewrites

    def end(self, journal_id: int, error: str | None = None) -> int | None:
        """Record that the freeze stopped (``error``: why, when the user did
        not choose it); how many times it wrote, None if it was not open."""
        freeze = self._open.pop(journal_id, None)
        if freeze is None:
            return None
        rewrites: int = freeze[2]
        self._outcome(journal_id, WriteStatus.OK if rewrites else WriteStatus.FAILED,
                      len(freeze[1]) if rewrites else 0, error, rewrites, time.time())
        return rewrites

    def end_all(self, why: str) -> None:
        for journal_id in list(self._open):
            self.end(journal_id, why)

    def _outcome(self, journal_id: int, status: WriteStatus, written: int, error: str | None,
                 rewrites: int, ended: float | None) -> None:
        try:
            self.journal.record_outcome(journal_id, status, written, error,
                                        rewrites=rewrites, ended=ended)
        except JournalError:
            pass        # the intent is on disk: the freeze stays revertible


# -- the unit of work of every write -----------------------------------------------------------

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class WriteIntent:
    """What a write is about to do, as the journal records it: ``target``
    (a process identity, or a kernel symbol), ``address`` (None when the
    kernel does not say), the ``old`` bytes there now and the ``new`` ones,
    ``reverts`` (the entry this write undoes) and ``location`` (ASLR-proof,
    for patches)."""

    target: dict[str, Any]
    address: int | None
    old: bytes
    new: bytes
    reverts: int | None = None
    location: dict[str, Any] | None = None


def journaled_write(journal: Journal, intent: WriteIntent, write: Callable[[], T], *,
                    on_intent: Callable[[int], None] | None = None) -> tuple[int, T]:
    """The one unit of work of every write, to a process or to the kernel:
    record ``intent`` (fsynced: JournalError = nothing written), call
    ``write`` (it makes the write and reads it back), record the outcome
    ("ok", "verify-mismatch", "partial" with the ``written`` bytes of a
    PartialWrite, or "failed") and return (journal id, what ``write``
    returned). ``on_intent`` receives the id as soon as the intent is on
    disk, so a caller knows it when the write then fails. A LainviewError
    from ``write`` is raised again once its outcome is recorded; an outcome
    that cannot be recorded leaves the entry "unknown", still revertible."""
    entry_id = journal.record_intent(target=intent.target, address=intent.address,
                                     old=intent.old, new=intent.new, reverts=intent.reverts,
                                     location=intent.location)
    if on_intent is not None:
        on_intent(entry_id)
    try:
        result = write()
    except LainviewError as exc:
        status: WriteStatus
        if isinstance(exc, VerifyMismatch):
            status, written = WriteStatus.VERIFY_MISMATCH, len(intent.new)
        else:
            written = getattr(exc, "written", 0) or 0
            status = WriteStatus.PARTIAL if written else WriteStatus.FAILED
        _quiet_outcome(journal, entry_id, status, written, str(exc))
        raise
    _quiet_outcome(journal, entry_id, WriteStatus.OK, len(intent.new), None)
    return entry_id, result


def _quiet_outcome(journal: Journal, entry_id: int, status: WriteStatus, written: int,
                   error: str | None) -> None:
    try:
        journal.record_outcome(entry_id, status, written, error)
    except JournalError:
        pass    # the intent is on disk: the entry reads as "unknown" and stays revertible


# -- the one revert ---------------------------------------------------------------------------

class RevertStatus(enum.StrEnum):
    """What reverting one journaled write did."""

    REVERTED = "reverted"       # the old bytes are back (a new journal entry)
    ALREADY = "already"         # memory already held them
    CONFLICT = "conflict"       # memory changed since the write; not forced
    GONE = "gone"               # the process exited, or the machine rebooted
    FAILED = "failed"           # the revert itself failed (the message says why)


@dataclass(frozen=True, slots=True)
class RevertOutcome:
    """What reverting journal entry ``entry_id`` did; ``new_entry_id`` is
    the journaled write that put the old bytes back."""

    entry_id: int
    status: RevertStatus
    message: str
    new_entry_id: int | None = None


class RevertTarget(Protocol):
    """How entries of one target kind are reverted (service.py: processes,
    kernel.py: the kernel). Used on the backend thread, for one revert."""

    def gone(self, entry: JournalEntry) -> str | None:
        """Why the written target no longer exists (nothing to revert), or None."""

    def current(self, entry: JournalEntry) -> bytes | RevertOutcome:
        """The bytes the target holds now where ``entry`` wrote, or the
        outcome that ends the revert there (e.g. a pointer that moved).
        Raises LainviewError."""

    def where(self, entry: JournalEntry) -> str:
        """How the written place is named in messages ("memory at 0x1000")."""

    def write_old(self, entry: JournalEntry) -> int | None:
        """Put ``entry.old`` back through :func:`journaled_write` (``reverts``
        = ``entry.id``); the new entry's id. Raises LainviewError."""

    def close(self) -> None:
        """Release what the revert opened."""


def revert_entries(journal: Journal, targets: Mapping[str, Callable[[], RevertTarget]],
                   entry_ids: list[int] | None = None, *, kind: str | None = None,
                   pid: int | None = None, force: bool = False) -> list[RevertOutcome]:
    """Undo journaled writes, newest first (:meth:`Journal.revertible`
    chooses them), each through the RevertTarget its kind's factory in
    ``targets`` makes (made once, on the first entry of that kind, and
    closed at the end). An entry whose kind has no factory, or whose
    factory fails, is "failed" with why. Without ``force`` bytes that are
    neither old nor new are a "conflict", left alone."""
    opened: dict[str, RevertTarget | str] = {}
    outcomes: list[RevertOutcome] = []
    try:
        for entry in journal.revertible(kind, entry_ids, pid=pid):
            if entry.kind not in opened:
                factory = targets.get(entry.kind)
                try:
                    opened[entry.kind] = (factory() if factory is not None else
                                          f"no {entry.kind} source here to revert a "
                                          f"{entry.kind} write")
                except LainviewError as exc:
                    opened[entry.kind] = str(exc)
            target = opened[entry.kind]
            if isinstance(target, str):
                outcomes.append(RevertOutcome(entry.id, RevertStatus.FAILED, target))
            else:
                outcomes.append(_revert_one(entry, target, force))
    finally:
        for target in opened.values():
            if not isinstance(target, str):
                target.close()
    return outcomes


def _revert_one(entry: JournalEntry, target: RevertTarget, force: bool) -> RevertOutcome:
    gone = target.gone(entry)
    if gone:
        return RevertOutcome(entry.id, RevertStatus.GONE, gone)
    try:
        current = target.current(entry)
        if isinstance(current, RevertOutcome):
            return current
        where = target.where(entry)
        plan = revert_plan(entry, current)
        if plan == "done":
            return RevertOutcome(entry.id, RevertStatus.ALREADY,
                                 f"{where} already holds the old bytes")
        if plan == "conflict" and not force:
            return RevertOutcome(
                entry.id, RevertStatus.CONFLICT,
                f"{where} changed since the write (now {current.hex()}, wrote "
                f"{entry.new.hex()}); use --force to revert anyway")
        new_id = target.write_old(entry)
        return RevertOutcome(entry.id, RevertStatus.REVERTED,
                             f"restored {counted(len(entry.old), 'byte')} of {where}", new_id)
    except (NoSuchSymbol, TargetExited) as exc:
        return RevertOutcome(entry.id, RevertStatus.GONE, str(exc))
    except LainviewError as exc:
        status = RevertStatus.GONE if exc.errno == _errno.ESRCH else RevertStatus.FAILED
        return RevertOutcome(entry.id, status, str(exc))


def revert_plan(entry: JournalEntry, current: bytes) -> str:
    """What reverting ``entry`` means given the target's bytes now:
    "write" (put the old bytes back), "done" (already old), or "conflict"
    (some byte is neither old nor new: someone else changed it since)."""
    if current == entry.old:
        return "done"
    if all(c == o or c == n for c, o, n in zip(current, entry.old, entry.new)):
        return "write"
    return "conflict"


# -- reading helpers ---------------------------------------------------------------------------
def _intent_id(fd: int, start: int, end: int, head: bytes) -> int | None:
    """The id of the intent on line [start, end) whose first bytes are
    ``head``, or None if it is not an intent."""
    m = _INTENT_PREFIX.match(head)
    if m:
        return int(m.group(1))
    if not head.startswith(b"{") or head.startswith(_OUTCOME_PREFIX) or end - start > MAX_LINE:
        return None
    # Not in lainview's own key order (edited by hand): parse it whole.
    rec = _parse(os.pread(fd, end - start, start))
    if isinstance(rec, dict) and rec.get("type") == "intent" and _is_id(rec.get("id")):
        entry_id: int = rec["id"]
        return entry_id
    return None


def _line_start(fd: int, end: int) -> int:
    """Where the line that runs up to ``end`` starts: after the last newline
    before ``end`` (0 if none). Reads backwards block by block: linear."""
    pos = end
    while pos > 0:
        step = min(BLOCK, pos)
        pos -= step
        nl = os.pread(fd, step, pos).rfind(b"\n")
        if nl >= 0:
            return pos + nl + 1
    return 0


def _lines(fd: int, end: int) -> Iterator[tuple[int, int, bytes]]:
    """(line number, byte offset, line without its newline), in bounded
    memory: a line longer than MAX_LINE comes back as b"" plus a marker
    the parser rejects."""
    offset, number, pos = 0, 0, 0
    pending: list[bytes] = []
    pending_len = 0
    too_long = False
    while True:
        chunk = os.pread(fd, min(BLOCK, end - pos), pos) if pos < end else b""
        if not chunk:
            break
        pos += len(chunk)
        start = 0
        while True:
            nl = chunk.find(b"\n", start)
            if nl < 0:
                if not too_long and start < len(chunk):
                    pending.append(chunk[start:])
                    pending_len += len(chunk) - start
                    if pending_len > MAX_LINE:
                        pending, too_long = [], True
                break
            number += 1
            if too_long:
                yield number, offset, _TOO_LONG
            else:
                line = b"".join(pending) + chunk[start:nl] if pending else chunk[start:nl]
                yield number, offset, line
            offset = pos - len(chunk) + nl + 1
            pending, pending_len, too_long = [], 0, False
            start = nl + 1
    if pending or too_long:
        yield number + 1, offset, _TOO_LONG if too_long else b"".join(pending)


_TOO_LONG = b"\0too long"


def _parse(line: bytes) -> Any:
    """The JSON value of a line, or a string saying why there is none."""
    if line is _TOO_LONG:
        return f"longer than {MAX_LINE} bytes"
    if not line.strip():
        return "empty line"
    if b"\0" in line:
        return "NUL bytes (a crash left the end of the file unwritten)"
    try:
        return json.loads(line)
    except RecursionError:
        return "nested too deeply"
    except ValueError as exc:
        return f"not a JSON record ({exc.args[0] if exc.args else exc}; torn by a crash?)"


def _is_id(value: object) -> bool:
    return type(value) is int and 0 < value < 1 << 63


# Times are seconds since the epoch, shown as local dates: a record's time
# must be one the platform can show (year 1970 to 9999).
_LAST_TIME = 253402300799


def _is_time(value: object) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and 0 <= value <= _LAST_TIME)


def _hex_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return "not a hex string"
    try:
        bytes.fromhex(value)
    except ValueError:
        return "malformed hex"
    return None


def _intent_problem(rec: object) -> str | None:
    """Why ``rec`` is not a usable intent record, or None."""
    if not isinstance(rec, dict):
        return f"not a record (a JSON {type(rec).__name__})"
    if rec.get("type") != "intent":
        return f"unknown record type {str(rec.get('type'))[:40]!r}"
    if not _is_id(rec.get("id")):
        return f"intent id {str(rec.get('id'))[:40]!r} is not a positive integer"
    if not _is_time(rec.get("time")):
        return "intent without a valid time"
    target = rec.get("target")
    if not isinstance(target, dict):
        return "intent without a target"
    kind = target.get("kind", "process")
    if kind == "process":
        if not _is_id(target.get("pid")):
            return "process intent without a valid pid"
        if not isinstance(target.get("exe"), (str, type(None))) or \
                not isinstance(target.get("start_ticks"), (int, type(None))):
            return "process intent with a malformed target"
    elif kind == "kernel":
        if not isinstance(target.get("symbol"), str) or \
                not isinstance(target.get("module"), (str, type(None))):
            return "kernel intent without a symbol"
    else:
        return f"unknown target kind {str(kind)[:40]!r}"
    address = rec.get("address")
    if address is not None and not (type(address) is int and 0 <= address < _MAX_INT):
        return "intent with a malformed address"
    if kind == "process" and address is None:
        return "process intent without an address"
    for key in ("old", "new"):
        why = _hex_problem(rec.get(key))
        if why:
            return f"intent {key!r} bytes: {why}"
    if len(rec["old"]) != len(rec["new"]):
        return "intent whose old and new bytes differ in length"
    if rec.get("reverts") is not None and not _is_id(rec["reverts"]):
        return "intent with a malformed \"reverts\""
    if not isinstance(rec.get("location"), (dict, type(None))):
        return "intent with a malformed location"
    if not isinstance(rec.get("freeze", False), bool):
        return "intent with a malformed \"freeze\""
    return None


def _outcome_problem(rec: dict[str, Any]) -> str | None:
    if not _is_id(rec.get("id")):
        return "outcome without a valid id"
    if not isinstance(rec.get("status"), str):
        return "outcome without a status"
    written = rec.get("written")
    if written is not None and not (type(written) is int and written >= 0):
        return "outcome with a malformed byte count"
    if not isinstance(rec.get("error"), (str, type(None))):
        return "outcome with a malformed error"
    rewrites = rec.get("rewrites")
    if rewrites is not None and not (type(rewrites) is int and 0 <= rewrites < _MAX_INT):
        return "outcome with a malformed \"rewrites\""
    if rec.get("ended") is not None and not _is_time(rec["ended"]):
        return "outcome with a malformed \"ended\""
    return None


class _Outcomes:
    """Outcomes by intent id in a few bytes each: ids are dense (1, 2, 3...),
    so status codes and byte counts go in arrays; errors, and ids far from
    dense (a hand-edited file), in dicts."""

    def __init__(self) -> None:
        self._status = bytearray()          # 0: none, else index+1 into _names
        self._written = array.array("q")
        self._names: list[str] = []
        self._codes: dict[str, int] = {}
        self._errors: dict[int, str] = {}
        self._sparse: dict[int, tuple[str, int | None, str | None]] = {}
        self._freezes: dict[int, tuple[int | None, float | None]] = {}     # id -> (rewrites, ended): freezes only

    def put(self, entry_id: int, status: str, written: int | None, error: str | None,
            rewrites: int | None = None, ended: float | None = None) -> None:
        if rewrites is None and ended is None:
            self._freezes.pop(entry_id, None)
        else:
            self._freezes[entry_id] = (rewrites, ended)
        code = self._codes.get(status)
        if code is None and len(self._names) < 250:
            self._names.append(status)
            code = self._codes[status] = len(self._names)
        dense = entry_id < len(self._status) + BLOCK
        if code is None or not dense or written is None or written >= 1 << 63:
            self._sparse[entry_id] = (status, written, error)
            return
        if entry_id >= len(self._status):
            grow = entry_id + 1 - len(self._status)
            self._status.extend(bytes(grow))
            self._written.frombytes(bytes(8 * grow))
        self._status[entry_id] = code
        self._written[entry_id] = written
        if error is not None:
            self._errors[entry_id] = error
        else:
            self._errors.pop(entry_id, None)
        self._sparse.pop(entry_id, None)

    def get(self, entry_id: int) -> tuple[str | None, int | None, str | None,
                                          int | None, float | None]:
        """(status, written, error, rewrites, ended) of ``entry_id``."""
        extra = self._freezes.get(entry_id, (None, None))
        if entry_id in self._sparse:
            return (*self._sparse[entry_id], *extra)
        if entry_id < len(self._status) and self._status[entry_id]:
            return (self._names[self._status[entry_id] - 1], self._written[entry_id],
                    self._errors.get(entry_id), *extra)
        return None, None, None, None, None
