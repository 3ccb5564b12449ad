"""Locations that survive ASLR: an address said as "where it is" rather
than "what number it has", so it can be found again in a later run.

- ``module``: inside an area backed by a file (or a memfd, whose name is
  stable), as an offset from the lowest address that file is mapped at:
  ``game+0x1f40``, ``libc.so.6+0x1d8000``. A zero-filled area that directly
  follows the module's writable data (its ``.bss``) counts as part of it.
- ``pseudo``: inside a named kernel area, from its lowest address:
  ``[heap]+0x40``, ``[stack]+0x1c8``, ``[anon:name]+0x10``.
- ``absolute``: anything else (anonymous mmaps): only right while the same
  process runs, and said so.
- ``kernel``: a kernel symbol (``jiffies``), read through the kernel source.

:func:`locate` makes a location from an address and the map; :func:`resolve`
finds it again in another map and says why when it cannot. The text form
(:attr:`Location.text`) is what the hex editor's go-to accepts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import InvalidInput
from .memory import AddressOutOfRange, MemoryArea, Perm, area_at, parse_address

KINDS = ("module", "pseudo", "absolute", "kernel")
@dataclass(frozen=True, slots=True)
class Location:
    """Where a value lives. ``name`` is the backing file's path (module),
    the pseudo-name (pseudo), the symbol (kernel), or "" (absolute, where
    ``offset`` is the address). ``module`` is the kernel module of a kernel
    symbol, if any."""

    kind: str
    name: str
    offset: int
    module: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidInput(f"unknown location kind {self.kind!r}")

    @classmethod
    def absolute(cls, address: int) -> "Location":
        return cls("absolute", "", address)

    @classmethod
    def kernel_symbol(cls, symbol: str, offset: int = 0,
                      module: str | None = None) -> "Location":
        return cls("kernel", symbol, offset, module)

    @property
    def short_name(self) -> str:
        if self.kind == "module":
            return os.path.basename(self.name) or self.name
        return self.name

    @property
    def text(self) -> str:
        """``libc.so.6+0x1f00``, ``[heap]+0x40``, ``0x7f…``, ``kernel:jiffies``."""
        if self.kind == "absolute":
            return f"{self.offset:#x}"
        if self.kind == "kernel":
            head = f"kernel:{self.module + ':' if self.module else ''}{self.name}"
            return head + (f"+{self.offset:#x}" if self.offset else "")
        return f"{self.short_name}+{self.offset:#x}"

    @property
    def survives_restart(self) -> bool:
        return self.kind != "absolute"

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind, "name": self.name, "offset": self.offset}
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
        if not isinstance(name, str) or (kind != "absolute" and not name):
            raise InvalidInput(f"a {kind} location needs a name")
        if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset < 1 << 64:
            raise InvalidInput(f"bad offset {offset!r} in a {kind} location")
        module = raw.get("module")
        if module is not None and not isinstance(module, str):
            raise InvalidInput(f"bad kernel module {module!r}")
        return cls(kind, name, offset, module)


@dataclass(frozen=True, slots=True)
class Resolution:
    """A location found (``address``) or not (``reason``)."""

    location: Location
    address: int | None
    reason: str = ""

    @property
    def resolved(self) -> bool:
        return self.address is not None

    @property
    def status(self) -> str:
        return "resolved" if self.resolved else f"unresolved: {self.reason}"


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
    by start, as every session returns them)."""
    area = area_at(areas, address)
    if area is None:
        return Location.absolute(address)
    if _is_module_area(area):
        path = area.file_path
        base = min(a.start for a in _module_areas(areas, path))
        return Location("module", path, address - base)
    if area.is_pseudo:
        base = min(a.start for a in areas if a.path == area.path)
        return Location("pseudo", area.path, address - base)
    owner = _bss_owner(areas, area)
    if owner is not None:
        base = min(a.start for a in _module_areas(areas, owner))
        return Location("module", owner, address - base)
    return Location.absolute(address)


