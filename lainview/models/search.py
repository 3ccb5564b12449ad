"""The hex editor's search: needles typed as a value of any registered type, and
the matcher that finds them in a stream of chunks. Pure functions and
plain objects, no Qt."""

from __future__ import annotations

from lainview.backend import value_types
from lainview.backend.errors import InvalidInput
from lainview.backend.memory import Hole

def parse_needle(text: str, type_name: str) -> bytes:
    """The bytes to look for: ``text`` as a value of the registered type
    ``type_name`` (``lainview.backend.value_types``: ``bytes`` in hex,
    ``utf8`` text, numbers little-endian, e.g. ``-1`` or ``0x10``). Raises
    InvalidInput when it does not parse, does not fit, or is empty."""
    kind = value_types.get(type_name)
    needle = kind.encode(kind.parse(text))
    if not needle:
        raise InvalidInput("nothing to search for")
    return needle


class Matcher:
    """Finds a needle in a stream of chunks (each with its holes), across
    chunk boundaries, and never inside unreadable bytes. Used by the bulk
    search's consumer on the backend thread."""

    def __init__(self, needle: bytes, limit: int = 10_000):
        if not needle:
            raise InvalidInput("nothing to search for")
        self.needle = needle
        self.limit = limit
        self.matches: list[int] = []
        self._tail = b""
        self._tail_address = 0

    @property
    def full(self) -> bool:
        return len(self.matches) >= self.limit

    def feed(self, address: int, chunk: bytes | memoryview, holes: list[Hole]) -> None:
        if self.full:
            return
        keep = len(self.needle) - 1
        if self._tail and self._tail_address + len(self._tail) == address:
            data = self._tail + bytes(chunk)
            base = self._tail_address
        else:
            data = bytes(chunk)
            base = address
        spans = [(h.address, h.end) for h in holes]
        pos = data.find(self.needle)
        while pos != -1 and not self.full:
            lo, hi = base + pos, base + pos + len(self.needle)
            if not any(h_lo < hi and lo < h_hi for h_lo, h_hi in spans):
                self.matches.append(lo)
            pos = data.find(self.needle, pos + 1)
        # Carry the last bytes over, unless they touch a hole.
        if keep:
            tail_start = max(len(data) - keep, 0)
            tail_lo = base + tail_start
            if any(h_lo < base + len(data) and tail_lo < h_hi for h_lo, h_hi in spans):
                self._tail = b""
            else:
                self._tail = data[tail_start:]
                self._tail_address = tail_lo
