"""Patch files: journaled writes to one program, said as ASLR-proof
locations, to be applied again to a later process of the same program.

    {"format": "lainview-patch", "version": 1,
     "program": {"exe": "/usr/bin/game", "cmdline": ["game", "-w"]},
     "writes": [{"location": {"kind": "module", "name": "/usr/bin/game",
                              "offset": 8000}, "old": "64000000", "new": "e7030000",
                 "journal_id": 12}]}

Applying is all or nothing: every location must resolve, no two writes may
overlap, every target byte must hold the old (or already the new) value, and
every write must be one the kernel will take (:func:`process_memory.unwritable_reason`)
before anything is written; otherwise nothing is written and each problem is
reported. A write that still fails midway makes the backend roll back the
ones before it through the journal. Pure functions here; the writes
themselves go through the backend (``Backend.apply_patch``), journaled like
any other.
"""

from __future__ import annotations

import enum
import json
import os
from dataclasses import dataclass
from typing import Callable

from .errors import InvalidInput, Unresolved
from .files import atomic_private_file, load_json, read_input_file
from .journal import JournalEntry
from .locations import Location, ThreadStackLookup, resolve
from .memory import MemoryArea, ReadResult
from .process_memory import split_by_areas, unwritable_reason
from .wording import counted

FORMAT = "lainview-patch"
VERSION = 1
MAX_BYTES = 16 << 20
MAX_WRITE = 1 << 20


@dataclass(frozen=True, slots=True)
class PatchWrite:
    location: Location
    old: bytes
    new: bytes
    journal_id: int | None = None


@dataclass(frozen=True, slots=True)
class Patch:
    exe: str
    cmdline: tuple[str, ...]
    writes: tuple[PatchWrite, ...]

    def to_json(self) -> dict[str, object]:
        return {"format": FORMAT, "version": VERSION,
                "program": {"exe": self.exe, "cmdline": list(self.cmdline)},
                "writes": [{"location": w.location.to_json(), "old": w.old.hex(),
                            "new": w.new.hex(), "journal_id": w.journal_id}
                           for w in self.writes]}


def patch_from_entries(entries: list[JournalEntry]) -> Patch:
    """A patch of these process writes, oldest first. They must all be to
    one program. Failed writes and reverted ones are left out (a revert
    cancels the write it undid). Raises InvalidInput."""
    entries = [e for e in entries if e.kind == "process"]
    if not entries:
        raise InvalidInput("no process writes to export")
    programs = {e.target.get("exe") for e in entries}
    if len(programs) != 1:
        raise InvalidInput("a patch holds writes to one program; these are to "
                           f"{len(programs)}: {', '.join(sorted(p or '?' for p in programs))}")
    reverted = {e.reverts for e in entries if e.reverts is not None}
    writes = []
    for e in sorted(entries, key=lambda e: e.id):
        if e.status == "failed" or e.reverts is not None or e.id in reverted:
            continue
        if e.location:
            location = Location.from_json(e.location)
        elif e.address is not None:     # always, for a process write
            location = Location.absolute(e.address)
        else:
            continue
        writes.append(PatchWrite(location, e.old, e.new, e.id))
    if not writes:
        raise InvalidInput("nothing to export: every selected write failed or was reverted")
    first = entries[0].target
    return Patch(exe=first.get("exe") or "", cmdline=tuple(first.get("cmdline") or ()),
                 writes=tuple(writes))


def save_patch(patch: Patch, path: str | os.PathLike[str]) -> None:
    """Write atomically and privately (0600; a crash leaves the old file or
    the new one). Raises InvalidInput when the file cannot be written."""
    with atomic_private_file(path, "w") as f:
        json.dump(patch.to_json(), f, indent=1)
        f.write("\n")


def load_patch(path: str | os.PathLike[str]) -> Patch:
    """Read and check a whole patch file. Raises InvalidInput naming the
    first problem; nothing is applied from a file that fails here. Read by
    the one reader of untrusted files (:func:`files.read_input_file`: a
    regular file of at most MAX_BYTES, so a FIFO or device never blocks the
    reader; :func:`files.load_json`: no NaN or Infinity, bounded nesting).
    LainviewError (exit 1) when the file exists but cannot be read."""
    path = os.fspath(path)
    raw = load_json(read_input_file(path, MAX_BYTES, what="patch file"), path, "patch")
    return parse_patch(raw, path)


def parse_patch(raw: object, where: str = "the patch") -> Patch:
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise InvalidInput(f"{where} is not a lainview patch (no \"format\": \"{FORMAT}\")")
    if raw.get("version") != VERSION:
        raise InvalidInput(f"{where} has version {raw.get('version')!r}; this lainview reads "
                           f"version {VERSION}")
    program = raw.get("program")
    if not isinstance(program, dict) or not isinstance(program.get("exe"), str):
        raise InvalidInput(f"{where}: \"program\" must name the executable (\"exe\")")
    cmdline = program.get("cmdline", [])
    if not isinstance(cmdline, list) or not all(isinstance(a, str) for a in cmdline):
        raise InvalidInput(f"{where}: \"cmdline\" must be a list of strings")
    items = raw.get("writes")
    if not isinstance(items, list) or not items:
        raise InvalidInput(f"{where}: \"writes\" must be a non-empty list")
    writes = []
    for i, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise InvalidInput(f"{where}: write {i} is not an object")
        try:
            location = Location.from_json(item.get("location"))
            old, new = _hex(item.get("old")), _hex(item.get("new"))
        except InvalidInput as exc:
            raise InvalidInput(f"{where}: write {i}: {exc.message}") from None
        if location.kind == "kernel":
            raise InvalidInput(f"{where}: write {i} is to the kernel; patches are for processes")
        if not new or len(old) != len(new) or len(new) > MAX_WRITE:
            raise InvalidInput(f"{where}: write {i}: \"old\" and \"new\" must be the same "
                               f"length, 1 to {MAX_WRITE} bytes")
        journal_id = item.get("journal_id")
        writes.append(PatchWrite(location, old, new,
                                 journal_id if isinstance(journal_id, int) else None))
    return Patch(program["exe"], tuple(cmdline), tuple(writes))


