"""The text hex dump of the CLI (``lainview read``, ``lainview kread``),
formatted incrementally and vectorised, so a dump of any length streams in
bounded memory.

One line per 16 bytes::

    00007f0000001000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|

Unreadable bytes are ``??`` (``?`` in the text column), never ``00``; bytes
outside the requested range are blank. A run of whole lines inside one
unreadable stretch that was skipped without reading (unmapped, no access) is
shown as its first line, then ``*`` (as ``hexdump -C`` marks repeats), so
16 GiB of unmapped space costs two lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

from .backend.memory import Hole, ReadResult

if TYPE_CHECKING:
    import numpy as np

WIDTH = 16
LINE = 87                    # 16 address + 2 + 23 + 2 + 23 + 2 + |16| + newline
_CELLS = [18 + 3 * i if i < 8 else 43 + 3 * (i - 8) for i in range(WIDTH)]
_TEXT = 69
DATA, HOLE, OUTSIDE = 0, 1, 2
_SPACE, _QUESTION, _DOT = ord(" "), ord("?"), ord(".")
# Up to this many rows are formatted in plain Python: a short dump (`read
# PID ADDR 16`) then never imports numpy (a third of the CLI's start-up).
SMALL_ROWS = 64
_TEXT_OF = bytes(b if 0x20 <= b < 0x7F else _DOT for b in range(256))


def format_rows(first_row: int, data: "bytes | bytearray | memoryview | np.ndarray",
                state: "bytes | bytearray | memoryview | np.ndarray") -> bytes:
    """Lines for ``len(data) // 16`` whole rows starting at address
    ``first_row`` (a multiple of 16). ``data`` and ``state`` are byte
    sequences (or uint8 arrays) of equal length, a multiple of 16; ``state``
    holds DATA, HOLE or OUTSIDE per byte. Returns ASCII bytes, one
    newline-terminated line per row. Short inputs are formatted without
    numpy, long ones vectorised; both give the same text (tested)."""
    n = len(data) // WIDTH
    if n == 0:
        return b""
    if n <= SMALL_ROWS:
        return _format_rows_small(first_row, bytes(data), bytes(state), n)
    return _format_rows_numpy(first_row, data, state, n)


def _format_rows_small(first_row: int, data: bytes, state: bytes, n: int) -> bytes:
    lines = []
    for r in range(n):
        d, st = data[r * WIDTH:(r + 1) * WIDTH], state[r * WIDTH:(r + 1) * WIDTH]
        if not any(st):
            cells = d.hex(" ")
            text = d.translate(_TEXT_OF).decode("ascii")
            line = f"{cells[:23]}  {cells[24:]}"
        else:
            parts = [f"{b:02x}" if s == DATA else "??" if s == HOLE else "  "
                     for b, s in zip(d, st)]
            line = f"{' '.join(parts[:8])}  {' '.join(parts[8:])}"
            text = "".join(chr(_TEXT_OF[b]) if s == DATA else "?" if s == HOLE else " "
                           for b, s in zip(d, st))
        lines.append(f"{first_row + r * WIDTH:016x}  {line}  |{text}|\n")
    return "".join(lines).encode("ascii")


def _format_rows_numpy(first_row: int, data: "bytes | bytearray | memoryview | np.ndarray",
                       state: "bytes | bytearray | memoryview | np.ndarray", n: int) -> bytes:
    import numpy as np
    data = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data
    state = np.frombuffer(state, dtype=np.uint8) if not isinstance(state, np.ndarray) \
        else state
    data, state = data[:n * WIDTH], state[:n * WIDTH]
    hexdigits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    cells = np.array(_CELLS)
    out = np.full((n, LINE), _SPACE, dtype=np.uint8)
    rows = np.uint64(first_row) + np.arange(n, dtype=np.uint64) * np.uint64(WIDTH)
    for digit in range(16):
        out[:, 15 - digit] = hexdigits[((rows >> np.uint64(4 * digit)) & np.uint64(15))
                                       .astype(np.intp)]
    d = data.reshape(n, WIDTH)
    st = state.reshape(n, WIDTH)
    hi, lo = hexdigits[d >> 4], hexdigits[d & 15]
    text = np.where((d >= 0x20) & (d < 0x7F), d, _DOT).astype(np.uint8)
    for value, mark in ((HOLE, _QUESTION), (OUTSIDE, _SPACE)):
        mask = st == value
        if mask.any():
            hi[mask] = mark
            lo[mask] = mark
            text[mask] = mark
    out[:, cells] = hi
    out[:, cells + 1] = lo
    out[:, _TEXT - 1] = ord("|")
    out[:, _TEXT:_TEXT + WIDTH] = text
    out[:, _TEXT + WIDTH] = ord("|")
    out[:, LINE - 1] = ord("\n")
    return out.tobytes()


class HexDumper:
    """Formats [start, end) as it arrives, in address order, and hands the
    text to ``write`` (ASCII bytes). Call :meth:`data` for bytes read (with
    the holes among them), :meth:`hole` for a stretch skipped unread, then
    :meth:`finish`. Memory: one partial row plus the text of one chunk."""

    def __init__(self, start: int, end: int, write: Callable[[bytes], object]):
        self.end = end
        self._write = write
        self._row = start - start % WIDTH
        self._data = bytearray(WIDTH)
        self._state = bytearray([OUTSIDE]) * WIDTH
        self._fill = start - self._row           # bytes of the pending row already known
        self.cursor = start

    def _take_partial(self, data: bytes | memoryview, state: bytes | bytearray) -> int:
        """Put the first bytes into the pending row; emit it when complete.
        Returns how many bytes were used."""
        used = min(WIDTH - self._fill, len(data))
        self._data[self._fill:self._fill + used] = data[:used]
        self._state[self._fill:self._fill + used] = state[:used]
        self._fill += used
        if self._fill == WIDTH:
            self._write(format_rows(self._row, self._data, self._state))
            self._row += WIDTH
            self._fill = 0
            self._state[:] = bytes([OUTSIDE]) * WIDTH
        return used

    def data(self, address: int, view: memoryview | bytes,
             holes: Sequence[Hole] = ()) -> None:
        """Bytes read at ``address`` (the next address expected); ``holes``
        mark the unreadable ones among them."""
        assert address == self.cursor, (address, self.cursor)
        data = memoryview(view).cast("B")
        state = bytearray(len(data))
        for hole in holes:
            a = min(len(data), max(0, hole.address - address))
            b = min(len(data), max(0, hole.end - address))
            state[a:b] = bytes([HOLE]) * (b - a)
        self.cursor += len(data)
        pos = self._take_partial(data, state) if self._fill else 0
        whole = (len(data) - pos) // WIDTH * WIDTH
        if whole:
            self._write(format_rows(self._row, data[pos:pos + whole], state[pos:pos + whole]))
            self._row += whole
            pos += whole
        if pos < len(data):
            self._take_partial(data[pos:], state[pos:])

    def hole(self, hole: Hole) -> None:
        """A stretch skipped without reading: its partial rows in full, its
        whole rows as the first one and ``*``."""
        assert hole.address == self.cursor, (hole.address, self.cursor)
        pos, end = hole.address, hole.end
        if self._fill:
            used = min(WIDTH - self._fill, end - pos)
            self._take_partial(bytes(used), bytes([HOLE]) * used)
            pos += used
        whole = (end - pos) // WIDTH
        if whole:
            self._write(format_rows(self._row, bytes(WIDTH), bytes([HOLE]) * WIDTH))
            if whole > 1:
                self._write(b"*\n")
            self._row += whole * WIDTH
            pos += whole * WIDTH
        if pos < end:
            self._take_partial(bytes(end - pos), bytes([HOLE]) * (end - pos))
        self.cursor = end

    def finish(self) -> None:
        """Emit the last partial row (its bytes past the end blank)."""
        if self._fill:
            self._state[self._fill:] = bytes([OUTSIDE]) * (WIDTH - self._fill)
            self._write(format_rows(self._row, self._data, self._state))
            self._fill = 0


def hexdump(result: ReadResult) -> str:
    """The dump of one ReadResult, as text (no final newline)."""
    parts: list[bytes] = []
    dumper = HexDumper(result.address, result.address + result.size, parts.append)
    if result.size:
        dumper.data(result.address, result.data, list(result.holes))
    dumper.finish()
    return b"".join(parts).decode("ascii").rstrip("\n")


__all__ = ["HexDumper", "hexdump", "format_rows"]
