"""Locations: an address said as "where it is" rather than only "what
number it has", so it can be found again in a later run (ASLR moves
everything). One grammar, one parser (:func:`parse_location`), one printer
(:attr:`Location.text`), one resolver (:func:`resolve`), used by the hex
editor's go-to, the watch list, bookmarks, patches, session files and every
CLI command that takes an address.

The grammar (surrounding whitespace, and whitespace around a sign, is
ignored; every number is hex, ``0x`` optional, so ``+10`` is 16 bytes)::

    location := kernel | area | absolute
    absolute := HEX [SIGN HEX]          0x7f12a000, 7f12a000, 0x7f12a000+0x20
    area     := NAME [SIGN HEX]         libc.so.6+0x1f00, /usr/lib/libc.so.6+1f00,
                                        memfd:lainview-demo+0x10, [heap]+0x40,
                                        [stack], [anon:name]-0x8
    kernel   := "kernel:" [MODULE ":"] SYMBOL [SIGN HEX]
                                        kernel:jiffies, kernel:ext4:ext4_fs_type+0x8
    SIGN     := "+" | "-"
    HEX      := ["0x"] hexdigit+        below 2**64

- An ``area`` NAME is ``[pseudo]`` (a kernel-named area: ``[heap]``,
  ``[stack]``, ``[vdso]``, ``[anon:name]``) or a mapped file (``module``):
  its file name, its full path, or ``memfd:NAME``; spaces are allowed. A
  deleted file's full path is written without the kernel's `` (deleted)``
  (a real file may be named so); its file name with or without. The offset
  counts from the lowest address the area (or file) is mapped at; a
  negative offset, or one past the end, does not resolve.
- The offset is the last SIGN HEX of the text: a file whose name itself ends
  so (``libfoo-1``) is written with an explicit offset (``libfoo-1+0``). A
  text that is all hex is an address: a file named so (``cafe``), or one
  whose name starts with ``[``, ``0x``, ``kernel:``, ``+`` or ``-``, is written by its
  full path.
  :attr:`Location.text` follows these rules, so ``parse_location(loc.text)``
  gives ``loc`` back (for a module: the same file name).
- ``kernel:`` names a kernel symbol (optionally of one module), resolved by
  a symbol lookup the caller gives; the offset may be negative.

Kinds of :class:`Location`:

- ``module``: inside an area backed by a file (or a memfd, whose name is
  stable), as an offset from the lowest address that file is mapped at. A
  zero-filled area that directly follows the module's writable data (its
  ``.bss``) counts as part of it.
- ``pseudo``: inside a named kernel area, from its lowest address.
- ``absolute``: anything else (anonymous mmaps): only right while the same
  process runs, and said so.
- ``kernel``: a kernel symbol (``jiffies``) plus an offset.

:func:`locate` makes the most durable location of an address in a map;
:func:`resolve` finds a location again in a map (raising :class:`Unresolved`
naming what did not resolve and why); :func:`settle` turns a typed location
into the durable form that watch entries and bookmarks keep.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import AddressOutOfRange, InvalidInput, Unresolved
from .memory import MemoryArea, Perm, area_at
from .wording import article, printable, quoted

class LocationKind(enum.StrEnum):
    """What a :class:`Location` is relative to."""

    MODULE = "module"           # a mapped file (its first mapping)
    PSEUDO = "pseudo"           # a pseudo-area: [heap], [stack], ...
    ABSOLUTE = "absolute"       # an address
    KERNEL = "kernel"           # a kernel symbol


KINDS = tuple(k.value for k in LocationKind)
_LIMIT = 1 << 64

# A symbol lookup for ``kernel:`` locations: (symbol, module or None) -> the
# addresses of every symbol of that name (in that module), in search order.
SymbolLookup = Callable[[str, "str | None"], Sequence[int]]


@dataclass(frozen=True, slots=True)
class Location:
    """Where a value lives: the parsed form of the grammar above, and what
    watch entries, bookmarks, patches and session files keep.

    ``name`` is the backing file (module: a full path when made by
    :func:`settle` or :func:`locate`, a file name or ``memfd:NAME`` as typed), the
    pseudo-name with its brackets (pseudo), the symbol (kernel), or ""
    (absolute, where ``offset`` is the address, 0 .. 2**64-1). ``offset``
    is in bytes and may be negative for the other kinds. ``module`` is the
    kernel module of a kernel symbol, if any."""

    kind: LocationKind
    name: str
    offset: int
    module: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidInput(f"unknown location kind {self.kind!r}")
        object.__setattr__(self, "kind", LocationKind(self.kind))   # given as text too

    @classmethod
    def absolute(cls, address: int) -> "Location":
        return cls(LocationKind.ABSOLUTE, "", address)

    @classmethod
    def kernel_symbol(cls, symbol: str, offset: int = 0,
                      module: str | None = None) -> "Location":
        return cls(LocationKind.KERNEL, symbol, offset, module)

    @property
    def short_name(self) -> str:
        """The name as shown: a module's file name (``memfd:NAME`` for a
        memfd), else :attr:`name`."""
        if self.kind == "module":
            return _file_name(self.name)
        return self.name

    @property
    def text(self) -> str:
        """``libc.so.6+0x1f00``, ``[heap]+0x40``, ``0x7f…``, ``kernel:jiffies``,
        ``kernel:jiffies-0x8``: the grammar's form, which
        :func:`parse_location` reads back."""
        if self.kind == "absolute":
            return f"{self.offset:#x}"
        if self.kind == "kernel":
            head = f"kernel:{self.module + ':' if self.module else ''}{self.name}"
            return head + (_signed(self.offset) if self.offset else "")
        name = self.name
        if self.kind == "module":
            short = self.short_name
            if _reads_as_module(short):
                name = short
        return name + _signed(self.offset)

    @property
    def survives_restart(self) -> bool:
        return self.kind != "absolute"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name, "offset": self.offset}
        if self.module:
            out["module"] = self.module
        return out

    @classmethod
    def from_json(cls, raw: object) -> "Location":
        """Raises InvalidInput naming what is wrong."""
        if not isinstance(raw, dict):
            raise InvalidInput(f"a location must be an object, not {type(raw).__name__}")
        kind, name, offset = raw.get("kind"), raw.get("name", ""), raw.get("offset")
        if kind not in KINDS:
            raise InvalidInput(f"unknown location kind {kind!r}: expected one of "
                               f"{', '.join(KINDS)}")
        kind = LocationKind(kind)
        if not isinstance(name, str) or (kind != "absolute" and not name):
            raise InvalidInput(f"{article(kind)} location needs a name")
        low = 0 if kind == "absolute" else -_LIMIT + 1
        if not isinstance(offset, int) or isinstance(offset, bool) \
                or not low <= offset < _LIMIT:
            raise InvalidInput(f"bad offset {quoted(offset)} in {article(kind)} location")
        module = raw.get("module")
        if module is not None and not isinstance(module, str):
            raise InvalidInput(f"bad kernel module {quoted(module)}")
        return cls(kind, name, offset, module)


def _signed(offset: int) -> str:
    return f"-{-offset:#x}" if offset < 0 else f"+{offset:#x}"


def _file_name(path: str) -> str:
    """``libc.so.6`` for ``/usr/lib/libc.so.6``; ``memfd:NAME`` for a memfd
    (whose NAME may hold a slash)."""
    if path.startswith("/memfd:"):
        return path[1:]
    if path.startswith("memfd:"):
        return path
    return os.path.basename(path) or path


# -- parsing -----------------------------------------------------------------------------------

_HEX = r"(?:0[xX])?[0-9a-fA-F]+"
_HEX_RE = re.compile(_HEX)
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_KERNEL_NAME_RE = re.compile(r"[^\s:+\-\[\]\x00-\x1f\x7f]+")       # no control characters
_KERNEL = "kernel:"
_SHOWN = 80          # characters of typed text a message quotes
_EXAMPLES = ("an address (0x7f12a000), a module or area plus an offset "
             "(libc.so.6+0x1f00, [heap]+0x10) or kernel:SYMBOL[+offset]")


def _split_offset(text: str) -> tuple[str, int]:
    """(the text before the last ``SIGN HEX``, that signed offset), or the
    text and 0 when it does not end so."""
    # Read from the end, one pass: a regular expression for this
    # (``.*?\s*[+-]\s*HEX$``) backtracks in quadratic time over a text with
    # a long run of spaces, and a 1 MB location hung the caller.
    end = len(text.rstrip())
    start = end
    while start > 0 and text[start - 1] in _HEX_DIGITS:
        start -= 1
    if start == end:
        return text, 0
    if text[start - 2:start] in ("0x", "0X") and start < end:
        start -= 2
    sign = len(text[:start].rstrip()) - 1
    if sign < 0 or text[sign] not in "+-":
        return text, 0
    head = text[:sign].rstrip()
    if not head:
        return text, 0
    value = int(text[start:end], 16)
    return head, -value if text[sign] == "-" else value


def _reads_as_module(name: str) -> bool:
    """Whether ``name+0`` reads back as a module of that very name (the
    printer asks the parser, so the two cannot drift apart)."""
    try:
        back = parse_location(name + "+0")
    except InvalidInput:
        return False
    return back.kind == "module" and back.name == name


def parse_location(text: str) -> Location:
    """The location ``text`` says, by the grammar in this module's
    docstring; no map is needed (a module is kept by the name typed, see
    :func:`settle`). Raises InvalidInput naming what is wrong, or
    AddressOutOfRange (an InvalidInput) for a number beyond 64 bits."""
    if not isinstance(text, str):
        raise InvalidInput(f"a location is text, not {type(text).__name__}")
    text = text.strip()
    if not text:
        raise InvalidInput(f"type {_EXAMPLES}")
    if text.startswith(_KERNEL):
        return _parse_kernel(text)
    head, offset = _split_offset(text)
    head = head.strip()
    if not head or head[0] in "+-":
        raise InvalidInput(f"{quoted(text, _SHOWN)} is an offset with nothing to count from: put "
                           "an address or a name before it (libc.so.6+0x10, [heap]+0x10)")
    if _HEX_RE.fullmatch(head):
        address = int(head, 16)
        if address >= _LIMIT:
            raise AddressOutOfRange(f"address out of range: {printable(head, _SHOWN)} does "
                                    "not fit in 64 bits")
        if not 0 <= address + offset < _LIMIT:
            raise AddressOutOfRange(f"address out of range: {printable(text, _SHOWN)} is not a "
                                    "64-bit address")
        return Location.absolute(address + offset)
    if abs(offset) >= _LIMIT:
        raise AddressOutOfRange(f"offset out of range: {printable(_signed(offset), _SHOWN)} "
                                "does not fit in "
                                "64 bits")
    if head.startswith("["):
        if not head.endswith("]") or len(head) < 3:
            raise InvalidInput(f"bad area name {quoted(head, _SHOWN)}: a pseudo-area is "
                               "written in brackets, like [heap] or [stack]")
        return Location(LocationKind.PSEUDO, head, offset)
    if head.startswith(_KERNEL):
        raise InvalidInput(f"bad location {quoted(text, _SHOWN)}: expected {_EXAMPLES}")
    if head[:2] in ("0x", "0X"):
        raise InvalidInput(f"not a hex address: {quoted(head, _SHOWN)} (expected e.g. "
                           "0x7f12a000; a file whose name starts with 0x is named by its "
                           "full path)")
    if head.startswith("memfd:") and len(head) == len("memfd:"):
        raise InvalidInput("memfd: needs the memfd's name, e.g. memfd:lainview-demo+0x10")
    return Location(LocationKind.MODULE, head, offset)


def _parse_kernel(text: str) -> Location:
    body, offset = _split_offset(text[len(_KERNEL):])
    body = body.strip()
    module, _, symbol = body.rpartition(":")
    if not symbol:
        raise InvalidInput("kernel: needs a symbol name, e.g. kernel:jiffies")
    for what, name in (("symbol", symbol), ("module", module)):
        if name and not _KERNEL_NAME_RE.fullmatch(name):
            raise InvalidInput(f"bad kernel {what} name {quoted(name, _SHOWN)} in "
                               f"{quoted(text, _SHOWN)}: expected "
                               "kernel:[MODULE:]SYMBOL[+offset]")
    if abs(offset) >= _LIMIT:
        raise AddressOutOfRange(f"offset out of range: {printable(_signed(offset), _SHOWN)} "
                                "does not fit in "
                                "64 bits")
    return Location.kernel_symbol(symbol, offset, module or None)


# -- making locations --------------------------------------------------------------------------

def _is_module_area(area: MemoryArea) -> bool:
    return bool(area.path) and not area.is_pseudo


def _module_areas(areas: list[MemoryArea], path: str) -> list[MemoryArea]:
    return [a for a in areas if _is_module_area(a) and a.file_path == path]


def _bss_owner(areas: list[MemoryArea], area: MemoryArea) -> str | None:
    """The module whose .bss ``area`` is: anonymous, and right after that
    module's writable data with the same permissions."""
    if area.path:
        return None
    index = areas.index(area)
    if index == 0:
        return None
    before = areas[index - 1]
    if before.end == area.start and _is_module_area(before) and before.perms == area.perms \
            and area.perms & Perm.WRITE:
        return before.file_path
    return None


