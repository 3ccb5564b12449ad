"""The value types lainview scans for, watches, inspects and writes: one
registry, the only place a type is defined.

Each type is one :class:`ValueKind` entry: its name, size and alignment,
numpy dtype and struct code (numbers), byte orders, how a value is parsed
from text or a Python value, how it is formatted back to text, which scan
modes apply, and a short tip and example for the UI. The scanner
(``backend/scan.py``), the watch list (``models/watch_values.py``), the data
inspector (``models/inspector_model.py``), the CLI's ``--type`` and the
scanner panel all read this registry, so adding a type is one call to
:func:`register`:

    register(NumberKind("f16", "e", tip="16-bit float"))

Values in Python: integers are ``int``, floats ``float`` (rounded to the
type's precision), text ``str``, byte strings ``bytes``. :meth:`ValueKind.format`
gives the text a user would type back: ``parse(format(v)) == v`` for every
value of every type (for text, every printable text: characters that are
not printable are escaped, see :func:`lainview.backend.wording.printable`).

No numpy at import time: the CLI's commands that never scan start without it.
"""

from __future__ import annotations

import contextlib
import enum
import math
import re
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Iterator, Union

from .errors import InvalidInput
from .memory import parse_hex_bytes
from .wording import article, printable, quoted

if TYPE_CHECKING:
    import numpy as np

Value = Union[int, float, str, bytes]
"""A value of some type, as Python holds it."""

JsonValue = Union[int, float, str, None]


class Mode(enum.Enum):
    """A scan's test. The first three start a scan, the others narrow one."""

    EXACT = "exact"
    RANGE = "range"
    UNKNOWN = "unknown"           # first scan only: remember everything
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    INCREASED = "increased"
    DECREASED = "decreased"
    INCREASED_BY = "increased-by"
    DECREASED_BY = "decreased-by"


PATTERN_MODES = (Mode.EXACT, Mode.UNKNOWN, Mode.CHANGED, Mode.UNCHANGED)
"""The modes of types scanned as byte patterns (no order, no arithmetic)."""


@dataclass(frozen=True, slots=True)
class Pattern:
    """A byte pattern; ``mask`` is 0 where the pattern has a ``??`` wildcard."""

    data: bytes
    mask: bytes

    def __len__(self) -> int:
        return len(self.data)

    def matches(self, candidate: bytes) -> bool:
        return all((c & m) == (d & m) for c, d, m in zip(candidate, self.data, self.mask))

    def text(self) -> str:
        """The pattern as typed: hex bytes, ``??`` for each wildcard."""
        return " ".join(f"{d:02x}" if m else "??" for d, m in zip(self.data, self.mask))


def format_float(value: float, size: int) -> str:
    """The shortest decimal text that reads back as the same float of
    ``size`` bytes (2: f16, 4: f32, 8: f64): an f32 holding 1.123 is
    ``1.123``, not the ``1.1230000257492065`` of its widening to a double.
    ``nan``, ``inf`` and ``-inf`` as Python spells them."""
    if math.isnan(value) or math.isinf(value):
        return str(float(value))
    if size < 8:
        import numpy as np
        return str(np.dtype(f"f{size}").type(value))    # numpy's shortest round trip
    return repr(float(value))


