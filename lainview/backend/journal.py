"""The write journal: every write is recorded before it is attempted.

An append-only JSON Lines file in the user's state directory
(``$XDG_STATE_HOME/lainview/journal.jsonl``). Each write appends an
``intent`` record (time, target, address, old bytes, new bytes) and fsyncs
it *before* the write; the ``outcome`` is appended after. A writer killed in
between leaves an intent with no outcome, which ``revert`` still handles by
comparing the target's bytes with the old and new ones.

A *freeze* (the watch list holding a value) is one entry: its intent
(``"freeze": true``; the bytes before the freeze and the held bytes) is on
disk before its first write, its re-writes are covered by it, and a later
outcome record carries ``rewrites`` (how many times the value was written)
and ``ended`` (when the freeze stopped); the newest outcome of an id wins.
Several lainview processes may share the file: appends are serialised with
flock.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidInput, JournalError


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
    target: dict
    address: int | None
    old: bytes
    new: bytes
    reverts: int | None = None
    location: dict | None = None     # where the bytes are, ASLR-proof (locations.py)
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
        return self.target.get("kind", "process")

    @property
    def label(self) -> str:
        if self.kind == "kernel":
            sym = self.target.get("symbol", "?")
            mod = self.target.get("module")
            return f"kernel {mod + ':' if mod else ''}{sym}"
        return f"pid {self.pid} {os.path.basename(self.target.get('exe') or '')}".rstrip()

    def to_json(self) -> dict:
        return {"id": self.id, "time": self.time, "target": self.target,
                "address": self.address, "old": self.old.hex(), "new": self.new.hex(),
                "reverts": self.reverts, "location": self.location, "status": self.status, "written": self.written,
                "error": self.error, "freeze": self.freeze, "rewrites": self.rewrites,
                "ended": self.ended}


class Journal:
    """Append-only, fsynced write journal."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path else default_journal_path()
        self._fd: int | None = None

    def _open(self) -> int:
        if self._fd is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            except OSError as exc:
                raise JournalError(f"cannot open the write journal {self.path}: "
                                   f"{os.strerror(exc.errno)}; no write was made",
                                   op="journal", errno=exc.errno) from None
        return self._fd

    def _append(self, record: dict, *, assign_id: bool) -> int | None:
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if assign_id:
                    record["id"] = self._last_id(fd) + 1
                os.write(fd, (json.dumps(record, separators=(",", ":")) + "\n").encode())
                os.fsync(fd)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        except OSError as exc:
            raise JournalError(f"cannot append to the write journal {self.path}: "
                               f"{os.strerror(exc.errno)}", op="journal",
                               errno=exc.errno) from None
        return record.get("id")

    def _last_id(self, fd: int) -> int:
        """The highest intent id so far, read backwards from the file's end."""
        size = os.fstat(fd).st_size
        pos, tail = size, b""
        while pos > 0:
            step = min(65536, pos)
            pos -= step
            tail = os.pread(fd, step, pos) + tail
            lines = tail.split(b"\n")
            # The first piece may be a partial line unless we reached the start.
            for line in reversed(lines if pos == 0 else lines[1:]):
                if line.startswith(b'{"type":"intent"'):
                    try:
                        return int(json.loads(line)["id"])
                    except (ValueError, KeyError):
                        continue
        return 0

    def record_intent(self, *, target: dict, address: int | None, old: bytes, new: bytes,
                      reverts: int | None = None, location: dict | None = None,
                      freeze: bool = False) -> int:
        """Append and fsync the intent of a write; returns its id. Raises
        JournalError, in which case the write must not be made. ``location``
        says where the bytes are in a form a later run can resolve (for
        patches). ``freeze``: the intent of a freeze, which covers every
        re-write of ``new`` until its end is recorded."""
        record = {"type": "intent", "id": 0, "time": time.time(), "target": target,
                  "address": address, "old": old.hex(), "new": new.hex(), "reverts": reverts}
        if location is not None:
            record["location"] = location
        if freeze:
            record["freeze"] = True
        return self._append(record, assign_id=True)

    def record_outcome(self, entry_id: int, status: str, written: int,
                       error: str | None = None, *, rewrites: int | None = None,
                       ended: float | None = None) -> None:
        """Append how write ``entry_id`` went. For a freeze, ``rewrites``
        counts its writes so far and ``ended`` (a time) says it stopped; a
        later outcome for the same id replaces an earlier one."""
        record = {"type": "outcome", "id": entry_id, "time": time.time(),
                  "status": status, "written": written, "error": error}
        if rewrites is not None:
            record["rewrites"] = rewrites
        if ended is not None:
            record["ended"] = ended
        self._append(record, assign_id=False)

    def entries(self, *, pid: int | None = None) -> list[JournalEntry]:
        """All writes, oldest first; with ``pid``, only those to that process."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise JournalError(f"cannot read the write journal {self.path}: "
                               f"{os.strerror(exc.errno)}", op="journal",
                               errno=exc.errno) from None
        intents: dict[int, dict] = {}
        outcomes: dict[int, dict] = {}
        for line in raw.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue   # a line torn by a crash mid-append
            if rec.get("type") == "intent":
                intents[rec["id"]] = rec
            elif rec.get("type") == "outcome":
                outcomes[rec["id"]] = rec
        out = []
        for entry_id, rec in sorted(intents.items()):
            outcome = outcomes.get(entry_id, {})
            entry = JournalEntry(
                id=entry_id, time=rec["time"], target=rec["target"], address=rec["address"],
                old=bytes.fromhex(rec["old"]), new=bytes.fromhex(rec["new"]),
                reverts=rec.get("reverts"), location=rec.get("location"),
                status=outcome.get("status"),
                written=outcome.get("written"), error=outcome.get("error"),
                freeze=bool(rec.get("freeze", False)), rewrites=outcome.get("rewrites"),
                ended=outcome.get("ended"))
            if pid is None or entry.pid == pid:
                out.append(entry)
        return out

    def revertible(self, kind: str, entry_ids: list[int] | None = None, *,
                   pid: int | None = None) -> list[JournalEntry]:
        """The ``kind`` ("process" or "kernel") entries a revert should undo,
        newest first. With ids: exactly those (InvalidInput for an unknown
        id). Without: every write that is not itself a revert and has not
        been reverted. Writes that failed wrote nothing and are left out."""
        entries = [e for e in self.entries(pid=pid) if e.kind == kind]
        if entry_ids is not None:
            known = {e.id for e in entries}
            missing = [i for i in entry_ids if i not in known]
            if missing:
                raise InvalidInput(f"no {kind} write {missing[0]} in {self.path}")
            entries = [e for e in entries if e.id in entry_ids]
        else:
            reverted = {e.reverts for e in entries if e.reverts is not None}
            entries = [e for e in entries if e.reverts is None and e.id not in reverted]
        return sorted((e for e in entries if e.status != "failed"),
                      key=lambda e: e.id, reverse=True)

    def entry(self, entry_id: int) -> JournalEntry:
        for entry in self.entries():
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
        self._open: dict[int, list] = {}     # journal id -> [key, held bytes, rewrites]

    def begin(self, key: tuple, *, target: dict, address: int | None, old: bytes,
              held: bytes, location: dict | None = None) -> int:
        """Journal a freeze of ``held`` over ``old`` at ``key`` (what it
        writes: an address, or a symbol); its id. JournalError: nothing may
        be written."""
        journal_id = self.journal.record_intent(target=target, address=address, old=old,
                                                new=held, location=location, freeze=True)
        self._open[journal_id] = [key, bytes(held), 0]
        return journal_id

    def check(self, journal_id: int, key: tuple, data: bytes) -> None:
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
            self._outcome(journal_id, "ok", len(freeze[1]), None, 1, None)
        return freeze[2]

    def end(self, journal_id: int, error: str | None = None) -> int | None:
        """Record that the freeze stopped (``error``: why, when the user did
        not choose it); how many times it wrote, None if it was not open."""
        freeze = self._open.pop(journal_id, None)
        if freeze is None:
            return None
        rewrites = freeze[2]
        self._outcome(journal_id, "ok" if rewrites else "failed",
                      len(freeze[1]) if rewrites else 0, error, rewrites, time.time())
        return rewrites

    def end_all(self, why: str) -> None:
        for journal_id in list(self._open):
            self.end(journal_id, why)

    def _outcome(self, journal_id: int, status: str, written: int, error: str | None,
                 rewrites: int, ended: float | None) -> None:
        try:
            self.journal.record_outcome(journal_id, status, written, error,
                                        rewrites=rewrites, ended=ended)
        except JournalError:
            pass        # the intent is on disk: the freeze stays revertible


def revert_plan(entry: JournalEntry, current: bytes) -> str:
    """What reverting ``entry`` means given the target's bytes now:
    "write" (put the old bytes back), "done" (already old), or "conflict"
    (some byte is neither old nor new: someone else changed it since)."""
    if current == entry.old:
        return "done"
    if all(c == o or c == n for c, o, n in zip(current, entry.old, entry.new)):
        return "write"
    return "conflict"
