"""The process-memory interface (ProcessMemory), shared by both backends.

A ProcessMemory is bound to one target process. It lists the target's areas, reads
ranges page-aware (unreadable pages come back as holes, never as zeros), and
writes with a read-back check. Sessions do blocking I/O: they belong to the
backend thread (see ``thread.py``), never to the GUI thread.
"""

from __future__ import annotations

import abc
import errno as _errno
from dataclasses import dataclass
from typing import Iterator, Self

from .errors import FaultError, InvalidInput, LainviewError, PartialWrite, VerifyMismatch
from .memory import (PAGE_SIZE, Hole, MemoryArea, Perm, ReadResult, Span, WriteResult,
                     WriteStatus, area_at, page_floor, settle_deleted_names)
from .userfaultfd import registered_ranges

# One read returns one buffer; longer ranges are streamed (iter_read).
MAX_READ = 256 << 20

# The backends a process memory can be opened with (attach.open_process_memory):
# auto chooses lainmemu when the lainko module is loaded, else procfs.
BACKENDS = ("auto", "lainmemu", "procfs")


@dataclass(frozen=True, slots=True)
class Piece:
    """Part of a requested range that lies in one area, or in no area."""

    start: int
    end: int
    area: MemoryArea | None


# pread/pwrite refuse a position from 2**63 up (EINVAL), although the
# memory files accept it through lseek: /proc/PID/mem reads stop there (in a
# process only [vsyscall] lies above, and it is execute-only).
POSITION_LIMIT = 1 << 63


def file_offset(address: int) -> int:
    """The ``lseek`` position of a 64-bit ``address`` in a memory file that
    takes unsigned positions (the lainmemu device, FMODE_UNSIGNED_OFFSET):
    the kernel's ``off_t`` is signed, so addresses from 2**63 up are passed
    as their two's-complement value."""
    return address - (1 << 64) if address >= POSITION_LIMIT else address


def split_by_areas(areas: list[MemoryArea], address: int, size: int) -> list[Piece]:
    """Cut [address, address+size) at area boundaries; gaps get area None."""
    pieces: list[Piece] = []
    cursor, end = address, address + size
    while cursor < end:
        area = area_at(areas, cursor)
        if area is not None:
            stop = min(end, area.end)
        else:
            following = [a.start for a in areas if a.start > cursor]
            stop = min(end, following[0]) if following else end
        pieces.append(Piece(cursor, stop, area))
        cursor = stop
    return pieces


UFFD_REASON = ("registered with userfaultfd by the target (smaps VmFlags um/uw/ui): a read "
               "could block until the target serves the fault; opt in to read it (lainview read "
               "--userfaultfd)")


def unreadable_reason(area: MemoryArea | None) -> tuple[int, str]:
    if area is None:
        return _errno.EFAULT, "not mapped"
    if area.io:
        return _errno.EIO, f"I/O mapping {area.display_name}: not transferable"
    if area.uffd:
        return _errno.EAGAIN, UFFD_REASON
    return _errno.EACCES, f"no read permission ({area.perms.letters})"


def unwritable_reason(area: MemoryArea | None) -> tuple[int, str] | None:
    """Why the kernel will refuse lainview's write into ``area`` (a forced,
    ptrace-style write, as /proc/<pid>/mem makes and lainmemu mirrors), or
    None when it will take it. Read-only private pages are written (the
    kernel copies them on write); a shared mapping without write permission
    is refused (mm/gup.c check_vma_flags: no forced write outside a
    copy-on-write mapping), and so is anything the old bytes cannot be read
    from (they are journaled first). PROT_NONE pages are read and written
    through the same forced access."""
    if area is None or not (area.readable or area.no_access):
        return unreadable_reason(area)
    if area.perms & Perm.SHARED and not area.perms & Perm.WRITE:
        return _errno.EACCES, (f"shared mapping without write permission "
                               f"({area.perms.letters}): the kernel refuses forced writes to it")
    return None


def check_writable(areas: list[MemoryArea], address: int, size: int) -> None:
    """Raise FaultError for the first piece of [address, address+size) the
    kernel would refuse to write (see :func:`unwritable_reason`)."""
    for piece in split_by_areas(areas, address, size):
        refusal = unwritable_reason(piece.area)
        if refusal is not None:
            err, why = refusal
            raise FaultError(why, op="write", errno=err, address=piece.start,
                             size=piece.end - piece.start)