class ValueKind:
    """One value type. Subclasses: :class:`NumberKind` (integers and floats,
    one fixed size), :class:`TextKind` (strings in an encoding),
    :class:`BytesKind` (raw bytes). Attributes:

    - ``name``: what users type (``i32``); ``tip``: one line for the UI;
      ``example``: a value as typed, for placeholders;
    - ``numeric``/``is_float``; ``sized``: takes a length (strings, bytes);
    - ``unit``: bytes per item (the size of a number, per character of text);
    - ``alignment``: where compilers put it (the scanner's default step);
    - ``byte_orders``: ``("little", "big")`` for numbers wider than a byte;
    - ``modes``: the scan modes that apply;
    - ``display_formats``: the watch list's display choices.
    """

    name: str
    tip: str
    example: str
    unit: int
    alignment: int
    numeric: ClassVar[bool] = False
    is_float: bool = False
    sized: ClassVar[bool] = False
    default_length: int = 0
    modes: tuple[Mode, ...] = PATTERN_MODES
    display_formats: tuple[str, ...] = ("auto", "hex")

    @property
    def byte_orders(self) -> tuple[str, ...]:
        return ("little", "big") if self.numeric and self.unit > 1 else ("little",)

    def parse(self, value: object) -> Value:
        """The value ``value`` (text as typed, or a Python value) stands for,
        checked to fit. Raises InvalidInput saying why not."""
        raise NotImplementedError

    def format(self, value: Value) -> str:
        """``value`` as a user would type it back (see :meth:`parse`)."""
        raise NotImplementedError

    def decode(self, data: bytes, big_endian: bool = False) -> Value:
        """The value held by ``data`` (bytes in the target's order)."""
        raise NotImplementedError

    def encode(self, value: Value, big_endian: bool = False) -> bytes:
        """The bytes of a value :meth:`parse` returned."""
        raise NotImplementedError

    def pattern(self, value: object) -> Pattern:
        """What a scan looks for: the value's bytes, with wildcards where
        the type allows them. Raises InvalidInput."""
        data = self.encode(self.parse(value))
        if not data:
            raise InvalidInput("cannot scan for an empty string")
        return Pattern(data, b"\xff" * len(data))

    def to_json(self, value: Value) -> JsonValue:
        """``value`` for JSON: numbers as numbers (non-finite floats, which
        JSON has none for, as None), text as a string, bytes as hex."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class NumberKind(ValueKind):
    """A fixed-size number, defined by its struct code (``b`` ``B`` ``h``
    ``H`` ``i`` ``I`` ``q`` ``Q`` ``e`` ``f`` ``d``); the size and the
    numpy dtype follow from it."""

    numeric = True
    display_formats = ("auto", "decimal", "hex")
    modes = tuple(Mode)

    def __init__(self, name: str, code: str, *, tip: str, example: str = ""):
        self.name, self.struct_code, self.tip = name, code, tip
        self.unit = self.alignment = struct.calcsize("<" + code)
        self.is_float = code in "efd"
        self.example = example or ("e.g. 1.5" if self.is_float else "e.g. 100, -5, 0x1f")
        if self.is_float:
            self.display_formats = ("auto", "float", "hex")
            self.low = self.high = 0
        else:
            bits = 8 * self.unit
            signed = code.islower()
            self.low = -(1 << (bits - 1)) if signed else 0
            self.high = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1

    @property
    def size(self) -> int:
        return self.unit

    def dtype(self, big_endian: bool = False) -> "np.dtype":
        """The numpy dtype in that byte order."""
        import numpy as np
        return np.dtype((">" if big_endian else "<") + self.struct_code)

    def _fmt(self, big_endian: bool) -> str:
        return (">" if big_endian else "<") + self.struct_code

    def parse(self, value: object) -> int | float:
        """Integers: decimal or ``0x``/``0o``/``0b`` text, an int, or an
        integral float; floats: text, an int or a float, rounded to the
        type. Raises InvalidInput when it is not a number or does not fit."""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise InvalidInput(f"{quoted(value)} is not {article(self.name)} value")
        if isinstance(value, str):
            t = value.strip().lower().replace("_", "")
            try:
                if self.is_float:
                    number: int | float = float(t)
                else:
                    number = int(t, 10) if re.fullmatch(r"[+-]?\d+", t) else int(t, 0)
            except ValueError:
                raise InvalidInput(f"{quoted(value)} is not {article(self.name)} value") from None
        else:
            number = value
        if self.is_float:
            if isinstance(value, str) and math.isinf(number) and "inf" not in t:
                # float("1e400") is inf: a number too large for any float
                raise InvalidInput(f"{quoted(value)} does not fit in {self.name}")
            rounded: float = struct.unpack(self._fmt(False), self._pack_float(number, value))[0]
            return rounded
        if isinstance(number, float):
            if not math.isfinite(number):
                raise InvalidInput(f"{quoted(value)} is not {article(self.name)} value "
                                   "(integers are finite)")
            if not number.is_integer():
                raise InvalidInput(f"{quoted(value)} is not {article(self.name)} value "
                                   "(it has a fraction)")
            number = int(number)
        if not self.low <= number <= self.high:
            raise InvalidInput(f"{quoted(number)} does not fit in {self.name} "
                               f"({self.low}..{self.high})")
        return number

    def _pack_float(self, number: float, typed: object) -> bytes:
        try:
            return struct.pack(self._fmt(False), number)
        except (struct.error, OverflowError):
            raise InvalidInput(f"{quoted(typed)} does not fit in {self.name}") from None

    def format(self, value: Value) -> str:
        if self.is_float:
            return format_float(float(value), self.unit)
        return str(int(value))

    def decode(self, data: bytes, big_endian: bool = False) -> int | float:
        value: int | float = struct.unpack(self._fmt(big_endian), bytes(data[:self.unit]))[0]
        return value

    def encode(self, value: Value, big_endian: bool = False) -> bytes:
        try:
            return struct.pack(self._fmt(big_endian), value)
        except (struct.error, OverflowError):
            raise InvalidInput(f"{quoted(value)} does not fit in {self.name}") from None

    def format_hex(self, data: bytes, big_endian: bool = False) -> str:
        """The raw bits as one hex number, ``0x`` and two digits a byte."""
        raw = int.from_bytes(data[:self.unit], "big" if big_endian else "little")
        return f"0x{raw:0{2 * self.unit}x}"

    def parse_hex(self, text: str, big_endian: bool = False) -> bytes:
        """The bytes whose raw bits are the hex number ``text``."""
        digits = text.strip().lower().removeprefix("0x")
        try:
            raw = int(digits, 16)
        except ValueError:
            raise InvalidInput(f"{quoted(text.strip())} is not hex") from None
        if not 0 <= raw < 1 << (8 * self.unit):
            raise InvalidInput(f"{quoted(text.strip())} does not fit in {self.unit} bytes")
        return raw.to_bytes(self.unit, "big" if big_endian else "little")

    def to_json(self, value: Value) -> JsonValue:
        if self.is_float:
            number = float(value)
            return float(self.format(number)) if math.isfinite(number) else None
        return int(value)


class TextKind(ValueKind):
    """Text in ``encoding``, ``unit`` bytes per code unit; in memory it ends
    at the first NUL."""

    sized = True
    default_length = 16

    def __init__(self, name: str, encoding: str, unit: int, *, tip: str,
                 example: str = "text to find"):
        self.name, self.encoding, self.unit, self.alignment = name, encoding, unit, unit
        self.tip, self.example = tip, example

    def parse(self, value: object) -> str:
        """Text as typed, or its bytes in this encoding (InvalidInput if
        they are not)."""
        if isinstance(value, (bytes, bytearray)):
            try:
                return bytes(value).decode(self.encoding)
            except UnicodeDecodeError as exc:
                raise InvalidInput(f"{bytes(value)!r} is not {self.encoding} text "
                                   f"({exc.reason} at byte {exc.start})") from None
        if not isinstance(value, str):
            raise InvalidInput(f"{quoted(value)} is not text")
        try:
            value.encode(self.encoding)
        except UnicodeEncodeError as exc:
            # A lone surrogate: bytes of a command line that were not UTF-8
            # reach Python as U+DC80..U+DCFF, and a typed "\ud800" is one too.
            raise InvalidInput(f"{quoted(value)} cannot be written in {self.encoding}: "
                               f"{printable(exc.object[exc.start])} at character "
                               f"{exc.start} is a lone surrogate, not a character") from None
        return value

    def format(self, value: Value) -> str:
        return printable(value)

    def decode(self, data: bytes, big_endian: bool = False) -> str:
        text = bytes(data).decode(self.encoding, "backslashreplace")
        return text.split("\0", 1)[0]

    def encode(self, value: Value, big_endian: bool = False) -> bytes:
        return str(value).encode(self.encoding)

    def to_json(self, value: Value) -> JsonValue:
        return str(value)


class BytesKind(ValueKind):
    """Raw bytes, typed as hex (``de ad be ef``); a scan pattern may hold
    ``??`` for any byte."""

    sized = True
    default_length = 8

    def __init__(self, name: str, *, tip: str, example: str):
        self.name, self.tip, self.example = name, tip, example
        self.unit = self.alignment = 1

    def parse(self, value: object) -> bytes:
        if isinstance(value, (bytes, bytearray)):
            return bytes(value)
        if not isinstance(value, str):
            raise InvalidInput(f"{quoted(value)} is not hex bytes")
        return parse_hex_bytes(value)

    def format(self, value: Value) -> str:
        return bytes(value).hex(" ")                            # type: ignore[arg-type]

    def decode(self, data: bytes, big_endian: bool = False) -> bytes:
        return bytes(data)

    def encode(self, value: Value, big_endian: bool = False) -> bytes:
        return bytes(value)                                     # type: ignore[arg-type]

    def pattern(self, value: object) -> Pattern:
        """Hex with ``??`` wildcards (``de ad ?? ef``, ``dead??ef``)."""
        if not isinstance(value, str):
            return super().pattern(value)
        tokens = re.sub(r"0x", " ", value, flags=re.IGNORECASE).replace(",", " ").split()
        if len(tokens) == 1 and len(tokens[0]) > 2 and len(tokens[0]) % 2 == 0:
            tokens = re.findall(r"..", tokens[0])
        out, mask = bytearray(), bytearray()
        for tok in tokens:
            if tok == "??":
                out.append(0)
                mask.append(0)
            elif re.fullmatch(r"[0-9a-fA-F]{2}", tok):
                out.append(int(tok, 16))
                mask.append(0xFF)
            else:
                raise InvalidInput(f"malformed byte pattern: {quoted(tok)} (expected two hex "
                                   "digits or ?? per byte, e.g. 'de ad ?? ef')")
        if not any(mask):
            raise InvalidInput("a byte pattern needs at least one byte that is not ??")
        return Pattern(bytes(out), bytes(mask))

    def to_json(self, value: Value) -> JsonValue:
        return self.format(value)


# -- the registry -------------------------------------------------------------------------------
_FLOAT_TIP = " (compared within the tolerance)"
_KINDS: dict[str, ValueKind] = {}


def register(kind: ValueKind) -> ValueKind:
    """Add a type: it is scanned for, watched, inspected, offered by the
    CLI's ``--type`` and the scanner panel from now on. Raises ValueError
    when a type of that name exists. Returns ``kind``."""
    if kind.name in _KINDS:
        raise ValueError(f"a value type named {kind.name!r} is registered already")
    if not re.fullmatch(r"[a-z][a-z0-9]*", kind.name):
        raise ValueError(f"a value type's name is lower-case letters and digits, "
                         f"not {kind.name!r}")
    _KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Remove a type :func:`register` added (KeyError if there is none)."""
    del _KINDS[name]


