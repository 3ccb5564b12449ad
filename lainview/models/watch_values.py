"""The value types of watch entries and how their bytes read and write as
text. Pure functions, no Qt.

The types are the registry's (``lainview.backend.value_types``: numbers,
text, bytes); a text or bytes entry has a length. Display formats:
``hex``, ``decimal`` (integers), ``float`` (floats), or ``auto`` (the
natural one for the type); which apply is the type's ``display_formats``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lainview.backend import value_types
from lainview.backend.errors import InvalidInput
from lainview.backend.wording import printable, quoted

DISPLAY_FORMATS = ("auto", "hex", "decimal", "float")
MAX_LENGTH = 4096
# No two runs of spaces may meet (``\s*(...)?\s*``): that backtracked in
# cubic time, and 2 000 spaces in a session file's type took 47 s.
_LABEL_RE = re.compile(r"([a-z0-9]+)(?:\s*\[\s*([0-9]+)\s*\])?(?:\s*(be))?")


@dataclass(frozen=True, slots=True)
class ValueType(value_types.OfKind):
    """A watch entry's type: a registered type's name, a length for text
    (characters) and bytes, and the byte order of numbers."""

    name: str
    length: int = 0
    big_endian: bool = False

    def __post_init__(self) -> None:
        kind = value_types.get(self.name)
        if kind.sized and not 1 <= self.length <= MAX_LENGTH:
            raise InvalidInput(f"a {self.name} entry needs a length of 1..{MAX_LENGTH}, "
                               f"not {self.length}")

    @classmethod
    def of(cls, name: str, length: int | None = None, big_endian: bool = False) -> "ValueType":
        kind = value_types.get(name)
        if kind.sized:
            return cls(name, length or kind.default_length, big_endian)
        return cls(name, 0, big_endian)

    @classmethod
    def for_selection(cls, size: int) -> "ValueType":
        """The type to watch ``size`` selected bytes as: the registered
        integer of that size (unsigned for one byte, signed for wider),
        else bytes of that length (at most MAX_LENGTH)."""
        for kind in value_types.kinds():
            if isinstance(kind, value_types.NumberKind) and not kind.is_float \
                    and kind.size == size and (kind.low < 0) == (size > 1):
                return cls.of(kind.name)
        return cls.of("bytes", max(1, min(size, MAX_LENGTH)))

    @classmethod
    def parse(cls, text: str) -> "ValueType":
        """``i32``, ``f64 be``, ``utf8[16]``, ``bytes[8]``."""
        m = _LABEL_RE.fullmatch(text.strip().lower())
        if not m:
            raise InvalidInput(f"not a value type: {quoted(text)}"
                               f"{'…' if len(text) > 80 else ''} "
                               "(e.g. i32, f64, utf8[16], bytes[8])")
        name, length, be = m.group(1), m.group(2), bool(m.group(3))
        if length is not None and len(length) > len(str(MAX_LENGTH)):
            raise InvalidInput(f"the length in {printable(text.strip()[:80])} is more than "
                               f"{MAX_LENGTH}")
        if length is not None and not value_types.get(name).sized:
            sized = ", ".join(k.name for k in value_types.kinds() if k.sized)
            raise InvalidInput(f"{name} has a fixed size; only {sized} take a length")
        return cls.of(name, int(length) if length else None, be)

    @property
    def size(self) -> int:
        kind = self.kind
        return kind.unit * (self.length if kind.sized else 1)

    @property
    def label(self) -> str:
        if self.kind.sized:
            return f"{self.name}[{self.length}]"
        return self.name + (" be" if self.big_endian else "")

    # -- reading ------------------------------------------------------------------------------
    def decode(self, data: bytes) -> value_types.Value:
        """int, float, str (up to the first NUL) or bytes."""
        return self.kind.decode(data[:self.size], self.big_endian)

    def number(self, data: bytes) -> float | None:
        """The value as a float for plotting; None for strings and bytes."""
        if not self.numeric:
            return None
        return float(self.decode(data))

    def formats(self) -> tuple[str, ...]:
        """The display formats that make sense for this type."""
        return self.kind.display_formats

    def format(self, data: bytes, display: str = "auto") -> str:
        """The value as text: the type's own format, or its raw hex."""
        kind = self.kind
        if display == "hex" and display in self.formats():
            if isinstance(kind, value_types.NumberKind):
                return kind.format_hex(data, self.big_endian)
            return data.hex(" ")
        return kind.format(self.decode(data))

    # -- writing ------------------------------------------------------------------------------
    def encode(self, text: str, display: str = "auto") -> bytes:
        """The bytes to write for ``text``; InvalidInput saying why not.
        Strings shorter than the length are written with a terminating NUL;
        bytes may be shorter than the length (only those are written)."""
        kind = self.kind
        if isinstance(kind, value_types.NumberKind):
            if display == "hex":
                return kind.parse_hex(text, self.big_endian)
            return kind.encode(kind.parse(text), self.big_endian)
        data = kind.encode(kind.parse(text), self.big_endian)
        if isinstance(kind, value_types.TextKind) and len(data) < self.size:
            data += b"\0" * kind.unit
        if len(data) > self.size:
            raise InvalidInput(f"{len(data)} bytes do not fit in {self.label} ({self.size} bytes)")
        return data

    def to_json(self) -> dict[str, object]:
        out: dict = {"name": self.name}
        if self.kind.sized:
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

