"""C types over memory: the one home of the type model, its x86-64 LP64
layout, typed values and field paths.

Types come from C declarations (:mod:`.c_decls`, pycparser) and kernel BTF
(:mod:`.btf`); both build the classes below, so a structure reads the same
whatever its source. Sizes and offsets are in bytes, bit offsets and bit
sizes in bits (bit 0 is the least significant bit of the byte at offset 0,
as on little-endian x86-64).

- :class:`Base`: an integer, float, ``_Bool`` or ``char`` type; its
  :attr:`Base.value_kind` names the value-type registry's entry
  (``backend/value_types.py``: ``i32``, ``u8``, ``f64``…) where one matches.
- :class:`Pointer`, :class:`Array`, :class:`Record` (struct or union, with
  :class:`Field` s), :class:`Enum`, :class:`Typedef`, :class:`Function`
  (only behind a pointer: a function pointer reads as an opaque pointer),
  :class:`Void`, :class:`Qualified` (const/volatile/restrict); a typedef and
  a qualified type are each an :class:`Alias` of their target (its layout).

:func:`typed_value` turns bytes into a tree of :class:`Node` (path, offset,
type, value): ``char`` arrays as text, enums by name, bitfields by their
bits, pointers followed through a read callback. :func:`field_place` turns a
field path (``inv[2].count``, ``owner->name``) into a byte offset plus the
pointer-path steps of the location grammar (``backend/locations.py``:
``base+0x10->+0x18``).
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from .errors import InvalidInput, LainviewError
from .locations import Location
from .wording import printable, quoted

POINTER_SIZE = 8
"""x86-64 LP64: pointers and ``long`` are 8 bytes."""


class CType:
    """A C type. ``size`` and ``align`` in bytes (x86-64 LP64)."""

    size: int = 0
    align: int = 1

    def c_name(self, inner: str = "") -> str:
        """The type as C spells it, around a declarator ``inner``
        (``int (*f)(void)``, ``char name[65]``)."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.c_name()

    def strip(self) -> CType:
        """This type without typedefs and qualifiers."""
        return self


@dataclass(eq=False)
class Void(CType):
    size: int = 0
    align: int = 1

    def c_name(self, inner: str = "") -> str:
        return _join("void", inner)


@dataclass(eq=False)
class Base(CType):
    """An arithmetic type: ``kind`` is ``"int"``, ``"float"``, ``"bool"`` or
    ``"char"`` (a plain, signed or unsigned ``char``: shown as text in
    arrays)."""

    name: str
    size: int
    signed: bool = True
    kind: str = "int"
    align: int = 0

    def __post_init__(self) -> None:
        if not self.align:
            self.align = max(1, min(self.size, 16))

    def c_name(self, inner: str = "") -> str:
        return _join(self.name, inner)

    @property
    def value_kind(self) -> str | None:
        """The value-type registry's name for this type (``i32``, ``u8``,
        ``f64``), or None where the registry has none (``long double``,
        ``__int128``)."""
        from . import value_types
        if self.kind == "float":
            name = f"f{self.size * 8}"
        else:
            name = f"{'i' if self.signed and self.kind != 'bool' else 'u'}{self.size * 8}"
        return name if name in value_types.names() else None


class Pointer(CType):
    """A pointer (8 bytes). ``target`` may be given as a function returning
    it, called on first use: kernel BTF resolves pointees lazily, so a
    type graph full of cycles (``struct list_head *next``) is built only as
    far as it is walked."""

    size = POINTER_SIZE
    align = POINTER_SIZE

    def __init__(self, target: CType | Callable[[], CType]):
        self._target: CType | None = target if isinstance(target, CType) else None
        self._resolve = None if isinstance(target, CType) else target

    @property
    def target(self) -> CType:
        if self._target is None:
            assert self._resolve is not None
            self._target = self._resolve()
        return self._target

    @target.setter
    def target(self, value: CType) -> None:
        self._target = value

    def __repr__(self) -> str:
        return f"Pointer({self.target.c_name()!r})"

    def c_name(self, inner: str = "") -> str:
        t = self.target
        star = "*" + inner
        if isinstance(t, (Array, Function)):
            star = f"({star})"
        return t.c_name(star)