@contextlib.contextmanager
def registered(kind: ValueKind) -> Iterator[ValueKind]:
    """``kind`` registered for the duration of a ``with`` block."""
    register(kind)
    try:
        yield kind
    finally:
        unregister(kind.name)


def kinds() -> tuple[ValueKind, ...]:
    """Every registered type, in the order the UI lists them."""
    return tuple(_KINDS.values())


def names() -> tuple[str, ...]:
    """The names of every registered type (``i8`` … ``utf16le``)."""
    return tuple(_KINDS)


def get(name: str) -> ValueKind:
    """The type called ``name``; InvalidInput naming the choices if none is."""
    try:
        return _KINDS[name]
    except KeyError:
        raise InvalidInput(f"unknown value type {name!r}: choose one of "
                           f"{', '.join(_KINDS)}") from None


class OfKind:
    """A base for what names a registered type in ``name`` (the scanner's
    ``ScanType``, the watch list's ``ValueType``): the entry and what it says."""

    __slots__ = ()
    name: str

    @property
    def kind(self) -> ValueKind:
        return get(self.name)

    @property
    def numeric(self) -> bool:
        return self.kind.numeric

    @property
    def is_float(self) -> bool:
        return self.kind.is_float


def number(name: str) -> NumberKind:
    """The numeric type called ``name``; InvalidInput if it is not one."""
    kind = get(name)
    if not isinstance(kind, NumberKind):
        raise InvalidInput(f"{name} is not a numeric type")
    return kind


