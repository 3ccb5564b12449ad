"""The value types of watch entries and how their bytes read and write as
text. Pure functions, no Qt.

The types are the scanner's (``i8`` … ``u64``, ``f32``, ``f64``) plus
``utf8``/``utf16le`` strings and ``bytes`` of a given length. Display
formats: ``hex``, ``decimal`` (integers), ``float`` (floats), or ``auto``
(the natural one for the type).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from lainview.backend.errors import InvalidInput
from lainview.backend.memory import parse_hex_bytes
from lainview.backend.scan import TYPE_NAMES, ScanType

from .formats import format_float

DISPLAY_FORMATS = ("auto", "hex", "decimal", "float")
SIZED = ("bytes", "utf8", "utf16le")
DEFAULT_LENGTH = {"bytes": 8, "utf8": 16, "utf16le": 16}
MAX_LENGTH = 4096
_STRUCT = {"i8": "b", "u8": "B", "i16": "h", "u16": "H", "i32": "i", "u32": "I",
           "i64": "q", "u64": "Q", "f32": "f", "f64": "d"}
_LABEL_RE = re.compile(r"^\s*([a-z0-9]+)\s*(?:\[\s*(\d+)\s*\])?\s*(be)?\s*$")


@dataclass(frozen=True, slots=True)
class ValueType:
    """A watch entry's type: a scanner type name, a length for strings
    (characters) and bytes, and the byte order of numbers."""

    name: str
    length: int = 0
    big_endian: bool = False

    def __post_init__(self):
        if self.name not in TYPE_NAMES:
            raise InvalidInput(f"unknown value type {self.name!r}: choose one of "
                               f"{', '.join(TYPE_NAMES)}")
        if self.name in SIZED and not 1 <= self.length <= MAX_LENGTH:
            raise InvalidInput(f"a {self.name} entry needs a length of 1..{MAX_LENGTH}, "
                               f"not {self.length}")

    @classmethod
    def of(cls, name: str, length: int | None = None, big_endian: bool = False) -> "ValueType":
        if name in SIZED:
            return cls(name, length or DEFAULT_LENGTH[name], big_endian)
        return cls(name, 0, big_endian)

    @classmethod
    def parse(cls, text: str) -> "ValueType":
        """``i32``, ``f64 be``, ``utf8[16]``, ``bytes[8]``."""
        m = _LABEL_RE.match(text.lower())
        if not m:
            raise InvalidInput(f"not a value type: {text!r} (e.g. i32, f64, utf8[16], bytes[8])")
        name, length, be = m.group(1), m.group(2), bool(m.group(3))
        if length is not None and name not in SIZED:
            raise InvalidInput(f"{name} has a fixed size; only {', '.join(SIZED)} take a length")
        return cls.of(name, int(length) if length else None, be)

    @property
    def numeric(self) -> bool:
        return self.name in _STRUCT

    @property
    def is_float(self) -> bool:
        return self.name in ("f32", "f64")

    @property
    def size(self) -> int:
        if self.numeric:
            return ScanType(self.name).size
        return self.length * (2 if self.name == "utf16le" else 1)

    @property
    def label(self) -> str:
        if self.name in SIZED:
            return f"{self.name}[{self.length}]"
        return self.name + (" be" if self.big_endian else "")

    def _fmt(self) -> str:
        return (">" if self.big_endian else "<") + _STRUCT[self.name]

    # -- reading ------------------------------------------------------------------------------
    def decode(self, data: bytes):
        """int, float, str or bytes."""
        if self.numeric:
            return struct.unpack(self._fmt(), data[:self.size])[0]
        if self.name == "utf8":
            return data.split(b"\0", 1)[0].decode("utf-8", "replace")
        if self.name == "utf16le":
            text = data.decode("utf-16-le", "replace")
            return text.split("\0", 1)[0]
        return bytes(data)

    def number(self, data: bytes) -> float | None:
        """The value as a float for plotting; None for strings and bytes."""
        if not self.numeric:
            return None
        return float(self.decode(data))

    def formats(self) -> tuple[str, ...]:
        """The display formats that make sense for this type."""
        if self.is_float:
            return ("auto", "float", "hex")
        if self.numeric:
            return ("auto", "decimal", "hex")
        return ("auto", "hex")

    def format(self, data: bytes, display: str = "auto") -> str:
        if display not in self.formats():
            display = "auto"
        if display == "hex":
            if self.numeric:
                raw = int.from_bytes(data[:self.size], "big" if self.big_endian else "little")
                return f"0x{raw:0{2 * self.size}x}"
            return data.hex(" ")
        value = self.decode(data)
        if self.is_float:
            return format_float(value, self.size)
        if self.name == "bytes":
            return data.hex(" ")
        if isinstance(value, str):
            return value
        return str(value)

    # -- writing ------------------------------------------------------------------------------
    def encode(self, text: str, display: str = "auto") -> bytes:
        """The bytes to write for ``text``; InvalidInput saying why not.
        Strings shorter than the length are written with a terminating NUL;
        bytes may be shorter than the length (only those are written)."""
        text = text.strip() if self.numeric or self.name == "bytes" else text
        if self.numeric and display == "hex":
            digits = text.lower().removeprefix("0x")
            try:
                raw = int(digits, 16)
            except ValueError:
                raise InvalidInput(f"{text!r} is not hex") from None
            if not 0 <= raw < 1 << (8 * self.size):
                raise InvalidInput(f"0x{raw:x} does not fit in {self.size} bytes")
            return raw.to_bytes(self.size, "big" if self.big_endian else "little")
        if self.numeric:
            try:
                value: int | float = float(text) if self.is_float else int(text, 0)
            except ValueError:
                raise InvalidInput(f"{text!r} is not a valid {self.name}") from None
            try:
                return struct.pack(self._fmt(), value)
            except (struct.error, OverflowError):
                raise InvalidInput(f"{text} does not fit in {self.name}") from None
        if self.name == "bytes":
            data = parse_hex_bytes(text)
        else:
            data = text.encode("utf-8" if self.name == "utf8" else "utf-16-le")
            terminator = b"\0" * (2 if self.name == "utf16le" else 1)
            if len(data) < self.size:
                data += terminator
        if len(data) > self.size:
            raise InvalidInput(f"{len(data)} bytes do not fit in {self.label} ({self.size} bytes)")
        return data

    def to_json(self) -> dict:
        out: dict = {"name": self.name}
        if self.name in SIZED:
            out["length"] = self.length
        if self.big_endian:
            out["big_endian"] = True
        return out

    @classmethod
    def from_json(cls, raw) -> "ValueType":
        if not isinstance(raw, dict):
            raise InvalidInput("a value type must be an object")
        length = raw.get("length", 0)
        if not isinstance(length, int):
            raise InvalidInput(f"bad length {length!r}")
        return cls(str(raw.get("name")), length, bool(raw.get("big_endian", False)))


TYPE_CHOICES: tuple[str, ...] = tuple(TYPE_NAMES)
