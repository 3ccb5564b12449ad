"""Text forms the editor reads and writes: search needles, copied bytes,
human sizes. Pure functions, no Qt (the CLI uses them too). Values of a type
are read and written by ``backend/value_types``; locations by
``backend/locations``."""

from __future__ import annotations


from lainview.backend import value_types
from lainview.backend.errors import InvalidInput
from lainview.backend.memory import Hole


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


# -- search ---------------------------------------------------------------------------------------
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


# -- copy -------------------------------------------------------------------------------------------
COPY_FORMATS = ("hex", "c", "python")


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
