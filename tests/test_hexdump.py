"""The streamed, vectorised hex dump equals a byte-by-byte reference,
however the range is cut into chunks."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from lainview.backend.memory import Hole
from lainview.hexdump import HexDumper


def reference(address: int, data: bytes, holes: list[Hole]) -> str:
    lines = []
    end = address + len(data)
    for row in range(address - address % 16, end, 16):
        cells, text = [], []
        for a in range(row, row + 16):
            if not address <= a < end:
                cells.append("  ")
                text.append(" ")
            elif any(h.address <= a < h.end for h in holes):
                cells.append("??")
                text.append("?")
            else:
                v = data[a - address]
                cells.append(f"{v:02x}")
                text.append(chr(v) if 0x20 <= v < 0x7F else ".")
        lines.append(f"{row:016x}  {' '.join(cells[:8])}  {' '.join(cells[8:])}  "
                     f"|{''.join(text)}|\n")
    return "".join(lines)


@settings(max_examples=300, deadline=None)
@given(address=st.one_of(st.integers(0, 1 << 20), st.integers((1 << 64) - 4096, (1 << 64) - 300)),
       data=st.binary(min_size=1, max_size=200), cuts=st.lists(st.integers(0, 200), max_size=6),
       hole_spans=st.lists(st.tuples(st.integers(0, 199), st.integers(1, 40)), max_size=3))
def test_streamed_dump_equals_the_reference(address, data, cuts, hole_spans):
    holes = [Hole(address + lo, min(n, len(data) - lo)) for lo, n in hole_spans if lo < len(data)]
    out: list[bytes] = []
    dumper = HexDumper(address, address + len(data), out.append)
    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    for lo, hi in zip(bounds, bounds[1:]):
        chunk = [Hole(max(h.address, address + lo), min(h.end, address + hi)
                      - max(h.address, address + lo)) for h in holes
                 if h.address < address + hi and address + lo < h.end]
        dumper.data(address + lo, data[lo:hi], chunk)
    dumper.finish()
    assert b"".join(out).decode() == reference(address, data, holes)


def test_a_skipped_hole_is_its_first_row_and_a_star():
    out: list[bytes] = []
    dumper = HexDumper(0x1008, 0x1008 + 8 + 0x100 + 4, out.append)
    dumper.data(0x1008, b"ABCDEFGH")
    dumper.hole(Hole(0x1010, 0x100))
    dumper.data(0x1110, b"WXYZ")
    dumper.finish()
    lines = b"".join(out).decode().splitlines()
    assert lines[0].startswith("0000000000001000") and "41 42 43 44 45 46 47 48" in lines[0]
    assert lines[1].startswith("0000000000001010  ?? ??") and lines[2] == "*"
    assert lines[3].startswith("0000000000001110  57 58 59 5a") and len(lines) == 4


@settings(max_examples=200, deadline=None)
@given(first=st.integers(0, (1 << 60) - 81).map(lambda a: a * 16),   # rows stay below 2**64
       rows=st.integers(1, 80), seed=st.binary(min_size=1, max_size=64),
       states=st.lists(st.tuples(st.integers(0, 80 * 16 - 1), st.integers(1, 40),
                                 st.sampled_from([1, 2])), max_size=4))
def test_the_plain_and_the_vectorised_formatter_write_the_same_text(first, rows, seed, states):
    """Short dumps are formatted without numpy (start-up), long ones with
    it: one layout, the same text for every input."""
    from lainview import hexdump as hd
    n = rows * 16
    data = (seed * (n // len(seed) + 1))[:n]
    state = bytearray(n)
    for lo, length, value in states:
        state[lo:lo + length] = bytes([value]) * len(state[lo:lo + length])
    plain = hd._format_rows_small(first, data, bytes(state), rows)
    vector = hd._format_rows_numpy(first, data, bytes(state), rows)
    assert plain == vector
    assert hd.format_rows(first, data, state) == plain


def test_a_long_dump_streams_through_the_vectorised_path():
    data = bytes(range(256)) * 40            # 640 rows: past SMALL_ROWS
    out: list[bytes] = []
    dumper = HexDumper(0x1003, 0x1003 + len(data), out.append)
    dumper.data(0x1003, memoryview(data)[:5000], [Hole(0x1003 + 100, 50)])
    dumper.data(0x1003 + 5000, memoryview(data)[5000:])
    dumper.finish()
    assert b"".join(out).decode() == reference(0x1003, data, [Hole(0x1003 + 100, 50)])
