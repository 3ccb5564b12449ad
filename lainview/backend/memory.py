"""Plain value types shared by every process backend, and their parsers.

Nothing here does I/O: these are the typed values that ``LainmemuMemory`` and
``ProcfsMemory`` both return, plus the parsers for the text forms users and
the kernel give us (``/proc/<pid>/maps`` lines, hex byte strings, addresses).
"""

from __future__ import annotations

import enum
import errno as _errno
import gc
import mmap
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple

from .errors import FaultError, InvalidInput
from .wording import counted, quoted

PAGE_SIZE = 4096


def page_floor(address: int) -> int:
    return address & ~(PAGE_SIZE - 1)


def page_buffer(size: int) -> mmap.mmap:
    """A zeroed, writable, page-aligned buffer of ``size`` bytes (anonymous
    memory). Chunked reads go into one of these: the kernel copies into a
    page-aligned buffer about 30 % faster than into one 16 bytes past a
    page (where a 1 MiB ``bytearray`` from malloc lands). Wrap it with
    ``memoryview`` or ``numpy.frombuffer``."""
    return mmap.mmap(-1, max(size, 1))


def page_ceil(address: int) -> int:
    return (address + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)


class Perm(enum.IntFlag):
    """An area's permissions, as the r/w/x/s letters of /proc/<pid>/maps."""

    NONE = 0
    READ = 1
    WRITE = 2
    EXEC = 4
    SHARED = 8

    @classmethod
    def from_letters(cls, text: str) -> "Perm":
        perm = _PERM_OF_LETTERS.get(text)     # 16 forms: a map has 65,000 lines
        if perm is None:
            raise InvalidInput(f"bad permission string {quoted(text)}: expected like 'r-xp'")
        return perm

    @property
    def letters(self) -> str:
        return _LETTERS_OF_PERM[self._value_]


def _letters(value: int) -> str:
    return ("r" if value & 1 else "-") + ("w" if value & 2 else "-") \
        + ("x" if value & 4 else "-") + ("s" if value & 8 else "p")


_LETTERS_OF_PERM = tuple(_letters(v) for v in range(16))
_PERM_OF_LETTERS = {_letters(v): Perm(v) for v in range(16)}
_LETTERS_OF_PERM_FLAG = {perm: letters for letters, perm in _PERM_OF_LETTERS.items()}


class MemoryArea(NamedTuple):
    """One area of a target's address space: [start, end). Immutable (a
    named tuple: a map of 60,000 areas is built in a tenth of the time a
    frozen dataclass takes); ``area._replace(field=...)`` makes a changed copy.

    ``offset`` is in bytes into the backing file (0 where there is none).
    ``path`` is the backing file, a pseudo-name such as ``[heap]``, or "" for
    anonymous memory. ``io`` marks VM_IO/VM_PFNMAP areas (``[vvar]`` and
    device mappings) that must never be transferred through a device.
    ``dev``/``inode`` are known only from /proc. ``deleted``: the backing
    file was deleted (the kernel then prints ``path (deleted)``); a real
    file whose name ends that way is not (see :func:`settle_deleted_names`).
    ``file_path`` is the file's name without the kernel's suffix. ``uffd``
    marks areas the target registered with userfaultfd (smaps VmFlags
    um/uw/ui) when the process memory has not opted in to reading them: a read
    could block until the target serves the fault, so they are unreadable
    by default.
    """

    start: int
    end: int
    perms: Perm
    offset: int = 0
    path: str = ""
    io: bool = False
    dev: str | None = None
    inode: int | None = None
    deleted: bool = False
    uffd: bool = False

    @property
    def size(self) -> int:
        return self.end - self.start

    @property
    def readable(self) -> bool:
        return bool(self.perms & Perm.READ) and not self.io and not self.uffd

    @property
    def no_access(self) -> bool:
        """No read permission (PROT_NONE, ``---p``; or write/exec-only), but
        ordinary memory: /proc/<pid>/mem and lainmemu read it for a caller
        allowed to ptrace the target (the kernel forces the access), so
        lainview reads it too and marks its bytes as a no-access page."""
        return not self.perms & Perm.READ and not self.io and not self.uffd

    @property
    def is_file_backed(self) -> bool:
        return self.path.startswith("/") and not self.path.startswith(MEMFD_PREFIX)

    @property
    def is_pseudo(self) -> bool:
        return self.path.startswith("[")

    @property
    def file_path(self) -> str:
        """The backing file's name: ``path`` without the " (deleted)" the
        kernel adds for a deleted file (a real name ending so is kept)."""
        return self.path[:-len(DELETED_SUFFIX)] if self.deleted else self.path

    @property
    def display_name(self) -> str:
        """The area's name as lainview shows it: the kernel's ``path``, but
        a memfd (always printed ``/memfd:NAME (deleted)``) as ``memfd:NAME``,
        the name the location grammar uses (``memfd:NAME+0x10``); "[anon]"
        for an anonymous area."""
        if self.path.startswith(MEMFD_PREFIX):
            return self.path[1:].removesuffix(DELETED_SUFFIX)
        return self.path or "[anon]"

    def contains(self, address: int) -> bool:
        return self.start <= address < self.end

    def maps_line(self) -> str:
        """This area as a /proc/<pid>/maps line (dev/inode as 00:00 0 if unknown)."""
        head = (f"{self.start:08x}-{self.end:08x} {self.perms.letters} "
                f"{self.offset:08x} {self.dev or '00:00'} {self.inode or 0}")
        if not self.path:
            return head + " "
        return head.ljust(72) + " " + self.path

    def to_json(self) -> dict[str, object]:
        """``{start, end, perms, offset, path}`` (addresses as ints); the
        shape :func:`areas_json` writes for many areas at once."""
        return {"start": self.start, "end": self.end, "perms": self.perms.letters,
                "offset": self.offset, "path": self.path}