class ProcessMemory(abc.ABC):
    """One open target process. Subclasses implement the raw transfers."""

    backend_name: str = ""

    def __init__(self, pid: int):
        self.pid = pid
        self._areas: list[MemoryArea] | None = None
        # Read areas registered with userfaultfd too (they may block): opt-in.
        self.read_userfaultfd = False

    # -- what subclasses provide ------------------------------------------------
    @abc.abstractmethod
    def _fetch_areas(self) -> list[MemoryArea]:
        """The target's map, freshly from the kernel, sorted by start."""

    @abc.abstractmethod
    def _transfer_in(self, address: int, view: memoryview) -> int:
        """Read into ``view`` from one readable area; return bytes moved
        (short at the first inaccessible page). Raises LainviewError."""

    @abc.abstractmethod
    def _transfer_out(self, address: int, data: memoryview) -> int:
        """Write ``data`` inside one area; return bytes moved (short at the
        first page that refused). Raises LainviewError."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the target and close every descriptor."""

    # -- maps ------------------------------------------------------------------------
    @property
    def last_areas(self) -> list[MemoryArea] | None:
        """The map :meth:`areas` read last, None before the first; reads nothing."""
        return self._areas

    def areas(self, refresh: bool = True) -> list[MemoryArea]:
        """The target's memory areas. Raises TargetExited, PermissionDenied."""
        if refresh or self._areas is None:
            self._areas = self._mark_userfaultfd(
                settle_deleted_names(self._fetch_areas(), self.pid))
        return self._areas

    def _mark_userfaultfd(self, areas: list[MemoryArea]) -> list[MemoryArea]:
        """Mark the areas the target registered with userfaultfd (both
        backends: the kernel's smaps says), unless it opted in."""
        if self.read_userfaultfd:
            return areas
        ranges = registered_ranges(self.pid)
        if not ranges:
            return areas
        return [a._replace(uffd=True)
                if any(lo < a.end and a.start < hi for lo, hi, _ in ranges) else a
                for a in areas]

    def area_at(self, address: int) -> MemoryArea | None:
        return area_at(self.areas(refresh=False), address)

    # -- reads -------------------------------------------------------------------------
    def read(self, address: int, size: int, *,
             areas: list[MemoryArea] | None = None) -> ReadResult:
        """Read [address, address+size) into one buffer. Unreadable pages
        become holes; ``areas``: the map to use (default: fetched afresh).
        Raises InvalidInput for a range past the 64-bit address space or
        longer than MAX_READ (stream longer ones: :meth:`iter_read`),
        TargetExited, PermissionDenied; never FaultError."""
        _check_range(address, size)
        if size > MAX_READ:
            raise InvalidInput(f"{size} bytes in one read: at most {MAX_READ} (longer ranges "
                               "are streamed)", op="read", address=address, size=size)
        buf = bytearray(size)
        no_access: list[Span] = []
        holes = self.read_into(address, memoryview(buf), areas=areas, no_access=no_access)
        return ReadResult(address, bytes(buf), tuple(holes), tuple(no_access))

    def iter_read(self, address: int, size: int, buffer: memoryview
                  ) -> Iterator[tuple[int, memoryview | None, list[Hole], bool]]:
        """Stream [address, address+size) in address order, in bounded
        memory: yields ``(address, view, holes, no_access)`` for each chunk
        read into ``buffer`` (a slice of it, reused for the next chunk;
        ``holes`` are the pages the kernel refused, zero-filled;
        ``no_access``: the chunk is a PROT_NONE page read through forced
        access), and ``(address, None, [hole], False)`` for each stretch the
        map shows unreadable (unmapped, I/O, userfaultfd), skipped without
        any transfer, however long. The map is fetched once, at the start.
        Raises InvalidInput for a range past the 64-bit address space,
        TargetExited, PermissionDenied."""
        _check_range(address, size)
        areas = self.areas(refresh=True)
        for piece in split_by_areas(areas, address, size):
            area = piece.area
            if area is None or not (area.readable or area.no_access):
                err, why = unreadable_reason(area)
                yield piece.start, None, [Hole(piece.start, piece.end - piece.start, err, why)], \
                    False
                continue
            pos = piece.start
            while pos < piece.end:
                view = buffer[:min(len(buffer), piece.end - pos)]
                holes = self.read_into(pos, view, areas=[area], no_access=[])
                got_some = sum(h.size for h in holes) < len(view)
                yield pos, view, holes, area.no_access and got_some
                pos += len(view)

    def read_into(self, address: int, view: memoryview, *,
                  areas: list[MemoryArea] | None = None,
                  no_access: list[Span] | None = None) -> list[Hole]:
        """Fill ``view`` from the target; return the holes (zero-filled in
        ``view``, but never to be shown as values). Transfers are clipped to
        ``areas`` (default: the map fetched afresh now), so no byte outside
        a readable area is ever requested from the kernel. PROT_NONE areas
        are holes unless ``no_access`` is a list: then they are read as the
        kernel allows (forced access, as /proc/<pid>/mem and lainmemu do)
        and their spans appended to it (the scanner does not ask)."""
        size = len(view)
        holes: list[Hole] = []
        if areas is None:
            areas = self.areas(refresh=True)
        for piece in split_by_areas(areas, address, size):
            lo, hi = piece.start - address, piece.end - address
            if no_access is not None and piece.area is not None and piece.area.no_access:
                refused = self._read_piece(piece.start, view[lo:hi])
                holes.extend(refused)
                cursor = piece.start                # only the bytes the kernel gave
                for hole in refused:
                    if hole.address > cursor:
                        no_access.append(Span(cursor, hole.address - cursor))
                    cursor = hole.address + hole.size
                if cursor < piece.end:
                    no_access.append(Span(cursor, piece.end - cursor))
                continue
            if piece.area is None or not piece.area.readable:
                err, why = unreadable_reason(piece.area)
                view[lo:hi] = bytes(hi - lo)
                holes.append(Hole(piece.start, piece.end - piece.start, err, why))
                continue
            holes.extend(self._read_piece(piece.start, view[lo:hi]))
        return _merge_holes(holes)

    def _read_piece(self, address: int, view: memoryview) -> list[Hole]:
        """Read one in-area piece; on a short transfer skip the refusing
        page, record it as a hole, and go on after it."""
        holes: list[Hole] = []
        done, size = 0, len(view)
        while done < size:
            moved = self._transfer_in(address + done, view[done:])
            done += moved
            if done >= size:
                break
            bad_end = min(size, page_floor(address + done) + PAGE_SIZE - address)
            view[done:bad_end] = bytes(bad_end - done)
            holes.append(Hole(address + done, bad_end - done, _errno.EIO,
                              "the kernel refused this page"))
            done = bad_end
        return holes

    # -- writes -------------------------------------------------------------------------
    def old_bytes(self, address: int, size: int) -> bytes:
        """The bytes a write of ``size`` bytes at ``address`` would replace,
        once the range is known to be writable: the whole range must be
        mapped and readable (its old bytes are kept for the journal and
        undo) and writable as the kernel sees it (:func:`unwritable_reason`).
        PROT_NONE bytes are read through forced access. Raises FaultError,
        TargetExited, PermissionDenied, InvalidInput."""
        if not size:
            raise InvalidInput("nothing to write", op="write", address=address)
        _check_range(address, size)
        areas = self.areas(refresh=True)
        check_writable(areas, address, size)
        buf = bytearray(size)
        holes = self.read_into(address, memoryview(buf), areas=areas, no_access=[])
        return ReadResult(address, bytes(buf), tuple(holes)).require(op="write")

    def write(self, address: int, data: bytes, *, old: bytes | None = None) -> WriteResult:
        """Write ``data`` at ``address`` and read it back (no journaling
        here: ``journal.journaled_write`` wraps it). ``old``: what
        :meth:`old_bytes` returned for this range, read now if not given.
        Read-only private pages are written as /proc/<pid>/mem does. Raises
        FaultError (nothing written), PartialWrite (``.written`` bytes
        reached the target), VerifyMismatch, TargetExited, PermissionDenied.
        """
        if old is None or len(old) != len(data):
            old = self.old_bytes(address, len(data))
        written = 0
        for piece in split_by_areas(self.areas(refresh=False), address, len(data)):
            chunk = memoryview(data)[piece.start - address:piece.end - address]
            try:
                moved = self._transfer_out(piece.start, chunk)
            except LainviewError as exc:
                if not written:
                    raise
                raise PartialWrite(
                    f"wrote {written} of {len(data)} bytes, then: {exc}", op="write",
                    errno=exc.errno, address=piece.start, size=len(data) - written,
                    written=written, pid=self.pid) from exc
            written += moved
            if moved < len(chunk):
                raise PartialWrite(
                    f"wrote {written} of {len(data)} bytes; the kernel refused "
                    f"the page at {piece.start + moved:#x}",
                    op="write", errno=_errno.EIO, address=piece.start + moved,
                    size=len(data) - written, written=written, pid=self.pid)
        back = self.read(address, len(data))
        new = back.require(op="verify")
        if new != data:
            raise VerifyMismatch(
                "the bytes read back differ from the bytes written (the target "
                "may have changed them again at once)", op="verify",
                address=address, size=len(data), pid=self.pid)
        return WriteResult(address=address, old=old, new=new, journal_id=None)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_range(address: int, size: int) -> None:
    if address < 0 or size < 0 or address + size > 1 << 64:
        raise InvalidInput(f"range {address:#x}+{size:#x} is outside the 64-bit address space",
                           address=address, size=size)


def _merge_holes(holes: list[Hole]) -> list[Hole]:
    merged: list[Hole] = []
    for hole in holes:
        prev = merged[-1] if merged else None
        if prev and prev.end == hole.address and prev.errno == hole.errno \
                and prev.reason == hole.reason:
            merged[-1] = Hole(prev.address, prev.size + hole.size, prev.errno, prev.reason)
        else:
            merged.append(hole)
    return merged