def _module_extent(areas: list[MemoryArea], path: str) -> tuple[int, int] | None:
    """[base, end) of a module: its mappings and the .bss right after them."""
    mine = _module_areas(areas, path)
    if not mine:
        return None
    base, end = min(a.start for a in mine), max(a.end for a in mine)
    for area in areas:
        if area.start == end and _bss_owner(areas, area) == path:
            end = area.end
    return base, end


def locate(address: int, areas: list[MemoryArea]) -> Location:
    """The most durable location of ``address`` in this map (areas sorted
    by start, as every ProcessMemory returns them)."""
    area = area_at(areas, address)
    if area is None:
        return Location.absolute(address)
    if _is_module_area(area):
        path = area.file_path
        base = min(a.start for a in _module_areas(areas, path))
        return Location(LocationKind.MODULE, path, address - base)
    if area.is_pseudo:
        base = min(a.start for a in areas if a.path == area.path)
        return Location(LocationKind.PSEUDO, area.path, address - base)
    owner = _bss_owner(areas, area)
    if owner is not None:
        base = min(a.start for a in _module_areas(areas, owner))
        return Location(LocationKind.MODULE, owner, address - base)
    return Location.absolute(address)


# -- finding them again -----------------------------------------------------------------------

def _where(pid: int | None) -> str:
    return f"the map of pid {pid}" if pid is not None else "this map"


