"""Long jobs that run on the backend as bulk reads: dumping an area to a
file and searching an area. Each is one ``read_bulk`` whose consumer runs on
the backend thread; the GUI awaits the future, polls ``future.progress``
for its progress bar, and cancels it with ``future.cancel()``."""

from __future__ import annotations

import asyncio
import enum
import os
from dataclasses import dataclass

from lainview.backend.errors import Cancelled, LainviewError
from lainview.backend.files import PrivateFile
from lainview.backend.memory import Hole, MemoryArea
from lainview.backend.service import BulkStats, Target

from .formats import human_size
from .search import Matcher


class JobKind(enum.Enum):
    """The kinds of bulk job a workspace runs (at most one of each at a time)."""

    DUMP = "dump"          # an area written to a file
    SEARCH = "search"      # an area searched for bytes


@dataclass(frozen=True, slots=True)
class DumpOutcome:
    path: str
    size: int
    unreadable: int
    holes: tuple[Hole, ...]

    def summary(self) -> str:
        text = f"dumped {human_size(self.size)} to {self.path}"
        if self.holes:
            first = self.holes[0]
            text += (f"; {human_size(self.unreadable)} unreadable in {len(self.holes)} "
                     f"range{'s' if len(self.holes) != 1 else ''} skipped (left as zeros), "
                     f"first at {first.address:#x}: {first.reason}")
        return text


class BulkJob:
    """A started bulk job: await :meth:`wait`; read :attr:`progress`; :meth:`cancel`."""

    def __init__(self, future, label: str):
        self.future = future
        self.label = label

    @property
    def progress(self) -> tuple[int, int]:
        return self.future.progress

    def cancel(self) -> None:
        self.future.cancel()

    async def wait(self) -> BulkStats:
        """The job's result. A job cancelled before it started raises
        Cancelled, like one cancelled while running."""
        try:
            return await asyncio.wrap_future(self.future)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self.future.cancelled() and not (task and task.cancelling()):
                raise Cancelled("cancelled before it started", op="bulk") from None
            raise


def start_dump(target: Target, area: MemoryArea, path: str) -> tuple[BulkJob, "DumpWriter"]:
    """Dump ``area`` to ``path``. Unreadable pages are not read: they are
    seeked over (a sparse run of zeros) and reported in the outcome."""
    writer = DumpWriter(path, area.start)
    future = target.read_bulk(area.start, area.size, writer.consume)
    return BulkJob(future, f"dump {area.display_name}"), writer


class DumpWriter:
    """The consumer of a dump (on the backend thread). The dump holds target
    memory: it is written privately (0600) to a temporary created
    exclusively beside ``path`` and renamed over it by :meth:`finish`, so a
    symlink planted at ``path`` (or any name) is never followed. Raises
    InvalidInput when ``path``'s directory cannot take the file, and
    LainviewError when a write fails (the disk is full)."""

    def __init__(self, path: str, base: int):
        self.path = path
        self.base = base
        self._file = PrivateFile(path)

    def _pwrite(self, data: memoryview, offset: int) -> None:
        try:
            while data:
                n = os.pwrite(self._file.fd, data, offset)
                data, offset = data[n:], offset + n
        except OSError as exc:
            raise LainviewError(f"cannot write {self.path}: {exc.strerror or exc}", op="dump",
                                errno=exc.errno) from None

    def consume(self, address: int, view: memoryview, holes: list[Hole]) -> None:
        offset = address - self.base
        cursor = address
        for hole in sorted(holes, key=lambda h: h.address):
            if hole.address > cursor:
                self._pwrite(view[cursor - address:hole.address - address],
                             offset + cursor - address)
            cursor = max(cursor, hole.end)
        end = address + len(view)
        if cursor < end:
            self._pwrite(view[cursor - address:], offset + cursor - address)

    def finish(self, stats: BulkStats) -> DumpOutcome:
        """Complete the file (its full size; holes read as zeros) and put it
        in place. Raises LainviewError (the file is then removed)."""
        try:
            os.ftruncate(self._file.fd, stats.size)
        except OSError as exc:
            self._file.discard()
            raise LainviewError(f"cannot write {self.path}: {exc.strerror or exc}", op="dump",
                                errno=exc.errno) from None
        self._file.commit()
        return DumpOutcome(self.path, stats.size, stats.unreadable, stats.holes)

    def abandon(self) -> None:
        """Drop the partial dump; a file already at ``path`` is left alone."""
        self._file.discard()


def start_search(target: Target, start: int, end: int, needle: bytes,
                 limit: int = 10_000) -> tuple[BulkJob, Matcher]:
    """Search [start, end) for ``needle``; matches collect in the Matcher."""
    matcher = Matcher(needle, limit)
    future = target.read_bulk(start, end - start, matcher.feed)
    return BulkJob(future, "search"), matcher