_MAPS_RE = re.compile(
    r"^([0-9a-f]+)-([0-9a-f]+) ([-r][-w][-x][ps]) ([0-9a-f]+) "
    r"([0-9a-f]+:[0-9a-f]+) ([0-9]+)(?: +(.*))?$")

# Areas the kernel marks VM_IO/VM_PFNMAP; /proc does not show the flags, so
# recognise them by name. Reading them through a device can hang the caller.
IO_PSEUDO_NAMES = frozenset({"[vvar]", "[vvar_vclock]"})


def _unescape_path(path: str) -> str:
    """A maps line's path as the file is named: the kernel writes a newline
    in a name as ``\\012`` (and nothing else escaped), so a name holding a
    real newline reads as ``readlink`` and psutil give it. (A name holding
    the four characters backslash-0-1-2 reads the same way: the kernel's
    text cannot tell them apart.)"""
    return path.replace("\\012", "\n") if "\\" in path else path


def areas_json(areas: list[MemoryArea]) -> str:
    """A JSON array of every area's :meth:`MemoryArea.to_json`, one area a
    line, written directly (no dict per area: 60,000 areas take a quarter
    of the time of ``json.dumps`` over ``to_json``). Each row is an f-string
    of the area's unpacked fields: no tuple or list per row, so building
    60,000 rows sets off no cycle collection (a ``%`` tuple or a ``*rest``
    list per row did, over every area just parsed). Paths are escaped by
    json's own C escaper, so any name the kernel prints stays valid JSON."""
    from json.encoder import encode_basestring_ascii as quote
    letters = _LETTERS_OF_PERM_FLAG
    rows = [f'{{"start": {start}, "end": {end}, "perms": "{letters[perms]}", '
            f'"offset": {offset}, "path": {quote(path)}}}'
            for start, end, perms, offset, path, _io, _dev, _inode, _deleted, _uffd in areas]
    return "[" + ",\n ".join(rows) + "]"


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while a map's areas are built. Each
    area is a tuple of plain values (never part of a cycle), but 120,000
    new tuples (the regex's rows and the areas) set off repeated full
    collections of the whole heap: at 60,000 areas they cost about as much
    as the parsing itself. The collector's previous state is restored."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_maps_line(line: str) -> MemoryArea:
    """Parse one line of /proc/<pid>/maps. Raises InvalidInput on any malformation."""
    m = _MAPS_RE.match(line.rstrip("\n"))
    if not m:
        raise InvalidInput(f"malformed maps line: {line[:120]!r}")
    start, end = int(m.group(1), 16), int(m.group(2), 16)
    if end < start:
        raise InvalidInput(f"malformed maps line (end before start): {line[:120]!r}")
    path = _unescape_path(m.group(7) or "")
    return MemoryArea(start=start, end=end, perms=Perm.from_letters(m.group(3)),
                      offset=int(m.group(4), 16), path=path,
                      io=path in IO_PSEUDO_NAMES, dev=m.group(5), inode=int(m.group(6)),
                      deleted=path.endswith(DELETED_SUFFIX))


def parse_maps(text: str) -> list[MemoryArea]:
    """Every line of /proc/<pid>/maps (65,000 areas are common in big
    programs). Raises InvalidInput naming the first malformed line.

    The kernel's lines are split on single spaces (the path, after its
    padding, is the rest of the line), which takes about half the time of
    a regex match per line; a line that does not split into the kernel's
    fields, or whose numbers do not convert, is parsed again by
    :func:`parse_maps_line`, whose error names it. This parse is less
    strict than that one on text the kernel never prints: numbers convert
    as ``int`` does (a sign, ``0x``, ``_``, upper case, other scripts'
    digits, surrounding white space) and the device field is kept as
    printed."""
    with _no_cycle_collection():
        perms, io_names, new, cls, suffix = _PERM_OF_LETTERS, IO_PSEUDO_NAMES, tuple.__new__, \
            MemoryArea, DELETED_SUFFIX
        out: list[MemoryArea] = []
        add = out.append
        try:
            for line in text.split("\n"):
                if not line:
                    continue
                fields = line.split(" ", 5)
                if len(fields) == 6:
                    span, letters, offset, dev, inode, path = fields
                    path = path.lstrip(" ")
                else:
                    span, letters, offset, dev, inode = fields
                    path = ""
                start, end = span.split("-")
                add(new(cls, (int(start, 16), int(end, 16), perms[letters], int(offset, 16),
                              path, path in io_names, dev, int(inode), path.endswith(suffix),
                              False)))
        except (ValueError, KeyError):
            out = []
    lines = text.count("\n") + (bool(text) and not text.endswith("\n"))
    if len(out) != lines:                 # a malformed (or blank) line somewhere
        return [parse_maps_line(line) for line in text.split("\n") if line]
    for area in out:
        if area.end < area.start:
            raise InvalidInput("malformed maps line (end before start): "
                               f"{area.start:x}-{area.end:x}")
    if "\\" in text:                        # a name with a newline: see _unescape_path
        out = [a if "\\" not in a.path else a._replace(
            path=_unescape_path(a.path), deleted=_unescape_path(a.path).endswith(suffix))
            for a in out]
    return out


DELETED_SUFFIX = " (deleted)"
MEMFD_PREFIX = "/memfd:"     # how the kernel names a memfd's mapping


def settle_deleted_names(areas: list[MemoryArea], pid: int, *,
                         proc: str = "/proc") -> list[MemoryArea]:
    """Tell a deleted mapping from a real file whose name ends in
    " (deleted)": the kernel prints both the same way. An area is a real
    file when its literal path, seen from the target's root
    (``/proc/PID/root``, else ours), is a file with the maps line's device
    and inode. Areas without device and inode (from the lainmemu device)
    take them from ``/proc/PID/maps`` when it can be read; if not, the
    kernel's wording stands. Returns ``areas`` with ``deleted`` settled.
    Costs one stat per area named "... (deleted)"."""
    if not any(a.deleted for a in areas):
        return areas
    out = list(areas)
    ids: dict[int, tuple[str | None, int | None]] | None = None
    stats: dict[str, os.stat_result | None] = {}
    for i, area in enumerate(areas):
        if not area.deleted or not area.path.startswith("/"):
            continue
        dev, inode = area.dev, area.inode
        if dev is None or inode is None:
            if ids is None:
                ids = _maps_ids(pid, proc)
            dev, inode = ids.get(area.start, (None, None))
            if dev is None or inode is None:
                continue
        if area.path not in stats:
            stats[area.path] = _stat_in_root(area.path, pid, proc)
        st = stats[area.path]
        if st is not None and _same_file(st, dev, inode):
            out[i] = area._replace(deleted=False)
    return out


def _maps_ids(pid: int, proc: str) -> dict[int, tuple[str | None, int | None]]:
    try:
        with open(f"{proc}/{pid}/maps", "rb") as f:
            areas = parse_maps(os.fsdecode(f.read()))
    except (OSError, InvalidInput):
        return {}
    return {a.start: (a.dev, a.inode) for a in areas}


def _stat_in_root(path: str, pid: int, proc: str) -> os.stat_result | None:
    for candidate in (f"{proc}/{pid}/root{path}", path):
        try:
            return os.stat(candidate)
        except OSError:
            continue
    return None


def _same_file(st: os.stat_result, dev: str, inode: int) -> bool:
    major, _, minor = dev.partition(":")
    try:
        return (st.st_ino == inode and os.major(st.st_dev) == int(major, 16)
                and os.minor(st.st_dev) == int(minor, 16))
    except ValueError:
        return False


def area_at(areas: list[MemoryArea], address: int) -> MemoryArea | None:
    """The area containing ``address`` (areas sorted by start), or None."""
    lo, hi = 0, len(areas)
    while lo < hi:
        mid = (lo + hi) // 2
        if areas[mid].end <= address:
            lo = mid + 1
        else:
            hi = mid
    if lo < len(areas) and areas[lo].contains(address):
        return areas[lo]
    return None


@dataclass(frozen=True, slots=True)
class Span:
    """A run of bytes [address, address + size)."""

    address: int
    size: int

    @property
    def end(self) -> int:
        return self.address + self.size


@dataclass(frozen=True, slots=True)
class Hole(Span):
    """Bytes that could not be read, with the errno and the reason why."""

    errno: int = _errno.EFAULT
    reason: str = "not mapped"


@dataclass(frozen=True, slots=True)
class ReadResult:
    """The bytes of [address, address + size) that could be read.

    ``data`` has the full length, but only the bytes inside ``segments`` are
    real: bytes in ``holes`` were not read and are never to be shown as
    values. Use :meth:`byte_at`, :meth:`readable` or :meth:`require`.
    ``no_access`` spans are real bytes of PROT_NONE pages (see
    :attr:`MemoryArea.no_access`).
    """

    address: int
    data: bytes
    holes: tuple[Hole, ...] = ()
    # Real bytes of pages without read permission (PROT_NONE), read through
    # the kernel's forced access: shown as values, in their own style.
    no_access: tuple[Span, ...] = ()

    @property
    def size(self) -> int:
        return len(self.data)

    def is_no_access(self, address: int) -> bool:
        """True if ``address`` lies in a no-access page that was read."""
        return any(s.address <= address < s.end for s in self.no_access)

    @property
    def complete(self) -> bool:
        return not self.holes

    def hole_at(self, address: int) -> Hole | None:
        for hole in self.holes:
            if hole.address <= address < hole.end:
                return hole
        return None

    def byte_at(self, address: int) -> int | None:
        if not self.address <= address < self.address + len(self.data):
            raise IndexError(address)
        if self.hole_at(address):
            return None
        return self.data[address - self.address]

    @property
    def segments(self) -> list[tuple[int, bytes]]:
        """The readable runs as (address, bytes)."""
        out, cursor = [], self.address
        for hole in sorted(self.holes, key=lambda h: h.address):
            if hole.address > cursor:
                out.append((cursor, self.data[cursor - self.address:hole.address - self.address]))
            cursor = max(cursor, hole.end)
        end = self.address + len(self.data)
        if cursor < end:
            out.append((cursor, self.data[cursor - self.address:]))
        return out

    def require(self, op: str = "read") -> bytes:
        """All the bytes, or FaultError naming the first unreadable address."""
        if self.holes:
            first = min(self.holes, key=lambda h: h.address)
            raise FaultError(f"{counted(first.size, 'byte')} not readable: {first.reason}", op=op,
                             errno=first.errno, address=first.address, size=first.size)
        return self.data


class WriteStatus(enum.StrEnum):
    """How a journaled write ended (the journal's outcome ``status``)."""

    OK = "ok"
    PARTIAL = "partial"                     # some bytes reached the target
    FAILED = "failed"                       # none did
    VERIFY_MISMATCH = "verify-mismatch"     # written, but read back different


@dataclass(frozen=True, slots=True)
class WriteResult:
    """A write that reached the target: ``old`` before, ``new`` read back after."""

    address: int
    old: bytes
    new: bytes
    verified: bool = True
    journal_id: int | None = None     # the journal entry of the write; None: not journaled


@dataclass(frozen=True, slots=True)
class AttachInfo:
    """What the UI and CLI show about the process memory in use."""

    pid: int
    backend: str          # "lainmemu" or "procfs"
    reason: str           # why this backend was chosen
    writable: bool
    limits: tuple[str, ...] = field(default=())


def parse_size(text: str) -> int:
    """Parse a length: decimal, or hex with 0x."""
    t = text.strip().lower()
    try:
        value = int(t, 16) if t.startswith("0x") else int(t, 10)
    except ValueError:
        raise InvalidInput(f"not a length: {text!r} (decimal, or hex with 0x)") from None
    if value < 0:
        raise InvalidInput(f"length must not be negative: {text!r}")
    return value


def parse_hex_bytes(text: str) -> bytes:
    """Parse hex bytes as users type them: "de ad be ef", "deadbeef",
    "0xde,0xad", "\\xde\\xad". Raises InvalidInput naming the bad spot."""
    cleaned = re.sub(r"\\x|0x", " ", text, flags=re.IGNORECASE)
    cleaned = re.sub(r"[\s,:]+", " ", cleaned).strip()
    if not cleaned:
        raise InvalidInput("no hex bytes given")
    out = bytearray()
    for token in cleaned.split(" "):
        if not re.fullmatch(r"[0-9a-fA-F]+", token):
            bad = next(c for c in token if c not in "0123456789abcdefABCDEF")
            raise InvalidInput(f"malformed hex: {bad!r} in {token!r} is not a hex digit")
        if len(token) % 2:
            raise InvalidInput(f"malformed hex: {token!r} has an odd number of digits")
        out += bytes.fromhex(token)
    return bytes(out)
