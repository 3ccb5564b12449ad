"""Where a scan keeps its snapshots: compressed chunks, in memory up to a
budget, in files beyond it.

A dense scan region remembers the bytes it saw, chunk by chunk (the chunk's
read, tail included). Each chunk is one *blob*, keyed by
(generation, region start, chunk offset): a scan step writes a new
generation and never changes an old one, so undo keeps working and a step
that is dropped frees its blobs at once.

Blobs are compressed (the memory of real programs compresses well): a
chunk of one repeated byte (zeros, common in fresh memory) is kept as that
byte; others as an LZ4 block, LZ4 being the fastest both ways on varied
bytes, unless LZ4 shrinks them more than 16-fold: runs that long decompress
slowly in LZ4 (0.2 GiB/s here) and fast in Zstandard (3-10 GiB/s), so those
are kept as Zstandard frames. Blobs are kept in memory while ``memory_bytes`` stays within ``budget``; beyond it they are
appended to one file per generation in the scan's private directory (0600)
and read back with ``pread``. Only candidate chunks are ever stored.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import lz4.block
import numpy as np
import zstandard

from .errors import InvalidInput

Key = tuple[int, int, int]          # (generation, region start, chunk offset)

# LZ4 cannot expand data more than this, so a compressed size bounds the
# uncompressed one (used to bound what a hostile session file can make us
# allocate).
MAX_RATIO = 255

FILL, LZ4, ZSTD = 0, 1, 2            # Blob.codec
_ZSTD_OVER = 16                      # LZ4 ratio past which Zstandard is used
_zc = zstandard.ZstdCompressor(level=1)
_zd = zstandard.ZstdDecompressor()


@dataclass(frozen=True, slots=True)
class Blob:
    """One stored chunk: its length, codec and compressed bytes (FILL: the
    one byte repeated; LZ4: a block; ZSTD: a frame)."""

    length: int
    data: bytes
    codec: int = LZ4

    @staticmethod
    def of(raw: np.ndarray | memoryview | bytes) -> "Blob":
        arr = np.frombuffer(raw, dtype=np.uint8) if not isinstance(raw, np.ndarray) else raw
        if not len(arr):
            return Blob(0, b"\0", FILL)
        first = arr[0]
        if arr[-1] == first and not np.any(arr != first):
            return Blob(len(arr), bytes([int(first)]), FILL)
        packed = lz4.block.compress(arr.data, store_size=False)
        if len(packed) * _ZSTD_OVER < len(arr):
            return Blob(len(arr), _zc.compress(arr.data), ZSTD)
        return Blob(len(arr), packed, LZ4)

    def unpack(self) -> np.ndarray:
        """The chunk's bytes (a new uint8 array). Raises InvalidInput when
        the blob is corrupt (a damaged session file)."""
        if self.codec == FILL:
            if len(self.data) != 1:
                raise InvalidInput("a filled snapshot chunk does not hold one byte")
            return np.full(self.length, self.data[0], dtype=np.uint8)
        try:
            if self.codec == LZ4:
                raw = lz4.block.decompress(self.data, uncompressed_size=self.length)
            elif self.codec == ZSTD:
                raw = _zd.decompress(self.data, max_output_size=self.length)
            else:
                raise InvalidInput(f"a snapshot chunk has an unknown codec {self.codec}")
        except (lz4.block.LZ4BlockError, zstandard.ZstdError) as exc:
            raise InvalidInput(f"a compressed snapshot chunk is corrupt: {exc}") from None
        if len(raw) != self.length:
            raise InvalidInput("a compressed snapshot chunk has the wrong length")
        return np.frombuffer(raw, dtype=np.uint8)


class SnapshotStore:
    """The compressed snapshot chunks of one scan (all its steps).

    ``chunk``: the scan's chunk size (blobs are at multiples of it).
    ``budget``: bytes of compressed blobs kept in memory before spilling to
    ``workdir``. Used on the backend thread; ``get`` may also be called from
    another thread (a dropped generation then reads as missing)."""

    def __init__(self, workdir: str, chunk: int, budget: int):
        self.workdir, self.chunk, self.budget = workdir, chunk, budget
        self._mem: dict[Key, Blob] = {}
        self._disk: dict[Key, tuple[int, int, int, int]] = {}  # offset, size, length, codec
        self._files: dict[int, int] = {}                    # generation -> fd
        self._sizes: dict[int, int] = {}                    # generation -> file size
        self._chunks: dict[tuple[int, int], set[int]] = {}  # (gen, start) -> offsets
        self._next_gen = 1
        self.memory_bytes = 0

    def new_generation(self) -> int:
        gen = self._next_gen
        self._next_gen += 1
        return gen

    def put(self, key: Key, raw: np.ndarray | memoryview | bytes) -> None:
        """Store ``raw`` (uint8 array or buffer) as the chunk ``key``."""
        self.put_blob(key, Blob.of(raw))

    def put_blob(self, key: Key, blob: Blob) -> None:
        self.drop_key(key)
        self._chunks.setdefault(key[:2], set()).add(key[2])
        if self.memory_bytes + len(blob.data) <= self.budget:
            self._mem[key] = blob
            self.memory_bytes += len(blob.data)
            return
        gen = key[0]
        fd = self._files.get(gen)
        if fd is None:
            fd = os.open(os.path.join(self.workdir, f"gen{gen}.snap"),
                         os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            self._files[gen] = fd
            self._sizes[gen] = 0
        at = self._sizes[gen]
        os.pwrite(fd, blob.data, at)
        self._sizes[gen] = at + len(blob.data)
        self._disk[key] = (at, len(blob.data), blob.length, blob.codec)

    def blob(self, key: Key) -> Blob | None:
        """The stored blob, or None (never stored: no candidates there)."""
        blob = self._mem.get(key)
        if blob is not None:
            return blob
        where = self._disk.get(key)
        if where is None:
            return None
        at, size, length, codec = where
        fd = self._files.get(key[0])
        if fd is None:
            return None
        try:
            data = os.pread(fd, size, at)
        except OSError:
            return None
        return Blob(length, data, codec)

    def get(self, key: Key, length: int | None = None) -> np.ndarray | None:
        """The chunk's bytes, zero-padded to ``length`` if given (None if never stored)."""
        blob = self.blob(key)
        if blob is None:
            return None
        raw = blob.unpack()
        if length is not None and len(raw) < length:
            out = np.zeros(length, dtype=np.uint8)
            out[:len(raw)] = raw
            return out
        return raw

    def keys(self, gen: int, start: int) -> list[int]:
        """Chunk offsets stored for region ``start`` of generation ``gen``, ascending."""
        return sorted(self._chunks.get((gen, start), ()))

    def drop_key(self, key: Key) -> None:
        old = self._mem.pop(key, None)
        if old is not None:
            self.memory_bytes -= len(old.data)
        self._disk.pop(key, None)
        offsets = self._chunks.get(key[:2])
        if offsets is not None:
            offsets.discard(key[2])

    def drop_region(self, gen: int, start: int) -> None:
        """Forget the chunks of region ``start`` of generation ``gen`` (a
        file keeps their bytes until the generation is dropped)."""
        for pos in list(self._chunks.get((gen, start), ())):
            self.drop_key((gen, start, pos))
        self._chunks.pop((gen, start), None)

    def drop_generation(self, gen: int) -> None:
        for key in [k for k in self._mem if k[0] == gen]:
            self.memory_bytes -= len(self._mem.pop(key).data)
        for key in [k for k in self._disk if k[0] == gen]:
            del self._disk[key]
        for chunk in [k for k in self._chunks if k[0] == gen]:
            del self._chunks[chunk]
        fd = self._files.pop(gen, None)
        self._sizes.pop(gen, None)
        if fd is not None:
            os.close(fd)
            try:
                os.unlink(os.path.join(self.workdir, f"gen{gen}.snap"))
            except OSError:
                pass

    @property
    def disk_bytes(self) -> int:
        return sum(self._sizes.values())

    def close(self) -> None:
        for gen in list(self._files):
            self.drop_generation(gen)
        self._mem.clear()
        self._disk.clear()
        self._chunks.clear()
        self.memory_bytes = 0