# -- finding them again ------------------------------------------------------------------------

def resolve(location: Location, areas: list[MemoryArea], size: int = 1) -> Resolution:
    """Find ``location`` in this map. A module is matched by its full path,
    else by its file name when exactly one mapped file has that name (the
    program was moved or reinstalled). ``size``: the bytes that must fit."""
    kind = location.kind
    if kind == "kernel":
        return Resolution(location, None, "a kernel symbol is resolved by the kernel source")
    if kind == "absolute":
        address = location.offset
        if area_at(areas, address) is None:
            return Resolution(location, None, f"{address:#x} is not mapped in this process")
        return Resolution(location, address)
    if kind == "pseudo":
        mine = [a for a in areas if a.path == location.name]
        if not mine:
            return Resolution(location, None, f"this process has no {location.name} area")
        base, end = min(a.start for a in mine), max(a.end for a in mine)
        return _within(location, base, end, size, location.name)
    path = location.name
    extent = _module_extent(areas, path)
    if extent is None:
        base_name = os.path.basename(path)
        others = sorted({a.file_path for a in areas if _is_module_area(a)
                         and os.path.basename(a.file_path) == base_name})
        if len(others) == 1:
            path = others[0]
            extent = _module_extent(areas, path)
        elif len(others) > 1:
            return Resolution(location, None, f"{base_name} is mapped from several files "
                              f"({', '.join(others[:3])}), none of them {location.name}")
        else:
            return Resolution(location, None, f"{base_name} is not mapped in this process")
    assert extent is not None
    return _within(location, extent[0], extent[1], size, os.path.basename(path))


def _within(location: Location, base: int, end: int, size: int, what: str) -> Resolution:
    address = base + location.offset
    if address + max(size, 1) > end:
        return Resolution(location, None, f"offset {location.offset:#x} is past the end of "
                          f"{what} ({end - base:#x} bytes mapped)")
    return Resolution(location, address)


def parse_location(text: str, areas: list[MemoryArea] | None = None) -> Location:
    """A location typed by the user: ``0x7f…``, ``name+0x10``, ``kernel:jiffies``
    (``kernel:module:symbol``, ``+offset`` allowed). With ``areas``, a
    module's file name is completed to its full path, and an absolute
    address is turned into the most durable location it has."""
    text = text.strip()
    if not text:
        raise InvalidInput("type an address (0x7f…), area+offset ([heap]+0x10, libc.so.6+0x1f00)"
                           " or kernel:symbol")
    if text.startswith("kernel:"):
        body, _, off = text[len("kernel:"):].partition("+")
        module, _, symbol = body.rpartition(":")
        if not symbol:
            raise InvalidInput("kernel: needs a symbol name, e.g. kernel:jiffies")
        return Location.kernel_symbol(symbol.strip(), _parse_offset(off) if off else 0,
                                      module.strip() or None)
    try:
        address = parse_address(text)
    except AddressOutOfRange:
        raise
    except InvalidInput:
        pass
    else:
        return locate(address, areas) if areas is not None else Location.absolute(address)
    name, sep, off = text.rpartition("+")
    if not sep:
        name, off = text, "0"
    name = name.strip()
    offset = _parse_offset(off)
    if name.startswith("["):
        return Location("pseudo", name, offset)
    if areas is not None and not name.startswith("/"):
        paths = sorted({a.file_path for a in areas if _is_module_area(a)
                        and os.path.basename(a.file_path) == name})
        if len(paths) == 1:
            name = paths[0]
        elif not paths:
            raise InvalidInput(f"no area named {name!r} in this process")
    return Location("module", name, offset)


def _parse_offset(text: str) -> int:
    try:
        value = int(text.strip(), 16)
    except ValueError:
        raise InvalidInput(f"bad offset {text.strip()!r}: expected hex like 0x1f00") from None
    if value < 0:
        raise InvalidInput("offsets count forward from the area's start")
    return value


__all__ = ["Location", "Resolution", "locate", "resolve", "parse_location", "KINDS"]
