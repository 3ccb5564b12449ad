"""The hex editor's search: needles typed as hex, text or integers, and
the matcher that finds them in a stream of chunks. Pure functions and
plain objects, no Qt."""

from __future__ import annotations

from lainview.backend.errors import InvalidInput
from lainview.backend.memory import Hole, parse_hex_bytes

SEARCH_KINDS = ("hex", "text", "int32", "int64")


def parse_needle(text: str, kind: str) -> bytes:
    """The bytes to look for. ``kind`` is one of SEARCH_KINDS; integers are
    little-endian and may be negative or hex (0x…)."""
    if kind == "hex":
        return parse_hex_bytes(text)
    if kind == "text":
        if not text:
            raise InvalidInput("nothing to search for")
        return text.encode("utf-8")
    if kind in ("int32", "int64"):
        try:
            value = int(text.strip(), 0)
        except ValueError:
            raise InvalidInput(f"not an integer: {text!r}") from None
        bits = 32 if kind == "int32" else 64
        if not -(1 << (bits - 1)) <= value < (1 << bits):
            raise InvalidInput(f"{value} does not fit in {bits} bits")
        value &= (1 << bits) - 1
        return value.to_bytes(bits // 8, "little")
    raise InvalidInput(f"unknown search kind {kind!r}")


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