@dataclass(eq=False)
class Array(CType):
    element: CType
    count: int            # 0: a flexible array member or unknown bound

    @property
    def size(self) -> int:  # type: ignore[override]
        return self.element.size * self.count

    @property
    def align(self) -> int:  # type: ignore[override]
        return self.element.align

    def c_name(self, inner: str = "") -> str:
        return self.element.c_name(f"{inner}[{self.count if self.count else ''}]")


@dataclass(eq=False)
class Function(CType):
    """A function type; only ever read through a pointer (opaque)."""

    result: CType
    params: list[tuple[str, CType]] = field(default_factory=list)
    variadic: bool = False
    size: int = 1
    align: int = 1

    def c_name(self, inner: str = "") -> str:
        ps = [t.c_name(n) for n, t in self.params]
        if self.variadic:
            ps.append("...")
        return self.result.c_name(f"{inner}({', '.join(ps) or 'void'})")


@dataclass(eq=False)
class Field:
    """A member of a struct or union. ``name`` is "" for an anonymous
    struct/union member (whose fields are reached as if they were the
    parent's) or an unnamed bitfield. ``offset`` in bytes; a bitfield has
    ``bit_size`` > 0 and ``bit_offset``: its first bit counted from the
    record's start (``offset`` is then ``bit_offset // 8``)."""

    name: str
    type: CType
    offset: int
    bit_offset: int = 0
    bit_size: int = 0


@dataclass(eq=False)
class Record(CType):
    """A struct or union (``kind``). ``complete`` is False for a declared,
    never defined one (``struct foo;``: size 0, no fields)."""

    kind: str
    name: str
    fields: list[Field] = field(default_factory=list)
    size: int = 0
    align: int = 1
    complete: bool = False

    def c_name(self, inner: str = "") -> str:
        return _join(f"{self.kind} {self.name}" if self.name else
                     f"{self.kind} <anonymous>", inner)

    def members(self) -> Iterator[Field]:
        """Named fields, with those of anonymous members flattened in
        (offsets relative to this record)."""
        for f in self.fields:
            inner = f.type.strip()
            if not f.name and isinstance(inner, Record):
                for g in inner.members():
                    yield Field(g.name, g.type, f.offset + g.offset,
                                g.bit_offset + f.offset * 8 if g.bit_size else 0, g.bit_size)
            elif f.name:
                yield f

    def member(self, name: str) -> Field | None:
        for f in self.members():
            if f.name == name:
                return f
        return None


@dataclass(eq=False)
class Enum(CType):
    name: str
    values: dict[str, int] = field(default_factory=dict)
    size: int = 4
    signed: bool = False
    align: int = 0

    def __post_init__(self) -> None:
        if not self.align:
            self.align = max(1, self.size)

    def c_name(self, inner: str = "") -> str:
        return _join(f"enum {self.name}" if self.name else "enum <anonymous>", inner)

    def name_of(self, value: int) -> str | None:
        for k, v in self.values.items():
            if v == value:
                return k
        return None


class Alias(CType):
    """Another name for ``target`` (a typedef, or a qualified type): the
    same size and alignment, and the same type once stripped."""

    target: CType

    @property
    def size(self) -> int:  # type: ignore[override]
        return self.target.size

    @property
    def align(self) -> int:  # type: ignore[override]
        return self.target.align

    def strip(self) -> CType:
        return self.target.strip()


@dataclass(eq=False)
class Typedef(Alias):
    name: str
    target: CType

    def c_name(self, inner: str = "") -> str:
        return _join(self.name, inner)


@dataclass(eq=False)
class Qualified(Alias):
    """``const``, ``volatile`` or ``restrict`` (``qualifier``) of a type."""

    qualifier: str
    target: CType

    def c_name(self, inner: str = "") -> str:
        if isinstance(self.target, Pointer):
            return self.target.c_name(f" {self.qualifier}{(' ' + inner) if inner else ''}")
        return f"{self.qualifier} {self.target.c_name(inner)}"


def _join(name: str, inner: str) -> str:
    if not inner:
        return name
    if inner[0] == "[" or (inner[0] == "(" and not inner.startswith("(*")):
        return name + inner
    return f"{name} {inner}"


# ---------------------------------------------------------------- layout

