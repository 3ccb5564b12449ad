"""Text forms the editor reads and writes: go-to locations, copied bytes,
human sizes, values as the user typed them (search needles: :mod:`.search`). Pure functions,
no Qt (the CLI uses them too)."""

from __future__ import annotations

import math
import os
import re
import struct

import numpy as np

from lainview.backend.errors import InvalidInput
from lainview.backend.memory import AddressOutOfRange, MemoryArea, parse_address
from lainview.backend.scan import ScanType
from lainview.backend.wording import printable


def human_size(size: int) -> str:
    """1536 -> '1.5 KiB'; exact bytes below 1 KiB."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        value /= 1024
        if value < 1024 or unit == "PiB":
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")


# -- values as typed ------------------------------------------------------------------------------
def format_float(value: float, size: int) -> str:
    """The shortest decimal text that reads back as the same f32 (``size``
    4) or f64 (8): an f32 holding 1.123 is ``1.123``, not the
    ``1.1230000257492065`` of its widening to a double. ``nan``, ``inf``
    and ``-inf`` as Python spells them."""
    if math.isnan(value) or math.isinf(value):
        return str(float(value))
    if size == 4:
        return str(np.float32(value))       # numpy's shortest round trip for f32
    return repr(float(value))


def format_text(text: str) -> str:
    """Text as typed, with what cannot be shown (control characters, bytes
    that did not decode) escaped as Python does: ``a\\nb``, ``\\xff``
    (:func:`lainview.backend.wording.printable`)."""
    return printable(text)


def _decode_match(scan_type: ScanType, data: bytes) -> str:
    return data.decode("utf-8" if scan_type.name == "utf8" else "utf-16-le", "backslashreplace")


def _scan_number(scan_type: ScanType, data: bytes) -> int | float | None:
    if scan_type.numeric and len(data) == scan_type.size:
        return np.frombuffer(data, dtype=scan_type.dtype)[0].item()
    return None


def format_scan_value(scan_type: ScanType, raw: bytes | np.ndarray) -> str:
    """A scanned value as the user would type it back: integers in
    decimal, floats in their shortest exact form (:func:`format_float`),
    utf8/utf16le as text (:func:`format_text`), bytes in hex. ``raw`` is
    the value's bytes in the target's order (``item_size`` of them)."""
    data = bytes(raw)
    number = _scan_number(scan_type, data)
    if number is not None:
        return format_float(number, scan_type.size) if scan_type.is_float else str(number)
    if scan_type.name in ("utf8", "utf16le"):
        return format_text(_decode_match(scan_type, data))
    return data.hex(" ")


def scan_value_json(scan_type: ScanType, raw: bytes | np.ndarray) -> int | float | str | None:
    """The same value for JSON: integers and floats as JSON numbers (the
    float is the shortest that reads back as the same f32/f64; NaN and
    infinities, which JSON has no numbers for, are None), text as a string,
    bytes as hex."""
    data = bytes(raw)
    number = _scan_number(scan_type, data)
    if number is not None:
        if not scan_type.is_float:
            return number
        return float(format_float(number, scan_type.size)) if math.isfinite(number) else None
    if scan_type.name in ("utf8", "utf16le"):
        return _decode_match(scan_type, data)
    return data.hex(" ")


def describe_skipped(skipped: dict[str, int], how: str) -> str:
    """What a first scan left out, for the user who found nothing:
    ``'not scanned: 4.0 KiB shared, 1.2 MiB read-only (to include them: '
    + how + ')'``, where ``how`` names the options (the CLI's flags, the
    GUI's check boxes). ``skipped`` is ``AreaFilter.skipped``'s bytes by
    kind. '' when nothing was left out."""
    if not skipped:
        return ""
    kinds = ", ".join(f"{human_size(n)} {kind}" for kind, n in skipped.items())
    return f"not scanned: {kinds} (to include them: {how})"


# -- go to ----------------------------------------------------------------------------------------
_LOCATION_RE = re.compile(r"^\s*(.+?)\s*([+-])\s*((?:0x)?[0-9a-fA-F]+)\s*$")


def _area_matches(area: MemoryArea, name: str) -> bool:
    if not area.path:
        return name in ("[anon]", "anon")
    path = area.file_path
    return name in (area.path, path, os.path.basename(path))


def resolve_location(text: str, areas: list[MemoryArea]) -> int:
    """An address from ``7f12a000``/``0x7f12a000``, or ``name+offset`` where
    name is an area's path, its file name, or a pseudo-name such as
    ``[heap]``; the offset (hex, 0x optional) counts from the lowest area of
    that name. Raises InvalidInput saying what was not understood."""
    text = text.strip()
    if not text:
        raise InvalidInput("type an address (0x7f…) or area+offset (libc.so.6+0x1f00)")
    try:
        return parse_address(text)
    except AddressOutOfRange:
        raise
    except InvalidInput:
        pass
    m = _LOCATION_RE.match(text)
    name, sign, offset_text = (m.group(1), m.group(2), m.group(3)) if m else (text, "+", "0")
    matches = [a for a in areas if _area_matches(a, name)]
    if not matches:
        names = sorted({os.path.basename(a.path) for a in areas if a.path})[:6]
        raise InvalidInput(f"no area named {name!r}" +
                           (f" (try one of: {', '.join(names)})" if names else ""))
    try:
        offset = int(offset_text, 16)
    except ValueError:
        raise InvalidInput(f"bad offset {offset_text!r}: expected hex like 0x1f00") from None
    base = min(a.start for a in matches)
    address = base + offset if sign == "+" else base - offset
    if not 0 <= address < 1 << 64:
        raise AddressOutOfRange(f"address out of range: {text} is not a 64-bit address")
    return address


# -- copy -------------------------------------------------------------------------------------------
def format_bytes(data: bytes, fmt: str, *, name: str = "data") -> str:
    """``data`` as hex ("de ad be ef"), a C array, or a Python bytes literal."""
    if fmt == "hex":
        return data.hex(" ")
    if fmt == "c":
        lines = []
        for i in range(0, len(data), 12):
            lines.append("    " + ", ".join(f"0x{b:02x}" for b in data[i:i + 12]) + ",")
        body = "\n".join(lines)
        return f"unsigned char {name}[{len(data)}] = {{\n{body}\n}};"
    if fmt == "python":
        return "b'" + "".join(f"\\x{b:02x}" for b in data) + "'"
    raise InvalidInput(f"unknown copy format {fmt!r}")


# -- the data inspector -------------------------------------------------------------------------------
INSPECTOR_TYPES: tuple[tuple[str, str, int], ...] = (
    ("i8", "b", 1), ("u8", "B", 1),
    ("i16", "h", 2), ("u16", "H", 2),
    ("i32", "i", 4), ("u32", "I", 4),
    ("i64", "q", 8), ("u64", "Q", 8),
    ("f32", "f", 4), ("f64", "d", 8),
    ("pointer", "Q", 8),
)


def decode_value(kind: str, data: bytes, big_endian: bool) -> str:
    fmt = dict((k, f) for k, f, _ in INSPECTOR_TYPES)[kind]
    size = struct.calcsize(fmt)
    value = struct.unpack((">" if big_endian else "<") + fmt, data[:size])[0]
    if kind == "pointer":
        return f"0x{value:x}"
    if kind in ("f32", "f64"):
        return format_float(value, size)
    return str(value)


def encode_value(kind: str, text: str, big_endian: bool) -> bytes:
    """Parse a typed value as the inspector shows it; InvalidInput if it
    does not parse or does not fit."""
    fmt = dict((k, f) for k, f, _ in INSPECTOR_TYPES)[kind]
    order = ">" if big_endian else "<"
    text = text.strip()
    try:
        if kind in ("f32", "f64"):
            value: float | int = float(text)
        else:
            value = int(text, 0)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a valid {kind}") from None
    try:
        return struct.pack(order + fmt, value)
    except (struct.error, OverflowError):
        raise InvalidInput(f"{text} does not fit in {kind}") from None