def _listed(names: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(printable(n) for n in names[:limit])
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "") if names \
        else "none"


def _files_named(areas: list[MemoryArea], name: str, *, as_printed: bool = True) -> list[str]:
    """The mapped files (their ``file_path``) that ``name`` names: a full
    path names only that file; a file name (or ``memfd:NAME``) every file
    so named, else (``as_printed``) every file the kernel prints so, with
    its `` (deleted)``. A real file named ``lib (deleted)`` is never taken
    for a deleted ``lib`` (issue 11)."""
    files = [a for a in areas if _is_module_area(a)]
    if name.startswith("/"):
        return sorted({a.file_path for a in files if a.file_path == name})
    named = {a.file_path for a in files if _file_name(a.file_path) == name}
    if not named and as_printed:
        named = {a.file_path for a in files if _file_name(a.path) == name}
    return sorted(named)


def resolve(location: Location, areas: list[MemoryArea], size: int = 1, *,
            pid: int | None = None, symbols: SymbolLookup | None = None) -> int:
    """The address of ``location`` in this map (``areas``, sorted by start,
    as every ProcessMemory returns them), where ``size`` bytes must fit (0: an
    end address, which may be the area's end).

    A module is matched by its full path, else by its file name (or
    ``memfd:NAME``) when exactly one mapped file has that name (the program
    was moved or reinstalled). A kernel symbol is looked up by ``symbols``
    (the first address it gives). ``pid`` only names the process in
    messages. Raises :class:`Unresolved` (an InvalidInput) naming what did
    not resolve and why."""
    kind = location.kind
    where = _where(pid)
    if kind == "kernel":
        return _resolve_kernel(location, symbols)
    if kind == "absolute":
        address = location.offset
        if area_at(areas, address) is None:
            raise Unresolved(f"{address:#x} is not mapped in {where}", address=address, pid=pid)
        return address
    if kind == "pseudo":
        mine = [a for a in areas if a.path == location.name]
        if not mine:
            pseudo = sorted({a.path for a in areas if a.is_pseudo})
            raise Unresolved(f"no {printable(location.name, _SHOWN)} area in {where}; "
                             f"pseudo-areas: {_listed(pseudo)}", pid=pid)
        base, end = min(a.start for a in mine), max(a.end for a in mine)
        return _within(location, base, end, size, location.name, pid)
    name = location.name
    paths = _files_named(areas, name)
    if not paths and name.startswith("/"):                  # the program moved
        paths = _files_named(areas, _file_name(name), as_printed=False)
    if not paths:
        modules = sorted({_file_name(a.file_path) for a in areas if _is_module_area(a)})
        raise Unresolved(f"no module named {printable(name, _SHOWN)} in {where}; "
                         f"modules: {_listed(modules)}", pid=pid)
    if len(paths) > 1:
        raise Unresolved(f"{printable(_file_name(name), _SHOWN)} is mapped from several files "
                         f"({_listed(paths, 3)}): name one by its full path", pid=pid)
    extent = _module_extent(areas, paths[0])
    assert extent is not None
    return _within(location, extent[0], extent[1], size, _file_name(paths[0]), pid)