def _hex(value: object) -> bytes:
    if not isinstance(value, str):
        raise InvalidInput("bytes must be a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise InvalidInput(f"malformed hex {value[:40]!r}") from None


class ApplyAction(enum.StrEnum):
    """What applying one write of a patch does: plan() gives the first
    seven, applying it the rest."""

    WRITE = "write"                     # the old bytes are there: to be written
    ALREADY = "already"                 # the new bytes are there
    CONFLICT = "conflict"               # neither (written only when forced)
    UNRESOLVED = "unresolved"           # the location is not in this map
    UNREADABLE = "unreadable"
    UNWRITABLE = "unwritable"           # the kernel would refuse the write
    OVERLAP = "overlap"                 # with another write of the patch
    WRITTEN = "written"
    WOULD_WRITE = "would write"         # a dry run
    FAILED = "failed"
    NOT_WRITTEN = "not written"         # after an earlier write failed
    ROLLED_BACK = "rolled back"         # written, then undone after a failure
    ROLLBACK_FAILED = "rollback failed"


@dataclass(frozen=True, slots=True)
class PlannedWrite:
    """One write of a patch against one process: where, and what to do."""

    write: PatchWrite
    address: int | None
    action: ApplyAction
    detail: str = ""
    current: bytes | None = None


BLOCKING = (ApplyAction.UNRESOLVED, ApplyAction.UNREADABLE, ApplyAction.UNWRITABLE,
            ApplyAction.OVERLAP)


def plan(patch: Patch, areas: list[MemoryArea], read: Callable[[int, int], ReadResult], *,
         pid: int | None = None,
         thread_stack: ThreadStackLookup | None = None) -> list[PlannedWrite]:
    """Resolve every write against this map, check the kernel will take it,
    that no two overlap, and compare the bytes there (``read(address, size)
    -> ReadResult``). Nothing is written. Actions in ``BLOCKING`` (and
    "conflict", unless forced) mean the patch must not be applied. ``pid``
    names the process in the reasons of unresolved writes. A pointer path's
    pointers are read through ``read`` (8 bytes, little-endian) now; a
    thread's stack (``[stack#N]``) is found by ``thread_stack``."""
    def read_pointer(address: int) -> int:
        return int.from_bytes(read(address, 8).require(op="read pointer"), "little")

    out = []
    for w in patch.writes:
        try:
            address = resolve(w.location, areas, len(w.new), pid=pid,
                              read_pointer=read_pointer, thread_stack=thread_stack)
        except Unresolved as exc:
            out.append(PlannedWrite(w, None, ApplyAction.UNRESOLVED, exc.message))
            continue
        refusal = next((r for p in split_by_areas(areas, address, len(w.new))
                        if (r := unwritable_reason(p.area)) is not None), None)
        result = read(address, len(w.new))
        if not result.complete:
            hole = result.holes[0]
            out.append(PlannedWrite(w, address, ApplyAction.UNREADABLE,
                                    f"{hole.reason} at {hole.address:#x}"))
            continue
        if refusal is not None:
            out.append(PlannedWrite(w, address, ApplyAction.UNWRITABLE, refusal[1]))
            continue
        current = result.data
        if current == w.new:
            out.append(PlannedWrite(w, address, ApplyAction.ALREADY, "the new bytes are there", current))
        elif current == w.old:
            out.append(PlannedWrite(w, address, ApplyAction.WRITE, "", current))
        else:
            out.append(PlannedWrite(w, address, ApplyAction.CONFLICT,
                                    f"holds {current.hex()}, the patch expects {w.old.hex()}",
                                    current))
    return _refuse_overlaps(out)


def _refuse_overlaps(planned: list[PlannedWrite]) -> list[PlannedWrite]:
    """Mark every resolved write that shares a byte with another "overlap":
    the result of two writes to one byte depends on their order, and the
    old bytes the second one expects are not what the first leaves."""
    placed = sorted((p.address, p.address + len(p.write.new), i)
                    for i, p in enumerate(planned) if p.address is not None)
    clash: dict[int, int] = {}
    reach_end, reach_i = -1, -1
    for start, end, i in placed:
        if start < reach_end:
            clash.setdefault(i, reach_i)
            clash.setdefault(reach_i, i)
        if end > reach_end:
            reach_end, reach_i = end, i
    out = list(planned)
    for i, other in clash.items():
        p, q = planned[i], planned[other]
        out[i] = PlannedWrite(p.write, p.address, ApplyAction.OVERLAP,
                              f"overlaps write {other + 1} ({q.write.location.text}, "
                              f"{counted(len(q.write.new), 'byte')} at {q.address:#x}): "
                              "a patch may write each byte once", p.current)
    return out
