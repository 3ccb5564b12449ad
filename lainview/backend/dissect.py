"""Dissect: guess what each 8-byte slot of untyped memory holds, as Cheat
Engine's structure dissector does, and turn the guesses into C
declarations (``backend/c_decls.py`` parses them back into a structure).

Each slot gets one guess (:class:`SlotKind`) with the reason for it:

- ``zero``: all eight bytes 0.
- ``pointer``: a value inside a mapped area of the target (from
  ``/proc/PID/maps``), named where it points: ``module!symbol+off`` with
  the modules' symbols, else the location grammar's form
  (``[heap]+0x10``, ``libc.so.6+0x1f00``; ``backend/locations.py``).
- ``string``: text: at least four printable ASCII characters ending at a
  NUL inside the slot, or eight (the middle of a longer string).
- ``int64``: a small integer (-2**24 < n < 2**24).
- ``int32[2]``: two small 32-bit integers (each -2**24 < n < 2**24).
- ``double``: a finite IEEE double of sane magnitude (1e-9 to 1e15).
- ``float[2]``: two floats, each 0 or finite of sane magnitude (1e-6 to
  1e9). Where the bytes read as both, the reading with fewer significant
  digits wins (3.25 is a double; 1.5, -0.25 are floats).
- ``int64`` again: any other integer of 32 bits.
- ``bytes``: none of these (a hash, flags, packed small fields…).
- ``unreadable``: a byte of the slot could not be read (the read's hole
  reason says why).

Checked in that order: the first that fits is the guess. Pure functions,
no I/O: the caller reads the bytes (a :class:`~.memory.ReadResult`) and
passes the map and, optionally, a :class:`~.module_symbols.Symbolizer`.
"""

from __future__ import annotations

import enum
import math
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import InvalidInput
from .locations import Location, locate
from .memory import MemoryArea, Perm, ReadResult, area_at
from .module_symbols import Symbolizer
from .wording import printable

SLOT = 8
"""Bytes per slot (a pointer on x86-64)."""

MAX_DISSECT = 4096
"""The most bytes one dissection looks at (512 slots; a page, as Cheat
Engine's dissector defaults to): guessing costs some tens of microseconds a
slot, on the GUI thread at each live refresh for the slots that changed."""


class SlotKind(enum.StrEnum):
    ZERO = "zero"
    POINTER = "pointer"
    STRING = "string"
    DOUBLE = "double"
    INT64 = "int64"
    INT32_PAIR = "int32[2]"
    FLOAT_PAIR = "float[2]"
    BYTES = "bytes"
    UNREADABLE = "unreadable"


CHOICES: tuple[SlotKind, ...] = (SlotKind.POINTER, SlotKind.DOUBLE, SlotKind.FLOAT_PAIR,
                                  SlotKind.STRING, SlotKind.INT64, SlotKind.INT32_PAIR,
                                  SlotKind.ZERO, SlotKind.BYTES)
"""The kinds a user may choose for a full slot (unreadable is only a guess)."""

# kind -> (C type, array length or 0, field name prefix)
_C_FIELDS: dict[SlotKind, tuple[str, int, str]] = {
    SlotKind.ZERO: ("uint64_t", 0, "zero"),
    SlotKind.POINTER: ("void *", 0, "ptr"),
    SlotKind.STRING: ("char", SLOT, "str"),
    SlotKind.DOUBLE: ("double", 0, "dbl"),
    SlotKind.INT64: ("int64_t", 0, "i64"),
    SlotKind.INT32_PAIR: ("int32_t", 2, "i32"),
    SlotKind.FLOAT_PAIR: ("float", 2, "flt"),
    SlotKind.BYTES: ("uint8_t", SLOT, "raw"),
    SlotKind.UNREADABLE: ("uint8_t", SLOT, "raw"),
}

_PRINTABLE = frozenset(range(0x20, 0x7f)) | {0x09, 0x0a, 0x0d}
_SMALL64 = 1 << 31
_SMALL32 = 1 << 24


@dataclass(frozen=True, slots=True)
class Slot:
    """One slot: ``offset`` from the dissected address, ``address``, its
    ``data`` (None: unreadable; shorter than :data:`SLOT` for a last,
    partial slot), the guessed ``kind``, the ``reason`` for the guess
    (or why it is unreadable) and the ``value`` as the guess reads it."""

    offset: int
    address: int
    data: bytes | None
    kind: SlotKind
    reason: str
    value: str


def _u64(data: bytes) -> int:
    return int.from_bytes(data, "little")


def _text_run(data: bytes) -> int:
    """How many printable characters ``data`` starts with."""
    n = 0
    for b in data:
        if b not in _PRINTABLE:
            break
        n += 1
    return n


def _sane_double(x: float) -> bool:
    return math.isfinite(x) and 1e-9 <= abs(x) <= 1e15