def _within(location: Location, base: int, end: int, size: int, what: str,
            pid: int | None) -> int:
    offset = location.offset
    if offset < 0:
        raise Unresolved(f"offset {_signed(offset)} puts the address before the start of "
                         f"{printable(what)}", pid=pid)
    address = base + offset
    if address + max(size, 0) > end:
        raise Unresolved(f"offset {offset:#x} is past the end of {printable(what)} "
                         f"({end - base:#x} bytes mapped)", pid=pid)
    return address


def _resolve_kernel(location: Location, symbols: SymbolLookup | None) -> int:
    name = printable(location.name)
    if symbols is None:
        raise Unresolved(f"{printable(location.text)} is a kernel symbol: it is found by a "
                         "kernel source, not in a process's map")
    found = symbols(location.name, location.module)
    if not found:
        inside = f" in module {printable(location.module)}" if location.module else ""
        raise Unresolved(f"no kernel symbol named {name}{inside}")
    address = found[0] + location.offset
    if not 0 <= address < _LIMIT:
        raise Unresolved(f"offset {_signed(location.offset)} puts {name} ({found[0]:#x}) "
                         "outside the 64-bit address space")
    return address


def settle(location: Location, areas: list[MemoryArea], *, pid: int | None = None) -> Location:
    """The durable form of a location typed by the user, as watch entries
    and bookmarks keep it: a module named by its file name gets its full
    path, an absolute address inside a module or pseudo-area becomes
    module/pseudo plus offset (:func:`locate`). A kernel symbol, and an
    absolute address that is not mapped, are kept as they are. Raises
    :class:`Unresolved` for a module or area not in this map."""
    if location.kind == "kernel":
        return location
    if location.kind == "absolute":
        return locate(location.offset, areas)
    return locate(resolve(location, areas, pid=pid), areas)


__all__ = ["KINDS", "Location", "LocationKind", "SymbolLookup", "Unresolved", "locate",
           "parse_location", "resolve", "settle"]
