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

from typing import Callable, Sequence

import numpy as np

from .backend.memory import Hole, ReadResult

WIDTH = 16
LINE = 87                    # 16 address + 2 + 23 + 2 + 23 + 2 + |16| + newline
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_CELLS = np.array([18 + 3 * i if i < 8 else 43 + 3 * (i - 8) for i in range(WIDTH)])
_TEXT = 69
DATA, HOLE, OUTSIDE = 0, 1, 2
_SPACE, _QUESTION, _DOT = ord(" "), ord("?"), ord(".")


def format_rows(first_row: int, data: np.ndarray, state: np.ndarray) -> bytes:
    """Lines for ``len(data) // 16`` whole rows starting at address
    ``first_row`` (a multiple of 16). ``data`` and ``state`` are uint8
    arrays of equal length, a multiple of 16; ``state`` holds DATA, HOLE or
    OUTSIDE per byte. Returns ASCII bytes, one newline-terminated line per row."""
    n = len(data) // WIDTH
    if n == 0:
        return b""
    out = np.full((n, LINE), _SPACE, dtype=np.uint8)
    rows = np.uint64(first_row) + np.arange(n, dtype=np.uint64) * np.uint64(WIDTH)
    for digit in range(16):
        out[:, 15 - digit] = _HEX[((rows >> np.uint64(4 * digit)) & np.uint64(15)).astype(np.intp)]
    d = data.reshape(n, WIDTH)
    st = state.reshape(n, WIDTH)
    hi, lo = _HEX[d >> 4], _HEX[d & 15]
    text = np.where((d >= 0x20) & (d < 0x7F), d, _DOT).astype(np.uint8)
    for value, mark in ((HOLE, _QUESTION), (OUTSIDE, _SPACE)):
        mask = st == value
        if mask.any():
            hi[mask] = mark
            lo[mask] = mark
            text[mask] = mark
    out[:, _CELLS] = hi
    out[:, _CELLS + 1] = lo
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
        self._data = np.zeros(WIDTH, dtype=np.uint8)
        self._state = np.full(WIDTH, OUTSIDE, dtype=np.uint8)
        self._fill = start - self._row           # bytes of the pending row already known
        self.cursor = start

    def _take_partial(self, data: np.ndarray, state: np.ndarray) -> int:
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
            self._state[:] = OUTSIDE
        return used

    def data(self, address: int, view: memoryview | bytes,
             holes: Sequence[Hole] = ()) -> None:
        """Bytes read at ``address`` (the next address expected); ``holes``
        mark the unreadable ones among them."""
        assert address == self.cursor, (address, self.cursor)
        data = np.frombuffer(view, dtype=np.uint8)
        state = np.zeros(len(data), dtype=np.uint8)
        for hole in holes:
            state[max(0, hole.address - address):max(0, hole.end - address)] = HOLE
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
            self._take_partial(np.zeros(used, np.uint8), np.full(used, HOLE, np.uint8))
            pos += used
        whole = (end - pos) // WIDTH
        if whole:
            self._write(format_rows(self._row, np.zeros(WIDTH, np.uint8),
                                    np.full(WIDTH, HOLE, np.uint8)))
            if whole > 1:
                self._write(b"*\n")
            self._row += whole * WIDTH
            pos += whole * WIDTH
        if pos < end:
            self._take_partial(np.zeros(end - pos, np.uint8),
                               np.full(end - pos, HOLE, np.uint8))
        self.cursor = end

    def finish(self) -> None:
        """Emit the last partial row (its bytes past the end blank)."""
        if self._fill:
            self._state[self._fill:] = OUTSIDE
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