def _digits(x: float, size: int) -> int:
    """Significant digits of the shortest text of ``x`` at its width."""
    from .value_types import format_float
    mantissa = format_float(x, size).lower().split("e")[0]
    return max(1, len(mantissa.lstrip("-").replace(".", "").strip("0")))


def _sane_float(x: float) -> bool:
    return x == 0.0 or (math.isfinite(x) and 1e-6 <= abs(x) <= 1e9)


def name_pointer(value: int, areas: Sequence[MemoryArea],
                 symbols: Symbolizer | None = None) -> str:
    """Where ``value`` points: ``module!symbol+off`` (with ``symbols``),
    else its location (``[heap]+0x10``, ``libc.so.6+0x1f00``), and where no
    name holds it (an unnamed anonymous mapping) ``anonymous memory, 0x40
    into its mapping``; ``0x…`` when it is in no area of ``areas``."""
    name = symbols.name(value) if symbols is not None else locate(value, list(areas)).text
    if name != Location.absolute(value).text:
        return name
    area = area_at(areas if isinstance(areas, list) else list(areas), value)
    return f"anonymous memory, {value - area.start:#x} into its mapping" if area is not None \
        else name


def guess(data: bytes | None, areas: Sequence[MemoryArea],
          symbols: Symbolizer | None = None) -> tuple[SlotKind, str]:
    """The guess for one slot's bytes and the reason for it (see the
    module's doc for the rules, checked in order)."""
    if data is None:
        return SlotKind.UNREADABLE, "not readable"
    if len(data) < SLOT:
        return SlotKind.BYTES, f"a partial slot ({len(data)} bytes)"
    u = _u64(data)
    if u == 0:
        return SlotKind.ZERO, "all 8 bytes are 0"
    if u >= 0x10000:
        area = area_at(areas if isinstance(areas, list) else list(areas), u)
        if area is not None:
            what = "code" if Perm.EXEC in area.perms else "data"
            return SlotKind.POINTER, (f"points into {printable(area.display_name)} "
                                      f"({area.perms.letters}, {what})")
    n = _text_run(data)
    if n == SLOT or (n >= 4 and data[n] == 0):
        return SlotKind.STRING, (f"{n} printable characters" + (", then NUL" if n < SLOT
                                                                 else " (no NUL: goes on)"))
    signed = int.from_bytes(data, "little", signed=True)
    if -_SMALL32 < signed < _SMALL32:
        return SlotKind.INT64, "a small integer"
    lo, hi = struct.unpack("<ii", data)
    if -_SMALL32 < lo < _SMALL32 and -_SMALL32 < hi < _SMALL32:
        return SlotKind.INT32_PAIR, "two small 32-bit integers"
    (d,) = struct.unpack("<d", data)
    f0, f1 = struct.unpack("<ff", data)
    is_double = _sane_double(d)
    is_floats = _sane_float(f0) and _sane_float(f1)
    if is_double and is_floats:
        # Both read sensibly (a double near 1 has a float-like high half; two
        # floats read as a double of some magnitude): the reading with fewer
        # significant digits is the likelier one, a tie the double.
        is_floats = _digits(f0, 4) + _digits(f1, 4) + 2 < _digits(d, 8)
        is_double = not is_floats
    if is_double:
        return SlotKind.DOUBLE, "a finite double of ordinary magnitude"
    if is_floats:
        return SlotKind.FLOAT_PAIR, "two floats of ordinary magnitude"
    if -_SMALL64 < signed < _SMALL64:
        return SlotKind.INT64, "an integer (not a sane double or floats)"
    return SlotKind.BYTES, "no pattern"


def value_text(kind: SlotKind, data: bytes | None, areas: Sequence[MemoryArea],
               symbols: Symbolizer | None = None) -> str:
    """The slot's bytes read as ``kind`` (any kind over any bytes: the user
    may choose one): ``0x5612… → [heap]+0x10``, ``3.25``, ``"hello"``,
    ``42``, ``7, -1``, ``1.5, 0``; bytes in hex."""
    if data is None:
        return "??"
    if len(data) < SLOT or kind in (SlotKind.BYTES, SlotKind.UNREADABLE):
        return data.hex(" ")
    from .value_types import format_float
    if kind == SlotKind.ZERO:
        return "0" if not any(data) else f"{_u64(data):#x} (not 0)"
    if kind == SlotKind.POINTER:
        u = _u64(data)
        area = area_at(areas if isinstance(areas, list) else list(areas), u)
        return f"{u:#x} → {name_pointer(u, areas, symbols)}" if area is not None \
            else f"{u:#x} (unmapped)"
    if kind == SlotKind.STRING:
        text = data.split(b"\0", 1)[0].decode("latin-1")
        return '"' + printable(text).replace('"', '\\"') + '"'
    if kind == SlotKind.DOUBLE:
        return format_float(struct.unpack("<d", data)[0], 8)
    if kind == SlotKind.INT64:
        return str(int.from_bytes(data, "little", signed=True))
    if kind == SlotKind.INT32_PAIR:
        return ", ".join(map(str, struct.unpack("<ii", data)))
    return ", ".join(format_float(x, 4) for x in struct.unpack("<ff", data))