for _name, _code, _tip in (
        ("i8", "b", "signed 8-bit integer"), ("u8", "B", "unsigned 8-bit integer"),
        ("i16", "h", "signed 16-bit integer"), ("u16", "H", "unsigned 16-bit integer"),
        ("i32", "i", "signed 32-bit integer"), ("u32", "I", "unsigned 32-bit integer"),
        ("i64", "q", "signed 64-bit integer"), ("u64", "Q", "unsigned 64-bit integer"),
        ("f32", "f", "32-bit float" + _FLOAT_TIP), ("f64", "d", "64-bit float" + _FLOAT_TIP)):
    register(NumberKind(_name, _code, tip=_tip))
register(BytesKind("bytes", tip="byte pattern in hex, ?? for any byte: de ad ?? ef",
                   example="hex bytes, ?? for any: de ad ?? ef"))
register(TextKind("utf8", "utf-8", 1, tip="text, encoded as UTF-8"))
register(TextKind("utf16le", "utf-16-le", 2, tip="text, encoded as UTF-16LE"))

__all__ = ["Mode", "PATTERN_MODES", "Pattern", "Value", "ValueKind", "NumberKind", "TextKind",
           "BytesKind", "format_float", "register", "unregister", "registered", "kinds",
           "names", "get", "number"]