def _align_up(value: int, align: int) -> int:
    return -(-value // align) * align


def lay_out(record: Record, members: list[tuple[str, CType, int | None]],
            packed: bool = False, member_align: list[int] | None = None,
            min_align: int = 1) -> Record:
    """Place ``members`` (name, type, bit width or None) in ``record`` as
    gcc does on x86-64 (System V ABI): each member at the next multiple of
    its alignment; a bitfield in the next bits unless it would cross a
    boundary of its type's alignment; a zero-width bitfield moves to the
    next such boundary; unnamed bitfields do not raise the record's
    alignment; a union puts every member at 0. ``member_align``: each
    member's ``_Alignas`` (0: none), which raises its alignment (in a packed
    record too); ``min_align``: the record's ``aligned(N)`` attribute, which
    raises the record's alignment and so rounds its size. Sets fields, size,
    align and ``complete``; returns ``record``."""
    bits = 0                 # next free bit (struct) / size in bits (union)
    align = max(1, min_align)
    fields: list[Field] = []
    union = record.kind == "union"
    for i, (name, ctype, width) in enumerate(members):
        a = max(1 if packed else ctype.align, member_align[i] if member_align else 0)
        if width is None:
            start = 0 if union else _align_up(_align_up(bits, 8) // 8, a)
            fields.append(Field(name, ctype, start))
            end = (start + ctype.size) * 8
            align = max(align, a)
        else:
            if width == 0:                       # to its type's boundary, packed or not
                if not union:
                    bits = _align_up(bits, ctype.align * 8)
                continue
            pos = 0 if union else bits
            if not packed and pos // (a * 8) != (pos + width - 1) // (a * 8):
                pos = _align_up(pos, a * 8)
            fields.append(Field(name, ctype, pos // 8, pos, width))
            end = pos + width
            if name:
                align = max(align, a)
        bits = max(bits, end) if union else end
    record.fields = fields
    record.align = align
    record.size = _align_up(_align_up(bits, 8) // 8, align)
    record.complete = True
    return record


# ---------------------------------------------------------------- values

ReadMemory = Callable[[int, int], bytes]
"""``read(address, size) -> bytes``: raises a LainviewError (FaultError…)
when the memory cannot be read."""


@dataclass(eq=False)
class Node:
    """One value in a typed tree. ``path`` is the field path from the root
    (``inv[2].count``, ``owner->hp``; "" for the root), ``offset`` is bytes
    from the root's address (None below a followed pointer: ``address``
    says where), ``type`` is the C type's name, ``value`` is an int, float,
    str (char arrays, enum names) or None for aggregates; ``error`` says
    why a followed pointer could not be read; ``unreadable`` is True for a
    value whose bytes (some of them) could not be read (shown as ``??``,
    null in JSON)."""

    path: str
    name: str
    offset: int | None
    address: int | None
    type: str
    value: int | float | str | None
    children: list[Node] = field(default_factory=list)
    bits: tuple[int, int] | None = None      # (bit offset in its byte, bit size)
    error: str | None = None
    size: int = 0
    cut: int = 0                             # an array's elements past MAX_ELEMENTS, not shown
    unreadable: bool = False

    def value_text(self) -> str:
        """The value as shown: integers in decimal (pointers in hex),
        floats as the shortest text of their width, text and enum names
        quoted as JSON strings; "" for aggregates."""
        v = self.value
        if self.unreadable:
            return "??"
        if v is None:
            return ""
        if isinstance(v, str):              # JSON escapes C0 controls, printable the rest (C1)
            return printable(json.dumps(v, ensure_ascii=False))
        if isinstance(v, float):
            from .value_types import format_float
            return format_float(v, self.size)
        if self.type.endswith("*"):
            return f"{v:#x}"
        return str(v)

    def lines(self, title: str | None = None, indent: str = "  ") -> list[str]:
        """The tree as text, one field a line: ``+0x8  inv: struct item * =
        0x5000`` (offset from the root; below a followed pointer, ``@``
        and the address), children indented; the root's line is ``title``
        when given."""
        out: list[str] = []

        def emit(n: Node, depth: int) -> None:
            if depth == 0 and title is not None:
                value = n.value_text()          # a scalar root (int, enum, pointer) too
                out.append(title + (f" = {value}" if value else "")
                           + (f"  [{printable(n.error)}]" if n.error else ""))
                for c in n.children:
                    emit(c, depth + 1)
                cut(n, depth)
                return
            where = f"+{n.offset:#x}" if n.offset is not None else \
                (f"@{n.address:#x}" if n.address is not None else "")
            value = n.value_text()
            bits = f" (bits {n.bits[0]}..{n.bits[0] + n.bits[1] - 1})" if n.bits else ""
            text = f"{indent * depth}{where}  {printable(n.name) or '<root>'}: {n.type}"
            text += f" = {value}" if value else ""
            text += bits + (f"  [{printable(n.error)}]" if n.error else "")
            out.append(text)
            for c in n.children:
                emit(c, depth + 1)
            cut(n, depth)

        def cut(n: Node, depth: int) -> None:
            if n.cut:
                out.append(f"{indent * (depth + 1)}… {n.cut:,} more elements not shown "
                           f"(at most {MAX_ELEMENTS:,} are)")
        emit(self, 0)
        return out

    def to_json(self) -> dict[str, object]:
        """{offset, address, type, size, value[, bits, unreadable, error, fields |
        elements]}:
        ``fields`` maps names to children (a followed pointer's pointee is
        the field ``*``), ``elements`` lists an array's (at most
        MAX_ELEMENTS; ``elements_not_shown`` counts the rest)."""
        out: dict[str, object] = {"offset": self.offset, "address": self.address,
                                  "type": self.type, "size": self.size, "value": self.value}
        if self.bits:
            out["bits"] = list(self.bits)
        if self.unreadable:
            out["unreadable"] = True
        if self.error:
            out["error"] = self.error
        if self.children:
            if self.children[0].name.startswith("["):
                out["elements"] = [c.to_json() for c in self.children]
                if self.cut:
                    out["elements_not_shown"] = self.cut
            else:
                out["fields"] = {c.name: c.to_json() for c in self.children}
        return out

    def walk(self) -> Iterator[Node]:
        yield self
        for c in self.children:
            yield from c.walk()

    def find(self, path: str) -> Node:
        """The node of ``path`` (KeyError if absent)."""
        for n in self.walk():
            if n.path == path:
                return n
        raise KeyError(path)


MAX_FOLLOW = 16
"""Pointer levels :func:`typed_value` follows at most (a cyclic list ends there)."""

MAX_ELEMENTS = 4096
"""Array elements shown beyond which an array is cut (the rest not read)."""


def _int(data: bytes, signed: bool) -> int:
    return int.from_bytes(data, "little", signed=signed)


def _scalar(t: CType, data: bytes) -> int | float | str | None:
    """The value of scalar ``t`` in ``data``; None when ``data`` does not
    hold all its bytes (a field past the bytes read: damaged debug
    information can place one there) or it is not decoded."""
    s = t.strip()
    if len(data) < (8 if isinstance(s, Pointer) else max(s.size, 1)):
        return None
    if isinstance(s, Base):
        if s.kind == "float":
            if s.size == 4:
                return float(struct.unpack("<f", data[:4])[0])
            if s.size == 8:
                return float(struct.unpack("<d", data[:8])[0])
            if s.size == 2:
                return float(struct.unpack("<e", data[:2])[0])
            return None            # long double: not decoded
        return _int(data[:s.size], s.signed and s.kind != "bool")
    if isinstance(s, Enum):
        v = _int(data[:s.size], s.signed)
        return s.name_of(v) or v
    if isinstance(s, Pointer):
        return _int(data[:8], False)
    return None


def _text(data: bytes) -> str:
    """A char array's text up to its NUL, as the target holds it (escaped
    where it is shown: :meth:`Node.value_text`; JSON escapes it itself)."""
    return data.split(b"\0", 1)[0].decode("utf-8", "replace")


def typed_value(ctype: CType, data: bytes, address: int | None = None,
                read: ReadMemory | None = None, follow: int = 0,
                name: str = "", unread: Sequence[tuple[int, int]] = ()) -> Node:
    """The tree of ``ctype``'s value held in ``data`` (at least
    ``ctype.size`` bytes; a scalar whose bytes are not all there has no
    value, never a made-up zero: damaged debug information can claim any
    size). With ``read`` and
    ``follow`` > 0, a pointer to a struct/union is followed (``follow``
    levels deep, at most :data:`MAX_FOLLOW`) to a child node typed as its
    pointee; an unreadable pointee gives that node an ``error``. ``unread``
    lists the spans of ``data`` that were not read, as (offset, length)
    bytes (a ReadResult's holes): a scalar, bitfield or char array touching
    one has no value and is ``unreadable`` (``??``)."""
    data = bytes(data)
    return _node(ctype, data, 0, address, name, name, read, min(follow, MAX_FOLLOW), True,
                 tuple(unread))


def _touches(unread: tuple[tuple[int, int], ...], start: int, end: int) -> bool:
    return any(o < end and o + n > start for o, n in unread)


def _node(t: CType, data: bytes, off: int, base: int | None, path: str, name: str,
          read: ReadMemory | None, follow: int, relative: bool,
          unread: tuple[tuple[int, int], ...] = ()) -> Node:
    addr = None if base is None else base + off
    s = t.strip()
    node = Node(path, name, off if relative else None, addr, t.c_name(), None, size=s.size)
    if isinstance(s, Record):
        for f in s.fields:
            fpath = _join_path(path, f.name)
            if f.bit_size:
                lost = _touches(unread, off + f.bit_offset // 8,
                                off + (f.bit_offset + f.bit_size + 7) // 8)
                shown = None if lost else \
                    bitfield_value(f.type, data[off:], f.bit_offset, f.bit_size)
                node.children.append(Node(fpath, f.name, (off + f.offset) if relative else None,
                                          None if base is None else base + off + f.offset,
                                          f.type.c_name(), shown,
                                          bits=(f.bit_offset % 8, f.bit_size),
                                          size=f.type.size, unreadable=lost))
                continue
            child = _node(f.type, data, off + f.offset, base, fpath, f.name or "<anonymous>",
                          read, follow, relative, unread)
            node.children.append(child)
        return node
    if isinstance(s, Array):
        es = s.element.strip()
        if isinstance(es, Base) and es.kind == "char" and es.size == 1:
            if _touches(unread, off, off + s.size):
                node.unreadable = True
            else:
                node.value = _text(data[off:off + s.size])
            return node
        for i in range(min(s.count, MAX_ELEMENTS)):
            node.children.append(_node(s.element, data, off + i * s.element.size, base,
                                       f"{path}[{i}]", f"[{i}]", read, follow, relative,
                                       unread))
        node.cut = max(0, s.count - MAX_ELEMENTS)
        return node
    if _touches(unread, off, off + max(s.size, 1)):
        node.unreadable = True
        return node
    node.value = _scalar(t, data[off:off + max(s.size, 1)])
    if isinstance(s, Pointer) and read is not None and follow > 0 and node.value:
        target = s.target.strip()
        if isinstance(target, Record) and target.complete and target.size:
            where = int(node.value)
            try:
                pointee = read(where, target.size)
            except LainviewError as exc:
                node.error = str(exc)
                return node
            child = _node(s.target, bytes(pointee).ljust(target.size, b"\0"), 0, where,
                          f"{path}->", "*", read, follow - 1, False)
            child.path = f"*{path}" if path else "*"
            node.children.append(child)
    return node


def bitfield_value(ctype: CType, data: bytes, bit_offset: int,
                   bit_size: int) -> int | str | None:
    """The value of a bitfield of type ``ctype`` whose first bit is
    ``bit_offset`` bits into ``data`` (little-endian bit order), sign-extended
    for a signed type; an enum's by name where it has one. None for a
    bitfield no compiler makes (damaged debug information: a size outside
    1..128 bits, a negative offset)."""
    if not 0 < bit_size <= 128 or bit_offset < 0:
        return None
    raw = _int(data[bit_offset // 8:(bit_offset + bit_size + 7) // 8], False)
    v = (raw >> (bit_offset % 8)) & ((1 << bit_size) - 1)
    ft = ctype.strip()
    if isinstance(ft, (Base, Enum)) and ft.signed and v >> (bit_size - 1):
        v -= 1 << bit_size
    if isinstance(ft, Enum):
        return ft.name_of(v) or v
    return v


def leaf_value(ctype: CType, data: bytes) -> int | float | str | None:
    """The value :func:`typed_value` gives a scalar or ``char`` array of
    type ``ctype`` held in ``data`` (None for aggregates): the same
    decoding, for one field."""
    s = ctype.strip()
    if isinstance(s, Array):
        es = s.element.strip()
        if isinstance(es, Base) and es.kind == "char" and es.size == 1:
            return _text(data[:s.size])
        return None
    if isinstance(s, Record):
        return None
    return _scalar(ctype, data[:max(s.size, 1)])


def _join_path(path: str, name: str) -> str:
    if not name:
        return path
    if not path or path.endswith("->"):
        return f"{path}{name}"
    return f"{path}.{name}"


# ---------------------------------------------------------------- field paths

# C identifiers and indexes in ASCII only (``\d`` would take a full-width
# digit); an index is hex or decimal without a leading zero (C reads 010
# as octal 8, so a leading zero is refused rather than guessed).
_STEP = re.compile(r"\s*(?:(\.|->)\s*([A-Za-z_]\w*)|\[\s*(0[xX][0-9a-fA-F]+|0|[1-9][0-9]*)\s*\])",
                   re.ASCII)
_FIRST = re.compile(r"\s*([A-Za-z_]\w*)", re.ASCII)


@dataclass(frozen=True)
class Place:
    """Where a field path leads: ``offset`` from the base (bytes), then for
    each pointer dereference one more step (as ``Location.steps``: address =
    pointer read at address + step), the field's ``type`` and its bits
    (``bit_offset`` within the byte and ``bit_size``; 0 for a whole field).
    ``pointers`` names, for each step, the field path of the pointer it
    reads (``inv``, ``inv->next``), for messages."""

    offset: int
    steps: tuple[int, ...]
    type: CType
    bit_offset: int = 0
    bit_size: int = 0
    pointers: tuple[str, ...] = ()

    def located(self, base: Location) -> Location:
        """The location of the field in a structure placed at ``base``
        (any kind of location, a pointer path included)."""
        if base.steps:
            steps = (*base.steps[:-1], base.steps[-1] + self.offset, *self.steps)
            return replace(base, steps=steps)
        return replace(base, offset=base.offset + self.offset, steps=self.steps)

    def location_suffix(self) -> str:
        """The pointer-path text to append to the base's location:
        ``+0x10->+0x18`` (empty for offset 0 without steps)."""
        text = f"+{self.offset:#x}" if self.offset else ""
        return text + "".join(f"->+{s:#x}" for s in self.steps)


def field_place(ctype: CType, path: str) -> Place:
    """Resolve a C field path (``inv[2].count``, ``owner->name[3]``,
    ``->next->value``: ``->`` follows a pointer, ``.`` and ``[i]`` stay in
    place) within ``ctype``. Raises InvalidInput naming the part that does
    not fit (no such field, not a struct, not a pointer, index past the end)."""
    steps: list[int] = []
    offset = 0
    t = ctype
    bits = (0, 0)
    pos = 0
    first = _FIRST.match(path)
    tokens: list[tuple[str, str, int]] = []      # (separator, item, where it starts)
    if first:
        tokens.append((".", first.group(1), 0))
        pos = first.end()
    while pos < len(path.rstrip()):
        m = _STEP.match(path, pos)
        if not m:
            raise InvalidInput(f"field path {quoted(path)}: cannot read {quoted(path[pos:])} "
                               "(expected .field, ->field or [index])")
        if m.group(3) is not None:
            tokens.append(("[", m.group(3), pos))
        else:
            tokens.append((m.group(1), m.group(2), pos))
        pos = m.end()
    if not tokens:
        raise InvalidInput("empty field path")
    pointers: list[str] = []
    for sep, item, start in tokens:
        if bits[1]:
            raise InvalidInput(f"field path {quoted(path)}: a bitfield has no members")
        s = t.strip()
        if sep == "->":
            if not isinstance(s, Pointer):
                raise InvalidInput(f"field path {quoted(path)}: -> needs a pointer, "
                                   f"{quoted(t.c_name())} is not one")
            steps.append(0)
            pointers.append(path[:start].strip().lstrip("."))
            t = s.target
            s = t.strip()
        if sep == "[":
            index = int(item, 16) if item[:2] in ("0x", "0X") else int(item)
            if not isinstance(s, Array):
                raise InvalidInput(f"field path {quoted(path)}: [{index}] needs an array, "
                                   f"{quoted(t.c_name())} is not one")
            if s.count and index >= s.count:
                raise InvalidInput(f"field path {quoted(path)}: index {index} past the end "
                                   f"of {quoted(t.c_name())}")
            delta = index * s.element.size
            t = s.element
        else:
            if not isinstance(s, Record):
                raise InvalidInput(f"field path {quoted(path)}: {quoted(t.c_name())} has no "
                                   f"field {quoted(item)}")
            f = s.member(item)
            if f is None:
                raise InvalidInput(f"field path {quoted(path)}: {quoted(t.c_name())} has no "
                                   f"field {quoted(item)}")
            delta = f.offset
            if f.bit_size:
                bits = (f.bit_offset % 8, f.bit_size)
            t = f.type
        if steps:
            steps[-1] += delta
        else:
            offset += delta
    return Place(offset, tuple(steps), t, bits[0], bits[1], tuple(pointers))


# ---------------------------------------------------------------- C text

def c_definition(ctype: CType) -> str:
    """``ctype`` as a C definition, each member with its offset and size
    in a comment (as pahole prints them): ``struct new_utsname {\\n\\tchar
    sysname[65]; /* 0 65 */ …};``. A typedef of an anonymous struct shows
    the struct; a pointer, array or base type its name."""
    if isinstance(ctype, Typedef):
        inner = ctype.target
        if isinstance(inner, (Record, Enum)) and not inner.name:
            return f"typedef {_body(inner, 0)} {ctype.name};"
        return f"typedef {inner.c_name(ctype.name)};"
    if isinstance(ctype, (Record, Enum)):
        size = f" /* size: {ctype.size} */" if isinstance(ctype, Record) and ctype.complete \
            else ""
        return _body(ctype, 0) + ";" + size
    return ctype.c_name()


def _body(t: Record | Enum, depth: int, base: int = 0) -> str:
    pad = "\t" * (depth + 1)
    head = t.c_name().replace(" <anonymous>", "")
    if isinstance(t, Enum):
        items = "".join(f"{pad}{k} = {v},\n" for k, v in t.values.items())
        return f"{head} {{\n{items}{pad[:-1]}}}"
    if not t.complete:
        return head
    lines = []
    for f in t.fields:
        inner = f.type
        at = base + f.offset
        if isinstance(inner, Record) and not inner.name and inner.complete:
            decl = f"{_body(inner, depth + 1, at)}{(' ' + f.name) if f.name else ''}"
        elif isinstance(inner, Enum) and not inner.name:
            decl = f"{_body(inner, depth + 1)}{(' ' + f.name) if f.name else ''}"
        else:
            decl = inner.c_name(f.name)
        if f.bit_size:
            where = f"/* {base + f.bit_offset // 8}:{f.bit_offset % 8} {f.bit_size} bits */"
            lines.append(f"{pad}{decl}:{f.bit_size}; {where}")
        else:
            lines.append(f"{pad}{decl}; /* {at} {inner.size} */")
    return f"{head} {{\n" + "\n".join(lines) + f"\n{pad[:-1]}}}"


_INT_WORDS = frozenset({"char", "short", "int", "long", "signed", "unsigned", "__int128"})
_OTHER_BASES = frozenset({"float", "double", "long double", "_Bool", "_Float16", "void"})
_C_SPELLING = {"short int": "short", "short unsigned int": "unsigned short",
               "long int": "long", "long unsigned int": "unsigned long",
               "long long int": "long long", "long long unsigned int": "unsigned long long",
               "__int128 unsigned": "unsigned __int128"}


def gcc_base_name(text: str) -> str | None:
    """The name gcc gives C base type ``text`` in DWARF and BTF, whatever
    order and optional words it is spelled with: ``unsigned long``,
    ``long unsigned``, ``unsigned long int`` → ``long unsigned int``;
    ``short`` → ``short int``; ``signed`` → ``int``; ``signed char`` stays
    (a type of its own, as ``char`` is); ``double``, ``_Bool``… as
    themselves. None when ``text`` is no base type (``u32``, ``struct x``,
    ``long short``). The one home of base-type spellings: BTF, DWARF and
    C-declaration lookups all go through it."""
    words = text.split()
    joined = " ".join(words)
    if joined in _OTHER_BASES:
        return joined
    if not words or any(w not in _INT_WORDS for w in words) \
            or any(words.count(w) > 1 for w in _INT_WORDS - {"long"}):
        return None
    unsigned, signed = "unsigned" in words, "signed" in words
    longs, shorts = words.count("long"), words.count("short")
    chars, ints, wide = words.count("char"), words.count("int"), words.count("__int128")
    if (unsigned and signed) or longs > 2:
        return None
    if wide:
        return None if longs or shorts or chars or ints else \
            ("__int128 unsigned" if unsigned else "__int128")
    if chars:
        return None if longs or shorts or ints else \
            ("unsigned char" if unsigned else "signed char" if signed else "char")
    if shorts:
        return None if longs else ("short unsigned int" if unsigned else "short int")
    stem = "long long " if longs == 2 else "long " if longs else ""
    return f"{stem}{'unsigned ' if unsigned else ''}int"


def c_base_name(text: str) -> str | None:
    """Base type ``text`` as C is usually written (``unsigned long``,
    ``short``, ``long long``, ``unsigned char``); None as
    :func:`gcc_base_name`."""
    gcc = gcc_base_name(text)
    if gcc is None:
        return None
    return _C_SPELLING.get(gcc, gcc)


MAX_DERIVED = 64
"""Pointer and array levels a type name (``--type``, a session's type) may
stack: past this no program has them, and building them recursed out of
Python's stack."""


def check_type_name(text: str) -> None:
    """Raises InvalidInput when the type name ``text`` stacks more than
    :data:`MAX_DERIVED` pointers, arrays or parentheses."""
    levels = text.count("*") + text.count("[") + text.count("(")
    if levels > MAX_DERIVED:
        raise InvalidInput(f"a type name of {levels} pointer, array or parenthesis levels: "
                           f"at most {MAX_DERIVED}")


def split_type_name(text: str) -> tuple[str, int]:
    """``text`` without trailing ``*`` s, and how many there were:
    ``"struct item **"`` → ``("struct item", 2)``. Raises InvalidInput for
    a name nested past :data:`MAX_DERIVED` (:func:`check_type_name`)."""
    check_type_name(text)
    text = " ".join(text.replace("*", " * ").split())
    stars = 0
    while text.endswith("*"):
        stars += 1
        text = text[:-1].strip()
    return text, stars


def c_closure(ctype: CType) -> str:
    """C text that declares ``ctype`` and everything it needs to compile:
    a forward declaration of each struct/union reached only through a
    pointer, then the definitions of the types it contains, innermost
    first, then its own (a typedef of a typedef of a base type included)."""
    forward: dict[str, None] = {}
    defined: dict[int, None] = {}
    out: list[str] = []

    def named(t: CType) -> None:
        """Forward-declare what ``t`` names through pointers and prototypes."""
        s = t
        while isinstance(s, (Qualified, Pointer, Array)):
            s = s.target if not isinstance(s, Array) else s.element
        if isinstance(s, Record) and s.name:
            forward[f"{s.kind} {s.name};"] = None
        elif isinstance(s, Function):
            named(s.result)
            for _n, p in s.params:
                named(p)
        elif isinstance(s, Typedef):
            need(s)

    def need(t: CType) -> None:
        """Define ``t`` (and what it holds by value) before it is used."""
        if id(t) in defined:
            return
        if isinstance(t, Qualified):
            need(t.target)
        elif isinstance(t, Array):
            need(t.element)
        elif isinstance(t, Pointer):
            named(t)
        elif isinstance(t, Typedef):
            defined[id(t)] = None
            if isinstance(t.target, (Record, Enum)) and not t.target.name:
                walk(t.target)
            else:
                need(t.target)
            out.append(c_definition(t))
        elif isinstance(t, (Record, Enum)) and t.name:
            defined[id(t)] = None
            if isinstance(t, Record):
                walk(t)
                if not t.complete:
                    forward[f"{t.kind} {t.name};"] = None
                    return
            out.append(c_definition(t))
        elif isinstance(t, Record):
            walk(t)

    def walk(r: Record | Enum) -> None:
        if isinstance(r, Record):
            for f in r.fields:
                need(f.type)

    need(ctype)
    return "\n".join([*forward, *out]) + "\n"


def settled(ctype: CType, depth: int = 64, follow: int = MAX_FOLLOW) -> CType:
    """``ctype`` with everything its value tree names already built: the
    types of its fields, elements and typedef targets, and the pointee of
    each pointer among them (its name, and a pointee struct's fields down
    to ``follow`` pointers deep, as :func:`typed_value` follows them), so
    that showing the value on another thread, or after the DWARF file is
    closed, reads no more BTF or DWARF. Returns ``ctype``."""
    seen: set[tuple[int, int]] = set()

    def walk(t: CType, left: int, pointers: int) -> None:
        if (id(t), pointers) in seen or left <= 0:
            return
        seen.add((id(t), pointers))
        if isinstance(t, Pointer):
            t.c_name()                      # resolves the pointee and names it
            if pointers > 0:
                walk(t.target, left - 1, pointers - 1)
            return
        if isinstance(t, (Typedef, Qualified)):
            walk(t.target, left - 1, pointers)
        elif isinstance(t, Array):
            walk(t.element, left - 1, pointers)
        elif isinstance(t, Record):
            for f in t.fields:
                walk(f.type, left - 1, pointers)
    walk(ctype, depth, follow)
    return ctype