def slot_bytes(read: ReadResult, offset: int) -> bytes | None:
    """The bytes of the slot at ``offset`` in ``read`` (None if any is in a hole)."""
    lo = read.address + offset
    hi = min(lo + SLOT, read.address + read.size)
    if any(h.address < hi and lo < h.end for h in read.holes):
        return None
    return read.data[offset:offset + (hi - lo)]


def _hole_reason(read: ReadResult, offset: int) -> str:
    lo = read.address + offset
    for h in read.holes:
        if h.address < lo + SLOT and lo < h.end:
            return f"not readable: {h.reason}"
    return "not readable"


def dissect(read: ReadResult, areas: Sequence[MemoryArea],
            symbols: Symbolizer | None = None, previous: Sequence[Slot] = ()) -> list[Slot]:
    """One :class:`Slot` per 8 bytes of ``read`` (the last may be shorter),
    each with its guess, reason and value text. ``previous``: the slots of
    an earlier dissection at the same address with the same map and
    symbols; a slot whose bytes are the same is taken from there as it is
    (a live refresh guesses only the slots that changed)."""
    out: list[Slot] = []
    whole = read.data if not read.holes else None
    for offset in range(0, read.size, SLOT):
        data = whole[offset:offset + SLOT] if whole is not None else slot_bytes(read, offset)
        i = offset // SLOT
        if i < len(previous) and data is not None and previous[i].data == data \
                and previous[i].offset == offset:
            out.append(previous[i])
            continue
        kind, reason = guess(data, areas, symbols)
        if data is None:
            reason = _hole_reason(read, offset)
        out.append(Slot(offset, read.address + offset, data, kind, reason,
                        value_text(kind, data, areas, symbols)))
    return out


_NAME = re.compile(r"[A-Za-z_]\w*$")


def merge_strings(slots: Sequence[tuple[int, int, SlotKind, bytes | None]]
                  ) -> list[tuple[int, int, SlotKind]]:
    """(offset, size, kind) fields from (offset, size, kind, bytes) slots,
    a string that runs on (eight characters, no NUL) joined with the string
    slot after it: ``char str_10[16]`` for a 16-byte name rather than two
    ``char[8]``."""
    out: list[tuple[int, int, SlotKind]] = []
    runs_on = False
    for offset, size, kind, data in slots:
        if kind == SlotKind.STRING and runs_on and out and out[-1][2] == SlotKind.STRING:
            start, length, _ = out[-1]
            out[-1] = (start, length + size, kind)
        else:
            out.append((offset, size, kind))
        runs_on = kind == SlotKind.STRING and data is not None and len(data) == SLOT \
            and 0 not in data
    return out


def declarations(name: str, slots: Sequence[tuple[int, int, SlotKind]]) -> str:
    """C declarations of ``struct NAME`` with one field per slot, given as
    (offset, size, kind), contiguous from offset 0: ``void *ptr_08;``,
    ``double dbl_10;``, ``char str_18[8];`` …; a string may span several
    slots (``char str_18[24]``, see :func:`merge_strings`); a partial last
    slot is ``uint8_t raw_NN[size]``. Every field lies at its slot's offset
    (each kind's alignment divides 8). InvalidInput for a name that is not
    a C identifier or slots out of order."""
    name = name.strip()
    if name.startswith("struct "):
        name = name[len("struct "):].strip()
    if not _NAME.match(name):
        raise InvalidInput(f"{printable(name, 60)!r} is not a C identifier "
                           "(letters, digits and _, not starting with a digit)")
    if not slots:
        raise InvalidInput("nothing to declare: no slots")
    last = slots[-1][0] + slots[-1][1]
    width = max(2, len(f"{max(last - 1, 0):x}"))
    lines = [f"struct {name} {{"]
    expected = 0
    for offset, size, kind in slots:
        longer = kind == SlotKind.STRING and size % SLOT == 0
        if offset != expected or size <= 0 or (size > SLOT and not longer):
            raise InvalidInput(f"slot at +{offset:#x} out of order (expected +{expected:#x})")
        expected = offset + size
        ctype, count, prefix = _C_FIELDS[kind]
        if longer:
            count = size
        elif size < SLOT:
            ctype, count, prefix = "uint8_t", size, "raw"
        field = f"{prefix}_{offset:0{width}x}"
        star = ctype.endswith("*")
        decl = f"{ctype}{field}" if star else f"{ctype} {field}"
        lines.append(f"    {decl}{f'[{count}]' if count else ''};")
    lines.append("};")
    return "\n".join(lines) + "\n"
