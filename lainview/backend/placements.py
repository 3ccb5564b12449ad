"""Placements and field paths: a C type placed at a location, and the
C-like paths (``player.inv[2].count``, ``player->held->hp``) that name one
of its fields. Plain data, no Qt: the structure view, the watch list and
session files keep the same objects.

A :class:`Placement` is (name, declarations text, type name, location). Its
location is any form of the location grammar (``backend/locations.py``),
pointer paths included (``memfd:lainview-demo+0xfc0->+0x0``), so it is
resolved again on every refresh: a placement survives the pointer moving and
the target restarting. Its name (default: the type's own, ``player`` for
``struct player``) is the first word of a field path.

A field path is the placement's name, then ``.field``, ``->field`` and
``[index]`` steps as in C (``->`` after the name of a placed struct reads as
``.``: the name stands for the placed object, as a pointer to it would). It
resolves to a :class:`FieldTarget`: the field's location (the placement's,
plus an offset and one pointer-path step per ``->``: :func:`ctypes_model.field_place`)
and its C type. :func:`resolve_field` finds its address now (on the backend
thread, pointers read through a callback); :func:`explain` turns the
resolver's :class:`Unresolved` into a message naming the pointer field
where the path broke.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from .c_decls import Declarations, parse_header
from .ctypes_model import (Array, Base, CType, Enum, Function, Place, Pointer, Record,
                           c_closure, field_place)
from .errors import InvalidInput, Unresolved
from .locations import Location, ModuleSymbolLookup, PointerRead, parse_location, resolve
from .memory import MemoryArea
from .wording import printable, quoted

_NAME = re.compile(r"[A-Za-z_]\w*")
MAX_DECLARATIONS = 1 << 20
"""Characters of declarations text a placement may carry (a session file is user input)."""
MAX_PLACED = 1 << 20
"""Bytes of a placed type: the structure view reads all of them on every
refresh (a larger object is placed by its parts: a field, an element)."""


def check_placeable(ctype: CType, type_name: str, limit: int | None = MAX_PLACED) -> None:
    """Raises InvalidInput unless a value of ``ctype`` can be shown: it has
    a size (the message says why not), of at most ``limit`` bytes (None:
    any; the structure view reads a placement whole on each refresh, so it
    takes :data:`MAX_PLACED`)."""
    if ctype.size <= 0:
        s = ctype.strip()
        why = "declared, never defined" if isinstance(s, (Record, Enum)) else \
            "an array of no elements" if isinstance(s, Array) else \
            "a function, not data" if isinstance(s, Function) else "void holds no value"
        raise InvalidInput(f"{printable(type_name)} has no size ({why})")
    if limit is not None and ctype.size > limit:
        raise InvalidInput(f"{printable(type_name)} is {ctype.size:,} bytes: a placed type is "
                           f"at most {limit:,} (place one of its fields or elements)")


@lru_cache(maxsize=32)
def declarations_of(text: str) -> Declarations:
    """The parsed declarations ``text`` (cached: every placement of one header
    shares them). Raises InvalidInput naming line and column."""
    return parse_header(text, "declarations")


def default_name(type_name: str) -> str:
    """A placement's default name: the type's own (``player`` for ``struct
    player``, ``player_t`` for a typedef), else ``value``."""
    words = _NAME.findall(type_name.replace("*", " "))
    words = [w for w in words if w not in ("struct", "union", "enum", "const", "volatile")]
    return words[-1] if words else "value"


@dataclass(frozen=True)
class Placement:
    """A C type (``type_name`` of ``declarations``) placed at ``location``,
    named ``name`` (a C identifier) in field paths."""

    name: str
    declarations: str
    type_name: str
    location: Location

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise InvalidInput(f"a placement's name must be a C identifier, not "
                               f"{quoted(self.name)}")
        if len(self.declarations) > MAX_DECLARATIONS:
            raise InvalidInput(f"declarations of {len(self.declarations)} characters: at most "
                               f"{MAX_DECLARATIONS}")

    def ctype(self) -> CType:
        """The placed type. Raises InvalidInput (a bad header, an unknown
        type, one without a size)."""
        ctype = declarations_of(self.declarations).lookup(self.type_name)
        check_placeable(ctype, self.type_name)
        return ctype

    def to_json(self) -> dict[str, str]:
        """{name, declarations, type, location (the grammar's text)}."""
        return {"name": self.name, "declarations": self.declarations,
                "type": self.type_name, "location": self.location.text}

    @classmethod
    def from_json(cls, raw: object) -> Placement:
        """Raises InvalidInput naming the field that is wrong."""
        if not isinstance(raw, dict):
            raise InvalidInput(f"a placement must be an object, not {type(raw).__name__}")
        for key in ("declarations", "type", "location"):
            if not isinstance(raw.get(key), str):
                raise InvalidInput(f"a placement needs {quoted(key)} as text")
        type_name = raw["type"].strip()
        if not type_name:
            raise InvalidInput("a placement needs a type name")
        name = raw.get("name", default_name(type_name))
        if not isinstance(name, str):
            raise InvalidInput("a placement's name must be text")
        try:
            location = parse_location(raw["location"])
        except InvalidInput as exc:
            raise InvalidInput(f"placement {printable(name)}: {exc.message}") from None
        return cls(name, raw["declarations"], type_name, location)


def placement_of_type(ctype: CType, name: str, location: Location) -> Placement:
    """A placement of a type that came with no C text (a global's DWARF
    type, a BTF type): its declarations are the C that declares it and
    what it needs (:func:`ctypes_model.c_closure`), so a session keeps it
    as it keeps a pasted header. A named struct, union or enum is placed by
    its name; any other type (an array, a base type, a pointer) through a
    typedef named after the placement (``name_t``). Raises InvalidInput
    when the C does not read back (a type C cannot spell)."""
    inner = ctype.strip()
    if isinstance(inner, (Record, Enum)) and inner.name and ctype is inner:
        text, type_name = c_closure(ctype), ctype.c_name()
    else:
        type_name = f"{name}_t"
        text = c_closure(ctype) + f"typedef {ctype.c_name(type_name)};\n"
    placement = Placement(name, text, type_name, location)
    placed = placement.ctype()
    if placed.size != ctype.size:
        raise InvalidInput(f"{printable(type_name)} reads back as {placed.size} bytes, not "
                           f"{ctype.size}: its C does not say its layout")
    return placement


@dataclass(frozen=True)
class FieldTarget:
    """Where a field path leads: its ``location`` (a pointer path when the
    placement's location is one or the path has ``->``), its C ``type``, the
    :class:`Place` within the placed type, and the ``placement``."""

    text: str
    placement: Placement
    place: Place
    location: Location

    @property
    def type(self) -> CType:
        return self.place.type


def split_path(text: str) -> tuple[str, str]:
    """(the placement's name, the rest): ``("player", ".inv[2].count")``.
    Raises InvalidInput when the path does not start with a name."""
    m = _NAME.match(text.strip())
    if not m:
        raise InvalidInput(f"field path {quoted(text)}: start with a placement's name "
                           "(player.hp, player->inv[2].count)")
    return m.group(0), text.strip()[m.end():].strip()


def field_target(text: str, placements: Mapping[str, Placement] | Placement) -> FieldTarget:
    """The field ``text`` names among ``placements`` (by name) or in one
    placement. Raises InvalidInput: no such placement, no such field, an
    index past an array's end, ``->`` on what is not a pointer, a bad
    header."""
    name, rest = split_path(text)
    if isinstance(placements, Placement):
        placements = {placements.name: placements}
    placement = placements.get(name)
    if placement is None:
        known = ", ".join(sorted(placements)) or "none"
        raise InvalidInput(f"field path {quoted(text)}: no placement named {quoted(name)} "
                           f"(placed: {known})")
    ctype = placement.ctype()
    if rest.startswith("->") and not isinstance(ctype.strip(), Pointer):
        rest = "." + rest[2:]              # the name stands for the placed object
    if not rest:
        place = Place(0, (), ctype)
    else:
        try:
            place = field_place(ctype, rest)
        except InvalidInput as exc:
            raise InvalidInput(exc.message.replace(f"field path {quoted(rest)}",
                                                   f"field path {quoted(text)}", 1)) from None
    return FieldTarget(text.strip(), placement, place, place.located(placement.location))


def joined(name: str, path: str) -> str:
    """A field path with the placement's name in front: ``player.held->hp``,
    ``arr[2].x``, ``player`` for the whole (``path`` relative to the placed
    type, as ``ctypes_model.Node.path``)."""
    if not path:
        return name
    if path.startswith("*"):
        return f"*{joined(name, path[1:])}"
    return f"{name}{path}" if path.startswith(("[", "->")) else f"{name}.{path}"


def explain(target: FieldTarget, exc: Unresolved) -> str:
    """The message of ``exc`` (the resolver's, for ``target.location``) with
    the pointer field where the path broke named: ``player->held->hp: the
    pointer player.held leads to unmapped memory (at level 2, 0x8 is not
    mapped …)``."""
    level = exc.level
    ahead = len(target.placement.location.steps)
    if level is None or level <= 1:
        return f"{target.text}: {exc.message}"
    # level L broke on the address the pointer read at level L - 1 gave
    read = level - 1
    if read <= ahead:
        return f"{target.text}: {exc.message}"
    index = read - ahead - 1
    if not 0 <= index < len(target.place.pointers):
        return f"{target.text}: {exc.message}"
    pointer = joined(target.placement.name, target.place.pointers[index])
    return f"{target.text}: the pointer {pointer} leads nowhere ({exc.message})"


def resolve_field(target: FieldTarget, areas: list[MemoryArea], *,
                  read_pointer: PointerRead | None = None, pid: int | None = None,
                  module_symbol: ModuleSymbolLookup | None = None) -> tuple[int, CType]:
    """(the field's address now, its C type): the placement's location and
    the path's pointers resolved in ``areas`` (blocking reads through
    ``read_pointer``: call it on the backend thread). Raises Unresolved
    naming the pointer field where the path broke (:func:`explain`)."""
    size = max(target.type.size, 1)
    try:
        address = resolve(target.location, areas, size, pid=pid, read_pointer=read_pointer,
                          module_symbol=module_symbol)
    except Unresolved as exc:
        raise Unresolved(explain(target, exc), address=exc.address, pid=pid,
                         level=exc.level) from exc
    return address, target.type


def watch_type(target: FieldTarget) -> tuple[str, int | None]:
    """The value-type registry's name and text length a watch of the field
    ``target`` reads it as (:func:`value_type`). Raises InvalidInput for a
    bitfield (a watch reads and freezes whole bytes, so it would write its
    neighbours' bits) and for a field no value type reads (a struct)."""
    if target.place.bit_size:
        raise InvalidInput(f"{printable(target.text)} is a bitfield: the watch list reads "
                           "whole bytes")
    want = value_type(target.type)
    if want is None:
        raise InvalidInput(f"field {printable(target.text)} is "
                           f"{printable(target.type.c_name())}: it cannot be watched")
    return want


def value_type(ctype: CType) -> tuple[str, int | None] | None:
    """The value-type registry's name (``backend/value_types.py``) a field
    of C type ``ctype`` is read and written as, and its length for text:
    integers and floats by size and sign (``i32``, ``f64``), enums by their
    integer, ``char`` arrays as (``utf8``, count); None for other types
    (structs, pointers to them, ``long double``)."""
    s = ctype.strip()
    if isinstance(s, Enum):
        return f"{'i' if s.signed else 'u'}{s.size * 8}", None
    if isinstance(s, Base):
        return (s.value_kind, None) if s.value_kind is not None else None
    if isinstance(s, Pointer):
        return "u64", None
    if isinstance(s, Array) and isinstance(s.element.strip(), Base) \
            and s.element.strip().size == 1 and s.count:
        return "utf8", s.count
    return None


def display_of(ctype: CType) -> str:
    """How the watch list shows a field of C type ``ctype`` (one of its
    value type's ``display_formats``): a pointer's number in ``hex``, as
    the structure tree shows it; everything else ``auto``."""
    return "hex" if isinstance(ctype.strip(), Pointer) else "auto"


__all__ = ["FieldTarget", "Placement", "declarations_of", "default_name", "display_of",
           "explain", "field_target", "joined", "resolve_field", "split_path", "value_type",
           "watch_type", "check_placeable", "placement_of_type"]
